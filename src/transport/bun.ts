/**
 * The Bun transport, on `Bun.listen` and `Bun.connect` (not Bun's
 * `node:net` layer), with their `tls` option for TLS. Bun's
 * `socket.write()` returns how many bytes it took; the rest is written from
 * the `drain` handler.
 *
 * @example Choosing the Bun transport explicitly
 * ```ts ignore
 * import { startPubSubServer } from "@kn-sock/pubsub";
 * import { bunTransport } from "@kn-sock/pubsub/bun";
 *
 * const server = await startPubSubServer({ port: 0, transport: bunTransport });
 * await server.close();
 * ```
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { type Deferred, deferred, RESOLVED } from "../_async.ts";
import { connectFailed, connectionRefused } from "./_connect_errors.ts";
import { chunkQueue, plainBytes, PushQueue } from "../_push_queue.ts";
import {
  checkTlsListenOptions,
  handshakeFailed,
  invalidTlsCredentials,
  KEEPALIVE_DELAY_MS,
  trustedCas,
} from "./_socket_options.ts";
import type { Addr, Conn, ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";

type BunSocket = Bun.Socket<BunConn | undefined>;

class BunConn implements Conn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  #socket: BunSocket;
  #chunks: PushQueue<Uint8Array>;
  #isClosed = false;
  #writeClosed = false;
  // Made when first asked for: a server never asks.
  #closed: Deferred<void> | null = null;
  #pending: Uint8Array | null = null;
  #writeDone: ((error?: unknown) => void) | null = null;
  #error: unknown = undefined;

  constructor(socket: BunSocket) {
    this.#socket = socket;
    // false when the peer is already gone: the first read or write says so.
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    this.localAddr = { hostname: socket.localAddress, port: socket.localPort };
    this.remoteAddr = { hostname: socket.remoteAddress, port: socket.remotePort };
    this.#chunks = chunkQueue(socket);
  }

  get closed(): Promise<void> {
    if (this.#isClosed) return RESOLVED;
    return (this.#closed ??= deferred<void>()).promise;
  }

  onData(chunk: Uint8Array): void {
    this.#chunks.push(plainBytes(chunk));
  }

  onEnd(): void {
    this.#chunks.end();
  }

  onError(error: unknown): void {
    this.#error = error;
  }

  onDrain(): void {
    const pending = this.#pending;
    if (pending === null) return;
    const written = this.#socket.write(pending);
    if (written < 0) {
      this.#settleWrite(new ConnectionClosedError("Connection is closed", { cause: this.#error }));
    } else if (written === pending.byteLength) {
      this.#settleWrite();
    } else {
      this.#pending = pending.subarray(written);
    }
  }

  onClose(error?: unknown): void {
    if (error !== undefined) this.#error ??= error;
    this.#markClosed();
  }

  #markClosed(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#chunks.end();
    this.#settleWrite(new ConnectionClosedError("Connection is closed", { cause: this.#error }));
    this.#closed?.resolve();
  }

  #settleWrite(error?: unknown): void {
    const done = this.#writeDone;
    this.#pending = null;
    this.#writeDone = null;
    done?.(error);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#isClosed || this.#writeClosed) {
      return Promise.reject(
        new ConnectionClosedError("Connection is closed", { cause: this.#error }),
      );
    }
    const written = this.#socket.write(bytes);
    if (written === bytes.byteLength) return RESOLVED;
    if (written < 0) {
      this.close();
      return Promise.reject(
        new ConnectionClosedError("Connection is closed", { cause: this.#error }),
      );
    }
    this.#pending = bytes.subarray(written);
    return new Promise((resolve, reject) => {
      this.#writeDone = (error) => error === undefined ? resolve() : reject(error);
    });
  }

  closeWrite(): void {
    if (this.#isClosed || this.#writeClosed) return;
    this.#writeClosed = true;
    this.#socket.shutdown();
  }

  close(): void {
    if (this.#isClosed) return;
    this.#chunks.discard();
    // close() (end + shutdown), not terminate(): terminate() sets SO_LINGER 0
    // and resets the connection, dropping bytes already handed to the OS.
    this.#socket.close();
    this.#markClosed();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#chunks[Symbol.asyncIterator]();
  }
}

/**
 * The socket callbacks shared by every Bun socket; each socket's state is
 * its `data`. `onOpen` gets each connection once TCP connected; with a
 * `handshake` handler (which `listen` and `connect` add for TLS), Bun calls
 * `open` before the TLS handshake too.
 */
function handlers(
  onOpen: (conn: BunConn) => void,
): Bun.SocketHandler<BunConn | undefined> {
  return {
    open(socket) {
      const conn = new BunConn(socket);
      socket.data = conn;
      onOpen(conn);
    },
    data(socket, chunk) {
      socket.data?.onData(chunk);
    },
    drain(socket) {
      socket.data?.onDrain();
    },
    end(socket) {
      socket.data?.onEnd();
    },
    error(socket, error) {
      socket.data?.onError(error);
    },
    close(socket, error) {
      socket.data?.onClose(error);
    },
  };
}

