/**
 * The pub/sub client: kn-sock's `PubSubClient` in TypeScript form, which
 * reconnects, holds publishes while disconnected and reports its status.
 * This file is the public API; `client_session.ts` sends and receives, and
 * `connection_loop.ts` keeps it connected.
 *
 * @module
 */

import { deadline } from "../_async.ts";
import { ConnectionClosedError, type ServerError } from "../errors.ts";
import { type ClientLimits, DEFAULT_CLIENT_LIMITS, resolveLimits } from "../limits.ts";
import type { JsonValue, ServerInfo } from "../protocol/frames.ts";
import type { Message } from "./message.ts";
import type { Addr, Conn } from "../transport/types.ts";
import { ClientSession } from "./client_session.ts";
import { type DialTarget, openConn } from "./connection.ts";
import { connectArguments } from "./dial.ts";
import type { RecvOptions } from "./inbox.ts";
import {
  checkPattern,
  checkTopic,
  type FlushOptions,
  type PublishOptions,
  type PubSubClientOptions,
  type RequestOptions,
  resolveSettings,
  type SubscribeOptions,
} from "./options.ts";
import type { StatusEvent } from "./status.ts";
import type { Subscription } from "./subscription.ts";

/**
 * The address `connect()` dialled a connection with: the client reconnects
 * to the host as given (a name, which TLS verifies), not the address the
 * socket reports.
 */
const dialledAs = new WeakMap<Conn, DialTarget>();

/**
 * A connection to a pub/sub server (ours or kn-sock's).
 *
 * - `publish`, `subscribe` and `unsubscribe` queue a frame and resolve once
 *   it is handed to the operating system; frames queued together share one
 *   promise, so fire-and-forget allocates nothing per message. Awaiting them
 *   is how a fast publisher respects backpressure: past
 *   `limits.maxOutboundBytes` they reject with `buffer_full` and queue nothing.
 * - A lost connection is reconnected (unless `reconnect: false`): meanwhile
 *   publishes wait in a bounded offline buffer and subscribing changes the
 *   client's own list, both sent once it is back. Calls waiting for the
 *   server's answer when it was lost reject with `ConnectionClosedError`.
 * - `recv({ timeout })` resolves with the next message, or `null` once the
 *   timeout passes, across reconnects; it rejects with
 *   `ConnectionClosedError` once the client is closed and no message is left.
 * - `status()` reports the connection's life; `drain()` closes gently; the
 *   client is an async iterable of messages; `await using` closes it.
 *
 * @example Publish and receive
 * ```ts ignore
 * import { PubSubClient } from "@kn-sock/pubsub";
 *
 * await using client = await PubSubClient.connect("127.0.0.1", 8080);
 * await client.subscribe("news/sports");
 * await client.publish("news/sports", "Championship game tonight");
 * for await (const { topic, message } of client) {
 *   console.log(`Received on '${topic}': ${message}`);
 *   break;
 * }
 * ```
 */
export class PubSubClient implements AsyncIterable<Message> {
  /** The server's address (of the first connection). */
  readonly remoteAddr: Addr;
  /** Resolves once the client is closed for good, for any reason; never rejects. */
  readonly closed: Promise<void>;
  readonly #limits: ClientLimits;
  readonly #session: ClientSession;

