/**
 * The cross-node benchmark's scenarios (`bench_cluster.ts`): three nodes of
 * one cluster on one `redis-server`, started with the CLI (`serve --redis`),
 * a publisher on node A and subscribers on nodes B and C, driven by the
 * benchmark's load generator (`_bench_load.ts`); beside them, raw ioredis
 * publish→subscribe through the same Redis (the baseline), and the same
 * paced latency load against one node alone. Redis's CPU time is read from
 * `/proc` (`_bench_server.ts`).
 *
 * @module
 */

import { Redis } from "ioredis";
import {
  Progress,
  Publisher,
  publishPaced,
  Subscriber,
  waitFor,
  warmUp,
  write,
} from "./_bench_load.ts";
import { freePort } from "./_bench_peers.ts";
import { type Runtime, Server } from "./_bench_server.ts";
import type { Endpoint } from "./_bench_load.ts";

const encoder = new TextEncoder();

/** 128 bytes, the message of every scenario. */
const PAYLOAD = "x".repeat(128);

/** One row of the report. */
export interface ClusterResult {
  scenario: string;
  /** The nodes' runtime (all three nodes run on it; the ioredis baseline ran beside them). */
  runtime: Runtime;
  /** Publishes per second through the cluster (or PUBLISH per second, raw). */
  publishedPerSec?: number;
  deliveredPerSec?: number;
  /** Deliveries that never came (checked in every scenario). */
  lost?: number;
  /** redis-server's CPU time per publish, in µs. */
  redisUsPerMsg?: number;
  /** The three nodes' CPU time per publish, in µs. */
  nodesUsPerMsg?: number;
  /** The same, node by node: A (the publisher's), B, C. */
  nodeUsPerMsg?: number[];
  p50Us?: number;
  p99Us?: number;
  maxUs?: number;
  note?: string;
}

/** Scenario options. */
export interface ClusterOptions {
  quick: boolean;
}

/** A redis-server and three nodes of one cluster on it. */
export class Cluster {
  readonly redis: Server;
  readonly nodes: Server[];

  private constructor(redis: Server, nodes: Server[]) {
    this.redis = redis;
    this.nodes = nodes;
  }

