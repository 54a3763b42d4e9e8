/**
 * Failures under load, with a real redis-server: a node killed with SIGKILL
 * while its queue group is busy, and Redis killed while publishers keep
 * going. Every message is delivered or counted; the counts are checked
 * exactly, or against a bound the test derives and explains.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";
import { type Message, PubSubClient, SYS_BACKPLANE_TOPIC } from "../mod.ts";
import { startCliServer } from "./cli_processes.ts";
import { drain, settle, startNodes, stopNodes } from "./cluster_helpers.ts";
import { subscribed, until } from "./helpers.ts";
import { REDIS_SKIP, RedisServer } from "./redis_server.ts";

const options = { skip: REDIS_SKIP, timeout: 300_000 };

/** The `n` of each message `{ n }` in `messages`. */
function numbers(messages: Message[]): number[] {
  return messages.map(({ message }) => (message as { n: number }).n);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Redis's count of connected clients (`redis-cli` itself included). */
function connectedClients(redis: RedisServer): number {
  return Number(/connected_clients:(\d+)/.exec(redis.cli("INFO", "clients"))![1]);
}

/** A client of `port` that says hello and does not reconnect. */
async function connect(port: number, clients: PubSubClient[]): Promise<PubSubClient> {
  const client = await PubSubClient.connect("127.0.0.1", port, { hello: true, reconnect: false });
  clients.push(client);
  return client;
}

/** Reports an observed figure on stderr: logged, never asserted. */
function observed(what: string, value: number, unit = "ms"): void {
  process.stderr.write(`observed: ${what} ${value} ${unit}\n`);
}

test(
  "a node killed (SIGKILL) under load: its queue group fails over, what it never delivered is within pickedGone",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "kill", 2);
    const [a, b] = nodes;
    const { child, port } = await startCliServer("bun", [
      "serve",
      "--port",
      "0",
      "--redis",
      redis.url,
      "--cluster-name",
      "kill",
    ]);
    const clients: PubSubClient[] = [];
    try {
      assert.match((await child.line())!, /cluster "kill"/);
      const probe = await connect(port, clients);
      const c = { probe, syncs: await probe.subscribe("sync/#") };
      await probe.flush();
      const member = async (at: number) => {
        const client = await connect(at, clients);
        await client.subscribe("jobs/#", { group: "workers" });
        await client.flush();
        return client;
      };
      const survivors = [];
      for (const node of [a, b, a, b]) survivors.push(await member(node.server.addr.port));
      const doomed = [await member(port), await member(port)];
      await until(
        () => a.server.stats().backplane!.groupNodes === 3,
        "node a knowing the group on all three nodes",
      );
      const publisher = await connect(a.server.addr.port, clients);
      let n = 0;
      const batch = async (size: number) => {
        for (const end = n + size; n < end; n++) void publisher.publish("jobs/x", { n });
        await publisher.flush();
      };
      /** How many times each message was delivered, over every member. */
      const times = new Map<number, number>();
      const collect = async (members: PubSubClient[]) => {
        let count = 0;
        for (const client of members) {
          for (const k of numbers(await drain(client))) {
            times.set(k, (times.get(k) ?? 0) + 1);
            count++;
          }
        }
        return count;
      };

      // Load on all three nodes; then everything so far is delivered, the killed node's share too.
      for (let i = 0; i < 20; i++) {
        await batch(250);
        await collect(survivors);
      }
      await settle([a, b, c]);
      await collect(survivors);
      const byDoomed = await collect(doomed);
      const beforeKill = n;
      assert.equal(times.size, beforeKill);
      assert.ok(byDoomed > 0, "the node to be killed had its share");

      const clientsBefore = connectedClients(redis);
      const killedAt = Date.now();
      await child.stop("SIGKILL");
      // Once Redis has dropped both its connections, it has passed on all the node sent (its last
      // heartbeat too), and once a and b have settled, they have heard it: what a picks for the
      // killed node from now on is never delivered, and counted when the node is taken out.
      await until(
        () => connectedClients(redis) === clientsBefore - 2,
        "Redis dropping the killed node's connections",
      );
      await settle([a, b]);
      do {
        await batch(100);
        await collect(survivors);
      } while (a.server.stats().backplane!.groupNodes === 3);
      observed("failover after SIGKILL (kill to out of node a's groups)", Date.now() - killedAt);
      const failedOver = n;
      for (let i = 0; i < 8; i++) await batch(250);
      await settle([a, b]);
      await collect(survivors);

      for (const [k, count] of times) {
        assert.equal(count, 1, `message ${k} delivered ${count} times`);
      }
      for (const k of range(0, beforeKill)) assert.ok(times.has(k), `message ${k} before the kill`);
      for (const k of range(failedOver, n)) assert.ok(times.has(k), `message ${k} after failover`);
      const missing = n - times.size;
      const { pickedGone, lost, unsent } = a.server.stats().backplane!;
      observed(`never delivered of ${n}, pickedGone ${pickedGone}:`, missing, "messages");
      // pickedGone counts a's picks for the killed node since its last heartbeat: those made after
      // the kill (never delivered: `missing`) plus those made between its last heartbeat and the
      // kill (delivered: at most what it delivered in all).
      assert.ok(
        missing <= pickedGone && pickedGone <= missing + byDoomed,
        `missing ${missing}, pickedGone ${pickedGone}, delivered by the killed node ${byDoomed}`,
      );
      assert.deepEqual([lost, unsent], [0, 0]);
      assert.equal(b.server.stats().backplane!.lost, 0);
    } finally {
      for (const client of clients) await client.close();
      await child.stop("SIGKILL");
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

/** Collects garbage now, so that the heap holds only what is live. */
function collectGarbage(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun !== undefined) return bun.gc(true);
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
}

function liveHeap(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

test(
  "Redis killed under load: local delivery loses nothing, down and up are told, unsent is exact, memory stays flat",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "outage", 2);
    const [a, b] = nodes;
    const clients: PubSubClient[] = [];
    try {
      const watcher = await connect(a.server.addr.port, clients);
      const notices = await watcher.subscribe(SYS_BACKPLANE_TOPIC);
      await watcher.flush();
      const local = await connect(a.server.addr.port, clients);
      const remote = await connect(b.server.addr.port, clients);
      await subscribed(local, "load/#");
      await subscribed(remote, "load/#");
      const publisher = await connect(a.server.addr.port, clients);
      const payload = "x".repeat(1000);
      const gotLocal: number[] = [];
      const gotRemote: number[] = [];
      let n = 0;
      /** Publishes `count` messages in batches; the subscribers read as they go. */
      const load = async (count: number, readers: [PubSubClient, number[]][]) => {
        for (const end = n + count; n < end;) {
          for (const stop = Math.min(n + 500, end); n < stop; n++) {
            void publisher.publish(`load/${n % 10}`, { n, payload });
          }
          await publisher.flush();
          for (const [reader, got] of readers) got.push(...numbers(await drain(reader)));
        }
      };
      const both: [PubSubClient, number[]][] = [[local, gotLocal], [remote, gotRemote]];

      await load(5_000, both);
      await settle(nodes);
      gotRemote.push(...numbers(await drain(remote)));
      const upTo = n;

      const killedAt = Date.now();
      await redis.stop("SIGKILL");
      const down = (await notices.next())!.message as Record<string, unknown>;
      assert.equal(down.state, "down");
      assert.equal(typeof down.reason, "string");
      const unsentAtDown = a.server.stats().backplane!.unsent;
      const heapBefore = liveHeap();
      // Redis stays away for about 2 s (at least 20k messages) while a keeps publishing messages
      // of 1 KB: an offline queue would hold them all (at least their text); with none, the heap
      // must not grow by half of that.
      const downFrom = n;
      while (n - downFrom < 20_000 || Date.now() - killedAt < 2000) {
        await load(5_000, [[local, gotLocal]]);
      }
      const whileDown = n - downFrom;
      const grown = liveHeap() - heapBefore;
      observed(`heap growth over ${whileDown} publishes of 1 KB while down`, grown, "bytes");
      assert.ok(
        grown < (whileDown * payload.length) / 2,
        `the heap grew by ${grown} bytes while ${whileDown} messages of 1 KB were published`,
      );

      const restartedAt = Date.now();
      await redis.restart();
      observed("Redis away", restartedAt - killedAt);
      const up = (await notices.next())!.message as Record<string, unknown>;
      observed("node a back up after Redis's restart", Date.now() - restartedAt);
      assert.equal(up.state, "up");
      assert.equal(up.unsent, unsentAtDown + whileDown, "each publish while down is counted once");
      await until(() => b.server.stats().backplane!.state === "up", "node b back up");
      const resumed = n;
      await load(5_000, both);
      await settle(nodes);
      gotRemote.push(...numbers(await drain(remote)));

      assert.deepEqual(gotLocal, range(0, n), "local delivery lost nothing, in order");
      assert.deepEqual(gotRemote, [...range(0, upTo), ...range(resumed, n)]);
      const sa = a.server.stats().backplane!;
      const sb = b.server.stats().backplane!;
      assert.equal(sa.unsent, unsentAtDown + whileDown);
      assert.equal(sb.lost, 0);
      assert.equal(sb.received + sb.lost, sa.sent, "every publish a handed to Redis is accounted");
      assert.deepEqual([sa.outages, sb.outages], [1, 1]);
    } finally {
      for (const client of clients) await client.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);
