/**
 * The monitoring endpoints of the server's `monitor` option, against known
 * traffic: `/healthz`, `/varz`, `/connz` (paging and bounds with 1,000
 * connections), `/subsz`, `/metrics` (through a Prometheus text parser),
 * `/events`, the token, a listener shared with WebSocket, and `$SYS/stats`.
 */
// deno-lint-ignore-file no-explicit-any -- JSON answers, checked field by field by the assertions
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createMemoryTransport,
  type HttpTransport,
  PubSubClient,
  type PubSubServer,
  startPubSubServer,
} from "../mod.ts";
import { METRIC_FAMILIES } from "../src/server/monitor/metrics.ts";
import { isLoopback, planMonitor } from "../src/server/monitor/monitor_options.ts";
import { MAX_CONNZ_LIMIT } from "../src/server/monitor/connz.ts";
import { RateHistory } from "../src/server/monitor/rate_history.ts";
import type { ServerStats } from "../src/server/stats.ts";
import { freePort, RawPeer, subscribed, take, until } from "./helpers.ts";
import { parseMetrics, sampleValue } from "./_prometheus_text.ts";

async function get(
  server: PubSubServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(`${server.monitorUrl}${path}`, { headers });
}

async function getJson(server: PubSubServer, path: string): Promise<Record<string, any>> {
  const response = await get(server, path);
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return await response.json();
}

/** Reads server-sent events from `response` until `count` named `name` came. */
async function readEvents(
  response: Response,
  name: string,
  count: number,
): Promise<{ event: string; data: any }[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { event: string; data: any }[] = [];
  let text = "";
  try {
    while (events.filter((e) => e.event === name).length < count) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the event stream ended");
      text += value;
      for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null");
        events.push({ event, data });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

test("/varz, /connz and /metrics count known traffic", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0 } });
  const subscriber = await PubSubClient.connect("127.0.0.1", server.addr.port, {
    hello: { name: "watcher" },
  });
  const publisher = await PubSubClient.connect("127.0.0.1", server.addr.port);
  try {
    assert.match(server.monitorUrl!, /^http:\/\/127\.0\.0\.1:\d+$/);
    await subscribed(subscriber, "known/#");
    for (let i = 0; i < 5; i++) await publisher.publish("known/topic", { i });
    await take(subscriber, 5);

    const varz = await getJson(server, "/varz");
    assert.equal(varz.serverId, server.serverId);
    assert.equal(typeof varz.version, "string");
    assert.ok(["deno", "bun", "node"].includes(varz.runtime.name));
    assert.deepEqual(varz.connections, {
      current: 2,
      total: 2,
      refused: 0,
      byTransport: { tcp: 2, ws: 0, tls: 0 },
    });
    assert.equal(varz.subscriptions, 1);
    assert.equal(varz.patterns, 1);
    assert.deepEqual(varz.messages, { in: 5, out: 5 });
    assert.deepEqual(varz.dropped, { total: 0, dropOldest: 0, dropNewest: 0, other: 0 });
    assert.deepEqual(varz.slowConsumers, { disconnected: 0, notices: 0 });
    assert.equal(varz.closing, false);
    assert.equal(varz.limits.maxConnections, server.limits.maxConnections);
    assert.equal(varz.slowConsumerPolicy, "disconnect");
    assert.ok(varz.memory === null || varz.memory.rss > 0);
    assert.equal(typeof varz.rates.messagesIn, "number");

    const connz = await getJson(server, "/connz?sort=bytes_out");
    assert.equal(connz.total, 2);
    const rows: Record<string, any>[] = connz.connections;
    // The subscriber got five deliveries: it was written more than the publisher.
    assert.equal(rows[0].name, "watcher");
    assert.equal(rows[0].subscriptions, 1);
    assert.equal(rows[1].name, null);
    assert.equal(rows[1].user, null);
    for (const row of rows) {
      assert.match(row.remote, /^127\.0\.0\.1:\d+$/);
      assert.equal(row.transport, "tcp");
      assert.equal(row.pendingBytes, 0);
      assert.ok(row.bytesIn > 0 && row.idleMs >= 0 && row.uptimeMs >= 0);
    }
    // The server's byte counters are the connections' sums (none has closed).
    assert.equal(varz.bytes.in, rows[0].bytesIn + rows[1].bytesIn);
    assert.equal(varz.bytes.out, rows[0].bytesOut + rows[1].bytesOut);

    const metrics = await get(server, "/metrics");
    assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const families = parseMetrics(await metrics.text());
    assert.deepEqual(families.map((f) => f.name), METRIC_FAMILIES.map((f) => f.name));
    assert.equal(sampleValue(families, "knsock_messages_received_total"), 5);
    assert.equal(sampleValue(families, "knsock_messages_delivered_total"), 5);
    assert.equal(sampleValue(families, "knsock_connections", { transport: "tcp" }), 2);
    assert.equal(sampleValue(families, "knsock_connections", { transport: "ws" }), 0);
    assert.equal(sampleValue(families, "knsock_subscriptions"), 1);
    assert.equal(sampleValue(families, "knsock_received_bytes_total"), varz.bytes.in);
    assert.equal(
      sampleValue(families, "knsock_dropped_messages_total", { policy: "drop-oldest" }),
      0,
    );
    assert.equal(sampleValue(families, "knsock_info", { server_id: server.serverId }), 1);
  } finally {
    await publisher.close();
    await subscriber.close();
    await server.close();
  }
});

