/**
 * A connect-only transport over the web-standard `WebSocket`: for
 * browsers, Deno, Bun and Node 22+ (or any runtime, given a `WebSocket`
 * constructor such as the `ws` package's). It names no runtime API, so a
 * browser bundle can include it.
 *
 * @example Connecting a client over WebSocket
 * ```ts ignore
 * import { PubSubClient } from "@kn-sock/pubsub";
 * import { webSocketTransport } from "@kn-sock/pubsub/websocket";
 *
 * const transport = webSocketTransport({ path: "/ws" });
 * const client = await PubSubClient.connect("pubsub.example.com", 443, {
 *   transport,
 *   tls: {},
 * });
 * await client.close();
 * ```
 *
 * @module
 */

import { abortable, deferred } from "../_async.ts";
import { WEBSOCKET_SEND_BYTES } from "../limits.ts";
import { connectFailed } from "./_connect_errors.ts";
import { feed, standardSocket, type WebSocketLike } from "./_standard_ws.ts";
import { WebSocketConn } from "./_ws_conn.ts";
import type { Conn, ConnectOptions, Transport } from "./types.ts";

export type { WebSocketEventLike, WebSocketLike } from "./_standard_ws.ts";

/** A constructor of standard WebSockets: the global `WebSocket`, or the `ws` package's. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** What {@linkcode webSocketTransport} takes. */
export interface WebSocketTransportOptions {
  /** The path of the server's WebSocket route, with any query string. Default `"/ws"`. */
  path?: string;
  /**
   * Use `wss:`. Default: `false`, unless `connect()` is given a `tls`
   * option (which must then be empty: the standard `WebSocket` trusts the
   * platform's certificates only, so `ca` and `serverName` are refused).
   */
  secure?: boolean;
  /**
   * The largest message accepted, in bytes; a larger one closes the
   * connection. Default 16 MiB.
   */
  maxMessageBytes?: number;
  /**
   * The largest message sent, in bytes: a longer write goes out as several
   * messages (cut after a line end where one fits), for a server that
   * bounds messages. Default 64 KiB (`WEBSOCKET_SEND_BYTES`), below the
   * least our server may accept (`maxWebSocketMessageBytes`); a client that
   * says `hello` lowers it to the server's `maxLine` when that is smaller.
   */
  maxWriteBytes?: number;
  /**
   * The `WebSocket` class to use. Default: the global one (browsers,
   * Deno, Bun, Node 22+). On Node 20, pass the `ws` package's.
   */
  WebSocket?: WebSocketConstructor;
}

const DEFAULT_PATH = "/ws";
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_WRITE_BYTES = WEBSOCKET_SEND_BYTES;

function globalWebSocket(): WebSocketConstructor {
  const found = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof found !== "function") {
    throw new TypeError(
      "This runtime has no global WebSocket (Node before 22): use Node 22 or later, " +
        'or pass the WebSocket option (for example the "ws" package\'s WebSocket)',
    );
  }
  return found;
}

/** The URL to open: `ws(s)://hostname:port/path`, IPv6 addresses in brackets. */
function urlOf(options: ConnectOptions, path: string, secure: boolean): string {
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  return `${secure ? "wss" : "ws"}://${host}:${options.port}${path}`;
}

function usesTls(options: ConnectOptions, secure: boolean): boolean {
  const { tls } = options;
  if (tls === undefined) return secure;
  const ca = tls.ca === undefined || (Array.isArray(tls.ca) && tls.ca.length === 0);
  if (!ca || tls.serverName !== undefined) {
    throw new TypeError(
      "The WebSocket transport cannot use tls.ca or tls.serverName: " +
        "the standard WebSocket trusts the platform's certificates only",
    );
  }
  return true;
}

/**
 * Opens `url` and resolves with its connection once open; rejects (closing
 * it) on failure or abort. The connection is fed from the start, so no
 * message can slip between the open event and the first read.
 */
