/**
 * Queue groups across the nodes of a cluster: which nodes have members of
 * each (group, pattern), and whose turn it is. The node that routes a
 * publish picks one node per matching group, in turn; the picks ride in
 * the publish's envelope and each node delivers to one of its own members
 * only for the groups it was picked for. So each message reaches one member
 * cluster-wide, and nodes with members share the messages evenly.
 *
 * @module
 */

import type { GroupMembership } from "../backplane/backplane.ts";
import { SubscriptionIndex } from "../topic/subscription_index.ts";
import { subscriptionKey } from "../topic/subscription_key.ts";

/** One (group, pattern) across the cluster. */
interface ClusterGroup {
  readonly key: string;
  readonly pattern: string;
  /** The nodes with members, in the order they announced them. */
  readonly nodes: string[];
  next: number;
}

/** The cluster's queue groups, as this node knows them. */
export class ClusterGroups {
  readonly #index = new SubscriptionIndex<ClusterGroup>();
  readonly #groups = new Map<string, ClusterGroup>();
  /** The subscription keys of each node's groups. */
  readonly #byNode = new Map<string, Set<string>>();
  #picks: Record<string, string> | null = null;
  readonly #visit = (group: ClusterGroup): void => {
    const nodes = group.nodes;
    const at = group.next % nodes.length;
    group.next = at + 1;
    (this.#picks ??= {})[group.key] = nodes[at];
  };

  /** Nodes with queue groups. */
  get nodeCount(): number {
    return this.#byNode.size;
  }

  /** Sets every (group, pattern) `node` has members in; an empty list takes it out. */
  set(node: string, groups: readonly GroupMembership[]): void {
    const keys = new Set<string>();
    for (const [group, pattern] of groups) {
      const key = subscriptionKey(pattern, group);
      keys.add(key);
      let entry = this.#groups.get(key);
      if (entry === undefined) {
        entry = { key, pattern, nodes: [], next: 0 };
        this.#groups.set(key, entry);
        this.#index.add(pattern, entry);
      }
      if (!entry.nodes.includes(node)) entry.nodes.push(node);
    }
    const before = this.#byNode.get(node);
    if (before !== undefined) {
      for (const key of before) if (!keys.has(key)) this.#leave(key, node);
    }
    if (keys.size === 0) this.#byNode.delete(node);
    else this.#byNode.set(node, keys);
  }

  /** Takes `node` out of every group. */
  remove(node: string): void {
    this.set(node, []);
  }

  /**
   * The node whose turn it is in each group matching `topic`, by
   * subscription key; `null` when no group matches.
   */
  pick(topic: string): Record<string, string> | null {
    this.#picks = null;
    this.#index.match(topic, this.#visit);
    const picks = this.#picks;
    this.#picks = null;
    return picks;
  }

  #leave(key: string, node: string): void {
    const entry = this.#groups.get(key);
    if (entry === undefined) return;
    const at = entry.nodes.indexOf(node);
    if (at !== -1) entry.nodes.splice(at, 1);
    if (entry.nodes.length === 0) {
      this.#groups.delete(key);
      this.#index.remove(entry.pattern, entry);
    }
  }
}