test("/connz pages 1,000 connections within its bounds", async () => {
  const transport = createMemoryTransport();
  const server = await startPubSubServer({ port: 0, transport, monitor: { port: 0 } });
  const peers: RawPeer[] = [];
  try {
    for (let i = 0; i < 1000; i++) {
      peers.push(
        new RawPeer(await transport.connect({ hostname: "memory", port: server.addr.port })),
      );
    }
    await until(() => server.stats().connections === 1000, "1,000 connections");
    // Connection 7 subscribes to three patterns: it sorts first by subscriptions.
    for (const topic of ["a", "b", "c"]) {
      await peers[6].sendJson({ action: "subscribe", topic, id: topic });
      assert.equal((await peers[6].json()).action, "ok");
    }

    const first = await getJson(server, "/connz");
    assert.equal(first.total, 1000);
    assert.equal(first.limit, 100);
    assert.deepEqual(first.connections.map((r: { id: number }) => r.id), range(1, 100));

    const ids = new Set<number>();
    for (let offset = 0; offset < 1000; offset += 300) {
      const page = await getJson(server, `/connz?limit=300&offset=${offset}`);
      assert.equal(page.connections.length, Math.min(300, 1000 - offset));
      for (const row of page.connections) ids.add(row.id);
    }
    assert.equal(ids.size, 1000);

    const all = await getJson(server, `/connz?limit=${MAX_CONNZ_LIMIT}`);
    assert.equal(all.connections.length, 1000);
    const past = await getJson(server, "/connz?offset=5000");
    assert.deepEqual([past.total, past.connections], [1000, []]);
    const bySubs = await getJson(server, "/connz?sort=subs&limit=2");
    assert.deepEqual(bySubs.connections.map((r: { id: number }) => r.id), [7, 1]);
    assert.equal(bySubs.connections[0].subscriptions, 3);

    for (
      const bad of [
        `limit=${MAX_CONNZ_LIMIT + 1}`,
        "limit=0",
        "limit=ten",
        "offset=-1",
        "sort=name",
      ]
    ) {
      const response = await get(server, `/connz?${bad}`);
      assert.equal(response.status, 400, bad);
      assert.match((await response.json()).error, /must be/);
    }
  } finally {
    for (const peer of peers) peer.close();
    await server.close();
  }
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

test("/subsz counts subscriptions and a topic's reach, a queue group once", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0 } });
  const clients: PubSubClient[] = [];
  const connect = async () => {
    const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
    clients.push(client);
    return client;
  };
  try {
    const a = await connect();
    await subscribed(a, "s/+", "s/#"); // one connection: reached once
    await subscribed(await connect(), "s/x");
    for (let i = 0; i < 2; i++) {
      const member = await connect();
      await member.subscribe("s/x", { group: "workers" });
      await member.flush();
    }
    await subscribed(await connect(), "other");

    const subsz = await getJson(server, "/subsz?topic=s/x");
    assert.equal(subsz.subscriptions, 5);
    assert.equal(subsz.queueGroups, 1);
    assert.deepEqual(subsz.reach, {
      topic: "s/x",
      subscribers: 3,
      connections: 2,
      queueGroups: 1,
    });
    assert.deepEqual(subsz.top[0], { pattern: "s/x", subscribers: 2 });
    assert.equal(subsz.top.length, 4);
    assert.equal((await getJson(server, "/subsz?topic=nobody")).reach.subscribers, 0);
    assert.equal((await getJson(server, "/subsz?limit=1")).top.length, 1);
    assert.equal((await get(server, "/subsz?topic=s/%2B")).status, 400);
    assert.equal((await get(server, "/subsz?limit=0")).status, 400);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  }
});

