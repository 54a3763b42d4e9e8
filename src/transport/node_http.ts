/**
 * The Node HTTP transport, on `node:http` (`node:https` for TLS) and, for
 * WebSocket, the `ws` package, loaded only when a WebSocket route is asked
 * for (install it: `npm install ws`).
 *
 * Node forced this on it: requests are converted to web `Request`s and
 * `Response`s streamed back by hand (a client that goes away aborts the
 * request's `signal`); an upgrade request never reaches the `request`
 * event, so the same routing runs in the `upgrade` event, which answers a
 * refusal (or a fetch response, buffered) on the raw socket. `ws` gives a
 * real send signal (the `send()` callback, once the bytes are handed to
 * the socket), `pause()`/`resume()` for reading, `maxPayload` (it closes
 * with 1009 itself) and `terminate()` for the abrupt close.
 *
 * @module
 */

import * as http from "node:http";
import * as https from "node:https";
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import type { WebSocket as WsWebSocket, WebSocketServer } from "ws";
import { plainBytes } from "../_push_queue.ts";
import {
  answer,
  checkServeOptions,
  handOver,
  type HeaderSource,
  LiveConns,
  routeRequest,
} from "./_http_route.ts";
import { invalidTlsCredentials } from "./_socket_options.ts";
import { WebSocketConn, type WsSocket } from "./_ws_conn.ts";
import type {
  FetchHandler,
  HttpListener,
  HttpTransport,
  ServeHttpOptions,
  WebSocketRoute,
} from "./http_types.ts";
import type { Addr } from "./types.ts";

type WsModule = typeof import("ws");

/** Loads `ws`, or throws an error that names the missing package. */
async function loadWs(): Promise<WsModule> {
  try {
    return await import("ws");
  } catch (error) {
    throw new Error(
      'WebSocket on Node needs the "ws" package: install it with "npm install ws"',
      { cause: error },
    );
  }
}

function headerSource(request: http.IncomingMessage): HeaderSource {
  return {
    get(name) {
      const value = request.headers[name];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

function remoteOf(socket: { remoteAddress?: string; remotePort?: number }): Addr {
  return { hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
}

function toHeaders(request: http.IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

function toRequest(request: http.IncomingMessage, base: string, signal?: AbortSignal): Request {
  const headers = toHeaders(request);
  const method = request.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method, headers, signal };
  if (hasBody) {
    init.body = Readable.toWeb(request) as unknown as ReadableStream<Uint8Array>;
    init.duplex = "half";
  }
  return new Request(new URL(request.url ?? "/", base), init);
}

/** Streams `response` to `res`, waiting for `drain` when Node asks to. */
async function send(response: Response, res: http.ServerResponse, head: boolean): Promise<void> {
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  res.writeHead(response.status, response.statusText || undefined, headers.flat());
  if (response.body === null || head) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    while (!res.destroyed) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off("drain", go);
            res.off("close", go);
            resolve();
          };
          res.on("drain", go);
          res.on("close", go);
        });
      }
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Answers a request that is not an upgrade (on the WebSocket path: a refusal). */
async function respond(
  request: http.IncomingMessage,
  res: http.ServerResponse,
  route: WebSocketRoute | undefined,
  fetch: FetchHandler | undefined,
  base: string,
): Promise<void> {
  const url = new URL(request.url ?? "/", base);
  const where = routeRequest(request.method ?? "GET", url.pathname, headerSource(request), route);
  const aborted = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) aborted.abort();
  });
  const response = where === "fetch"
    ? await answer(fetch, toRequest(request, base, aborted.signal), {
      remoteAddr: remoteOf(request.socket),
    })
    : where === "upgrade"
    ? new Response("Bad Request", { status: 400 }) // an upgrade the upgrade event did not get
    : where;
  await send(response, res, request.method === "HEAD");
}

/** Writes `response` (its body buffered) on a raw socket and ends it. */
async function sendRaw(response: Response, socket: Duplex): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  const lines = [
    `HTTP/1.1 ${response.status} ${
      response.statusText || http.STATUS_CODES[response.status] || ""
    }`,
  ];
  response.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  lines.push(`content-length: ${body.byteLength}`, "connection: close", "", "");
  socket.write(lines.join("\r\n"));
  socket.end(body);
}

function wsSocket(ws: WsWebSocket): WsSocket {
  return {
    send: (bytes) =>
      new Promise((resolve, reject) => {
        ws.send(bytes, { binary: true }, (error) => error == null ? resolve() : reject(error));
      }),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  };
}

