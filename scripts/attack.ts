/**
 * Hostile-client scenarios from issue 18, measured from a bystander's side.
 * Each run takes seconds; run it when no big test is running.
 *
 * ```sh
 * deno run -A scripts/build_npm.ts            # the node runtimes run the npm build
 * bun scripts/attack.ts policies --runtime deno --seconds 5
 * bun scripts/attack.ts flood --runtime bun --seconds 5
 * deno run -A scripts/attack.ts slow-reader   # in-process: the server runs on this runtime
 * ```
 *
 * - `policies`: a client subscribes to 9,999 wildcard patterns that match
 *   nothing plus `#`, each with its own `policy`, and stops reading. Prints
 *   the deliveries per second a bystander subscriber gets meanwhile.
 * - `flood`: one publisher (a process of its own) writes as fast as its
 *   socket takes bytes, ten subscribers read (and parse) as fast as they can. Prints how many subscribers the
 *   server cut and how many messages each got of those published.
 * - `slow-reader`: a subscriber with a 24 MB backlog (one coalesced batch)
 *   reads it at about `--rate` KB/s (default 4000), under a 1 s write
 *   deadline. Prints whether it was cut, what it got, and whether a
 *   `slow_consumer` frame reached it.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { spawn } from "node:child_process";
import * as net from "node:net";
import process from "node:process";
import { type Runtime, Server } from "./_bench_server.ts";
import { connect, frame, Progress, Subscriber, waitFor, write } from "./_bench_load.ts";

const encoder = new TextEncoder();

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1];
}

const scenario = process.argv[2];
const runtime = option("runtime", "deno") as Runtime;
const seconds = Number(option("seconds", "5"));
const rate = Number(option("rate", "4000"));

async function withServer<T>(run: (port: number) => Promise<T>): Promise<T> {
  const server = new Server(runtime);
  await server.started();
  try {
    return await run(server.port);
  } finally {
    await server.stop();
    const cut = server.slowConsumers();
    console.log(`server (${runtime}): ${cut ?? "?"} slow consumers disconnected`);
  }
}

/** Finding 1: deliveries per second to a bystander while a policy-heavy client stops reading. */
async function policies(port: number): Promise<void> {
  const progress = new Progress();
  const attacker = await connect(port);
  let text = "";
  for (let i = 0; i < 9_999; i++) {
    text += JSON.stringify({ action: "subscribe", topic: `x/${i}/+`, policy: "drop-newest" }) +
      "\n";
  }
  text += JSON.stringify({ action: "subscribe", topic: "#", policy: "drop-newest", id: 1 }) + "\n";
  let acknowledged = false;
  attacker.on("data", (chunk: Uint8Array) => {
    if (new TextDecoder().decode(chunk).includes('"id":1')) {
      acknowledged = true;
      attacker.pause(); // and never reads again
    }
    progress.notify();
  });
  await write(attacker, encoder.encode(text));
  await waitFor(() => acknowledged, progress, Date.now() + 30_000);
  const publisher = await connect(port);
  // Fill the attacker's queue and socket buffers with large messages first.
  const big = frame({ action: "publish", topic: "fill", message: "f".repeat(64 * 1024) });
  for (let i = 0; i < 600; i++) await write(publisher, big);
  const bystander = await Subscriber.open(port, ["by/#"], progress);
  const fence = frame({ action: "publish", topic: "by/fence", message: "fence" });
  while (bystander.count === 0) {
    await write(publisher, fence);
    await Promise.race([progress.next(), new Promise((r) => setTimeout(r, 20))]);
  }
  const start = bystander.count;
  const started = Date.now();
  const end = started + seconds * 1000;
  let sent = 0;
  // Two topics in turn: a one-topic cache does not help the server.
  const batch = encoder.encode(
    Array.from(
      { length: 64 },
      (_, i) => JSON.stringify({ action: "publish", topic: `by/${i & 1}`, message: "m" }) + "\n",
    ).join(""),
  );
  while (Date.now() < end) {
    await write(publisher, batch);
    sent += 64;
    // At most 4096 messages ahead of the bystander.
    while (sent - (bystander.count - start) > 4096 && Date.now() < end) {
      await Promise.race([progress.next(), new Promise((r) => setTimeout(r, 20))]);
    }
  }
  const got = bystander.count - start;
  const elapsed = (Date.now() - started) / 1000;
  console.log(
    `policies (${runtime}): bystander got ${got} messages in ${elapsed.toFixed(1)} s: ` +
      `${Math.round(got / elapsed)} msgs/s (published ${sent})`,
  );
  for (const socket of [attacker, publisher, bystander.socket]) socket.destroy();
}

