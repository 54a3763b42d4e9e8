/**
 * Opening a connection for a client: the transport's connect under one
 * deadline, the `hello` frame with its credentials, and the errors a
 * failed handshake becomes.
 *
 * @module
 */

import { ConnectionClosedError, ErrorCode, PubSubError, ServerError } from "../errors.ts";
import type { HelloFrame, ServerInfo } from "../protocol/frames.ts";
import { connectFailed } from "../transport/_connect_errors.ts";
import type { Conn, TlsConnectOptions, Transport } from "../transport/types.ts";
import type { Answers } from "./answers.ts";
import type { Connection } from "./connection.ts";
import type { ClientAuth, HelloOptions } from "./options.ts";

/** Where and how a client connects. */
export interface DialTarget {
  /** The host, as given to `connect()`. */
  readonly hostname: string;
  /** The port. */
  readonly port: number;
  /** TLS options, if any. */
  readonly tls: TlsConnectOptions | undefined;
}

/** Opens a socket to `target`; rejects with the transport's `ConnectError`. */
export function openConn(
  transport: Transport,
  target: DialTarget,
  signal: AbortSignal,
): Promise<Conn> {
  return transport.connect({
    hostname: target.hostname,
    port: target.port,
    signal,
    tls: target.tls,
  });
}

/**
 * The `hello` frame: the options, the credentials (a token, or `user` and
 * `pass`) and `id`.
 */
export function helloFrame(
  hello: HelloOptions,
  auth: ClientAuth | undefined,
  id: number,
): HelloFrame {
  const frame: HelloFrame = { action: "hello", version: 1, id };
  if (hello.name !== undefined) frame.name = hello.name;
  if (hello.echo !== undefined) frame.echo = hello.echo;
  if (auth !== undefined) {
    if ("token" in auth) frame.token = auth.token;
    else {
      frame.user = auth.user;
      frame.pass = auth.password;
    }
  }
  return frame;
}

/** Checks the `auth` option. */
export function checkAuth(auth: unknown): ClientAuth | undefined {
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

/**
 * What a failed `hello` becomes: a `auth_failed` {@linkcode PubSubError}
 * when the server refused the credentials (answering the `hello`, or as its
 * last word before closing), a `connect_failed` `ConnectError` otherwise.
 */
export function helloFailed(
  target: DialTarget,
  error: unknown,
  lastServerError: ServerError | null,
): PubSubError {
  const refusal = error instanceof ServerError && error.code === ErrorCode.AuthFailed
    ? error
    : lastServerError?.code === ErrorCode.AuthFailed
    ? lastServerError
    : null;
  if (refusal === null) return connectFailed(target.hostname, target.port, error);
  return new PubSubError(
    ErrorCode.AuthFailed,
    `Server ${target.hostname}:${target.port} refused the credentials: ${refusal.message}`,
    { cause: refusal },
  );
}

/** Codes after which trying again cannot help. */
const FINAL_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCode.AuthFailed, // the credentials are wrong
  ErrorCode.AuthTimeout, // the server requires credentials and the client has none
  ErrorCode.ProtocolError, // the peer does not speak the protocol
]);

/**
 * Whether a lost connection or a failed attempt must not be retried:
 * refused or missing credentials, or a peer that does not speak the protocol.
 */
export function isFinal(error: unknown): boolean {
  if (!(error instanceof PubSubError)) return false;
  if (FINAL_CODES.has(error.code)) return true;
  // A hello that failed because the connection broke with a protocol error.
  const cause = error.cause;
  return cause instanceof ConnectionClosedError && isFinal(cause.cause) ||
    cause instanceof ServerError && cause.code === ErrorCode.ProtocolError;
}

/** Options of {@linkcode sayHello}. */
export interface SayHelloOptions {
  /** Where the answer arrives. */
  answers: Answers;
  /** The `hello` options. */
  hello: HelloOptions;
  /** Credentials to send in it. */
  auth: ClientAuth | undefined;
  /** Aborts the wait (a deadline, or the client closing). */
  signal: AbortSignal;
}

/**
 * Says `hello` on `link` and resolves with the server's answer. Rejects
 * with the server's `error` answer, the signal's reason, or a
 * `ConnectionClosedError` when the connection ends first.
 */
export async function sayHello(link: Connection, options: SayHelloOptions): Promise<ServerInfo> {
  const { answers, signal } = options;
  signal.throwIfAborted();
  const id = answers.nextId();
  const answer = answers.expectHello(id);
  const onAbort = (): void => answers.endHello(id, signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  void link.ended.then(() => answers.endHello(id, link.closedError()));
  try {
    await link.send(helloFrame(options.hello, options.auth, id));
    return await answer;
  } finally {
    signal.removeEventListener("abort", onAbort);
    answers.endHello(id);
  }
}
