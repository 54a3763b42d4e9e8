/**
 * The benchmark: starts the server with the CLI on Deno, Bun and Node (the
 * npm build), each scenario against a fresh server process, drives it from
 * this process over loopback, and reads the server's CPU time and memory
 * from `/proc/<pid>` (Linux). Bounded in time; stops by itself.
 *
 * Scenarios: fan-out 1/10/100 (one publisher, 128-byte messages), fan-in
 * (10 publishers, 1 subscriber), many topics (1,000 topics and subscribers,
 * random publishes), latency (2,000 msgs/s for 5 s), connections (2,000 idle
 * subscribers), slow consumer (one stalled subscriber among 10).
 *
 * Run: `npm run bench` (`bun scripts/bench.ts`), with options
 * `--runtimes deno,bun,node` (also `node24`, and `relay`: a minimal relay
 * that shows the floor of the machine), `--scenarios fanout1,latency,...`,
 * `--quick` (smaller counts), `--cold` (measure the first pass: by default
 * the fan-out, fan-in and topics loads run once unmeasured first, and the
 * latency scenario publishes 2 s unsampled, so that the figures are of
 * compiled code), `--repeat N` (report the median run) and `--json FILE`.
 * The Node server needs the npm build (`npm run build`).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { existsSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import process from "node:process";
import { parseArgs } from "node:util";
import { type Options, type Result, SCENARIOS } from "./_bench_scenarios.ts";
import { type Runtime, Server } from "./_bench_server.ts";
import { benchMatch } from "./_bench_match.ts";

// ---- report -------------------------------------------------------------------

/** The run in the middle, by the scenario's main figure. */
function median(runs: Result[]): Result {
  const key = (r: Result): number =>
    r.cpuUsPerDelivery ?? r.p99Us ?? r.rssKiBPerConn ?? -(r.deliveredPerSec ?? 0);
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  return runs.length > 1
    ? { ...middle, note: `${middle.note ?? ""} median of ${runs.length}`.trim() }
    : middle;
}

function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  return value.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function table(results: Result[]): string {
  const header = [
    "scenario",
    "runtime",
    "delivered/s",
    "published/s",
    "lost",
    "server µs/deliv",
    "p50 µs",
    "p99 µs",
    "max µs",
    "connect ms",
    "RSS KiB/conn",
    "peak RSS MiB",
    "note",
  ];
  const rows = results.map((r) => [
    r.scenario,
    r.runtime,
    fmt(r.deliveredPerSec),
    fmt(r.publishedPerSec),
    fmt(r.lost),
    fmt(r.cpuUsPerDelivery, 3),
    fmt(r.p50Us),
    fmt(r.p99Us),
    fmt(r.maxUs),
    fmt(r.connectMs),
    fmt(r.rssKiBPerConn, 1),
    fmt(r.peakRssMiB, 1),
    r.note ?? "",
  ]);
  return [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`).join(
    "\n",
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      runtimes: { type: "string", default: "deno,bun,node" },
      scenarios: { type: "string", default: [...Object.keys(SCENARIOS), "match"].join(",") },
      quick: { type: "boolean", default: false },
      cold: { type: "boolean", default: false },
      repeat: { type: "string", default: "1" },
      json: { type: "string" },
    },
  });
  const runtimes = values.runtimes!.split(",") as Runtime[];
  if (runtimes.some((r) => r.startsWith("node")) && !existsSync("npm/esm/src/cli/bin.js")) {
    throw new Error("The Node server runs the npm build: run `npm run build` first");
  }
  const options: Options = { quick: values.quick!, warm: !values.cold! };
  const results: Result[] = [];
  let match: ReturnType<typeof benchMatch> | undefined;
  for (const scenario of values.scenarios!.split(",")) {
    if (scenario === "match") {
      match = benchMatch();
      continue;
    }
    const run = SCENARIOS[scenario];
    if (run === undefined) throw new Error(`Unknown scenario "${scenario}"`);
    for (const runtime of runtimes) {
      const runs: Result[] = [];
      for (let i = 0; i < Number(values.repeat); i++) {
        const server = new Server(runtime);
        try {
          await server.started();
          const result: Result = { scenario, runtime, ...await run(server, options) };
          const [user, system] = server.cpuSplitUs();
          result.systemShare = system / (user + system);
          runs.push(result);
          console.error(`${scenario} on ${runtime}: ${JSON.stringify(result)}`);
        } finally {
          await server.stop();
        }
        const last = runs[runs.length - 1];
        const slow = server.slowConsumers();
        if (last !== undefined && slow) {
          last.note = [last.note, `${slow} slow consumer(s) disconnected`].filter(Boolean).join(
            "; ",
          );
        }
      }
      results.push(median(runs));
    }
  }
  const cpu = cpus();
  console.log(
    `\nMachine: ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}; load generator on ${
      typeof (globalThis as Record<string, unknown>)["Bun"] !== "undefined"
        ? "Bun"
        : "another runtime"
    } in a separate process; 128-byte messages; loopback.\n`,
  );
  console.log(table(results));
  if (match !== undefined) {
    console.log(
      `\nmatch: ${match.subscriptions.toLocaleString("en-US")} subscriptions, ` +
        `${Math.round(match.matchesPerSec).toLocaleString("en-US")} matches/s ` +
        `(${match.nsPerMatch.toFixed(0)} ns per match, ${match.deliveriesPerMatch.toFixed(1)} ` +
        `subscribers per topic), in the load generator's runtime`,
    );
  }
  if (values.json) {
    writeFileSync(values.json, JSON.stringify({ machine: cpu[0]?.model, results, match }, null, 2));
  }
}

if (import.meta.main) await main();
