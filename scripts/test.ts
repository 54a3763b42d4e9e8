/**
 * Every check and test on every runtime: what `npm test` runs.
 *
 * Static checks (fmt, lint, type check, doc lint, publish dry run), the npm
 * build with publint and attw, a smoke test of the packed build on Node and
 * Bun, then the one test suite on Deno, Bun, Node 20 (compiled, against the
 * build) and Node 24 (type-stripped sources). A step that should run tests
 * and runs none (nothing passed, nothing failed) fails. The summary counts
 * static checks, doc examples and tests apart, tests per runtime with the
 * runtime's version, and ends with a plain `N passed, N failed, N skipped`
 * line summing everything; exits non-zero if anything failed.
 *
 * Run: `deno run -A scripts/test.ts` (after `npm ci`).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import process from "node:process";

const BIN = "node_modules/.bin";
const NODE_24 = "node@24.21.0";
const PUBLIC_ENTRIES = [
  "mod.ts",
  "src/cli/main.ts",
  "src/transport/deno.ts",
  "src/transport/bun.ts",
  "src/transport/node.ts",
  "src/browser.ts",
  "src/backplane/redis.ts",
];

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** What a step counts as in the summary. */
type Kind = "check" | "doc" | "test";

interface Step {
  name: string;
  kind: Kind;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /**
   * Reads test counts from the output; a step without one counts as one
   * check. A step with one fails when it finds no count, or 0 passed and 0
   * failed.
   */
  parse?: (output: string) => Counts | null;
  before?: () => void;
  after?: () => void;
}

function number(output: string, pattern: RegExp): number {
  const matches = [...output.matchAll(pattern)];
  return matches.length === 0 ? 0 : Number(matches[matches.length - 1][1]);
}

function parseDeno(output: string): Counts | null {
  const line = output.split("\n").reverse().find((l) => /^(ok|FAILED) \| \d+ passed/.test(l));
  if (line === undefined) return null;
  return {
    passed: number(line, /(\d+) passed/g),
    failed: number(line, /(\d+) failed/g),
    skipped: number(line, /(\d+) ignored/g),
  };
}

function parseBun(output: string): Counts | null {
  if (!/^\s*\d+ pass$/m.test(output)) return null;
  return {
    passed: number(output, /^\s*(\d+) pass$/gm),
    failed: number(output, /^\s*(\d+) fail$/gm),
    skipped: number(output, /^\s*(\d+) skip$/gm),
  };
}

