/**
 * Measures the server's memory under the memory attacks of issue 18 (finding
 * 3) and the timing of `auth_timeout`, in one short run per scenario. The
 * server and its attackers share this process, over the runtime's own TCP
 * transport (the attackers' side holds little: bytes handed to the kernel),
 * so the heap and ArrayBuffer growth is the server's. `heapMiB` and
 * `arrayBuffersMiB` are measured after a full GC; RSS also holds memory the
 * runtime freed but kept.
 *
 * ```sh
 * npx -y node@24.21.0 --expose-gc scripts/measure_memory.ts subs      # or lines, seq, prefix, auth
 * node_modules/.bin/deno run -A --v8-flags=--expose-gc scripts/measure_memory.ts subs
 * node_modules/.bin/bun scripts/measure_memory.ts subs
 * ```
 *
 * - `subs`: 3 connections each subscribe to 10,000 32-level wildcard patterns.
 * - `lines`: 200 connections each hold an unfinished 1 MiB line.
 * - `seq`: 1,000,000 publishes to distinct short topics (1 to 4 characters), to a subscriber
 *   that said hello: fewer characters than the old table's 4 Mi, so it held them all.
 * - `prefix`: 10,000 publishes to distinct 1,000-character topics of control characters.
 * - `auth`: how long after connecting a silent client gets `auth_timeout` with a 2 s limit.
 * - `retained`: 9,998 retained messages under `other/`, then 2,000 wildcard subscribes that
 *   match at most 2 others (each pattern new): how long the subscribes take, per subscribe.
 *
 * It prints one line of JSON: the scenario, the runtime, RSS and heap growth in MiB, and
 * what the server said (its stats, the errors the attackers got).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import process from "node:process";
import {
  type Conn,
  detectRuntime,
  hashToken,
  type PubSubServer,
  startPubSubServer,
} from "../mod.ts";
import { Authenticator, parseUsersConfig } from "../mod.ts";
import { defaultTransport } from "../src/transport/auto.ts";

const MiB = 1024 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function memory(): { rss: number; heap: number; buffers: number } {
  gc();
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed, buffers: usage.arrayBuffers ?? 0 };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a connection's lines in the background, counting error codes, until it ends. */
function readLines(conn: Conn, codes: Map<string, number>, onLine?: (line: string) => void): {
  ended: Promise<void>;
} {
  const ended = (async () => {
    let rest = "";
    for await (const chunk of conn) {
      rest += decoder.decode(chunk, { stream: true });
      let newline = rest.indexOf("\n");
      while (newline !== -1) {
        const line = rest.slice(0, newline);
        rest = rest.slice(newline + 1);
        newline = rest.indexOf("\n");
        if (line.includes('"action":"error"')) {
          const code = /"code":"([a-z_]+)"/.exec(line)?.[1] ?? "?";
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
        onLine?.(line);
      }
    }
  })().catch(() => {});
  return { ended };
}

/** Waits until `server.stats()` stops changing for a few checks (the server has caught up). */
async function settled(server: PubSubServer): Promise<void> {
  let last = "";
  for (let same = 0; same < 5;) {
    await sleep(100);
    const now = JSON.stringify({ ...server.stats(), pendingBytes: 0 });
    same = now === last ? same + 1 : 0;
    last = now;
  }
  // Connections closed meanwhile finish closing within shutdownGraceMs (2 s).
  await sleep(2500);
}

function deepPattern(connection: number, i: number): string {
  const levels = [`c${connection}p${i}`];
  for (let k = 1; k < 32; k++) levels.push(k % 2 === 1 ? "+" : `l${k}`);
  return levels.join("/");
}

async function subs(
  server: PubSubServer,
  connect: () => Promise<Conn>,
  codes: Map<string, number>,
) {
  for (let c = 0; c < 3; c++) {
    const conn = await connect();
    readLines(conn, codes);
    let batch = "";
    for (let i = 0; i < 10_000; i++) {
      batch += JSON.stringify({ action: "subscribe", topic: deepPattern(c, i) }) + "\n";
      if (batch.length > 60_000) {
        await conn.write(encoder.encode(batch));
        batch = "";
      }
    }
    await conn.write(encoder.encode(batch));
  }
  await settled(server);
}

async function lines(
  server: PubSubServer,
  connect: () => Promise<Conn>,
  codes: Map<string, number>,
) {
  const partial = encoder.encode(
    `{"action":"publish","topic":"t","message":"${"x".repeat(MiB - 64)}`,
  );
  for (let c = 0; c < 200; c++) {
    const conn = await connect();
    readLines(conn, codes);
    await conn.write(partial);
  }
  await settled(server);
}

async function seq(server: PubSubServer, connect: () => Promise<Conn>, codes: Map<string, number>) {
  const conn = await connect();
  let delivered = 0;
  readLines(conn, codes, () => delivered++);
  await conn.write(encoder.encode('{"action":"hello"}\n{"action":"subscribe","topic":"#"}\n'));
  await settled(server);
  for (let i = 0; i < 1_000_000; i++) {
    server.publish(i.toString(36), 1);
    // Let the subscriber read: it must keep up, or it is a slow consumer and seq stops.
    if (i % 5_000 === 4_999) { while (delivered < i - 5_000) await sleep(1); }
  }
  await settled(server);
}

async function prefix(
  server: PubSubServer,
  connect: () => Promise<Conn>,
  codes: Map<string, number>,
) {
  const subscriber = await connect();
  let delivered = 0;
  readLines(subscriber, codes, () => delivered++);
  await subscriber.write(encoder.encode('{"action":"subscribe","topic":"#"}\n'));
  const publisher = await connect();
  readLines(publisher, codes);
  await settled(server);
  const odd = "\\u0001".repeat(1000);
  for (let i = 0; i < 10_000; i++) {
    const line = `{"action":"publish","topic":"${i}${odd}","message":1}\n`;
    await publisher.write(encoder.encode(line));
    if (i % 500 === 499) { while (delivered < i - 500) await sleep(1); }
  }
  await settled(server);
}

async function authTiming(): Promise<Record<string, unknown>> {
  const auth = new Authenticator(parseUsersConfig({
    users: [{ user: "bot", token: await hashToken("t") }],
  }));
  const transport = await defaultTransport();
  const server = await startPubSubServer({
    port: 0,
    transport,
    auth,
    limits: { authTimeoutMs: 2000 },
  });
  const closes: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(137); // spread the connects over the watchdog's rounds
    const started = Date.now();
    const conn = await transport.connect({ hostname: "127.0.0.1", port: server.addr.port });
    for await (const _ of conn) { /* until the server closes it */ }
    closes.push(Date.now() - started);
  }
  await server.close();
  return { limitMs: 2000, closedAfterMs: closes };
}

