/**
 * The `node:net` transport, with `node:tls` for TLS. It also runs on Deno
 * and Bun, through their Node compatibility layers, but those runtimes pick
 * their own adapter by default.
 *
 * @example Choosing the node:net transport explicitly
 * ```ts ignore
 * import { startPubSubServer } from "@kn-sock/pubsub";
 * import { nodeTransport } from "@kn-sock/pubsub/node";
 *
 * const server = await startPubSubServer({ port: 0, transport: nodeTransport });
 * await server.close();
 * ```
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { ConnectionClosedError } from "../errors.ts";
import { connectFailed, connectionRefused } from "./_connect_errors.ts";
import { type Deferred, deferred, RESOLVED } from "../_async.ts";
import { chunkQueue, plainBytes, PushQueue } from "../_push_queue.ts";
import {
  checkTlsListenOptions,
  invalidTlsCredentials,
  KEEPALIVE_DELAY_MS,
  trustedCas,
} from "./_socket_options.ts";
import type { Addr, Conn, ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";

class NodeConn implements Conn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  #socket: net.Socket;
  #chunks: PushQueue<Uint8Array>;
  #error: unknown = undefined;
  // The pending write's reject, for close() and 'close' to call before its callback.
  #writeFailed: ((error: unknown) => void) | null = null;
  #isClosed = false;
  // Made when first asked for: a server never asks.
  #closed: Deferred<void> | null = null;

  /** `tcp` is the socket under a server-side TLS socket, whose addresses Bun does not copy. */
  constructor(socket: net.Socket, tcp: net.Socket = socket) {
    this.#socket = socket;
    // node:net ignores a socket the peer already reset; a TLSSocket passes
    // both calls to its TCP handle.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    this.localAddr = { hostname: tcp.localAddress ?? "", port: tcp.localPort ?? 0 };
    this.remoteAddr = { hostname: tcp.remoteAddress ?? "", port: tcp.remotePort ?? 0 };
    this.#chunks = chunkQueue(socket);
    socket.on("data", (chunk: Uint8Array) => this.#chunks.push(plainBytes(chunk)));
    socket.on("end", () => this.#chunks.end());
    socket.on("error", (error: Error) => {
      this.#error = error;
    });
    socket.on("close", () => {
      this.#chunks.end();
      this.#failWrite();
      this.#isClosed = true;
      this.#closed?.resolve();
    });
  }

  get closed(): Promise<void> {
    if (this.#isClosed) return RESOLVED;
    return (this.#closed ??= deferred<void>()).promise;
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) {
      return Promise.reject(
        new ConnectionClosedError("Connection is closed", { cause: this.#error }),
      );
    }
    // Settled by write()'s callback, once libuv handed every byte to the
    // kernel: only then may the caller reuse `bytes` (write() === true
    // alone does not promise that). close() and 'close' reject it first if
    // it is still pending. The callback settles the promise itself: on Node
    // 24, settling it through a closure kept on the connection made every
    // write's objects survive young collections (docs/PERFORMANCE.md, 16).
    return new Promise((resolve, reject) => {
      this.#writeFailed = reject;
      socket.write(bytes, (error) => {
        if (this.#writeFailed === reject) this.#writeFailed = null;
        if (error == null) resolve();
        else reject(new ConnectionClosedError("Connection is closed", { cause: error }));
      });
    });
  }

  closeWrite(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  close(): void {
    this.#chunks.discard();
    // A write still pending is abandoned: Node 20 calls its callback without
    // an error once the socket is destroyed, which would report it written.
    this.#failWrite();
    this.#socket.destroy();
  }

  #failWrite(): void {
    const fail = this.#writeFailed;
    this.#writeFailed = null;
    fail?.(new ConnectionClosedError("Connection is closed", { cause: this.#error }));
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#chunks[Symbol.asyncIterator]();
  }
}

class NodeListener implements Listener {
  readonly addr: Addr;
  #server: net.Server;
  #conns = new PushQueue<Conn>();

  constructor(server: net.Server, secureContext: tls.SecureContext | undefined) {
    this.#server = server;
    const address = server.address() as net.AddressInfo;
    this.addr = { hostname: address.address, port: address.port };
    server.on("connection", (socket: net.Socket) => {
      if (this.#conns.ended) {
        socket.destroy();
        return;
      }
      // TLS wraps the accepted socket rather than using tls.Server, so that
      // a connection is ours (and closed with the server) from accept on, as
      // in the other adapters; the handshake runs on the first read, and a
      // failed one is an 'error' that ends the connection.
      this.#conns.push(
        secureContext === undefined
          ? new NodeConn(socket)
          : new NodeConn(new tls.TLSSocket(socket, { isServer: true, secureContext }), socket),
      );
    });
    // Errors after listening (for example EMFILE on accept) must not crash
    // the process; the listener keeps accepting.
    server.on("error", () => {});
  }

  close(): Promise<void> {
    this.#conns.discard();
    if (!this.#server.listening) return RESOLVED;
    // server.close()'s callback waits for every accepted connection; the
    // port itself is released as soon as the listening handle closes.
    this.#server.close();
    return RESOLVED;
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.#conns[Symbol.asyncIterator]();
  }
}

function secureContextOf(options: ListenOptions): tls.SecureContext | undefined {
  if (options.tls === undefined) return undefined;
  checkTlsListenOptions(options.tls);
  try {
    return tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key });
  } catch (error) {
    throw invalidTlsCredentials(error);
  }
}

function listen(options: ListenOptions): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const secureContext = secureContextOf(options);
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    server.once("error", reject);
    server.listen({ host: options.hostname, port: options.port }, () => {
      server.off("error", reject);
      resolve(new NodeListener(server, secureContext));
    });
  });
}

/**
 * Opens the socket: plain, or TLS verified against `ca` (or the default
 * roots). `rejectUnauthorized` is set so that `NODE_TLS_REJECT_UNAUTHORIZED`
 * cannot turn verification off.
 */
function open(options: ConnectOptions): { socket: net.Socket; ready: string } {
  const { hostname: host, port } = options;
  if (options.tls === undefined) {
    return {
      socket: net.connect({ host, port, allowHalfOpen: true, noDelay: true }),
      ready: "connect",
    };
  }
  const socket = tls.connect({
    host,
    port,
    allowHalfOpen: true,
    ca: trustedCas(options.tls),
    servername: options.tls.serverName,
    rejectUnauthorized: true,
  });
  return { socket, ready: "secureConnect" };
}

function connect(options: ConnectOptions): Promise<Conn> {
  const { hostname, port, signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(connectFailed(hostname, port, signal.reason));
      return;
    }
    const { socket, ready } = open(options);
    const onAbort = (): void => {
      socket.destroy();
      reject(connectFailed(hostname, port, signal?.reason));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("error", (error: Error & { code?: string }) => {
      signal?.removeEventListener("abort", onAbort);
      reject(
        error.code === "ECONNREFUSED"
          ? connectionRefused(hostname, port, error)
          : connectFailed(hostname, port, error),
      );
    });
    socket.once(ready, () => {
      signal?.removeEventListener("abort", onAbort);
      socket.removeAllListeners("error");
      resolve(new NodeConn(socket));
    });
  });
}

/**
 * The `node:net` transport.
 *
 * @example
 * ```ts ignore
 * import { PubSubClient } from "@kn-sock/pubsub";
 * import { nodeTransport } from "@kn-sock/pubsub/node";
 *
 * const client = await PubSubClient.connect("127.0.0.1", 8080, { transport: nodeTransport });
 * await client.close();
 * ```
 */
export const nodeTransport: Transport = { name: "node", listen, connect };
