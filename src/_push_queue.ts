/**
 * Turns pushed values (socket callbacks) into an async iterable with a byte
 * bound: past `highWaterMark` bytes it calls `pause()`, and `resume()` once
 * the reader has taken them. Used by the callback-based adapters.
 *
 * @module
 */

import { Fifo } from "./_fifo.ts";

/** What a {@linkcode PushQueue} pauses and resumes: a socket. */
export interface FlowSource {
  /** Stops the source. */
  pause(): unknown;
  /** Restarts the source. */
  resume(): unknown;
}

/** Flow control of a {@linkcode PushQueue}. */
export interface PushQueueOptions<T> {
  /** The size of one value, in bytes; values count 1 when omitted. */
  size?: (value: T) => number;
  /** Pause the source at this many buffered bytes. Default 64 KiB. */
  highWaterMark?: number;
  /** The source to pause past the mark and resume once the reader catches up. */
  source?: FlowSource;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * An async iterable fed by `push()` and ended by `end()`; one reader. It is
 * its own iterator, so a connection's queue is one object.
 */
export class PushQueue<T> implements AsyncIterable<T>, AsyncIterator<T> {
  #values: Fifo<T> = new Fifo<T>();
  #bytes = 0;
  #ended = false;
  #paused = false;
  #waiter: ((result: IteratorResult<T>) => void) | null = null;
  #sizeOf: ((value: T) => number) | undefined;
  #source: FlowSource | undefined;
  #highWaterMark: number;

  constructor(options: PushQueueOptions<T> = {}) {
    this.#sizeOf = options.size;
    this.#source = options.source;
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
    if (!this.#paused && this.#bytes >= this.#highWaterMark && this.#source !== undefined) {
      this.#paused = true;
      this.#source.pause();
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
    return this.#sizeOf !== undefined ? this.#sizeOf(value) : 1;
  }

  /** The next value, once there is one; done after `end()` and the values before it. */
  next(): Promise<IteratorResult<T>> {
    if (this.#values.length > 0) {
      const value = this.#values.shift() as T;
      this.#bytes -= this.#size(value);
      if (this.#paused && this.#bytes < this.#highWaterMark) {
        this.#paused = false;
        this.#source?.resume();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#ended) return Promise.resolve(DONE);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Stops reading: the buffered values are dropped. */
  return(): Promise<IteratorResult<T>> {
    this.discard();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }
}

function byteLength(chunk: Uint8Array): number {
  return chunk.byteLength;
}

/**
 * A byte-counted queue of socket chunks that pauses `socket` past 64 KiB
 * unread and resumes it once the reader catches up.
 */
export function chunkQueue(socket: FlowSource): PushQueue<Uint8Array> {
  return new PushQueue<Uint8Array>({ size: byteLength, source: socket });
}

/**
 * A plain `Uint8Array` view of a runtime's chunk (Node's and Bun's are
 * `Buffer`s, whose `subarray()` is several times slower than a typed
 * array's): the decoder takes many views of each chunk.
 */
export function plainBytes(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
