/**
 * The web-standard `WebSocket` (browsers, Deno, Bun's and Node 22's
 * clients, and the socket Deno's `upgradeWebSocket` returns) as a
 * {@linkcode WsSocket}, and the minimal shape of it this library uses.
 *
 * The standard API gives no send backpressure signal, only
 * `bufferedAmount` (bytes queued but not yet sent), and no event when it
 * falls. So a write resolves at once while `bufferedAmount` is at most
 * {@linkcode SEND_BUFFER_BYTES}; above it, it polls on a short timer (1 ms,
 * doubling up to 16 ms) until it is back under the bound, and only then.
 * The standard API can neither pause reading nor close abruptly:
 * `terminate()` is a normal close, sent after what was queued.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { RESOLVED } from "../_async.ts";
import { CLOSE_NORMAL, type WebSocketConn, type WsSocket } from "./_ws_conn.ts";

/** Bytes a write may leave queued in `bufferedAmount` and still resolve. */
export const SEND_BUFFER_BYTES: number = 64 * 1024;

const FIRST_POLL_MS = 1;
const LAST_POLL_MS = 16;
const OPEN = 1;

/** The part of a WebSocket event this library reads. */
export interface WebSocketEventLike {
  /** The event's type. */
  readonly type: string;
  /** A message event's data: an `ArrayBuffer` or a string. */
  readonly data?: unknown;
}

/**
 * The part of a standard `WebSocket` this library uses: the global one
 * and the `ws` package's both fit it.
 */
export interface WebSocketLike {
  /** How binary messages arrive; set to `"arraybuffer"`. */
  binaryType: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send()` and not yet sent. */
  readonly bufferedAmount: number;
  /** Queues one binary message (the standard API copies it). */
  send(data: Uint8Array<ArrayBuffer>): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Listens for `open`, `message`, `close` and `error`. */
  addEventListener(
    type: "open" | "message" | "close" | "error",
    listener: (event: WebSocketEventLike) => void,
  ): void;
}

/** Waits until `ws.bufferedAmount` is at most the bound, polling; rejects once it closes. */
function drained(ws: WebSocketLike): Promise<void> {
  return new Promise((resolve, reject) => {
    let delay = FIRST_POLL_MS;
    const check = (): void => {
      if (ws.readyState !== OPEN) reject(new ConnectionClosedError());
      else if (ws.bufferedAmount <= SEND_BUFFER_BYTES) resolve();
      else {
        setTimeout(check, delay);
        delay = Math.min(delay * 2, LAST_POLL_MS);
      }
    };
    setTimeout(check, delay);
  });
}

/**
 * Closes `ws` with `code`; the client side of the standard API accepts
 * only 1000 and 3000–4999, so another code falls back to 1000 (the reason
 * still says why).
 */
function closeWith(ws: WebSocketLike, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // InvalidAccessError: a code the client API may not send.
    ws.close(CLOSE_NORMAL, reason);
  }
}

/** `ws` as a {@linkcode WsSocket}; see the module for what it can and cannot do. */
export function standardSocket(ws: WebSocketLike): WsSocket {
  return {
    send(bytes) {
      if (ws.readyState !== OPEN) return Promise.reject(new ConnectionClosedError());
      // A SharedArrayBuffer view is refused by browsers; ours never are.
      ws.send(bytes as Uint8Array<ArrayBuffer>);
      return ws.bufferedAmount <= SEND_BUFFER_BYTES ? RESOLVED : drained(ws);
    },
    close: (code, reason) => closeWith(ws, code, reason),
    terminate: () => closeWith(ws, CLOSE_NORMAL, ""),
  };
}

/** Feeds `conn` from `ws`'s `message` and `close` events. */
export function feed(ws: WebSocketLike, conn: WebSocketConn): void {
  ws.addEventListener("message", (event) => {
    conn.receive(event.data as ArrayBuffer | string);
  });
  ws.addEventListener("close", () => conn.onClose());
}
