/**
 * The pub/sub client: kn-sock's `PubSubClient` in TypeScript form.
 *
 * @module
 */

import { ConnectionClosedError, ErrorCode, PubSubError, ServerError } from "../errors.ts";
import { type ClientLimits, DEFAULT_CLIENT_LIMITS, resolveLimits } from "../limits.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { decodeServerFrame, toAsciiJson } from "../protocol/codec.ts";
import type { ClientFrame, JsonValue, Message } from "../protocol/frames.ts";
import { LineDecoder } from "../protocol/line_decoder.ts";
import { topicProblem } from "../topic/validate_topic.ts";
import { defaultTransport } from "../transport/auto.ts";
import type { Addr, Conn, Transport } from "../transport/types.ts";
import { WriteQueue } from "../transport/write_queue.ts";
import { Inbox, type RecvOptions } from "./inbox.ts";
import { type Deferred, deferred } from "../_deferred.ts";

/** Options of {@linkcode PubSubClient.connect}. */
export interface PubSubClientOptions {
  /** The transport; the current runtime's when omitted. */
  transport?: Transport;
  /** Limits to change from {@linkcode DEFAULT_CLIENT_LIMITS}. */
  limits?: Partial<ClientLimits>;
  /** Aborts connecting (and closes the client if aborted later). */
  signal?: AbortSignal;
  /** Where to log; nothing is logged when omitted. */
  logger?: Logger;
}

function ignore(): void {
  // Closing: a failed final flush changes nothing, the connection is going.
}

