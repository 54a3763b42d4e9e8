/**
 * The client's inbox: received messages waiting to be taken, bounded in
 * bytes as a whole. Each message sits in its subscription's queue.
 * `recv()` takes the oldest message of any queue; a subscription's iterator
 * takes the oldest of its own. Waits have
 * timeouts and abort signals.
 *
 * @module
 */

import { type Deferred, deferred, RESOLVED } from "../_async.ts";
import { Fifo } from "../_fifo.ts";
import type { ConnectionClosedError } from "../errors.ts";
import type { Message } from "./message.ts";

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

interface Entry {
  message: Message;
  size: number;
  order: number;
}

/** One queue of the inbox. */
export class InboxQueue {
  readonly entries: Fifo<Entry> = new Fifo<Entry>();
  readonly waiters: Waiter[] = [];
  /** The order of the first entry, or Infinity when empty. */
  head(): number {
    const first = this.entries.peek();
    return first === undefined ? Infinity : first.order;
  }
}

function checkTimeout(timeout: number | undefined): void {
  if (timeout === undefined) return;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(`Timeout must be a non-negative number of ms, got ${String(timeout)}`);
  }
}

/** Received messages in queues, bounded in bytes as a whole. */
export class Inbox {
  readonly #maxBytes: number;
  readonly #queues = new Set<InboxQueue>();
  readonly #anyWaiters: Waiter[] = [];
  #bytes = 0;
  #order = 0;
  #error: ConnectionClosedError | null = null;
  #room: Deferred<void> | null = null;

  /** @param maxBytes Bytes held before `room()` waits. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** A new queue (for a subscription). */
  open(): InboxQueue {
    const queue = new InboxQueue();
    this.#queues.add(queue);
    return queue;
  }

  /**
   * Forgets a queue (its subscription ended): messages not taken yet are
   * dropped, and its waiters get `null`. Returns how many were dropped.
   */
  retire(queue: InboxQueue): number {
    if (!this.#queues.delete(queue)) return 0;
    let dropped = 0;
    for (let entry = queue.entries.shift(); entry !== undefined; entry = queue.entries.shift()) {
      this.#bytes -= entry.size;
      dropped++;
    }
    if (this.#bytes < this.#maxBytes) this.#wakeRoom();
    for (const waiter of queue.waiters.splice(0)) waiter.resolve(null);
    return dropped;
  }

  /** Adds a message to `queue`, or hands it to a waiter of that queue, or of `recv()`. */
  push(queue: InboxQueue, message: Message, size: number): void {
    const waiter = queue.waiters.shift() ?? this.#anyWaiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(message);
      return;
    }
    queue.entries.push({ message, size, order: this.#order++ });
    this.#bytes += size;
  }

  /** Resolves once the inbox holds less than its limit. */
  room(): Promise<void> {
    if (this.#bytes < this.#maxBytes || this.#error !== null) return RESOLVED;
    this.#room ??= deferred<void>();
    return this.#room.promise;
  }

  /** The oldest message of any queue; see {@linkcode RecvOptions}. */
  recv(options: RecvOptions = {}): Promise<Message | null> {
    let oldest: InboxQueue | null = null;
    for (const queue of this.#queues) {
      if (queue.head() < (oldest?.head() ?? Infinity)) oldest = queue;
    }
    return this.#wait(oldest, this.#anyWaiters, options);
  }

  /** The oldest message of `queue`; see {@linkcode RecvOptions}. */
  next(queue: InboxQueue, options: RecvOptions = {}): Promise<Message | null> {
    return this.#wait(queue.entries.length > 0 ? queue : null, queue.waiters, options);
  }

  /**
   * Closes: waiters reject with `error` now; takers still get the messages
   * held, then `error`. Idempotent.
   */
  close(error: ConnectionClosedError): void {
    if (this.#error !== null) return;
    this.#error = error;
    for (const waiter of this.#anyWaiters.splice(0)) waiter.reject(error);
    for (const queue of this.#queues) {
      for (const waiter of queue.waiters.splice(0)) waiter.reject(error);
    }
    this.#wakeRoom();
  }

  #wait(from: InboxQueue | null, waiters: Waiter[], options: RecvOptions): Promise<Message | null> {
    const { timeout, signal } = options;
    checkTimeout(timeout);
    if (from !== null) return Promise.resolve(this.#take(from));
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
        const at = waiters.indexOf(waiter);
        if (at !== -1) waiters.splice(at, 1);
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
      waiters.push(waiter);
      if (timeout !== undefined && timeout !== Infinity) {
        timer = setTimeout(() => waiter.resolve(null), timeout);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #take(queue: InboxQueue): Message {
    const entry = queue.entries.shift()!;
    this.#bytes -= entry.size;
    if (this.#bytes < this.#maxBytes) this.#wakeRoom();
    return entry.message;
  }

  #wakeRoom(): void {
    const room = this.#room;
    this.#room = null;
    room?.resolve();
  }
}
