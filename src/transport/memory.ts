/**
 * An in-process transport: connections are pairs of bounded byte pipes, so
 * a server and its clients can run in one process without a socket (tests,
 * embedding). Writes wait while the peer has not read 64 KiB, like a socket
 * buffer, so backpressure behaves as it does over TCP. There is no TLS:
 * `listen` and `connect` reject a `tls` option with a `TypeError`.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { deferred, RESOLVED } from "../_async.ts";
import { connectFailed, connectionRefused } from "./_connect_errors.ts";
import { PushQueue } from "../_push_queue.ts";
import type { Addr, Conn, ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";

const PIPE_BYTES = 64 * 1024;

function noTls(): Promise<never> {
  return Promise.reject(new TypeError("The memory transport does not support TLS"));
}

/** One direction of a memory connection. */
class Pipe {
  chunks: Uint8Array[] = [];
  bytes = 0;
  /** The writer ended the stream: the reader sees end of stream after the chunks. */
  ended = false;
  /** The reader is gone: writes fail. */
  broken = false;
  readerWaiter: (() => void) | null = null;
  writerWaiter: (() => void) | null = null;

  wakeReader(): void {
    const waiter = this.readerWaiter;
    this.readerWaiter = null;
    waiter?.();
  }

  wakeWriter(): void {
    const waiter = this.writerWaiter;
    this.writerWaiter = null;
    waiter?.();
  }
}

class MemoryConn implements Conn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  readonly closed: Promise<void>;
  #in: Pipe;
  #out: Pipe;
  #isClosed = false;
  #resolveClosed: () => void;

  constructor(input: Pipe, output: Pipe, localAddr: Addr, remoteAddr: Addr) {
    this.#in = input;
    this.#out = output;
    this.localAddr = localAddr;
    this.remoteAddr = remoteAddr;
    const closed = deferred<void>();
    this.closed = closed.promise;
    this.#resolveClosed = closed.resolve;
  }

  async write(bytes: Uint8Array): Promise<void> {
    const out = this.#out;
    if (this.#isClosed || out.ended || out.broken) throw new ConnectionClosedError();
    if (bytes.byteLength === 0) return;
    out.chunks.push(bytes.slice());
    out.bytes += bytes.byteLength;
    out.wakeReader();
    while (out.bytes > PIPE_BYTES) {
      await new Promise<void>((resolve) => {
        out.writerWaiter = resolve;
      });
      if (out.broken || this.#isClosed) throw new ConnectionClosedError();
    }
  }

  closeWrite(): void {
    this.#out.ended = true;
    this.#out.wakeReader();
  }

  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.closeWrite();
    const input = this.#in;
    input.broken = true;
    input.chunks = [];
    input.bytes = 0;
    input.wakeReader();
    input.wakeWriter();
    this.#out.wakeWriter();
    this.#resolveClosed();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const input = this.#in;
    while (true) {
      if (input.chunks.length > 0) {
        const chunk = input.chunks.shift()!;
        input.bytes -= chunk.byteLength;
        if (input.bytes <= PIPE_BYTES) input.wakeWriter();
        yield chunk;
        continue;
      }
      if (input.ended || input.broken) return;
      await new Promise<void>((resolve) => {
        input.readerWaiter = resolve;
      });
    }
  }
}

class MemoryListener implements Listener {
  readonly addr: Addr;
  readonly conns: PushQueue<Conn> = new PushQueue<Conn>();
  #unregister: () => void;

  constructor(addr: Addr, unregister: () => void) {
    this.addr = addr;
    this.#unregister = unregister;
  }

  close(): Promise<void> {
    this.conns.discard();
    this.#unregister();
    return RESOLVED;
  }

  [Symbol.asyncIterator](): AsyncIterator<Conn> {
    return this.conns[Symbol.asyncIterator]();
  }
}

/**
 * Creates an in-process transport. Each call makes a separate network:
 * a client connects only to servers listening on the same transport object.
 * Ports are numbers in that network; `0` picks the next free one. It has
 * no TLS: a `tls` option is rejected with a `TypeError`.
 *
 * @example A server and a client in one process
 * ```ts
 * import { createMemoryTransport, PubSubClient, startPubSubServer } from "@kn-sock/pubsub";
 *
 * const transport = createMemoryTransport();
 * const server = await startPubSubServer({ port: 0, transport });
 * const client = await PubSubClient.connect("memory", server.addr.port, { transport });
 * await client.subscribe("news/sports");
 * await client.publish("news/sports", "Championship game tonight");
 * console.log(await client.recv({ timeout: 1000 }));
 * await client.close();
 * await server.close();
 * ```
 *
 * @returns A new, empty in-process network.
 */
export function createMemoryTransport(): Transport {
  const listeners = new Map<number, MemoryListener>();
  let nextPort = 1;
  let nextClientPort = 49152;

  function listen(options: ListenOptions): Promise<Listener> {
    if (options.tls !== undefined) return noTls();
    let port = options.port;
    if (port === 0) {
      while (listeners.has(nextPort)) nextPort++;
      port = nextPort++;
    }
    if (listeners.has(port)) {
      return Promise.reject(new Error(`Address ${options.hostname}:${port} is already in use`));
    }
    const listener = new MemoryListener(
      { hostname: options.hostname, port },
      () => listeners.delete(port),
    );
    listeners.set(port, listener);
    return Promise.resolve(listener);
  }

  function connect(options: ConnectOptions): Promise<Conn> {
    const { hostname, port, signal } = options;
    if (options.tls !== undefined) return noTls();
    if (signal?.aborted) return Promise.reject(connectFailed(hostname, port, signal.reason));
    const listener = listeners.get(port);
    if (listener === undefined) return Promise.reject(connectionRefused(hostname, port));
    const serverAddr = listener.addr;
    const clientAddr: Addr = { hostname: "memory", port: nextClientPort++ };
    const toServer = new Pipe();
    const toClient = new Pipe();
    listener.conns.push(new MemoryConn(toServer, toClient, serverAddr, clientAddr));
    return Promise.resolve(new MemoryConn(toClient, toServer, clientAddr, serverAddr));
  }

  return { name: "memory", listen, connect };
}
