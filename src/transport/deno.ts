/**
 * The Deno transport, on `Deno.listen` and `Deno.connect`, and for TLS
 * `Deno.listenTls` and `Deno.startTls` (a TCP connection upgraded, so it
 * gets TCP_NODELAY and keepalive like a plain one). Connections that
 * `Deno.listenTls` accepts expose neither option, so they have neither.
 *
 * @example Choosing the Deno transport explicitly
 * ```ts ignore
 * import { startPubSubServer } from "@kn-sock/pubsub";
 * import { denoTransport } from "@kn-sock/pubsub/deno";
 *
 * const server = await startPubSubServer({ port: 0, transport: denoTransport });
 * await server.close();
 * ```
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { abortable, type Deferred, deferred, RESOLVED } from "../_async.ts";
import { connectFailed, connectionRefused } from "./_connect_errors.ts";
import { checkTlsListenOptions, invalidTlsCredentials, trustedCas } from "./_socket_options.ts";
import type { Addr, Conn, ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";

const MIN_READ_BUFFER_BYTES = 512;
const MAX_READ_BUFFER_BYTES = 64 * 1024;
const ACCEPT_RETRY_MS = 50;
/**
 * `accept()` failures that concern one connection only: it was reset or
 * aborted by its peer while it waited to be accepted (Deno then throws
 * `NotConnected`). The next connection is accepted at once.
 */
const PER_CONNECTION_CODES: ReadonlySet<unknown> = new Set([
  "ECONNABORTED",
  "ECONNRESET",
  "ENOTCONN",
  "EPROTO",
  "EINTR",
]);
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function toAddr(addr: Deno.Addr): Addr {
  const net = addr as Deno.NetAddr;
  return { hostname: net.hostname, port: net.port };
}

/** Sets TCP_NODELAY and keepalive (with the system's idle time: Deno takes none). */
function tune(conn: Deno.TcpConn): void {
  try {
    conn.setNoDelay(true);
    conn.setKeepAlive(true);
  } catch {
    // The peer is already gone (EINVAL on some systems): the first read says so.
  }
}

class DenoConn implements Conn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  #conn: Deno.TcpConn | Deno.TlsConn;
  #isClosed = false;
  #writeClosed = false;
  // Made when first asked for: a server never asks, and an idle connection
  // should hold as little as it can.
  #closed: Deferred<void> | null = null;

  constructor(conn: Deno.TcpConn | Deno.TlsConn) {
    this.#conn = conn;
    this.localAddr = toAddr(conn.localAddr);
    this.remoteAddr = toAddr(conn.remoteAddr);
  }

  get closed(): Promise<void> {
    if (this.#isClosed) return RESOLVED;
    return (this.#closed ??= deferred<void>()).promise;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#isClosed || this.#writeClosed) throw new ConnectionClosedError();
    let offset = 0;
    try {
      // Deno's write() may hand over fewer bytes than asked: loop until all are.
      while (offset < bytes.byteLength) {
        offset += await this.#conn.write(bytes.subarray(offset));
      }
    } catch (error) {
      this.close();
      throw new ConnectionClosedError("Connection is closed", { cause: error });
    }
  }

  closeWrite(): void {
    if (this.#isClosed || this.#writeClosed) return;
    this.#writeClosed = true;
    this.#conn.closeWrite().catch(() => this.close());
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime (reset): nothing left to release.
    }
    this.#closed?.resolve();
  }

  // Reading: the connection is its own iterator (no generator object per
  // connection). The read buffer starts small (an idle connection holds it
  // while its read is pending) and doubles while reads fill it, up to 64 KiB.
  #buffer: Uint8Array | null = null;
  #ended = false;
  readonly #onRead = (n: number | null): IteratorResult<Uint8Array> => {
    if (n === null) return this.#end();
    const buffer = this.#buffer!;
    const chunk = buffer.slice(0, n);
    if (n === buffer.byteLength && n < MAX_READ_BUFFER_BYTES) {
      this.#buffer = new Uint8Array(n * 2);
    } else if (n < buffer.byteLength / 8 && buffer.byteLength > MIN_READ_BUFFER_BYTES) {
      this.#buffer = new Uint8Array(buffer.byteLength / 2);
    }
    return { done: false, value: chunk };
  };
  readonly #onReadError = (): IteratorResult<Uint8Array> => {
    // A reset, a failed TLS handshake, or close() during the read: all end the stream.
    this.close();
    return this.#end();
  };

  #end(): IteratorResult<Uint8Array> {
    this.#ended = true;
    this.#buffer = null;
    return DONE;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#ended || this.#isClosed) return Promise.resolve(this.#end());
    this.#buffer ??= new Uint8Array(MIN_READ_BUFFER_BYTES);
    return this.#conn.read(this.#buffer).then(this.#onRead, this.#onReadError);
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    return Promise.resolve(this.#end());
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }
}

