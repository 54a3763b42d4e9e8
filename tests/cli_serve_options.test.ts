/**
 * `serve`'s logging and limits from the command line: `--log-format json`,
 * `-v`/`--debug`, `--limit name=value`; run as a real process on Deno, Bun
 * and Node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { runCli } from "./cli_helpers.ts";
import { RUNTIMES, startCliServer } from "./cli_processes.ts";
import { assertCleanExit } from "./helpers.ts";

test("cli serve --log-format json logs JSON lines, and --limit changes a limit", async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  await Promise.all(RUNTIMES.map(async (runtime) => {
    const { child, port } = await startCliServer(runtime, [
      "serve",
      "--port",
      "0",
      "--log-format",
      "json",
      "--limit",
      "maxPayloadBytes=16",
      "--verbose",
    ]);
    try {
      const big = await runCli(["pub", "t", "longer than sixteen bytes", "--port", String(port)]);
      assert.equal(big.code, 1, `${runtime}: ${big.io.errText}`);
      assert.match(big.io.errText, /payload_too_large/);
      await child.stderrIncludes('"msg":"Client disconnected"');
    } finally {
      await child.stop("SIGTERM");
    }
    const logged = child.stderr.split("\n").filter((line) => line.startsWith("{"));
    const entries = logged.map((line) => JSON.parse(line));
    assert.deepEqual(entries[0].msg, "Server listening", runtime);
    for (const entry of entries) {
      assert.equal(typeof entry.time, "string");
      assert.match(entry.level, /^(debug|info|warn|error)$/);
    }
    assertCleanExit(child);
  }));
});

test("cli serve refuses bad logging and limit options", async () => {
  const cases: [string[], RegExp][] = [
    [["serve", "--log-format", "xml"], /Invalid --log-format "xml"/],
    [["serve", "-q", "-v"], /--quiet and --verbose/],
    [["serve", "--limit", "maxPayload=1"], /Invalid --limit "maxPayload=1"/],
    [["serve", "--limit", "maxPayloadBytes=-1"], /expected a whole number/],
    [["serve", "--limit", "maxPayloadBytes=0"], /must be a positive integer/],
  ];
  for (const [args, expected] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(io.errText, expected);
  }
});
