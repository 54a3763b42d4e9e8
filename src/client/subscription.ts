/**
 * A subscription of a {@linkcode PubSubClient} (its own queue of messages,
 * an async iterable, and `unsubscribe()`), and the client's record of them
 * all: which subscription a received message belongs to, and what a new
 * connection subscribes to again.
 *
 * @module
 */

import { subscriptionKey } from "../topic/subscription_key.ts";
import { ConnectionClosedError } from "../errors.ts";
import { SubscriptionIndex } from "../topic/subscription_index.ts";
import type { ClientSession } from "./client_session.ts";
import type { ClientFrame, SlowConsumerPolicy } from "../protocol/frames.ts";
import type { Message } from "./message.ts";
import type { Inbox, InboxQueue, RecvOptions } from "./inbox.ts";

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

// ---- the client's subscriptions ------------------------------------------------

/** The frame that subscribes `subscription` on the server. */
export function subscribeFrame(subscription: Subscription): ClientFrame {
  const frame: ClientFrame = { action: "subscribe", topic: subscription.pattern };
  if (subscription.group !== undefined) frame.group = subscription.group;
  if (subscription.policy !== undefined) frame.policy = subscription.policy;
  return frame;
}

/** The frame that ends `subscription` on the server. */
export function unsubscribeFrame(subscription: Subscription): ClientFrame {
  const frame: ClientFrame = { action: "unsubscribe", topic: subscription.pattern };
  if (subscription.group !== undefined) frame.group = subscription.group;
  return frame;
}

/**
 * The client's subscriptions, their queues, and message routing among
 * them; the host of every `Subscription`.
 */
export class LocalSubscriptions implements SubscriptionHost {
  readonly #inbox: Inbox;
  readonly #session: ClientSession;
  readonly #index = new SubscriptionIndex<Subscription>();
  readonly #byKey = new Map<string, Subscription>();
  readonly #queues = new Map<Subscription, InboxQueue>();
  readonly #patterns = new Set<string>();
  #serial = 0;
  #picked: Subscription | null = null;
  readonly #pick = (subscription: Subscription): void => {
    const picked = this.#picked;
    if (subscription.active && (picked === null || subscription.serial < picked.serial)) {
      this.#picked = subscription;
    }
  };

  /** @param session The client's session; its inbox holds each subscription's queue. */
  constructor(session: ClientSession) {
    this.#inbox = session.inbox;
    this.#session = session;
  }

  /** Whether the owner closed the client (a subscription's iteration then just ends). */
  get closedLocally(): boolean {
    return this.#session.closedLocally;
  }

  /** The next message of `subscription`; `null` once it ended (its messages go to `recv()`). */
  next(subscription: Subscription, options?: RecvOptions): Promise<Message | null> {
    const queue = this.#queues.get(subscription);
    return queue === undefined ? Promise.resolve(null) : this.#inbox.next(queue, options);
  }

  /** Ends `subscription` here and on the server. */
  unsubscribe(subscription: Subscription): Promise<void> {
    this.#session.forget(subscription);
    return this.#session.sendSubscription(unsubscribeFrame(subscription), undefined);
  }

  /** The patterns of the plain (not queue-group) subscriptions. */
  get patterns(): ReadonlySet<string> {
    return this.#patterns;
  }

  /** The active subscription to `pattern` in `group`, if any. */
  find(pattern: string, group: string | undefined): Subscription | undefined {
    const found = this.#byKey.get(subscriptionKey(pattern, group));
    return found?.active ? found : undefined;
  }

  /** The active subscriptions, oldest first: what a new connection subscribes again. */
  live(): IterableIterator<Subscription> {
    return this.#byKey.values();
  }

  /** Records a new subscription with its own queue. */
  create(pattern: string, group: string | undefined, policy?: SlowConsumerPolicy): Subscription {
    const subscription = new Subscription(pattern, group, this.#serial++, this, policy);
    this.#queues.set(subscription, this.#inbox.open());
    this.#byKey.set(subscriptionKey(pattern, group), subscription);
    this.#index.add(pattern, subscription);
    if (group === undefined) this.#patterns.add(pattern);
    return subscription;
  }

  /** The queue of the oldest active subscription matching `topic`, if any. */
  route(topic: string): InboxQueue | undefined {
    this.#picked = null;
    this.#index.match(topic, this.#pick);
    // The visit above may have set it; TypeScript cannot see that.
    const picked = this.#picked as Subscription | null;
    this.#picked = null;
    return picked === null ? undefined : this.#queues.get(picked);
  }

  /** Ends `subscription`; returns how many of its messages were dropped. */
  forget(subscription: Subscription): number {
    subscription.end();
    const key = subscriptionKey(subscription.pattern, subscription.group);
    if (this.#byKey.get(key) === subscription) this.#byKey.delete(key);
    this.#index.remove(subscription.pattern, subscription);
    if (subscription.group === undefined) this.#patterns.delete(subscription.pattern);
    const queue = this.#queues.get(subscription);
    this.#queues.delete(subscription);
    return queue === undefined ? 0 : this.#inbox.retire(queue);
  }
}