function perConnection(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    PER_CONNECTION_CODES.has((error as { code?: unknown } | null)?.code);
}

class DenoListener implements Listener {
  readonly addr: Addr;
  #listener: Deno.TcpListener | Deno.TlsListener;
  #closed = false;

  constructor(listener: Deno.TcpListener | Deno.TlsListener) {
    this.#listener = listener;
    this.addr = toAddr(listener.addr);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listener.close();
    }
    return RESOLVED;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    while (!this.#closed) {
      let conn: Deno.TcpConn | Deno.TlsConn;
      try {
        // A TLS listener accepts before the handshake: it runs on the first read.
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) return;
        // A connection reset before it was accepted: only that one is lost.
        if (perConnection(error)) continue;
        // Anything else (for example too many open files) is not fatal
        // either; wait a little so a persistent failure does not spin the CPU.
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      if ("setNoDelay" in conn) tune(conn);
      yield new DenoConn(conn);
    }
  }
}

function listenTls(
  options: ListenOptions & Required<Pick<ListenOptions, "tls">>,
): Deno.TlsListener {
  const { hostname, port, tls } = options;
  checkTlsListenOptions(tls);
  try {
    return Deno.listenTls({ hostname, port, transport: "tcp", cert: tls.cert, key: tls.key });
  } catch (error) {
    // Bind failures have their own classes; the certificate's are InvalidData or plain Errors.
    if (error instanceof Deno.errors.InvalidData || (error as Error)?.constructor === Error) {
      throw invalidTlsCredentials(error);
    }
    throw error;
  }
}

function listen(options: ListenOptions): Promise<Listener> {
  try {
    const listener = options.tls === undefined
      ? Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" })
      : listenTls({ ...options, tls: options.tls });
    return Promise.resolve(new DenoListener(listener));
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Upgrades `tcp` to TLS and completes the handshake, which verifies the
 * server. On failure or abort the connection is closed; Deno then lets a
 * handshake still in progress finish (denoland/deno#14547) before it closes
 * the socket, so a server that never answers holds the socket until it
 * closes its side or keepalive gives up on it.
 */
async function upgrade(
  tcp: Deno.TcpConn,
  options: ConnectOptions & Required<Pick<ConnectOptions, "tls">>,
): Promise<Deno.TlsConn> {
  const { hostname, port, signal, tls } = options;
  let conn: Deno.TlsConn;
  try {
    conn = await Deno.startTls(tcp, {
      hostname: tls.serverName ?? hostname,
      caCerts: trustedCas(tls),
    });
  } catch (error) {
    try {
      tcp.close();
    } catch {
      // startTls() took the connection over before it failed: nothing left to close.
    }
    throw connectFailed(hostname, port, error);
  }
  try {
    await abortable(conn.handshake(), signal);
  } catch (error) {
    conn.close();
    throw connectFailed(hostname, port, error);
  }
  return conn;
}

async function connect(options: ConnectOptions): Promise<Conn> {
  const { hostname, port, signal, tls } = options;
  if (tls !== undefined) trustedCas(tls); // a TypeError before any connection
  if (signal?.aborted) throw connectFailed(hostname, port, signal.reason);
  const attempt = Deno.connect({ hostname, port, transport: "tcp" });
  let tcp: Deno.TcpConn;
  try {
    tcp = await abortable(attempt, signal);
  } catch (error) {
    // A connection that completes after an abort is closed, not leaked.
    attempt.then((late) => late.close(), () => {});
    if (error instanceof Deno.errors.ConnectionRefused) {
      throw connectionRefused(hostname, port, error);
    }
    throw connectFailed(hostname, port, error);
  }
  tune(tcp);
  return new DenoConn(tls === undefined ? tcp : await upgrade(tcp, { ...options, tls }));
}

/**
 * The Deno transport.
 *
 * @example
 * ```ts ignore
 * import { PubSubClient } from "@kn-sock/pubsub";
 * import { denoTransport } from "@kn-sock/pubsub/deno";
 *
 * const client = await PubSubClient.connect("127.0.0.1", 8080, { transport: denoTransport });
 * await client.close();
 * ```
 */
export const denoTransport: Transport = { name: "deno", listen, connect };
