/**
 * PubSubClient behaviour: recv, iteration, close, errors and limits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectError,
  ConnectionClosedError,
  createMemoryTransport,
  type Message,
  PubSubClient,
  PubSubError,
  ServerError,
} from "../mod.ts";
import { serverCases, startFixture, subscribed, take, until } from "./helpers.ts";

for (const { name, make } of serverCases()) {
  test(`client (${name}) recv() resolves null when the timeout passes`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    assert.equal(await client.recv({ timeout: 1 }), null);
    assert.equal(await client.recv({ timeout: 0 }), null);
    await f.close();
  });

  test(`client (${name}) recv() serves concurrent callers in order`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    await subscribed(client, "fifo");
    const first = client.recv();
    const second = client.recv();
    await client.publish("fifo", 1);
    await client.publish("fifo", 2);
    assert.deepEqual([(await first)?.message, (await second)?.message], [1, 2]);
    await f.close();
  });

  test(`client (${name}) recv() rejects with the signal's reason when aborted`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    const controller = new AbortController();
    const waiting = client.recv({ signal: controller.signal });
    controller.abort(new Error("enough"));
    await assert.rejects(waiting, { message: "enough" });
    await assert.rejects(client.recv({ signal: controller.signal }), { message: "enough" });
    await f.close();
  });

  test(`client (${name}) recv() refuses a negative timeout with RangeError`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    assert.throws(() => client.recv({ timeout: -1 }), RangeError);
    assert.throws(() => client.recv({ timeout: NaN }), RangeError);
    await f.close();
  });

  test(`client (${name}) recv() throws ConnectionClosedError after close()`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    const waiting = assert.rejects(client.recv(), ConnectionClosedError);
    const closing = client.close();
    assert.equal(client.close(), closing);
    await closing;
    await client.closed;
    await waiting;
    await assert.rejects(client.recv({ timeout: 10 }), ConnectionClosedError);
    await assert.rejects(client.publish("t", 1), ConnectionClosedError);
    await assert.rejects(client.subscribe("t"), ConnectionClosedError);
    await f.close();
  });

  test(`client (${name}) returns held messages, then throws with the server's reason`, async () => {
    const f = await startFixture(make());
    const client = await PubSubClient.connect("127.0.0.1", f.server.addr.port, {
      transport: f.transport,
      reconnect: false,
    });
    await subscribed(client, "held");
    f.server.publish("held", "one");
    f.server.publish("held", "two");
    await f.server.close();
    await client.closed;
    assert.equal((await client.recv())?.message, "one");
    assert.equal((await client.recv())?.message, "two");
    const error = await client.recv().catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.ok(error.cause instanceof ServerError);
    assert.equal(error.cause.code, "server_shutdown");
    await f.close();
  });

  test(`client (${name}) iterates messages until close()`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    await subscribed(client, "iter");
    for (let i = 0; i < 3; i++) await client.publish("iter", i);
    const got: Message[] = [];
    for await (const message of client) {
      got.push(message);
      if (got.length === 3) void client.close();
    }
    assert.deepEqual(got.map((m) => m.message), [0, 1, 2]);
    await f.close();
  });

  test(`client (${name}) iteration throws when the connection is lost`, async () => {
    const f = await startFixture(make());
    const client = await PubSubClient.connect("127.0.0.1", f.server.addr.port, {
      transport: f.transport,
      reconnect: false,
    });
    const iterate = assert.rejects(async () => {
      for await (const _ of client) {
        // nothing arrives
      }
    }, ConnectionClosedError);
    await f.server.close();
    await iterate;
    await f.close();
  });

  test(`client (${name}) closes with await using`, async () => {
    const f = await startFixture(make());
    let escaped: PubSubClient | undefined;
    {
      await using client = await PubSubClient.connect("127.0.0.1", f.server.addr.port, {
        transport: f.transport,
      });
      escaped = client;
    }
    await assert.rejects(escaped.recv(), ConnectionClosedError);
    await f.close();
  });

  test(`client (${name}) refuses bad topics and messages with TypeError and RangeError`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    assert.throws(() => client.publish("", "x"), TypeError);
    assert.throws(() => client.subscribe(42 as unknown as string), TypeError);
    assert.throws(() => client.unsubscribe("t".repeat(2000)), RangeError);
    assert.throws(() => client.publish("t", undefined as unknown as string), TypeError);
    assert.throws(() => client.publish("t", 10n as unknown as number), TypeError);
    await f.close();
  });

  test(`client (${name}) tracks its subscriptions`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    await client.subscribe("a");
    await client.subscribe("b");
    await client.unsubscribe("a");
    assert.deepEqual([...client.subscriptions], ["b"]);
    await f.close();
  });

  test(`client (${name}) flush() rejects when the client closes first`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    const flushing = client.flush();
    void client.close();
    await assert.rejects(flushing, ConnectionClosedError);
    await f.close();
  });

  test(`client (${name}) keeps the server's last error frame`, async () => {
    const f = await startFixture(make(), {
      handler: (data) => {
        if (data.action === "publish" && data.topic === "bad") throw new Error("no");
      },
    });
    const client = await f.client();
    await client.publish("bad", 1);
    await client.flush();
    assert.equal(client.lastServerError?.code, "handler_error");
    await f.close();
  });
}

test("client publishes queued in the same tick share one promise", async () => {
  const f = await startFixture(createMemoryTransport());
  const client = await f.client();
  await subscribed(client, "batch");
  const promises = Array.from({ length: 1000 }, (_, i) => client.publish("batch", i));
  assert.equal(new Set(promises).size, 1, "one promise for the whole batch");
  await promises[0];
  const got = await take(client, 1000);
  assert.equal(got[999].message, 999);
  await f.close();
});

test("client refuses a publish past maxOutboundBytes with buffer_full", async () => {
  const f = await startFixture(createMemoryTransport());
  const client = await PubSubClient.connect("memory", f.server.addr.port, {
    transport: f.transport,
    limits: { maxOutboundBytes: 1024 },
  });
  await assert.rejects(
    client.publish("t", "x".repeat(2000)),
    (error: unknown) => error instanceof PubSubError && error.code === "buffer_full",
  );
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, () => client.publish("t", "y".repeat(100))),
  );
  const refused = results.filter((r) => r.status === "rejected");
  assert.ok(refused.length > 0 && refused.length < 20, `${refused.length} refused`);
  await client.publish("t", "room again"); // the queue drained
  await client.close();
  await f.close();
});

test("client stops reading past maxInboundBytes and loses nothing", async () => {
  const f = await startFixture(createMemoryTransport());
  const client = await PubSubClient.connect("memory", f.server.addr.port, {
    transport: f.transport,
    limits: { maxInboundBytes: 16 * 1024 },
  });
  await subscribed(client, "bulk");
  const payload = "z".repeat(1000);
  for (let i = 0; i < 300; i++) f.server.publish("bulk", `${i}:${payload}`);
  // The backlog stays on the server: the client took at most its limit plus a chunk and a pipe.
  await until(() => f.server.stats().pendingBytes > 100 * 1024, "the server to hold the backlog");
  const got = await take(client, 300);
  assert.deepEqual(got.map((m) => Number(String(m.message).split(":")[0])), [...Array(300).keys()]);
  await client.close();
  await f.close();
});

test("client gives connection_refused for a port nobody listens on", async () => {
  await assert.rejects(
    PubSubClient.connect("127.0.0.1", 1, { transport: createMemoryTransport() }),
    (error: unknown) => error instanceof ConnectError && error.code === "connection_refused",
  );
});

test("client gives connect_failed for an aborted connect", async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    PubSubClient.connect("127.0.0.1", 1, { signal: controller.signal }),
    (error: unknown) => error instanceof ConnectError && error.code === "connect_failed",
  );
});

test("client refuses bad connect arguments", async () => {
  await assert.rejects(PubSubClient.connect("", 8080), TypeError);
  await assert.rejects(PubSubClient.connect("127.0.0.1", 0), RangeError);
  await assert.rejects(PubSubClient.connect("127.0.0.1", 70000), RangeError);
  await assert.rejects(
    PubSubClient.connect("127.0.0.1", 8080, { limits: { connectTimeoutMs: -5 } }),
    RangeError,
  );
});

test("client closes with protocol_error when the server sends garbage", async () => {
  const transport = createMemoryTransport();
  const listener = await transport.listen({ hostname: "memory", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.write(new TextEncoder().encode("this is not json\n"));
      for await (const _ of conn) {
        // read until the client hangs up
      }
      conn.close();
    }
  })();
  const client = await PubSubClient.connect("memory", listener.addr.port, { transport });
  const error = await client.recv().catch((e: unknown) => e);
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal((error.cause as ServerError).code, "protocol_error");
  await listener.close();
  await serving;
});
