/**
 * The client's inbox: received messages waiting for `recv()`, bounded in
 * bytes, with FIFO waiters, timeouts and abort signals.
 *
 * @module
 */

import { type Deferred, deferred, RESOLVED } from "../_deferred.ts";
import { Fifo } from "../_fifo.ts";
import type { ConnectionClosedError } from "../errors.ts";
import type { Message } from "../protocol/frames.ts";

/** Options of `recv()`. */
export interface RecvOptions {
  /**
   * How long to wait, in milliseconds (kn-sock's `timeout` is in seconds).
   * `0` only takes a message already received. Waits without limit when
   * omitted.
   */
  timeout?: number;
  /** Rejects the wait with the signal's reason when aborted. */
  signal?: AbortSignal;
}

interface Waiter {
  resolve(message: Message | null): void;
  reject(error: unknown): void;
}

function checkTimeout(timeout: number | undefined): void {
  if (timeout === undefined) return;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(`Timeout must be a non-negative number of ms, got ${String(timeout)}`);
  }
}

/** Received messages with their sizes; `recv()` takes them in order. */
export class Inbox {
  readonly #maxBytes: number;
  #messages: Fifo<Message> = new Fifo<Message>();
  #sizes: Fifo<number> = new Fifo<number>();
  #bytes = 0;
  #waiters: Waiter[] = [];
  #error: ConnectionClosedError | null = null;
  #room: Deferred<void> | null = null;

  /** @param maxBytes Bytes held before `hasRoom` turns false. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of messages held. */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /** Whether the inbox is closed (messages held may still be taken). */
  get closed(): boolean {
    return this.#error !== null;
  }

  /** Adds a message of `size` bytes, or hands it to the oldest waiter. */
  push(message: Message, size: number): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(message);
      return;
    }
    this.#messages.push(message);
    this.#sizes.push(size);
    this.#bytes += size;
  }

  /** Resolves once the inbox holds less than its limit. */
  room(): Promise<void> {
    if (this.#bytes < this.#maxBytes || this.#error !== null) return RESOLVED;
    this.#room ??= deferred<void>();
    return this.#room.promise;
  }

  /** The next message; see {@linkcode RecvOptions}. */
  recv(options: RecvOptions = {}): Promise<Message | null> {
    const { timeout, signal } = options;
    checkTimeout(timeout);
    if (this.#messages.length > 0) return Promise.resolve(this.#take());
    if (this.#error !== null) return Promise.reject(this.#error);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (timeout === 0) return Promise.resolve(null);
    return new Promise<Message | null>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => {
        settle();
        reject(signal?.reason);
      };
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const at = this.#waiters.indexOf(waiter);
        if (at !== -1) this.#waiters.splice(at, 1);
      };
      const waiter: Waiter = {
        resolve(message) {
          settle();
          resolve(message);
        },
        reject(error) {
          settle();
          reject(error);
        },
      };
      this.#waiters.push(waiter);
      if (timeout !== undefined && timeout !== Infinity) {
        timer = setTimeout(() => waiter.resolve(null), timeout);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Closes: waiters reject with `error` now; `recv()` still returns the
   * messages held, then rejects with `error`. Idempotent.
   */
  close(error: ConnectionClosedError): void {
    if (this.#error !== null) return;
    this.#error = error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    this.#wakeRoom();
  }

  #take(): Message {
    const message = this.#messages.shift() as Message;
    this.#bytes -= this.#sizes.shift() as number;
    if (this.#bytes < this.#maxBytes) this.#wakeRoom();
    return message;
  }

  #wakeRoom(): void {
    const room = this.#room;
    this.#room = null;
    room?.resolve();
  }
}