test("/healthz answers 200, then 503 while the server shuts down", async () => {
  // In memory: a client's end of the stream is exactly what the test says on every runtime.
  const transport = createMemoryTransport();
  const server = await startPubSubServer({
    port: 0,
    transport,
    monitor: { port: 0 },
    limits: { shutdownGraceMs: 60_000 },
  });
  // A client that never ends its side holds the shutdown open (up to the grace).
  const peer = new RawPeer(
    await transport.connect({ hostname: "127.0.0.1", port: server.addr.port }),
  );
  await until(() => server.stats().connections === 1, "the connection");
  const ok = await get(server, "/healthz");
  assert.deepEqual([ok.status, await ok.json()], [200, { status: "ok" }]);
  const closed = server.close();
  try {
    const down = await get(server, "/healthz");
    assert.deepEqual([down.status, await down.json()], [503, { status: "shutting_down" }]);
    const families = parseMetrics(await (await get(server, "/metrics")).text());
    assert.equal(sampleValue(families, "knsock_shutting_down"), 1);
    assert.equal((await getJson(server, "/varz")).closing, true);
  } finally {
    const notice = await peer.json();
    assert.equal(notice.code, "server_shutdown");
    await peer.end();
    await closed;
  }
  await assert.rejects(fetch(`http://127.0.0.1:${new URL(ok.url).port}/healthz`));
});

test("with a token, every endpoint but /healthz and the page needs Authorization: Bearer", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0, token: "s3cret" } });
  try {
    assert.equal((await get(server, "/healthz")).status, 200);
    assert.equal((await get(server, "/")).status, 200);
    for (const path of ["/varz", "/connz", "/subsz", "/metrics", "/events"]) {
      const none = await get(server, path);
      assert.equal(none.status, 401, path);
      assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
      await none.body?.cancel();
      const wrong = await get(server, path, { authorization: "Bearer s3cre" });
      assert.equal(wrong.status, 401, path);
      await wrong.body?.cancel();
      const basic = await get(server, path, { authorization: "Basic czNjcmV0" });
      assert.equal(basic.status, 401, path);
      await basic.body?.cancel();
    }
    const right = await get(server, "/varz", { authorization: "Bearer s3cret" });
    assert.equal(right.status, 200);
    assert.equal((await right.json()).connections.current, 0);
    assert.equal((await get(server, "/varz", { authorization: "Bearer s3cret" })).status, 200);
  } finally {
    await server.close();
  }
});

test("/events streams the history, then a snapshot per sample", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0 } });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
  try {
    await subscribed(client, "ev/#");
    await client.publish("ev/1", "one");
    await take(client, 1);
    const response = await get(server, "/events");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = await readEvents(response, "snapshot", 2);
    assert.equal(events[0].event, "history");
    assert.ok(Array.isArray(events[0].data.points));
    const snapshots = events.filter((e) => e.event === "snapshot").map((e) => e.data);
    assert.ok(snapshots[1].point.t > snapshots[0].point.t);
    const last = snapshots[1];
    assert.equal(last.varz.messages.in, 1);
    assert.equal(last.point.connections, 1);
    assert.equal(last.connections.length, 1);
    assert.equal(last.connections[0].subscriptions, 1);
    assert.deepEqual(last.topics, [{ pattern: "ev/#", subscribers: 1 }]);
  } finally {
    await client.close();
    await server.close();
  }
});

test("the monitor shares the WebSocket listener when given the same port", async () => {
  const port = await freePort();
  const server = await startPubSubServer({
    port: 0,
    webSocket: {
      port,
      fetch: (r) => new URL(r.url).pathname === "/" ? new Response("demo") : null,
    },
    monitor: { port },
  });
  try {
    assert.equal(server.monitorUrl, `http://127.0.0.1:${port}`);
    assert.equal(new URL(server.webSocketUrl!).port, String(port));
    assert.equal((await getJson(server, "/healthz")).status, "ok");
    // The WebSocket port's own route keeps `/`; the dashboard is at /dashboard too.
    assert.equal(await (await get(server, "/")).text(), "demo");
    assert.match(await (await get(server, "/dashboard")).text(), /kn-sock pub\/sub/);
  } finally {
    await server.close();
  }
});

