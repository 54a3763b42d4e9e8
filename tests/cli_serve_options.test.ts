/**
 * `serve`'s logging and limits from the command line and its config file:
 * `--log-format json`, `-v`/`--debug`, `--limit name=value`, `--config`
 * with `limits` and `slow_consumer_policy` (errors name the line or the
 * field); run as a real process on Deno, Bun and Node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./cli_helpers.ts";
import { RUNTIMES, startCliServer } from "./cli_processes.ts";
import { assertCleanExit } from "./helpers.ts";

/** Writes `text` as a config file in a fresh folder, for `body`. */
async function withConfig(text: string, body: (file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "kn-sock-config-"));
  try {
    const file = join(dir, "server.json");
    await writeFile(file, text);
    await body(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("cli serve --log-format json logs JSON lines; --limit and --config limits change a limit", async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  const config = { limits: { maxPayloadBytes: 1000 }, slow_consumer_policy: "drop-oldest" };
  await withConfig(JSON.stringify(config), (file) =>
    Promise.all(RUNTIMES.map(async (runtime) => {
      const { child, port } = await startCliServer(runtime, [
        "serve",
        "--port",
        "0",
        "--log-format",
        "json",
        "--config",
        file,
        "--limit", // the flag wins over the file
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
    })).then(() => {}));
});

test("cli serve --config: bad JSON names its line and column, a bad field its name", async () => {
  const cases: [string, RegExp][] = [
    ['{\n  "limits": {\n    "maxPayloadBytes": 16,\n  }\n}\n', /line 4, column 3: not valid JSON/],
    ["[1]", /The file must hold a JSON object, got array/],
    ['{"limit": {}}', /Unknown field "limit": expected users, default_permissions, limits/],
    ['{"limits": {"maxPayload": 1}}', /limits\.maxPayload: unknown limit/],
    ['{"limits": {"maxPayloadBytes": 0}}', /limits: Limit "maxPayloadBytes" must be a positive/],
    ['{"slow_consumer_policy": "drop-all"}', /slow_consumer_policy: expected "disconnect"/],
    ['{"default_permissions": {}}', /missing field "users"/],
  ];
  for (const [text, expected] of cases) {
    await withConfig(text, async (file) => {
      const { code, io } = await runCli(["serve", "--port", "0", "--config", file]);
      assert.equal(code, 1, text);
      assert.match(io.errText, new RegExp(`Invalid --config ".*server\\.json": `));
      assert.match(io.errText, expected);
    });
  }
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