async function retainedTiming(): Promise<Record<string, unknown>> {
  const transport = await defaultTransport();
  const server = await startPubSubServer({ port: 0, transport });
  for (let i = 0; i < 9_998; i++) server.publish(`other/${i}`, i, { retain: true });
  server.publish("x/1", "a", { retain: true });
  server.publish("x/2", "b", { retain: true });
  const conn = await transport.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const codes = new Map<string, number>();
  let ponged = false;
  readLines(conn, codes, (line) => ponged ||= line.includes('"pong"'));
  let batch = "";
  for (let i = 0; i < 2_000; i++) {
    batch += JSON.stringify({ action: "subscribe", topic: `x/+/n${i}/#` }) + "\n";
  }
  const started = performance.now();
  await conn.write(encoder.encode(batch + '{"action":"ping","id":1}\n'));
  // The server handles a connection's frames in order: the pong comes after every subscribe.
  while (!ponged) await sleep(1);
  const ms = performance.now() - started;
  conn.close();
  await server.close();
  return {
    retained: 10_000,
    subscribes: 2_000,
    totalMs: Math.round(ms),
    usPerSubscribe: Math.round(ms * 1000 / 2_000),
  };
}

const scenarios = { subs, lines, seq, prefix };
const name = process.argv[2] ?? (globalThis as { Deno?: { args: string[] } }).Deno?.args[0];
if (name === "auth" || name === "retained") {
  const measured = name === "auth" ? await authTiming() : await retainedTiming();
  console.log(JSON.stringify({ scenario: name, runtime: detectRuntime(), ...measured }));
} else if (name !== undefined && name in scenarios) {
  const transport = await defaultTransport();
  const server = await startPubSubServer({ port: 0, transport });
  const connect = () => transport.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const codes = new Map<string, number>();
  const before = memory();
  await scenarios[name as keyof typeof scenarios](server, connect, codes);
  const after = memory();
  const stats = server.stats() as unknown as Record<string, number>;
  console.log(JSON.stringify({
    scenario: name,
    runtime: detectRuntime(),
    rssMiB: Math.round((after.rss - before.rss) / MiB),
    heapMiB: Math.round((after.heap - before.heap) / MiB),
    // Bytes outside the JS heap (unfinished lines live in ArrayBuffers).
    arrayBuffersMiB: Math.round((after.buffers - before.buffers) / MiB),
    connections: stats.connections,
    subscriptions: stats.subscriptions,
    subscriptionBytesMiB: stats.subscriptionBytes === undefined
      ? null
      : Math.round(stats.subscriptionBytes / MiB),
    partialLineBytesMiB: stats.partialLineBytes === undefined
      ? null
      : Math.round(stats.partialLineBytes / MiB),
    messagesOut: stats.messagesOut,
    errors: Object.fromEntries(codes),
  }));
  await server.close();
} else {
  console.error("usage: measure_memory.ts subs|lines|seq|prefix|auth|retained");
  process.exitCode = 2;
}
