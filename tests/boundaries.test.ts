import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { checkBoundaries } from "../scripts/check_boundaries.ts";
import { VERSION } from "../src/version.ts";

test("src/ follows the boundary rules (runtime globals, layers, leaves, _-private files)", () => {
  assert.deepEqual(checkBoundaries(process.cwd()), []);
});

test("src/version.ts matches the version in deno.json", () => {
  const config = JSON.parse(readFileSync("deno.json", "utf8"));
  assert.equal(VERSION, config.version);
});

test("the boundary check reports a runtime global and an upward import", () => {
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

/** Runs the check on a tree of `files` (path to source) written under a temp dir. */
function checkTree(files: Record<string, string>): string[] {
  const root = mkdtempSync(join(tmpdir(), "boundaries-"));
  try {
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), source);
    }
    return checkBoundaries(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("the boundary check reports a leaf in src/ that imports a layer", () => {
  assert.deepEqual(
    checkTree({
      "src/protocol/frames.ts": "export type P = 1;\n",
      "src/_async.ts": "export const a = 1;\n",
      "src/errors.ts": "export const e = 1;\n",
      "src/limits.ts": [
        'import type { P } from "./protocol/frames.ts";',
        'import { a } from "./_async.ts";',
        'export { e } from "./errors.ts";',
        "export const l: P = a;",
      ].join("\n"),
    }),
    ["src/limits.ts:1: leaf imports a non-leaf (./protocol/frames.ts)"],
  );
});

test("the boundary check reports an import of another folder's _-private file", () => {
  assert.deepEqual(
    checkTree({
      "src/transport/_connect_errors.ts": "export const c = 1;\n",
      "src/transport/node.ts": 'import { c } from "./_connect_errors.ts";\nexport const n = c;\n',
      "src/_async.ts": "export const a = 1;\n",
      "src/client/handshake.ts": [
        "/**",
        " * A block comment keeps the line numbers right.",
        " */",
        'import { a } from "../_async.ts";',
        'import { c } from "../transport/_connect_errors.ts";',
        'export const h = import("../transport/_connect_errors.ts").then(() => a + c);',
      ].join("\n"),
    }),
    [
      "src/client/handshake.ts:5: imports src/transport/_connect_errors.ts, private to " +
      "src/transport/ (../transport/_connect_errors.ts)",
      "src/client/handshake.ts:6: imports src/transport/_connect_errors.ts, private to " +
      "src/transport/ (../transport/_connect_errors.ts)",
    ],
  );
});

test("the boundary check reports ioredis imported outside the Redis backplane, and its files imported from elsewhere", () => {
  assert.deepEqual(
    checkTree({
      "src/backplane/redis.ts": 'export { r } from "./redis_link.ts";\n',
      "src/backplane/redis_link.ts": 'import { Redis } from "ioredis";\nexport const r = Redis;\n',
      "src/backplane/peers.ts": 'import { r } from "./redis_link.ts";\nexport const p = r;\n',
      "src/server/x.ts": 'import { Redis } from "npm:ioredis@6.1.0";\nexport const x = Redis;\n',
      "src/server/y.ts": 'export { r } from "../backplane/redis.ts";\n',
    }).sort(),
    [
      "src/backplane/peers.ts:1: imports src/backplane/redis_link.ts, internal to " +
      "src/backplane/redis.ts and src/backplane/redis_*.ts",
      "src/server/x.ts:1: imports npm:ioredis@6.1.0, which only src/backplane/redis.ts and " +
      "src/backplane/redis_*.ts may",
    ],
  );
});
