/**
 * The options of {@linkcode PubSubClient} and its methods.
 *
 * @module
 */

import type { ClientLimits } from "../limits.ts";
import type { Logger } from "../logger.ts";
import type { Headers, SlowConsumerPolicy } from "../protocol/frames.ts";
import type { ReconnectOptions } from "./backoff.ts";
import type { TlsConnectOptions, Transport } from "../transport/types.ts";

/**
 * Options of `PubSubClient.connect()`.
 *
 * @example A client that reconnects fast and never throws on a full offline buffer
 * ```ts ignore
 * const client = await PubSubClient.connect("127.0.0.1", 8080, {
 *   hello: { name: "billing" },
 *   auth: { user: "billing", password: "s3cret" },
 *   reconnect: { initialDelayMs: 50, maxDelayMs: 2000 },
 *   offlineOverflow: "count",
 *   limits: { maxOfflineBytes: 1024 * 1024 },
 * });
 * ```
 */
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
  /**
   * Connect with TLS, verifying the server's certificate against `tls.ca`
   * (or the runtime's default roots). Omitted: plain TCP. Not supported by
   * the memory transport.
   *
   * @example Trusting a private CA
   * ```ts ignore
   * import { PubSubClient } from "@kn-sock/pubsub";
   * declare function readText(path: string): Promise<string>; // your runtime's file API
   *
   * const client = await PubSubClient.connect("127.0.0.1", 8443, {
   *   tls: { ca: await readText("ca.pem") },
   * });
   * await client.close();
   * ```
   */
  tls?: TlsConnectOptions;
  /**
   * Credentials for a server that requires them; implies `hello` (they are
   * sent in it). A server that refuses them answers `auth_failed`:
   * `connect()` then rejects with a {@linkcode PubSubError} of that code,
   * and a client that is reconnecting closes for good.
   */
  auth?: ClientAuth;
  /**
   * Reconnect when the connection is lost (the server closed, went away,
   * stopped answering pings, or shut down). Default `true`, with the
   * delays of `DEFAULT_RECONNECT`; `false` closes the client instead, as
   * kn-sock does. After reconnecting the client says `hello` again (if it
   * did), subscribes again to every subscription, then sends the
   * publishes it held meanwhile (see `limits.maxOfflineBytes`). It never
   * reconnects after `close()` or `drain()`, after `auth_failed` or
   * `auth_timeout` (the credentials are wrong or missing), or after a line
   * that is not the protocol (`protocol_error`): it closes instead.
   */
  reconnect?: boolean | ReconnectOptions;
  /**
   * What a `publish()` does while disconnected when the offline buffer
   * (`limits.maxOfflineBytes`) has no room: `"error"` (the default) rejects
   * it with a `buffer_full` {@linkcode PubSubError}; `"count"` resolves,
   * drops it, counts it in `client.droppedPublishes` and reports it as an
   * `error` status event.
   */
  offlineOverflow?: OfflineOverflow;
}

/**
 * What to do with a publish the offline buffer has no room for; see
 * {@linkcode PubSubClientOptions.offlineOverflow}.
 *
 * @example
 * ```ts
 * import { OfflineOverflow } from "@kn-sock/pubsub";
 *
 * console.log(OfflineOverflow.Count); // "count"
 * ```
 */
export const OfflineOverflow = {
  /** Reject the publish with `buffer_full`. */
  Error: "error",
  /** Drop the publish, count it, report an `error` status event. */
  Count: "count",
} as const;

/** One of the values of {@linkcode OfflineOverflow}. */
export type OfflineOverflow = typeof OfflineOverflow[keyof typeof OfflineOverflow];

/**
 * Credentials sent in `hello`: a token, or a user name and password.
 *
 * @example
 * ```ts ignore
 * await PubSubClient.connect("127.0.0.1", 8080, { auth: { token: "t0k3n" } });
 * await PubSubClient.connect("127.0.0.1", 8080, { auth: { user: "ann", password: "pw" } });
 * ```
 */
export type ClientAuth = { token: string } | { user: string; password: string };

/**
 * The `hello` options.
 *
 * @example
 * ```ts ignore
 * await PubSubClient.connect("127.0.0.1", 8080, { hello: { name: "worker-1", echo: false } });
 * ```
 */
export interface HelloOptions {
  /** A name for the server's logs. */
  name?: string;
  /** `false`: do not receive this client's own publishes. Default `true`. */
  echo?: boolean;
}

/**
 * Options of `publish()`.
 *
 * @example
 * ```ts ignore
 * await client.publish("status/api", "up", { retain: true, headers: { by: "probe" } });
 * ```
 */
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

/**
 * Options of `subscribe()` and `unsubscribe()`.
 *
 * @example
 * ```ts ignore
 * await client.subscribe("jobs/#", { group: "workers", policy: "drop-oldest" });
 * ```
 */
export interface SubscribeOptions {
  /** A queue group: each message goes to one member of the group. */
  group?: string;
  /** Wait for the server's `ok`; as for {@linkcode PublishOptions.ack}. */
  ack?: boolean;
  /**
   * What the server does when this client reads too slowly for this
   * subscription (our server only): `"disconnect"`, `"drop-oldest"` or
   * `"drop-newest"`; the server's own policy when omitted. Drops are
   * reported as `slowConsumer` status events. Ignored by `unsubscribe()`.
   */
  policy?: SlowConsumerPolicy;
}

/**
 * Options of `request()`.
 *
 * @example
 * ```ts ignore
 * const reply = await client.request("time/now", null, { timeout: 500 });
 * ```
 */
export interface RequestOptions {
  /** How long to wait for the reply, in ms. Default 10000. */
  timeout?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
  /** Headers of the request. */
  headers?: Headers;
}
