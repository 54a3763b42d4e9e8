/**
 * One cluster under load, across three runtimes: `serve --redis` on Deno,
 * Bun and Node (the npm build), two publishers on different nodes sending
 * 100k messages each, subscribers with overlapping wildcards on every node.
 * Each subscriber checks, as messages arrive, that it gets every message it
 * matches once, in each publisher's order. Runs with `KN_SOCK_MATRIX=1`
 * (the Deno step of `npm test` sets it), like `cluster_cli.test.ts`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import { ConnectionClosedError, PubSubClient } from "../mod.ts";
import { RUNTIMES, startCliServer } from "./cli_processes.ts";
import type { Child } from "./child_process.ts";
import { settle } from "./cluster_helpers.ts";
import { REDIS_SKIP, RedisServer } from "./redis_server.ts";

const matrix = process.env.KN_SOCK_MATRIX === "1";
const PER_PUBLISHER = 100_000;
const BATCH = 1_000;

/** What one subscriber connection got from each publisher, checked as it arrives. */
class Tally {
  readonly name: string;
  /** The last `n` from each publisher. */
  readonly last = new Map<string, number>();
  /** Messages from each publisher. */
  readonly count = new Map<string, number>();
  /** Messages that came again or out of order, and messages skipped (lost). */
  repeated = 0;
  skipped = 0;
  #waiters: { publisher: string; n: number; resolve(): void }[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** Reads `client` until it closes. */
  async read(client: PubSubClient): Promise<void> {
    for (;;) {
      const message = await client.recv().catch((error: unknown) => {
        if (error instanceof ConnectionClosedError) return null;
        throw error;
      });
      if (message === null) return;
      if (message.topic.startsWith("sync/")) continue; // settle()'s markers, for `#`
      const { p, n } = message.message as { p: string; n: number };
      const last = this.last.get(p) ?? -1;
      if (n <= last) {
        this.repeated++;
        continue;
      }
      this.skipped += n - last - 1;
      this.last.set(p, n);
      this.count.set(p, (this.count.get(p) ?? 0) + 1);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (waiter.publisher !== p || waiter.n > n) return true;
        waiter.resolve();
        return false;
      });
    }
  }

  /** Resolves once a message `n` or later from `publisher` has arrived. */
  reached(publisher: string, n: number): Promise<void> {
    if ((this.last.get(publisher) ?? -1) >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ publisher, n, resolve }));
  }
}

test(
  "serve --redis on Deno, Bun and Node: 100k messages from each of two publishers, overlapping wildcards, none lost, repeated or reordered",
  {
    skip: !matrix ? "set KN_SOCK_MATRIX=1 (the Deno step of npm test does)" : REDIS_SKIP,
    timeout: 900_000,
  },
  async () => {
    assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
    const redis = await RedisServer.start();
    const children: Child[] = [];
    const clients: PubSubClient[] = [];
    const reading: Promise<void>[] = [];
    const connect = async (port: number) => {
      const client = await PubSubClient.connect("127.0.0.1", port, {
        hello: true,
        reconnect: false,
      });
      clients.push(client);
      return client;
    };
    try {
      const nodes = [];
      for (const runtime of RUNTIMES) {
        const { child, port } = await startCliServer(runtime, [
          ...["serve", "--port", "0", "--monitor-port", "0"],
          ...["--redis", redis.url, "--cluster-name", "load"],
        ]);
        children.push(child);
        const monitorUrl = /monitoring on (\S+)/.exec((await child.line())!)![1];
        assert.match((await child.line())!, /cluster "load"/);
        const probe = await connect(port);
        const syncs = await probe.subscribe("sync/#");
        await probe.flush();
        nodes.push({ runtime, port, monitorUrl, probe, syncs });
      }
      const [deno, bun, node] = nodes;
      /** A subscriber on `at` to `patterns`, expecting publishers `from`, read from now on. */
      const subscriber = async (at: typeof deno, patterns: string[], from: string[]) => {
        const client = await connect(at.port);
        for (const pattern of patterns) await client.subscribe(pattern);
        await client.flush();
        const tally = new Tally(`${patterns.join(" ")} on ${at.runtime}`);
        reading.push(tally.read(client));
        return { tally, from };
      };
      // Publisher "a" on Deno publishes to load/a, publisher "b" on Bun to load/b/x.
      const subscribers = [
        ...await Promise.all(nodes.map((at) => subscriber(at, ["load/+", "load/#"], ["a", "b"]))),
        await subscriber(deno, ["load/b/+", "+/b/#"], ["b"]),
        await subscriber(node, ["+/a", "load/a", "#"], ["a", "b"]),
        await subscriber(bun, ["load/+"], ["a"]),
      ];
      await settle(nodes); // every node has every subscription before the first publish

      const publish = async (name: string, at: typeof deno, topic: string) => {
        const publisher = await connect(at.port);
        const readers = subscribers.filter(({ from }) => from.includes(name));
        for (let n = 0; n < PER_PUBLISHER;) {
          for (const end = n + BATCH; n < end; n++) void publisher.publish(topic, { p: name, n });
          await publisher.flush();
          // The next batch waits for this one to reach every subscriber: no queue grows unbounded.
          await Promise.all(readers.map(({ tally }) => tally.reached(name, n - 1)));
        }
      };
      await Promise.all([publish("a", deno, "load/a"), publish("b", bun, "load/b/x")]);
      await settle(nodes);

      for (const { tally, from } of subscribers) {
        assert.deepEqual(
          {
            repeated: tally.repeated,
            skipped: tally.skipped,
            from: [...tally.count.keys()].sort(),
          },
          { repeated: 0, skipped: 0, from },
          tally.name,
        );
        for (const name of from) assert.equal(tally.count.get(name), PER_PUBLISHER, tally.name);
      }
      for (const { runtime, monitorUrl } of nodes) {
        const { backplane } = await (await fetch(`${monitorUrl}/varz`)).json();
        assert.deepEqual(
          [backplane.lost, backplane.unsent, backplane.badEnvelopes, backplane.outages],
          [0, 0, 0, 0],
          `counters on ${runtime}`,
        );
      }
    } finally {
      for (const client of clients) await client.close();
      await Promise.all(reading);
      for (const child of children) await child.stop("SIGTERM");
      await redis.stop();
    }
  },
);