/**
 * A connection to a pub/sub server (ours or kn-sock's).
 *
 * - `publish`, `subscribe` and `unsubscribe` queue a frame and return a
 *   promise that resolves once it is handed to the operating system; frames
 *   queued together share one promise, so fire-and-forget costs no
 *   allocation per message. Awaiting them is how a fast publisher respects
 *   backpressure. They reject with `ConnectionClosedError` once closed, and
 *   with a `buffer_full` {@linkcode PubSubError} past `limits.maxOutboundBytes`.
 * - `recv({ timeout })` resolves with the next message, or `null` when the
 *   timeout passes; it rejects with `ConnectionClosedError` when the
 *   connection is closed and no message is left.
 * - The client is an async iterable of messages, and `await using` closes it.
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
  /** The server's address. */
  readonly remoteAddr: Addr;
  /** Resolves once the client is closed, for any reason; never rejects. */
  readonly closed: Promise<void>;
  readonly #conn: Conn;
  readonly #queue: WriteQueue;
  readonly #inbox: Inbox;
  readonly #limits: ClientLimits;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<string>();
  #closing: Promise<void> | null = null;
  #closedLocally = false;
  #serverError: ServerError | null = null;
  #reading: Promise<void>;
  readonly #flushes = new Map<string, Deferred<void>>();
  readonly #flushPrefix: string = Math.random().toString(36).slice(2);
  #flushCount = 0;
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => void this.close();

  /**
   * Connects to a server.
   *
   * @example
   * ```ts ignore
   * const client = await PubSubClient.connect("127.0.0.1", 8080);
   * ```
   *
   * @param host The server's host name or address.
   * @param port The server's port.
   * @param options Transport, limits, signal, logger.
   * @throws {ConnectError} `connection_refused` or `connect_failed`.
   */
  static async connect(
    host: string,
    port: number,
    options: PubSubClientOptions = {},
  ): Promise<PubSubClient> {
    if (typeof host !== "string" || host.length === 0) {
      throw new TypeError(`Host must be a non-empty string, got ${String(host)}`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`Port must be an integer from 1 to 65535, got ${String(port)}`);
    }
    const limits = resolveLimits(DEFAULT_CLIENT_LIMITS, options.limits);
    const transport = options.transport ?? await defaultTransport();
    // A timer of our own rather than AbortSignal.timeout(): Node does not
    // keep the process alive for the latter, so a hung connect could vanish.
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const message = `Connect timed out after ${limits.connectTimeoutMs} ms`;
      controller.abort(new DOMException(message, "TimeoutError"));
    }, limits.connectTimeoutMs);
    const onAbort = (): void => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const conn = await transport.connect({
        hostname: host,
        port,
        signal: controller.signal,
      });
      return new PubSubClient(conn, limits, options);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Use {@linkcode PubSubClient.connect}; this wraps a connection already open.
   *
   * @param conn An open connection.
   * @param limits The limits in force.
   * @param options `logger` and `signal` are read.
   */
  constructor(conn: Conn, limits: ClientLimits, options: PubSubClientOptions = {}) {
    this.#conn = conn;
    this.remoteAddr = conn.remoteAddr;
    this.#limits = limits;
    this.#logger = options.logger ?? silentLogger;
    this.#queue = new WriteQueue(conn, limits.maxOutboundBytes);
    this.#queue.onError = (error) => this.#lost(error);
    this.#inbox = new Inbox(limits.maxInboundBytes);
    this.#reading = this.#read();
    this.closed = this.#reading.then(() => this.#closing ?? undefined);
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The topics this client subscribed to and did not unsubscribe from. */
  get subscriptions(): ReadonlySet<string> {
    return this.#subscriptions;
  }

  /**
   * The last `error` frame the server sent, or `null`. kn-sock servers send
   * none; ours sends one for each bad frame and before closing a connection.
   */
  get lastServerError(): ServerError | null {
    return this.#serverError;
  }

  /** Bytes queued or in flight to the server. */
  get pendingBytes(): number {
    return this.#queue.pendingBytes;
  }

  /**
   * Publishes `message` to `topic`.
   *
   * @example
   * ```ts ignore
   * await client.publish("orders/created", JSON.stringify({ id: "ORD-789" }));
   * ```
   *
   * @param topic The topic, for example `news/technology`.
   * @param message Any JSON value; kn-sock clients send strings.
   * @throws {TypeError} For an invalid topic or a message JSON cannot encode.
   * @throws {RangeError} For a topic longer than `limits.maxTopicBytes`.
   */
  publish(topic: string, message: JsonValue): Promise<void> {
    this.#checkTopic(topic);
    if (message === undefined) throw new TypeError("Message must be a JSON value, got undefined");
    return this.#send({ action: "publish", topic, message });
  }

  /**
   * Subscribes to `topic` (exact match).
   *
   * @example
   * ```ts ignore
   * await client.subscribe("news/sports");
   * ```
   */
  subscribe(topic: string): Promise<void> {
    this.#checkTopic(topic);
    const sent = this.#send({ action: "subscribe", topic });
    this.#subscriptions.add(topic);
    return sent;
  }

  /**
   * Unsubscribes from `topic`. Messages already received stay in the inbox.
   *
   * @example
   * ```ts ignore
   * await client.unsubscribe("news/sports");
   * ```
   */
  unsubscribe(topic: string): Promise<void> {
    this.#checkTopic(topic);
    const sent = this.#send({ action: "unsubscribe", topic });
    this.#subscriptions.delete(topic);
    return sent;
  }

  /**
   * The next message, or `null` once `timeout` ms pass (kn-sock's
   * `recv(timeout)` takes seconds).
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
    return this.#inbox.recv(options);
  }

  /**
   * Resolves once the server has handled every frame this client sent
   * before the call: a round trip through a private topic (subscribe,
   * publish a marker, receive it, unsubscribe), so it works against kn-sock
   * servers too. The marker never reaches the inbox. Use it after
   * `subscribe()` to know the subscription is active.
   *
   * @example
   * ```ts ignore
   * await client.subscribe("news/sports");
   * await client.flush(); // the server now routes news/sports to this client
   * ```
   *
   * @throws {ConnectionClosedError} When the connection closes first.
   */
  async flush(): Promise<void> {
    const topic = `_flush/${this.#flushPrefix}/${this.#flushCount++}`;
    const arrived = deferred<void>();
    arrived.promise.catch(ignore); // awaited below unless a send fails first
    this.#flushes.set(topic, arrived);
    try {
      await this.#send({ action: "subscribe", topic });
      await this.#send({ action: "publish", topic, message: null });
      await arrived.promise;
    } finally {
      this.#flushes.delete(topic);
    }
    await this.#send({ action: "unsubscribe", topic });
  }

  /**
   * Flushes queued frames (bounded by `limits.closeGraceMs`) and closes.
   * Idempotent; never rejects.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closedLocally = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#closing = this.#finish();
    return this.#closing;
  }

  /** Closes the client: `await using client = await PubSubClient.connect(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Iterates over received messages. The iteration ends after `close()`,
   * and throws `ConnectionClosedError` if the connection is lost.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (true) {
      let message: Message | null;
      try {
        message = await this.#inbox.recv();
      } catch (error) {
        if (this.#closedLocally && error instanceof ConnectionClosedError) return;
        throw error;
      }
      if (message !== null) yield message;
    }
  }

  #checkTopic(topic: string): void {
    const problem = topicProblem(topic, this.#limits.maxTopicBytes);
    if (problem === null) return;
    if (typeof topic === "string" && topic.length > 0) throw new RangeError(problem);
    throw new TypeError(problem);
  }

  #send(frame: ClientFrame): Promise<void> {
    if (this.#closing !== null || this.#queue.failed) {
      return Promise.reject(this.#closedError());
    }
    const text = toAsciiJson(JSON.stringify(frame)) + "\n";
    if (!this.#queue.enqueueText(text)) {
      return Promise.reject(
        new PubSubError(
          ErrorCode.BufferFull,
          `Outbound buffer holds ${this.#queue.pendingBytes} bytes; ` +
            `${text.length} more would exceed ${this.#limits.maxOutboundBytes}`,
        ),
      );
    }
    return this.#queue.written();
  }

  #closedError(): ConnectionClosedError {
    return this.#closedLocally
      ? new ConnectionClosedError("Client is closed")
      : new ConnectionClosedError("Connection was lost", { cause: this.#serverError ?? undefined });
  }

  async #finish(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#limits.closeGraceMs);
    });
    try {
      await Promise.race([this.#queue.written().catch(ignore), deadline]);
    } finally {
      clearTimeout(timer);
      this.#conn.close();
    }
    this.#endFlushes();
    this.#inbox.close(this.#closedError());
    await this.#reading;
  }

  #endFlushes(): void {
    for (const pending of this.#flushes.values()) pending.reject(this.#closedError());
    this.#flushes.clear();
  }

  #lost(cause: unknown): void {
    if (this.#closing !== null) return;
    this.#logger.warn("Connection lost", { cause });
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#closing = Promise.resolve();
    this.#conn.close();
    this.#endFlushes();
    this.#inbox.close(this.#closedError());
  }

  async #read(): Promise<void> {
    const decoder = new LineDecoder(this.#limits.maxLineBytes);
    let failure: unknown = undefined;
    try {
      for await (const chunk of this.#conn) {
        decoder.push(chunk);
        for (let line = decoder.next(); line !== null; line = decoder.next()) {
          if (line.byteLength > 0) this.#frame(line);
        }
        await this.#inbox.room();
      }
    } catch (error) {
      failure = error;
      this.#logger.warn("Server sent an invalid frame", { error });
      this.#serverError ??= new ServerError(ErrorCode.ProtocolError, String(error), {
        cause: error,
      });
    }
    this.#lost(failure);
    await this.#conn.closed;
  }

  #frame(line: Uint8Array): void {
    const frame = decodeServerFrame(line);
    switch (frame.kind) {
      case "message":
        if (this.#flushes.size > 0 && this.#flushes.has(frame.topic)) {
          this.#flushes.get(frame.topic)!.resolve();
          return;
        }
        this.#inbox.push({ topic: frame.topic, message: frame.message }, line.byteLength);
        return;
      case "error":
        this.#serverError = new ServerError(frame.code, frame.error);
        this.#logger.warn("Server sent an error", { code: frame.code, error: frame.error });
        return;
      default:
        this.#logger.debug("Ignored an unknown frame", { action: frame.action });
    }
  }
}
