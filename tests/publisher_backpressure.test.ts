/**
 * Publisher backpressure (issue 18, finding 7): when subscribers fall
 * behind a flood, the server stops reading the publisher until they drain,
 * rather than cutting readers that keep up; a stalled subscriber still
 * meets its slow-consumer policy. Proofs go by counts and order, never by
 * time: the flood is many times the subscribers' outbound limit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Conn } from "../mod.ts";
import { type Fixture, type RawPeer, serverCases, startFixture, until } from "./helpers.ts";

const LIMIT = 256 * 1024;
const BODY = "p".repeat(200);

/**
 * `count` publishes: 20,000 (~4.6 MB, 18 times a subscriber's outbound
 * limit) through memory pipes, 80,000 (~18 MB) over TCP, whose socket
 * buffers hold several MB themselves.
 */
function flood(count: number): string {
  return Array.from(
    { length: count },
    (_, i) => JSON.stringify({ action: "publish", topic: "flood", message: `${i}:${BODY}` }) + "\n",
  ).join("");
}

/**
 * Reads deliveries as fast as it can until `count` arrived or the stream
 * ended; checks each is the next in order. Returns how many arrived and
 * the frames that were not deliveries.
 */
async function readSteadily(conn: Conn, count: number): Promise<{ got: number; other: string[] }> {
  const decoder = new TextDecoder();
  const other: string[] = [];
  let got = 0;
  let tail = "";
  for await (const chunk of conn) {
    const lines = (tail + decoder.decode(chunk, { stream: true })).split("\n");
    tail = lines.pop()!;
    for (const line of lines) {
      const frame = JSON.parse(line);
      if (frame.topic !== "flood") {
        other.push(line);
        continue;
      }
      assert.equal(frame.message, `${got}:${BODY}`, "deliveries whole and in order");
      got++;
    }
    if (got === count) break;
  }
  return { got, other };
}

async function subscribe(f: Fixture, topic: string): Promise<RawPeer> {
  const peer = await f.raw();
  await peer.sendJson({ action: "subscribe", topic, id: 1 });
  assert.deepEqual(await peer.json(), { action: "ok", id: 1 });
  return peer;
}

for (const { name, make } of serverCases()) {
  const COUNT = name === "memory" ? 20_000 : 80_000;
  const FLOOD = flood(COUNT);
  test(`publisher backpressure (${name}): a flood reaches every subscriber that reads steadily, whole, and none is cut`, async () => {
    // A long pause: whatever the machine's load, readers that keep up are waited for.
    const f = await startFixture(make(), {
      limits: { maxOutboundBytes: LIMIT, publisherPauseMs: 60_000 },
    });
    try {
      const subscribers = await Promise.all(
        Array.from({ length: 5 }, () => subscribe(f, "flood")),
      );
      const publisher = await f.raw();
      const reading = subscribers.map((peer) => readSteadily(peer.conn, COUNT));
      await publisher.send(FLOOD);
      const results = await Promise.all(reading);
      for (const { got, other } of results) {
        assert.deepEqual(other, [], "no error frame or notice");
        assert.equal(got, COUNT);
      }
      const stats = f.server.stats();
      assert.equal(stats.slowConsumers, 0);
      assert.equal(stats.droppedMessages, 0);
    } finally {
      await f.close();
    }
  });

  for (const policy of ["disconnect", "drop-newest"] as const) {
    test(`publisher backpressure (${name}): a stalled subscriber still meets ${policy} while a steady one gets every message`, async () => {
      // The default publisherPauseMs: the stalled one holds the publisher back once, then meets its policy.
      const f = await startFixture(make(), {
        limits: { maxOutboundBytes: LIMIT },
        slowConsumerPolicy: policy,
      });
      try {
        const stalled = await subscribe(f, "flood"); // reads nothing until the flood is over
        const steady = await subscribe(f, "flood");
        const publisher = await f.raw();
        const reading = readSteadily(steady.conn, COUNT);
        await publisher.send(FLOOD);
        const { got, other } = await reading;
        assert.equal(got, COUNT);
        assert.deepEqual(other, []);
        const stats = f.server.stats();
        if (policy === "disconnect") {
          assert.equal(stats.slowConsumers, 1);
          const lines = await stalled.end();
          assert.equal(JSON.parse(lines[lines.length - 1]).code, "slow_consumer");
        } else {
          assert.equal(stats.slowConsumers, 0);
          assert.ok(stats.droppedMessages > 0, "the stalled subscriber's deliveries were dropped");
        }
      } finally {
        await f.close();
      }
    });
  }

  test(`outbound budget (${name}): stalled subscribers are cut at maxOutboundTotalBytes, far under their own limit`, async () => {
    const f = await startFixture(make(), {
      // Each stalled one could hold 16 MiB; together they may hold 256 KiB.
      limits: { maxOutboundBytes: 16 * 1024 * 1024, maxOutboundTotalBytes: LIMIT },
    });
    try {
      const stalled = [await subscribe(f, "flood"), await subscribe(f, "flood")];
      const publisher = await f.raw();
      await publisher.send(FLOOD);
      await until(() => f.server.stats().slowConsumers === 2, "both stalled subscribers cut");
      for (const lines of await Promise.all(stalled.map((peer) => peer.end()))) {
        const last = JSON.parse(lines[lines.length - 1]);
        assert.equal(last.code, "slow_consumer");
        assert.match(last.error, /server-wide/);
      }
    } finally {
      await f.close();
    }
  });
}