/** Finding 7: a publisher as fast as its socket, ten subscribers as fast as they read. */
async function flood(port: number): Promise<void> {
  const progress = new Progress();
  // Subscribers that parse every line, as a client does: slower than the server writes.
  const parse = (line: string): void => void JSON.parse(line);
  const subscribers = await Promise.all(
    Array.from({ length: 10 }, () => Subscriber.open(port, ["flood"], progress, parse)),
  );
  const publisher = await connect(port);
  const one = frame({ action: "publish", topic: "flood", message: "x".repeat(100) });
  while (subscribers.some((s) => s.count === 0)) {
    await write(publisher, one);
    await Promise.race([progress.next(), new Promise((r) => setTimeout(r, 20))]);
  }
  // The warm-up publishes all arrive before the flood: count them as sent.
  const warmSent = Math.max(...subscribers.map((s) => s.count));
  publisher.destroy();
  // The flood comes from a process of its own, so that it is not slowed by the subscribers' reading.
  const started = Date.now();
  const child = spawn(process.execPath, [
    ...scriptArgs(),
    "flood-publisher",
    "--port",
    String(port),
    "--seconds",
    String(seconds),
  ], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
  await new Promise((resolve) => child.once("exit", resolve));
  const published = Date.now();
  const sent = Number(/sent (\d+)/.exec(output)?.[1] ?? NaN);
  const total = warmSent + sent;
  // Everything published reaches every subscriber still connected, unless it was cut.
  await waitFor(
    () => subscribers.every((s) => s.closed || s.count >= total),
    progress,
    Date.now() + 60_000,
  );
  const elapsed = (Date.now() - started) / 1000;
  const cut = subscribers.filter((s) => s.closed).length;
  const counts = subscribers.map((s) => s.count);
  console.log(
    `flood (${runtime}): published ${total} in ${((published - started) / 1000).toFixed(1)} s ` +
      `(${Math.round(sent / ((published - started) / 1000))} msgs/s); ` +
      `${cut} of 10 subscribers cut; received min ${Math.min(...counts)} max ${
        Math.max(...counts)
      } of ${total}; all delivered after ${elapsed.toFixed(1)} s`,
  );
  for (const socket of subscribers.map((s) => s.socket)) socket.destroy();
}

/** The arguments that run this script again on this runtime. */
function scriptArgs(): string[] {
  const script = new URL(import.meta.url).pathname;
  return process.execPath.includes("deno") ? ["run", "-A", script] : [script];
}

/** The flood's publisher, in its own process: writes as fast as its socket takes bytes. */
async function floodPublisher(): Promise<void> {
  const port = Number(option("port", "0"));
  const publisher = await connect(port);
  const one = frame({ action: "publish", topic: "flood", message: "x".repeat(100) });
  const batchSize = 256;
  const batch = new Uint8Array(one.byteLength * batchSize);
  for (let i = 0; i < batchSize; i++) batch.set(one, i * one.byteLength);
  const end = Date.now() + seconds * 1000;
  let sent = 0;
  while (Date.now() < end) {
    await write(publisher, batch);
    sent += batchSize;
  }
  // Everything written is handed to the socket before it ends.
  await new Promise<void>((resolve) => publisher.end(resolve));
  console.log(`sent ${sent}`);
}

/** Finding 8, in process: a 24 MB backlog read at a steady rate under a 1 s write deadline. */
async function slowReader(): Promise<void> {
  const { startPubSubServer } = await import("../mod.ts");
  const server = await startPubSubServer({
    port: 0,
    limits: { writeDeadlineMs: 1000, maxOutboundBytes: 32 * 1024 * 1024 },
  });
  const socket = net.connect({ host: "127.0.0.1", port: server.addr.port });
  await new Promise((resolve) => socket.once("connect", resolve));
  let received = 0;
  let lines = 0;
  let tail = "";
  let lastLine = "";
  let closed = false;
  const subscribedOk = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Uint8Array) => {
      received += chunk.byteLength;
      const text = tail + new TextDecoder().decode(chunk);
      const parts = text.split("\n");
      tail = parts.pop()!;
      lines += parts.length;
      if (parts.length > 0) lastLine = parts[parts.length - 1];
      if (text.includes('"id":1')) resolve();
      // About `rate` KB/s: pause for as long as this chunk takes at that rate.
      socket.pause();
      setTimeout(() => socket.resume(), chunk.byteLength / rate);
    });
  });
  socket.on("close", () => (closed = true));
  socket.write(JSON.stringify({ action: "subscribe", topic: "backlog", id: 1 }) + "\n");
  await subscribedOk;
  const message = "b".repeat(6000);
  const count = 4000; // ~24 MB, queued at once: one coalesced batch
  for (let i = 0; i < count; i++) server.publish("backlog", `${i}:${message}`);
  const started = Date.now();
  while (!closed && lines < count + 1 && Date.now() - started < 60_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const elapsed = (Date.now() - started) / 1000;
  const cut = server.stats().slowConsumers;
  const notice = lastLine.includes("slow_consumer");
  console.log(
    `slow-reader (${rate} KB/s): got ${lines - 1} of ${count} deliveries (${received} bytes) in ` +
      `${elapsed.toFixed(1)} s; cut: ${cut === 1 ? "yes" : "no"}; last line a slow_consumer ` +
      `frame: ${notice ? "yes" : "no"}${cut === 1 ? ` (${lastLine.slice(0, 120)})` : ""}`,
  );
  socket.destroy();
  await server.close();
}

if (scenario === "policies") await withServer(policies);
else if (scenario === "flood") await withServer(flood);
else if (scenario === "slow-reader") await slowReader();
else if (scenario === "flood-publisher") await floodPublisher();
else {
  console.error("Usage: attack.ts policies|flood|slow-reader [--runtime R] [--seconds N]");
  process.exit(2);
}