  /** Starts Redis (free port, persistence off), then three nodes on `runtime`. */
  static async start(runtime: Runtime): Promise<Cluster> {
    const port = await freePort();
    const redis = new Server("redis", { port });
    await redis.started();
    const nodes: Server[] = [];
    const cluster = new Cluster(redis, nodes);
    try {
      for (let i = 0; i < 3; i++) {
        const node = new Server(runtime, {
          serveArgs: ["--redis", `redis://127.0.0.1:${port}`, "--cluster-name", "bench"],
        });
        nodes.push(node);
        await node.started();
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The Redis URL. */
  get url(): string {
    return `redis://127.0.0.1:${this.redis.port}`;
  }

  /** Each node's CPU time, in µs. */
  nodesCpuUs(): number[] {
    return this.nodes.map((node) => node.cpuUs());
  }

  /** Stops the nodes, then Redis. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    await this.redis.stop();
  }
}

/** CPU time of Redis and the nodes, and the clock, from now on. */
function window(cluster: Cluster): (published: number) => Partial<ClusterResult> {
  const redis0 = cluster.redis.cpuUs();
  const nodes0 = cluster.nodesCpuUs();
  const t0 = performance.now();
  return (published) => {
    const seconds = (performance.now() - t0) / 1000;
    const nodes = cluster.nodesCpuUs().map((us, i) => (us - nodes0[i]) / published);
    return {
      publishedPerSec: published / seconds,
      redisUsPerMsg: (cluster.redis.cpuUs() - redis0) / published,
      nodesUsPerMsg: nodes.reduce((a, b) => a + b, 0),
      nodeUsPerMsg: nodes,
    };
  };
}

/**
 * One publisher on node A sends `messages` publishes of 128 bytes to
 * `bench` as fast as `count` subscribers take them, the subscribers split
 * between B and C (one: on B), each subscribed to `topics(i)`; first once
 * unmeasured.
 */
async function publishAcross(
  cluster: Cluster,
  count: number,
  topics: (i: number) => string[],
  messages: number,
): Promise<Partial<ClusterResult>> {
  const progress = new Progress();
  const [a, b, c] = cluster.nodes;
  const subs = await Promise.all(
    Array.from({ length: count }, (_, i) => Subscriber.open([b, c][i % 2], topics(i), progress)),
  );
  const publisher = await Publisher.open(a);
  try {
    await warmUp(publisher, "bench", subs, progress);
    const frame = publisher.dialect.publish("bench", PAYLOAD);
    const deadline = Date.now() + 60_000;
    const run = async (): Promise<Partial<ClusterResult>> => {
      const base = subs.map((s) => s.count);
      const delivered = (): number => subs.reduce((n, s, i) => n + s.count - base[i], 0);
      const finish = window(cluster);
      const t0 = performance.now();
      const sent = await publishPaced(publisher, messages, () => frame, {
        delivered,
        perMessage: subs.length,
        window: Math.max(2000, 20_000 / subs.length),
        stop: () => Date.now() > deadline,
      }, progress);
      await waitFor(() => delivered() >= sent * subs.length, progress, deadline);
      const got = delivered();
      return {
        ...finish(sent),
        deliveredPerSec: got / ((performance.now() - t0) / 1000),
        lost: sent * subs.length - got,
      };
    };
    await run();
    return await run();
  } finally {
    publisher.destroy();
    for (const s of subs) s.socket.destroy();
  }
}

/** Fan-out 1, 10 or 100 across nodes: publisher on A, subscribers on B and C. */
export function crossFanOut(
  cluster: Cluster,
  subscribers: number,
  options: ClusterOptions,
): Promise<Partial<ClusterResult>> {
  const messages = Math.round(
    (options.quick ? 0.2 : 1) *
      (subscribers >= 100 ? 20_000 : subscribers >= 10 ? 50_000 : 150_000),
  );
  return publishAcross(cluster, subscribers, () => ["bench"], messages);
}

/**
 * Redis's CPU per publish with `patterns` client subscriptions on B and C:
 * 1 (`bench` on B), or that many split over one connection on B and one on
 * C, each ending with `bench` (so its first delivery proves the others are
 * in place), the rest `other/<i>/+`, which match nothing published.
 */
export async function clientPatterns(
  cluster: Cluster,
  patterns: number,
  options: ClusterOptions,
): Promise<Partial<ClusterResult>> {
  const connections = patterns === 1 ? 1 : 2;
  const each = patterns / connections;
  const result = await publishAcross(cluster, connections, (i) => [
    ...Array.from({ length: each - 1 }, (_, j) => `other/${i * each + j}/+`),
    "bench",
  ], options.quick ? 50_000 : 150_000);
  return { ...result, note: `${patterns} client pattern(s) on ${connections} connection(s)` };
}

/**
 * The baseline: one ioredis publisher and `receivers` ioredis subscriber
 * connections on one channel, 128-byte messages, the publisher at most
 * `window` messages ahead of the slowest share of deliveries, as the
 * cluster's publisher is.
 */
export async function rawRedis(
  cluster: Cluster,
  receivers: number,
  options: ClusterOptions,
): Promise<Partial<ClusterResult>> {
  const messages = options.quick ? 30_000 : 150_000;
  const progress = new Progress();
  const publisher = new Redis(cluster.url, { lazyConnect: true });
  const subscribers = Array.from(
    { length: receivers },
    () => new Redis(cluster.url, { lazyConnect: true }),
  );
  let delivered = 0;
  try {
    await publisher.connect();
    for (const subscriber of subscribers) {
      await subscriber.connect();
      subscriber.on("messageBuffer", () => {
        delivered++;
        progress.notify();
      });
      await subscriber.subscribe("raw");
    }
    const deadline = Date.now() + 60_000;
    const run = async (count: number): Promise<Partial<ClusterResult>> => {
      const base = delivered;
      const got = (): number => delivered - base;
      const finish = window(cluster);
      const t0 = performance.now();
      let sent = 0;
      let last: Promise<number> = Promise.resolve(0);
      while (sent < count && Date.now() < deadline) {
        for (let i = 0; i < 128 && sent < count; i++, sent++) {
          last = publisher.publish("raw", PAYLOAD);
        }
        while ((sent * receivers - got()) > 2000 * receivers && Date.now() < deadline) {
          await Promise.race([progress.next(), new Promise((r) => setTimeout(r, 20))]);
        }
      }
      await last;
      await waitFor(() => got() >= sent * receivers, progress, deadline);
      const seconds = (performance.now() - t0) / 1000;
      const result = {
        ...finish(sent),
        deliveredPerSec: got() / seconds,
        lost: sent * receivers - got(),
      };
      // The nodes were idle: their CPU is not the baseline's.
      delete result.nodesUsPerMsg;
      delete result.nodeUsPerMsg;
      return result;
    };
    await run(messages / 5);
    return { ...await run(messages), note: `${receivers} subscriber connection(s)` };
  } finally {
    publisher.disconnect();
    for (const subscriber of subscribers) subscriber.disconnect();
  }
}

/**
 * Latency at `rate` publishes per second, paced: a publisher on `from`, a
 * subscriber on `to` (the same server for one node alone), each message
 * stamped with the time it was sent; a warm-up of 2 s (0.5 s quick) is not
 * sampled.
 */
export async function pacedLatency(
  from: Endpoint,
  to: Endpoint,
  rate: number,
  options: ClusterOptions,
): Promise<Partial<ClusterResult>> {
  const seconds = options.quick ? 2 : 5;
  const samples: number[] = [];
  const progress = new Progress();
  const sub = await Subscriber.open(to, ["latency"], progress, (delivery) => {
    const message = to.dialect.message(delivery);
    if (message?.startsWith("t=")) {
      samples.push(performance.now() - Number(message.slice(2, message.indexOf("|"))));
    }
  });
  const publisher = await Publisher.open(from);
  try {
    await warmUp(publisher, "latency", [sub], progress);
    const paced = async (count: number, tag: string): Promise<void> => {
      const t0 = performance.now();
      let sent = 0;
      while (sent < count) {
        const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate));
        while (sent < due) {
          const stamp = `${tag}=${performance.now()}|`;
          const message = stamp + "x".repeat(Math.max(0, 128 - stamp.length));
          await write(publisher, encoder.encode(from.dialect.publish("latency", message)));
          sent++;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    await paced(rate * (options.quick ? 0.5 : 2), "w");
    const total = rate * seconds;
    await paced(total, "t");
    await waitFor(() => samples.length >= total, progress, Date.now() + 10_000);
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
  } finally {
    sub.socket.destroy();
    publisher.destroy();
  }
}
