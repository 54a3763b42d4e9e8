/**
 * The cross-node benchmark (issue 16): three nodes of one cluster on one
 * `redis-server`, all three on the same runtime, started with the CLI
 * (`serve --redis`), Redis on a free port with persistence off. Publisher
 * on node A, subscribers on nodes B and C, 128-byte messages, driven from
 * this process over loopback (`_bench_cluster.ts`). Measured in the same
 * run, against the same Redis:
 *
 * - `xfanout1`, `xfanout10`, `xfanout100`: throughput across nodes
 *   (subscribers split between B and C; one subscriber: on B), as a share of
 *   `ioredis1` / `ioredis2`: raw ioredis publish→subscribe with one
 *   publisher and one subscriber connection per receiving node (target:
 *   ≥ 50%);
 * - `xlatency`: p50/p99/max at a paced 10,000 msgs/s (`--rate`), A to B,
 *   beside `latency1`, the same load on one node alone (no Redis): the
 *   difference of the p50s is the added latency (target: ≤ 1 ms);
 * - `patterns1`, `patterns10000`: Redis's CPU time per publish (from
 *   `/proc`) with 1 and 10,000 client subscriptions on B and C (target:
 *   unchanged ±20%).
 *
 * Every scenario checks that nothing was lost. Nothing is pinned: Redis,
 * three nodes and the load generator share the machine's CPUs.
 *
 * Run: `npm run bench:cluster` (`bun scripts/bench_cluster.ts`), with
 * options `--runtimes deno,bun,node` (node: the npm build), `--quick`,
 * `--scenarios LIST` (BENCH_PROFILE=DIR profiles the nodes, as in bench.ts),
 * `--repeat N` (each round runs every runtime once, in turn; the median run
 * is reported), `--rate N`, `--json FILE`.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import process from "node:process";
import { parseArgs } from "node:util";
import {
  clientPatterns,
  Cluster,
  type ClusterOptions,
  type ClusterResult,
  crossFanOut,
  pacedLatency,
  rawRedis,
} from "./_bench_cluster.ts";
import { setupProblem } from "./_bench_peers.ts";
import { roundOrder } from "./_bench_ratios.ts";
import { type Runtime, Server } from "./_bench_server.ts";

const USAGE = `Usage: bun scripts/bench_cluster.ts [options]   (npm run bench:cluster -- [options])

  --runtimes LIST    deno,bun,node (default): each runs all three nodes in its rounds
  --quick            smaller counts
  --repeat N         N rounds; each figure is the median run
  --rate N           the paced latency load, msgs/s (default 10000)
  --scenarios LIST   some of xfanout1,ioredis1,xfanout10,xfanout100,ioredis2,xlatency,
                     patterns1,patterns10000,latency1 (default: all)
  --json FILE        also write the results as JSON
  --help             this text
`;

type Scenario = (cluster: Cluster, options: ClusterOptions) => Promise<Partial<ClusterResult>>;

/** The scenarios run on each cluster, in this order. */
function scenarios(rate: number): [string, Scenario][] {
  return [
    ["xfanout1", (c, o) => crossFanOut(c, 1, o)],
    ["ioredis1", (c, o) => rawRedis(c, 1, o)],
    ["xfanout10", (c, o) => crossFanOut(c, 10, o)],
    ["xfanout100", (c, o) => crossFanOut(c, 100, o)],
    ["ioredis2", (c, o) => rawRedis(c, 2, o)],
    ["xlatency", (c, o) => pacedLatency(c.nodes[0], c.nodes[1], rate, o)],
    ["patterns1", (c, o) => clientPatterns(c, 1, o)],
    ["patterns10000", (c, o) => clientPatterns(c, 10_000, o)],
  ];
}

/** The figure a scenario's median is taken by (lower is better). */
function key(r: ClusterResult): number {
  if (r.scenario.startsWith("patterns")) return r.redisUsPerMsg ?? 0;
  if (r.p50Us !== undefined) return r.p50Us;
  return -(r.publishedPerSec ?? 0);
}

/** The run in the middle (of an even count, the worse of the two in the middle). */
function median(runs: ClusterResult[]): ClusterResult {
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  const middle = sorted[Math.floor(sorted.length / 2)];
  const lost = runs.reduce((sum, r) => sum + (r.lost ?? 0), 0);
  const notes = [middle.note, runs.length > 1 ? `median of ${runs.length}` : undefined];
  if (lost > 0) notes.push(`${lost} lost over all runs`);
  return { ...middle, note: notes.filter(Boolean).join("; ") };
}

