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
import type { Spread } from "./_bench_stats.ts";
import { percentile } from "./_bench_stats.ts";
import { dueCount, stampedMessage, stampOf } from "./_bench_pacing.ts";

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
  /** Server resident memory per subscription, in bytes (the `subscriptions` scenario). */
  rssBPerSub?: number;
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
  /** Each figure's min, median and max over the runs of `--repeat` (more than one run only). */
  spread?: Partial<Record<string, Spread>>;
}

const PAYLOAD = "x".repeat(128);
/**
 * How long, and at what rate, the latency scenarios publish unsampled before
 * they measure: the paced path, several messages per read.
 */
const WARM_LATENCY_SECONDS = 0.2;
const WARM_LATENCY_RATE = 100_000;
/**
 * Messages the latency scenario first sends one at a time, each after the
 * last came back: the same one-message-per-read path as the paced load, at
 * full speed. Node 24 was still compiling that path with its optimising
 * tier after 26,000 paced messages (13 s); see docs/PERFORMANCE.md, finding
 * 17. With 0.2 s of paced messages at 100,000/s after them, 40,000
 * messages go through before the first measured one.
 */
const WARM_LATENCY_ROUND_TRIPS = 20_000;
/** Idle connections opened before the `connections` scenario's baseline. */
const WARM_CONNECTIONS = 100;

