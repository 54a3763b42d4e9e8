/**
 * A WebSocket front for a TCP pub/sub server, composed from public pieces
 * while the server's own WebSocket option is built: this runtime's HTTP
 * transport, whose WebSocket route hands each connection to a fresh TCP
 * connection to the server, byte for byte both ways. The client's path is
 * thus real end to end. The relay records the size of every message a
 * WebSocket client sends (the server side of the relay), and can serve
 * other requests (the demo page) with `fetch`.
 */

import { defaultTransport } from "../mod.ts";
import type { Conn } from "../mod.ts";
import { defaultHttpTransport } from "../src/transport/auto_http.ts";
import type { FetchHandler, HttpListener } from "../src/transport/http_types.ts";

/** A running relay. */
export interface Relay {
  /** The HTTP listener's port; WebSocket on `/ws`. */
  readonly port: number;
  /** The size of each message received from WebSocket clients, in order. */
  readonly messageSizes: number[];
  /** Closes the listener, its WebSocket connections and their TCP connections. */
  close(): Promise<void>;
}

/** What {@linkcode startRelay} takes. */
export interface RelayOptions {
  /** The port to listen on; `0` (the default) picks one. */
  port?: number;
  /** The largest message accepted from a client (a larger one closes it with 1009). */
  maxMessageBytes?: number;
  /** Answers the requests that are not WebSocket ones. */
  fetch?: FetchHandler;
}

/** Copies `from` to `to` until either ends, then closes both. */
async function pump(from: Conn, to: Conn, record?: (size: number) => void): Promise<void> {
  try {
    for await (const chunk of from) {
      record?.(chunk.byteLength);
      await to.write(chunk);
    }
  } catch {
    // A reset or a write to a closed end: the relay of this connection is over.
  } finally {
    from.close();
    to.close();
  }
}

/** Starts a relay on 127.0.0.1 to the TCP server on `tcpPort`. */
export async function startRelay(tcpPort: number, options: RelayOptions = {}): Promise<Relay> {
  const tcp = await defaultTransport();
  const http = await defaultHttpTransport();
  const messageSizes: number[] = [];
  const open = new Set<Conn>();
  const relay = async (ws: Conn): Promise<void> => {
    open.add(ws);
    let server: Conn;
    try {
      server = await tcp.connect({ hostname: "127.0.0.1", port: tcpPort });
    } catch {
      ws.close(); // the server is down: so is this connection
      open.delete(ws);
      return;
    }
    open.add(server);
    await Promise.all([
      pump(ws, server, (size) => messageSizes.push(size)),
      pump(server, ws),
    ]);
    open.delete(ws);
    open.delete(server);
  };
  const listener: HttpListener = await http.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    fetch: options.fetch,
    webSocket: {
      path: "/ws",
      maxMessageBytes: options.maxMessageBytes ?? 1024 * 1024,
      onConn: (conn) => void relay(conn),
    },
  });
  return {
    port: listener.addr.port,
    messageSizes,
    async close() {
      for (const conn of open) conn.close();
      await listener.close();
    },
  };
}
