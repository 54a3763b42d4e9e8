/**
 * One connection of a client, from open to end: opening the socket, its
 * bounded write queue, the `hello` handshake, the read loop that hands the
 * server's frames to the session, and the keepalive that pings a quiet
 * server. Also what a failed handshake becomes, and which failures are final.
 *
 * @module
 */

import {
  connectFailed,
  ConnectionClosedError,
  ErrorCode,
  PubSubError,
  ServerError,
} from "../errors.ts";
import type { ClientLimits } from "../limits.ts";
import { decodeServerFrame, encodeClientFrame, toAsciiJson } from "../protocol/codec.ts";
import type { ClientFrame, HelloFrame, ServerInfo } from "../protocol/frames.ts";
import { LineDecoder } from "../protocol/line_decoder.ts";
import type { Conn, TlsConnectOptions, Transport } from "../transport/types.ts";
import { WriteQueue } from "../transport/write_queue.ts";
import type { ClientSession } from "./client_session.ts";
import type { ClientAuth, HelloOptions } from "./options.ts";
import { receiveFrame } from "./receive.ts";

const PING = encodeClientFrame({ action: "ping" });

/** A frame as the line the client sends: compact JSON, ASCII only, `\n` ended. */
export function frameText(frame: ClientFrame): string {
  return toAsciiJson(JSON.stringify(frame)) + "\n";
}

/** One connection to the server. */
export class Connection {
  /** The socket. */
  readonly conn: Conn;
  /** Bytes waiting to be written to it. */
  readonly queue: WriteQueue;
  /** The last `error` frame the server sent on it about no frame with an `id`. */
  serverError: ServerError | null = null;
  /**
   * Resolves once reading stopped and the socket is closed, with why it
   * ended: see {@linkcode Connection.reason}. Never rejects.
   */
  readonly ended: Promise<PubSubError>;
  readonly #session: ClientSession;
  readonly #limits: ClientLimits;
  #reason: PubSubError | null = null;
  /** Chunks received: the keepalive compares it between its ticks. */
  #received = 0;
  #writeError: unknown = undefined;
  /** Reading waits for room in the inbox: the server is not silent, we are not listening. */
  #paused = false;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;

  /**
   * Starts reading `conn`.
   *
   * @param conn The socket.
   * @param session Where frames go; its limits are read.
   */
  constructor(conn: Conn, session: ClientSession) {
    this.conn = conn;
    this.#session = session;
    const limits = this.#limits = session.settings.limits;
    this.queue = new WriteQueue(conn, limits.maxOutboundBytes);
    this.queue.onError = (error) => {
      // The read loop ends next and tells why, with the server's last word if any.
      this.#writeError = error;
      this.conn.close();
    };
    this.ended = this.#read();
  }

  /** Whether it can still send: not failed, not closed. */
  get open(): boolean {
    return this.#reason === null && !this.queue.failed;
  }

  /**
   * Why it ended (or `null` while open): the server's last error frame
   * (such as `server_shutdown`), a `protocol_error` `ServerError` for a line
   * that is not a frame, a `ping_timeout` error, or a `ConnectionClosedError`
   * for a closed socket (its `cause` is the transport's error, if any).
   */
  get reason(): PubSubError | null {
    return this.#reason;
  }

  /**
   * Queues `frame`. Resolves once it is handed to the socket; rejects with
   * `buffer_full` past `maxOutboundBytes` (unless `force`), or with a
   * `ConnectionClosedError` once the connection is gone.
   */
  send(frame: ClientFrame, force = false): Promise<void> {
    if (!this.open) return Promise.reject(this.closedError());
    return this.sendText(frameText(frame), force);
  }

  /** Like `send()`, for a line already encoded (`\n` included). */
  sendText(text: string, force = false): Promise<void> {
    if (!this.open) return Promise.reject(this.closedError());
    if (!this.queue.enqueueText(text, force)) {
      return Promise.reject(
        new PubSubError(
          ErrorCode.BufferFull,
          `Outbound buffer holds ${this.queue.pendingBytes} bytes; ` +
            `${text.length} more would exceed ${this.#limits.maxOutboundBytes}`,
        ),
      );
    }
    return this.queue.written();
  }