/** Scenario options. */
export interface Options {
  quick: boolean;
  /** Run each load once unmeasured first, so the window measures compiled code. */
  warm: boolean;
  /** Serve monitoring and poll `/varz` once a second during the run. */
  monitor?: boolean;
  /** This process's open-file limit (its soft limit, raised to the hard one), if known. */
  fdLimit?: number;
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

/** Messages the cold-start scenarios measure: the first this many after the server started. */
const COLD_MESSAGES = 100_000;

/**
 * One publisher, `subscribers` on one topic. Warm (unless `--cold`): the
 * load runs once unmeasured first; `cold`: the first `COLD_MESSAGES`
 * messages after the server started are the measured window (the cold
 * scenarios, whatever `--cold` says).
 */
async function fanOut(
  server: Server,
  subscribers: number,
  options: Options,
  over: "tcp" | "ws" | "wspub" = "tcp",
  cold = false,
): Promise<Partial<Result>> {
  const messages = Math.round(
    (options.quick ? 0.2 : 1) *
      (cold ? COLD_MESSAGES : subscribers >= 100 ? 20_000 : subscribers >= 10 ? 100_000 : 300_000),
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
  if (options.warm && !cold) await run();
  const result = await run();
  for (const s of subs) s.socket.destroy();
  publisher.destroy();
  if (cold) {
    result.note = `the first ${messages.toLocaleString("en-US")} messages after the start`;
  }
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

/**
 * The rates the latency scenarios publish at, in messages per second, lowest
 * first, and for how long (`--quick`: a quarter): 3,000, 20,000 and 50,000
 * samples, so that p99 is never the few worst of a handful.
 */
export const LATENCY_RATES: readonly { rate: number; seconds: number }[] = [
  { rate: 2_000, seconds: 1.5 },
  { rate: 20_000, seconds: 1 },
  { rate: 100_000, seconds: 0.5 },
];

/** The row name of a latency figure: `latency10@20k` (fan-out 10, 20,000 msgs/s). */
export function latencyRow(fanout: number, rate: number): string {
  return `latency${fanout}@${rate >= 1000 ? `${rate / 1000}k` : rate}`;
}

/**
 * Latency under load: one publisher and `fanout` subscribers on one topic;
 * after a warm-up, the publisher publishes at each of `LATENCY_RATES` in
 * turn (on one server), each message carrying its send time, and the
 * subscriber that subscribed last (the last the server's fan-out reaches,
 * where that follows subscription order) reads it back. One row per rate:
 * p50/p99/max and the rate achieved.
 *
 * Pacing: every timer tick (about 1 ms) sends, in one write, every message
 * due by then at the rate, all stamped with the time of that write; a late
 * tick makes a bigger batch, so the rate holds.
 */
async function latency(
  server: Server,
  fanout: number,
  options: Options,
): Promise<Partial<Result>[]> {
  const samples: number[] = [];
  const progress = new Progress();
  const { dialect } = server;
  const others = await Promise.all(
    Array.from({ length: fanout - 1 }, () => Subscriber.open(server, ["latency"], progress)),
  );
  const sampler = await Subscriber.open(server, ["latency"], progress, (delivery) => {
    const stamp = stampOf(delivery);
    if (stamp !== undefined) samples.push(performance.now() - stamp);
  });
  const subs = [...others, sampler];
  const publisher = await Publisher.open(server);
  await warmUp(publisher, "latency", subs, progress);
  const delivered = (): number => subs.reduce((n, s) => n + s.count, 0);
  /** Publishes `rate × seconds` messages tagged `tag`; the rate achieved. */
  const paced = async (rate: number, seconds: number, tag: string): Promise<number> => {
    const total = Math.round(rate * seconds);
    const t0 = performance.now();
    let sent = 0;
    let last = t0;
    while (sent < total) {
      const due = dueCount(performance.now() - t0, rate, total);
      if (due > sent) {
        last = performance.now();
        const one = dialect.publish("latency", stampedMessage(tag, last));
        await write(publisher, encoder.encode(one.repeat(due - sent)));
        sent = due;
      }
      if (sent < total) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return sent / Math.max(1e-3, (last - t0) / 1000);
  };
  if (options.warm) {
    const bytes = publishBytes(dialect, "latency", "w=" + PAYLOAD);
    const trips = options.quick ? WARM_LATENCY_ROUND_TRIPS / 10 : WARM_LATENCY_ROUND_TRIPS;
    for (let i = 0; i < trips; i++) {
      const count = sampler.count;
      await write(publisher, bytes);
      while (sampler.count === count && !sampler.closed) await progress.next();
      if (sampler.closed) {
        throw new Error("The latency subscriber was disconnected during the warm-up");
      }
    }
    const base = delivered();
    const sent = Math.round(WARM_LATENCY_RATE * WARM_LATENCY_SECONDS);
    await paced(WARM_LATENCY_RATE, WARM_LATENCY_SECONDS, "w");
    await waitFor(() => delivered() - base >= sent * fanout, progress, Date.now() + 30_000);
  }
  const rows: Partial<Result>[] = [];
  for (const { rate, seconds: full } of LATENCY_RATES) {
    const seconds = options.quick ? full / 4 : full;
    samples.length = 0;
    const total = Math.round(rate * seconds);
    const base = delivered();
    const achieved = await paced(rate, seconds, "t");
    await waitFor(() => samples.length >= total, progress, Date.now() + 30_000);
    // The other subscribers' deliveries too, so that the next rate starts on an idle server.
    await waitFor(() => delivered() - base >= total * fanout, progress, Date.now() + 10_000);
    samples.sort((a, b) => a - b);
    rows.push({
      scenario: latencyRow(fanout, rate),
      p50Us: percentile(samples, 0.5) * 1000,
      p99Us: percentile(samples, 0.99) * 1000,
      maxUs: percentile(samples, 1) * 1000,
      lost: total - samples.length,
      publishedPerSec: achieved,
      note: `target ${rate.toLocaleString("en-US")} msgs/s for ${seconds} s`,
    });
  }
  for (const s of subs) s.socket.destroy();
  publisher.destroy();
  return rows;
}

/**
 * Connections opened at once (each batch awaited before the next) by the
 * scale scenarios: under the 511 a Node server listens with (its default
 * backlog). In batches of 100 the load generator's round trips were most of
 * the connect time (NATS: 5.7 s for 10,000, against 1.0 s in batches of 500).
 */
const CONNECT_BATCH = 500;

/** Idle subscribers, each on its own topic, each proven subscribed by one message. */
async function openIdle(
  server: Server,
  count: number,
  prefix: string,
  progress: Progress,
): Promise<{ subs: Subscriber[]; ok: boolean }> {
  const subs: Subscriber[] = [];
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    subs.push(
      ...await Promise.all(
        Array.from(
          { length: Math.min(CONNECT_BATCH, count - i) },
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

/** Idle connections of the `connections` scenario (`--quick`: a tenth). */
const IDLE_CONNECTIONS = 10_000;
/** Connections of the `subscriptions` scenario (`--quick`: a tenth), and subscriptions on each. */
const SUBSCRIBING_CONNECTIONS = 1_000;
const SUBSCRIPTIONS_EACH = 100;
/** File descriptors this process keeps for itself beyond its connections. */
const SPARE_FDS = 200;

/**
 * How many connections this process can open: `wanted`, or fewer when its
 * open-file limit (raised to the hard limit by `bench.ts`) is too low, with
 * the note that says so.
 */
function withinFdLimit(wanted: number, options: Options): { count: number; note: string } {
  const limit = options.fdLimit ?? Infinity;
  if (wanted + SPARE_FDS <= limit) return { count: wanted, note: "" };
  const count = Math.max(0, limit - SPARE_FDS);
  return {
    count,
    note: `only ${count} of ${wanted} connections: the open-file limit is ${limit} ` +
      `(\`ulimit -Hn\`; raise the hard limit to ${wanted + SPARE_FDS} or more)`,
  };
}

async function connections(server: Server, options: Options): Promise<Partial<Result>> {
  const fit = withinFdLimit(
    (options.quick ? IDLE_CONNECTIONS / 10 : IDLE_CONNECTIONS) + WARM_CONNECTIONS,
    options,
  );
  const count = fit.count - WARM_CONNECTIONS;
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
    note: [
      `${count.toLocaleString("en-US")} connections, one subscription each` +
      (warm === null ? "" : `, after ${WARM_CONNECTIONS} unmeasured`),
      fit.note,
    ].filter(Boolean).join("; "),
  };
}

/**
 * Many subscriptions: `SUBSCRIBING_CONNECTIONS` connections each subscribed
 * to one topic (proven by a message each), then `SUBSCRIPTIONS_EACH - 1`
 * more topics each; a message on each connection's last topic proves them
 * all (a connection's subscriptions take effect in order). The figures:
 * the time from the first of the new subscriptions to the last proof, and
 * the server's resident memory per new subscription, in bytes.
 */
async function subscriptions(server: Server, options: Options): Promise<Partial<Result>> {
  const fit = withinFdLimit(
    options.quick ? SUBSCRIBING_CONNECTIONS / 10 : SUBSCRIBING_CONNECTIONS,
    options,
  );
  const count = fit.count;
  const progress = new Progress();
  const { subs, ok: connected } = await openIdle(server, count, "s", progress);
  if (!connected) throw new Error("Not every connection of the subscriptions scenario subscribed");
  const { dialect } = server;
  const topic = (i: number, j: number): string => j === 0 ? `s/${i}` : `s/${i}/${j}`;
  await new Promise((resolve) => setTimeout(resolve, 200));
  const rss0 = server.memKiB("VmRSS");
  const t0 = performance.now();
  for (const [i, sub] of subs.entries()) {
    let text = "";
    for (let j = 1; j < SUBSCRIPTIONS_EACH; j++) text += dialect.subscribe(topic(i, j), j + 1);
    await write(sub.socket, encoder.encode(text));
  }
  const publisher = await Publisher.open(server);
  const last = SUBSCRIPTIONS_EACH - 1;
  const deadline = Date.now() + 60_000;
  let ok = false;
  while (!ok && Date.now() < deadline) {
    for (const [i, sub] of subs.entries()) {
      if (sub.count < 2) await write(publisher, publishBytes(dialect, topic(i, last), "hello"));
    }
    ok = await waitFor(() => subs.every((s) => s.count >= 2), progress, Date.now() + 200);
  }
  const subscribeMs = performance.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const rss = server.memKiB("VmRSS");
  publisher.destroy();
  for (const s of subs) s.socket.destroy();
  const added = count * (SUBSCRIPTIONS_EACH - 1);
  return {
    connectMs: subscribeMs,
    rssBPerSub: ((rss - rss0) * 1024) / added,
    lost: ok ? 0 : subs.filter((s) => s.count < 2).length,
    note: [
      `${added.toLocaleString("en-US")} subscriptions added on ${count} connections ` +
      `(${SUBSCRIPTIONS_EACH} each); connect ms: subscribing them`,
      fit.note,
    ].filter(Boolean).join("; "),
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
  (server: Server, options: Options) => Promise<Partial<Result> | Partial<Result>[]>
> = {
  fanout1: (s, o) => fanOut(s, 1, o),
  fanout10: (s, o) => fanOut(s, 10, o),
  fanout100: (s, o) => fanOut(s, 100, o),
  wsfanout1: (s, o) => fanOut(s, 1, o, "ws"),
  wsfanout10: (s, o) => fanOut(s, 10, o, "ws"),
  wsfanout100: (s, o) => fanOut(s, 100, o, "ws"),
  wspub10: (s, o) => fanOut(s, 10, o, "wspub"),
  fanin: fanIn,
  cold1: (s, o) => fanOut(s, 1, o, "tcp", true),
  cold10: (s, o) => fanOut(s, 10, o, "tcp", true),
  topics: manyTopics,
  latency1: (s, o) => latency(s, 1, o),
  latency10: (s, o) => latency(s, 10, o),
  connections,
  subscriptions,
  slow: slowConsumer,
};
