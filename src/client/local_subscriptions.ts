/**
 * A client's own record of its subscriptions: which `Subscription` object
 * (and inbox queue) a received message belongs to, and what a new
 * connection subscribes to again.
 *
 * @module
 */

import type { ClientFrame, Message, SlowConsumerPolicy } from "../protocol/frames.ts";
import { SubscriptionIndex } from "../topic/subscription_index.ts";
import type { Inbox, InboxQueue, RecvOptions } from "./inbox.ts";
import { Subscription, type SubscriptionHost } from "./subscription.ts";

function keyOf(pattern: string, group: string | undefined): string {
  // Prefixed and length-prefixed: no (group, pattern) pair spells another's key.
  return group === undefined ? `p:${pattern}` : `g${group.length}:${group}:${pattern}`;
}

/** What the subscriptions need from their client. */
export interface SubscriptionsClient {
  /** Tells the server `subscription` ended (it is forgotten already). */
  unsubscribe(subscription: Subscription): Promise<void>;
  /** Whether the owner closed the client. */
  readonly closedLocally: boolean;
}

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
  readonly #client: SubscriptionsClient;
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

  /**
   * @param inbox The client's inbox, which holds each subscription's queue.
   * @param client The client.
   */
  constructor(inbox: Inbox, client: SubscriptionsClient) {
    this.#inbox = inbox;
    this.#client = client;
  }

  /** Whether the owner closed the client (a subscription's iteration then just ends). */
  get closedLocally(): boolean {
    return this.#client.closedLocally;
  }

  /** The next message of `subscription`; `null` once it ended (its messages go to `recv()`). */
  next(subscription: Subscription, options?: RecvOptions): Promise<Message | null> {
    const queue = this.#queues.get(subscription);
    return queue === undefined ? Promise.resolve(null) : this.#inbox.next(queue, options);
  }

  /** Ends `subscription` here and on the server. */
  unsubscribe(subscription: Subscription): Promise<void> {
    return this.#client.unsubscribe(subscription);
  }

  /** The patterns of the plain (not queue-group) subscriptions. */
  get patterns(): ReadonlySet<string> {
    return this.#patterns;
  }

  /** The active subscription to `pattern` in `group`, if any. */
  find(pattern: string, group: string | undefined): Subscription | undefined {
    const found = this.#byKey.get(keyOf(pattern, group));
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
    this.#byKey.set(keyOf(pattern, group), subscription);
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
    const key = keyOf(subscription.pattern, subscription.group);
    if (this.#byKey.get(key) === subscription) this.#byKey.delete(key);
    this.#index.remove(subscription.pattern, subscription);
    if (subscription.group === undefined) this.#patterns.delete(subscription.pattern);
    const queue = this.#queues.get(subscription);
    this.#queues.delete(subscription);
    return queue === undefined ? 0 : this.#inbox.retire(queue);
  }
}
