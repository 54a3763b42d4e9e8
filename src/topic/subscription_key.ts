/**
 * The key of one subscription of one connection: its pattern, and its queue
 * group when it has one. The server and the client both key subscriptions
 * this way.
 *
 * @module
 */

/**
 * The key of the subscription to `pattern` (in `group` when given).
 * Prefixed and length-prefixed: no (group, pattern) pair spells another's
 * key, and a plain subscription never spells a group's.
 *
 * @example
 * ```ts
 * import { subscriptionKey } from "./subscription_key.ts";
 *
 * console.log(subscriptionKey("a/#", undefined)); // "p:a/#"
 * console.log(subscriptionKey("a/#", "workers")); // "g7:workers:a/#"
 * ```
 */
export function subscriptionKey(pattern: string, group: string | undefined): string {
  return group === undefined ? `p:${pattern}` : `g${group.length}:${group}:${pattern}`;
}
