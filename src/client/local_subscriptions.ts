/**
 * A client's own record of its subscriptions: which `Subscription` object
 * (and inbox queue) a received message belongs to.
 *
 * @module
 */

import { SubscriptionIndex } from "../topic/subscription_index.ts";
import type { Inbox, InboxQueue } from "./inbox.ts";
import { Subscription, type SubscriptionHost } from "./subscription.ts";

function keyOf(pattern: string, group: string | undefined): string {
  // Prefixed and length-prefixed: no (group, pattern) pair spells another's key.
  return group === undefined ? `p:${pattern}` : `g${group.length}:${group}:${pattern}`;
}

/** The client's subscriptions, their queues, and message routing among them. */
export class LocalSubscriptions {
  readonly #inbox: Inbox;
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

  /** @param inbox The client's inbox, which holds each subscription's queue. */
  constructor(inbox: Inbox) {
    this.#inbox = inbox;
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

  /** Records a new subscription with its own queue. */
  create(pattern: string, group: string | undefined, host: SubscriptionHost): Subscription {
    const subscription = new Subscription(pattern, group, this.#serial++, host);
    this.#queues.set(subscription, this.#inbox.open());
    this.#byKey.set(keyOf(pattern, group), subscription);
    this.#index.add(pattern, subscription);
    if (group === undefined) this.#patterns.add(pattern);
    return subscription;
  }

  /** The queue of `subscription`, or `undefined` once it ended. */
  queueOf(subscription: Subscription): InboxQueue | undefined {
    return this.#queues.get(subscription);
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
