/**
 * How fast the machine's CPUs are at the moment, and which CPU a process
 * runs on. On a shared virtual machine another tenant can take a virtual
 * CPU's core for a while: the same fixed loop then takes up to twice as
 * long on it, and so does the server's CPU time per delivery (see
 * docs/PERFORMANCE.md, finding 19). The benchmark times that loop on each
 * CPU before and after each run, runs the server on the fastest CPU and the
 * load generator on the others, and runs again when the server's CPU was
 * slowed during the run.
 *
 * Pinning uses `taskset` (Linux, util-linux); without it nothing is pinned
 * and the loop is timed on whichever CPU the system picks. The loop runs in
 * Node; without `node` it is skipped.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import process from "node:process";

/**
 * The fixed loop: byte arithmetic and typed-array copies, like the server's
 * hot path, about 50 ms of one uncontended core of the machine the figures
 * in docs/PERFORMANCE.md come from. It prints its own CPU time in ms.
 */
const LOOP = `
const a = new Uint8Array(1 << 16);
for (let i = 0; i < a.length; i++) a[i] = i * 31;
const b = new Uint8Array(1 << 16);
function round() {
  let s = 0;
  for (let k = 0; k < 20; k++) {
    b.set(a.subarray(k, k + 60000));
    for (let i = 0; i < a.length; i++) s = (s + a[i] * (i & 7)) | 0;
  }
  return s;
}
for (let w = 0; w < 20; w++) round();
const start = process.cpuUsage();
let sink = 0;
for (let r = 0; r < 60; r++) sink += round();
const used = process.cpuUsage(start);
console.log(((used.user + used.system) / 1000).toFixed(1), sink & 1);
`;

/** A run whose server CPU timed the loop this much slower than the best time seen was slowed. */
export const CONTENDED_RATIO = 1.2;

/**
 * The CPUs this process may run on (its affinity list, from `taskset`), or
 * `null` when processes cannot be pinned here (not Linux, no `taskset`, or
 * fewer than two CPUs allowed).
 */
export function allowedCpus(): number[] | null {
  if (process.platform !== "linux") return null;
  let out: string;
  try {
    out = execFileSync("taskset", ["-c", "-p", String(process.pid)], { encoding: "utf8" });
  } catch {
    return null;
  }
  // "pid 123's current affinity list: 0,2-3"
  const list = out.slice(out.lastIndexOf(":") + 1).trim();
  const found: number[] = [];
  for (const part of list.split(",")) {
    const [first, last = first] = part.split("-").map(Number);
    for (let cpu = first; cpu <= last; cpu++) found.push(cpu);
  }
  return found.length >= 2 && found.every(Number.isInteger) ? found : null;
}

/** The command prefix that runs a program on `cpu` (none for `null`). */
export function pinPrefix(cpu: number | null): string[] {
  return cpu === null ? [] : ["taskset", "-c", String(cpu)];
}

/**
 * The fixed loop's CPU time in ms, run in Node on `cpu` (or anywhere, for
 * `null`); `undefined` when it cannot be run (no `node` here).
 */
export function loopMs(cpu: number | null): number | undefined {
  const argv = [...pinPrefix(cpu), "node", "-e", LOOP];
  try {
    const out = execFileSync(argv[0], argv.slice(1), { encoding: "utf8" });
    return Number(out.trim().split(" ")[0]);
  } catch {
    return undefined;
  }
}

/** The loop's time on each of `cpuList`, `[cpu, ms]`, fastest first; `[]` without `node`. */
export function cpuSpeeds(cpuList: number[]): [cpu: number, ms: number][] {
  const speeds: [number, number][] = [];
  for (const cpu of cpuList) {
    const ms = loopMs(cpu);
    if (ms === undefined) return [];
    speeds.push([cpu, ms]);
  }
  return speeds.sort((a, b) => a[1] - b[1]);
}

/** Pins this process (every thread of it) to `cpuList`; threads started later inherit it. */
export function pinSelf(cpuList: number[]): void {
  execFileSync("taskset", ["-a", "-p", "-c", cpuList.join(","), String(process.pid)], {
    stdio: "ignore",
  });
}
