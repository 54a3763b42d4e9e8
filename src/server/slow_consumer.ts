/**
 * The slow-consumer policy of one connection: which policy wins when
 * subscriptions disagree, what was dropped, and the `slow_consumer` notice
 * that tells the client.
 *
 * @module
 */

import { encodeLine } from "../protocol/codec.ts";
import type { SlowConsumerPolicy } from "../protocol/frames.ts";

/** A notice lists at most this many topics; the total counts them all. */
const MAX_NOTICE_TOPICS = 100;

/** When subscriptions disagree: a drop policy wins over disconnecting, drop-oldest over drop-newest. */
const RANK: Readonly<Record<SlowConsumerPolicy, number>> = {
  "disconnect": 0,
  "drop-newest": 1,
  "drop-oldest": 2,
};

/**
 * The policy that wins when two subscriptions of a connection match one
 * delivery; `undefined` (a subscription without a policy of its own) loses
 * to any policy.
 */
export function strongerPolicy(
  a: SlowConsumerPolicy | undefined,
  b: SlowConsumerPolicy | undefined,
): SlowConsumerPolicy | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return RANK[b] > RANK[a] ? b : a;
}

/**
 * One connection's drop counts. The policy of a delivery comes with it,
 * from the subscriptions that matched it (the router knows them), so
 * deciding it costs nothing per subscription the connection has.
 */
export class DropLedger {
  /** The server's policy, for deliveries whose subscriptions name none. */
  readonly defaultPolicy: SlowConsumerPolicy;
  #dropped = 0;
  #policy: SlowConsumerPolicy;
  #topics: Map<string, number> | null = null;

  /** @param defaultPolicy The server's policy, for subscriptions without one. */
  constructor(defaultPolicy: SlowConsumerPolicy) {
    this.defaultPolicy = defaultPolicy;
    this.#policy = defaultPolicy;
  }

  /** Messages dropped since the last notice. */
  get pending(): number {
    return this.#dropped;
  }

  /** Counts one dropped delivery on `topic`. */
  record(topic: string, policy: SlowConsumerPolicy): void {
    this.#dropped++;
    this.#policy = policy;
    const topics = this.#topics ??= new Map();
    const count = topics.get(topic);
    if (count !== undefined) topics.set(topic, count + 1);
    else if (topics.size < MAX_NOTICE_TOPICS) topics.set(topic, 1);
  }

  /** The notice for what was dropped since the last {@linkcode DropLedger.reset}. */
  notice(): Uint8Array {
    return encodeLine({
      action: "slow_consumer",
      policy: this.#policy,
      dropped: this.#dropped,
      topics: Object.fromEntries(this.#topics ?? []),
    });
  }

  /** Starts counting again, once the notice is queued. */
  reset(): void {
    this.#dropped = 0;
    this.#topics?.clear();
  }
}
