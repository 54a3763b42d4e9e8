/**
 * The byte-only boundary between the pub/sub core and a runtime's sockets.
 * The server and client are written against these interfaces; adapters for
 * Deno, Bun, `node:net` and an in-process memory pair implement them.
 *
 * @module
 */

/** A socket address. */
export interface Addr {
  /** The host name or IP address. */
  readonly hostname: string;
  /** The port. */
  readonly port: number;
}

/** What {@linkcode Transport.listen} takes. */
export interface ListenOptions {
  /** The address to bind, for example `"127.0.0.1"`. */
  hostname: string;
  /** The port to bind; `0` picks a free one. */
  port: number;
}

/** What {@linkcode Transport.connect} takes. */
export interface ConnectOptions {
  /** The host to connect to. */
  hostname: string;
  /** The port to connect to. */
  port: number;
  /** Aborts the attempt; the connect then rejects with a `connect_failed` `ConnectError`. */
  signal?: AbortSignal;
}

/**
 * One byte stream, either side of it.
 *
 * - Reading: iterate it once with `for await`; each chunk belongs to the
 *   reader (the adapter does not reuse it). Iteration ends at end of stream,
 *   on a reset, or once `close()` is called.
 * - Writing: `write()` resolves once every byte has been handed to the
 *   operating system (or to the peer, for the memory transport). Call it
 *   again only after the previous write settled. It rejects with a
 *   `ConnectionClosedError` when the connection is closed or lost.
 * - `close()` is idempotent and abrupt: unwritten bytes may be lost. `closed`
 *   resolves once the connection is fully closed and never rejects.
 */
export interface Conn extends AsyncIterable<Uint8Array> {
  /** The address of this end. */
  readonly localAddr: Addr;
  /** The address of the other end. */
  readonly remoteAddr: Addr;
  /** Writes all of `bytes`; see the interface for the contract. */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Half-closes: sends end-of-stream to the peer once the writes already
   * made are handed over; reading goes on. Idempotent.
   */
  closeWrite(): void;
  /** Closes both directions; safe to call any number of times. */
  close(): void;
  /** Resolves once the connection is closed; never rejects. */
  readonly closed: Promise<void>;
}

/**
 * A listening socket: iterate it for incoming connections. Iteration ends
 * when the listener is closed. `close()` is idempotent, frees the port, and
 * does not close connections already accepted.
 */
export interface Listener extends AsyncIterable<Conn> {
  /** The bound address, with the real port when `0` was asked for. */
  readonly addr: Addr;
  /** Stops listening; resolves once the port is free. */
  close(): Promise<void>;
}

/**
 * A way to make byte streams: `listen` and `connect`.
 *
 * @example Passing a transport explicitly
 * ```ts
 * import { createMemoryTransport, startPubSubServer } from "@kn-sock/pubsub";
 *
 * const transport = createMemoryTransport();
 * const server = await startPubSubServer({ port: 0, transport });
 * await server.close();
 * ```
 */
export interface Transport {
  /** A short name for logs, for example `"deno"`. */
  readonly name: string;
  /** Starts listening. Rejects if the address cannot be bound. */
  listen(options: ListenOptions): Promise<Listener>;
  /**
   * Opens a connection with TCP_NODELAY set. Rejects with a `ConnectError`:
   * code `connection_refused` when nothing listens, `connect_failed` otherwise.
   */
  connect(options: ConnectOptions): Promise<Conn>;
}