  /**
   * Connects to a server by URL: `ws://host:port/path` and `wss://…` over
   * WebSocket (`webSocketTransport()` with the URL's path; in a browser,
   * the only way), `tcp://host:port` over the runtime's TCP transport (or
   * the `transport` option). Reconnects dial the same URL.
   *
   * @example Connecting over WebSocket
   * ```ts ignore
   * const client = await PubSubClient.connect("ws://127.0.0.1:8081/ws", { hello: true });
   * ```
   *
   * @param url The server's URL.
   * @param options Credentials, reconnect, limits, signal, logger, `WebSocket` class.
   * @throws {TypeError} For a malformed URL, another scheme, options that
   *   contradict the URL, or no global `WebSocket` (Node 20) without the
   *   `WebSocket` option.
   * @throws {ConnectError} `connection_refused` or `connect_failed`.
   * @throws {PubSubError} `auth_failed` when the server refuses the credentials.
   */
  static connect(url: string, options?: PubSubClientOptions): Promise<PubSubClient>;
  /**
   * Connects to a server (with `hello` and credentials when asked).
   *
   * @example
   * ```ts ignore
   * const client = await PubSubClient.connect("127.0.0.1", 8080, { hello: true });
   * ```
   *
   * @param host The server's host name or address.
   * @param port The server's port.
   * @param options Transport, TLS, credentials, reconnect, limits, signal, logger.
   * @throws {ConnectError} `connection_refused` or `connect_failed`.
   * @throws {PubSubError} `auth_failed` when the server refuses the credentials.
   */
  static connect(host: string, port: number, options?: PubSubClientOptions): Promise<PubSubClient>;
  static async connect(
    address: string,
    portOrOptions?: number | PubSubClientOptions,
    maybeOptions?: PubSubClientOptions,
  ): Promise<PubSubClient> {
    const { options, dial } = connectArguments(address, portOrOptions, maybeOptions);
    const limits = resolveLimits(DEFAULT_CLIENT_LIMITS, options.limits);
    const settings = resolveSettings(options, limits); // bad options throw before anything opens
    const { target, transport } = await dial();
    const timer = deadline(limits.connectTimeoutMs, "Connect", options.signal);
    try {
      const conn = await openConn(transport, target, timer.signal);
      dialledAs.set(conn, target);
      const client = new PubSubClient(conn, limits, { ...options, transport });
      if (settings.hello !== null) await client.#session.greet(timer.signal);
      return client;
    } finally {
      timer.clear();
    }
  }

