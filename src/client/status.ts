/**
 * The client's status events: what happened to its connection, as a
 * discriminated union, handed to every open `client.status()` iterator.
 *
 * @module
 */

import type { ConnectionClosedError, PubSubError } from "../errors.ts";
import type { BackplaneNotice, SlowConsumerPolicy } from "../protocol/frames.ts";
import type { Addr } from "../transport/types.ts";
import { PushQueue } from "../_push_queue.ts";

/**
 * The client is connected again (after a `disconnect`): it said `hello`
 * again if it had, resubscribed every subscription (after `hello`, the
 * server acknowledged them all) and sent the publishes buffered meanwhile.
 */
export interface ConnectStatus {
  /** The kind of event. */
  type: "connect";
  /** The server's address. */
  addr: Addr;
  /** How many attempts it took. */
  attempt: number;
  /** Events this iterator dropped just before this one, because it fell behind. */
  missed?: number;
}

/**
 * The connection was lost. A `reconnect` follows, or a `close` when the
 * client does not reconnect (reconnecting is off, the server refused the
 * credentials, or it sent something that is not the protocol).
 */
export interface DisconnectStatus {
  /** The kind of event. */
  type: "disconnect";
  /**
   * Why: the server's last error frame (a `ServerError` such as
   * `server_shutdown` or `slow_consumer`), a `ping_timeout`
   * {@linkcode PubSubError}, or a `ConnectionClosedError` whose `cause` is
   * the transport's error, if any.
   */
  error: PubSubError;
  /** Events this iterator dropped just before this one, because it fell behind. */
  missed?: number;
}

/** A reconnect attempt is scheduled. */
export interface ReconnectStatus {
  /** The kind of event. */
  type: "reconnect";
  /** The attempt number, from 1. */
  attempt: number;
  /** How long the client waits before it, in ms. */
  delayMs: number;
  /** Why the previous attempt failed (for attempt 1: why the connection was lost). */
  error: unknown;
  /** Events this iterator dropped just before this one, because it fell behind. */
  missed?: number;
}

/**
 * The server dropped messages meant for this client because it read too
 * slowly (subscriptions with the `drop-oldest` or `drop-newest` policy).
 */
export interface SlowConsumerStatus {
  /** The kind of event. */
  type: "slowConsumer";
  /** The policy that dropped them. */
  policy: SlowConsumerPolicy;
  /** How many messages were dropped since the server's previous notice. */
  dropped: number;
  /** How many of them per topic. */
  topics: Record<string, number>;
  /** Events this iterator dropped just before this one, because it fell behind. */
  missed?: number;
}

/**
 * The server is one node of a cluster, and it was cut off from the other
 * nodes (`state: "down"`: publishes from clients of other nodes do not
 * arrive meanwhile, and publishes made here do not reach them; local ones
 * still do) or is back (`"up"`), with its counters since it started (the
 * server's `backplane` notice; only a client that said `hello` gets it).
 * Loss shows in `lost` and `unsent`, and as a gap in `seq`.
 *
 * @example Saying when the cluster is cut off
 * ```ts ignore
 * const client = await PubSubClient.connect("127.0.0.1", 4222, { hello: true });
 * for await (const event of client.status()) {
 *   if (event.type === "backplane" && event.state === "down") {
 *     console.warn(`cut off from the cluster (${event.reason}); ${event.lost} lost so far`);
 *   }
 * }
 * ```
 */
export interface BackplaneStatus extends BackplaneNotice {
  /** The kind of event. */
  type: "backplane";
  /** Events this iterator dropped just before this one, because it fell behind. */
  missed?: number;
}

/**
 * Something went wrong that no call is waiting to hear about: an `error`
 * frame the server sent about no frame with an `id` (a `ServerError`), a
 * resubscribe the server refused, or a publish dropped because the offline
 * buffer was full (`buffer_full`, with `offlineOverflow: "count"`).
 */
export interface ErrorStatus {
  /** The kind of event. */
  type: "error";
  /** What went wrong. */
  error: PubSubError;
  /** Events this iterator dropped just before this one, because it fell behind. */
  missed?: number;
}

/** The client is closed; iterators end after this event. */
export interface CloseStatus {
  /** The kind of event. */
  type: "close";
  /**
   * `null` when `close()` or `drain()` closed it; otherwise why it gave up,
   * as `recv()` and waiting calls see it.
   */
  error: ConnectionClosedError | null;
  /** Events this iterator dropped just before this one, because it fell behind. */
  missed?: number;
}

