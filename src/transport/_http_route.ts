/**
 * What every HTTP adapter decides the same way, written once: the checks of
 * the serve options, and whether a request is a WebSocket upgrade, goes to
 * the fetch handler, or is refused (with which status).
 *
 * @module
 */

import { checkTlsListenOptions } from "./_socket_options.ts";
import type {
  FetchHandler,
  HttpRequestInfo,
  ServeHttpOptions,
  WebSocketInfo,
  WebSocketRoute,
} from "./http_types.ts";
import type { Conn } from "./types.ts";

/** The headers of a request, however the runtime holds them. */
export interface HeaderSource {
  /** The header's value, or `null` when absent. */
  get(name: string): string | null;
}

/** Throws a `TypeError` for a bad option, before anything is bound. */
export function checkServeOptions(options: ServeHttpOptions): void {
  if (options.tls !== undefined) checkTlsListenOptions(options.tls);
  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw new TypeError(`fetch must be a function, got ${typeof options.fetch}`);
  }
  const route = options.webSocket;
  if (route === undefined) return;
  if (typeof route.path !== "string" || !route.path.startsWith("/")) {
    throw new TypeError(`WebSocket path must start with "/", got "${route.path}"`);
  }
  if (!Number.isSafeInteger(route.maxMessageBytes) || route.maxMessageBytes <= 0) {
    throw new TypeError(
      `maxMessageBytes must be a positive integer, got "${route.maxMessageBytes}"`,
    );
  }
  if (route.allowedOrigins !== undefined && !Array.isArray(route.allowedOrigins)) {
    throw new TypeError("allowedOrigins must be an array of origins");
  }
  if (typeof route.onConn !== "function") {
    throw new TypeError(`onConn must be a function, got ${typeof route.onConn}`);
  }
}

function refuse(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain", ...headers } });
}

function hasToken(value: string | null, token: string): boolean {
  return value !== null && value.toLowerCase().split(",").some((t) => t.trim() === token);
}

/**
 * Where a request goes: `"fetch"` (not the WebSocket path), `"upgrade"`
 * (a valid handshake from an allowed origin), or the refusal to send.
 * Reads the headers only here, before any upgrade: Deno forbids reading
 * them afterwards.
 */
export function routeRequest(
  method: string,
  pathname: string,
  headers: HeaderSource,
  route: WebSocketRoute | undefined,
): "fetch" | "upgrade" | Response {
  if (route === undefined || pathname !== route.path) return "fetch";
  if (!hasToken(headers.get("upgrade"), "websocket")) {
    return refuse(426, "Upgrade Required", { upgrade: "websocket", connection: "Upgrade" });
  }
  if (method !== "GET") return refuse(405, "Method Not Allowed", { allow: "GET" });
  const origin = headers.get("origin");
  if (origin !== null && route.allowedOrigins !== undefined) {
    if (!route.allowedOrigins.includes(origin)) return refuse(403, "Forbidden");
  }
  const key = headers.get("sec-websocket-key");
  if (
    !hasToken(headers.get("connection"), "upgrade") || key === null ||
    !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())
  ) {
    return refuse(400, "Bad Request");
  }
  if (headers.get("sec-websocket-version")?.trim() !== "13") {
    return refuse(426, "Upgrade Required", { "sec-websocket-version": "13" });
  }
  return "upgrade";
}

/** The default fetch handler: `404` for everything. */
function notFound(): Response {
  return refuse(404, "Not Found");
}

/** Calls the fetch handler (or the default one); a throw or rejection becomes `500`. */
export async function answer(
  fetch: FetchHandler | undefined,
  request: Request,
  info: HttpRequestInfo,
): Promise<Response> {
  try {
    return await (fetch ?? notFound)(request, info);
  } catch {
    return refuse(500, "Internal Server Error");
  }
}

/**
 * The WebSocket connections a listener handed out and that are still
 * open: its `close()` closes them (Deno's `serve` cannot stop without closing
 * them, so every adapter does the same).
 */
export class LiveConns {
  #conns = new Set<Conn>();

  /** Keeps `conn` until it closes. */
  add(conn: Conn): void {
    this.#conns.add(conn);
    conn.closed.then(() => this.#conns.delete(conn));
  }

  /** Closes every connection still open. */
  closeAll(): void {
    for (const conn of this.#conns) conn.close();
    this.#conns.clear();
  }
}

/**
 * Hands `conn` to `onConn`, keeping it in `live`. A throw closes the
 * connection and goes no further: on Deno, a throw after the upgrade would
 * stop the listener.
 */
export function handOver(
  route: WebSocketRoute,
  live: LiveConns,
  conn: Conn,
  info: WebSocketInfo,
): void {
  live.add(conn);
  try {
    route.onConn(conn, info);
  } catch {
    // Documented: onConn must not throw. The connection it failed to take is closed.
    conn.close();
  }
}
