/**
 * The long fuzz run: `npm run fuzz -- --seconds N` runs the fuzz harness of
 * `tests/fuzz.test.ts` on each runtime in turn (Deno, Bun, Node 20 on the
 * compiled build, Node 24), each for N seconds, and prints how many hostile
 * inputs each tried. Without `--seconds`, each runs until it tried
 * `--inputs` inputs (default 1,000,000). The inputs come from the seeded
 * generators in `tests/_fuzz_framing.ts` and `tests/_fuzz_values.ts`, one
 * seed after another (every input of every category every 20 seeds, the
 * freshly seeded random, truncated and mutated frames in between); attackers send them in batches (a ping after each
 * input tells its answer apart), over the runtime's own TCP transport (or
 * `--transport memory`), while a good publisher and two good subscribers
 * check every delivery value for value. Exits non-zero if any runtime
 * found anything wrong.
 *
 * ```sh
 * npm run fuzz -- --seconds 60
 * npm run fuzz -- --runtimes deno,bun --inputs 2000000
 * ```
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { spawn, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import process from "node:process";
import { createMemoryTransport, defaultTransport, detectRuntime } from "../mod.ts";
import { Category, type FuzzInput, rng, shuffle } from "../tests/_fuzz_inputs.ts";
import { framingInputs } from "../tests/_fuzz_framing.ts";
import { valueInputs } from "../tests/_fuzz_values.ts";
import { runFuzz } from "../tests/_fuzz_run.ts";

const BIN = "node_modules/.bin";
const NODE_24 = "node@24.21.0";
const FIRST_SEED = 20240601;
const ATTACKERS = 4;
/** Stream inputs an attacker writes at once. */
const BATCH = 64;
const MAX_LINE_BYTES = 256 * 1024;
const RESULT = "fuzz result: ";

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

/** Every this many seeds, all inputs; in between, only the seeded random and mutated ones. */
const FULL_EVERY = 20;
/** The categories each seed makes afresh (the others are the same every seed, and slower). */
const SEEDED: ReadonlySet<string> = new Set([
  Category.RandomBytes,
  Category.Truncated,
  Category.Mutated,
]);

/**
 * Inputs from one seed after another, each seed's shuffled as in the test,
 * until `done()`. The first seed and every `FULL_EVERY`th give every input
 * of the test's generators; the seeds between give the categories a seed
 * changes (random bytes, truncated and mutated frames), which are most of
 * them and the cheapest to try.
 */
function* inputs(done: (count: number) => boolean): Generator<FuzzInput> {
  let count = 0;
  for (let seed = 0;; seed++) {
    const random = rng(FIRST_SEED + seed);
    const all = shuffle([...framingInputs(random, MAX_LINE_BYTES), ...valueInputs()], random);
    for (const input of all) {
      if (seed % FULL_EVERY !== 0 && !SEEDED.has(input.category)) continue;
      if (done(count)) return;
      count++;
      yield input;
    }
  }
}

/** One runtime's run, in this process; prints its result as one JSON line. */
async function child(): Promise<void> {
  const seconds = option("seconds");
  const limit = Number(option("inputs") ?? 1_000_000);
  const deadline = seconds === undefined ? Infinity : Date.now() + Number(seconds) * 1000;
  const transport = option("transport") === "memory"
    ? createMemoryTransport()
    : await defaultTransport();
  const started = Date.now();
  const report = await runFuzz(
    transport,
    inputs((count) => count >= limit || Date.now() >= deadline),
    {
      attackers: ATTACKERS,
      maxLineBytes: MAX_LINE_BYTES,
      minGoodMessages: 1000,
      batch: BATCH,
      diagnostic: (line) => console.log(`  ${line}`),
    },
  );
  const elapsed = (Date.now() - started) / 1000;
  console.log(RESULT + JSON.stringify({ ...report, seconds: elapsed, transport: transport.name }));
}

interface Runtime {
  name: string;
  command: string;
  args: string[];
}

function runtimes(): Runtime[] {
  const self = ["--child", ...process.argv.slice(2)];
  const all: Runtime[] = [
    { name: "deno", command: `${BIN}/deno`, args: ["run", "-A", "scripts/fuzz.ts", ...self] },
    { name: "bun", command: `${BIN}/bun`, args: ["scripts/fuzz.ts", ...self] },
    { name: "node", command: "node", args: ["npm/esm/scripts/fuzz.js", ...self] },
    { name: "node24", command: "npx", args: ["-y", NODE_24, "scripts/fuzz.ts", ...self] },
  ];
  const wanted = option("runtimes")?.split(",");
  return wanted === undefined ? all : all.filter((r) => wanted.includes(r.name));
}

async function main(): Promise<void> {
  const chosen = runtimes();
  if (chosen.some((r) => r.name === "node")) {
    // Node 20 runs the compiled scripts and tests.
    rmSync("npm/esm/tests", { recursive: true, force: true });
    rmSync("npm/esm/scripts", { recursive: true, force: true });
    const built = spawnSync(`${BIN}/tsc`, ["-p", "tsconfig.test.json"], { stdio: "inherit" });
    if (built.status !== 0) throw new Error("tsc -p tsconfig.test.json failed");
  }
  const results: string[] = [];
  let failed = false;
  for (const runtime of chosen) {
    console.log(`fuzz on ${runtime.name} ...`);
    const child = spawn(runtime.command, runtime.args, {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    child.stdout!.on("data", (chunk: Uint8Array) => {
      const text = new TextDecoder().decode(chunk);
      output += text;
      process.stdout.write(text);
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const line = output.split("\n").find((l) => l.startsWith(RESULT));
    if (code !== 0 || line === undefined) {
      failed = true;
      results.push(`${runtime.name}: FAILED (exit ${code})`);
      continue;
    }
    const r = JSON.parse(line.slice(RESULT.length));
    results.push(
      `${runtime.name} (${r.transport}): ${r.inputs} inputs in ${r.seconds.toFixed(0)} s ` +
        `(${Math.round(r.inputs / r.seconds)}/s), ${r.goodMessages} good messages checked ` +
        "at 2 subscribers, nothing wrong",
    );
  }
  console.log("\nfuzz summary:");
  for (const result of results) console.log(`  ${result}`);
  if (failed) process.exit(1);
}

if (process.argv.includes("--child")) {
  console.log(`runtime: ${detectRuntime()}`);
  await child();
} else {
  await main();
}
