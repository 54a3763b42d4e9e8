/**
 * The server's WebSocket endpoint: its options checked, and the HTTP
 * listener that upgrades WebSocket requests on one path and hands every
 * other request to the routes the server composes (`404` when none
 * answers).
 *
 * @module
 */

import { type ServerLimits, WEBSOCKET_SEND_BYTES } from "../limits.ts";
import { defaultHttpTransport } from "../transport/auto_http.ts";
import type { FetchHandler, HttpListener } from "../transport/http_types.ts";
import type { Addr, Conn, TlsListenOptions } from "../transport/types.ts";
import {
  checkHost,
  checkPort,
  type HttpRoute,
  type WebSocketServerOptions,
} from "./server_options.ts";

/** The WebSocket port when the option does not give one. */
export const DEFAULT_WEBSOCKET_PORT = 8081;
/** The WebSocket path when the option does not give one. */
export const DEFAULT_WEBSOCKET_PATH = "/ws";

/** The `webSocket` option, checked and with its defaults. */
export interface WebSocketPlan {
  readonly options: WebSocketServerOptions;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly allowedOrigins: readonly string[] | undefined;
  /** The routes for plain HTTP requests, tried in order. */
  readonly routes: readonly HttpRoute[];
}

/**
 * Checks the `webSocket` option against the server's `host` and limits.
 *
 * @throws {RangeError} For a bad port, or `maxWebSocketMessageBytes` below
 *   {@linkcode WEBSOCKET_SEND_BYTES}.
 * @throws {TypeError} For another bad option.
 */
export function planWebSocket(
  options: WebSocketServerOptions,
  serverHost: string,
  limits: ServerLimits,
): WebSocketPlan {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`webSocket must be an object, got ${String(options)}`);
  }
  const port = checkPort(options.port ?? DEFAULT_WEBSOCKET_PORT);
  const host = checkHost(options.host ?? serverHost);
  const path = options.path ?? DEFAULT_WEBSOCKET_PATH;
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`WebSocket path must start with "/", got "${String(path)}"`);
  }
  const origins = options.allowedOrigins;
  if (
    origins !== undefined &&
    (!Array.isArray(origins) || origins.some((o) => typeof o !== "string" || o === ""))
  ) {
    throw new TypeError("allowedOrigins must be an array of origins, such as https://example.com");
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw new TypeError(`webSocket.fetch must be a function, got ${typeof options.fetch}`);
  }
  if (limits.maxWebSocketMessageBytes < WEBSOCKET_SEND_BYTES) {
    throw new RangeError(
      `Limit "maxWebSocketMessageBytes" must be at least ${WEBSOCKET_SEND_BYTES}, ` +
        `got ${limits.maxWebSocketMessageBytes}`,
    );
  }
  const routes = options.fetch === undefined ? [] : [options.fetch];
  return { options, host, port, path, allowedOrigins: origins && [...origins], routes };
}

function notFound(): Response {
  return new Response("Not Found", { status: 404, headers: { "content-type": "text/plain" } });
}

/**
 * One fetch handler from `routes`: the first that answers (returns a
 * `Response`, not `null`) wins; `404` when none does.
 */
export function composeRoutes(routes: readonly HttpRoute[]): FetchHandler {
  return async (request, info) => {
    for (const route of routes) {
      const response = await route(request, info);
      if (response != null) return response;
    }
    return notFound();
  };
}

/** The URL clients connect to: `ws(s)://host:port/path`, IPv6 in brackets. */
export function webSocketUrl(addr: Addr, path: string, tls: boolean): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${tls ? "wss" : "ws"}://${host}:${addr.port}${path}`;
}

/**
 * Serves `plan` (TLS with `tls`); each WebSocket connection goes to
 * `onConn`, which must not throw.
 */
export async function serveWebSocket(
  plan: WebSocketPlan,
  settings: { tls: TlsListenOptions | undefined; limits: ServerLimits },
  onConn: (conn: Conn) => void,
): Promise<HttpListener> {
  const http = plan.options.httpTransport ?? await defaultHttpTransport();
  return await http.serve({
    hostname: plan.host,
    port: plan.port,
    tls: settings.tls,
    fetch: composeRoutes(plan.routes),
    webSocket: {
      path: plan.path,
      allowedOrigins: plan.allowedOrigins,
      maxMessageBytes: settings.limits.maxWebSocketMessageBytes,
      onConn,
    },
  });
}
