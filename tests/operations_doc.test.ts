/**
 * Holds docs/OPERATIONS.md to the code: its limit tables list every default
 * of `src/limits.ts` with its value and nothing else, its error-code table
 * lists every `ErrorCode` (each also in docs/PROTOCOL.md), and its
 * slow-consumer section names every policy and the default one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  DEFAULT_CLIENT_LIMITS,
  DEFAULT_SERVER_LIMITS,
  DEFAULT_SLOW_CONSUMER_POLICY,
  ErrorCode,
  SlowConsumerPolicy,
} from "../mod.ts";

// Read from the working directory, the repository root, as tests/protocol_doc.test.ts does: the
// same path serves the sources (Deno, Bun, Node 24) and the compiled tests in npm/esm (Node 20).
const doc = readFileSync("docs/OPERATIONS.md", "utf8");
const protocol = readFileSync("docs/PROTOCOL.md", "utf8");

const UNITS: Record<string, number> = { "": 1, KiB: 1024, MiB: 1024 * 1024 };

/** The lines of the section under `heading`, up to the next heading. */
function section(heading: string): string[] {
  const lines = doc.split("\n");
  const start = lines.indexOf(heading);
  assert.notEqual(start, -1, `docs/OPERATIONS.md has no "${heading}"`);
  const end = lines.findIndex((line, i) => i > start && /^#{1,3} /.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** The first cells of a section's table rows, after the header and its rule. */
function tableRows(heading: string): string[][] {
  const rows = section(heading).filter((line) => line.startsWith("|"));
  assert.ok(rows.length > 2, `no table under "${heading}"`);
  return rows.slice(2).map((row) => row.split("|").slice(1, -1).map((cell) => cell.trim()));
}

/** A limits table as name to default, reading "1 MiB" as 1048576. */
function limitsTable(heading: string): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const [name, value] of tableRows(heading)) {
    const key = /^`(\w+)`$/.exec(name)?.[1];
    const amount = /^(\d+)(?: (KiB|MiB))?$/.exec(value);
    assert.ok(key !== undefined, `unreadable limit name ${name} under "${heading}"`);
    assert.ok(amount !== null, `unreadable default ${value} of ${key}`);
    assert.equal(limits[key], undefined, `${key} is listed twice under "${heading}"`);
    limits[key] = Number(amount[1]) * UNITS[amount[2] ?? ""];
  }
  return limits;
}

test("docs/OPERATIONS.md lists every server limit with its default, and nothing else", () => {
  assert.deepEqual(limitsTable("### Server limits"), { ...DEFAULT_SERVER_LIMITS });
});

test("docs/OPERATIONS.md lists every client limit with its default, and nothing else", () => {
  assert.deepEqual(limitsTable("### Client limits"), { ...DEFAULT_CLIENT_LIMITS });
});

test("docs/OPERATIONS.md lists every error code, and docs/PROTOCOL.md has each", () => {
  const listed = tableRows("## Error codes").map(([code]) => /^`([a-z0-9_]+)`$/.exec(code)?.[1]);
  assert.deepEqual([...listed].sort(), Object.values(ErrorCode).sort());
  for (const code of listed) {
    assert.ok(protocol.includes(`| \`${code}\``), `docs/PROTOCOL.md has no row for ${code}`);
  }
});

test("docs/OPERATIONS.md names every slow-consumer policy and the default one", () => {
  const text = section("## Slow consumers").join("\n");
  for (const policy of Object.values(SlowConsumerPolicy)) {
    assert.ok(text.includes(`- \`${policy}\``), `no item for the policy ${policy}`);
  }
  assert.ok(text.includes(`- \`${DEFAULT_SLOW_CONSUMER_POLICY}\` (the default)`));
});
