/**
 * One cluster, three runtimes: `serve --redis` on Deno, Bun and Node (the
 * npm build) against one real redis-server, with clients on each node.
 * Runs with `KN_SOCK_MATRIX=1` (the README's test command sets it, once).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import { type Message, PubSubClient, SYS_BACKPLANE_TOPIC } from "../mod.ts";
import { RUNTIMES, startCliServer } from "./cli_processes.ts";
import type { Child } from "./child_process.ts";
import { drain, settle, startNode, stopNodes } from "./cluster_helpers.ts";
import { runCli } from "./cli_helpers.ts";
import { assertCleanExit, freePort } from "./helpers.ts";
import { REDIS_SKIP, RedisServer } from "./redis_server.ts";

const matrix = process.env.KN_SOCK_MATRIX === "1";

test("serve --redis: nodes on Deno, Bun and Node act as one broker", {
  skip: !matrix ? "set KN_SOCK_MATRIX=1 (the README's test command does, once)" : REDIS_SKIP,
}, async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  const redis = await RedisServer.start();
  const children: Child[] = [];
  const clients: PubSubClient[] = [];
  try {
    const nodes = [];
    for (const runtime of RUNTIMES) {
      const args = ["serve", "--port", "0", "--redis", redis.url, "--cluster-name", "cli"];
      const { child, port } = await startCliServer(runtime, args); // the CLI runs Deno with --allow-env (ioredis reads it)
      children.push(child);
      assert.match((await child.line())!, /^kn-sock pubsub cluster "cli" on redis, node \S+$/);
      const probe = await PubSubClient.connect("127.0.0.1", port, { hello: true });
      const reader = await PubSubClient.connect("127.0.0.1", port, { hello: true });
      clients.push(probe, reader);
      const syncs = await probe.subscribe("sync/#");
      await reader.subscribe("from/+");
      await reader.subscribe("from/#");
      await probe.flush();
      await reader.flush();
      nodes.push({ runtime, probe, syncs, reader });
    }
    const count = 200;
    await Promise.all(nodes.map(async ({ runtime, probe }) => {
      for (let n = 0; n < count; n++) await probe.publish(`from/${runtime}`, n);
    }));
    await settle(nodes);
    for (const { runtime, reader } of nodes) {
      const got = new Map<string, unknown[]>();
      for (const { topic, message } of await drain(reader) as Message[]) {
        got.set(topic, [...got.get(topic) ?? [], message]);
      }
      for (const from of RUNTIMES) {
        assert.deepEqual(
          got.get(`from/${from}`),
          Array.from({ length: count }, (_, n) => n),
          `from ${from}, on ${runtime}`,
        );
      }
      assert.equal(got.size, RUNTIMES.length);
    }
  } finally {
    for (const client of clients) await client.close();
    for (const child of children) await child.stop("SIGTERM");
    await redis.stop();
  }
  for (const child of children) assertCleanExit(child);
});

test("serve's cluster options: --cluster-name needs --redis, a bad URL is a usage error, no Redis fails", async () => {
  const alone = await runCli(["serve", "--port", "0", "--cluster-name", "x"]);
  assert.equal(alone.code, 2);
  assert.match(alone.io.errText, /--cluster-name needs --redis/);
  const bad = await runCli(["serve", "--port", "0", "--redis", "http://127.0.0.1:6379"]);
  assert.equal(bad.code, 2);
  assert.match(bad.io.errText, /must start with redis:\/\/ or rediss:\/\//);
  const badName = await runCli(["serve", "--redis", "redis://x", "--cluster-name", "a b"]);
  assert.equal(badName.code, 2);
  assert.match(badName.io.errText, /Cluster name must be/);
  const port = await freePort();
  const away = await runCli([
    "serve",
    "--port",
    "0",
    "--redis",
    `redis://app:s3cret@127.0.0.1:${port}`,
  ]);
  assert.equal(away.code, 1);
  assert.match(away.io.errText, /Cannot reach Redis at redis:\/\/app:\*\*\*@127\.0\.0\.1:\d+/);
  assert.match(away.io.errText, /\(backplane_unavailable\)/);
  assert.doesNotMatch(away.io.errText, /s3cret/, "the password is not printed");
});

test(
  "Redis cutting a stalled node's subscription (its pubsub output buffer limit) is an outage, and what it missed is counted",
  {
    skip: REDIS_SKIP,
  },
  async () => {
    const redis = await RedisServer.start();
    redis.cli("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0");
    const nodes = [await startNode(redis, "cut"), await startNode(redis, "cut")];
    const [a] = nodes;
    const args = ["serve", "--port", "0", "--monitor-port", "0"];
    const { child, port } = await startCliServer("bun", [
      ...args,
      "--redis",
      redis.url,
      "--cluster-name",
      "cut",
    ]);
    const pid = child.process.pid!;
    const clients: PubSubClient[] = [];
    try {
      const monitorUrl = /monitoring on (\S+)/.exec((await child.line())!)![1];
      assert.match((await child.line())!, /cluster "cut"/);
      const watcher = await PubSubClient.connect("127.0.0.1", port, { hello: true });
      clients.push(watcher);
      const notices = await watcher.subscribe(SYS_BACKPLANE_TOPIC);
      const after = await watcher.subscribe("after");
      await watcher.flush();
      const subscribers = () => redis.cli("PUBSUB", "NUMSUB", "knsock:cut:all").split("\n")[1];
      assert.equal(subscribers(), "3");

      // The CLI node stops reading; node a floods the cluster, a round at a time (the other
      // in-process node shows when Redis has passed a round on), until Redis cuts the stalled one.
      process.kill(pid, "SIGSTOP");
      const big = "x".repeat(10_000);
      let sent = 0;
      while (subscribers() === "3") {
        for (let i = 0; i < 100; i++, sent++) a.server.publish("flood", big);
        await settle(nodes);
      }
      process.kill(pid, "SIGCONT");

      const down = (await notices.next())!.message as Record<string, unknown>;
      assert.equal(down.state, "down");
      const up = (await notices.next())!.message as Record<string, unknown>;
      assert.equal(up.state, "up");
      // The next publish from a shows the gap.
      a.server.publish("after", "the cut");
      assert.equal((await after.next())!.message, "the cut");
      const varz = await (await fetch(`${monitorUrl}/varz`)).json();
      assert.equal(varz.backplane.outages, 1);
      assert.ok(varz.backplane.lost > 0, `lost ${varz.backplane.lost} of ${sent}`);
      assert.ok(varz.backplane.lost < sent);
    } finally {
      for (const client of clients) await client.close();
      process.kill(pid, "SIGCONT");
      await child.stop("SIGTERM");
      await stopNodes(nodes);
      await redis.stop();
    }
    assertCleanExit(child);
  },
);
