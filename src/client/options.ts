/**
 * The options of {@linkcode PubSubClient} and its methods, and their checks:
 * `TypeError` for a malformed value, `RangeError` for one past a limit.
 *
 * @module
 */

import { policyProblem } from "../protocol/policy_problem.ts";
import type { ClientLimits } from "../limits.ts";
import { guardLogger, type Logger, silentLogger } from "../logger.ts";
import type { Headers, SlowConsumerPolicy } from "../protocol/frames.ts";
import { patternProblem } from "../topic/pattern.ts";
import { topicProblem } from "../topic/validate_topic.ts";
import type { TlsConnectOptions, Transport } from "../transport/types.ts";
import type { WebSocketConstructor } from "../transport/websocket.ts";
import { type ReconnectOptions, type ReconnectPolicy, reconnectPolicy } from "./backoff.ts";

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
  /**
   * The transport; the current runtime's TCP transport when omitted. Not
   * with a `ws://` or `wss://` URL, which picks `webSocketTransport()`.
   */
  transport?: Transport;
  /**
   * The `WebSocket` class for a `ws://` or `wss://` URL. Default: the
   * global one (browsers, Deno, Bun, Node 22+); Node 20 has none, so pass
   * the `ws` package's there.
   *
   * @example Connecting over WebSocket on Node 20
   * ```ts ignore
   * import { WebSocket } from "ws";
   * import { PubSubClient } from "@kn-sock/pubsub";
   *
   * const client = await PubSubClient.connect("ws://127.0.0.1:8081/ws", { WebSocket });
   * await client.close();
   * ```
   */
  WebSocket?: WebSocketConstructor;
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
 * Options of `flush()`.
 *
 * @example
 * ```ts ignore
 * await client.flush({ signal: AbortSignal.timeout(5000) });
 * ```
 */
export interface FlushOptions {
  /** Stops waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * For a kn-sock server, which answers no `ping`: a round trip through a
   * private topic instead (subscribe to `_flush/<prefix>/<n>`, publish
   * `null` to it, receive it, unsubscribe). The marker is a real publish:
   * the server's handler sees it, and on a server with wildcards a
   * subscriber to `#` receives it. Default `false`.
   */
  viaTopic?: boolean;
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

// ---- checks ------------------------------------------------------------------

/** {@linkcode PubSubClientOptions} resolved: what the client reads. */
export interface ClientSettings {
  /** The limits in force. */
  readonly limits: ClientLimits;
  /** Where to log (guarded: a logger that throws cannot break the client). */
  readonly logger: Logger;
  /** The transport to reconnect with; the runtime's own when `undefined`. */
  readonly transport: Transport | undefined;
  /** TLS options for every connection, if any. */
  readonly tls: TlsConnectOptions | undefined;
  /** The `hello` to say on every connection, or `null` for none. */
  readonly hello: HelloOptions | null;
  /** Credentials sent in `hello`. */
  readonly auth: ClientAuth | undefined;
  /** The reconnect policy, or `null` when reconnecting is off. */
  readonly reconnect: ReconnectPolicy | null;
  /** What a publish the offline buffer has no room for does. */
  readonly overflow: OfflineOverflow;
}

/**
 * Checks and resolves the options; `limits` are resolved apart.
 *
 * @throws {TypeError} For `auth` with `hello: false`, malformed `auth`, or
 *   an unknown `offlineOverflow`.
 * @throws {RangeError} For reconnect options out of range.
 */
export function resolveSettings(
  options: PubSubClientOptions,
  limits: ClientLimits,
): ClientSettings {
  const auth = checkAuth(options.auth);
  if (auth !== undefined && options.hello === false) {
    throw new TypeError("Auth is sent in hello: it cannot be used with hello: false");
  }
  const hello = options.hello === undefined || options.hello === false
    ? (auth === undefined ? null : {})
    : options.hello === true
    ? {}
    : options.hello;
  const overflow = options.offlineOverflow ?? "error";
  if (overflow !== "error" && overflow !== "count") {
    throw new TypeError(`Offline overflow must be "error" or "count", got ${String(overflow)}`);
  }
  return {
    limits,
    logger: guardLogger(options.logger ?? silentLogger),
    transport: options.transport,
    tls: options.tls,
    hello,
    auth,
    reconnect: reconnectPolicy(options.reconnect),
    overflow,
  };
}

function checkAuth(auth: unknown): ClientAuth | undefined {
  if (auth === undefined) return undefined;
  const value = auth as Record<string, unknown>;
  if (typeof auth === "object" && auth !== null) {
    if (typeof value.token === "string" && value.user === undefined) return auth as ClientAuth;
    if (
      typeof value.user === "string" && typeof value.password === "string" &&
      value.token === undefined
    ) {
      return auth as ClientAuth;
    }
  }
  throw new TypeError("Auth must be { token } or { user, password }, with string values");
}

/** Checks the address `connect()` is given. */
export function checkAddress(host: unknown, port: unknown): void {
  if (typeof host !== "string" || host.length === 0) {
    throw new TypeError(`Host must be a non-empty string, got ${String(host)}`);
  }
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
    throw new RangeError(`Port must be an integer from 1 to 65535, got ${String(port)}`);
  }
}

/** Checks a topic the client sends. */
export function checkTopic(topic: string, limits: ClientLimits): void {
  const problem = topicProblem(topic, limits.maxTopicBytes, limits.maxTopicLevels);
  if (problem === null) return;
  if (typeof topic === "string" && topic.length > 0) throw new RangeError(problem);
  throw new TypeError(problem);
}

/** Checks a subscribe pattern, its group and its policy. */
export function checkPattern(
  pattern: string,
  limits: ClientLimits,
  options: { group?: string; policy?: unknown } = {},
): void {
  checkTopic(pattern, limits);
  const problem = patternProblem(pattern);
  if (problem !== null) throw new TypeError(problem);
  const { group, policy } = options;
  if (group !== undefined && (typeof group !== "string" || group.length === 0)) {
    throw new TypeError("Group must be a non-empty string");
  }
  const policyError = policy === undefined ? null : policyProblem(policy);
  if (policyError !== null) throw new TypeError(policyError);
}
