/**
 * The Deno transport, on `Deno.listen` and `Deno.connect`.
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
import { deferred, RESOLVED } from "../_deferred.ts";
import { connectFailed, connectionRefused } from "./_connect_errors.ts";
import type { Addr, Conn, ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";

const MIN_READ_BUFFER_BYTES = 1024;
const MAX_READ_BUFFER_BYTES = 64 * 1024;
const ACCEPT_RETRY_MS = 50;

function toAddr(addr: Deno.Addr): Addr {
  const net = addr as Deno.NetAddr;
  return { hostname: net.hostname, port: net.port };
}

class DenoConn implements Conn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  readonly closed: Promise<void>;
  #conn: Deno.TcpConn;
  #isClosed = false;
  #writeClosed = false;
  #resolveClosed: () => void;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    try {
      conn.setNoDelay(true);
    } catch {
      // The peer is already gone (EINVAL on some systems): the first read says so.
    }
    this.localAddr = toAddr(conn.localAddr);
    this.remoteAddr = toAddr(conn.remoteAddr);
    const closed = deferred<void>();
    this.closed = closed.promise;
    this.#resolveClosed = closed.resolve;
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
    this.#resolveClosed();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    // The read buffer starts small (an idle connection holds it while its
    // read is pending) and doubles while reads fill it, up to 64 KiB.
    let buffer = new Uint8Array(MIN_READ_BUFFER_BYTES);
    while (!this.#isClosed) {
      let n: number | null;
      try {
        n = await this.#conn.read(buffer);
      } catch {
        // A reset, or close() during the read: both end the stream.
        this.close();
        return;
      }
      if (n === null) return;
      const chunk = buffer.slice(0, n);
      if (n === buffer.byteLength && n < MAX_READ_BUFFER_BYTES) {
        buffer = new Uint8Array(n * 2);
      } else if (n < buffer.byteLength / 8 && buffer.byteLength > MIN_READ_BUFFER_BYTES) {
        buffer = new Uint8Array(buffer.byteLength / 2);
      }
      yield chunk;
    }
  }
}

class DenoListener implements Listener {
  readonly addr: Addr;
  #listener: Deno.TcpListener;
  #closed = false;

  constructor(listener: Deno.TcpListener) {
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
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) return;
        // A failed accept (for example too many open files) is not fatal;
        // wait a little so a persistent failure does not spin the CPU.
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      yield new DenoConn(conn);
    }
  }
}

function listen(options: ListenOptions): Promise<Listener> {
  const listener = Deno.listen({
    hostname: options.hostname,
    port: options.port,
    transport: "tcp",
  });
  return Promise.resolve(new DenoListener(listener));
}

async function connect(options: ConnectOptions): Promise<Conn> {
  const { hostname, port, signal } = options;
  if (signal?.aborted) throw connectFailed(hostname, port, signal.reason);
  const attempt = Deno.connect({ hostname, port, transport: "tcp" });
  let conn: Deno.TcpConn;
  try {
    if (signal === undefined) {
      conn = await attempt;
    } else {
      const aborted = deferred<never>();
      const onAbort = (): void => aborted.reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        conn = await Promise.race([attempt, aborted.promise]);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    }
  } catch (error) {
    // A connection that completes after an abort is closed, not leaked.
    attempt.then((late) => late.close(), () => {});
    if (error instanceof Deno.errors.ConnectionRefused) {
      throw connectionRefused(hostname, port, error);
    }
    throw connectFailed(hostname, port, error);
  }
  return new DenoConn(conn);
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
