/**
 * Which patterns the nodes of a cluster have subscribers for: this node's
 * own (counted, so that it announces a pattern when its first subscription
 * comes and its last goes) and the others' (as they announced them), so
 * that a request nobody anywhere can answer gets `no_responders` without a
 * round trip through Redis.
 *
 * @module
 */

import { SubscriptionIndex } from "../topic/subscription_index.ts";

/** How an announcement of a node's patterns changes what is known of it. */
export type InterestChange = "all" | "add" | "remove";

/** The cluster's subscription patterns, as this node knows them. */
export class ClusterInterest {
  /** This node's patterns, with how many subscriptions each has. */
  readonly #mine = new Map<string, number>();
  /** The other nodes' patterns; the subscriber is the node. */
  readonly #theirs = new SubscriptionIndex<string>();
  readonly #byNode = new Map<string, Set<string>>();

  /**
   * A subscription to `pattern` here was added (`1`) or removed (`-1`).
   * Returns whether this node's set of patterns changed (its first came or
   * its last went).
   */
  local(pattern: string, change: 1 | -1): boolean {
    const count = (this.#mine.get(pattern) ?? 0) + change;
    if (count > 0) this.#mine.set(pattern, count);
    else this.#mine.delete(pattern);
    return count === (change === 1 ? 1 : 0);
  }

  /** This node's patterns. */
  mine(): string[] {
    return [...this.#mine.keys()];
  }

  /** What `node` announced: all its patterns, or some added or removed. */
  update(node: string, patterns: readonly string[], change: InterestChange): void {
    let known = this.#byNode.get(node);
    if (change === "all" && known !== undefined) {
      for (const pattern of known) this.#theirs.remove(pattern, node);
      known.clear();
    }
    if (known === undefined) this.#byNode.set(node, known = new Set());
    for (const pattern of patterns) {
      if (change === "remove") {
        if (known.delete(pattern)) this.#theirs.remove(pattern, node);
      } else if (!known.has(pattern)) {
        known.add(pattern);
        this.#theirs.add(pattern, node);
      }
    }
    if (known.size === 0) this.#byNode.delete(node);
  }

  /** Forgets `node`'s patterns. */
  remove(node: string): void {
    this.update(node, [], "all");
  }

  /** Whether another node has a subscriber that may match `topic`. */
  hasRemote(topic: string): boolean {
    return this.#theirs.hasMatch(topic);
  }

  /** (node, pattern) pairs known of the other nodes. */
  get remoteCount(): number {
    return this.#theirs.size;
  }
}
