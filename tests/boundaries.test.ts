import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import process from "node:process";
import { checkBoundaries } from "../scripts/check_boundaries.ts";
import { VERSION } from "../src/version.ts";

test("only the adapters and the CLI name runtime globals, and layers import downwards", () => {
  assert.deepEqual(checkBoundaries(process.cwd()), []);
});

test("src/version.ts matches the version in deno.json", () => {
  const config = JSON.parse(readFileSync("deno.json", "utf8"));
  assert.equal(VERSION, config.version);
});

test("the boundary check reports a runtime global and an upward import", async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const root = mkdtempSync(join(tmpdir(), "boundaries-"));
  try {
    mkdirSync(join(root, "src", "protocol"), { recursive: true });
    mkdirSync(join(root, "src", "server"), { recursive: true });
    writeFileSync(join(root, "src", "server", "x.ts"), "export const x = 1;\n");
    writeFileSync(
      join(root, "src", "protocol", "leak.ts"),
      'import { x } from "../server/x.ts";\nexport const y = Deno.pid + x;\n',
    );
    assert.deepEqual(checkBoundaries(root), [
      "src/protocol/leak.ts:1: protocol/ imports server/ (../server/x.ts)",
      "src/protocol/leak.ts:2: names Deno",
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