test("closing the server ends /events streams, read or not, on its own or a shared listener", async () => {
  const port = await freePort();
  for (const shared of [false, true]) {
    const server = await startPubSubServer({
      port: 0,
      webSocket: shared ? { port } : undefined,
      monitor: { port: shared ? port : 0 },
    });
    const unread = await get(server, "/events"); // never read
    const read = await get(server, "/events");
    const reader = read.body!.getReader();
    assert.equal((await reader.read()).done, false); // the history
    const ended = (async () => {
      try {
        while (!(await reader.read()).done);
      } catch {
        // Ended abruptly: the same for a dashboard, which reconnects.
      }
    })();
    await server.close();
    await ended;
    await unread.body?.cancel().catch(() => {});
  }
});

test("$SYS/stats carries a snapshot when sysStatsIntervalMs is set", async () => {
  const server = await startPubSubServer({
    port: 0,
    monitor: { port: 0, sysStatsIntervalMs: 1000 },
  });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port);
  try {
    await subscribed(client, "$SYS/stats");
    const [message] = await take(client, 1);
    assert.equal(message.topic, "$SYS/stats");
    const stats = message.message as Record<string, any>;
    assert.equal(stats.serverId, server.serverId);
    assert.equal(stats.connections.current, 1);
    assert.equal(stats.subscriptions, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test("the monitor option is checked, and a listener beyond loopback without a token warns", async () => {
  assert.throws(() => planMonitor({ port: 70_000 }), RangeError);
  assert.throws(() => planMonitor({ token: "" }), TypeError);
  assert.throws(() => planMonitor({ sysStatsIntervalMs: 0 }), RangeError);
  assert.throws(() => planMonitor({ assets: "uplot" as never }), TypeError);
  assert.equal(planMonitor({}).port, 8222);
  assert.equal(planMonitor({}).host, "127.0.0.1");
  assert.equal(planMonitor({ sysStatsIntervalMs: 1500 }).sysStatsSeconds, 2);
  assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("localhost"));
  assert.ok(!isLoopback("0.0.0.0") && !isLoopback("192.168.1.2"));

  // A fake HTTP transport: nothing binds beyond loopback in a test.
  const served: string[] = [];
  const httpTransport: HttpTransport = {
    name: "fake",
    serve(options) {
      served.push(options.hostname);
      return Promise.resolve({
        addr: { hostname: options.hostname, port: 8222 },
        close: () => Promise.resolve(),
      });
    },
  };
  const warnings: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn: (message: string) => void warnings.push(message),
    error() {},
  };
  for (const token of [undefined, "t"]) {
    const server = await startPubSubServer({
      port: 0,
      logger,
      monitor: { host: "0.0.0.0", token, httpTransport },
    });
    await server.close();
  }
  assert.deepEqual(served, ["0.0.0.0", "0.0.0.0"]);
  assert.deepEqual(warnings, ["Monitoring listens beyond this machine without a token"]);
});

test("RateHistory turns counter growth into per-second rates and keeps bounded points", () => {
  const history = new RateHistory();
  const stats = (messagesIn: number, bytesOut: number) =>
    ({
      messagesIn,
      messagesOut: messagesIn * 2,
      bytesIn: 0,
      bytesOut,
      connections: 3,
      slowConsumers: 1,
      droppedMessages: 4,
    }) as ServerStats;
  history.sample(10_000, stats(100, 0));
  assert.equal(history.rates.intervalMs, 0);
  history.sample(12_000, stats(300, 5000));
  assert.deepEqual(history.rates, {
    messagesIn: 100,
    messagesOut: 200,
    bytesIn: 0,
    bytesOut: 2500,
    intervalMs: 2000,
  });
  assert.deepEqual(history.latest, {
    t: 12_000,
    in: 100,
    out: 200,
    connections: 3,
    slowConsumers: 1,
    dropped: 4,
  });
  for (let i = 0; i < 400; i++) history.sample(13_000 + i * 1000, stats(300 + i, 5000));
  const points = history.points();
  assert.equal(points.length, 300);
  assert.equal(points[299].t, 13_000 + 399 * 1000);
  assert.ok(points.every((p, i) => i === 0 || p.t > points[i - 1].t));
});
