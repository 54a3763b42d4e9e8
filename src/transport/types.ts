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

/**
 * TLS for a listener: the server's certificate chain and private key, as
 * PEM text (read the files yourself; the library never touches the file
 * system). Clients do not send certificates: there is no mutual TLS.
 *
 * @example Listening with TLS
 * ```ts ignore
 * import { startPubSubServer } from "@kn-sock/pubsub";
 * declare function readText(path: string): Promise<string>; // your runtime's file API
 *
 * const server = await startPubSubServer({
 *   port: 8443,
 *   tls: { cert: await readText("server.pem"), key: await readText("server.key") },
 * });
 * await server.close();
 * ```
 */
export interface TlsListenOptions {
  /**
   * The certificate chain in PEM: the server's certificate first, then any
   * intermediates, without the root.
   */
  cert: string;
  /** The private key of `cert` in PEM (PKCS #8, SEC1 EC or PKCS #1 RSA), unencrypted. */
  key: string;
}

/**
 * TLS for a connection. The server's certificate is always verified: its
 * chain must lead to a trusted root and it must name `serverName` (or the
 * host connected to, which may be an IP address). A failed verification
 * rejects the connect with a `connect_failed` `ConnectError` whose `cause`
 * is the runtime's error.
 *
 * @example Connecting to a server whose certificate a private CA signed
 * ```ts ignore
 * import { PubSubClient } from "@kn-sock/pubsub";
 * declare function readText(path: string): Promise<string>; // your runtime's file API
 *
 * const client = await PubSubClient.connect("10.0.0.5", 8443, {
 *   tls: { ca: await readText("ca.pem"), serverName: "pubsub.internal" },
 * });
 * await client.close();
 * ```
 */
export interface TlsConnectOptions {
  /**
   * The CA certificate(s) to trust, in PEM (a string may hold several).
   * Without it (or with an empty list) the runtime's default roots are
   * used. On Node and Bun these certificates replace the default roots;
   * Deno trusts them in addition to its own.
   */
  ca?: string | string[];
  /**
   * The name the server's certificate must carry, also sent as SNI when it
   * is a DNS name. Default: the host connected to.
   */
  serverName?: string;
}

/** What {@linkcode Transport.listen} takes. */
export interface ListenOptions {
  /** The address to bind, for example `"127.0.0.1"`. */
  hostname: string;
  /** The port to bind; `0` picks a free one. */
  port: number;
  /**
   * Accept TLS connections only, with this certificate. A listener yields
   * each connection as soon as TCP accepts it; the handshake runs on its
   * first read, and a failed one (a plain-TCP peer, a client that does not
   * trust the certificate) just ends that connection's stream.
   */
  tls?: TlsListenOptions;
}

/** What {@linkcode Transport.connect} takes. */
export interface ConnectOptions {
  /** The host to connect to. */
  hostname: string;
  /** The port to connect to. */
  port: number;
  /** Aborts the attempt; the connect then rejects with a `connect_failed` `ConnectError`. */
  signal?: AbortSignal;
  /**
   * Connect with TLS: the connect resolves once the handshake succeeded and
   * the server's certificate was verified. Absent: plain TCP.
   */
  tls?: TlsConnectOptions;
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
  /**
   * Only on a connection that carries bytes in messages (WebSocket): the
   * most bytes one message may hold. A longer `write()` goes out as
   * several messages, each cut after a line's end where one is in reach.
   * The owner may lower it to the bound its peer announces (the client
   * does, to the server's `maxLine`, after `hello`). Absent on byte
   * streams (TCP), which have no such bound.
   */
  maxWriteBytes?: number;
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
 * The TCP adapters (Deno, Bun, `node:net`) set TCP_NODELAY and TCP
 * keepalive on every connection they accept or open, with a 60 s idle
 * time where the runtime lets us set it (Bun, Node; Deno's `setKeepAlive()`
 * takes no time, so the system default applies, two hours on Linux), so a
 * peer that vanished without a FIN or RST is found by the operating system
 * and its connection ends. Deno cannot set either option on connections
 * accepted by its TLS listener. All three speak TLS when
 * `tls` is given; the memory transport rejects a `tls` option with a
 * `TypeError`.
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
  /**
   * Starts listening. Rejects if the address cannot be bound, and with a
   * `TypeError` if `tls` holds an unusable certificate or key.
   */
  listen(options: ListenOptions): Promise<Listener>;
  /**
   * Opens a connection with TCP_NODELAY set. Rejects with a `ConnectError`:
   * code `connection_refused` when nothing listens, `connect_failed` otherwise.
   */
  connect(options: ConnectOptions): Promise<Conn>;
}
