/**
 * Server routing, handler and lifecycle, over the memory transport and this
 * runtime's own TCP transport.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClientFrame, JsonValue, ServerClient } from "../mod.ts";
import { type PubSubServer, startPubSubServer } from "../mod.ts";
import { serverCases, startFixture, subscribed, take, until } from "./helpers.ts";

for (const { name, make } of serverCases()) {
  test(`server (${name}) delivers a publish to every subscriber of the topic`, async () => {
    const f = await startFixture(make());
    const [a, b, publisher] = await Promise.all([f.client(), f.client(), f.client()]);
    await subscribed(a, "news/sports");
    await subscribed(b, "news/sports");
    await publisher.publish("news/sports", "Championship game tonight");
    for (const client of [a, b]) {
      assert.deepEqual(await client.recv(), {
        topic: "news/sports",
        message: "Championship game tonight",
      });
    }
    await f.close();
  });

  test(`server (${name}) echoes a publish to a publisher subscribed to the topic`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    await client.subscribe("alerts/system");
    await client.publish("alerts/system", "Server maintenance scheduled");
    assert.deepEqual(await client.recv(), {
      topic: "alerts/system",
      message: "Server maintenance scheduled",
    });
    await f.close();
  });

  test(`server (${name}) matches topics exactly`, async () => {
    const f = await startFixture(make());
    const [sub, publisher] = await Promise.all([f.client(), f.client()]);
    await subscribed(sub, "news");
    await publisher.publish("news/sports", "not for news");
    await publisher.publish("News", "not for news either");
    await publisher.publish("news", "for news");
    assert.deepEqual(await sub.recv(), { topic: "news", message: "for news" });
    assert.equal(await sub.recv({ timeout: 0 }), null);
    await f.close();
  });

  test(`server (${name}) stops delivering after unsubscribe`, async () => {
    const f = await startFixture(make());
    const [sub, publisher] = await Promise.all([f.client(), f.client()]);
    await subscribed(sub, "t", "u");
    await sub.unsubscribe("t");
    await sub.flush();
    await publisher.publish("t", "dropped");
    await publisher.publish("u", "kept");
    assert.deepEqual(await sub.recv(), { topic: "u", message: "kept" });
    assert.equal(f.server.stats().subscriptions, 1);
    await f.close();
  });

  test(`server (${name}) delivers once to a connection that subscribed twice`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    await subscribed(client, "t", "t");
    await client.publish("t", 1);
    await client.publish("t", 2);
    assert.deepEqual((await take(client, 2)).map((m) => m.message), [1, 2]);
    assert.equal(f.server.stats().subscriptions, 1);
    await f.close();
  });

  test(`server (${name}) passes any JSON message through unchanged`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    await subscribed(client, "json");
    const values: JsonValue[] = [
      "text",
      "unicode: café ☕ 𝄞",
      42,
      -1.5e300,
      true,
      null,
      [1, "two", [3]],
      { event: "order_created", order_id: "ORD-789", amount: 99.99, nested: { ok: true } },
      "",
    ];
    for (const value of values) await client.publish("json", value);
    assert.deepEqual((await take(client, values.length)).map((m) => m.message), values);
    await f.close();
  });

  test(`server (${name}) keeps one publisher's messages in order`, async () => {
    const f = await startFixture(make());
    const [sub, publisher] = await Promise.all([f.client(), f.client()]);
    await subscribed(sub, "seq");
    for (let i = 0; i < 2000; i++) void publisher.publish("seq", i);
    await publisher.flush();
    const got = await take(sub, 2000);
    assert.deepEqual(got.map((m) => m.message), Array.from({ length: 2000 }, (_, i) => i));
    await f.close();
  });

  test(`server (${name}) forgets a connection's subscriptions when it closes`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    await subscribed(client, "a", "b");
    await until(() => f.server.stats().subscriptions === 2, "flush()'s own subscription to go");
    await client.close();
    await until(() => f.server.stats().connections === 0, "the server to drop the connection");
    assert.equal(f.server.stats().subscriptions, 0);
    assert.equal(f.server.stats().topics, 0);
    await f.close();
  });

  test(`server (${name}) publishes from server.publish()`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    await subscribed(client, "alerts");
    assert.equal(f.server.publish("alerts", "from the server"), 1);
    assert.equal(f.server.publish("nobody", "listens"), 0);
    assert.deepEqual(await client.recv(), { topic: "alerts", message: "from the server" });
    assert.throws(() => f.server.publish("", "x"), TypeError);
    await f.close();
  });

  test(`server (${name}) counts frames, messages and deliveries`, async () => {
    const f = await startFixture(make());
    const [a, b] = await Promise.all([f.client(), f.client()]);
    await subscribed(a, "s");
    await subscribed(b, "s");
    await a.publish("s", "x");
    await take(a, 1);
    await take(b, 1);
    const stats = f.server.stats();
    assert.equal(stats.connections, 2);
    assert.equal(stats.totalConnections, 2);
    assert.equal(stats.topics, 1);
    assert.equal(stats.subscriptions, 2);
    assert.equal(stats.messagesOut >= 2, true);
    assert.equal(stats.messagesIn >= 1, true);
    await f.close();
  });

  test(`server (${name}) calls the handler with (data, client, server) before routing`, async () => {
    const seen: { data: ClientFrame; client: ServerClient; server: PubSubServer }[] = [];
    let subsAtPublish = -1;
    const f = await startFixture(make(), {
      handler(data, client, server) {
        seen.push({ data, client, server });
        if (data.action === "publish") subsAtPublish = client.subscriptions.size;
      },
    });
    const client = await f.client();
    await client.subscribe("h");
    await client.publish("h", "routed");
    assert.deepEqual(await client.recv(), { topic: "h", message: "routed" });
    assert.deepEqual(seen.map((s) => [s.data.action, (s.data as { topic?: string }).topic]), [
      ["subscribe", "h"],
      ["publish", "h"],
    ]);
    assert.equal(seen[0].server, f.server);
    assert.equal(seen[0].client, seen[1].client);
    assert.equal(subsAtPublish, 1);
    assert.equal((seen[1].data as { message: unknown }).message, "routed");
    await f.close();
  });

  test(`server (${name}) skips routing when the handler returns false`, async () => {
    const f = await startFixture(make(), {
      handler: (data) => !(data.action === "publish" && data.topic === "blocked"),
    });
    const client = await f.client();
    await subscribed(client, "blocked", "open");
    await client.publish("blocked", "never delivered");
    await client.publish("open", "delivered");
    assert.deepEqual(await client.recv(), { topic: "open", message: "delivered" });
    await f.close();
  });

  test(`server (${name}) keeps a connection's order with an async handler`, async () => {
    const order: number[] = [];
    const f = await startFixture(make(), {
      async handler(data) {
        if (data.action !== "publish" || data.topic !== "async") return;
        const n = data.message as number;
        // Later frames finish their await sooner: order must still hold.
        for (let i = 0; i < 20 - n; i++) await Promise.resolve();
        order.push(n);
        return n % 2 === 0;
      },
    });
    const client = await f.client();
    await subscribed(client, "async");
    for (let n = 0; n < 20; n++) void client.publish("async", n);
    const got = await take(client, 10);
    assert.deepEqual(got.map((m) => m.message), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => i));
    await f.close();
  });

  test(`server (${name}) answers a throwing handler with handler_error and does not route`, async () => {
    const f = await startFixture(make(), {
      handler(data) {
        if (data.action === "publish" && data.message === "boom") throw new Error("boom");
        if (data.action === "publish" && data.message === "reject") {
          return Promise.reject(new Error("reject"));
        }
      },
    });
    const raw = await f.raw();
    await raw.sendJson({ action: "subscribe", topic: "t" });
    await raw.sendJson({ action: "publish", topic: "t", message: "boom" });
    await raw.sendJson({ action: "publish", topic: "t", message: "reject" });
    await raw.sendJson({ action: "publish", topic: "t", message: "fine" });
    assert.equal((await raw.json()).code, "handler_error");
    assert.equal((await raw.json()).code, "handler_error");
    assert.deepEqual(await raw.json(), { topic: "t", message: "fine" });
    assert.equal(f.server.stats().handlerErrors, 2);
    await f.close();
  });

  test(`server (${name}) lets a handler send to its client`, async () => {
    const f = await startFixture(make(), {
      handler(data, client) {
        if (data.action === "subscribe") client.send({ action: "welcome", topic: data.topic });
      },
    });
    const raw = await f.raw();
    await raw.sendJson({ action: "subscribe", topic: "w" });
    assert.deepEqual(await raw.json(), { action: "welcome", topic: "w" });
    await f.close();
  });

  test(`server (${name}) close() tells clients, closes them and is idempotent`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    await raw.sendJson({ action: "subscribe", topic: "x" });
    await until(() => f.server.stats().subscriptions === 1, "the subscription");
    const first = f.server.close();
    assert.equal(f.server.closing, true);
    assert.equal(f.server.close(), first);
    const lines = await raw.end();
    await first;
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).code, "server_shutdown");
    assert.equal(f.server.stats().connections, 0);
    await f.close();
  });

  test(`server (${name}) flushes queued deliveries before closing`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    await raw.sendJson({ action: "subscribe", topic: "flush" });
    await until(() => f.server.stats().subscriptions === 1, "the subscription");
    for (let i = 0; i < 500; i++) f.server.publish("flush", i);
    const closing = f.server.close();
    const lines = await raw.end();
    await closing;
    assert.equal(lines.length, 501);
    assert.deepEqual(JSON.parse(lines[499]), { topic: "flush", message: 499 });
    assert.equal(JSON.parse(lines[500]).code, "server_shutdown");
    await f.close();
  });

  test(`server (${name}) closes when its signal aborts`, async () => {
    const controller = new AbortController();
    const server = await startPubSubServer({
      port: 0,
      transport: make(),
      signal: controller.signal,
    });
    controller.abort();
    await until(() => server.closing, "the server to start closing");
    await server.close();
  });

  test(`server (${name}) does not let a stalled subscriber delay others`, async () => {
    const limit = 256 * 1024;
    const f = await startFixture(make(), { limits: { maxOutboundBytes: limit } });
    const stalled = await f.raw(); // subscribes, then never reads
    await stalled.sendJson({ action: "subscribe", topic: "firehose" });
    const [healthy, publisher] = await Promise.all([f.client(), f.client()]);
    await subscribed(healthy, "firehose");
    await until(() => f.server.stats().subscriptions === 2, "both subscriptions");
    const payload = "x".repeat(1000);
    // 16 MB in rounds of 100 KB: past the stalled peer's socket buffers and
    // limit, while the healthy subscriber never has a round outstanding.
    const rounds = 160;
    const perRound = 100;
    let maxPending = 0;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < perRound; i++) {
        void publisher.publish("firehose", `${round * perRound + i}:${payload}`);
      }
      const got = await take(healthy, perRound);
      assert.equal(got[perRound - 1].message, `${(round + 1) * perRound - 1}:${payload}`);
      maxPending = Math.max(maxPending, f.server.stats().pendingBytes);
    }
    assert.equal(f.server.stats().slowConsumers, 1);
    // Two subscribers' queues, each bounded by the limit.
    assert.ok(maxPending <= 2 * limit, `pending ${maxPending} > ${2 * limit}`);
    const lines = await stalled.end();
    assert.equal(JSON.parse(lines[lines.length - 1]).code, "slow_consumer");
    await f.close();
  });
}

test("server close() from inside a handler does not wait for that handler", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  let closing: Promise<void> | undefined;
  const f = await startFixture(createMemoryTransport(), {
    limits: { shutdownGraceMs: 50 },
    async handler(data, _client, server) {
      if (data.action === "publish" && data.topic === "admin/shutdown") {
        closing = server.close();
        await closing; // waits for every session, including this one
      }
    },
  });
  const raw = await f.raw();
  await raw.sendJson({ action: "publish", topic: "admin/shutdown", message: null });
  await until(() => closing !== undefined, "the handler to run");
  await closing;
  await f.close();
});

test("server refuses subscriptions past maxSubscriptionsPerConnection", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport(), {
    limits: { maxSubscriptionsPerConnection: 2 },
  });
  const raw = await f.raw();
  await raw.sendJson({ action: "subscribe", topic: "a" });
  await raw.sendJson({ action: "subscribe", topic: "b" });
  await raw.sendJson({ action: "subscribe", topic: "a" }); // already counted: fine
  await raw.sendJson({ action: "subscribe", topic: "c" });
  assert.deepEqual(await raw.json(), {
    action: "error",
    code: "too_many_subscriptions",
    error: "Connection already has 2 subscriptions",
  });
  assert.equal(f.server.stats().subscriptions, 2);
  await f.close();
});

test("startPubSubServer() refuses bad options with TypeError and RangeError", async () => {
  await assert.rejects(startPubSubServer({ port: 70000 }), RangeError);
  await assert.rejects(startPubSubServer({ port: -1 }), RangeError);
  await assert.rejects(startPubSubServer({ port: 1.5 }), RangeError);
  await assert.rejects(startPubSubServer({ host: "" }), TypeError);
  await assert.rejects(startPubSubServer({ limits: { maxLineBytes: 0 } }), RangeError);
  await assert.rejects(
    startPubSubServer({ limits: { nope: 1 } as unknown as { maxLineBytes: number } }),
    TypeError,
  );
});

test("startPubSubServer() binds 127.0.0.1 by default", async () => {
  const server = await startPubSubServer({ port: 0 });
  assert.equal(server.addr.hostname, "127.0.0.1");
  await server.close();
});