class BunListener implements Listener {
  readonly addr: Addr;
  #server: Bun.TCPSocketListener<BunConn | undefined>;
  #conns: PushQueue<Conn>;

  constructor(server: Bun.TCPSocketListener<BunConn | undefined>, conns: PushQueue<Conn>) {
    this.#server = server;
    this.#conns = conns;
    this.addr = { hostname: server.hostname, port: server.port };
  }

  close(): Promise<void> {
    if (!this.#conns.ended) {
      this.#conns.discard();
      // false: connections already accepted stay open; only the port is released.
      this.#server.stop(false);
    }
    return RESOLVED;
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.#conns[Symbol.asyncIterator]();
  }
}

function listen(options: ListenOptions): Promise<Listener> {
  const { hostname, port, tls } = options;
  const conns = new PushQueue<Conn>();
  const socket = handlers((conn) => {
    if (conns.ended) conn.close();
    else conns.push(conn);
  });
  if (tls !== undefined) {
    // With a handshake handler Bun opens (and we yield) each connection at
    // accept, as the other adapters do; a failed handshake closes it.
    socket.handshake = (handshaking, success, error) => {
      if (!success) handshaking.data?.onError(error ?? handshakeFailed());
    };
  }
  try {
    if (tls !== undefined) checkTlsListenOptions(tls);
    const server = Bun.listen<BunConn | undefined>({
      hostname,
      port,
      data: undefined,
      socket,
      tls: tls === undefined ? undefined : { cert: tls.cert, key: tls.key },
    });
    return Promise.resolve(new BunListener(server, conns));
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === "string" && code.startsWith("ERR_OSSL")) {
      return Promise.reject(invalidTlsCredentials(error));
    }
    return Promise.reject(error);
  }
}

/**
 * Bun's `tls` option for a client: `rejectUnauthorized` is set so that
 * `NODE_TLS_REJECT_UNAUTHORIZED` cannot turn verification off.
 */
function clientTls(options: ConnectOptions): Bun.TLSOptions | undefined {
  const { tls } = options;
  if (tls === undefined) return undefined;
  return { ca: trustedCas(tls), serverName: tls.serverName, rejectUnauthorized: true };
}

/** The client's callbacks: `opened` settles once connected, or for TLS once verified. */
function connectHandlers(
  opened: Deferred<BunConn>,
  tls: boolean,
): Bun.SocketHandler<BunConn | undefined> {
  const socket = handlers(tls ? () => {} : opened.resolve);
  const close = socket.close!;
  socket.connectError = (_socket, error) => opened.reject(error);
  socket.close = (closing, error) => {
    // A no-op once opened; otherwise the connection ended while connecting.
    opened.reject(error ?? new ConnectionClosedError("Connection closed while connecting"));
    return close(closing, error);
  };
  if (tls) {
    // Without a handshake handler, Bun opens a TLS client whose verification
    // fails and then closes it without an error; with it, the failure is ours.
    socket.handshake = (handshaking, success, error) => {
      if (success && handshaking.data !== undefined) {
        opened.resolve(handshaking.data);
      } else {
        opened.reject(error ?? handshakeFailed());
        handshaking.terminate();
      }
    };
  }
  return socket;
}

async function connect(options: ConnectOptions): Promise<Conn> {
  const { hostname, port, signal } = options;
  const tls = clientTls(options); // a TypeError before any connection
  if (signal?.aborted) throw connectFailed(hostname, port, signal.reason);
  const opened = deferred<BunConn>();
  const attempt = Bun.connect<BunConn | undefined>({
    hostname,
    port,
    data: undefined,
    socket: connectHandlers(opened, tls !== undefined),
    tls,
  });
  attempt.catch(opened.reject);
  const onAbort = (): void => opened.reject(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    return await opened.promise;
  } catch (error) {
    // A connection that completes after an abort is closed, not leaked.
    attempt.then((socket) => socket.terminate(), () => {});
    const code = (error as { code?: string } | null)?.code;
    if (code === "ECONNREFUSED") throw connectionRefused(hostname, port, error);
    throw connectFailed(hostname, port, error);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * The Bun transport.
 *
 * @example
 * ```ts ignore
 * import { PubSubClient } from "@kn-sock/pubsub";
 * import { bunTransport } from "@kn-sock/pubsub/bun";
 *
 * const client = await PubSubClient.connect("127.0.0.1", 8080, { transport: bunTransport });
 * await client.close();
 * ```
 */
export const bunTransport: Transport = { name: "bun", listen, connect };
