/**
 * A bounded, coalescing write queue over a {@linkcode Conn}: the one place
 * where bytes waiting to go out are counted.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { type Deferred, deferred, RESOLVED } from "../_deferred.ts";
import type { Conn } from "./types.ts";

function ignore(): void {
  // Marks a shared promise as handled: its rejection is reported to whoever
  // awaits it, and to the queue's owner through `onError`.
}

function concat(chunks: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * Queues byte chunks for one connection, bounded in bytes. Chunks queued in
 * the same tick, or while a write is in flight, go out together in one
 * write. Enqueueing allocates no promise; `written()` does, once per batch.
 *
 * @example
 * ```ts ignore
 * const queue = new WriteQueue(conn, 8 * 1024 * 1024);
 * if (!queue.enqueue(bytes)) {
 *   // over the limit: the caller decides (slow consumer, buffer full, ...)
 * }
 * await queue.written();
 * ```
 */
export class WriteQueue {
  /** Called once when a write fails; the queue then refuses everything. */
  onError: ((error: unknown) => void) | null = null;
  readonly #conn: Conn;
  readonly #maxBytes: number;
  #chunks: Uint8Array[] = [];
  #queuedBytes = 0;
  #pendingBytes = 0;
  #writing = false;
  #scheduled = false;
  #error: unknown = null;
  #queuedBatch: Deferred<void> | null = null;
  #inFlightBatch: Deferred<void> | null = null;
  readonly #run = (): void => {
    this.#scheduled = false;
    void this.#flush();
  };

  /**
   * @param conn The connection to write to.
   * @param maxBytes The most bytes held (queued plus in flight).
   */
  constructor(conn: Conn, maxBytes: number) {
    this.#conn = conn;
    this.#maxBytes = maxBytes;
  }

  /** Bytes queued or in flight. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Whether a write failed; the queue then refuses everything. */
  get failed(): boolean {
    return this.#error !== null;
  }

  /**
   * Queues `bytes` unless that would hold more than the limit (or the queue
   * failed). With `force`, queues past the limit: for a final notice.
   *
   * @returns Whether the bytes were queued.
   */
  enqueue(bytes: Uint8Array, force = false): boolean {
    if (this.#error !== null) return false;
    const size = bytes.byteLength;
    if (!force && this.#pendingBytes + size > this.#maxBytes) return false;
    this.#chunks.push(bytes);
    this.#queuedBytes += size;
    this.#pendingBytes += size;
    if (!this.#writing && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
    return true;
  }

  /**
   * Drops what is queued but not yet in flight; whoever awaits `written()`
   * for those bytes gets `reason`. Returns how many chunks were dropped.
   */
  discardQueued(reason: unknown): number {
    const dropped = this.#chunks.length;
    this.#pendingBytes -= this.#queuedBytes;
    this.#chunks = [];
    this.#queuedBytes = 0;
    this.#queuedBatch?.reject(reason);
    this.#queuedBatch = null;
    return dropped;
  }

  /**
   * Resolves once every byte queued so far is handed to the connection;
   * rejects with a `ConnectionClosedError` if a write fails first.
   */
  written(): Promise<void> {
    if (this.#error !== null) return Promise.reject(this.#closedError());
    if (this.#chunks.length > 0) return (this.#queuedBatch ??= handled()).promise;
    if (this.#writing) return (this.#inFlightBatch ??= handled()).promise;
    return RESOLVED;
  }

  async #flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#chunks.length > 0) {
        const chunks = this.#chunks;
        const size = this.#queuedBytes;
        const batch = chunks.length === 1 ? chunks[0] : concat(chunks, size);
        this.#chunks = [];
        this.#queuedBytes = 0;
        this.#inFlightBatch = this.#queuedBatch;
        this.#queuedBatch = null;
        try {
          await this.#conn.write(batch);
        } finally {
          this.#pendingBytes -= size;
        }
        const done = this.#inFlightBatch;
        this.#inFlightBatch = null;
        done?.resolve();
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#writing = false;
    }
  }

  #closedError(): ConnectionClosedError {
    const error = this.#error;
    return error instanceof ConnectionClosedError
      ? error
      : new ConnectionClosedError("Connection is closed", { cause: error });
  }

  #fail(error: unknown): void {
    this.#error = error ?? new ConnectionClosedError();
    const closed = this.#closedError();
    this.discardQueued(closed);
    this.#inFlightBatch?.reject(closed);
    this.#inFlightBatch = null;
    this.onError?.(error);
  }
}

function handled(): Deferred<void> {
  const batch = deferred<void>();
  batch.promise.catch(ignore);
  return batch;
}
