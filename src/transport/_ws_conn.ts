/**
 * A WebSocket connection as a {@linkcode Conn}, written once for every
 * runtime: each adapter maps its socket onto {@linkcode WsSocket} and feeds
 * `receive()` and `onClose()`.
 *
 * - Reading: each message is one chunk (text as its UTF-8 bytes), for the
 *   line decoder; a message may hold several lines or part of one. Chunks
 *   wait in a byte-counted queue: past 64 KiB unread the socket is paused
 *   where the runtime can pause it (Bun, `ws`); where it cannot (the
 *   standard `WebSocket`: browsers, Deno), past
 *   {@linkcode UNPAUSABLE_UNREAD_BYTES} the connection is closed with 1008.
 * - Writing: each `write()` is one binary message, settled by the
 *   runtime's backpressure signal (see each adapter); a write longer than
 *   {@linkcode WebSocketConn.maxWriteBytes} is several messages, each cut
 *   after the last line end that fits (or at the bound, within a line:
 *   the peer's line decoder joins the parts).
 * - `closeWrite()` sends a normal close (1000) once the write in flight is
 *   done; `close()` drops what is unread, rejects the write in flight and
 *   closes at once (as abruptly as the runtime allows).
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { type Deferred, handled, RESOLVED } from "../_async.ts";
import { type FlowSource, PushQueue } from "../_push_queue.ts";
import type { Addr, Conn } from "./types.ts";

/** Close code: normal closure. */
export const CLOSE_NORMAL = 1000;
/** Close code: a policy violation (here, a reader too slow on an unpausable socket). */
export const CLOSE_POLICY = 1008;
/** Close code: a message too big to handle. */
export const CLOSE_TOO_BIG = 1009;

/** Unread bytes at which a pausable socket is paused. */
const HIGH_WATER_BYTES = 64 * 1024;

/**
 * Unread bytes at which a connection whose socket cannot be paused is
 * closed (code 1008): the bound on what a peer can make us hold.
 */
export const UNPAUSABLE_UNREAD_BYTES: number = 32 * 1024 * 1024;

/** A runtime's WebSocket, as {@linkcode WebSocketConn} uses it. */
export interface WsSocket {
  /**
   * Sends one binary message; resolves on the runtime's backpressure
   * signal, rejects when it cannot be sent.
   */
  send(bytes: Uint8Array): Promise<void>;
  /** Starts the closing handshake, after the messages already queued. */
  close(code: number, reason: string): void;
  /** Closes now: without a handshake where the runtime can. */
  terminate(): void;
  /** Stops reading from the socket, if the runtime can. */
  pause?(): void;
  /** Reads again after `pause()`. */
  resume?(): void;
}

/** Where a {@linkcode WebSocketConn} is, and its read limit. */
export interface WebSocketConnInit {
  /** The address of this end (`""` and `0` where the runtime does not tell). */
  localAddr: Addr;
  /** The address of the other end. */
  remoteAddr: Addr;
  /** The largest message accepted; a larger one closes with 1009. */
  maxMessageBytes: number;
  /** The largest message sent: see {@linkcode WebSocketConn.maxWriteBytes}. Default: no bound. */
  maxWriteBytes?: number;
}

const encoder = new TextEncoder();
const LF = 0x0a;

function byteLength(chunk: Uint8Array): number {
  return chunk.byteLength;
}

