/**
 * Slow-consumer policies: disconnect (the default, in server.test.ts),
 * drop-oldest and drop-newest, per server and per subscription; the
 * in-band notice; the write deadline. Proofs go by order and counts, never
 * by wall-clock time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { PubSubClient, PubSubServer, ServerClient, SlowConsumerPolicy } from "../mod.ts";
import {
  type Fixture,
  type RawPeer,
  serverCases,
  startFixture,
  subscribed,
  take,
  until,
} from "./helpers.ts";

const LIMIT = 64 * 1024;
/**
 * Memory pipes hold 64 KiB, loopback sockets a few MiB: TCP needs more bytes
 * to stall a reader. A round (published before anyone reads) must fit every
 * healthy subscriber's queue. Either way 4000 messages go out.
 */
const shapeFor = (transport: string) =>
  transport === "memory"
    ? { payload: "x".repeat(200), rounds: 40, perRound: 100 } // ~0.9 MB
    : { payload: "x".repeat(4000), rounds: 400, perRound: 10 }; // ~16 MB
let PAYLOAD = "";

interface Stalled {
  peer: RawPeer;
  /** The stalled connection as the server sees it. */
  client(): ServerClient;
}

/** A fixture whose handler remembers each connection by the topic it first subscribed to. */
async function fixture(
  make: () => import("../mod.ts").Transport,
  policy?: SlowConsumerPolicy,
  limits: Record<string, number> = {},
): Promise<{ f: Fixture; byTopic: Map<string, ServerClient> }> {
  const byTopic = new Map<string, ServerClient>();
  const f = await startFixture(make(), {
    limits: { maxOutboundBytes: LIMIT, ...limits },
    slowConsumerPolicy: policy,
    handler(data, client) {
      if (data.action === "subscribe" && !byTopic.has(data.topic)) byTopic.set(data.topic, client);
    },
  });
  return { f, byTopic };
}

async function stalledSubscriber(
  f: Fixture,
  byTopic: Map<string, ServerClient>,
  frame: Record<string, unknown>,
): Promise<Stalled> {
  const peer = await f.raw(); // subscribes, then reads nothing until told
  await peer.sendJson({ action: "subscribe", id: 1, ...frame });
  assert.deepEqual(await peer.json(), { action: "ok", id: 1 });
  const topic = String(frame.topic);
  await until(() => byTopic.has(topic), "the stalled subscription");
  return { peer, client: () => byTopic.get(topic)! };
}

/**
 * Publishes `rounds` × `perRound` messages on `topic` from the server; after
 * each round every healthy subscriber must have the whole round, in order,
 * before the next round goes out, and the stalled queue stays within the limit.
 */
async function flood(
  f: Fixture,
  topic: string,
  stalled: Stalled,
  healthy: PubSubClient[],
  rounds: number,
  perRound: number,
): Promise<number> {
  let maxPending = 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < perRound; i++) {
      f.server.publish(topic, `${round * perRound + i}:${PAYLOAD}`);
      maxPending = Math.max(maxPending, stalled.client().pendingBytes);
    }
    for (const client of healthy) {
      const got = await take(client, perRound);
      assert.deepEqual(
        got.map((m) => Number(String(m.message).split(":")[0])),
        Array.from({ length: perRound }, (_, i) => round * perRound + i),
      );
    }
  }
  return maxPending;
}

/** Reads the stalled peer until deliveries plus notified drops account for `total`. */
async function drain(peer: RawPeer, total: number) {
  const delivered: number[] = [];
  const notices: Record<string, unknown>[] = [];
  let dropped = 0;
  while (delivered.length + dropped < total) {
    const frame = await peer.json();
    if (frame.action === "slow_consumer") {
      notices.push(frame);
      dropped += frame.dropped as number;
    } else {
      assert.equal(frame.action, undefined, `unexpected frame ${JSON.stringify(frame)}`);
      delivered.push(Number(String(frame.message).split(":")[0]));
    }
  }
  return { delivered, notices, dropped };
}

