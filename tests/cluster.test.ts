/**
 * Several servers acting as one broker through a real redis-server (started
 * per test on a free port, persistence off; see `redis_server.ts`). Nothing
 * is mocked at the Redis boundary.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ErrorCode,
  type Message,
  PubSubClient,
  PubSubError,
  ServerError,
  startPubSubServer,
  SYS_BACKPLANE_TOPIC,
} from "../mod.ts";
import { redisBackplane } from "../src/backplane/redis.ts";
import { drain, settle, startNode, startNodes, stopNodes } from "./cluster_helpers.ts";
import { freePort, subscribed, take, until } from "./helpers.ts";
import { REDIS_SKIP, RedisServer } from "./redis_server.ts";

const options = { skip: REDIS_SKIP };

/** The messages of `messages` on `topic`, by their `from` field, in arrival order. */
function byPublisher(messages: Message[]): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  for (const { message } of messages) {
    const { from, n } = message as { from: string; n: number };
    let list = seen.get(from);
    if (list === undefined) seen.set(from, list = []);
    list.push(n);
  }
  return seen;
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

test(
  "a publish on one node reaches subscribers on every node once, in each publisher's order",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "fanout", 3);
    const [a, b, c] = nodes;
    const clients: PubSubClient[] = [];
    const connect = async (node: typeof a, ...patterns: string[]) => {
      const client = await PubSubClient.connect("127.0.0.1", node.server.addr.port);
      clients.push(client);
      await subscribed(client, ...patterns);
      return client;
    };
    try {
      // Overlapping patterns: each connection must still get each publish once.
      const onA = await connect(a, "news/#");
      const onB = await connect(b, "news/+", "news/#", "+/eu", "news/eu");
      const onC = await connect(c, "+/eu");
      const pubA = await PubSubClient.connect("127.0.0.1", a.server.addr.port);
      const pubC = await PubSubClient.connect("127.0.0.1", c.server.addr.port);
      clients.push(pubA, pubC);
      const count = 500;
      await Promise.all([
        Promise.all(range(count).map((n) => pubA.publish("news/eu", { from: "a", n }))),
        Promise.all(range(count).map((n) => pubC.publish("news/eu", { from: "c", n }))),
      ]);
      await settle(nodes);
      for (const [name, client] of [["a", onA], ["b", onB], ["c", onC]] as const) {
        const got = byPublisher(await drain(client));
        assert.deepEqual(got.get("a"), range(count), `publisher a, as seen on node ${name}`);
        assert.deepEqual(got.get("c"), range(count), `publisher c, as seen on node ${name}`);
        assert.equal(got.size, 2, `node ${name}`);
      }
      for (const node of nodes) {
        const stats = node.server.stats().backplane!;
        assert.equal(stats.state, "up");
        assert.equal(stats.lost, 0);
        assert.equal(stats.unsent, 0);
        assert.equal(stats.badEnvelopes, 0);
      }
    } finally {
      for (const client of clients) await client.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

test(
  "wildcards and the '$' rule are exact across nodes: each node filters with its own index",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "wildcards", 2);
    const [a, b] = nodes;
    const clients: PubSubClient[] = [];
    try {
      // With hello, flush() is a ping: no private flush topics for `#` to see.
      const hello = { hello: true };
      const all = await PubSubClient.connect("127.0.0.1", b.server.addr.port, hello);
      const dollar = await PubSubClient.connect("127.0.0.1", b.server.addr.port, hello);
      const plus = await PubSubClient.connect("127.0.0.1", b.server.addr.port, hello);
      clients.push(all, dollar, plus);
      await subscribed(all, "#");
      await subscribed(dollar, "$app/#");
      await subscribed(plus, "a/+/c");
      // Redis's glob `*` would cross levels; '+' must not.
      a.server.publish("a/b/c", "one level");
      a.server.publish("a/b/x/c", "two levels");
      a.server.publish("$app/x", "reserved");
      await settle(nodes);
      const topics = (messages: Message[]) =>
        messages.map((m) => m.topic).filter((topic) => !topic.startsWith("sync/"));
      assert.deepEqual(topics(await drain(all)), ["a/b/c", "a/b/x/c"]);
      assert.deepEqual(topics(await drain(dollar)), ["$app/x"]);
      assert.deepEqual(topics(await drain(plus)), ["a/b/c"]);
    } finally {
      for (const client of clients) await client.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

test(
  "a node skips its own publishes from Redis: its subscribers get each once, echo off respected",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "echo", 2);
    const [a] = nodes;
    const clients: PubSubClient[] = [];
    try {
      const local = await PubSubClient.connect("127.0.0.1", a.server.addr.port);
      const quiet = await PubSubClient.connect("127.0.0.1", a.server.addr.port, {
        hello: { echo: false },
      });
      clients.push(local, quiet);
      await subscribed(local, "t");
      await subscribed(quiet, "t");
      for (let n = 0; n < 50; n++) await quiet.publish("t", { from: "quiet", n });
      await settle(nodes);
      assert.deepEqual(byPublisher(await drain(local)).get("quiet"), range(50));
      assert.deepEqual(await drain(quiet), []);
      // From Redis, node a routed only node b's settle marker: its own publishes were skipped.
      assert.equal(a.server.stats().backplane!.received, 1);
    } finally {
      for (const client of clients) await client.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

test(
  "request/reply and retained messages work across nodes; no_responders from the replicated interest",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "requests", 2);
    const [a, b] = nodes;
    const clients: PubSubClient[] = [];
    try {
      const responder = await PubSubClient.connect("127.0.0.1", b.server.addr.port, {
        hello: true,
      });
      const requester = await PubSubClient.connect("127.0.0.1", a.server.addr.port, {
        hello: true,
      });
      clients.push(responder, requester);
      const service = await responder.subscribe("time/now");
      await responder.flush();
      // Node a learns node b's patterns: its probe's (sync/#) and the responder's.
      await until(() => a.server.stats().backplane!.remotePatterns === 2, "a knowing b's patterns");
      const answering = (async () => {
        const request = await service.next();
        assert.ok(request?.respond, "a request carries respond()");
        await request.respond({ answer: 42, asked: request.message });
      })();
      const reply = await requester.request("time/now", "when?", { timeout: 10_000 });
      await answering;
      assert.deepEqual(reply.message, { answer: 42, asked: "when?" });
      // Nobody anywhere: node a knows it from its own index and what b announced.
      const noResponders = (error: unknown) =>
        error instanceof ServerError && error.code === ErrorCode.NoResponders;
      await assert.rejects(requester.request("nobody/home", null), noResponders);
      await service.unsubscribe();
      await until(() => a.server.stats().backplane!.remotePatterns === 1, "b's unwatch reaching a");
      await assert.rejects(requester.request("time/now", null), noResponders);

      await requester.publish("config/mode", "cluster", { retain: true });
      await settle(nodes);
      const late = await PubSubClient.connect("127.0.0.1", b.server.addr.port);
      clients.push(late);
      await late.subscribe("config/#");
      const [retained] = await take(late, 1);
      assert.deepEqual([retained.topic, retained.message], ["config/mode", "cluster"]);
      assert.equal(b.server.stats().retained, 1);
    } finally {
      for (const client of clients) await client.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

test("nodes see each other join and leave", options, async () => {
  const redis = await RedisServer.start();
  const nodes = await startNodes(redis, "members", 3);
  const [a, b, c] = nodes;
  try {
    // Each node answered the others' announcements.
    await until(() => nodes.every((n) => n.server.stats().backplane!.nodes === 2), "2 peers each");
    await c.probe.close();
    await c.server.close();
    assert.equal(c.server.stats().backplane!.state, "closed");
    await until(() => a.server.stats().backplane!.nodes === 1, "node c gone from a");
    await until(() => b.server.stats().backplane!.nodes === 1, "node c gone from b");
  } finally {
    await stopNodes([a, b]);
    await redis.stop();
  }
});

test(
  "a gap in an origin's counter is counted as lost, a bad envelope as bad, never silent",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "gaps", 1);
    const [a] = nodes;
    try {
      const client = await PubSubClient.connect("127.0.0.1", a.server.addr.port);
      await subscribed(client, "x");
      const envelope = (counter: number) =>
        JSON.stringify({ o: "ghost", e: 1, c: counter, t: "x", m: counter });
      // Another "node", straight into Redis: publishes 1, 2, then 6 (3 to 5 never came).
      for (const counter of [1, 2, 6]) redis.cli("PUBLISH", "knsock:gaps:all", envelope(counter));
      redis.cli("PUBLISH", "knsock:gaps:all", "{not json");
      redis.cli("PUBLISH", "knsock:gaps:all", JSON.stringify({ o: "ghost", e: 1, c: 7, t: "a/+" }));
      // A heartbeat that says 9 were sent: 7 (bad) and 8, 9 never came.
      redis.cli(
        "PUBLISH",
        "knsock:gaps:control",
        JSON.stringify({ a: "hb", o: "ghost", e: 1, c: 9 }),
      );
      await settle(nodes);
      const got = (await take(client, 3)).map((m) => m.message);
      assert.deepEqual(got, [1, 2, 6]);
      const stats = a.server.stats().backplane!;
      assert.equal(stats.lost, 3 + 3);
      assert.equal(stats.badEnvelopes, 2);
      assert.equal(stats.received, 3);
      await client.close();
    } finally {
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

test(
  "startPubSubServer() rejects with backplane_unavailable when Redis cannot be reached",
  options,
  async () => {
    const port = await freePort();
    await assert.rejects(
      startPubSubServer({
        port: 0,
        backplane: redisBackplane({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 1000 }),
      }),
      (error: unknown) =>
        error instanceof PubSubError && error.code === ErrorCode.BackplaneUnavailable &&
        error.message.includes(`127.0.0.1:${port}`),
    );
  },
);

test(
  "Redis restarting: local delivery goes on, what could not be sent is counted, nodes come back and say so",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "restart", 2);
    const [a, b] = nodes;
    const clients: PubSubClient[] = [];
    try {
      const watcher = await PubSubClient.connect("127.0.0.1", a.server.addr.port, { hello: true });
      const local = await PubSubClient.connect("127.0.0.1", a.server.addr.port);
      const remote = await PubSubClient.connect("127.0.0.1", b.server.addr.port);
      clients.push(watcher, local, remote);
      const notices = await watcher.subscribe(SYS_BACKPLANE_TOPIC);
      await watcher.flush();
      await subscribed(local, "work");
      await subscribed(remote, "work");

      await redis.stop();
      const down = await notices.next();
      assert.equal((down!.message as Record<string, unknown>).state, "down");
      assert.equal(typeof (down!.message as Record<string, unknown>).reason, "string");
      // Local publish and subscribe keep working; what was meant for b is counted.
      for (let n = 0; n < 10; n++) a.server.publish("work", { from: "a", n });
      assert.deepEqual(byPublisher(await take(local, 10)).get("a"), range(10));
      assert.equal(a.server.stats().backplane!.unsent, 10);
      assert.equal(a.server.stats().backplane!.outages, 1);

      await redis.restart();
      const up = await notices.next();
      const upStats = up!.message as Record<string, unknown>;
      assert.equal(upStats.state, "up");
      assert.equal(upStats.unsent, 10);
      // b is back too, and the cluster carries publishes again.
      await until(() => b.server.stats().backplane!.state === "up", "node b back up");
      a.server.publish("work", { from: "a", n: 10 });
      const [again] = await take(remote, 1);
      assert.deepEqual(again.message, { from: "a", n: 10 });
      assert.equal(b.server.stats().backplane!.lost, 0, "nothing was sent while down: no gap");
    } finally {
      for (const client of clients) await client.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

test(
  "a queue group of 3 nodes x 2 members: each of 10k messages reaches one member cluster-wide, shares even",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "groups", 3);
    const clients: PubSubClient[] = [];
    try {
      const members: PubSubClient[] = [];
      for (const node of nodes) {
        for (let i = 0; i < 2; i++) {
          const member = await PubSubClient.connect("127.0.0.1", node.server.addr.port, {
            hello: true,
          });
          clients.push(member);
          members.push(member);
          await member.subscribe("jobs/#", { group: "workers" });
          await member.flush();
        }
      }
      // A plain subscriber still gets every message.
      const audit = await PubSubClient.connect("127.0.0.1", nodes[1].server.addr.port);
      clients.push(audit);
      await subscribed(audit, "jobs/+");
      await until(
        () => nodes.every((node) => node.server.stats().backplane!.groupNodes === 3),
        "every node knowing the group on all three",
      );
      const publisher = await PubSubClient.connect("127.0.0.1", nodes[0].server.addr.port);
      clients.push(publisher);
      const count = 10_000;
      for (let n = 0; n < count;) {
        for (const end = n + 500; n < end; n++) void publisher.publish("jobs/a", { from: "p", n });
        await publisher.flush();
      }
      await settle(nodes);
      const seen = new Set<number>();
      let total = 0;
      for (const member of members) {
        const got = byPublisher(await drain(member)).get("p") ?? [];
        total += got.length;
        for (const n of got) seen.add(n);
        // Even shares: a sixth each, within ±20%.
        const share = count / members.length;
        assert.ok(
          got.length >= 0.8 * share && got.length <= 1.2 * share,
          `a member got ${got.length} of ${count}`,
        );
        assert.deepEqual(got, [...got].sort((x, y) => x - y), "in order within a member");
      }
      assert.equal(total, count, "each message once across the group");
      assert.equal(seen.size, count);
      assert.deepEqual(byPublisher(await drain(audit)).get("p"), range(count));
      for (const node of nodes) assert.equal(node.server.stats().backplane!.groupMisses, 0);
    } finally {
      for (const client of clients) await client.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

test(
  "a node that leaves is out of its queue groups: the others get every message",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "failover", 3);
    const [a, b, c] = nodes;
    const clients: PubSubClient[] = [];
    const join = async (node: typeof a) => {
      const member = await PubSubClient.connect("127.0.0.1", node.server.addr.port, {
        hello: true,
      });
      clients.push(member);
      await member.subscribe("jobs/#", { group: "workers" });
      await member.flush();
      return member;
    };
    try {
      const onA = await join(a);
      const onB = await join(b);
      await join(c);
      await until(() => a.server.stats().backplane!.groupNodes === 3, "a knowing all three");
      await c.probe.close();
      await c.server.close();
      await until(() => a.server.stats().backplane!.groupNodes === 2, "node c out of the group");
      const publisher = await PubSubClient.connect("127.0.0.1", a.server.addr.port);
      clients.push(publisher);
      for (let n = 0; n < 100; n++) await publisher.publish("jobs/x", { from: "p", n });
      await settle([a, b]);
      const got = [
        ...byPublisher(await drain(onA)).get("p") ?? [],
        ...byPublisher(await drain(onB)).get("p") ?? [],
      ];
      assert.deepEqual(got.sort((x, y) => x - y), range(100));
    } finally {
      for (const client of clients) await client.close();
      await stopNodes([a, b]);
      await redis.stop();
    }
  },
);

test(
  "a node that goes silent is taken out of the groups; what was picked for it is counted",
  options,
  async () => {
    const redis = await RedisServer.start();
    const a = await startNode(redis, "silent", {}, { heartbeatMs: 250 });
    const clients: PubSubClient[] = [];
    try {
      const member = await PubSubClient.connect("127.0.0.1", a.server.addr.port, { hello: true });
      clients.push(member);
      await member.subscribe("jobs/#", { group: "workers" });
      await member.flush();
      // A "node" that announces a member of the group, then never speaks again.
      redis.cli(
        "PUBLISH",
        "knsock:silent:control",
        JSON.stringify({ a: "groups", o: "ghost", e: 1, c: 0, g: [["workers", "jobs/#"]] }),
      );
      await until(() => a.server.stats().backplane!.groupNodes === 2, "a knowing the ghost");
      for (let n = 0; n < 10; n++) a.server.publish("jobs/x", { from: "p", n });
      // Half were picked for the ghost: once it is taken out, they are counted.
      await until(() => a.server.stats().backplane!.groupNodes === 1, "the ghost taken out");
      const stats = a.server.stats().backplane!;
      assert.equal(stats.pickedGone, 5);
      assert.equal(stats.nodes, 0);
      // Turns alternate between a (first to announce) and the ghost.
      assert.deepEqual(byPublisher(await drain(member)).get("p"), [0, 2, 4, 6, 8]);
      // From now on every message reaches the member on a.
      for (let n = 10; n < 20; n++) a.server.publish("jobs/x", { from: "p", n });
      assert.deepEqual(byPublisher(await drain(member)).get("p"), range(20).slice(10));
    } finally {
      for (const client of clients) await client.close();
      await stopNodes([a]);
      await redis.stop();
    }
  },
);

test(
  "a node whose own heartbeat does not come back reconnects its subscription and says so",
  options,
  async () => {
    const redis = await RedisServer.start();
    const a = await startNode(redis, "stall", {}, { heartbeatMs: 100 });
    const b = await startNode(redis, "stall");
    const clients: PubSubClient[] = [];
    try {
      const watcher = await PubSubClient.connect("127.0.0.1", a.server.addr.port, { hello: true });
      clients.push(watcher);
      const notices = await watcher.subscribe(SYS_BACKPLANE_TOPIC);
      await watcher.flush();
      // Redis holds every PUBLISH for a while: nothing comes back, heartbeats included.
      redis.cli("CLIENT", "PAUSE", "1500", "WRITE");
      const down = (await notices.next())!.message as Record<string, unknown>;
      assert.equal(down.state, "down");
      assert.equal(down.stalls, 1);
      const up = (await notices.next())!.message as Record<string, unknown>;
      assert.equal(up.state, "up");
      // Once Redis carries publishes again, the nodes are one broker again.
      const reader = await PubSubClient.connect("127.0.0.1", b.server.addr.port);
      clients.push(reader);
      await subscribed(reader, "after");
      a.server.publish("after", "stall");
      assert.deepEqual((await take(reader, 1))[0].message, "stall");
    } finally {
      for (const client of clients) await client.close();
      await stopNodes([a, b]);
      await redis.stop();
    }
  },
);

test(
  "retained messages are kept in Redis: a node started later has them, a Redis restarted empty gets them back",
  options,
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "keep", 2);
    const [a, b] = nodes;
    const clients: PubSubClient[] = [];
    const later = [];
    try {
      const publisher = await PubSubClient.connect("127.0.0.1", a.server.addr.port, {
        hello: true,
      });
      clients.push(publisher);
      await publisher.publish("config/mode", { mode: "cluster" }, {
        retain: true,
        headers: { by: "a" },
      });
      await publisher.publish("config/gone", "soon", { retain: true });
      await publisher.publish("config/gone", "", { retain: true }); // clears it
      // Node b got the publishes through Redis, so Redis has stored the retained ones before.
      await settle(nodes);
      assert.equal(b.server.stats().retained, 1);
      const c = await startNode(redis, "keep");
      later.push(c);
      assert.equal(c.server.stats().retained, 1, "loaded from Redis at start");
      const reader = await PubSubClient.connect("127.0.0.1", c.server.addr.port, { hello: true });
      clients.push(reader);
      await reader.subscribe("config/#");
      const [kept] = await take(reader, 1);
      assert.deepEqual([kept.topic, kept.message, kept.headers], [
        "config/mode",
        { mode: "cluster" },
        { by: "a" },
      ]);

      await redis.restart();
      assert.equal(redis.cli("HLEN", "knsock:keep:retained"), "0");
      await until(
        () => redis.cli("HLEN", "knsock:keep:retained") === "1",
        "a node putting the retained message back into Redis",
      );
      const d = await startNode(redis, "keep");
      later.push(d);
      assert.equal(d.server.stats().retained, 1, "loaded from the restored hash");
    } finally {
      for (const client of clients) await client.close();
      await stopNodes([...nodes, ...later]);
      await redis.stop();
    }
  },
);
