/**
 * Helpers for the WebSocket tests: a server on this runtime's HTTP
 * transport that queues the connections it accepts, the WebSocket clients
 * this runtime has, and raw HTTP over TCP (to send what browsers never
 * would: any Origin, a broken handshake).
 */

export { readAll } from "./byte_streams.ts";
import { detectRuntime } from "../mod.ts";
import type { Conn, Transport } from "../mod.ts";
import { PushQueue } from "../src/_push_queue.ts";
import { defaultHttpTransport } from "../src/transport/auto_http.ts";
import type { FetchHandler, HttpListener, WebSocketRoute } from "../src/transport/http_types.ts";
import { nodeTransport } from "../src/transport/node.ts";
import { type WebSocketConstructor, webSocketTransport } from "../src/transport/websocket.ts";

/** A named WebSocket client: the constructor, and a transport over it. */
export interface ClientCase {
  name: string;
  WebSocket: WebSocketConstructor;
  transport(options?: { maxMessageBytes?: number }): Transport;
}

/** The global `WebSocket` where there is one, and on Node the `ws` package's too. */
export async function clientCases(): Promise<ClientCase[]> {
  const cases: ClientCase[] = [];
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof global === "function") {
    cases.push({
      name: "global WebSocket",
      WebSocket: global,
      transport: (options) => webSocketTransport({ ...options }),
    });
  }
  if (detectRuntime() === "node") {
    const ws = (await import("ws")).WebSocket as unknown as WebSocketConstructor;
    cases.push({
      name: "ws",
      WebSocket: ws,
      transport: (options) => webSocketTransport({ ...options, WebSocket: ws }),
    });
  }
  return cases;
}

/** A listening server and what it accepted; `close()` closes all of it. */
export interface WsServer {
  listener: HttpListener;
  /** The connections accepted, in order. */
  conns: PushQueue<Conn>;
  /** The next accepted connection. */
  accept(): Promise<Conn>;
  close(): Promise<void>;
}

/** Serves on 127.0.0.1, port 0, with a WebSocket route on `/ws`. */
export async function serveWs(
  route: Partial<WebSocketRoute> = {},
  fetch?: FetchHandler,
): Promise<WsServer> {
  const http = await defaultHttpTransport();
  const conns = new PushQueue<Conn>();
  const all: Conn[] = [];
  const listener = await http.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch,
    webSocket: {
      path: "/ws",
      maxMessageBytes: 1024 * 1024,
      onConn(conn) {
        all.push(conn);
        conns.push(conn);
      },
      ...route,
    },
  });
  const iterator = conns[Symbol.asyncIterator]();
  return {
    listener,
    conns,
    async accept() {
      const next = await iterator.next();
      if (next.done) throw new Error("The server was closed");
      return next.value;
    },
    async close() {
      for (const conn of all) conn.close();
      conns.discard();
      await listener.close();
    },
  };
}

/**
 * Runs `body` with a server and a client connected over `client`, then
 * closes everything, even when `body` fails.
 */
export async function withWsPair(
  client: ClientCase,
  body: (pair: { server: Conn; client: Conn; ws: WsServer }) => Promise<void>,
  options: { clientMaxMessageBytes?: number; route?: Partial<WebSocketRoute> } = {},
): Promise<void> {
  const ws = await serveWs(options.route);
  let conn: Conn | undefined;
  try {
    const transport = client.transport({ maxMessageBytes: options.clientMaxMessageBytes });
    conn = await transport.connect({ hostname: "127.0.0.1", port: ws.listener.addr.port });
    const server = await ws.accept();
    await body({ server, client: conn, ws });
  } finally {
    conn?.close();
    await ws.close();
  }
}

const encoder = new TextEncoder();

/** A valid `Sec-WebSocket-Key`. */
export const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Whether `text` holds a whole response: its head, then its body by length or chunks. */
function complete(text: string): boolean {
  const split = text.indexOf("\r\n\r\n");
  if (split === -1) return false;
  const head = text.slice(0, split).toLowerCase();
  const body = text.slice(split + 4);
  if (head.startsWith("http/1.1 101")) return true;
  const length = /\r\ncontent-length: *(\d+)/.exec(head);
  if (length !== null) return encoder.encode(body).byteLength >= Number(length[1]);
  if (head.includes("transfer-encoding: chunked")) return body.endsWith("0\r\n\r\n");
  return false; // read to the end of the stream
}

/**
 * Sends `head` (request line and headers, without the blank line) over
 * TCP (or `transport`) and returns the response's status code and raw
 * text, read until the response is whole (for a `101`, its head).
 */
export async function rawHttp(
  port: number,
  head: string,
  transport: Transport = nodeTransport,
): Promise<{ status: number; text: string }> {
  const conn = await transport.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(`${head}\r\nHost: 127.0.0.1\r\n\r\n`));
    const decoder = new TextDecoder(); // its own: a 101's frames may end mid-character
    let text = "";
    for await (const chunk of conn) {
      text += decoder.decode(chunk, { stream: true });
      if (complete(text)) break;
    }
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    return { status, text };
  } finally {
    conn.close();
  }
}

/** An upgrade request to `/ws`, with `extra` header lines. */
export function upgradeRequest(...extra: string[]): string {
  return [
    "GET /ws HTTP/1.1",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${KEY}`,
    "Sec-WebSocket-Version: 13",
    ...extra,
  ].join("\r\n");
}

/** What a transport case cannot do, so the conformance suite skips those tests. */
export type Lack = "half-close" | "local-address" | "refused-code" | "keeps-conns";

/**
 * WebSocket as a `Transport` for the conformance suite: `listen` serves
 * this runtime's HTTP transport with a route on `/ws`, `connect` is
 * `webSocketTransport()` over one client. It cannot half-close (a close
 * frame ends both directions), the standard API tells neither the local
 * address nor a refused connection, and a listener's close closes its
 * WebSocket connections.
 */
export async function webSocketCases(): Promise<
  { name: string; make(): Transport; lacks: readonly Lack[] }[]
> {
  const http = await defaultHttpTransport();
  const maxMessageBytes = 64 * 1024 * 1024;
  return (await clientCases()).map((client) => ({
    name: `websocket (${client.name})`,
    lacks: ["half-close", "local-address", "refused-code", "keeps-conns"],
    make: (): Transport => ({
      name: "websocket",
      async listen(options) {
        const conns = new PushQueue<Conn>();
        const listener = await http.serve({
          hostname: options.hostname,
          port: options.port,
          webSocket: {
            path: "/ws",
            maxMessageBytes,
            onConn: (conn) => conns.ended ? conn.close() : conns.push(conn),
          },
        });
        return {
          addr: listener.addr,
          async close() {
            conns.discard();
            await listener.close();
          },
          [Symbol.asyncIterator]: () => conns[Symbol.asyncIterator](),
        };
      },
      connect: (options) => client.transport({ maxMessageBytes }).connect(options),
    }),
  }));
}
