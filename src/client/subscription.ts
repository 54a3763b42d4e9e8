/**
 * A subscription of a {@linkcode PubSubClient}: its own queue of messages,
 * an async iterable, and `unsubscribe()`.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import type { Message, SlowConsumerPolicy } from "../protocol/frames.ts";
import type { RecvOptions } from "./inbox.ts";

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  /** The next message of `subscription`. */
  next(subscription: Subscription, options?: RecvOptions): Promise<Message | null>;
  /** Unsubscribes it. */
  unsubscribe(subscription: Subscription): Promise<void>;
  /** Whether the client was closed by its owner (iteration then just ends). */
  readonly closedLocally: boolean;
}

/**
 * A subscription to a topic or pattern. Messages that match it arrive in its
 * own queue: iterate it, or call `next()`. A message matching several of a
 * client's subscriptions goes to the oldest one. `client.recv()` takes the
 * oldest message of any queue, so kn-sock-style code that never iterates a
 * subscription still receives everything.
 *
 * @example
 * ```ts ignore
 * const sub = await client.subscribe("news/#");
 * for await (const { topic, message } of sub) {
 *   console.log(topic, message);
 *   if (message === "stop") await sub.unsubscribe(); // ends the loop
 * }
 * ```
 */
export class Subscription implements AsyncIterable<Message> {
  /** The topic or pattern. */
  readonly pattern: string;
  /** The queue group, if any. */
  readonly group: string | undefined;
  /** Creation order within its client: the lower one wins a shared message. */
  readonly serial: number;
  /** The slow-consumer policy asked of the server, if any. */
  readonly policy: SlowConsumerPolicy | undefined;
  readonly #host: SubscriptionHost;
  #active = true;

  /**
   * Use `client.subscribe()`.
   *
   * @param pattern The topic or pattern.
   * @param group The queue group.
   * @param serial Creation order.
   * @param host Its client.
   * @param policy The slow-consumer policy asked of the server.
   */
  constructor(
    pattern: string,
    group: string | undefined,
    serial: number,
    host: SubscriptionHost,
    policy?: SlowConsumerPolicy,
  ) {
    this.pattern = pattern;
    this.group = group;
    this.serial = serial;
    this.#host = host;
    this.policy = policy;
  }

  /** Whether it still receives messages. */
  get active(): boolean {
    return this.#active;
  }

  /**
   * The next message of this subscription, or `null` when the timeout passes
   * or the subscription ended.
   *
   * @throws {ConnectionClosedError} When the client is closed and no message is left.
   */
  next(options?: RecvOptions): Promise<Message | null> {
    return this.#host.next(this, options);
  }

  /** Stops it; messages not taken yet are dropped (see `client.droppedMessages`). Idempotent. */
  unsubscribe(): Promise<void> {
    if (!this.#active) return Promise.resolve();
    this.#active = false;
    return this.#host.unsubscribe(this);
  }

  /** Marks it ended without telling the server (the client unsubscribed the pattern). */
  end(): void {
    this.#active = false;
  }

  /**
   * Iterates its messages until it is unsubscribed or the client is closed;
   * it goes on across reconnects, and throws `ConnectionClosedError` when
   * the client gives up (the connection is lost and reconnecting is off or
   * failed for good).
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (this.#active) {
      let message: Message | null;
      try {
        message = await this.#host.next(this);
      } catch (error) {
        if (error instanceof ConnectionClosedError && this.#host.closedLocally) return;
        throw error;
      }
      if (message !== null) yield message;
    }
  }
}
