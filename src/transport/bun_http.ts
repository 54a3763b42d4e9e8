/**
 * The Bun HTTP transport, on `Bun.serve({ fetch, websocket })`.
 *
 * Bun forced this on it: the WebSocket handlers are the server's, not the
 * socket's, so each socket's state is its `data`; `server.upgrade()` takes
 * the request and the `fetch` handler then returns nothing. `ws.send()`
 * returns the bytes sent, `-1` when the message was queued (the write then
 * waits for the `drain` handler) or `0` when it was dropped past
 * `backpressureLimit` (the write rejects and the connection closes).
 * Reading pauses with `ws.pause()`. `maxPayloadLength` is set to
 * `maxMessageBytes`, so Bun itself closes with 1009 on a bigger message;
 * `terminate()` is the abrupt close (it flushes what was queued first).
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { type Deferred, handled, RESOLVED } from "../_async.ts";
import { answer, checkServeOptions, handOver, LiveConns, routeRequest } from "./_http_route.ts";
import { invalidTlsCredentials } from "./_socket_options.ts";
import { WebSocketConn, type WsSocket } from "./_ws_conn.ts";
import type { HttpListener, HttpTransport, ServeHttpOptions, WebSocketInfo } from "./http_types.ts";
import type { Addr } from "./types.ts";

/** One socket's state, kept as its `data`. */
interface SocketState {
  info: WebSocketInfo;
  remoteAddr: Addr;
  conn: WebSocketConn | null;
  drain: Deferred<void> | null;
}

type BunWs = Bun.ServerWebSocket<SocketState>;

function bunSocket(ws: BunWs): WsSocket {
  const state = ws.data;
  return {
    send(bytes) {
      const sent = ws.send(bytes);
      if (sent > 0) return RESOLVED;
      if (sent === 0) return Promise.reject(new ConnectionClosedError("Message dropped"));
      state.drain = handled<void>();
      return state.drain.promise;
    },
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
}

function settleDrain(state: SocketState, error?: unknown): void {
  const drain = state.drain;
  state.drain = null;
  if (error === undefined) drain?.resolve();
  else drain?.reject(error);
}

class BunHttpListener implements HttpListener {
  readonly addr: Addr;
  #server: Bun.Server<SocketState>;
  #live: LiveConns;
  #stopped: Promise<void> | null = null;

  constructor(server: Bun.Server<SocketState>, live: LiveConns) {
    this.#server = server;
    this.#live = live;
    this.addr = { hostname: server.hostname ?? "", port: server.port ?? 0 };
  }

  close(): Promise<void> {
    // false: requests in progress finish; the port is freed now. The
    // WebSockets are closed, as on Deno (which cannot keep them).
    this.#live.closeAll();
    this.#stopped ??= Promise.resolve(this.#server.stop(false)).then(() => {});
    return this.#stopped;
  }
}

function serve(options: ServeHttpOptions): Promise<HttpListener> {
  try {
    checkServeOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const { hostname, port, tls, fetch, webSocket: route } = options;
  let localAddr: Addr = { hostname, port };
  const live = new LiveConns();
  const websocket: Bun.WebSocketHandler<SocketState> = {
    maxPayloadLength: route?.maxMessageBytes,
    open(ws) {
      ws.binaryType = "uint8array";
      const conn = new WebSocketConn(bunSocket(ws), {
        localAddr,
        remoteAddr: ws.data.remoteAddr,
        maxMessageBytes: route!.maxMessageBytes,
      });
      ws.data.conn = conn;
      handOver(route!, live, conn, ws.data.info);
    },
    message(ws, message) {
      ws.data.conn?.receive(message as Uint8Array | string);
    },
    drain(ws) {
      settleDrain(ws.data);
    },
    close(ws) {
      settleDrain(ws.data, new ConnectionClosedError());
      ws.data.conn?.onClose();
    },
  };
  try {
    const server = Bun.serve<SocketState>({
      hostname,
      port,
      tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
      async fetch(request, server) {
        const ip = server.requestIP(request);
        const remoteAddr: Addr = { hostname: ip?.address ?? "", port: ip?.port ?? 0 };
        const pathname = new URL(request.url).pathname;
        const where = routeRequest(request.method, pathname, request.headers, route);
        if (where === "fetch") return await answer(fetch, request, { remoteAddr });
        if (where !== "upgrade") return where;
        const info = { url: request.url, headers: new Headers(request.headers) };
        const data: SocketState = { info, remoteAddr, conn: null, drain: null };
        if (server.upgrade(request, { data })) return undefined;
        return new Response("Bad Request", { status: 400 });
      },
      websocket,
    });
    const listener = new BunHttpListener(server, live);
    localAddr = listener.addr;
    return Promise.resolve(listener);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === "string" && code.startsWith("ERR_OSSL")) {
      return Promise.reject(invalidTlsCredentials(error));
    }
    return Promise.reject(error);
  }
}

/**
 * The Bun HTTP transport (`defaultHttpTransport()` picks it on Bun).
 *
 * @example
 * ```ts ignore
 * import { bunHttpTransport } from "./bun_http.ts";
 *
 * const listener = await bunHttpTransport.serve({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   fetch: () => new Response("ok"),
 * });
 * await listener.close();
 * ```
 */
export const bunHttpTransport: HttpTransport = { name: "bun-http", serve };
