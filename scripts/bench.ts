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
 * `--runtimes deno,bun,node` (also `node24`, and `relay`: a minimal but fair
 * fan-out server on Bun, the baseline), `--scenarios fanout1,latency,...`,
 * `--quick` (smaller counts), `--cold` (measure the first pass: by default
 * the fan-out, fan-in and topics loads run once unmeasured first, and the
 * latency scenario publishes 2 s unsampled, so that the figures are of
 * compiled code), `--repeat N` (report the median run), `--json FILE` and
 * `--no-pin`, `--monitor` (the server serves monitoring and this process
 * polls its `/varz` once a second: compare with a run without, to see what
 * monitoring costs). The Node server needs the npm build (`npm run build`).
 *
 * `--peers nats,redis` runs `nats-server` and `redis-server` through the
 * same scenarios with the same load generator (`_bench_peers.ts`), their
 * runs interleaved with this package's in each round of `--repeat`, and
 * prints each figure as a multiple of each peer's from the same run.
 *
 * Each run's server (except in the latency scenario) is pinned to the CPU
 * that ran a fixed loop fastest just before, and this process to the
 * others; the loop is timed again after the run, and a CPU or latency figure
 * taken while the loop showed the machine slowed by another tenant is run
 * again, up to twice (`_bench_cpu.ts`). The `loop ms` column shows the
 * slower of the two timings, on the server's CPU (unpinned runs: on the
 * slowest CPU): compare rows by it.
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
import {
  freePort,
  isPeer,
  missingPeers,
  type Peer,
  PEER_NAMES,
  PEER_SCENARIOS,
} from "./_bench_peers.ts";
import { type Ratio, RATIO_FIGURES, ratios, roundOrder } from "./_bench_ratios.ts";
import { benchMatch } from "./_bench_match.ts";
import { allowedCpus, CONTENDED_RATIO, cpuSpeeds, loopMs, pinSelf } from "./_bench_cpu.ts";

const USAGE = `Usage: bun scripts/bench.ts [options]   (npm run bench -- [options])

  --runtimes LIST    deno,bun,node (default); also node24, and relay (a baseline)
  --peers LIST       nats,redis: run nats-server and redis-server (installed) through the same
                     scenarios (not ws*, slow, match), interleaved with ours, and print ratios
  --scenarios LIST   fanout1,fanout10,fanout100,fanin,topics,latency,connections,slow,match;
                     wsfanout1,wsfanout10,wsfanout100 (WebSocket subscribers, TCP publisher),
                     wspub10 (a WebSocket publisher, 10 TCP subscribers)
  --quick            smaller counts
  --cold             measure the first pass (no warm-up)
  --repeat N         run each scenario N times, report the median
  --json FILE        also write the results as JSON
  --no-pin           do not pin the server and this process to CPUs (latency never does)
  --monitor          serve monitoring (--monitor-port 0) and poll /varz once a second
  --help             this text
`;

/** What a run measures: this package on a runtime, or a peer. */
type Target = Runtime | Peer;

/** Runs of a scenario made again, at most, when the server's CPU was slowed during them. */
const MAX_AGAIN = 2;

// ---- report -------------------------------------------------------------------

