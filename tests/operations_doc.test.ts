/**
 * Holds docs/OPERATIONS.md to the code: its limit tables list every default
 * of `src/limits.ts` with its value and nothing else, its error-code table
 * lists every `ErrorCode` (each also in docs/PROTOCOL.md), and its
 * slow-consumer section names every policy and the default one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_CLIENT_LIMITS,
  DEFAULT_SERVER_LIMITS,
  DEFAULT_SLOW_CONSUMER_POLICY,
  ErrorCode,
  SlowConsumerPolicy,
} from "../mod.ts";
import { readFileSync } from "node:fs";
import { DocTables } from "./doc_tables.ts";

// Read from the working directory, the repository root, as tests/protocol_doc.test.ts does: the
// same path serves the sources (Deno, Bun, Node 24) and the compiled tests in npm/esm (Node 20).
const operations = new DocTables("docs/OPERATIONS.md");
const protocol = readFileSync("docs/PROTOCOL.md", "utf8");

test("docs/OPERATIONS.md lists every server limit with its default, and nothing else", () => {
  assert.deepEqual(operations.limitsTable("### Server limits"), { ...DEFAULT_SERVER_LIMITS });
});

test("docs/OPERATIONS.md lists every client limit with its default, and nothing else", () => {
  assert.deepEqual(operations.limitsTable("### Client limits"), { ...DEFAULT_CLIENT_LIMITS });
});

test("docs/OPERATIONS.md lists every error code, and docs/PROTOCOL.md has each", () => {
  const listed = operations.tableRows("## Error codes").map(([code]) =>
    /^`([a-z0-9_]+)`$/.exec(code)?.[1]
  );
  assert.deepEqual([...listed].sort(), Object.values(ErrorCode).sort());
  for (const code of listed) {
    assert.ok(protocol.includes(`| \`${code}\``), `docs/PROTOCOL.md has no row for ${code}`);
  }
});

test("docs/OPERATIONS.md names every slow-consumer policy and the default one", () => {
  const text = operations.section("## Slow consumers").join("\n");
  for (const policy of Object.values(SlowConsumerPolicy)) {
    assert.ok(text.includes(`- \`${policy}\``), `no item for the policy ${policy}`);
  }
  assert.ok(text.includes(`- \`${DEFAULT_SLOW_CONSUMER_POLICY}\` (the default)`));
});
