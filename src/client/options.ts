/**
 * The options of {@linkcode PubSubClient} and its methods.
 *
 * @module
 */

import type { ClientLimits } from "../limits.ts";
import type { Logger } from "../logger.ts";
import type { Headers } from "../protocol/frames.ts";
import type { Transport } from "../transport/types.ts";

/** Options of `PubSubClient.connect()`. */
export interface PubSubClientOptions {
  /** The transport; the current runtime's when omitted. */
  transport?: Transport;
  /** Limits to change from `DEFAULT_CLIENT_LIMITS`. */
  limits?: Partial<ClientLimits>;
  /** Aborts connecting (and closes the client if aborted later). */
  signal?: AbortSignal;
  /** Where to log; nothing is logged when omitted. */
  logger?: Logger;
  /**
   * Say `hello` on connect and wait for the answer (our server only: a
   * kn-sock server does not answer, and connecting then fails). After it,
   * deliveries carry `seq`, `headers` and `reply`, and `publish`,
   * `subscribe` and `unsubscribe` wait for the server's `ok` by default.
   */
  hello?: boolean | HelloOptions;
}

/** The `hello` options. */
export interface HelloOptions {
  /** A name for the server's logs. */
  name?: string;
  /** `false`: do not receive this client's own publishes. Default `true`. */
  echo?: boolean;
}

/** Options of `publish()`. */
export interface PublishOptions {
  /** Headers, delivered unchanged. */
  headers?: Headers;
  /** Where replies should go. */
  reply?: string;
  /** Keep it as the topic's retained message (an empty message clears it). */
  retain?: boolean;
  /**
   * Wait for the server's `ok` (an `id` is sent). Default: `true` after
   * `hello`, `false` otherwise (kn-sock servers do not answer).
   */
  ack?: boolean;
}

/** Options of `subscribe()` and `unsubscribe()`. */
export interface SubscribeOptions {
  /** A queue group: each message goes to one member of the group. */
  group?: string;
  /** Wait for the server's `ok`; as for {@linkcode PublishOptions.ack}. */
  ack?: boolean;
}

/** Options of `request()`. */
export interface RequestOptions {
  /** How long to wait for the reply, in ms. Default 10000. */
  timeout?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
  /** Headers of the request. */
  headers?: Headers;
}