/** The run in the middle, by the scenario's main figure. */
function median(runs: Result[]): Result {
  const key = (r: Result): number =>
    r.cpuUsPerDelivery ?? r.p99Us ?? r.rssKiBPerConn ?? -(r.deliveredPerSec ?? 0);
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  // Of an even count, the worse of the two in the middle.
  const middle = sorted[Math.floor(sorted.length / 2)];
  return runs.length > 1
    ? { ...middle, note: [middle.note, `median of ${runs.length}`].filter(Boolean).join("; ") }
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
    "loop ms",
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
    fmt(r.loopMs, 0),
    r.note ?? "",
  ]);
  return [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`).join(
    "\n",
  );
}

/** Each row's figures as multiples of the peers' of the same scenario. */
function ratioTable(rows: Ratio[], peers: readonly Peer[]): string {
  const digits = new Map(RATIO_FIGURES.map(([, label, d]) => [label, d]));
  const header = ["scenario", "figure", "runtime", "value", ...peers.map((p) => `× ${p}`)];
  const body = rows.map((r) => [
    r.scenario,
    r.figure,
    r.runtime,
    fmt(r.value, digits.get(r.figure)),
    ...peers.map((p) => r.vs[p] === undefined ? "-" : `${fmt(r.vs[p], 2)}×`),
  ]);
  return [header, header.map(() => "---"), ...body].map((row) => `| ${row.join(" | ")} |`).join(
    "\n",
  );
}

// ---- runs ---------------------------------------------------------------------

function addNote(result: Result, text: string): void {
  result.note = result.note === undefined ? text : `${result.note}; ${text}`;
}

/** The fastest the fixed loop ran so far: the machine uncontended, as far as this run saw. */
let fastestLoopMs = Infinity;

/** Whether a run's CPU or latency figure was taken while the loop showed the machine slowed. */
function slowedNow(result: Result): boolean {
  const timed = result.cpuUsPerDelivery !== undefined || result.p99Us !== undefined;
  return timed && result.loopMs !== undefined && result.loopMs > CONTENDED_RATIO * fastestLoopMs;
}

/**
 * Where runs go. With `cpus` (pinning possible), a pinned run puts the
 * server on the CPU that runs the loop fastest now and this process on the
 * others, and its `loopMs` is the loop's time on the server's CPU; an
 * unpinned run lets both run anywhere, and its `loopMs` is the slowest
 * CPU's time. Without `cpus`, the loop runs wherever the system puts it.
 */
class Placer {
  readonly #cpus: number[] | null;
  #selfPinned = false;

  constructor(cpus: number[] | null) {
    this.#cpus = cpus;
  }

  /** Places the next run: the server's CPU (or `null`), and the loop's time now. */
  before(pin: boolean): { cpu: number | null; loopMs: number | undefined } {
    const cpus = this.#cpus;
    if (cpus === null) return { cpu: null, loopMs: this.#seen(loopMs(null)) };
    const speeds = cpuSpeeds(cpus);
    for (const [, ms] of speeds) this.#seen(ms);
    if (!pin || speeds.length === 0) {
      this.unpin();
      return { cpu: null, loopMs: speeds.at(-1)?.[1] };
    }
    pinSelf(speeds.slice(1).map(([cpu]) => cpu));
    this.#selfPinned = true;
    return { cpu: speeds[0][0], loopMs: speeds[0][1] };
  }

  /** The loop's time after a run placed on `cpu` (`null`: the slowest CPU's). */
  after(cpu: number | null): number | undefined {
    if (cpu !== null) return this.#seen(loopMs(cpu));
    if (this.#cpus === null) return this.#seen(loopMs(null));
    const speeds = cpuSpeeds(this.#cpus);
    for (const [, ms] of speeds) this.#seen(ms);
    return speeds.at(-1)?.[1];
  }

  /** Lets this process run on every CPU again (for in-process work such as `match`). */
  unpin(): void {
    if (this.#selfPinned && this.#cpus !== null) pinSelf(this.#cpus);
    this.#selfPinned = false;
  }

  #seen(ms: number | undefined): number | undefined {
    if (ms !== undefined) fastestLoopMs = Math.min(fastestLoopMs, ms);
    return ms;
  }
}

/** One run of a scenario against a fresh server; `slowed` is judged when it ends. */
async function measure(
  scenario: string,
  runtime: Target,
  options: Options,
  placer: Placer,
  pin: boolean,
): Promise<Result> {
  const placed = placer.before(pin);
  const server = new Server(runtime, {
    cpu: placed.cpu,
    webSocket: scenario.startsWith("ws"),
    monitor: options.monitor,
    port: isPeer(runtime) ? await freePort() : 0,
  });
  let result: Result;
  try {
    await server.started();
    result = { scenario, runtime, ...await SCENARIOS[scenario](server, options) };
    const [user, system] = server.cpuSplitUs();
    result.systemShare = system / (user + system);
  } finally {
    await server.stop();
  }
  const after = placer.after(placed.cpu);
  if (placed.loopMs !== undefined && after !== undefined) {
    result.loopMs = Math.max(placed.loopMs, after);
  }
  result.slowed = slowedNow(result);
  const slow = server.slowConsumers();
  if (slow) addNote(result, `${slow} slow consumer(s) disconnected`);
  if (options.monitor && runtime !== "relay" && !isPeer(runtime)) {
    addNote(result, `monitor on, ${server.polls} polls`);
  }
  return result;
}

/**
 * One run of a scenario, made again (up to MAX_AGAIN times) when slowed;
 * when every try was slowed, the least slowed is kept.
 */
async function run(
  scenario: string,
  runtime: Target,
  options: Options,
  placer: Placer,
  pin: boolean,
): Promise<Result> {
  let result = await measure(scenario, runtime, options, placer, pin);
  let last = result;
  for (let again = 0; again < MAX_AGAIN && result.slowed; again++) {
    console.error(
      `${scenario} on ${runtime}: the loop took ${last.loopMs} ms ` +
        `(fastest ${fastestLoopMs} ms): run again`,
    );
    last = await measure(scenario, runtime, options, placer, pin);
    if (!last.slowed || (last.loopMs ?? Infinity) < (result.loopMs ?? Infinity)) result = last;
  }
  if (result.slowed) addNote(result, "CPU slowed");
  console.error(`${scenario} on ${runtime}: ${JSON.stringify(result)}`);
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      runtimes: { type: "string", default: "deno,bun,node" },
      peers: { type: "string", default: "" },
      scenarios: { type: "string", default: [...Object.keys(SCENARIOS), "match"].join(",") },
      quick: { type: "boolean", default: false },
      cold: { type: "boolean", default: false },
      repeat: { type: "string", default: "1" },
      json: { type: "string" },
      "no-pin": { type: "boolean", default: false },
      monitor: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const cpuList = allowedCpus();
  const pin = !values["no-pin"] && cpuList !== null;
  if (!pin) console.error("Not pinning the server to a CPU (--no-pin, or no taskset here).");
  const placer = new Placer(cpuList);
  const runtimes = values.runtimes!.split(",") as Runtime[];
  const peers = values.peers!.split(",").filter((p) => p !== "") as Peer[];
  const unknown = peers.filter((p) => !isPeer(p));
  if (unknown.length > 0) {
    throw new Error(`Unknown peer "${unknown[0]}": --peers takes ${PEER_NAMES.join(",")}`);
  }
  const missing = missingPeers(peers);
  if (missing !== null) {
    console.error(missing);
    process.exitCode = 1;
    return;
  }
  if (runtimes.some((r) => r.startsWith("node")) && !existsSync("npm/esm/src/cli/bin.js")) {
    throw new Error("The Node server runs the npm build: run `npm run build` first");
  }
  const options: Options = {
    quick: values.quick!,
    warm: !values.cold!,
    monitor: values.monitor!,
  };
  const results: Result[] = [];
  let match: ReturnType<typeof benchMatch> | undefined;
  for (const scenario of values.scenarios!.split(",")) {
    if (peers.length > 0 && !PEER_SCENARIOS.has(scenario)) {
      console.error(`${scenario}: not run on the peers (only ${[...PEER_SCENARIOS].join(",")})`);
    }
    if (scenario === "match") {
      placer.unpin();
      match = benchMatch();
      continue;
    }
    if (SCENARIOS[scenario] === undefined) throw new Error(`Unknown scenario "${scenario}"`);
    // Pinned, every message of the latency scenario wakes the other, idle CPU: p50 182 to 211 µs
    // against 66 to 119 unpinned (docs/PERFORMANCE.md, findings 14 and 19).
    const pinned = pin && scenario !== "latency";
    const peersHere = PEER_SCENARIOS.has(scenario) ? peers : [];
    // Each round runs every runtime and peer once, interleaved, so that drift hits all alike.
    const done = new Map<Target, Result[]>([...runtimes, ...peersHere].map((t) => [t, []]));
    for (let round = 0; round < Number(values.repeat); round++) {
      for (const target of roundOrder<Target>(runtimes, peersHere, round)) {
        done.get(target)!.push(await run(scenario, target, options, placer, pinned));
      }
    }
    for (const all of done.values()) {
      // Runs made on a slowed CPU count only when every run was.
      const calm = all.filter((result) => !result.slowed);
      const row = median(calm.length > 0 ? calm : all);
      const left = all.length - calm.length;
      if (calm.length > 0 && left > 0) addNote(row, `${left} slowed run(s) left out`);
      results.push(row);
    }
  }
  const cpu = cpus();
  console.log(
    `\nMachine: ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}; load generator on ${
      typeof (globalThis as Record<string, unknown>)["Bun"] !== "undefined"
        ? "Bun"
        : "another runtime"
    } in a separate process; 128-byte messages; loopback. ${
      pin
        ? "Server pinned to one CPU and load generator to the others (not for latency)"
        : "Nothing pinned"
    }${Number.isFinite(fastestLoopMs) ? `; fastest fixed loop ${fastestLoopMs} ms` : ""}.\n`,
  );
  console.log(table(results));
  const compared = ratios(results, peers);
  if (compared.length > 0) {
    console.log(
      `\nEach figure as a multiple of the peers' in the same run (median of each; lower is ` +
        `better):\n`,
    );
    console.log(ratioTable(compared, peers));
  }
  if (match !== undefined) {
    console.log(
      `\nmatch: ${match.subscriptions.toLocaleString("en-US")} subscriptions, ` +
        `${Math.round(match.matchesPerSec).toLocaleString("en-US")} matches/s ` +
        `(${match.nsPerMatch.toFixed(0)} ns per match, ${match.deliveriesPerMatch.toFixed(1)} ` +
        `subscribers per topic), in the load generator's runtime`,
    );
  }
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify(
        { machine: cpu[0]?.model, pin, fastestLoopMs, peers, results, ratios: compared, match },
        null,
        2,
      ),
    );
  }
}

if (import.meta.main) await main();
