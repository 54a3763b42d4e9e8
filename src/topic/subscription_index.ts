/**
 * The subscription index: which subscribers want which topic. Exact topics
 * live in a map; wildcard patterns in a trie of levels, so matching a topic
 * costs in proportion to its levels (and the wildcards that match), not to
 * the number of subscriptions.
 *
 * @module
 */

import { hasWildcard, MULTI, SEPARATOR, SINGLE } from "./pattern.ts";
import { COLLECTION_BYTES, ENTRY_BYTES, OBJECT_BYTES, stringBytes } from "../_memory_cost.ts";

/** What a trie node costs, with its `children` map when it has one. */
function nodeBytes(node: TrieNode<unknown>): number {
  return OBJECT_BYTES + (node.children === null ? 0 : COLLECTION_BYTES);
}

/** What a child node costs its parent's map beside the node: the entry and the level's text. */
function childEntryBytes(level: string): number {
  return ENTRY_BYTES + stringBytes(level);
}

class TrieNode<S> {
  children: Map<string, TrieNode<S>> | null = null;
  single: TrieNode<S> | null = null;
  /** Subscribers whose pattern ends here. */
  here: Set<S> | null = null;
  /** The pattern that ends here, once it has subscribers. */
  herePattern = "";
  /** Subscribers whose pattern ends here with `/#` (or is `#` at the root). */
  rest: Set<S> | null = null;
  /** The pattern that ends here with `/#`, once it has subscribers. */
  restPattern = "";

  get empty(): boolean {
    return this.here === null && this.rest === null && this.single === null &&
      (this.children === null || this.children.size === 0);
  }
}

function addTo<S>(set: Set<S> | null, subscriber: S): [Set<S>, boolean] {
  const target = set ?? new Set<S>();
  if (target.has(subscriber)) return [target, false];
  target.add(subscriber);
  return [target, true];
}

/** What adding a subscriber to `set` (made when `null`) costs. */
function addedBytes(set: Set<unknown> | null): number {
  return (set === null ? COLLECTION_BYTES : 0) + ENTRY_BYTES;
}

/**
 * Maps topic patterns to their subscribers.
 *
 * @example
 * ```ts
 * import { SubscriptionIndex } from "@kn-sock/pubsub";
 *
 * const index = new SubscriptionIndex<string>();
 * index.add("news/+", "alice");
 * index.add("news/sports", "bob");
 * const found: string[] = [];
 * index.match("news/sports", (s) => found.push(s));
 * console.log(found); // ["bob", "alice"]
 * ```
 *
 * @typeParam S The subscriber type.
 */
export class SubscriptionIndex<S> {
  readonly #exact = new Map<string, Set<S>>();
  readonly #root = new TrieNode<S>();
  #wildcards = 0;
  #size = 0;
  #patterns = 0;
  #bytes = 0;

  /**
   * An estimate of the memory the index holds, in bytes: its maps, sets and
   * trie nodes with their object overhead and the text of their keys, not
   * counting the subscribers themselves. It only ever over-estimates.
   */
  get bytes(): number {
    return this.#bytes;
  }

  /** The number of (pattern, subscriber) pairs. */
  get size(): number {
    return this.#size;
  }

  /** The number of patterns with at least one subscriber. */
  get topicCount(): number {
    return this.#patterns;
  }

  /** Adds a subscription to a valid pattern; returns `false` when it existed already. */
  add(pattern: string, subscriber: S): boolean {
    let added: boolean;
    if (!hasWildcard(pattern)) {
      const existing = this.#exact.get(pattern) ?? null;
      const cost = addedBytes(existing);
      const [set, isNew] = addTo(existing, subscriber);
      if (existing === null) {
        this.#patterns++;
        this.#exact.set(pattern, set);
        this.#bytes += ENTRY_BYTES + stringBytes(pattern);
      }
      if (isNew) this.#bytes += cost;
      added = isNew;
    } else {
      added = this.#addWildcard(pattern, subscriber);
      if (added) this.#wildcards++;
    }
    if (added) this.#size++;
    return added;
  }

  /** Removes a subscription; returns `false` when there was none. */
  remove(pattern: string, subscriber: S): boolean {
    let removed: boolean;
    if (!hasWildcard(pattern)) {
      const set = this.#exact.get(pattern);
      removed = set !== undefined && set.delete(subscriber);
      if (removed) this.#bytes -= ENTRY_BYTES;
      if (removed && set!.size === 0) {
        this.#exact.delete(pattern);
        this.#patterns--;
        this.#bytes -= COLLECTION_BYTES + ENTRY_BYTES + stringBytes(pattern);
      }
    } else {
      removed = this.#removeWildcard(this.#root, pattern.split(SEPARATOR), 0, subscriber);
      if (removed) this.#wildcards--;
    }
    if (removed) this.#size--;
    return removed;
  }

