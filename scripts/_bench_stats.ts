/**
 * The benchmark's statistics: percentiles of latency samples, and the
 * median and spread (min–max) of each figure over the runs of `--repeat`.
 * Numbers in, numbers out: no I/O.
 *
 * @module
 */

import type { Result } from "./_bench_scenarios.ts";

/** The figures of a {@linkcode Result} that are summarised over runs. */
export const SUMMARISED: readonly (keyof Result & string)[] = [
  "deliveredPerSec",
  "publishedPerSec",
  "lost",
  "cpuUsPerDelivery",
  "p50Us",
  "p99Us",
  "maxUs",
  "connectMs",
  "rssKiBPerConn",
  "rssBPerSub",
  "peakRssMiB",
  "systemShare",
  "loopMs",
];

/** One figure over several runs. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  /** How many runs had the figure. */
  runs: number;
}

/**
 * The value at quantile `q` (0 to 1) of `sorted` (ascending): the sample at
 * index `floor(q × n)`, the last for `q = 1`; `NaN` when there is none.
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * sorted.length)))];
}

/**
 * The median, min and max of `values` (the finite ones); of an even count,
 * the median is the higher of the two in the middle (a run that was made,
 * not a mean of two). `undefined` when no value is finite.
 */
export function spreadOf(values: readonly (number | undefined)[]): Spread | undefined {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (finite.length === 0) return undefined;
  const sorted = [...finite].sort((a, b) => a - b);
  return {
    min: sorted[0],
    median: percentile(sorted, 0.5),
    max: sorted[sorted.length - 1],
    runs: sorted.length,
  };
}

/**
 * One row for several runs of the same scenario on the same target: each
 * figure of {@linkcode SUMMARISED} is its median over the runs, and
 * `spread` holds each figure's min, median and max (with one run, the
 * figures of that run and no spread). Each part of the runs' notes is kept once.
 */
export function summarize(runs: readonly Result[]): Result {
  if (runs.length === 0) throw new RangeError("summarize() needs at least one run");
  const row: Result = { ...runs[0] };
  // Each part of the runs' notes ("a; b") once, in the order first seen.
  const notes = [...new Set(runs.flatMap((r) => r.note?.split("; ") ?? []))].filter((n) =>
    n !== ""
  );
  if (notes.length > 0) row.note = notes.join("; ");
  else delete row.note;
  if (runs.length === 1) return row;
  row.spread = {};
  for (const key of SUMMARISED) {
    const spread = spreadOf(runs.map((r) => r[key] as number | undefined));
    if (spread === undefined) {
      delete row[key];
      continue;
    }
    (row[key] as number) = spread.median;
    row.spread[key] = spread;
  }
  row.slowed = runs.every((r) => r.slowed);
  row.note = [row.note, `median of ${runs.length}`].filter(Boolean).join("; ");
  return row;
}
