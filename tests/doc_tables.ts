/**
 * Reads the tables of a Markdown document, for the tests that hold the docs
 * to the code (tests/operations_doc.test.ts, tests/security_doc.test.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const UNITS: Record<string, number> = { "": 1, KiB: 1024, MiB: 1024 * 1024 };

/** A Markdown document read from the repository root (the tests' working directory). */
export class DocTables {
  readonly path: string;
  readonly text: string;

  /** @param path The document's path from the repository root, such as `docs/OPERATIONS.md`. */
  constructor(path: string) {
    this.path = path;
    this.text = readFileSync(path, "utf8");
  }

  /** The lines of the section under `heading`, up to the next heading. */
  section(heading: string): string[] {
    const lines = this.text.split("\n");
    const start = lines.indexOf(heading);
    assert.notEqual(start, -1, `${this.path} has no "${heading}"`);
    const end = lines.findIndex((line, i) => i > start && /^#{1,3} /.test(line));
    return lines.slice(start + 1, end === -1 ? undefined : end);
  }

  /** The cells of a section's table rows, after the header and its rule. */
  tableRows(heading: string): string[][] {
    const rows = this.section(heading).filter((line) => line.startsWith("|"));
    assert.ok(rows.length > 2, `no table under "${heading}"`);
    return rows.slice(2).map((row) => row.split("|").slice(1, -1).map((cell) => cell.trim()));
  }

  /** A limits table (name, default, ...) as name to default, reading "1 MiB" as 1048576. */
  limitsTable(heading: string): Record<string, number> {
    const limits: Record<string, number> = {};
    for (const [name, value] of this.tableRows(heading)) {
      const key = /^`(\w+)`$/.exec(name)?.[1];
      const amount = /^(\d+)(?: (KiB|MiB))?$/.exec(value);
      assert.ok(key !== undefined, `unreadable limit name ${name} under "${heading}"`);
      assert.ok(amount !== null, `unreadable default ${value} of ${key}`);
      assert.equal(limits[key], undefined, `${key} is listed twice under "${heading}"`);
      limits[key] = Number(amount[1]) * UNITS[amount[2] ?? ""];
    }
    return limits;
  }
}