function parseNode(output: string): Counts | null {
  if (!/^(#|ℹ) pass \d+$/m.test(output)) return null;
  return {
    passed: number(output, /^(?:#|ℹ) pass (\d+)$/gm),
    failed: number(output, /^(?:#|ℹ) fail (\d+)$/gm) +
      number(output, /^(?:#|ℹ) cancelled (\d+)$/gm),
    skipped: number(output, /^(?:#|ℹ) skipped (\d+)$/gm),
  };
}

function parsePlain(output: string): Counts | null {
  const line = output.split("\n").reverse().find((l) => /^\d+ passed, \d+ failed/.test(l));
  if (line === undefined) return null;
  return {
    passed: number(line, /(\d+) passed/g),
    failed: number(line, /(\d+) failed/g),
    skipped: 0,
  };
}

/** The first line `command args` prints, or "version unknown". */
function version(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  const line = result.status === 0 ? result.stdout.trim().split("\n")[0] : "";
  return line === "" ? "version unknown" : line;
}

const DENO = version(`${BIN}/deno`, ["--version"]).replace(/^deno (\S+).*$/, "Deno $1");
const BUN = `Bun ${version(`${BIN}/bun`, ["--version"])}`;
const NODE = `Node ${version("node", ["--version"])}`;
const NODE_NEW = `Node ${version("npx", ["-y", NODE_24, "--version"])}`;

const removeNodeTests = (): void => {
  for (const dir of ["npm/esm/tests", "npm/esm/scripts"]) {
    rmSync(dir, { recursive: true, force: true });
  }
};

const STEPS: Step[] = [
  { name: "deno fmt --check", kind: "check", command: `${BIN}/deno`, args: ["fmt", "--check"] },
  { name: "deno lint", kind: "check", command: `${BIN}/deno`, args: ["lint"] },
  {
    name: "deno check",
    kind: "check",
    command: `${BIN}/deno`,
    args: ["check", "mod.ts", "src/", "scripts/", "tests/"],
  },
  {
    name: "deno doc --lint",
    kind: "check",
    command: `${BIN}/deno`,
    args: ["doc", "--lint", ...PUBLIC_ENTRIES],
  },
  {
    name: "deno publish --dry-run",
    kind: "check",
    command: `${BIN}/deno`,
    args: ["publish", "--dry-run", "--allow-dirty"],
  },
  {
    name: `doc examples on ${DENO}`,
    kind: "doc",
    command: `${BIN}/deno`,
    args: ["test", "--doc", "-A", "mod.ts", "src/"],
    parse: parseDeno,
  },
  {
    name: "npm build + publint + attw",
    kind: "check",
    command: `${BIN}/deno`,
    args: ["run", "-A", "scripts/build_npm.ts", "--check"],
  },
  {
    name: `npm package smoke (${NODE}, ${BUN})`,
    kind: "check",
    command: `${BIN}/deno`,
    args: ["run", "-A", "scripts/smoke_npm.ts"],
    parse: parsePlain,
  },
  {
    name: `tests on ${DENO}`,
    kind: "test",
    command: `${BIN}/deno`,
    args: ["test", "-A", "--no-check", "tests/"],
    env: { KN_SOCK_MATRIX: "1" },
    parse: parseDeno,
  },
  {
    name: `tests on ${BUN}`,
    kind: "test",
    command: `${BIN}/bun`,
    args: ["test", "./tests/"],
    parse: parseBun,
  },
  {
    name: `compile tests into npm/esm for ${NODE}`,
    kind: "check",
    command: `${BIN}/tsc`,
    args: ["-p", "tsconfig.test.json"],
    before: removeNodeTests,
  },
  {
    name: `tests on ${NODE} (the npm build)`,
    kind: "test",
    command: "node",
    args: ["--test", "--test-reporter=tap", "npm/esm/tests/"],
    parse: parseNode,
    after: removeNodeTests,
  },
  {
    name: `tests on ${NODE_NEW} (type-stripped sources)`,
    kind: "test",
    command: "npx",
    args: ["-y", NODE_24, "--test", "--test-reporter=tap", "tests/*.test.ts"],
    parse: parseNode,
  },
];

function runStep(step: Step): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    console.log(`\n=== ${step.name}: ${step.command} ${step.args.join(" ")}`);
    const child = spawn(step.command, step.args, {
      env: { ...process.env, NO_COLOR: "1", ...step.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (chunk: Uint8Array, to: NodeJS.WriteStream): void => {
      output += new TextDecoder().decode(chunk);
      to.write(chunk);
    };
    child.stdout!.on("data", (chunk: Uint8Array) => collect(chunk, process.stdout));
    child.stderr!.on("data", (chunk: Uint8Array) => collect(chunk, process.stderr));
    child.on("error", (error) => {
      output += String(error);
      resolve({ code: 127, output });
    });
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

function add(to: Counts, counts: Counts): void {
  to.passed += counts.passed;
  to.failed += counts.failed;
  to.skipped += counts.skipped;
}

function describe(counts: Counts): string {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

async function main(): Promise<number> {
  const rows: string[] = [];
  const byKind: Record<Kind, Counts> = {
    check: { passed: 0, failed: 0, skipped: 0 },
    doc: { passed: 0, failed: 0, skipped: 0 },
    test: { passed: 0, failed: 0, skipped: 0 },
  };
  const runtimes: string[] = [];
  for (const step of STEPS) {
    step.before?.();
    const { code, output } = await runStep(step);
    step.after?.();
    let counts = step.parse ? step.parse(output) : null;
    let note = "";
    if (counts === null) {
      counts = { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 };
      if (step.parse && code === 0) {
        // It should have run tests, and its runner printed no count.
        counts = { passed: 0, failed: 1, skipped: 0 };
        note = " (no test count found in the output)";
      }
    } else if (counts.passed === 0 && counts.failed === 0) {
      counts.failed = 1; // it ran no test: count that as a failure
      note = " (ran no tests)";
    } else if (code !== 0 && counts.failed === 0) {
      counts.failed = 1; // the runner failed without a failing test: count it
    }
    add(byKind[step.kind], counts);
    const status = code === 0 && counts.failed === 0 ? "ok  " : "FAIL";
    rows.push(`${status} ${step.name}: ${describe(counts)}${note}`);
    if (step.kind === "test") runtimes.push(`  ${step.name}: ${describe(counts)}`);
  }
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const counts of Object.values(byKind)) add(total, counts);
  console.log("\n=== summary");
  for (const row of rows) console.log(row);
  console.log("");
  console.log(`checks: ${byKind.check.passed} passed, ${byKind.check.failed} failed`);
  console.log(`doc examples: ${describe(byKind.doc)}`);
  for (const row of runtimes) console.log(row);
  console.log(`tests: ${describe(byKind.test)}`);
  console.log(describe(total));
  return total.failed === 0 ? 0 : 1;
}

process.exitCode = await main();
