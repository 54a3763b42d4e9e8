/**
 * `bench`: a small run on each runtime prints the publish and delivery
 * rates and the latency percentiles (their values are not checked: speed is
 * measured in scripts/bench.ts, never in tests).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startPubSubServer } from "../mod.ts";
import { runCli } from "./cli_helpers.ts";
import { RUNTIMES, spawnCli } from "./cli_processes.ts";

test("cli bench reports rates and latency percentiles", async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  const server = await startPubSubServer({ port: 0 });
  const port = String(server.addr.port);
  try {
    for (const runtime of RUNTIMES) {
      const args = ["--pub", "2", "--sub", "2", "--count", "101", "--size", "16", "--port", port];
      const child = spawnCli(runtime, ["bench", `bench/${runtime}`, ...args]);
      const lines: string[] = [];
      for (let line = await child.line(); line !== null; line = await child.line()) {
        lines.push(line);
      }
      assert.equal(await child.exited, 0, `${runtime}: ${child.stderr}`);
      assert.match(lines[0], /^publish: +[\d,]+ msgs\/s \(101 in \d+ ms\)$/);
      assert.match(lines[1], /^delivery: [\d,]+ msgs\/s \(202 to 2 subscribers in \d+ ms\)$/);
      assert.match(
        lines[2],
        /^latency ms: p50 [\d.]+, p90 [\d.]+, p99 [\d.]+, p99\.9 [\d.]+, max [\d.]+$/,
      );
      assert.match(child.stderr, /Benchmarking 101 messages of 16 bytes on "bench\//);
    }
  } finally {
    await server.close();
  }
});

test("cli bench refuses bad arguments", async () => {
  const cases: [string[], RegExp][] = [
    [["bench", "--pub", "0"], /Invalid --pub "0"/],
    [["bench", "--size", "x"], /Invalid --size "x"/],
    [["bench", "a/#"], /Invalid topic "a\/#"/],
    [["bench", "a", "b"], /Expected at most one <topic>/],
  ];
  for (const [args, expected] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(io.errText, expected);
  }
});
