/**
 * Publisher flow control (backpressure from a server that stops reading)
 * and `drain()`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type ClientFrame,
  ConnectionClosedError,
  createMemoryTransport,
  PubSubClient,
  PubSubError,
  startPubSubServer,
} from "../mod.ts";
import { nextStatus } from "./client_fakes.ts";
import { serverCases, subscribed, take } from "./helpers.ts";

/** One turn of the event loop: lets sockets move. Not a wait on time. */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

for (const { name, make } of serverCases()) {
  test(`flow control (${name}): publishes outrunning a blocked server wait, stay within maxOutboundBytes, then resolve in order`, async () => {
    const transport = make();
    let unblock!: () => void;
    const unblocked = new Promise<void>((resolve) => unblock = resolve);
    let blocked = false;
    const server = await startPubSubServer({
      port: 0,
      transport,
      limits: { maxOutboundBytes: 256 * 1024 * 1024 },
      // The first publish blocks its connection: the server reads no more of it.
      handler: async (data) => {
        if (data.action === "publish" && data.topic === "flow" && !blocked) {
          blocked = true;
          await unblocked;
        }
      },
    });
    const port = server.addr.port;
    const subscriber = await PubSubClient.connect("127.0.0.1", port, { transport });
    await subscribed(subscriber, "flow");
    const limit = 64 * 1024;
    const publisher = await PubSubClient.connect("127.0.0.1", port, {
      transport,
      limits: { maxOutboundBytes: limit },
    });
    const payload = "p".repeat(1000);
    const batches: Promise<void>[] = [];
    const resolvedOrder: number[] = [];
    let accepted = 0;
    let maxPending = 0;
    let refused: Promise<unknown> | null = null;
    while (refused === null && accepted < 200_000) {
      // Publishes made in the same tick share one promise: no allocation per message.
      const batch: Promise<void>[] = [];
      for (let k = 0; k < 16; k++) {
        const before = publisher.pendingBytes;
        const published = publisher.publish("flow", `${accepted}:${payload}`);
        if (publisher.pendingBytes === before) {
          refused = published.then(() => null, (error: unknown) => error);
          break;
        }
        accepted++;
        batch.push(published);
      }
      if (batch.length > 0) {
        assert.equal(new Set(batch).size, 1, "one promise per batch");
        const index = batches.length;
        batches.push(batch[0]);
        batch[0].then(() => resolvedOrder.push(index));
      }
      maxPending = Math.max(maxPending, publisher.pendingBytes);
      await turn();
    }
    assert.ok(refused !== null, "the publisher met backpressure");
    const refusal = await refused;
    assert.ok(refusal instanceof PubSubError && refusal.code === "buffer_full", String(refusal));
    assert.ok(maxPending <= limit, `pending ${maxPending} > ${limit}`);
    // While the server is blocked, the latest publishes stay pending.
    const settledBefore = resolvedOrder.length;
    for (let i = 0; i < 20; i++) await turn();
    assert.equal(resolvedOrder.length, settledBefore);
    assert.ok(resolvedOrder.length < batches.length, "some publishes are still pending");
    assert.ok(publisher.pendingBytes > 0 && publisher.pendingBytes <= limit);
    unblock();
    await Promise.all(batches);
    assert.deepEqual(resolvedOrder, [...batches.keys()], "resolved in order");
    assert.equal(publisher.pendingBytes, 0);
    const got = await take(subscriber, accepted);
    assert.deepEqual(
      got.map((m) => Number(String(m.message).split(":")[0])),
      [...Array(accepted).keys()],
    );
    await Promise.all([publisher.close(), subscriber.close()]);
    await server.close();
  });
}

test("drain() ends subscriptions on the server, flushes queued publishes, then closes", async () => {
  const transport = createMemoryTransport();
  const frames: ClientFrame[] = [];
  const server = await startPubSubServer({
    port: 0,
    transport,
    handler: (data) => void frames.push(structuredClone(data)),
  });
  const port = server.addr.port;
  const watcher = await PubSubClient.connect("127.0.0.1", port, { transport });
  await subscribed(watcher, "out");
  const client = await PubSubClient.connect("127.0.0.1", port, { transport, hello: true });
  const events = client.status();
  const feed = await client.subscribe("feed/#");
  await client.subscribe("jobs", { group: "g" });
  await watcher.publish("feed/1", "read before");
  assert.equal((await feed.next())?.message, "read before");
  await watcher.publish("feed/2", "in flight");
  const queued = Array.from({ length: 100 }, (_, i) => client.publish("out", i, { ack: false }));
  const draining = client.drain();
  assert.equal(client.close(), draining);
  assert.equal(client.drain(), draining);
  await assert.rejects(client.publish("out", "late"), ConnectionClosedError);
  await assert.rejects(client.subscribe("late"), ConnectionClosedError);
  await draining;
  await Promise.all(queued);
  const got = await take(watcher, 100);
  assert.deepEqual(got.map((m) => m.message), [...Array(100).keys()]);
  const unsubscribed = frames
    .filter((f) => f.action === "unsubscribe" && !f.topic.startsWith("_"))
    .map(({ id: _, ...frame }) => frame);
  assert.deepEqual(unsubscribed, [
    { action: "unsubscribe", topic: "feed/#" },
    { action: "unsubscribe", topic: "jobs", group: "g" },
  ]);
  // What arrived before the server's ok is still readable; then iteration ends quietly.
  const rest: unknown[] = [];
  for await (const message of feed) rest.push(message.message);
  assert.deepEqual(rest, ["in flight"]);
  await assert.rejects(client.recv(), ConnectionClosedError);
  assert.deepEqual((await events.next()).value, { type: "close", error: null });
  await watcher.close();
  await server.close();
});

test("drain() while disconnected closes at once; publishes held offline reject", async () => {
  const transport = createMemoryTransport();
  const server = await startPubSubServer({ port: 0, transport });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, {
    transport,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
  });
  const events = client.status();
  await server.close();
  await nextStatus(events, "disconnect");
  const held = client.publish("t", "never sent");
  assert.ok(client.offlineBytes > 0);
  await client.drain();
  await assert.rejects(held, ConnectionClosedError);
  await client.closed;
  const { event } = await nextStatus(events, "close");
  assert.equal(event.error, null);
});
