/**
 * Every limit in src/limits.ts exceeded once (the ones not covered here are
 * exceeded in the test named beside them).
 *
 * - server maxLineBytes: docs/PROTOCOL.md (64) and tests/bad_input.test.ts (1 MiB)
 * - server maxOutboundBytes: tests/server.test.ts, "does not let a stalled subscriber delay others",
 *   and tests/slow_consumer.test.ts (drop-oldest, drop-newest, per subscription)
 * - server writeDeadlineMs: tests/slow_consumer.test.ts, "a write that makes no progress"
 * - server publisherPauseMs: tests/publisher_backpressure.test.ts, "a stalled subscriber"
 * - server maxPayloadBytes, maxNestingDepth: docs/PROTOCOL.md, "Payload limits"
 * - server pingIntervalMs, maxPingsOutstanding: tests/keepalive.test.ts
 * - server authTimeoutMs: tests/server_auth.test.ts, "does not authenticate in time"
 * - server maxSubscriptionsPerConnection: tests/server.test.ts, "refuses subscriptions past"
 * - client maxTopicBytes: tests/client.test.ts, "refuses bad topics and messages"
 * - client maxOutboundBytes: tests/client.test.ts, "refuses a publish past maxOutboundBytes"
 * - client maxInboundBytes: tests/client.test.ts, "stops reading past maxInboundBytes"
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectError,
  ConnectionClosedError,
  createMemoryTransport,
  DEFAULT_CLIENT_LIMITS,
  DEFAULT_SERVER_LIMITS,
  PubSubClient,
  resolveLimits,
  type ServerError,
  type Transport,
} from "../mod.ts";
import { startFixture, until } from "./helpers.ts";

test("limits: the defaults are the documented ones", () => {
  assert.deepEqual({ ...DEFAULT_SERVER_LIMITS }, {
    maxLineBytes: 1048576,
    maxTopicBytes: 1024,
    maxTopicLevels: 32,
    maxSubscriptionsPerConnection: 10000,
    maxConnections: 10000,
    maxPayloadBytes: 1048576,
    maxNestingDepth: 64,
    maxOutboundBytes: 8388608,
    writeDeadlineMs: 30000,
    publisherPauseMs: 1000,
    pingIntervalMs: 30000,
    maxPingsOutstanding: 2,
    authTimeoutMs: 10000,
    maxRetainedMessages: 10000,
    maxRetainedBytes: 16777216,
    shutdownGraceMs: 2000,
    maxWebSocketMessageBytes: 1048576, // exceeded in tests/websocket_server.test.ts
    // The server-wide budgets and timeouts: exceeded in tests/memory_budgets.test.ts
    maxSubscriptionBytes: 134217728,
    maxPartialLineBytes: 67108864,
    maxOutboundTotalBytes: 1073741824,
    lineTimeoutMs: 60000,
    idleTimeoutMs: 60000,
    tlsHandshakeTimeoutMs: 10000, // tests/tls_handshake_timeout.test.ts
    maxNameBytes: 256,
    maxSeqTableBytes: 16777216,
    maxPrefixCacheBytes: 4194304,
  });
  assert.deepEqual({ ...DEFAULT_CLIENT_LIMITS }, {
    maxLineBytes: 4194304,
    maxTopicBytes: 1024,
    maxTopicLevels: 32,
    maxOutboundBytes: 8388608,
    maxInboundBytes: 8388608,
    maxOfflineBytes: 8388608,
    pingIntervalMs: 30000,
    maxPingsOutstanding: 2,
    maxStatusEvents: 256,
    connectTimeoutMs: 10000,
    closeGraceMs: 2000,
  });
});

test("limits: resolveLimits() refuses unknown names and non-positive values", () => {
  assert.throws(() => resolveLimits(DEFAULT_SERVER_LIMITS, { maxLines: 1 } as never), TypeError);
  for (const bad of [0, -1, 1.5, NaN, Infinity, "10"]) {
    assert.throws(
      () => resolveLimits(DEFAULT_SERVER_LIMITS, { maxLineBytes: bad as number }),
      RangeError,
    );
  }
  assert.equal(resolveLimits(DEFAULT_SERVER_LIMITS, { maxLineBytes: 10 }).maxLineBytes, 10);
  assert.equal(DEFAULT_SERVER_LIMITS.maxLineBytes, 1048576); // the defaults are not changed
});

test("limits: server maxTopicBytes refuses a longer topic with invalid_topic", async () => {
  const f = await startFixture(createMemoryTransport());
  const raw = await f.raw();
  await raw.sendJson({ action: "subscribe", topic: "é".repeat(512) }); // 1024 bytes: fine
  await raw.sendJson({ action: "subscribe", topic: "é".repeat(512) + "x" }); // 1025 bytes
  assert.deepEqual(await raw.json(), {
    action: "error",
    code: "invalid_topic",
    error: "Topic exceeds 1024 bytes",
  });
  assert.equal(f.server.stats().subscriptions, 1);
  await f.close();
});

test("limits: server shutdownGraceMs bounds close() when a client never reads", async () => {
  const f = await startFixture(createMemoryTransport(), {
    limits: { shutdownGraceMs: 20, maxOutboundBytes: 64 * 1024 * 1024 },
  });
  const raw = await f.raw();
  await raw.sendJson({ action: "subscribe", topic: "stuck" });
  await until(() => f.server.stats().subscriptions === 1, "the subscription");
  const payload = "s".repeat(100_000);
  for (let i = 0; i < 50; i++) f.server.publish("stuck", payload);
  await f.server.close(); // would wait forever without the grace period
  assert.equal(f.server.stats().connections, 0);
  await f.close();
});

test("limits: client maxLineBytes closes on a longer line with protocol_error", async () => {
  const transport = createMemoryTransport();
  const listener = await transport.listen({ hostname: "memory", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.write(new TextEncoder().encode(`{"topic":"t","message":"${"x".repeat(200)}"}\n`));
      for await (const _ of conn) {
        // until the client hangs up
      }
      conn.close();
    }
  })();
  const client = await PubSubClient.connect("memory", listener.addr.port, {
    transport,
    limits: { maxLineBytes: 100 },
  });
  const error = await client.recv().catch((e: unknown) => e);
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal((error.cause as ServerError).code, "protocol_error");
  await listener.close();
  await serving;
});

test("limits: client connectTimeoutMs fails a connect that hangs with connect_failed", async () => {
  const hanging: Transport = {
    name: "hanging",
    listen: () => Promise.reject(new Error("not used")),
    connect: ({ signal }) =>
      new Promise((_, reject) => {
        signal?.addEventListener("abort", () =>
          reject(new ConnectError("connect_failed", "Timed out", { cause: signal.reason })));
      }),
  };
  await assert.rejects(
    PubSubClient.connect("127.0.0.1", 8080, {
      transport: hanging,
      limits: { connectTimeoutMs: 10 },
    }),
    (error: unknown) => error instanceof ConnectError && error.code === "connect_failed",
  );
});

test("limits: client closeGraceMs bounds close() when the server never reads", async () => {
  const transport = createMemoryTransport();
  const listener = await transport.listen({ hostname: "memory", port: 0 });
  const accepted = listener[Symbol.asyncIterator]().next();
  const client = await PubSubClient.connect("memory", listener.addr.port, {
    transport,
    limits: { closeGraceMs: 20 },
  });
  const server = (await accepted).value!;
  const sent = client.publish("t", "p".repeat(200_000)); // more than the pipe holds
  await client.close(); // would wait forever without the grace period
  await assert.rejects(sent, ConnectionClosedError);
  server.close();
  await listener.close();
});

test("limits: server maxConnections refuses one more with too_many_connections", async () => {
  const f = await startFixture(createMemoryTransport(), { limits: { maxConnections: 2 } });
  const [a, b] = await Promise.all([f.client(), f.client()]);
  await until(() => f.server.stats().connections === 2, "two connections");
  const extra = await f.raw();
  assert.deepEqual(await extra.end(), [
    '{"action":"error","code":"too_many_connections","error":"Server already has 2 connections"}',
  ]);
  assert.equal(f.server.stats().refusedConnections, 1);
  assert.equal(f.server.stats().connections, 2);
  await a.flush(); // the others are untouched
  await b.flush();
  await f.close();
});
