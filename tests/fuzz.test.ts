/**
 * A bounded fuzz run: attackers throw random bytes, truncated and mutated
 * frames, deep nesting, huge numbers, NUL bytes, lone surrogates, invalid
 * UTF-8, floods of tiny frames, lines around the limit, CR-only lines,
 * half-closed and aborted connections at the server (`_fuzz_framing.ts` and
 * `_fuzz_values.ts` list them, `_fuzz_peers.ts` sends them and checks each
 * answer), while a well-behaved publisher and two subscribers check that
 * their stream arrives whole, in order and byte for byte. Seeded, so every
 * run tries the same inputs; bounded by count, not time. The counts per
 * category are reported as diagnostics (`fuzz inputs: N`).
 */
import { test } from "node:test";
import { serverCases } from "./helpers.ts";
import { type FuzzInput, rng, shuffle } from "./_fuzz_inputs.ts";
import { framingInputs } from "./_fuzz_framing.ts";
import { valueInputs } from "./_fuzz_values.ts";
import { runFuzz } from "./_fuzz_run.ts";

const SEED = 20240601;
const ATTACKERS = 4;
/** Small enough that lines around it are cheap, large enough for 100,000-deep nesting. */
const MAX_LINE_BYTES = 256 * 1024;

/** Every input of one run, shuffled so that the categories mix: the same every run. */
function fuzzInputs(): FuzzInput[] {
  const random = rng(SEED);
  return shuffle([...framingInputs(random, MAX_LINE_BYTES), ...valueInputs()], random);
}

for (const { name, make } of serverCases()) {
  const inputs = fuzzInputs();
  const title = `fuzz (${name}): ${inputs.length} hostile inputs never crash the server, ` +
    "leak a connection or touch another client's stream";
  // A bound on a hang, not a clock the test waits on: Bun's default of 5 s is too tight.
  test(title, { timeout: 60_000 }, async (t) => {
    const report = await runFuzz(make(), inputs[Symbol.iterator](), {
      attackers: ATTACKERS,
      maxLineBytes: MAX_LINE_BYTES,
      minGoodMessages: 1000,
      diagnostic: (line) => t.diagnostic(line),
    });
    t.diagnostic(`checked ${report.inputs} inputs, ${report.goodMessages} good messages`);
  });
}
