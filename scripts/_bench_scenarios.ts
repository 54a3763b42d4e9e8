/**
 * The benchmark's scenarios. Each drives a fresh server over loopback from
 * this process and returns its figures.
 *
 * @module
 */

import type { Dialect } from "./_bench_protocols.ts";
import {
  Progress,
  Publisher,
  publishPaced,
  Subscriber,
  waitFor,
  warmUp,
  write,
  WsPublisher,
  WsSubscriber,
} from "./_bench_load.ts";
import type { Runtime, Server } from "./_bench_server.ts";
import type { Peer } from "./_bench_peers.ts";

const encoder = new TextEncoder();

/** One row of the report. */
export interface Result {
  scenario: string;
  /** What served: this package on a runtime, or a peer. */
  runtime: Runtime | Peer;
  deliveredPerSec?: number;
  publishedPerSec?: number;
  lost?: number;
  cpuUsPerDelivery?: number;
  p50Us?: number;
  p99Us?: number;
  maxUs?: number;
  connectMs?: number;
  rssKiBPerConn?: number;
  peakRssMiB?: number;
  /** The kernel's share of the server's CPU time over the whole run. */
  systemShare?: number;
  /**
   * The fixed loop's time, the slower of before and after the run: on the
   * server's CPU when it was pinned, else on the slowest CPU.
   */
  loopMs?: number;
  /** Whether the loop showed the machine slowed during this run (judged when it ended). */
  slowed?: boolean;
  note?: string;
}

const PAYLOAD = "x".repeat(128);
/** How long the latency scenario publishes, unsampled, before it measures. */
const WARM_LATENCY_SECONDS = 2;
/**
 * Messages the latency scenario first sends one at a time, each after the
 * last came back: the same one-message-per-read path as the paced load, at
 * full speed. Node 24 was still compiling that path with its optimising
 * tier after 26,000 paced messages (13 s); see docs/PERFORMANCE.md, finding 17.
 */
const WARM_LATENCY_ROUND_TRIPS = 40_000;
/** Idle connections opened before the `connections` scenario's baseline. */
const WARM_CONNECTIONS = 100;

/** Scenario options. */
export interface Options {
  quick: boolean;
  /** Run each load once unmeasured first, so the window measures compiled code. */
  warm: boolean;
  /** Serve monitoring and poll `/varz` once a second during the run. */
  monitor?: boolean;
}

function publishFrame(dialect: Dialect, topic: string): (i: number) => string {
  const text = dialect.publish(topic, PAYLOAD);
  return () => text;
}

function publishBytes(dialect: Dialect, topic: string, message: string): Uint8Array {
  return encoder.encode(dialect.publish(topic, message));
}

/**
 * Starts a measured window (server CPU and the clock); the function it
 * returns waits until `expected` deliveries arrived (or the deadline
 * passed) and computes the window's figures.
 */
function measure(server: Server): (
  sent: number,
  expected: number,
  delivered: () => number,
  progress: Progress,
  deadline: number,
) => Promise<Partial<Result>> {
  const cpu0 = server.cpuUs();
  const t0 = performance.now();
  return async (sent, expected, delivered, progress, deadline) => {
    await waitFor(() => delivered() >= expected, progress, deadline);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = server.cpuUs() - cpu0;
    const got = delivered();
    return {
      deliveredPerSec: got / seconds,
      publishedPerSec: sent / seconds,
      lost: expected - got,
      cpuUsPerDelivery: cpu / got,
    };
  };
}

async function fanOut(
  server: Server,
  subscribers: number,
  options: Options,
  over: "tcp" | "ws" | "wspub" = "tcp",
): Promise<Partial<Result>> {
  const messages = Math.round(
    (options.quick ? 0.2 : 1) *
      (subscribers >= 100 ? 20_000 : subscribers >= 10 ? 100_000 : 300_000),
  );
  const progress = new Progress();
  const subs = await Promise.all(
    Array.from(
      { length: subscribers },
      () =>
        over === "ws"
          ? WsSubscriber.open(server.webSocketUrl, ["bench"], progress)
          : Subscriber.open(server, ["bench"], progress),
    ),
  );
  const publisher = over === "wspub"
    ? await WsPublisher.open(server.webSocketUrl)
    : await Publisher.open(server);
  await warmUp(publisher, "bench", subs, progress);
  const deadline = Date.now() + 60_000;
  const run = async (): Promise<Partial<Result>> => {
    const base = subs.map((s) => s.count);
    const delivered = (): number => subs.reduce((n, s, i) => n + s.count - base[i], 0);
    const finish = measure(server);
    const sent = await publishPaced(publisher, messages, publishFrame(server.dialect, "bench"), {
      delivered,
      perMessage: subscribers,
      window: Math.max(2000, 20_000 / subscribers),
      stop: () => Date.now() > deadline,
    }, progress);
    return await finish(sent, sent * subscribers, delivered, progress, deadline);
  };
  if (options.warm) await run();
  const result = await run();
  for (const s of subs) s.socket.destroy();
  publisher.destroy();
  return result;
}

