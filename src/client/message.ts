/**
 * What `PubSubClient` hands out for each delivery.
 *
 * @module
 */

import type { Delivery, JsonValue } from "../protocol/frames.ts";

/**
 * A message received by `PubSubClient`: the delivery's fields
 * (`{"topic": T, "message": M}`, plus `seq`, `headers`, `reply` and
 * `retained` after `hello`) and, on a message with `reply`, a way to answer.
 *
 * @example Answering a request
 * ```ts ignore
 * import { PubSubClient } from "@kn-sock/pubsub";
 *
 * const client = await PubSubClient.connect("127.0.0.1", 8080, { hello: true });
 * for await (const request of await client.subscribe("time/now")) {
 *   await request.respond?.(new Date().toISOString());
 * }
 * ```
 */
export interface Message extends Delivery {
  /** Publishes `message` to `reply` (only on a message with `reply`). */
  respond?: (message: JsonValue) => Promise<void>;
}
