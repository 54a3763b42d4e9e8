/**
 * Every resource limit of the server and the client, with its default.
 * This file is the only place where a default limit is written down;
 * `docs/OPERATIONS.md` quotes it (and a test compares the two).
 *
 * @module
 */

/**
 * What the server does with a subscriber whose outbound queue is full:
 * disconnect it (the default), drop the oldest queued messages, or drop the
 * new message. Either way the subscriber is told in-band.
 */
export const SlowConsumerPolicy = {
  /** Close the connection with a `slow_consumer` error frame. */
  Disconnect: "disconnect",
  /** Drop the oldest queued deliveries to make room, and send a `slow_consumer` notice. */
  DropOldest: "drop-oldest",
  /** Drop the new delivery, and send a `slow_consumer` notice. */
  DropNewest: "drop-newest",
} as const;

/** One of the values of {@linkcode SlowConsumerPolicy}. */
export type SlowConsumerPolicy = typeof SlowConsumerPolicy[keyof typeof SlowConsumerPolicy];

/** One mebibyte, in bytes. */
const MiB = 1024 * 1024;

/** Limits of a {@linkcode PubSubServer}. */
export interface ServerLimits {
  /**
   * The longest line a client may send, in bytes, without its `\n`. A longer
   * line gets a `line_too_long` error frame and the connection is closed
   * before more than this many bytes of it are buffered. Default 1 MiB.
   */
  maxLineBytes: number;
  /** The longest topic, in UTF-8 bytes (`invalid_topic` past it). Default 1024. */
  maxTopicBytes: number;
  /** The most `/`-separated levels in a topic or pattern (`invalid_topic` past it). Default 32. */
  maxTopicLevels: number;
  /**
   * Topics one connection may be subscribed to at once
   * (`too_many_subscriptions` past it). Default 10000.
   */
  maxSubscriptionsPerConnection: number;
  /**
   * Connections open at once; one more is told `too_many_connections` and
   * closed. Default 10000.
   */
  maxConnections: number;
  /**
   * The largest `message` a publish may carry, in bytes of its JSON text
   * (`payload_too_large` past it). The line limit bounds it too. Default 1 MiB.
   */
  maxPayloadBytes: number;
  /**
   * The deepest nesting of arrays and objects in a publish's `message`
   * (`invalid_frame` past it): deeper values would cost a runtime's JSON
   * encoder its stack. Default 64.
   */
  maxNestingDepth: number;
  /**
   * Bytes waiting to be written to one connection (queued plus in flight).
   * A subscriber that falls further behind is a slow consumer and meets the
   * server's `slowConsumerPolicy` (or its subscription's): disconnected with
   * a `slow_consumer` error frame (the default), or messages dropped and
   * counted in a `slow_consumer` notice. Default 8 MiB.
   */
  maxOutboundBytes: number;
  /**
   * How long one write to a connection may make no progress, in ms, before
   * the connection is closed as a slow consumer (whatever the policy).
   * Writes are of 64 KiB at most, so progress is seen per 64 KiB the
   * socket takes. Default 30000.
   */
  writeDeadlineMs: number;
  /**
   * Publisher backpressure: once a subscriber's outbound queue holds half
   * of `maxOutboundBytes`, the server stops reading from the connections
   * that publish to it until it has drained to a quarter, for at most this
   * long, in ms; past it the subscriber holds no one back until it has
   * drained, and meets its slow-consumer policy if its queue fills. So a
   * fast publisher slows to the pace of subscribers that keep up, and a
   * stalled subscriber costs publishers this pause once. Default 1000.
   */
  publisherPauseMs: number;
  /**
   * A connection that said `hello` and has been silent this long, in ms, is
   * sent a `ping`. Default 30000.
   */
  pingIntervalMs: number;
  /**
   * Pings a connection may leave unanswered; at the next interval it is
   * closed with `ping_timeout`. A dead peer is thus found after at most
   * `(maxPingsOutstanding + 1) * pingIntervalMs` (plus a quarter interval). Default 2.
   */
  maxPingsOutstanding: number;
  /**
   * With auth on, how long a connection may take to authenticate with
   * `hello`, in ms, before it is closed with `auth_timeout`. Default 10000.
   */
  authTimeoutMs: number;
  /** Retained messages kept at most (`retained_limit` past it). Default 10000. */
  maxRetainedMessages: number;
  /** Bytes of retained messages kept at most (`retained_limit` past it). Default 16 MiB. */
  maxRetainedBytes: number;
  /**
   * On `close()`, how long the server waits for each connection's queued
   * bytes to be written before closing it anyway, in ms. Default 2000.
   */
  shutdownGraceMs: number;
  /**
   * The largest WebSocket message a client may send, in bytes. A message may
   * hold several lines or part of one (lines are still bounded by
   * `maxLineBytes`); this bounds what the WebSocket layer buffers before the
   * server sees the message. A larger message closes the connection with
   * code 1009. At least {@linkcode WEBSOCKET_SEND_BYTES} (the largest message
   * this library's clients send). Default 1 MiB.
   */
  maxWebSocketMessageBytes: number;
  /**
   * Bytes all subscriptions of the server may take, summed over every
   * connection: the subscription index (its trie nodes, maps and sets,
   * counted with their object overhead, not just the pattern's text) and
   * each connection's record of its subscriptions. A subscribe that would
   * pass it is refused with `subscription_budget`. Default 128 MiB.
   */
  maxSubscriptionBytes: number;
  /**
   * Bytes of unfinished lines held, summed over every connection (each
   * counted at the size of the buffer that holds it). A connection whose
   * unfinished line would pass it is closed with `input_budget`. Default 64 MiB.
   */
  maxPartialLineBytes: number;
  /**
   * Bytes queued to be written, summed over every connection. Past it, a
   * connection that already holds 64 KiB or more of unwritten bytes is
   * treated as over its own `maxOutboundBytes` (its slow-consumer policy
   * applies); one holding less is always let in, so readers that keep up
   * are not harmed by those that do not. Default 1 GiB.
   */
  maxOutboundTotalBytes: number;
  /**
   * How long a line may stay unfinished, in ms: a connection that holds part
   * of a line this long without completing one is closed with `idle_timeout`.
   * Default 60000.
   */
  lineTimeoutMs: number;
  /**
   * With auth off, how long a new connection may take to send its first
   * frame, in ms, before it is closed with `idle_timeout` (with auth on,
   * `authTimeoutMs` applies). Default 60000.
   */
  idleTimeoutMs: number;
  /**
   * With TLS, how long a new connection may take to complete its TLS
   * handshake, in ms, before it is closed (nothing can be sent to it before
   * the handshake, so it gets no error frame). Default 10000.
   */
  tlsHandshakeTimeoutMs: number;
  /** The longest `name` a `hello` may carry, in UTF-8 bytes (`invalid_frame` past it). Default 256. */
  maxNameBytes: number;
  /**
   * Bytes the table of per-topic sequence numbers (`seq`) may take, counted
   * with each entry's overhead; when full it is emptied and sequence numbers
   * restart at 1. Default 16 MiB.
   */
  maxSeqTableBytes: number;
  /**
   * Bytes the cache of encoded delivery prefixes (one per topic) may take,
   * counted with each entry's overhead; when full it is emptied. Default 4 MiB.
   */
  maxPrefixCacheBytes: number;
}

