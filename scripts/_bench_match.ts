/**
 * The subscription index's match throughput with 100,000 subscriptions, in
 * this process (no server): exact topics, `+` and `#` patterns mixed.
 *
 * @module
 */

import { SubscriptionIndex } from "../src/topic/subscription_index.ts";

/** The figures of one run. */
export interface MatchResult {
  subscriptions: number;
  matches: number;
  matchesPerSec: number;
  nsPerMatch: number;
  deliveriesPerMatch: number;
}

/** Builds the index and matches random three-level topics against it. */
export function benchMatch(subscriptions = 100_000, matches = 1_000_000): MatchResult {
  const index = new SubscriptionIndex<number>();
  const spread = subscriptions / 10;
  for (let i = 0; i < subscriptions; i++) {
    const n = i % spread;
    // 60% exact, 30% '+', 10% '#'
    const kind = i % 10;
    const pattern = kind < 6
      ? `region/${n}/sensor${kind}`
      : kind < 9
      ? `region/${n}/+`
      : `region/${n}/#`;
    index.add(pattern, i);
  }
  let seed = 1;
  const topics = Array.from({ length: 4096 }, () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return `region/${seed % spread}/sensor${seed % 7}`;
  });
  let delivered = 0;
  const visit = (): void => {
    delivered++;
  };
  for (let i = 0; i < 100_000; i++) index.match(topics[i & 4095], visit); // warm up
  delivered = 0;
  const started = performance.now();
  for (let i = 0; i < matches; i++) index.match(topics[i & 4095], visit);
  const seconds = (performance.now() - started) / 1000;
  return {
    subscriptions: index.size,
    matches,
    matchesPerSec: matches / seconds,
    nsPerMatch: (seconds * 1e9) / matches,
    deliveriesPerMatch: delivered / matches,
  };
}