async function fanIn(server: Server, options: Options): Promise<Partial<Result>> {
  const publishers = 10;
  const perPublisher = options.quick ? 6_000 : 30_000;
  const progress = new Progress();
  const sub = await Subscriber.open(server, ["bench"], progress);
  const pubs = await Promise.all(Array.from({ length: publishers }, () => Publisher.open(server)));
  await warmUp(pubs[0], "bench", [sub], progress);
  const deadline = Date.now() + 60_000;
  const run = async (): Promise<Partial<Result>> => {
    const base = sub.count;
    const delivered = (): number => sub.count - base;
    const finish = measure(server);
    const sent = await Promise.all(
      pubs.map((p) =>
        publishPaced(p, perPublisher, publishFrame(server.dialect, "bench"), {
          // Each publisher paces against its share of the deliveries.
          delivered: () => delivered() / publishers,
          perMessage: 1,
          window: 2_000,
          stop: () => Date.now() > deadline,
        }, progress)
      ),
    );
    const total = sent.reduce((a, b) => a + b, 0);
    return await finish(total, total, delivered, progress, deadline);
  };
  if (options.warm) await run();
  const result = await run();
  sub.socket.destroy();
  for (const p of pubs) p.destroy();
  return result;
}

async function manyTopics(server: Server, options: Options): Promise<Partial<Result>> {
  const topics = 1000;
  const messages = options.quick ? 40_000 : 200_000;
  const progress = new Progress();
  const subs: Subscriber[] = [];
  for (let i = 0; i < topics; i += 100) {
    subs.push(
      ...await Promise.all(
        Array.from(
          { length: 100 },
          (_, j) => Subscriber.open(server, [`t/${i + j}`], progress),
        ),
      ),
    );
  }
  const publisher = await Publisher.open(server);
  // Warm up every topic once, so every subscription is known to be active.
  for (let i = 0; i < topics; i++) {
    await write(publisher, publishBytes(server.dialect, `t/${i}`, "warm-up"));
  }
  await waitFor(() => subs.every((s) => s.count >= 1), progress, Date.now() + 30_000);
  const prefixes = Array.from(
    { length: topics },
    (_, i) => server.dialect.publish(`t/${i}`, PAYLOAD),
  );
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % topics;
  };
  const deadline = Date.now() + 60_000;
  const run = async (): Promise<Partial<Result>> => {
    const base = subs.reduce((n, s) => n + s.count, 0);
    const delivered = (): number => subs.reduce((n, s) => n + s.count, 0) - base;
    const finish = measure(server);
    const sent = await publishPaced(publisher, messages, () => prefixes[random()], {
      delivered,
      perMessage: 1,
      window: 20_000,
      stop: () => Date.now() > deadline,
    }, progress);
    return await finish(sent, sent, delivered, progress, deadline);
  };
  if (options.warm) await run();
  const result = await run();
  for (const s of subs) s.socket.destroy();
  publisher.destroy();
  return result;
}