/**
 * The largest WebSocket message this library's clients send, in bytes: a
 * client splits its writes into messages of at most this size (anywhere,
 * even inside a line: the server joins them). A server's
 * `maxWebSocketMessageBytes` may not be lower.
 *
 * @example
 * ```ts
 * import { WEBSOCKET_SEND_BYTES } from "@kn-sock/pubsub";
 *
 * console.log(WEBSOCKET_SEND_BYTES); // 65536
 * ```
 */
export const WEBSOCKET_SEND_BYTES: number = 64 * 1024;

/**
 * The server's slow-consumer policy unless `startPubSubServer()` is given
 * another: a subscriber past `maxOutboundBytes` is disconnected.
 *
 * @example
 * ```ts
 * import { DEFAULT_SLOW_CONSUMER_POLICY } from "@kn-sock/pubsub";
 *
 * console.log(DEFAULT_SLOW_CONSUMER_POLICY); // "disconnect"
 * ```
 */
export const DEFAULT_SLOW_CONSUMER_POLICY: SlowConsumerPolicy = "disconnect";

/** Limits of a {@linkcode PubSubClient}. */
export interface ClientLimits {
  /**
   * The longest line the client accepts from the server, in bytes. Default
   * 4 MiB: the server writes non-ASCII text as `\uXXXX` escapes, so a
   * delivery can be up to three times its publish line (at most the
   * server's 1 MiB) plus the topic.
   */
  maxLineBytes: number;
  /** The longest topic the client sends, in UTF-8 bytes (`RangeError` past it). Default 1024. */
  maxTopicBytes: number;
  /** The most levels in a topic or pattern the client sends (`RangeError` past it). Default 32. */
  maxTopicLevels: number;
  /**
   * Bytes waiting to be written to the server (queued plus in flight). A
   * `publish()` that would pass it rejects with a `buffer_full`
   * {@linkcode PubSubError} and sends nothing. Default 8 MiB.
   */
  maxOutboundBytes: number;
  /**
   * Bytes of received messages held until `recv()` or the iterator takes
   * them. Past it the client stops reading from the socket (TCP backpressure
   * reaches the server) until there is room again. Default 8 MiB.
   */
  maxInboundBytes: number;
  /** How long `connect()` may take, in ms. Default 10000. */
  connectTimeoutMs: number;
  /** On `close()`, how long the client waits for queued bytes to be written, in ms. Default 2000. */
  closeGraceMs: number;
  /**
   * Bytes of publishes held while the client is disconnected and
   * reconnecting; they are sent, in order, once it is connected again. A
   * publish that would pass it is refused (`offlineOverflow: "error"`, the
   * default: it rejects with `buffer_full`) or dropped and counted
   * (`"count"`). Default 8 MiB.
   */
  maxOfflineBytes: number;
  /**
   * After `hello`, the client pings a server it has heard nothing from for
   * this long, in ms (or for the server's `ping_interval`, when shorter).
   * Default 30000.
   */
  pingIntervalMs: number;
  /**
   * Pings the server may leave unanswered (any line from it counts as an
   * answer); at the next interval the connection is dropped with
   * `ping_timeout` and the client reconnects. Default 2.
   */
  maxPingsOutstanding: number;
  /**
   * Events each `client.status()` iterator holds until read; past it the
   * oldest is dropped and counted in the next event's `missed`. Default 256.
   */
  maxStatusEvents: number;
}

