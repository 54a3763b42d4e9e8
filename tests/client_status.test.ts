/**
 * Client status events: their order, their bound, and what each reports.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createMemoryTransport,
  PubSubClient,
  ServerError,
  startPubSubServer,
  type StatusEvent,
} from "../mod.ts";
import { FakeServer, nextStatus } from "./client_fakes.ts";
import { until } from "./helpers.ts";

/** A client of a fake server, its status events, and the server's side of its connection. */
async function fakeServerClient() {
  const transport = createMemoryTransport();
  const fake = await FakeServer.start(transport);
  const accepted = fake.accept();
  const client = await PubSubClient.connect("127.0.0.1", fake.port, { transport });
  const events = client.status();
  return { fake, client, events, peer: await accepted };
}

test("status: a restart reports disconnect, reconnect 1 to n, connect, then close ends the iteration", async () => {
  const transport = createMemoryTransport();
  let server = await startPubSubServer({ port: 0, transport });
  const port = server.addr.port;
  const client = await PubSubClient.connect("127.0.0.1", port, {
    transport,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 0 },
  });
  const events = client.status();
  await server.close();
  const { event: firstAttempt, before } = await nextStatus(events, "reconnect");
  assert.deepEqual(before.map((event) => event.type), ["disconnect"]);
  assert.equal(firstAttempt.attempt, 1);
  server = await startPubSubServer({ port, transport });
  const { event: back, before: attempts } = await nextStatus(events, "connect");
  await client.close();
  const seen: StatusEvent[] = [];
  for await (const event of events) seen.push(event);
  assert.deepEqual(seen, [{ type: "close", error: null }]);
  // Attempts count up from 1, without jitter each delay doubles up to the cap.
  assert.ok(attempts.every((event) => event.type === "reconnect"));
  const delays = [firstAttempt, ...attempts].map((event) => (event as { delayMs: number }).delayMs);
  assert.deepEqual(
    delays,
    delays.map((_, i) => Math.min(20, 5 * 2 ** i)),
  );
  assert.equal(back.attempt, attempts.length + 1);
  await server.close();
});

test("status: each iterator holds at most maxStatusEvents and says how many it missed", async () => {
  const transport = createMemoryTransport();
  const fake = await FakeServer.start(transport);
  const accepted = fake.accept();
  const client = await PubSubClient.connect("127.0.0.1", fake.port, {
    transport,
    limits: { maxStatusEvents: 2 },
  });
  const slow = client.status();
  const quick = client.status();
  const peer = await accepted;
  for (let i = 1; i <= 5; i++) {
    await peer.sendJson({ action: "slow_consumer", policy: "drop-newest", dropped: i, topics: {} });
    assert.equal((await quick.next()).value?.type, "slowConsumer");
  }
  await until(() => client.droppedByServer === 15, "five notices");
  const first = (await slow.next()).value as { dropped: number; missed?: number };
  assert.equal(first.dropped, 4);
  assert.equal(first.missed, 3);
  const second = (await slow.next()).value as { dropped: number; missed?: number };
  assert.equal(second.dropped, 5);
  assert.equal(second.missed, undefined);
  await quick.return?.(); // breaking out: that iterator stops, the other goes on
  await client.close();
  assert.deepEqual((await slow.next()).value, { type: "close", error: null });
  assert.equal((await slow.next()).done, true);
  assert.equal((await quick.next()).done, true);
  assert.equal((await client.status().next()).done, true, "a new iterator ends at once");
  await fake.close();
});

test("status: slow_consumer notices become slowConsumer events and a running total", async () => {
  const { fake, client, events, peer } = await fakeServerClient();
  const notice = { policy: "drop-oldest", dropped: 3, topics: { "a/b": 2, c: 1 } };
  await peer.sendJson({ action: "slow_consumer", ...notice });
  await peer.sendJson({ action: "slow_consumer", ...notice, dropped: 4, topics: { c: 4 } });
  const first = await nextStatus(events, "slowConsumer");
  assert.deepEqual(first.event, { type: "slowConsumer", ...notice });
  const second = await nextStatus(events, "slowConsumer");
  assert.equal(second.event.dropped, 4);
  assert.equal(client.droppedByServer, 7);
  await client.close();
  await fake.close();
});

test("status: backplane notices become backplane events; one with an unknown state is ignored", async () => {
  const { fake, client, events, peer } = await fakeServerClient();
  const counts = { nodes: 2, unsent: 5, lost: 3, outages: 1, stalls: 0 };
  await peer.sendJson({ action: "backplane", state: "sideways", ...counts });
  await peer.sendJson({ action: "backplane", state: "down", reason: "gone", ...counts });
  await peer.sendJson({ action: "backplane", state: "up", ...counts, unsent: 6 });
  const down = await nextStatus(events, "backplane");
  assert.deepEqual(down.before, [], "the unknown state made no event");
  assert.deepEqual(down.event, { type: "backplane", state: "down", reason: "gone", ...counts });
  const up = await nextStatus(events, "backplane");
  assert.deepEqual(up.event, { type: "backplane", state: "up", ...counts, unsent: 6 });
  await client.close();
  await fake.close();
});

test("status: a stray server error is an error event; one announcing the close comes with disconnect", async () => {
  const transport = createMemoryTransport();
  const fake = await FakeServer.start(transport);
  const accepted = fake.accept();
  const client = await PubSubClient.connect("127.0.0.1", fake.port, {
    transport,
    reconnect: false,
  });
  const events = client.status();
  const peer = await accepted;
  await peer.sendJson({ action: "error", code: "invalid_topic", error: "Topic is missing" });
  const { event: stray } = await nextStatus(events, "error");
  assert.ok(stray.error instanceof ServerError);
  assert.equal(stray.error.code, "invalid_topic");
  assert.equal(client.lastServerError, stray.error);
  await peer.sendJson({
    action: "error",
    code: "server_shutdown",
    error: "Server is shutting down",
  });
  peer.conn.closeWrite();
  const { event: lost, before } = await nextStatus(events, "disconnect");
  assert.deepEqual(before, []);
  assert.equal(lost.error.code, "server_shutdown");
  assert.equal((await events.next()).value?.type, "close");
  await client.closed;
  await fake.close();
});
