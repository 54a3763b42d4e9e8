/**
 * How the benchmark compares this package with its peers from one run: the
 * order runs are made in (interleaved, so a machine that drifts in speed
 * slows all alike), and each figure as a multiple of each peer's.
 *
 * @module
 */

import type { Result } from "./_bench_scenarios.ts";

/** The figures compared, by the field of {@linkcode Result} that holds them, with their label. */
export const RATIO_FIGURES: readonly (readonly [
  key: RatioKey,
  label: string,
  digits: number,
])[] = [
  ["cpuUsPerDelivery", "server µs/deliv", 3],
  ["p50Us", "p50 µs", 0],
  ["p99Us", "p99 µs", 0],
  ["rssKiBPerConn", "RSS KiB/conn", 1],
  ["rssBPerSub", "RSS B/sub", 0],
  ["connectMs", "connect ms", 0],
];

/** The fields of {@linkcode Result} compared with the peers'. */
export type RatioKey =
  | "cpuUsPerDelivery"
  | "p50Us"
  | "p99Us"
  | "rssKiBPerConn"
  | "rssBPerSub"
  | "connectMs";

/**
 * The order of one round of runs: ours and the peers alternating (`deno,
 * nats, bun, redis, node`), rotated by `round` so that no one always runs
 * first or right after the same neighbour.
 */
export function roundOrder<T>(ours: readonly T[], peers: readonly T[], round: number): T[] {
  const order: T[] = [];
  for (let i = 0; i < Math.max(ours.length, peers.length); i++) {
    if (i < ours.length) order.push(ours[i]);
    if (i < peers.length) order.push(peers[i]);
  }
  const shift = order.length === 0 ? 0 : round % order.length;
  return [...order.slice(shift), ...order.slice(0, shift)];
}

/** One figure of one row as a multiple of the same figure of each peer in the same scenario. */
export interface Ratio {
  scenario: string;
  /** The field of {@linkcode Result} compared. */
  key: RatioKey;
  /** The figure's label (`server µs/deliv`, `p50 µs`, ...: `RATIO_FIGURES`). */
  figure: string;
  runtime: string;
  value: number;
  /** The value divided by each peer's, by peer name; a peer without the figure is left out. */
  vs: Record<string, number>;
}

/**
 * Every figure of `RATIO_FIGURES` of every row (the peers' own included)
 * divided by each of `peers`' row of the same scenario. Scenarios without a
 * peer row give none.
 */
export function ratios(results: readonly Result[], peers: readonly string[]): Ratio[] {
  const out: Ratio[] = [];
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  for (const scenario of scenarios) {
    const rows = results.filter((r) => r.scenario === scenario);
    const peerRows = rows.filter((r) => peers.includes(r.runtime));
    if (peerRows.length === 0) continue;
    for (const [key, figure] of RATIO_FIGURES) {
      for (const row of rows) {
        const value = row[key];
        if (value === undefined || !Number.isFinite(value)) continue;
        const vs: Record<string, number> = {};
        for (const peer of peerRows) {
          const base = peer[key];
          if (base !== undefined && Number.isFinite(base) && base > 0) {
            vs[peer.runtime] = value / base;
          }
        }
        if (Object.keys(vs).length > 0) {
          out.push({ scenario, key, figure, runtime: row.runtime, value, vs });
        }
      }
    }
  }
  return out;
}