async function latency(server: Server, options: Options): Promise<Partial<Result>> {
  const rate = 2000;
  const seconds = options.quick ? 2 : 5;
  const samples: number[] = [];
  const progress = new Progress();
  const { dialect } = server;
  const sub = await Subscriber.open(server, ["latency"], progress, (delivery) => {
    const message = dialect.message(delivery);
    if (message?.startsWith("t=")) {
      samples.push(performance.now() - Number(message.slice(2, message.indexOf("|"))));
    }
  });
  const publisher = await Publisher.open(server);
  await warmUp(publisher, "latency", [sub], progress);
  // Warm-up messages ("w=") are not sampled.
  const paced = async (count: number, tag: string): Promise<void> => {
    const t0 = performance.now();
    let sent = 0;
    while (sent < count) {
      const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due) {
        const stamp = `${tag}=${performance.now()}|`;
        const message = stamp + "x".repeat(Math.max(0, 128 - stamp.length));
        await write(publisher, publishBytes(dialect, "latency", message));
        sent++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  if (options.warm) {
    const bytes = publishBytes(dialect, "latency", "w=" + PAYLOAD);
    const trips = options.quick ? WARM_LATENCY_ROUND_TRIPS / 10 : WARM_LATENCY_ROUND_TRIPS;
    for (let i = 0; i < trips; i++) {
      const count = sub.count;
      await write(publisher, bytes);
      while (sub.count === count && !sub.closed) await progress.next();
      if (sub.closed) throw new Error("The latency subscriber was disconnected during the warm-up");
    }
    await paced(rate * WARM_LATENCY_SECONDS, "w");
  }
  const total = rate * seconds;
  await paced(total, "t");
  await waitFor(() => samples.length >= total, progress, Date.now() + 10_000);
  sub.socket.destroy();
  publisher.destroy();
  samples.sort((a, b) => a - b);
  const at = (q: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] * 1000;
  return {
    p50Us: at(0.5),
    p99Us: at(0.99),
    maxUs: samples[samples.length - 1] * 1000,
    lost: total - samples.length,
    publishedPerSec: rate,
  };
}

/** Idle subscribers, each on its own topic, each proven subscribed by one message. */
async function openIdle(
  server: Server,
  count: number,
  prefix: string,
  progress: Progress,
): Promise<{ subs: Subscriber[]; ok: boolean }> {
  const subs: Subscriber[] = [];
  for (let i = 0; i < count; i += 100) {
    subs.push(
      ...await Promise.all(
        Array.from(
          { length: Math.min(100, count - i) },
          (_, j) => Subscriber.open(server, [`${prefix}/${i + j}`], progress),
        ),
      ),
    );
  }
  // A message on each topic proves its subscription is in place; a publish
  // that overtook its subscribe is sent again.
  const publisher = await Publisher.open(server);
  const deadline = Date.now() + 60_000;
  let ok = false;
  while (!ok && Date.now() < deadline) {
    for (let i = 0; i < count; i++) {
      if (subs[i].count > 0) continue;
      await write(
        publisher,
        publishBytes(server.dialect, `${prefix}/${i}`, "hello"),
      );
    }
    ok = await waitFor(() => subs.every((s) => s.count >= 1), progress, Date.now() + 200);
  }
  publisher.destroy();
  return { subs, ok };
}

async function connections(server: Server, options: Options): Promise<Partial<Result>> {
  const count = options.quick ? 500 : 2000;
  const progress = new Progress();
  // The first connections page in the runtime's own code for accepting,
  // subscribing and delivering (megabytes of the Deno, Bun and Node 24
  // binaries) and compile it: a cost paid once, not per connection. They stay
  // open, so none of their memory is reused by the measured ones.
  const warm = options.warm ? await openIdle(server, WARM_CONNECTIONS, "warm", progress) : null;
  const rss0 = server.memKiB("VmRSS");
  const t0 = performance.now();
  const { subs, ok } = await openIdle(server, count, "idle", progress);
  const connectMs = performance.now() - t0;
  // Let the server settle, then read its resident memory.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const rss = server.memKiB("VmRSS");
  for (const s of [...subs, ...warm?.subs ?? []]) s.socket.destroy();
  return {
    connectMs,
    rssKiBPerConn: (rss - rss0) / count,
    lost: ok ? 0 : subs.filter((s) => s.count === 0).length,
    note: `${count} connections` + (warm === null ? "" : ` after ${WARM_CONNECTIONS} unmeasured`),
  };
}

async function slowConsumer(server: Server, options: Options): Promise<Partial<Result>> {
  const healthyCount = 9;
  const messages = options.quick ? 40_000 : 150_000;
  const progress = new Progress();
  const healthy = await Promise.all(
    Array.from({ length: healthyCount }, () => Subscriber.open(server, ["bench"], progress)),
  );
  const stalled = await Subscriber.open(server, ["bench"], progress);
  const publisher = await Publisher.open(server);
  await warmUp(publisher, "bench", [...healthy, stalled], progress);
  stalled.socket.pause(); // never reads again
  const base = healthy.map((s) => s.count);
  const delivered = (): number => healthy.reduce((n, s, i) => n + s.count - base[i], 0);
  const deadline = Date.now() + 60_000;
  const t0 = performance.now();
  const sent = await publishPaced(publisher, messages, publishFrame(server.dialect, "bench"), {
    delivered,
    perMessage: healthyCount,
    window: 2000,
    stop: () => Date.now() > deadline,
  }, progress);
  await waitFor(() => delivered() >= sent * healthyCount, progress, deadline);
  const seconds = (performance.now() - t0) / 1000;
  const got = delivered();
  const peak = server.memKiB("VmHWM");
  for (const s of healthy) s.socket.destroy();
  stalled.socket.destroy();
  publisher.destroy();
  return {
    deliveredPerSec: got / seconds,
    publishedPerSec: sent / seconds,
    lost: sent * healthyCount - got,
    peakRssMiB: peak / 1024,
    note: "the stalled subscriber's deliveries are not counted",
  };
}

/** Every scenario, by the name `--scenarios` takes. */
export const SCENARIOS: Record<
  string,
  (server: Server, options: Options) => Promise<Partial<Result>>
> = {
  fanout1: (s, o) => fanOut(s, 1, o),
  fanout10: (s, o) => fanOut(s, 10, o),
  fanout100: (s, o) => fanOut(s, 100, o),
  wsfanout1: (s, o) => fanOut(s, 1, o, "ws"),
  wsfanout10: (s, o) => fanOut(s, 10, o, "ws"),
  wsfanout100: (s, o) => fanOut(s, 100, o, "ws"),
  wspub10: (s, o) => fanOut(s, 10, o, "wspub"),
  fanin: fanIn,
  topics: manyTopics,
  latency,
  connections,
  slow: slowConsumer,
};