  /**
   * Says `hello` (with the session's credentials) and resolves with the
   * server's answer. Rejects with an `auth_failed` {@linkcode PubSubError}
   * when the server refused the credentials, or a `connect_failed`
   * `ConnectError` (the abort, the lost connection or the server's answer
   * as its `cause`) otherwise.
   */
  async hello(signal: AbortSignal): Promise<ServerInfo> {
    const { answers, settings: { hello, auth }, target } = this.#session;
    const id = answers.nextId();
    const answer = answers.expectHello(id);
    const onAbort = (): void => answers.endHello(id, signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    void this.ended.then(() => answers.endHello(id, this.closedError()));
    try {
      signal.throwIfAborted();
      await this.send(helloFrame(hello ?? {}, auth, id));
      const info = await answer;
      this.#boundMessages(info.maxLine);
      return info;
    } catch (error) {
      throw helloFailed(target, error, this.serverError);
    } finally {
      signal.removeEventListener("abort", onAbort);
      answers.endHello(id);
    }
  }

  /**
   * Pings the server whenever nothing arrived for `intervalMs`; once
   * `maxOutstanding` pings went unanswered (nothing at all arrived), the
   * next quiet interval ends the connection with `ping_timeout`. While
   * reading waits for room in the inbox the server counts as alive. One
   * timer, one counter comparison per tick: nothing per message.
   */
  keepalive(intervalMs: number, maxOutstanding: number): void {
    if (this.#timer !== undefined || !this.open) return;
    let seen = this.#received;
    let outstanding = 0;
    this.#timer = setInterval(() => {
      if (this.#received !== seen || this.#paused) {
        seen = this.#received;
        outstanding = 0;
      } else if (outstanding >= maxOutstanding) {
        this.fail(
          new PubSubError(
            ErrorCode.PingTimeout,
            `Server answered none of ${outstanding} pings sent ${intervalMs} ms apart`,
          ),
        );
      } else {
        outstanding++;
        this.queue.enqueue(PING, true);
      }
    }, intervalMs);
  }

  /** Ends the connection with `reason` (the first reason given wins). Idempotent. */
  fail(reason: PubSubError): void {
    this.#reason ??= reason;
    this.#stop();
    this.conn.close();
  }

  /** Closes it abruptly (unwritten bytes may be lost). Idempotent. */
  close(): void {
    this.fail(new ConnectionClosedError("Client is closed"));
  }

  /** The error for a send on a connection that is gone. */
  closedError(): ConnectionClosedError {
    const reason = this.#reason;
    return reason instanceof ConnectionClosedError
      ? reason
      : new ConnectionClosedError("Connection was lost", { cause: reason ?? undefined });
  }

  /**
   * On a message-based connection (WebSocket), no message sent may be
   * longer than the server's longest line: it bounds each message by it.
   */
  #boundMessages(maxLine: unknown): void {
    const conn = this.conn;
    if (conn.maxWriteBytes === undefined) return;
    if (Number.isSafeInteger(maxLine) && (maxLine as number) > 0) {
      conn.maxWriteBytes = Math.min(conn.maxWriteBytes, maxLine as number);
    }
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #read(): Promise<PubSubError> {
    const decoder = new LineDecoder(this.#limits.maxLineBytes);
    try {
      for await (const chunk of this.conn) {
        this.#received++;
        decoder.push(chunk);
        for (let line = decoder.next(); line !== null; line = decoder.next()) {
          if (line.byteLength > 0) {
            receiveFrame(this.#session, decodeServerFrame(line), line.byteLength, this);
          }
        }
        const room = this.#session.inbox.room();
        this.#paused = true;
        await room;
        this.#paused = false;
      }
    } catch (error) {
      this.fail(new ServerError(ErrorCode.ProtocolError, String(error), { cause: error }));
    }
    this.fail(
      this.serverError ??
        new ConnectionClosedError("Connection was lost", { cause: this.#writeError }),
    );
    await this.conn.closed;
    return this.#reason!;
  }
}

// ---- opening and saying hello ------------------------------------------------

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
function helloFrame(
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

/**
 * What a failed `hello` becomes: a `auth_failed` {@linkcode PubSubError}
 * when the server refused the credentials (answering the `hello`, or as its
 * last word before closing), a `connect_failed` `ConnectError` otherwise.
 */
function helloFailed(
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