/**
 * A status event of a client, told apart by `type`.
 *
 * @example Logging a client's connection status
 * ```ts ignore
 * for await (const event of client.status()) {
 *   switch (event.type) {
 *     case "disconnect":
 *       console.log("lost:", event.error.code);
 *       break;
 *     case "reconnect":
 *       console.log(`attempt ${event.attempt} in ${event.delayMs} ms`);
 *       break;
 *     case "connect":
 *       console.log("back after", event.attempt, "attempts");
 *       break;
 *     case "backplane":
 *       console.log(`cluster ${event.state}: ${event.lost} lost, ${event.unsent} unsent`);
 *       break;
 *   }
 * }
 * ```
 */
export type StatusEvent =
  | ConnectStatus
  | DisconnectStatus
  | ReconnectStatus
  | SlowConsumerStatus
  | BackplaneStatus
  | ErrorStatus
  | CloseStatus;

const DONE: IteratorResult<StatusEvent> = Object.freeze({ done: true, value: undefined });

/**
 * One reader's events: a {@linkcode PushQueue} bounded in events, oldest
 * dropped first. Iterate it once; it ends after the client's `close` event
 * or on `return()`.
 */
export class StatusIterator implements AsyncIterableIterator<StatusEvent> {
  readonly #queue: PushQueue<StatusEvent> = new PushQueue<StatusEvent>();
  readonly #max: number;
  readonly #leave: (iterator: StatusIterator) => void;
  /** Events in the queue (not handed to a waiting reader). */
  #held = 0;
  /** Whether the reader waits on an empty queue: the next event goes straight to it. */
  #waiting = false;
  #missed = 0;

  /**
   * Use `client.status()`.
   *
   * @param max Events held at most.
   * @param leave Called once when the reader stops.
   */
  constructor(max: number, leave: (iterator: StatusIterator) => void) {
    this.#max = max;
    this.#leave = leave;
  }

  /** Hands `event` to the reader, or holds it (dropping the oldest when full). */
  push(event: StatusEvent): void {
    if (this.#queue.ended) return;
    if (this.#waiting) this.#waiting = false;
    else if (this.#held < this.#max) this.#held++;
    else {
      // Full: the oldest is taken off the queue now (a held value is handed
      // out at once) and counted as missed.
      void this.#queue.next();
      this.#missed++;
    }
    this.#queue.push(event);
  }

  /** Ends the iteration once the events held are read. */
  end(): void {
    this.#queue.end();
  }

  /** The next event; done once the client is closed and every event was read. */
  next(): Promise<IteratorResult<StatusEvent>> {
    if (this.#held === 0) {
      this.#waiting = !this.#queue.ended;
      return this.#queue.next();
    }
    this.#held--;
    const missed = this.#missed;
    this.#missed = 0;
    const next = this.#queue.next();
    if (missed === 0) return next;
    return next.then((result) =>
      result.done ? result : { done: false, value: { ...result.value, missed } }
    );
  }

  /** Stops reading: what is held is dropped. */
  return(): Promise<IteratorResult<StatusEvent>> {
    this.#held = 0;
    this.#waiting = false;
    this.#queue.discard();
    this.#leave(this);
    return Promise.resolve(DONE);
  }

  /** Itself. */
  [Symbol.asyncIterator](): AsyncIterableIterator<StatusEvent> {
    return this;
  }
}

/** The open status iterators of a client. */
export class StatusEvents {
  readonly #readers = new Set<StatusIterator>();
  readonly #max: number;
  readonly #leave = (iterator: StatusIterator): void => void this.#readers.delete(iterator);
  #closed = false;

  /** @param max Events each iterator holds at most. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Whether anyone listens: build an event only then. */
  get listening(): boolean {
    return this.#readers.size > 0;
  }

  /** A new iterator, which sees events from now on (none once closed). */
  open(): StatusIterator {
    const iterator = new StatusIterator(this.#max, this.#leave);
    if (this.#closed) iterator.end();
    else this.#readers.add(iterator);
    return iterator;
  }

  /** Hands `event` to every iterator. */
  emit(event: StatusEvent): void {
    for (const reader of this.#readers) reader.push(event);
  }

  /** Emits the final `close` event and ends every iterator. Idempotent. */
  close(event: CloseStatus): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const reader of this.#readers) {
      reader.push(event);
      reader.end();
    }
    this.#readers.clear();
  }
}