/** A {@linkcode Conn} over one WebSocket; see the module. */
export class WebSocketConn implements Conn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  #socket: WsSocket;
  #chunks: PushQueue<Uint8Array>;
  #maxMessageBytes: number;
  #maxWriteBytes: number;
  #isClosed = false;
  #writeClosed = false;
  #writing = false;
  // The send in flight that waits on backpressure, rejected when the
  // connection closes. (Not Promise.race with a "lost" promise: each race
  // would leave a reaction on it for the connection's life.)
  #waiting: Deferred<void> | null = null;
  #closed = handled<void>();

  constructor(socket: WsSocket, init: WebSocketConnInit) {
    this.#socket = socket;
    this.localAddr = init.localAddr;
    this.remoteAddr = init.remoteAddr;
    this.#maxMessageBytes = init.maxMessageBytes;
    this.#maxWriteBytes = Infinity;
    if (init.maxWriteBytes !== undefined) this.maxWriteBytes = init.maxWriteBytes;
    const pausable = socket.pause !== undefined && socket.resume !== undefined;
    const source: FlowSource = pausable
      ? { pause: () => socket.pause!(), resume: () => socket.resume!() }
      : { pause: () => this.#fail(CLOSE_POLICY, "Too many unread bytes"), resume: () => {} };
    this.#chunks = new PushQueue<Uint8Array>({
      size: byteLength,
      source,
      highWaterMark: pausable ? HIGH_WATER_BYTES : UNPAUSABLE_UNREAD_BYTES,
    });
  }

  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /**
   * The most bytes one message sent may hold (`Infinity`: no bound); a
   * longer write is split. The owner may change it between writes.
   *
   * @throws {RangeError} When set to anything but a positive integer or `Infinity`.
   */
  get maxWriteBytes(): number {
    return this.#maxWriteBytes;
  }

  set maxWriteBytes(bytes: number) {
    if (bytes !== Infinity && (!Number.isSafeInteger(bytes) || bytes <= 0)) {
      throw new RangeError(`maxWriteBytes must be a positive integer, got ${String(bytes)}`);
    }
    this.#maxWriteBytes = bytes;
  }

  /** The adapter's message handler: one message, binary or text. */
  receive(data: Uint8Array | ArrayBuffer | string): void {
    if (this.#isClosed) return;
    const bytes = typeof data === "string"
      ? encoder.encode(data)
      : data instanceof Uint8Array
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    if (bytes.byteLength > this.#maxMessageBytes) {
      this.#fail(CLOSE_TOO_BIG, "Message too big", true);
    } else if (bytes.byteLength > 0) {
      this.#chunks.push(bytes);
    }
  }

  /** The adapter's close handler: the socket is closed, whoever closed it. */
  onClose(): void {
    if (this.#isClosed) return;
    this.#markClosed();
    this.#chunks.end();
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#isClosed || this.#writeClosed) throw new ConnectionClosedError();
    if (bytes.byteLength === 0) return;
    this.#writing = true;
    try {
      if (bytes.byteLength <= this.#maxWriteBytes) await this.#send(bytes);
      else await this.#sendSplit(bytes, this.#maxWriteBytes);
    } catch (error) {
      this.close();
      if (error instanceof ConnectionClosedError) throw error;
      throw new ConnectionClosedError("Connection is closed", { cause: error });
    } finally {
      this.#writing = false;
      if (this.#writeClosed && !this.#isClosed) this.#socket.close(CLOSE_NORMAL, "");
    }
  }

  #send(bytes: Uint8Array): Promise<void> {
    const sent = this.#socket.send(bytes);
    if (sent === RESOLVED) return sent;
    const waiting = handled<void>();
    this.#waiting = waiting;
    sent.then(waiting.resolve, waiting.reject);
    return waiting.promise;
  }

  /** Sends `bytes` as messages of at most `max` bytes, cut after a line end where possible. */
  async #sendSplit(bytes: Uint8Array, max: number): Promise<void> {
    for (let at = 0; at < bytes.byteLength;) {
      let end = Math.min(at + max, bytes.byteLength);
      if (end < bytes.byteLength) {
        const lastLf = bytes.subarray(at, end).lastIndexOf(LF);
        if (lastLf !== -1) end = at + lastLf + 1;
      }
      await this.#send(bytes.subarray(at, end));
      at = end;
    }
  }

  closeWrite(): void {
    if (this.#isClosed || this.#writeClosed) return;
    this.#writeClosed = true;
    // With a write in flight, its end sends the close.
    if (!this.#writing) this.#socket.close(CLOSE_NORMAL, "");
  }

  close(): void {
    if (this.#isClosed) return;
    this.#markClosed();
    this.#chunks.discard();
    this.#socket.terminate();
  }

  /**
   * Closes with `code` (a handshake, so the peer learns why); what is
   * unread is dropped, or kept for the reader with `keepUnread`.
   */
  #fail(code: number, reason: string, keepUnread = false): void {
    if (this.#isClosed) return;
    this.#markClosed();
    if (keepUnread) this.#chunks.end();
    else this.#chunks.discard();
    this.#socket.close(code, reason);
  }

  #markClosed(): void {
    this.#isClosed = true;
    this.#waiting?.reject(new ConnectionClosedError());
    this.#waiting = null;
    this.#closed.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#chunks[Symbol.asyncIterator]();
  }
}
