/**
 * The benchmark: starts the server with the CLI on Deno, Bun and Node (the
 * npm build), each scenario against a fresh server process, drives it from
 * this process over loopback, and reads the server's CPU time and memory
 * from `/proc/<pid>` (Linux). Bounded in time; stops by itself.
 *
 * The default full set (`npm run bench`): fan-out 1/10/100 warm (one
 * publisher, 128-byte messages); `cold1`, `cold10` (the first 100,000
 * messages after a fresh start, fan-out 1 and 10); `topics` (1,000 topics,
 * one subscriber each, random publishes); `latency1`, `latency10` (p50,
 * p99, max at 2,000, 20,000 and 100,000 msgs/s, fan-out 1 and 10, one row
 * per rate: `latency10@20k`); `connections` (10,000 idle subscribers: RSS
 * per connection, connect+subscribe time) and `subscriptions` (1,000
 * connections × 100 topics: RSS per subscription, subscribe time). Also on
 * request: `fanin` (10 publishers, 1 subscriber), `slow` (one stalled
 * subscriber among 10), the WebSocket scenarios and `match`; groups
 * `fanout`, `cold`, `latency`, `scale`, `ws`, `all` (`_bench_plan.ts`).
 *
 * With `nats-server` and `redis-server` installed (or `--peers nats,redis`),
 * the peers run through the same scenarios with the same load generator
 * (`_bench_peers.ts`), their runs interleaved with this package's in each
 * round of `--repeat` (3 by default), and each figure is printed as a
 * multiple of each peer's from the same run. Every figure is the median
 * over the rounds, with its spread (min–max) beside it.
 *
 * Options: `--runtimes deno,bun,node` (also `node24`, and `relay`: a minimal
 * but fair fan-out server on Bun, the baseline), `--peers`, `--scenarios`,
 * `--quick` (smaller counts: figures NOT comparable with full runs, for
 * development), `--cold` (the other scenarios measure their first pass
 * too: by default fan-out, fan-in and topics run once unmeasured first, the
 * latency scenarios make 20,000 round trips and 0.2 s of paced load first,
 * and `connections` opens 100 connections first), `--repeat N`, `--json
 * FILE`, `--no-pin`, `--monitor` (the server serves monitoring and this
 * process polls its `/varz` once a second). The Node server needs the npm
 * build (`npm run build`; `npm run bench` makes it).
 *
 * This process raises its open-file limit to the hard limit (the servers
 * inherit it); the scale scenarios open fewer connections, and say so,
 * when the hard limit is too low.
 *
 * Each run's server (except in the latency scenarios) is pinned to the CPU
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

import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import process from "node:process";
import { parseArgs } from "node:util";
import { type Options, type Result, SCENARIOS } from "./_bench_scenarios.ts";
import { DEFAULT_SCENARIOS, expandScenarios, parseCount } from "./_bench_plan.ts";
import { type Spread, summarize } from "./_bench_stats.ts";
import { raiseFdLimit } from "./_bench_fds.ts";
import { type Runtime, Server } from "./_bench_server.ts";
import {
  freePort,
  isPeer,
  missingPeers,
  type Peer,
  PEER_NAMES,
  PEER_SCENARIOS,
  setupProblem,
} from "./_bench_peers.ts";
import { type Ratio, RATIO_FIGURES, ratios, roundOrder } from "./_bench_ratios.ts";
import { benchMatch } from "./_bench_match.ts";
import { allowedCpus, CONTENDED_RATIO, cpuSpeeds, loopMs, pinSelf } from "./_bench_cpu.ts";

const USAGE = `Usage: bun scripts/bench.ts [options]   (npm run bench -- [options])

  --runtimes LIST    deno,bun,node (default); also node24, and relay (a baseline)
  --peers LIST       nats,redis: run nats-server and redis-server through the same scenarios
                     (not ws*, slow, match), interleaved with ours, and print ratios; by default
                     the installed ones; "none" for none
  --scenarios LIST   default: ${DEFAULT_SCENARIOS.join(",")};
                     also fanin, slow, match, wsfanout1, wsfanout10, wsfanout100 (WebSocket
                     subscribers, TCP publisher), wspub10 (a WebSocket publisher, 10 TCP
                     subscribers); groups fanout, cold, latency, scale, ws, all
  --quick            smaller counts, for development: figures NOT comparable with full runs
  --cold             the other scenarios measure their first pass too (no warm-up);
                     cold1 and cold10 always do
  --repeat N         N rounds (default 3): each figure is the median, with its min-max
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

function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || Number.isNaN(value)) return "-";
  return value.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

/** A median with its spread over the runs, `0.512 (0.49–0.53)`; alone for one run or no spread. */
function withSpread(value: number | undefined, spread: Spread | undefined, digits: number): string {
  if (spread === undefined || spread.min === spread.max) return fmt(value, digits);
  return `${fmt(value, digits)} (${fmt(spread.min, digits)}–${fmt(spread.max, digits)})`;
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
    "RSS B/sub",
    "peak RSS MiB",
    "loop ms",
    "note",
  ];
  const rows = results.map((r) => {
    const cell = (key: keyof Result & string, digits = 0): string =>
      withSpread(r[key] as number | undefined, r.spread?.[key], digits);
    return [
      r.scenario,
      r.runtime,
      cell("deliveredPerSec"),
      cell("publishedPerSec"),
      cell("lost"),
      cell("cpuUsPerDelivery", 3),
      cell("p50Us"),
      cell("p99Us"),
      cell("maxUs"),
      cell("connectMs"),
      cell("rssKiBPerConn", 1),
      cell("rssBPerSub"),
      cell("peakRssMiB", 1),
      fmt(r.loopMs, 0),
      r.note ?? "",
    ];
  });
  return [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`).join(
    "\n",
  );
}

/** Each row's figures as multiples of the peers' of the same scenario. */
function ratioTable(rows: Ratio[], peers: readonly Peer[], results: Result[]): string {
  const digits = new Map(RATIO_FIGURES.map(([, label, d]) => [label, d]));
  const header = [
    "scenario",
    "figure",
    "runtime",
    "median (min–max)",
    ...peers.map((p) => `× ${p}`),
  ];
  const body = rows.map((r) => {
    const row = results.find((x) => x.scenario === r.scenario && x.runtime === r.runtime);
    return [
      r.scenario,
      r.figure,
      r.runtime,
      withSpread(r.value, row?.spread?.[r.key], digits.get(r.figure) ?? 0),
      ...peers.map((p) => r.vs[p] === undefined ? "-" : `${fmt(r.vs[p], 2)}×`),
    ];
  });
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

/**
 * One run of a scenario against a fresh server: its rows (most scenarios
 * give one; a latency scenario one per rate); `slowed` is judged when it ends.
 */
async function measure(
  scenario: string,
  runtime: Target,
  options: Options,
  placer: Placer,
  pin: boolean,
): Promise<Result[]> {
  const placed = placer.before(pin);
  const server = new Server(runtime, {
    cpu: placed.cpu,
    webSocket: scenario.startsWith("ws"),
    monitor: options.monitor,
    port: isPeer(runtime) ? await freePort() : 0,
  });
  let rows: Result[];
  try {
    await server.started();
    const got = await SCENARIOS[scenario](server, options);
    rows = (Array.isArray(got) ? got : [got]).map((row) => ({ scenario, runtime, ...row }));
    const [user, system] = server.cpuSplitUs();
    for (const row of rows) row.systemShare = system / (user + system);
  } finally {
    await server.stop();
  }
  const after = placer.after(placed.cpu);
  const slow = server.slowConsumers();
  for (const row of rows) {
    if (placed.loopMs !== undefined && after !== undefined) {
      row.loopMs = Math.max(placed.loopMs, after);
    }
    row.slowed = slowedNow(row);
    if (slow) addNote(row, `${slow} slow consumer(s) disconnected`);
    if (options.monitor && runtime !== "relay" && !isPeer(runtime)) {
      addNote(row, `monitor on, ${server.polls} polls`);
    }
  }
  return rows;
}

/** Whether any row of a run was slowed. */
function slowedRun(rows: Result[]): boolean {
  return rows.some((row) => row.slowed);
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
): Promise<Result[]> {
  let rows = await measure(scenario, runtime, options, placer, pin);
  let last = rows;
  for (let again = 0; again < MAX_AGAIN && slowedRun(rows); again++) {
    console.error(
      `${scenario} on ${runtime}: the loop took ${last[0]?.loopMs} ms ` +
        `(fastest ${fastestLoopMs} ms): run again`,
    );
    last = await measure(scenario, runtime, options, placer, pin);
    if (
      !slowedRun(last) || (last[0]?.loopMs ?? Infinity) < (rows[0]?.loopMs ?? Infinity)
    ) rows = last;
  }
  for (const row of rows) {
    if (row.slowed) addNote(row, "CPU slowed");
    console.error(`${row.scenario} on ${runtime}: ${JSON.stringify(row)}`);
  }
  return rows;
}

/** The peers `--peers` names: a list, `none`, or (by default) the installed ones. */
function choosePeers(option: string | undefined): Peer[] {
  if (option === undefined) {
    const installed = PEER_NAMES.filter((peer) => missingPeers([peer]) === null);
    const absent = PEER_NAMES.filter((peer) => !installed.includes(peer));
    if (absent.length > 0) {
      console.error(
        `${absent.join(" and ")} not installed: no ratios against ${absent.join(" and ")}. ` +
          (missingPeers(absent) ?? ""),
      );
    }
    return installed;
  }
  const peers = option.split(",").filter((p) => p !== "" && p !== "none") as Peer[];
  const unknown = peers.filter((p) => !isPeer(p));
  if (unknown.length > 0) {
    throw new RangeError(
      `Unknown peer "${unknown[0]}": --peers takes ${PEER_NAMES.join(",")} or none`,
    );
  }
  return peers;
}

const QUICK_WARNING = "--quick: smaller counts and shorter windows, for development; these " +
  "figures are NOT comparable with a full run's (or with docs/PERFORMANCE.md)";

async function main(): Promise<void> {
  const started = performance.now();
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      runtimes: { type: "string", default: "deno,bun,node" },
      peers: { type: "string" },
      scenarios: { type: "string", default: DEFAULT_SCENARIOS.join(",") },
      quick: { type: "boolean", default: false },
      cold: { type: "boolean", default: false },
      repeat: { type: "string", default: "3" },
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
  let scenarios: string[];
  let repeat: number;
  let peers: Peer[];
  try {
    scenarios = expandScenarios(values.scenarios!);
    repeat = parseCount("--repeat", values.repeat!);
    peers = choosePeers(values.peers);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const runtimes = values.runtimes!.split(",") as Runtime[];
  const problem = setupProblem(peers, runtimes);
  if (problem !== null) {
    console.error(problem);
    process.exitCode = 1;
    return;
  }
  if (values.quick) console.error(QUICK_WARNING);
  const cpuList = allowedCpus();
  const pin = !values["no-pin"] && cpuList !== null;
  if (!pin) console.error("Not pinning the server to a CPU (--no-pin, or no taskset here).");
  const placer = new Placer(cpuList);
  const fds = raiseFdLimit();
  if (fds === null) console.error("Could not read or raise the open-file limit (no prlimit here).");
  const options: Options = {
    quick: values.quick!,
    warm: !values.cold!,
    monitor: values.monitor!,
    fdLimit: fds?.soft,
  };
  const results: Result[] = [];
  let match: ReturnType<typeof benchMatch> | undefined;
  for (const scenario of scenarios) {
    if (peers.length > 0 && !PEER_SCENARIOS.has(scenario)) {
      console.error(`${scenario}: not run on the peers (only ${[...PEER_SCENARIOS].join(",")})`);
    }
    if (scenario === "match") {
      placer.unpin();
      match = benchMatch();
      continue;
    }
    // Pinned, every message of the latency scenario wakes the other, idle CPU: p50 182 to 211 µs
    // against 66 to 119 unpinned (docs/PERFORMANCE.md, findings 14 and 19).
    const pinned = pin && !scenario.startsWith("latency");
    const peersHere = PEER_SCENARIOS.has(scenario) ? peers : [];
    // Each round runs every runtime and peer once, interleaved, so that drift hits all alike.
    // Runs by row (a latency scenario gives one row per rate), then by target.
    const done = new Map<string, Map<Target, Result[]>>();
    for (let round = 0; round < repeat; round++) {
      for (const target of roundOrder<Target>(runtimes, peersHere, round)) {
        for (const row of await run(scenario, target, options, placer, pinned)) {
          if (!done.has(row.scenario)) {
            done.set(row.scenario, new Map([...runtimes, ...peersHere].map((t) => [t, []])));
          }
          done.get(row.scenario)!.get(target)!.push(row);
        }
      }
    }
    for (const byTarget of done.values()) {
      for (const all of byTarget.values()) {
        if (all.length === 0) continue;
        // Runs made on a slowed CPU count only when every run was.
        const calm = all.filter((result) => !result.slowed);
        const row = summarize(calm.length > 0 ? calm : all);
        const left = all.length - calm.length;
        if (calm.length > 0 && left > 0) addNote(row, `${left} slowed run(s) left out`);
        results.push(row);
      }
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
  if (values.quick) console.log(`${QUICK_WARNING}.\n`);
  console.log(table(results));
  const compared = ratios(results, peers);
  if (compared.length > 0) {
    console.log(
      `\nEach figure as a multiple of the peers' in the same run (medians over ${repeat} ` +
        `round(s) divided; lower is better):\n`,
    );
    console.log(ratioTable(compared, peers, results));
  }
  if (match !== undefined) {
    console.log(
      `\nmatch: ${match.subscriptions.toLocaleString("en-US")} subscriptions, ` +
        `${Math.round(match.matchesPerSec).toLocaleString("en-US")} matches/s ` +
        `(${match.nsPerMatch.toFixed(0)} ns per match, ${match.deliveriesPerMatch.toFixed(1)} ` +
        `subscribers per topic), in the load generator's runtime`,
    );
  }
  const minutes = (performance.now() - started) / 60_000;
  console.log(
    `\n${scenarios.join(",")} on ${[...runtimes, ...peers].join(",")}, ${repeat} round(s)` +
      `${values.quick ? ", --quick (not comparable)" : ""}: ${minutes.toFixed(1)} min` +
      (fds === null ? "" : `; open-file limit ${fds.soft}`),
  );
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify(
        {
          machine: cpu[0]?.model,
          argv: process.argv.slice(2),
          quick: values.quick,
          comparable: !values.quick,
          repeat,
          minutes,
          fdLimit: fds,
          pin,
          fastestLoopMs,
          peers,
          results,
          ratios: compared,
          match,
        },
        null,
        2,
      ),
    );
  }
}

if (import.meta.main) await main();