function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  return value.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`).join(
    "\n",
  );
}

/** The figures against the targets, per runtime. */
function targets(rows: ClusterResult[], runtimes: Runtime[]): string {
  const find = (scenario: string, runtime: Runtime): ClusterResult | undefined =>
    rows.find((r) => r.scenario === scenario && r.runtime === runtime);
  const body: string[][] = [];
  for (const runtime of runtimes) {
    const share = (scenario: string, raw: string): string => {
      const ours = find(scenario, runtime)?.publishedPerSec;
      const base = find(raw, runtime)?.publishedPerSec;
      return ours === undefined || base === undefined ? "-" : `${fmt(100 * ours / base)}%`;
    };
    const cross = find("xlatency", runtime)?.p50Us;
    const alone = find("latency1", runtime)?.p50Us;
    const one = find("patterns1", runtime)?.redisUsPerMsg;
    const many = find("patterns10000", runtime)?.redisUsPerMsg;
    const lost = rows.filter((r) => r.runtime === runtime).some((r) =>
      /lost over all/.test(r.note ?? "")
    );
    body.push([
      runtime,
      share("xfanout1", "ioredis1"),
      share("xfanout10", "ioredis2"),
      share("xfanout100", "ioredis2"),
      cross === undefined || alone === undefined ? "-" : fmt(cross - alone),
      one === undefined || many === undefined ? "-" : `${fmt(100 * (many / one - 1), 0)}%`,
      lost ? "LOSS" : "none",
    ]);
  }
  return table([
    "runtime",
    "fan-out 1, % of ioredis (≥ 50%)",
    "fan-out 10, % of ioredis",
    "fan-out 100, % of ioredis",
    "added p50 µs (≤ 1,000)",
    "Redis µs/msg, 10,000 vs 1 pattern (±20%)",
    "loss",
  ], body);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      runtimes: { type: "string", default: "deno,bun,node" },
      quick: { type: "boolean", default: false },
      repeat: { type: "string", default: "1" },
      rate: { type: "string", default: "10000" },
      scenarios: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const runtimes = values.runtimes!.split(",") as Runtime[];
  const problem = setupProblem(["redis"], runtimes);
  if (problem !== null) {
    console.error(problem);
    process.exitCode = 1;
    return;
  }
  const rate = Number(values.rate);
  const names = [...scenarios(rate).map(([name]) => name), "latency1"];
  const chosen = new Set(values.scenarios?.split(",") ?? names);
  const unknown = [...chosen].filter((name) => !names.includes(name));
  if (unknown.length > 0) throw new Error(`Unknown scenario "${unknown[0]}": ${names.join(",")}`);
  const options: ClusterOptions = { quick: values.quick! };
  const runs = new Map<string, ClusterResult[]>();
  const keep = (result: ClusterResult): void => {
    console.error(`${result.scenario} on ${result.runtime}: ${JSON.stringify(result)}`);
    const id = `${result.scenario} ${result.runtime}`;
    runs.set(id, [...runs.get(id) ?? [], result]);
  };
  const started = new Date().toISOString();
  for (let round = 0; round < Number(values.repeat); round++) {
    for (const runtime of roundOrder(runtimes, [], round)) {
      const cluster = await Cluster.start(runtime);
      try {
        for (const [scenario, run] of scenarios(rate)) {
          if (!chosen.has(scenario)) continue;
          keep({ scenario, runtime, ...await run(cluster, options) });
        }
      } finally {
        await cluster.stop();
      }
      if (!chosen.has("latency1")) continue;
      const alone = new Server(runtime);
      try {
        await alone.started();
        keep({ scenario: "latency1", runtime, ...await pacedLatency(alone, alone, rate, options) });
      } finally {
        await alone.stop();
      }
    }
  }
  const rows = [...runs.values()].map(median);
  rows.sort((a, b) =>
    names.indexOf(a.scenario) - names.indexOf(b.scenario) ||
    runtimes.indexOf(a.runtime) - runtimes.indexOf(b.runtime)
  );
  const cpu = cpus();
  console.log(
    `\nMachine: ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}; started ${started}; ` +
      `redis-server, three nodes and the load generator (Bun) unpinned; 128-byte messages; ` +
      `loopback; latency paced at ${fmt(rate)} msgs/s.\n`,
  );
  console.log(table(
    [
      "scenario",
      "runtime",
      "published/s",
      "delivered/s",
      "lost",
      "Redis µs/msg",
      "nodes µs/msg (A/B/C)",
      "p50 µs",
      "p99 µs",
      "max µs",
      "note",
    ],
    rows.map((r) => [
      r.scenario,
      r.runtime,
      fmt(r.publishedPerSec),
      fmt(r.deliveredPerSec),
      fmt(r.lost),
      fmt(r.redisUsPerMsg, 2),
      r.nodeUsPerMsg === undefined
        ? "-"
        : `${fmt(r.nodesUsPerMsg, 1)} (${r.nodeUsPerMsg.map((us) => fmt(us, 1)).join("/")})`,
      fmt(r.p50Us),
      fmt(r.p99Us),
      fmt(r.maxUs),
      r.note ?? "",
    ]),
  ));
  console.log(`\nAgainst the targets (medians):\n`);
  console.log(targets(rows, runtimes));
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify(
        { machine: cpu[0]?.model, started, rate, results: rows, runs: [...runs.values()] },
        null,
        2,
      ),
    );
  }
}

if (import.meta.main) await main();
