/**
 * The Deno HTTP transport, on `Deno.serve` and `Deno.upgradeWebSocket`.
 *
 * Deno forced two things on it. After `Deno.upgradeWebSocket(req)` the
 * handler must return that upgrade response and must not throw, or Deno
 * stops accepting on the whole listener; and reading `req.headers` after
 * the upgrade throws. So every check (path, method, origin, handshake
 * headers) runs before the upgrade, which is only called on a request it
 * will accept, and nothing after it can throw. Its WebSocket is the
 * standard one: no send backpressure signal but `bufferedAmount` (polled,
 * see `_standard_ws.ts`), no way to pause reading, no abrupt close.
 *
 * @module
 */

import { invalidTlsCredentials } from "./_socket_options.ts";
import { answer, checkServeOptions, handOver, LiveConns, routeRequest } from "./_http_route.ts";
import { feed, standardSocket } from "./_standard_ws.ts";
import { WebSocketConn } from "./_ws_conn.ts";
import type {
  HttpListener,
  HttpTransport,
  ServeHttpOptions,
  WebSocketRoute,
} from "./http_types.ts";
import type { Addr } from "./types.ts";

function toAddr(addr: Deno.Addr): Addr {
  const net = addr as Deno.NetAddr;
  return { hostname: net.hostname, port: net.port };
}

/** Upgrades `request` (already checked) and wires its socket; never throws. */
function upgrade(
  request: Request,
  route: WebSocketRoute,
  live: LiveConns,
  localAddr: Addr,
  remoteAddr: Addr,
): Response {
  const info = { url: request.url, headers: new Headers(request.headers) };
  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(request);
  } catch {
    return new Response("Bad Request", { status: 400 });
  }
  const { socket, response } = upgraded;
  socket.binaryType = "arraybuffer";
  const conn = new WebSocketConn(standardSocket(socket), {
    localAddr,
    remoteAddr,
    maxMessageBytes: route.maxMessageBytes,
  });
  feed(socket, conn);
  socket.addEventListener("open", () => handOver(route, live, conn, info), { once: true });
  return response;
}

class DenoHttpListener implements HttpListener {
  readonly addr: Addr;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #stop: AbortController;
  #live: LiveConns;

  constructor(server: Deno.HttpServer<Deno.NetAddr>, stop: AbortController, live: LiveConns) {
    this.#server = server;
    this.#stop = stop;
    this.#live = live;
    this.addr = toAddr(server.addr);
  }

  async close(): Promise<void> {
    // Aborting frees the port at once, and closes upgraded WebSockets (Deno
    // cannot keep them): close ours first, so that they know.
    this.#live.closeAll();
    this.#stop.abort();
    await this.#server.finished;
  }
}

function serve(options: ServeHttpOptions): Promise<HttpListener> {
  try {
    checkServeOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const { hostname, port, tls, fetch, webSocket: route } = options;
  const stop = new AbortController();
  const live = new LiveConns();
  let localAddr: Addr = { hostname, port };
  const handler = async (request: Request, info: Deno.ServeHandlerInfo): Promise<Response> => {
    const remoteAddr = toAddr(info.remoteAddr);
    const pathname = new URL(request.url).pathname;
    const where = routeRequest(request.method, pathname, request.headers, route);
    if (where === "fetch") return await answer(fetch, request, { remoteAddr });
    if (where !== "upgrade") return where;
    return upgrade(request, route!, live, localAddr, remoteAddr);
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    const base = { hostname, port, signal: stop.signal, onListen: () => {} };
    server = tls === undefined
      ? Deno.serve(base, handler)
      : Deno.serve({ ...base, cert: tls.cert, key: tls.key }, handler);
  } catch (error) {
    // Bind failures have their own classes; the certificate's are InvalidData or plain Errors.
    if (
      tls !== undefined &&
      (error instanceof Deno.errors.InvalidData || (error as Error)?.constructor === Error)
    ) {
      return Promise.reject(invalidTlsCredentials(error));
    }
    return Promise.reject(error);
  }
  const listener = new DenoHttpListener(server, stop, live);
  localAddr = listener.addr;
  return Promise.resolve(listener);
}

/**
 * The Deno HTTP transport (`defaultHttpTransport()` picks it on Deno).
 *
 * @example
 * ```ts ignore
 * import { denoHttpTransport } from "./deno_http.ts";
 *
 * const listener = await denoHttpTransport.serve({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   fetch: () => new Response("ok"),
 * });
 * await listener.close();
 * ```
 */
export const denoHttpTransport: HttpTransport = { name: "deno-http", serve };
