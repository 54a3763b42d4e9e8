/**
 * The subscription index: which subscribers want which topic. Matching is
 * exact for now; the index is its own module so wildcard matching can
 * replace it without touching the server.
 *
 * @module
 */

const NONE: ReadonlySet<never> = new Set<never>();

/**
 * Maps topics to their subscribers.
 *
 * @example
 * ```ts
 * import { SubscriptionIndex } from "@kn-sock/pubsub";
 *
 * const index = new SubscriptionIndex<string>();
 * index.add("news/sports", "alice");
 * console.log([...index.match("news/sports")]); // ["alice"]
 * ```
 *
 * @typeParam S The subscriber type.
 */
export class SubscriptionIndex<S> {
  #byTopic = new Map<string, Set<S>>();
  #size = 0;

  /** The number of (topic, subscriber) pairs. */
  get size(): number {
    return this.#size;
  }

  /** The number of topics with at least one subscriber. */
  get topicCount(): number {
    return this.#byTopic.size;
  }

  /** Adds a subscription; returns `false` when it existed already. */
  add(topic: string, subscriber: S): boolean {
    let subscribers = this.#byTopic.get(topic);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#byTopic.set(topic, subscribers);
    } else if (subscribers.has(subscriber)) {
      return false;
    }
    subscribers.add(subscriber);
    this.#size++;
    return true;
  }

  /** Removes a subscription; returns `false` when there was none. */
  remove(topic: string, subscriber: S): boolean {
    const subscribers = this.#byTopic.get(topic);
    if (subscribers === undefined || !subscribers.delete(subscriber)) return false;
    if (subscribers.size === 0) this.#byTopic.delete(topic);
    this.#size--;
    return true;
  }

  /** The subscribers of `topic`; do not modify the returned set. */
  match(topic: string): ReadonlySet<S> {
    return this.#byTopic.get(topic) ?? NONE;
  }
}
