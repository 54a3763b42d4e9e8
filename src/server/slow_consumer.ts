/**
 * The slow-consumer policy of one connection: which policy applies to a
 * delivery, what was dropped, and the `slow_consumer` notice that tells the
 * client.
 *
 * @module
 */

import { encodeLine } from "../protocol/codec.ts";
import type { SlowConsumerPolicy } from "../protocol/frames.ts";
import { matchTopic } from "../topic/pattern.ts";

/** A notice lists at most this many topics; the total counts them all. */
const MAX_NOTICE_TOPICS = 100;

/** When subscriptions disagree: a drop policy wins over disconnecting, drop-oldest over drop-newest. */
const RANK: Readonly<Record<SlowConsumerPolicy, number>> = {
  "disconnect": 0,
  "drop-newest": 1,
  "drop-oldest": 2,
};

/**
 * One connection's policies and drop counts. Policies are looked up only
 * when the outbound queue is full, so the common path costs nothing.
 */
export class DropLedger {
  readonly #defaultPolicy: SlowConsumerPolicy;
  /** Subscriptions with a policy of their own: router key -> [pattern, policy]. */
  #own: Map<string, [string, SlowConsumerPolicy]> | null = null;
  #cachedTopic: string | null = null;
  #cachedPolicy: SlowConsumerPolicy;
  #dropped = 0;
  #policy: SlowConsumerPolicy;
  #topics: Map<string, number> | null = null;

  /** @param defaultPolicy The server's policy, for subscriptions without one. */
  constructor(defaultPolicy: SlowConsumerPolicy) {
    this.#defaultPolicy = defaultPolicy;
    this.#cachedPolicy = defaultPolicy;
    this.#policy = defaultPolicy;
  }

  /** Whether `drop-oldest` may apply (the queue must then remember its frames). */
  get dropsOldest(): boolean {
    if (this.#defaultPolicy === "drop-oldest") return true;
    if (this.#own === null) return false;
    for (const [, policy] of this.#own.values()) if (policy === "drop-oldest") return true;
    return false;
  }

  /** Messages dropped since the last notice. */
  get pending(): number {
    return this.#dropped;
  }

  /** Sets (or, with `undefined`, clears) the policy of the subscription `key`. */
  set(key: string, pattern: string, policy: SlowConsumerPolicy | undefined): void {
    this.#cachedTopic = null;
    if (policy === undefined) {
      this.#own?.delete(key);
      return;
    }
    (this.#own ??= new Map()).set(key, [pattern, policy]);
  }

  /** The policy for a delivery on `topic`. */
  policyFor(topic: string): SlowConsumerPolicy {
    if (this.#own === null || this.#own.size === 0) return this.#defaultPolicy;
    if (topic === this.#cachedTopic) return this.#cachedPolicy;
    let best: SlowConsumerPolicy | null = null;
    for (const [pattern, policy] of this.#own.values()) {
      if ((best === null || RANK[policy] > RANK[best]) && matchTopic(pattern, topic)) best = policy;
    }
    this.#cachedTopic = topic;
    this.#cachedPolicy = best ?? this.#defaultPolicy;
    return this.#cachedPolicy;
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
