/**
 * Retained messages: the last message of each topic that was published with
 * `retain: true`, bounded in count and bytes.
 *
 * @module
 */

import { toAsciiJson } from "../protocol/codec.ts";
import type { Headers, JsonValue } from "../protocol/frames.ts";
import { hasWildcard, matchLevels, SEPARATOR } from "../topic/pattern.ts";
import { utf8Length } from "../_utf8.ts";

/** One retained message, kept as encoded JSON text (what it costs is what is counted). */
export interface Retained {
  /** Its topic. */
  readonly topic: string;
  /** Its topic's levels, split once. */
  readonly levels: readonly string[];
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

/** The retained messages, by topic. */
export class RetainedStore {
  readonly #byTopic = new Map<string, Retained>();
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  #bytes = 0;

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
      }
      return null;
    }
    const json = toAsciiJson(JSON.stringify(message));
    const bytes = 2 * utf8Length(topic) + json.length +
      (headers === undefined ? 0 : utf8Length(JSON.stringify(headers)));
    const count = this.#byTopic.size + (old === undefined ? 1 : 0);
    const total = this.#bytes - (old?.bytes ?? 0) + bytes;
    if (count > this.#maxMessages) {
      return `Retained messages would exceed ${this.#maxMessages}`;
    }
    if (total > this.#maxBytes) return `Retained messages would exceed ${this.#maxBytes} bytes`;
    const levels = topic.split(SEPARATOR);
    this.#byTopic.set(topic, { topic, levels, json, headers, seq, bytes });
    this.#bytes = total;
    return null;
  }

  /** Every retained message. */
  all(): IterableIterator<Retained> {
    return this.#byTopic.values();
  }

  /** The retained messages whose topic matches `pattern`. */
  matching(pattern: string): Retained[] {
    if (!hasWildcard(pattern)) {
      const one = this.#byTopic.get(pattern);
      return one === undefined ? [] : [one];
    }
    const levels = pattern.split(SEPARATOR);
    const found: Retained[] = [];
    for (const retained of this.#byTopic.values()) {
      if (matchLevels(levels, retained.levels)) found.push(retained);
    }
    return found;
  }
}