/**
 * The default server limits.
 *
 * @example
 * ```ts
 * import { DEFAULT_SERVER_LIMITS } from "@kn-sock/pubsub";
 *
 * console.log(DEFAULT_SERVER_LIMITS.maxLineBytes); // 1048576
 * ```
 */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxLineBytes: MiB,
  maxTopicBytes: 1024,
  maxTopicLevels: 32,
  maxSubscriptionsPerConnection: 10_000,
  maxConnections: 10_000,
  maxPayloadBytes: MiB,
  maxNestingDepth: 64,
  maxOutboundBytes: 8 * MiB,
  writeDeadlineMs: 30_000,
  publisherPauseMs: 1000,
  pingIntervalMs: 30_000,
  maxPingsOutstanding: 2,
  authTimeoutMs: 10_000,
  maxRetainedMessages: 10_000,
  maxRetainedBytes: 16 * MiB,
  shutdownGraceMs: 2000,
  maxWebSocketMessageBytes: MiB,
  maxSubscriptionBytes: 128 * MiB,
  maxPartialLineBytes: 64 * MiB,
  maxOutboundTotalBytes: 1024 * MiB,
  lineTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  tlsHandshakeTimeoutMs: 10_000,
  maxNameBytes: 256,
  maxSeqTableBytes: 16 * MiB,
  maxPrefixCacheBytes: 4 * MiB,
});

/**
 * The default client limits.
 *
 * @example
 * ```ts
 * import { DEFAULT_CLIENT_LIMITS } from "@kn-sock/pubsub";
 *
 * console.log(DEFAULT_CLIENT_LIMITS.maxOutboundBytes); // 8388608
 * ```
 */
export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimits> = Object.freeze({
  maxLineBytes: 4 * MiB,
  maxTopicBytes: 1024,
  maxTopicLevels: 32,
  maxOutboundBytes: 8 * MiB,
  maxInboundBytes: 8 * MiB,
  connectTimeoutMs: 10_000,
  closeGraceMs: 2000,
  maxOfflineBytes: 8 * MiB,
  pingIntervalMs: 30_000,
  maxPingsOutstanding: 2,
  maxStatusEvents: 256,
});

/**
 * Merges `overrides` onto `defaults`, checking that every value is a positive
 * safe integer.
 *
 * @example
 * ```ts
 * import { DEFAULT_SERVER_LIMITS, resolveLimits } from "@kn-sock/pubsub";
 *
 * const limits = resolveLimits(DEFAULT_SERVER_LIMITS, { maxLineBytes: 4096 });
 * console.log(limits.maxLineBytes); // 4096
 * ```
 *
 * @param defaults The defaults.
 * @param overrides The values to change.
 * @returns A new object with every limit set.
 * @throws {TypeError} For an unknown limit name.
 * @throws {RangeError} For a value that is not a positive safe integer.
 */
export function resolveLimits<T extends object>(
  defaults: Readonly<T>,
  overrides: Partial<T> | undefined,
): T {
  const limits = { ...defaults } as T;
  if (overrides === undefined) return limits;
  for (const [name, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(defaults, name)) {
      throw new TypeError(`Unknown limit "${name}"`);
    }
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`Limit "${name}" must be a positive integer, got ${String(value)}`);
    }
    (limits as Record<string, number>)[name] = value;
  }
  return limits;
}