  /**
   * Calls `visit` for every subscription whose pattern matches `topic`,
   * with that pattern (a subscriber with several matching patterns is
   * visited once for each).
   */
  match(topic: string, visit: (subscriber: S, pattern: string) => void): void {
    const exact = this.#exact.get(topic);
    if (exact !== undefined) { for (const subscriber of exact) visit(subscriber, topic); }
    if (this.#wildcards === 0) return;
    const levels = topic.split(SEPARATOR);
    this.#walk(this.#root, levels, 0, levels[0].startsWith("$"), visit);
  }

  /** Whether any subscription matches `topic`. */
  hasMatch(topic: string): boolean {
    let found = false;
    this.match(topic, () => {
      found = true;
    });
    return found;
  }

  #walk(
    node: TrieNode<S>,
    levels: string[],
    depth: number,
    dollar: boolean,
    visit: (subscriber: S, pattern: string) => void,
  ): void {
    const wildcardsAllowed = !(dollar && depth === 0);
    if (node.rest !== null && wildcardsAllowed) {
      for (const s of node.rest) visit(s, node.restPattern);
    }
    if (depth === levels.length) {
      if (node.here !== null) { for (const s of node.here) visit(s, node.herePattern); }
      return;
    }
    const child = node.children?.get(levels[depth]);
    if (child !== undefined) this.#walk(child, levels, depth + 1, dollar, visit);
    if (node.single !== null && wildcardsAllowed) {
      this.#walk(node.single, levels, depth + 1, dollar, visit);
    }
  }

  #addWildcard(pattern: string, subscriber: S): boolean {
    const levels = pattern.split(SEPARATOR);
    let node = this.#root;
    for (const level of levels) {
      if (level === MULTI) {
        if (node.rest === null) this.#patterns++;
        const cost = addedBytes(node.rest);
        const [set, added] = addTo(node.rest, subscriber);
        node.rest = set;
        if (added) this.#bytes += cost;
        node.restPattern = pattern;
        return added;
      }
      if (level === SINGLE) {
        if (node.single === null) {
          node.single = new TrieNode<S>();
          this.#bytes += OBJECT_BYTES;
        }
        node = node.single;
      } else {
        if (node.children === null) {
          node.children = new Map();
          this.#bytes += COLLECTION_BYTES;
        }
        let child = node.children.get(level);
        if (child === undefined) {
          child = new TrieNode<S>();
          node.children.set(level, child);
          this.#bytes += OBJECT_BYTES + childEntryBytes(level);
        }
        node = child;
      }
    }
    if (node.here === null) this.#patterns++;
    const cost = addedBytes(node.here);
    const [set, added] = addTo(node.here, subscriber);
    node.here = set;
    if (added) this.#bytes += cost;
    node.herePattern = pattern;
    return added;
  }

  /** Removes and prunes empty nodes on the way back. */
  #removeWildcard(node: TrieNode<S>, levels: string[], depth: number, subscriber: S): boolean {
    const level = levels[depth];
    if (level === MULTI) {
      if (node.rest === null || !node.rest.delete(subscriber)) return false;
      this.#bytes -= ENTRY_BYTES;
      if (node.rest.size === 0) {
        node.rest = null;
        node.restPattern = "";
        this.#patterns--;
        this.#bytes -= COLLECTION_BYTES;
      }
      return true;
    }
    if (depth === levels.length) {
      if (node.here === null || !node.here.delete(subscriber)) return false;
      this.#bytes -= ENTRY_BYTES;
      if (node.here.size === 0) {
        node.here = null;
        node.herePattern = "";
        this.#patterns--;
        this.#bytes -= COLLECTION_BYTES;
      }
      return true;
    }
    const child = level === SINGLE ? node.single : node.children?.get(level) ?? null;
    if (child === null || !this.#removeWildcard(child, levels, depth + 1, subscriber)) return false;
    if (child.empty) {
      this.#bytes -= nodeBytes(child);
      if (level === SINGLE) node.single = null;
      else {
        node.children!.delete(level);
        this.#bytes -= childEntryBytes(level);
        if (node.children!.size === 0) {
          node.children = null;
          this.#bytes -= COLLECTION_BYTES;
        }
      }
    }
    return true;
  }
}
