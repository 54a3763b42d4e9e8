/**
 * The HTTP seam beside the TCP one: serve HTTP on one listener, with
 * WebSocket upgrade on one path. Requests are web-standard `Request`s
 * answered by a `(Request) => Response` handler, so routes (monitoring,
 * health) are written once for every runtime; a WebSocket connection is
 * handed over as a {@linkcode Conn}, the same interface a TCP connection
 * has. Adapters: Deno's `serve` (`deno_http.ts`), Bun's `serve`
 * (`bun_http.ts`), `node:http` with the `ws` package (`node_http.ts`).
 *
 * @module
 */

import type { Addr, Conn, TlsListenOptions } from "./types.ts";

/** What a {@linkcode FetchHandler} learns besides the request. */
export interface HttpRequestInfo {
  /** The address of the client (or of the proxy in front of it). */
  readonly remoteAddr: Addr;
}

/**
 * Answers one HTTP request that is not a WebSocket upgrade on the
 * WebSocket path. A handler that throws (or rejects) is answered with
 * `500`.
 *
 * @example A health route, and 404 for the rest
 * ```ts
 * import type { FetchHandler } from "@kn-sock/pubsub/http";
 *
 * const fetch: FetchHandler = (request) =>
 *   new URL(request.url).pathname === "/healthz"
 *     ? new Response("ok")
 *     : new Response("Not Found", { status: 404 });
 * ```
 */
export type FetchHandler = (
  request: Request,
  info: HttpRequestInfo,
) => Response | Promise<Response>;

/** What {@linkcode WebSocketRoute.onConn} learns about an accepted WebSocket. */
export interface WebSocketInfo {
  /** The URL the client asked for (its query string included). */
  readonly url: string;
  /** The request's headers, copied before the upgrade. */
  readonly headers: Headers;
}

/**
 * WebSocket upgrade on one path of an HTTP listener. A GET with
 * `Upgrade: websocket` to `path` is upgraded; any other request to `path`
 * gets `426 Upgrade Required` (`405` for another method, `400` for a
 * malformed handshake). Requests without an `Origin` header (non-browser
 * clients) are accepted; with `allowedOrigins`, a request whose `Origin`
 * is not in the list gets `403` before any upgrade. Compression is never
 * negotiated.
 *
 * Each connection is a {@linkcode Conn}: a received message (binary, or
 * text as its UTF-8 bytes) is one chunk, whatever lines it holds; each
 * `write()` is one binary message. A message larger than
 * `maxMessageBytes` closes the connection with code 1009.
 *
 * @example Accepting WebSocket connections on /ws
 * ```ts
 * import type { WebSocketRoute } from "@kn-sock/pubsub/http";
 *
 * const webSocket: WebSocketRoute = {
 *   path: "/ws",
 *   allowedOrigins: ["https://app.example.com"],
 *   maxMessageBytes: 1024 * 1024,
 *   onConn(conn) {
 *     conn.close();
 *   },
 * };
 * ```
 */
export interface WebSocketRoute {
  /** The path to upgrade, for example `"/ws"`; it must start with `/`. */
  path: string;
  /**
   * The `Origin` values to accept, exactly as browsers send them (for
   * example `"https://app.example.com"`). Absent: every origin.
   */
  allowedOrigins?: readonly string[];
  /** The largest message accepted, in bytes; a larger one closes with 1009. */
  maxMessageBytes: number;
  /**
   * Called once per connection, when it is open. It must not throw (a
   * throw is ignored); the connection belongs to it from then on.
   */
  onConn(conn: Conn, info: WebSocketInfo): void;
}

/** What {@linkcode HttpTransport.serve} takes. */
export interface ServeHttpOptions {
  /** The address to bind, for example `"127.0.0.1"`. */
  hostname: string;
  /** The port to bind; `0` picks a free one. */
  port: number;
  /** Serve HTTPS (and `wss:`) with this certificate. */
  tls?: TlsListenOptions;
  /** Answers the requests that are not WebSocket ones. Default: `404` for all. */
  fetch?: FetchHandler;
  /** Accept WebSocket connections on one path. Absent: plain HTTP. */
  webSocket?: WebSocketRoute;
}

/**
 * A listening HTTP server. `close()` is idempotent, frees the port, lets
 * plain requests in progress finish, and closes (abruptly) the WebSocket
 * connections it handed to `onConn` that are still open: Deno's `serve`
 * cannot stop without closing them, so every adapter does the same. To say
 * goodbye on them, do it before closing the listener.
 */
export interface HttpListener {
  /** The bound address, with the real port when `0` was asked for. */
  readonly addr: Addr;
  /** Stops listening; resolves once the port is free. */
  close(): Promise<void>;
}

/**
 * A way to serve HTTP with WebSocket upgrade: one per runtime. Pick the
 * current runtime's with `defaultHttpTransport()`.
 *
 * @example Serving a route and WebSocket connections on one port
 * ```ts
 * import { defaultHttpTransport } from "@kn-sock/pubsub/http";
 *
 * const http = await defaultHttpTransport();
 * const listener = await http.serve({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   fetch: () => new Response("ok"),
 *   webSocket: { path: "/ws", maxMessageBytes: 1024 * 1024, onConn: (conn) => conn.close() },
 * });
 * await listener.close();
 * ```
 */
export interface HttpTransport {
  /** A short name for logs, for example `"deno-http"`. */
  readonly name: string;
  /**
   * Starts serving. Rejects if the address cannot be bound, and with a
   * `TypeError` for a bad option (a path without a leading `/`, a limit
   * that is not a positive integer, unusable TLS credentials).
   */
  serve(options: ServeHttpOptions): Promise<HttpListener>;
}
