/**
 * Holds docs/SECURITY.md to the code: its server limits table lists every
 * default of `src/limits.ts` with its value and nothing else, and README.md
 * and docs/AUTH.md link to it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DEFAULT_SERVER_LIMITS } from "../mod.ts";
import { DocTables } from "./doc_tables.ts";

const security = new DocTables("docs/SECURITY.md");

test("docs/SECURITY.md lists every server limit with its default, and nothing else", () => {
  assert.deepEqual(security.limitsTable("### Server limits"), { ...DEFAULT_SERVER_LIMITS });
});

test("docs/SECURITY.md has the threat model, what is defended and what is not", () => {
  for (const heading of ["## Threat model", "## What is defended", "## Not defended"]) {
    assert.ok(security.section(heading).join("\n").trim().length > 0, heading);
  }
});

test("README.md and docs/AUTH.md link to docs/SECURITY.md", () => {
  assert.ok(readFileSync("README.md", "utf8").includes("(docs/SECURITY.md)"));
  assert.ok(readFileSync("docs/AUTH.md", "utf8").includes("(SECURITY.md)"));
});
