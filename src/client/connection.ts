/**
 * One connection of a client, from open to end: the socket, its bounded
 * write queue, the read loop that decodes the server's lines into frames,
 * and the keepalive that pings a quiet server.
 *
 * @module
 */

import { ConnectionClosedError, ErrorCode, PubSubError, ServerError } from "../errors.ts";
import type { ClientLimits } from "../limits.ts";
import { decodeServerFrame, encodeClientFrame, toAsciiJson } from "../protocol/codec.ts";
import type { ClientFrame, ServerFrame } from "../protocol/frames.ts";
import { LineDecoder } from "../protocol/line_decoder.ts";
import type { Conn } from "../transport/types.ts";
import { WriteQueue } from "../transport/write_queue.ts";

const PING = encodeClientFrame({ action: "ping" });

/** A frame as the line the client sends: compact JSON, ASCII only, `\n` ended. */
export function frameText(frame: ClientFrame): string {
  return toAsciiJson(JSON.stringify(frame)) + "\n";
}

/** What a connection needs from its client. */
export interface ConnectionHost {
  /** A frame arrived on `connection`; `size` is its line's length in bytes. */
  frame(frame: ServerFrame, size: number, connection: Connection): void;
  /** Resolves once the client has room for more messages; reading waits for it. */
  room(): Promise<void>;
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
  readonly #host: ConnectionHost;
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
   * @param limits `maxLineBytes` and `maxOutboundBytes` are read.
   * @param host Where frames go.
   */
  constructor(conn: Conn, limits: ClientLimits, host: ConnectionHost) {
    this.conn = conn;
    this.#limits = limits;
    this.#host = host;
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
          if (line.byteLength > 0) this.#host.frame(decodeServerFrame(line), line.byteLength, this);
        }
        const room = this.#host.room();
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
