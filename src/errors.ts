/**
 * Error classes and the stable error codes of `@kn-sock/pubsub`.
 *
 * Bad arguments throw the built-in `TypeError` / `RangeError`. Everything
 * else is one of the classes below; each carries a stable `code` from
 * {@linkcode ErrorCode}, a `name`, and an optional `cause`.
 *
 * @module
 */

/**
 * Every stable error code. Codes sent by the server in `error` frames are
 * listed in `docs/PROTOCOL.md`; the others are raised locally.
 *
 * @example Checking a code
 * ```ts
 * import { ErrorCode, PubSubError } from "@kn-sock/pubsub";
 *
 * const error: unknown = new PubSubError(ErrorCode.ConnectionClosed, "Connection closed");
 * if (error instanceof PubSubError && error.code === ErrorCode.ConnectionClosed) {
 *   // reconnect
 * }
 * ```
 */
export const ErrorCode = {
  /** A line is not valid JSON (error frame). */
  InvalidJson: "invalid_json",
  /** A line is not valid UTF-8 (error frame). */
  InvalidUtf8: "invalid_utf8",
  /** A line is valid JSON but not a JSON object (error frame). */
  InvalidFrame: "invalid_frame",
  /** `action` is missing, not a string, or not a known action (error frame). */
  UnknownAction: "unknown_action",
  /** `topic` is missing, not a string, empty, or too long (error frame). */
  InvalidTopic: "invalid_topic",
  /** A subscribe pattern misuses a wildcard, such as `a/#/b` or `a+/b` (error frame). */
  InvalidPattern: "invalid_pattern",
  /** A publish with `reply` matched no subscriber (error frame). */
  NoResponders: "no_responders",
  /** A retained message would pass the retained count or byte limit (error frame). */
  RetainedLimit: "retained_limit",
  /** The connection has as many subscriptions as it may have (error frame). */
  TooManySubscriptions: "too_many_subscriptions",
  /** A line is longer than the limit; the connection is closed (error frame). */
  LineTooLong: "line_too_long",
  /** A subscriber fell behind past its outbound limit; it is disconnected (error frame). */
  SlowConsumer: "slow_consumer",
  /** The server's handler threw or rejected; the frame was not routed (error frame). */
  HandlerError: "handler_error",
  /** The server has `maxConnections` connections; this one is closed (error frame). */
  TooManyConnections: "too_many_connections",
  /** A publish's message is larger than `maxPayloadBytes` (error frame). */
  PayloadTooLarge: "payload_too_large",
  /** The server requires auth and the client has not authenticated yet (error frame). */
  AuthRequired: "auth_required",
  /** The credentials in `hello` are wrong or missing; the connection is closed (error frame). */
  AuthFailed: "auth_failed",
  /** The client did not authenticate within `authTimeoutMs`; it is closed (error frame). */
  AuthTimeout: "auth_timeout",
  /** The user may not publish or subscribe to that topic (error frame). */
  Forbidden: "forbidden",
  /** The peer answered no ping for too long; the connection is closed (error frame, or local). */
  PingTimeout: "ping_timeout",
  /** A subscribe would pass the server's `maxSubscriptionBytes`; it is refused (error frame). */
  SubscriptionBudget: "subscription_budget",
  /** Unfinished lines would pass the server's `maxPartialLineBytes`; the connection is closed (error frame). */
  InputBudget: "input_budget",
  /** No frame within `idleTimeoutMs`, or a line unfinished for `lineTimeoutMs`; the connection is closed (error frame). */
  IdleTimeout: "idle_timeout",
  /** The server is shutting down (error frame, sent before the close). */
  ServerShutdown: "server_shutdown",
  /** The connection is closed, or was lost (local). */
  ConnectionClosed: "connection_closed",
  /** Nothing listens at the address (local). */
  ConnectionRefused: "connection_refused",
  /** Connecting failed for another reason, or timed out (local). */
  ConnectFailed: "connect_failed",
  /** The client's outbound buffer is full (local). */
  BufferFull: "buffer_full",
  /** The peer sent a frame this side cannot understand (local). */
  ProtocolError: "protocol_error",
  /** A request got no reply in time (local). */
  Timeout: "timeout",
  /** The server's backplane (for example Redis) could not be reached at start (local). */
  BackplaneUnavailable: "backplane_unavailable",
} as const;

/** One of the values of {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * The base class of the library's domain errors.
 *
 * @example Throwing and catching
 * ```ts
 * import { ErrorCode, PubSubError } from "@kn-sock/pubsub";
 *
 * try {
 *   throw new PubSubError(ErrorCode.BufferFull, "Outbound buffer is full");
 * } catch (error) {
 *   if (!(error instanceof PubSubError)) throw error;
 *   console.log(error.code); // "buffer_full"
 * }
 * ```
 */