function assertIncreasing(values: number[]): void {
  for (let i = 1; i < values.length; i++) {
    assert.ok(values[i] > values[i - 1], `out of order at ${i}: ${values[i - 1]}, ${values[i]}`);
  }
}

for (const { name, make } of serverCases()) {
  const { payload, rounds, perRound } = shapeFor(name);
  for (const policy of ["drop-newest", "drop-oldest"] as const) {
    test(`slow consumer (${name}): ${policy} drops and tells, while 10 others get everything in order`, async () => {
      PAYLOAD = payload;
      const { f, byTopic } = await fixture(make, policy);
      const stalled = await stalledSubscriber(f, byTopic, { topic: "feed" });
      const healthy = await Promise.all(Array.from({ length: 10 }, () => f.client()));
      for (const client of healthy) await subscribed(client, "feed");
      await until(() => f.server.stats().subscriptions === 11, "11 subscriptions");
      const total = rounds * perRound;
      const maxPending = await flood(f, "feed", stalled, healthy, rounds, perRound);
      assert.ok(maxPending <= LIMIT, `stalled queue held ${maxPending} > ${LIMIT} bytes`);
      assert.equal(f.server.stats().slowConsumers, 0);

      const { delivered, notices, dropped } = await drain(stalled.peer, total);
      assert.ok(dropped > 0 && notices.length > 0);
      assertIncreasing(delivered);
      for (const notice of notices) {
        assert.equal(notice.policy, policy);
        assert.deepEqual(notice.topics, { feed: notice.dropped });
      }
      if (policy === "drop-newest") assert.equal(delivered[0], 0); // the oldest were kept
      else assert.equal(delivered[delivered.length - 1], total - 1); // the newest were kept
      const stats = f.server.stats();
      assert.equal(stats.droppedMessages, dropped);
      assert.equal(stats.slowConsumerNotices, notices.length);
      assert.equal(stats.connections, 11); // nobody was disconnected
      await f.close();
    });
  }

  for (
    const [policy, logged, does] of [
      ["disconnect", "Slow consumer disconnected", "publishes"],
      ["drop-oldest", "Dropping messages for a slow consumer", "publishes"],
      ["disconnect", "", "throws"],
      ["drop-oldest", "", "throws"],
    ] as const
  ) {
    test(`slow consumer (${name}): a logger that ${does} while ${policy} acts mid-publish changes no delivery`, async () => {
      PAYLOAD = payload;
      // The logger publishes each line it is given. The server calls it while
      // it routes a publish, when that publish finds the stalled subscriber's
      // queue full (the stalled one subscribed first, so it is visited first).
      let server: PubSubServer | null = null;
      const log = (message: string): void => {
        if (does === "throws") throw new Error(`logger down: ${message}`);
        server?.publish("log", message);
      };
      const byTopic = new Map<string, ServerClient>();
      const f = await startFixture(make(), {
        limits: { maxOutboundBytes: LIMIT },
        slowConsumerPolicy: policy,
        logger: { debug: log, info: log, warn: log, error: log },
        handler(data, client) {
          if (data.action === "subscribe" && !byTopic.has(data.topic)) {
            byTopic.set(data.topic, client);
          }
        },
      });
      server = f.server;
      // Two healthy subscribers, one subscribed before the stalled one and one
      // after, each also through "+": a publish routed twice would reach the
      // early one twice. The stalled one matches "+" too, so that the logger's
      // publish meets its full queue as well. Raw peers, so that a wrong
      // delivery fails the test at once (a client drops messages on topics it
      // did not subscribe to, and the test would hang).
      const subscribe = async (peer: RawPeer, ...topics: string[]): Promise<void> => {
        for (const [i, topic] of topics.entries()) {
          await peer.sendJson({ action: "subscribe", topic, id: 10 + i });
          assert.deepEqual(await peer.json(), { action: "ok", id: 10 + i });
        }
      };
      const early = await f.raw();
      await subscribe(early, "feed", "+");
      const stalled = await stalledSubscriber(f, byTopic, { topic: "feed" });
      await subscribe(stalled.peer, "+");
      const late = await f.raw();
      await subscribe(late, "feed", "+");
      const watcher = await f.client();
      await subscribed(watcher, "log");
      await until(() => f.server.stats().subscriptions === 7, "7 subscriptions");
      const acted = (): boolean => {
        const stats = f.server.stats();
        return stats.slowConsumers + stats.droppedMessages > 0;
      };
      for (let round = 0; round < rounds && !acted(); round++) {
        for (let i = 0; i < perRound; i++) {
          f.server.publish("feed", `${round * perRound + i}:${PAYLOAD}`);
        }
        for (const healthy of [early, late]) {
          for (let i = 0; i < perRound; i++) {
            const message = `${round * perRound + i}:${PAYLOAD}`;
            let line = await healthy.line();
            while (line?.startsWith('{"topic":"log",')) line = await healthy.line();
            assert.equal(line, JSON.stringify({ topic: "feed", message }));
          }
        }
      }
      assert.ok(acted(), `the stalled subscriber met ${policy}`);
      if (does === "publishes") {
        // The logger's publish went out too.
        let line = await watcher.recv();
        while (line?.message !== logged) line = await watcher.recv();
      }
      // What the stalled subscriber still gets is whole, the delivery queued
      // again after drop-oldest made room included: deliveries of "feed" in
      // order, and notices.
      const ends = Promise.all([stalled.peer.end(), early.end(), late.end()]);
      await f.server.close();
      const [rest] = await ends;
      const numbers: number[] = [];
      for (const text of rest) {
        const frame = JSON.parse(text);
        // The slow_consumer notice, the closing notice, the log lines.
        if (frame.action !== undefined || frame.topic === "log") continue;
        assert.equal(frame.topic, "feed", text);
        const [number, body] = String(frame.message).split(":");
        assert.equal(body, PAYLOAD);
        numbers.push(Number(number));
      }
      assertIncreasing(numbers);
      await f.close();
    });
  }

  test(`slow consumer (${name}): a subscription's own policy overrides the server's`, async () => {
    PAYLOAD = payload;
    const { f, byTopic } = await fixture(make); // server default: disconnect
    const stalled = await stalledSubscriber(f, byTopic, { topic: "feed", policy: "drop-oldest" });
    const healthy = await f.client();
    await subscribed(healthy, "feed");
    await until(() => f.server.stats().subscriptions === 2, "2 subscriptions");
    const total = rounds * perRound;
    const maxPending = await flood(f, "feed", stalled, [healthy], rounds, perRound);
    assert.ok(maxPending <= LIMIT);
    const { delivered, dropped } = await drain(stalled.peer, total);
    assert.equal(delivered[delivered.length - 1], total - 1);
    assert.equal(delivered.length + dropped, total);
    assert.equal(f.server.stats().slowConsumers, 0);
    await f.close();
  });

  test(`slow consumer (${name}): a write that makes no progress past writeDeadlineMs disconnects`, async () => {
    PAYLOAD = payload;
    const { f, byTopic } = await fixture(make, "drop-newest", { writeDeadlineMs: 40 });
    const stalled = await stalledSubscriber(f, byTopic, { topic: "feed" });
    // Keep publishing (drop-newest drops what does not fit) until a write
    // stays in flight past the deadline.
    let sent = 0;
    await until(() => {
      for (let i = 0; i < 10; i++) f.server.publish("feed", `${sent++}:${PAYLOAD}`);
      return f.server.stats().slowConsumers === 1;
    }, "the write deadline");
    const lines = await stalled.peer.end();
    const last = JSON.parse(lines[lines.length - 1]);
    assert.equal(last.code, "slow_consumer");
    assert.match(last.error, /A write made no progress for 40 ms/);
    await f.close();
  });
}

test("slow consumer: an unknown server policy is a TypeError", async () => {
  const { createMemoryTransport, startPubSubServer } = await import("../mod.ts");
  await assert.rejects(
    startPubSubServer({
      port: 0,
      transport: createMemoryTransport(),
      slowConsumerPolicy: "drop-all" as SlowConsumerPolicy,
    }),
    TypeError,
  );
});
