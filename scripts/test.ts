/**
 * Every check and test on every runtime: what `npm test` runs.
 *
 * Static checks (fmt, lint, type check, doc lint, publish dry run), the npm
 * build with publint and attw, a smoke test of the packed build on Node and
 * Bun, then the one test suite on Deno, Bun, Node 20 (compiled, against the
 * build) and Node 24 (type-stripped sources). Ends with a plain
 * `N passed, N failed, N skipped` line summing all runtimes; exits non-zero
 * if anything failed.
 *
 * Run: `deno run -A scripts/test.ts` (after `npm ci`).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import process from "node:process";

const BIN = "node_modules/.bin";
const NODE_24 = "node@24.21.0";
const PUBLIC_ENTRIES = [
  "mod.ts",
  "src/cli/bin.ts",
  "src/transport/deno.ts",
  "src/transport/bun.ts",
  "src/transport/node.ts",
];

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Step {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Reads test counts from the output; a step without one counts as one check. */
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

const removeNodeTests = (): void => {
  for (const dir of ["npm/esm/tests", "npm/esm/scripts"]) {
    rmSync(dir, { recursive: true, force: true });
  }
};

const STEPS: Step[] = [
  { name: "deno fmt --check", command: `${BIN}/deno`, args: ["fmt", "--check"] },
  { name: "deno lint", command: `${BIN}/deno`, args: ["lint"] },
  {
    name: "deno check",
    command: `${BIN}/deno`,
    args: ["check", "mod.ts", "src/", "scripts/", "tests/"],
  },
  { name: "deno doc --lint", command: `${BIN}/deno`, args: ["doc", "--lint", ...PUBLIC_ENTRIES] },
  {
    name: "deno publish --dry-run",
    command: `${BIN}/deno`,
    args: ["publish", "--dry-run", "--allow-dirty"],
  },
  {
    name: "doc examples on Deno",
    command: `${BIN}/deno`,
    args: ["test", "--doc", "-A", "mod.ts", "src/"],
    parse: parseDeno,
  },
  {
    name: "npm build + publint + attw",
    command: `${BIN}/deno`,
    args: ["run", "-A", "scripts/build_npm.ts", "--check"],
  },
  {
    name: "npm package smoke (Node, Bun)",
    command: `${BIN}/deno`,
    args: ["run", "-A", "scripts/smoke_npm.ts"],
    parse: parsePlain,
  },
  {
    name: "tests on Deno",
    command: `${BIN}/deno`,
    args: ["test", "-A", "--no-check", "tests/"],
    env: { KN_SOCK_MATRIX: "1" },
    parse: parseDeno,
  },
  { name: "tests on Bun", command: `${BIN}/bun`, args: ["test", "./tests/"], parse: parseBun },
  {
    name: "compile tests into npm/esm for Node 20",
    command: `${BIN}/tsc`,
    args: ["-p", "tsconfig.test.json"],
    before: removeNodeTests,
  },
  {
    name: "tests on Node 20 (the npm build)",
    command: "node",
    args: ["--test", "--test-reporter=tap", "npm/esm/tests/"],
    parse: parseNode,
    after: removeNodeTests,
  },
  {
    name: "tests on Node 24 (type-stripped sources)",
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

async function main(): Promise<number> {
  const rows: string[] = [];
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const step of STEPS) {
    step.before?.();
    const { code, output } = await runStep(step);
    step.after?.();
    let counts = step.parse ? step.parse(output) : null;
    if (counts === null) {
      counts = { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 };
    } else if (code !== 0 && counts.failed === 0) {
      counts.failed = 1; // the runner failed without a failing test: count it
    }
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
    const status = code === 0 && counts.failed === 0 ? "ok  " : "FAIL";
    rows.push(
      `${status} ${step.name}: ${counts.passed} passed, ${counts.failed} failed` +
        (counts.skipped ? `, ${counts.skipped} skipped` : ""),
    );
  }
  console.log("\n=== summary");
  for (const row of rows) console.log(row);
  console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return total.failed === 0 ? 0 : 1;
}

process.exitCode = await main();