/** The `upgrade` event's handler: the same routing as requests, then `ws`. */
function upgrader(
  wss: WebSocketServer,
  route: WebSocketRoute,
  fetch: FetchHandler | undefined,
  base: () => string,
  live: LiveConns,
  localAddr: () => Addr,
): (request: http.IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (request, socket, head) => {
    socket.on("error", () => socket.destroy());
    const remoteAddr = remoteOf(request.socket);
    let url: URL;
    let where: ReturnType<typeof routeRequest>;
    try {
      url = new URL(request.url ?? "/", base());
      where = routeRequest(request.method ?? "GET", url.pathname, headerSource(request), route);
      if (where === "fetch") {
        answer(fetch, toRequest(request, base()), { remoteAddr })
          .then((response) => sendRaw(response, socket))
          .catch(() => socket.destroy());
        return;
      }
    } catch {
      socket.destroy(); // a request too broken to route
      return;
    }
    if (where !== "upgrade") {
      sendRaw(where, socket).catch(() => socket.destroy());
      return;
    }
    const info = { url: url.href, headers: toHeaders(request) };
    wss.handleUpgrade(request, socket, head, (ws) => {
      const conn = new WebSocketConn(wsSocket(ws), {
        localAddr: localAddr(),
        remoteAddr,
        maxMessageBytes: route.maxMessageBytes,
      });
      ws.on("message", (data: Uint8Array) => conn.receive(plainBytes(data)));
      ws.on("close", () => conn.onClose());
      ws.on("error", () => {}); // a 'close' follows every error
      handOver(route, live, conn, info);
    });
  };
}

class NodeHttpListener implements HttpListener {
  readonly addr: Addr;
  #server: http.Server;
  #live: LiveConns;
  #closing: Promise<void> | null = null;

  constructor(server: http.Server, live: LiveConns) {
    this.#server = server;
    this.#live = live;
    const address = server.address() as { address: string; port: number };
    this.addr = { hostname: address.address, port: address.port };
  }

  close(): Promise<void> {
    // close() frees the port at once (its callback would wait for every
    // connection, upgraded ones included); idle keep-alive ones are closed.
    // The WebSockets are closed, as on Deno (which cannot keep them).
    this.#live.closeAll();
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close();
      this.#server.closeIdleConnections();
      resolve();
    });
    return this.#closing;
  }
}

function createServer(options: ServeHttpOptions): http.Server {
  if (options.tls === undefined) return http.createServer();
  try {
    return https.createServer({ cert: options.tls.cert, key: options.tls.key });
  } catch (error) {
    throw invalidTlsCredentials(error);
  }
}

async function serve(options: ServeHttpOptions): Promise<HttpListener> {
  checkServeOptions(options);
  const { hostname, port, fetch, webSocket: route } = options;
  const ws = route === undefined ? undefined : await loadWs();
  const server = createServer(options);
  const scheme = options.tls === undefined ? "http" : "https";
  const bound: { addr: Addr } = { addr: { hostname, port } };
  const live = new LiveConns();
  const base = (): string => `${scheme}://${hostname}:${bound.addr.port}`;
  server.on("request", (request: http.IncomingMessage, res: http.ServerResponse) => {
    respond(request, res, route, fetch, base()).catch(() => res.destroy());
  });
  if (ws !== undefined && route !== undefined) {
    const wss = new ws.WebSocketServer({
      noServer: true,
      maxPayload: route.maxMessageBytes,
      perMessageDeflate: false,
    });
    server.on("upgrade", upgrader(wss, route, fetch, base, live, () => bound.addr));
  }
  // Errors after listening (a client reset mid-request) must not crash the process.
  server.on("clientError", (_error: Error, socket: Duplex) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: hostname, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", () => {});
  const listener = new NodeHttpListener(server, live);
  bound.addr = listener.addr;
  return listener;
}

/**
 * The Node HTTP transport (`defaultHttpTransport()` picks it on Node).
 *
 * @example
 * ```ts ignore
 * import { nodeHttpTransport } from "./node_http.ts";
 *
 * const listener = await nodeHttpTransport.serve({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   fetch: () => new Response("ok"),
 * });
 * await listener.close();
 * ```
 */
export const nodeHttpTransport: HttpTransport = { name: "node-http", serve };
