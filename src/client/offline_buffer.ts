/**
 * Publishes made while the client is disconnected, held in order and
 * bounded in bytes until the next connection takes them.
 *
 * @module
 */

import { type Deferred, handled, RESOLVED } from "../_async.ts";
import { Fifo } from "../_fifo.ts";
import { utf8Length } from "../_utf8.ts";
import { type ConnectionClosedError, ErrorCode, PubSubError } from "../errors.ts";
import type { PublishFrame } from "../protocol/frames.ts";
import { frameText } from "./connection.ts";
import type { OfflineOverflow } from "./options.ts";

/** One held publish: its line, or its frame when it waits for an ack. */
export interface OfflineEntry {
  /** The encoded line (`\n` included), for a publish without ack. */
  readonly text: string | null;
  /** The frame, for a publish with ack: it gets its `id` when it is sent. */
  readonly frame: PublishFrame | null;
  /** Settled with the ack, for a publish with ack. */
  readonly answer: Deferred<void> | null;
  /** Its size in bytes, as counted against the limit. */
  readonly size: number;
}

/** Options of {@linkcode OfflineBuffer}. */
export interface OfflineBufferOptions {
  /** Bytes held at most. */
  maxBytes: number;
  /** What a publish that does not fit does. */
  overflow: OfflineOverflow;
  /** With `overflow: "count"`: told of each dropped publish. */
  dropped(topic: string, problem: string): void;
}

/**
 * Held publishes. Those without ack share one promise, settled once all of
 * them are written to the next connection; those with ack each get theirs.
 */
export class OfflineBuffer {
  readonly #entries = new Fifo<OfflineEntry>();
  readonly #options: OfflineBufferOptions;
  #bytes = 0;
  #batch: Deferred<void> | null = null;

  /** @param options The limit and what overflowing does. */
  constructor(options: OfflineBufferOptions) {
    this.#options = options;
  }

  /**
   * Holds `frame` (with `ack`: its promise settles with the server's
   * answer once sent). When it does not fit: rejects with `buffer_full`,
   * or resolves after reporting the drop, as `overflow` says.
   */
  hold(frame: PublishFrame, ack: boolean): Promise<void> {
    const text = frameText(frame);
    const size = utf8Length(text);
    if (this.#bytes + size <= this.#options.maxBytes) {
      return ack ? this.#addAcked(frame, size) : this.#add(text, size);
    }
    const problem = `Offline buffer holds ${this.#bytes} bytes; ` +
      `${size} more would exceed ${this.#options.maxBytes}`;
    if (this.#options.overflow === "error") {
      return Promise.reject(new PubSubError(ErrorCode.BufferFull, problem));
    }
    this.#options.dropped(frame.topic, problem);
    return RESOLVED;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Publishes held. */
  get length(): number {
    return this.#entries.length;
  }

  /** Holds a publish without ack; resolves once it is written to the next connection. */
  #add(text: string, size: number): Promise<void> {
    this.#entries.push({ text, frame: null, answer: null, size });
    this.#bytes += size;
    this.#batch ??= handled<void>();
    return this.#batch.promise;
  }

  /** Holds a publish with ack; settles with its ack. */
  #addAcked(frame: PublishFrame, size: number): Promise<void> {
    const answer = handled<void>();
    this.#entries.push({ text: null, frame, answer, size });
    this.#bytes += size;
    return answer.promise;
  }

  /**
   * Hands every held publish, in order, to `send`, then settles the shared
   * promise with `written` (the connection's promise for those bytes).
   */
  drain(send: (entry: OfflineEntry) => void, written: () => Promise<void>): void {
    for (let entry = this.#entries.shift(); entry !== undefined; entry = this.#entries.shift()) {
      this.#bytes -= entry.size;
      send(entry);
    }
    const batch = this.#batch;
    this.#batch = null;
    if (batch !== null) written().then(batch.resolve, batch.reject);
  }

  /** Rejects every held publish with `error` and forgets them: the client closed. */
  rejectAll(error: ConnectionClosedError): void {
    for (let entry = this.#entries.shift(); entry !== undefined; entry = this.#entries.shift()) {
      entry.answer?.reject(error);
    }
    this.#bytes = 0;
    this.#batch?.reject(error);
    this.#batch = null;
  }
}
