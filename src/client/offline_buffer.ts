/**
 * Publishes made while the client is disconnected, held in order and
 * bounded in bytes until the next connection takes them.
 *
 * @module
 */

import { type Deferred, handled } from "../_async.ts";
import { Fifo } from "../_fifo.ts";
import { utf8Length } from "../_utf8.ts";
import { type ConnectionClosedError, ErrorCode, PubSubError } from "../errors.ts";
import type { PublishFrame } from "../protocol/frames.ts";
import { frameText } from "./connection.ts";

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

/**
 * Held publishes. Those without ack share one promise, settled once all of
 * them are written to the next connection; those with ack each get theirs.
 */
export class OfflineBuffer {
  readonly #entries = new Fifo<OfflineEntry>();
  readonly #maxBytes: number;
  #bytes = 0;
  #batch: Deferred<void> | null = null;

  /** @param maxBytes Bytes held at most. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * Holds `frame` and returns its promise (with `ack`, it settles with the
   * server's answer once sent). When it does not fit, holds nothing and
   * returns the `buffer_full` error instead: the caller rejects with it or
   * counts the drop.
   */
  hold(frame: PublishFrame, ack: boolean): Promise<void> | PubSubError {
    const text = frameText(frame);
    const size = utf8Length(text);
    if (this.#bytes + size <= this.#maxBytes) {
      return ack ? this.#addAcked(frame, size) : this.#add(text, size);
    }
    return new PubSubError(
      ErrorCode.BufferFull,
      `Offline buffer holds ${this.#bytes} bytes; ${size} more would exceed ${this.#maxBytes}`,
    );
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
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