export class PubSubError extends Error {
  /** The stable code of this error. */
  readonly code: ErrorCode;

  /**
   * Creates an error with a stable code.
   *
   * @param code The stable code.
   * @param message A sentence-case message without a final period.
   * @param options `cause`, as for `Error`.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PubSubError";
    this.code = code;
  }
}

/**
 * The connection is closed: `recv()`, `publish()` and friends reject with it
 * once the client is closed or the connection is lost. `cause` says why when
 * it is known (for example a {@linkcode ServerError} with code `slow_consumer`).
 *
 * @example Telling a closed connection from a timeout
 * ```ts ignore
 * import { ConnectionClosedError } from "@kn-sock/pubsub";
 *
 * try {
 *   const message = await client.recv({ timeout: 1000 }); // null on timeout
 * } catch (error) {
 *   if (error instanceof ConnectionClosedError) console.log("gone", error.cause);
 * }
 * ```
 */
export class ConnectionClosedError extends PubSubError {
  /**
   * Creates the error.
   *
   * @param message A sentence-case message without a final period.
   * @param options `cause`, as for `Error`.
   */
  constructor(message = "Connection is closed", options?: ErrorOptions) {
    super(ErrorCode.ConnectionClosed, message, options);
    this.name = "ConnectionClosedError";
  }
}

/**
 * Connecting failed: code `connection_refused` when nothing listens at the
 * address, `connect_failed` otherwise (including a timeout or an abort).
 *
 * @example
 * ```ts ignore
 * import { ConnectError, PubSubClient } from "@kn-sock/pubsub";
 *
 * try {
 *   await PubSubClient.connect("127.0.0.1", 1);
 * } catch (error) {
 *   if (error instanceof ConnectError) console.log(error.code); // "connection_refused"
 * }
 * ```
 */
export class ConnectError extends PubSubError {
  /**
   * Creates the error.
   *
   * @param code `connection_refused` or `connect_failed`.
   * @param message A sentence-case message without a final period.
   * @param options `cause`, as for `Error`.
   */
  constructor(
    code: typeof ErrorCode.ConnectionRefused | typeof ErrorCode.ConnectFailed,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.name = "ConnectError";
  }
}

/**
 * An `error` frame sent by the server, as seen by the client.
 *
 * @example
 * ```ts
 * import { ServerError } from "@kn-sock/pubsub";
 *
 * const error = new ServerError("slow_consumer", "Outbound queue exceeded 8388608 bytes");
 * console.log(error.code, error.message);
 * ```
 */
export class ServerError extends PubSubError {
  /**
   * Creates the error from an error frame.
   *
   * @param code The code the server sent.
   * @param message The text the server sent.
   * @param options `cause`, as for `Error`.
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code as ErrorCode, message, options);
    this.name = "ServerError";
  }
}

/**
 * A line that is not a valid frame: bad UTF-8, bad JSON, not an object, an
 * unknown action, a bad topic or a line over the limit. The server answers
 * it with an `error` frame carrying the same `code`.
 *
 * @example
 * ```ts
 * import { decodeClientFrame, FrameError } from "@kn-sock/pubsub";
 *
 * try {
 *   decodeClientFrame(new TextEncoder().encode("{oops"));
 * } catch (error) {
 *   if (error instanceof FrameError) console.log(error.code); // "invalid_json"
 * }
 * ```
 */
export class FrameError extends SyntaxError {
  /** The stable code of this error. */
  readonly code: ErrorCode;
  /** The `id` of the bad frame, when it could be read; the error frame echoes it. */
  id: string | number | undefined = undefined;

  /**
   * Creates the error.
   *
   * @param code The stable code.
   * @param message A sentence-case message without a final period.
   * @param options `cause`, as for `Error`.
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameError";
    this.code = code;
  }
}

/** A `connection_refused` {@linkcode ConnectError}: nothing listens at the address. */
export function connectionRefused(hostname: string, port: number, cause?: unknown): ConnectError {
  return new ConnectError(
    ErrorCode.ConnectionRefused,
    `Connection refused by ${hostname}:${port}`,
    { cause },
  );
}

/** A `connect_failed` {@linkcode ConnectError}: any other failure, an abort or a timeout. */
export function connectFailed(hostname: string, port: number, cause?: unknown): ConnectError {
  return new ConnectError(
    ErrorCode.ConnectFailed,
    `Could not connect to ${hostname}:${port}`,
    { cause },
  );
}
