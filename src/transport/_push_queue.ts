/**
 * Turns pushed values (socket callbacks) into an async iterable with a byte
 * bound: past `highWaterMark` bytes it calls `pause()`, and `resume()` once
 * the reader has taken them. Used by the callback-based adapters.
 *
 * @module
 */

import { Fifo } from "../_fifo.ts";

/** Flow-control callbacks of a {@linkcode PushQueue}. */
export interface PushQueueOptions<T> {
  /** The size of one value, in bytes; values count 1 when omitted. */
  size?: (value: T) => number;
  /** Pause the source at this many buffered bytes. Default 64 KiB. */
  highWaterMark?: number;
  /** Stops the source. */
  pause?: () => void;
  /** Restarts the source. */
  resume?: () => void;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** An async iterable fed by `push()` and ended by `end()`; one reader. */
export class PushQueue<T> implements AsyncIterable<T> {
  #values: Fifo<T> = new Fifo<T>();
  #bytes = 0;
  #ended = false;
  #paused = false;
  #waiter: ((result: IteratorResult<T>) => void) | null = null;
  #options: PushQueueOptions<T>;
  #highWaterMark: number;

  constructor(options: PushQueueOptions<T> = {}) {
    this.#options = options;
    this.#highWaterMark = options.highWaterMark ?? 64 * 1024;
  }

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Adds a value; ignored after `end()`. */
  push(value: T): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter({ done: false, value });
      return;
    }
    this.#values.push(value);
    this.#bytes += this.#size(value);
    if (!this.#paused && this.#bytes >= this.#highWaterMark && this.#options.pause) {
      this.#paused = true;
      this.#options.pause();
    }
  }

  /** Ends the iteration once the buffered values are read. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.(DONE);
  }

  /** Ends the iteration now, dropping buffered values. */
  discard(): void {
    this.#values.clear();
    this.#bytes = 0;
    this.end();
  }

  #size(value: T): number {
    return this.#options.size ? this.#options.size(value) : 1;
  }

  #next(): Promise<IteratorResult<T>> {
    if (this.#values.length > 0) {
      const value = this.#values.shift() as T;
      this.#bytes -= this.#size(value);
      if (this.#paused && this.#bytes < this.#highWaterMark) {
        this.#paused = false;
        this.#options.resume?.();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) return Promise.resolve(DONE);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.#next(),
      return: () => {
        this.discard();
        return Promise.resolve(DONE);
      },
    };
  }
}

function byteLength(chunk: Uint8Array): number {
  return chunk.byteLength;
}

/**
 * A byte-counted queue of socket chunks that pauses `socket` past 64 KiB
 * unread and resumes it once the reader catches up.
 */
export function chunkQueue(socket: { pause(): unknown; resume(): unknown }): PushQueue<Uint8Array> {
  return new PushQueue<Uint8Array>({
    size: byteLength,
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
  });
}

/**
 * A plain `Uint8Array` view of a runtime's chunk (Node's and Bun's are
 * `Buffer`s, whose `subarray()` is several times slower than a typed
 * array's): the decoder takes many views of each chunk.
 */
export function plainBytes(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
