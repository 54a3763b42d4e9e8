/**
 * Retained messages: the last message of each topic that was published with
 * `retain: true`, bounded in count and bytes.
 *
 * @module
 */

import { toAsciiJson } from "../protocol/codec.ts";
import type { Headers, JsonValue } from "../protocol/frames.ts";
import { hasWildcard, MULTI, SEPARATOR, SINGLE } from "../topic/pattern.ts";
import { utf8Length } from "../_utf8.ts";
import { COLLECTION_BYTES, ENTRY_BYTES, OBJECT_BYTES, stringBytes } from "../_memory_cost.ts";

/** What one level of a retained topic may cost in the trie: a node, its map, its entry there. */
const LEVEL_BYTES = OBJECT_BYTES + COLLECTION_BYTES + ENTRY_BYTES;

/**
 * What a retained message counts against `maxRetainedBytes`: its JSON text,
 * its headers' text, its topic's text (kept twice: as the key and in the
 * trie's levels), its record, and a trie node per level as if none were
 * shared, so that deep topics cannot hold more than is counted.
 */
function retainedBytes(topic: string, json: string, headers: Headers | undefined): number {
  const levels = topic.split(SEPARATOR).length;
  return json.length + (headers === undefined ? 0 : 2 * utf8Length(JSON.stringify(headers))) +
    2 * stringBytes(topic) + OBJECT_BYTES + ENTRY_BYTES + levels * LEVEL_BYTES;
}

/** One retained message, kept as encoded JSON text (what it costs is what is counted). */
export interface Retained {
  /** Its topic. */
  readonly topic: string;
  /** The message, as ASCII JSON text. */
  readonly json: string;
  /** Its headers, if any. */
  readonly headers: Headers | undefined;
  /** The topic's sequence number when it was published. */
  readonly seq: number;
  /** What it counts against `maxRetainedBytes`. */
  readonly bytes: number;
}

/** Whether a retained publish clears instead of storing: `null` or `""`. */
function clearsRetained(message: JsonValue): boolean {
  return message === null || message === "";
}

/** One level of the topics with a retained message. */
class LevelNode {
  children: Map<string, LevelNode> | null = null;
  /** The retained message of the topic that ends here. */
  retained: Retained | null = null;
  /** When the topic first got its retained message: matches are returned in this order. */
  order = 0;
}

/**
 * The retained messages, by topic, and in a trie of topic levels, so that a
 * wildcard subscribe costs the matches and the trie nodes its pattern
 * reaches, not a scan of every retained message.
 */
export class RetainedStore {
  readonly #byTopic = new Map<string, Retained>();
  readonly #root = new LevelNode();
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  #bytes = 0;
  #order = 0;
  /** Trie nodes the last `matching()` visited: what a wildcard subscribe cost. */
  visited = 0;

  /**
   * @param maxMessages The most messages kept.
   * @param maxBytes The most bytes kept.
   */
  constructor(maxMessages: number, maxBytes: number) {
    this.#maxMessages = maxMessages;
    this.#maxBytes = maxBytes;
  }

  /** How many messages are retained. */
  get size(): number {
    return this.#byTopic.size;
  }

  /** Bytes held, as counted against `maxRetainedBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Stores (or, for an empty message, clears) the topic's retained message.
   * Returns a reason when it would pass a limit; nothing changes then.
   */
  set(topic: string, message: JsonValue, headers: Headers | undefined, seq: number): string | null {
    const old = this.#byTopic.get(topic);
    if (clearsRetained(message)) {
      if (old !== undefined) {
        this.#byTopic.delete(topic);
        this.#bytes -= old.bytes;
        this.#unlink(topic.split(SEPARATOR));
      }
      return null;
    }
    const json = toAsciiJson(JSON.stringify(message));
    const bytes = retainedBytes(topic, json, headers);
    const count = this.#byTopic.size + (old === undefined ? 1 : 0);
    const total = this.#bytes - (old?.bytes ?? 0) + bytes;
    if (count > this.#maxMessages) {
      return `Retained messages would exceed ${this.#maxMessages}`;
    }
    if (total > this.#maxBytes) return `Retained messages would exceed ${this.#maxBytes} bytes`;
    const retained: Retained = { topic, json, headers, seq, bytes };
    this.#byTopic.set(topic, retained);
    this.#bytes = total;
    let node = this.#root;
    for (const level of topic.split(SEPARATOR)) {
      node.children ??= new Map();
      let child = node.children.get(level);
      if (child === undefined) {
        child = new LevelNode();
        node.children.set(level, child);
      }
      node = child;
    }
    if (node.retained === null) node.order = ++this.#order;
    node.retained = retained;
    return null;
  }

  /** Every retained message. */
  all(): IterableIterator<Retained> {
    return this.#byTopic.values();
  }

  /** Removes the message at `levels` and prunes the nodes left empty. */
  #unlink(levels: string[]): void {
    const path: LevelNode[] = [this.#root];
    for (const level of levels) {
      const next = path[path.length - 1].children?.get(level);
      if (next === undefined) return;
      path.push(next);
    }
    path[path.length - 1].retained = null;
    for (let depth = levels.length; depth > 0; depth--) {
      const node = path[depth];
      if (node.retained !== null || (node.children !== null && node.children.size > 0)) return;
      path[depth - 1].children!.delete(levels[depth - 1]);
    }
  }

  /**
   * The retained messages whose topic matches `pattern`, oldest topic
   * first. A wildcard pattern walks only the trie nodes it can match.
   */
  matching(pattern: string): Retained[] {
    if (!hasWildcard(pattern)) {
      const one = this.#byTopic.get(pattern);
      return one === undefined ? [] : [one];
    }
    const found: LevelNode[] = [];
    this.visited = collect(this.#root, pattern.split(SEPARATOR), 0, found);
    found.sort((a, b) => a.order - b.order);
    return found.map((node) => node.retained!);
  }
}

/** Whether a leading wildcard may match the first level `name` (not a `$` one). */
function wildcardMatches(depth: number, name: string): boolean {
  return depth !== 0 || name.charCodeAt(0) !== 0x24; // "$"
}

/**
 * Adds the nodes under `node` that hold a message matching `levels` from
 * `depth` on; returns how many nodes it visited.
 */
function collect(node: LevelNode, levels: string[], depth: number, found: LevelNode[]): number {
  if (depth === levels.length) {
    if (node.retained !== null) found.push(node);
    return 1;
  }
  const level = levels[depth];
  let visited = 1;
  if (level === MULTI) {
    // `a/#` matches `a` itself too.
    if (node.retained !== null) found.push(node);
    if (node.children === null) return visited;
    for (const [name, child] of node.children) {
      if (wildcardMatches(depth, name)) visited += everything(child, found);
    }
    return visited;
  }
  if (level === SINGLE) {
    if (node.children === null) return visited;
    for (const [name, child] of node.children) {
      if (wildcardMatches(depth, name)) visited += collect(child, levels, depth + 1, found);
    }
    return visited;
  }
  const child = node.children?.get(level);
  return child === undefined ? visited : visited + collect(child, levels, depth + 1, found);
}

/** Adds every node under `node`, itself included, that holds a message; returns how many it visited. */
function everything(node: LevelNode, found: LevelNode[]): number {
  if (node.retained !== null) found.push(node);
  let visited = 1;
  if (node.children === null) return visited;
  for (const child of node.children.values()) visited += everything(child, found);
  return visited;
}