async function open(
  WebSocket: WebSocketConstructor,
  url: string,
  options: ConnectOptions,
  limits: { maxMessageBytes: number; maxWriteBytes: number },
): Promise<Conn> {
  const { hostname, port, signal } = options;
  if (signal?.aborted) throw connectFailed(hostname, port, signal.reason);
  let ws: WebSocketLike;
  try {
    ws = new WebSocket(url);
  } catch (error) {
    throw connectFailed(hostname, port, error); // a malformed URL
  }
  ws.binaryType = "arraybuffer";
  const conn = new WebSocketConn(standardSocket(ws), {
    localAddr: { hostname: "", port: 0 },
    remoteAddr: { hostname, port },
    ...limits,
  });
  feed(ws, conn);
  const opened = deferred<void>();
  const failed = (): void => opened.reject(new Error(`WebSocket to ${url} failed to open`));
  ws.addEventListener("open", () => opened.resolve());
  ws.addEventListener("error", failed);
  ws.addEventListener("close", failed);
  try {
    await abortable(opened.promise, signal);
    return conn;
  } catch (error) {
    ws.close();
    throw connectFailed(hostname, port, error);
  }
}

/**
 * A transport whose `connect()` opens a WebSocket to
 * `ws://hostname:port/path` (`wss:` with `secure` or a `tls` option) and
 * yields it as a {@linkcode Conn}: each message received is a chunk (text
 * as UTF-8 bytes), each write one binary message (several past
 * `maxWriteBytes`). `listen()` rejects: serve
 * WebSocket with an HTTP transport. A failed connect rejects with a
 * `connect_failed` `ConnectError` (the standard API does not tell a
 * refused connection from another failure). The `Conn`'s `localAddr` is
 * `{ hostname: "", port: 0 }`: the standard API does not tell it.
 *
 * Writes resolve once `bufferedAmount` is back under 64 KiB, polled on a
 * short timer while above it (the standard API has no drain event);
 * reading cannot be paused, so a connection that holds 32 MiB unread is
 * closed. `close()` sends a normal close after what was queued.
 *
 * @example Echo over a WebSocket transport
 * ```ts
 * import { webSocketTransport } from "@kn-sock/pubsub/websocket";
 *
 * const transport = webSocketTransport({ path: "/ws" });
 * await transport.connect({ hostname: "127.0.0.1", port: 9 }).catch((error) => {
 *   console.log(error.code); // "connect_failed": nothing listens on port 9
 * });
 * ```
 *
 * @param options The path, scheme, message limit and `WebSocket` class.
 * @returns A connect-only transport.
 * @throws {TypeError} When there is no global `WebSocket` (Node 20) and no
 * `WebSocket` option, or for a bad option.
 */
export function webSocketTransport(options: WebSocketTransportOptions = {}): Transport {
  const WebSocket = options.WebSocket ?? globalWebSocket();
  const path = options.path ?? DEFAULT_PATH;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxWriteBytes = options.maxWriteBytes ?? DEFAULT_MAX_WRITE_BYTES;
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`path must start with "/", got "${path}"`);
  }
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new TypeError(`maxMessageBytes must be a positive integer, got "${maxMessageBytes}"`);
  }
  if (!Number.isSafeInteger(maxWriteBytes) || maxWriteBytes <= 0) {
    throw new TypeError(`maxWriteBytes must be a positive integer, got "${maxWriteBytes}"`);
  }
  return {
    name: "websocket",
    listen() {
      return Promise.reject(
        new TypeError("The WebSocket transport cannot listen: serve it with an HTTP transport"),
      );
    },
    async connect(connect: ConnectOptions): Promise<Conn> {
      const url = urlOf(connect, path, usesTls(connect, options.secure ?? false));
      return await open(WebSocket, url, connect, { maxMessageBytes, maxWriteBytes });
    },
  };
}