  /**
   * Use {@linkcode PubSubClient.connect}; this wraps a connection already
   * open. It does not say `hello` on it; it reconnects to its remote
   * address (saying `hello` then, if asked).
   *
   * @param conn An open connection.
   * @param limits The limits in force.
   * @param options As for `connect()`.
   */
  constructor(conn: Conn, limits: ClientLimits, options: PubSubClientOptions = {}) {
    this.remoteAddr = conn.remoteAddr;
    this.#limits = limits;
    const { hostname, port } = conn.remoteAddr;
    const target = dialledAs.get(conn) ?? { hostname, port, tls: options.tls };
    this.#session = new ClientSession(conn, target, resolveSettings(options, limits));
    this.closed = this.#session.done;
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => void this.close();
      signal.addEventListener("abort", onAbort, { once: true });
      void this.closed.then(() => signal.removeEventListener("abort", onAbort));
    }
  }

  /** The topics this client subscribed to and did not unsubscribe from. */
  get subscriptions(): ReadonlySet<string> {
    return this.#session.subscriptions.patterns;
  }

  /**
   * The last `error` frame the server sent about no frame with an `id`, or
   * `null`. kn-sock servers send none; ours sends one for each bad frame
   * and before closing a connection.
   */
  get lastServerError(): ServerError | null {
    return this.#session.counters.lastServerError;
  }

  /**
   * Messages dropped because their subscription had ended: not yet taken at
   * `unsubscribe()`, or still in flight then.
   */
  get droppedMessages(): number {
    return this.#session.counters.droppedMessages;
  }

  /**
   * Publishes dropped because the offline buffer was full, with
   * `offlineOverflow: "count"` (with `"error"` they reject instead).
   */
  get droppedPublishes(): number {
    return this.#session.counters.droppedPublishes;
  }

  /**
   * Messages the server dropped because this client read too slowly: the
   * total of its `slow_consumer` notices (see the `slowConsumer` status event).
   */
  get droppedByServer(): number {
    return this.#session.counters.droppedByServer;
  }

  /** The server's answer to `hello` (the latest connection's), or `null` without `hello`. */
  get server(): ServerInfo | null {
    return this.#session.loop.server;
  }

  /** Whether a connection is up now (`false` while reconnecting and once closed). */
  get connected(): boolean {
    return this.#session.connected;
  }

  /** Bytes queued or in flight to the server on the current connection. */
  get pendingBytes(): number {
    return this.#session.loop.current?.queue.pendingBytes ?? 0;
  }

  /** Bytes of publishes held while disconnected, waiting for the next connection. */
  get offlineBytes(): number {
    return this.#session.offline.bytes;
  }

  /**
   * Publishes `message` to `topic`. While disconnected it waits in the
   * offline buffer and resolves once sent after reconnecting.
   *
   * @example
   * ```ts ignore
   * await client.publish("orders/created", JSON.stringify({ id: "ORD-789" }));
   * ```
   *
   * @param topic The topic, for example `news/technology`.
   * @param message Any JSON value; kn-sock clients send strings.
   * @param options Headers, reply topic, retain, ack.
   * @throws {TypeError} For an invalid topic or a message JSON cannot encode.
   * @throws {RangeError} For a topic longer than `limits.maxTopicBytes`.
   */
  publish(topic: string, message: JsonValue, options: PublishOptions = {}): Promise<void> {
    return this.#session.publish(topic, message, options);
  }

  /**
   * Subscribes to a topic or pattern (`+` matches one level, `#` any number
   * of levels at the end). Resolves with the {@linkcode Subscription} once
   * the frame is written, or, with acks, once the server answered; while
   * disconnected, at once (the server gets it on reconnect).
   *
   * @example
   * ```ts ignore
   * const sub = await client.subscribe("news/+", { group: "workers" });
   * ```
   *
   * @throws {TypeError} For an invalid pattern such as `a/#/b`, or policy.
   */
  subscribe(pattern: string, options: SubscribeOptions = {}): Promise<Subscription> {
    checkPattern(pattern, this.#limits, options);
    return this.#session.subscribe(pattern, options);
  }

  /**
   * Unsubscribes from a topic or pattern (in `group` when given). Messages
   * already received stay readable with `recv()`.
   *
   * @example
   * ```ts ignore
   * await client.unsubscribe("news/sports");
   * ```
   */
  unsubscribe(pattern: string, options: SubscribeOptions = {}): Promise<void> {
    checkPattern(pattern, this.#limits, { group: options.group });
    return this.#session.unsubscribe(pattern, options);
  }

  /**
   * Publishes `message` with a fresh reply topic and resolves with the first
   * reply. After `hello` (so the publish carries an `id`), when nobody is
   * subscribed to `topic`, it rejects at once with a `ServerError` of code
   * `no_responders`; without it, it waits for the timeout. It rejects with
   * `ConnectionClosedError` when the connection is lost or the client
   * closes first.
   *
   * @example
   * ```ts ignore
   * const answer = await client.request("time/now", null, { timeout: 2000 });
   * console.log(answer.message);
   * ```
   *
   * @throws {PubSubError} Code `timeout` when no reply comes in time.
   */
  request(topic: string, message: JsonValue, options: RequestOptions = {}): Promise<Message> {
    checkTopic(topic, this.#limits);
    const timeout = options.timeout ?? 10_000;
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      throw new RangeError(`Timeout must be a non-negative number of ms, got ${String(timeout)}`);
    }
    return this.#session.request(topic, message, { ...options, timeout });
  }

  /**
   * The next message, or `null` once `timeout` ms pass (kn-sock's
   * `recv(timeout)` takes seconds). It waits across reconnects.
   *
   * @example
   * ```ts ignore
   * const message = await client.recv({ timeout: 1000 });
   * if (message) console.log(message.topic, message.message);
   * ```
   *
   * @throws {ConnectionClosedError} When closed and no message is left.
   * @throws {RangeError} For a negative timeout.
   */
  recv(options?: RecvOptions): Promise<Message | null> {
    return this.#session.inbox.recv(options);
  }

  /**
   * Resolves once the server has handled every frame this client sent
   * before the call: a `ping` with an `id`, which our server answers in
   * order (with or without `hello`) and which routes nothing, so no
   * subscriber, handler route or statistic sees a message. Use it after
   * `subscribe()` to know the subscription is active. While disconnected
   * it waits for the next connection.
   *
   * A kn-sock server answers no ping, so against one `flush()` waits until
   * `signal` aborts (or the connection ends); pass `viaTopic: true` there:
   * a round trip through a private topic, which is a real publish that a
   * handler sees.
   *
   * @example
   * ```ts ignore
   * await client.subscribe("news/sports");
   * await client.flush(); // the server now routes news/sports to this client
   * await client.flush({ signal: AbortSignal.timeout(5000) }); // bounded
   * ```
   *
   * @throws {ConnectionClosedError} When the connection is lost or the client closes first.
   * @throws {ServerError} When the server refuses the ping (`auth_required`
   *   before authenticating).
   */
  flush(options?: FlushOptions): Promise<void> {
    return this.#session.flush(options);
  }

  /**
   * Status events from now on: `connect`, `disconnect`, `reconnect`,
   * `slowConsumer`, `backplane` (a clustered server cut off from the other
   * nodes, or back; after `hello` only), `error`, and a last `close`, after
   * which the iteration ends. Each iterator holds at most `limits.maxStatusEvents` unread
   * events (default 256); past that the oldest is dropped, and the next
   * event read says how many in `missed`. Breaking out of the loop stops it.
   *
   * @example Watching a client reconnect to a restarted server
   * ```ts
   * import { createMemoryTransport, PubSubClient, startPubSubServer } from "@kn-sock/pubsub";
   *
   * const transport = createMemoryTransport();
   * const server = await startPubSubServer({ port: 0, transport });
   * const port = server.addr.port;
   * const client = await PubSubClient.connect("memory", port, {
   *   transport,
   *   reconnect: { initialDelayMs: 5 },
   * });
   * const events = client.status();
   * await server.close();
   * const restarted = await startPubSubServer({ port, transport });
   * for await (const event of events) {
   *   console.log(event.type); // "disconnect", "reconnect" (once or more), "connect"
   *   if (event.type === "connect") break;
   * }
   * await client.close();
   * await restarted.close();
   * ```
   */
  status(): AsyncIterableIterator<StatusEvent> {
    return this.#session.status.open();
  }

  /**
   * Closes gently: new publishes and subscribes reject with
   * `ConnectionClosedError`, every subscription is unsubscribed (waiting for
   * the server's `ok` after `hello`, so no message in flight is lost),
   * queued publishes are flushed, then the client closes. All of it is
   * bounded by `limits.closeGraceMs`. Messages received stay readable with
   * `recv()` and the iterators, which then end. While disconnected it is
   * `close()`: held publishes reject. Idempotent, never rejects, and the
   * same promise as `close()` once either was called.
   *
   * @example
   * ```ts ignore
   * await client.drain();
   * ```
   */
  drain(): Promise<void> {
    return this.#session.drain();
  }

  /**
   * Flushes queued frames (bounded by `limits.closeGraceMs`) and closes;
   * publishes held offline reject. Idempotent; never rejects.
   *
   * @example
   * ```ts ignore
   * await client.close();
   * ```
   */
  close(): Promise<void> {
    return this.#session.close();
  }

  /**
   * Closes the client: `await using client = await PubSubClient.connect(...)`.
   *
   * @example
   * ```ts ignore
   * {
   *   await using client = await PubSubClient.connect("127.0.0.1", 8080);
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Iterates over received messages, across reconnects. The iteration ends
   * after `close()` or `drain()`, and throws `ConnectionClosedError` if the
   * client gives up on the connection.
   *
   * @example
   * ```ts ignore
   * for await (const { topic, message } of client) console.log(topic, message);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (true) {
      let message: Message | null;
      try {
        message = await this.#session.inbox.recv();
      } catch (error) {
        if (this.#session.closedLocally && error instanceof ConnectionClosedError) return;
        throw error;
      }
      if (message !== null) yield message;
    }
  }
}
