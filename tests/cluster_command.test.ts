/**
 * `npm run cluster` (scripts/cluster.ts): a redis-server and three nodes,
 * one per runtime, as one broker; SIGTERM stops every child. Runs with
 * `KN_SOCK_MATRIX=1` (it starts all three runtimes; the README's test
 * command sets it, once).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import { PubSubClient } from "../mod.ts";
import { Child } from "./child_process.ts";
import { assertCleanExit } from "./helpers.ts";
import { REDIS_SKIP } from "./redis_server.ts";

const matrix = process.env.KN_SOCK_MATRIX === "1";

/** Whether a process with this PID exists (a zombie counts: it is not reaped yet). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, "ESRCH");
    return false;
  }
}

test(
  "npm run cluster: Redis and nodes on Deno, Bun and Node act as one, and SIGTERM stops them all",
  {
    skip: !matrix ? "set KN_SOCK_MATRIX=1 (the README's test command does, once)" : REDIS_SKIP,
  },
  async () => {
    assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
    const script = new Child("node_modules/.bin/deno", [
      "run",
      "-A",
      "scripts/cluster.ts",
      "--base-port",
      "0",
      "--cluster-name",
      "try",
    ]);
    const pids: number[] = [];
    const clients: PubSubClient[] = [];
    try {
      const redis = /^redis-server on redis:\/\/127\.0\.0\.1:\d+ \(pid (\d+)\), persistence off$/
        .exec((await script.line())!);
      assert.ok(redis, script.stderr);
      pids.push(Number(redis[1]));
      const ports = new Map<string, number>();
      for (const runtime of ["deno", "bun", "node"]) {
        const line = (await script.line())!;
        const node = /^node (\w+) on tcp:\/\/127\.0\.0\.1:(\d+) \(pid (\d+)\)$/.exec(line);
        assert.ok(node, `${line}\n${script.stderr}`);
        assert.equal(node[1], runtime);
        ports.set(runtime, Number(node[2]));
        pids.push(Number(node[3]));
      }
      let line: string | null;
      const help: string[] = [];
      while ((line = await script.line()) !== "Ctrl-C stops everything.") {
        assert.ok(line !== null, script.stderr);
        help.push(line);
      }
      const printed = help.join("\n");
      assert.match(printed, /^Cluster "try" is up/m);
      assert.ok(printed.includes(` sub -s tcp://127.0.0.1:${ports.get("bun")} 'news/#'`), printed);

      const onBun = await PubSubClient.connect("127.0.0.1", ports.get("bun")!, { hello: true });
      const onNode = await PubSubClient.connect("127.0.0.1", ports.get("node")!, { hello: true });
      const onDeno = await PubSubClient.connect("127.0.0.1", ports.get("deno")!, { hello: true });
      clients.push(onBun, onNode, onDeno);
      const bunNews = await onBun.subscribe("news/#");
      const nodeNews = await onNode.subscribe("news/+");
      await onBun.flush();
      await onNode.flush();
      await onDeno.publish("news/sports", "from Deno");
      for (const news of [bunNews, nodeNews]) {
        const got = await news.next();
        assert.deepEqual([got?.topic, got?.message], ["news/sports", "from Deno"]);
      }
      for (const client of clients.splice(0)) await client.close();

      assert.ok(pids.every(alive));
      script.process.kill("SIGTERM");
      await script.exited;
      assert.match(script.stderr, /Received SIGTERM, stopping the cluster\n/);
      assert.match(script.stderr, /\nStopped\n/);
      for (const runtime of ["deno", "bun", "node"]) {
        assert.match(script.stderr, new RegExp(`\\[${runtime}\\] Received SIGTERM, shutting down`));
      }
      assertCleanExit(script);
      assert.deepEqual(pids.filter(alive), [], "every child was stopped");
    } finally {
      for (const client of clients) await client.close();
      await script.stop("SIGTERM");
      for (const pid of pids.filter(alive)) process.kill(pid, "SIGKILL");
    }
  },
);
