/**
 * The pub/sub client: kn-sock's `PubSubClient` in TypeScript form.
 *
 * @module
 */

import { ConnectionClosedError, ErrorCode, PubSubError, ServerError } from "../errors.ts";
import { type ClientLimits, DEFAULT_CLIENT_LIMITS, resolveLimits } from "../limits.ts";
import { type Logger, silentLogger } from "../logger.ts";
import { decodeServerFrame, toAsciiJson } from "../protocol/codec.ts";
import type {
  ClientFrame,
  JsonValue,
  Message,
  PublishFrame,
  ServerInfo,
} from "../protocol/frames.ts";
import { patternProblem } from "../topic/pattern.ts";
import { LineDecoder } from "../protocol/line_decoder.ts";
import { topicProblem } from "../topic/validate_topic.ts";
import { defaultTransport } from "../transport/auto.ts";
import type { Addr, Conn } from "../transport/types.ts";
import { WriteQueue } from "../transport/write_queue.ts";
import { Inbox, type RecvOptions } from "./inbox.ts";
import type { Subscription, SubscriptionHost } from "./subscription.ts";
import { LocalSubscriptions } from "./local_subscriptions.ts";
import { RoundTrips } from "./round_trips.ts";
import { Answers } from "./answers.ts";
import type {
  HelloOptions,
  PublishOptions,
  PubSubClientOptions,
  RequestOptions,
  SubscribeOptions,
} from "./options.ts";
import { connectFailed } from "../transport/_connect_errors.ts";

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
  #closing: Promise<void> | null = null;
  #closedLocally = false;
  #serverError: ServerError | null = null;
  #reading: Promise<void>;
  /** Messages on these topics are taken by a waiting flush() or request(). */
  readonly #answers = new Answers();
  #server: ServerInfo | null = null;
  readonly #local: LocalSubscriptions;
  #dropped = 0;
  readonly #host: SubscriptionHost;
  readonly #trips: RoundTrips;
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
      const client = new PubSubClient(conn, limits, options);
      if (options.hello !== undefined && options.hello !== false) {
        const hello = options.hello === true ? {} : options.hello;
        try {
          await client.#sayHello(hello, controller.signal);
        } catch (error) {
          await client.close();
          throw connectFailed(host, port, error);
        }
      }
      return client;
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
    this.#local = new LocalSubscriptions(this.#inbox);
    this.#trips = new RoundTrips({
      send: (frame) => this.#send(frame),
      sendMaybeAck: (frame) => this.#sendMaybeAck(frame, undefined),
      publish: (topic, message, reply, headers) => this.publish(topic, message, { reply, headers }),
      closedError: () => this.#closing === null ? null : this.#closedError(),
    });
    const closedLocally = (): boolean => this.#closedLocally;
    this.#host = {
      next: (subscription, options) => {
        const queue = this.#local.queueOf(subscription);
        return queue === undefined
          ? Promise.resolve(null) // unsubscribed: its messages went to recv()
          : this.#inbox.next(queue, options);
      },
      unsubscribe: (subscription) => this.#unsubscribeLocal(subscription, undefined),
      get closedLocally() {
        return closedLocally();
      },
    };
    this.#reading = this.#read();
    this.closed = this.#reading.then(() => this.#closing ?? undefined);
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The topics this client subscribed to and did not unsubscribe from. */
  get subscriptions(): ReadonlySet<string> {
    return this.#local.patterns;
  }

  /**
   * The last `error` frame the server sent, or `null`. kn-sock servers send
   * none; ours sends one for each bad frame and before closing a connection.
   */
  get lastServerError(): ServerError | null {
    return this.#serverError;
  }

  /**
   * Messages dropped because their subscription had ended: not yet taken at
   * `unsubscribe()`, or still in flight then.
   */
  get droppedMessages(): number {
    return this.#dropped;
  }

  /** The server's answer to `hello`, or `null` when the client did not say it. */
  get server(): ServerInfo | null {
    return this.#server;
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
  publish(topic: string, message: JsonValue, options: PublishOptions = {}): Promise<void> {
    this.#checkTopic(topic);
    if (message === undefined) throw new TypeError("Message must be a JSON value, got undefined");
    const frame: PublishFrame = { action: "publish", topic, message };
    if (options.headers !== undefined) frame.headers = options.headers;
    if (options.reply !== undefined) {
      this.#checkTopic(options.reply);
      frame.reply = options.reply;
    }
    if (options.retain !== undefined) frame.retain = options.retain;
    return this.#sendMaybeAck(frame, options.ack);
  }

  /**
   * Subscribes to a topic or pattern (`+` matches one level, `#` any number
   * of levels at the end). Resolves with the {@linkcode Subscription} once
   * the frame is written, or, with acks, once the server answered.
   *
   * @example
   * ```ts ignore
   * const sub = await client.subscribe("news/+", { group: "workers" });
   * ```
   *
   * @throws {TypeError} For an invalid pattern such as `a/#/b`.
   */
  subscribe(pattern: string, options: SubscribeOptions = {}): Promise<Subscription> {
    this.#checkPattern(pattern, options.group);
    return this.#subscribe(pattern, options);
  }

  async #subscribe(pattern: string, options: SubscribeOptions): Promise<Subscription> {
    const existing = this.#local.find(pattern, options.group);
    if (existing !== undefined) return existing;
    const subscription = this.#local.create(pattern, options.group, this.#host);
    const frame: ClientFrame = { action: "subscribe", topic: pattern };
    if (options.group !== undefined) frame.group = options.group;
    try {
      await this.#sendMaybeAck(frame, options.ack);
    } catch (error) {
      this.#forget(subscription);
      throw error;
    }
    return subscription;
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
    this.#checkPattern(pattern, options.group);
    const subscription = this.#local.find(pattern, options.group);
    if (subscription !== undefined) this.#forget(subscription);
    const frame: ClientFrame = { action: "unsubscribe", topic: pattern };
    if (options.group !== undefined) frame.group = options.group;
    return this.#sendMaybeAck(frame, options.ack);
  }

  /**
   * Publishes `message` with a fresh reply topic and resolves with the first
   * reply. After `hello` (so the publish carries an `id`), when nobody is
   * subscribed to `topic`, it rejects at once with a `ServerError` of code
   * `no_responders`; without it, it waits for the timeout. It rejects with
   * `ConnectionClosedError` when the client closes first.
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
    this.#checkTopic(topic);
    const timeout = options.timeout ?? 10_000;
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      throw new RangeError(`Timeout must be a non-negative number of ms, got ${String(timeout)}`);
    }
    return this.#trips.request(topic, message, timeout, options.signal, options.headers);
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
  flush(): Promise<void> {
    return this.#trips.flush();
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
    const problem = topicProblem(topic, this.#limits.maxTopicBytes, this.#limits.maxTopicLevels);
    if (problem === null) return;
    if (typeof topic === "string" && topic.length > 0) throw new RangeError(problem);
    throw new TypeError(problem);
  }

  #checkPattern(pattern: string, group: string | undefined): void {
    this.#checkTopic(pattern);
    const problem = patternProblem(pattern);
    if (problem !== null) throw new TypeError(problem);
    if (group !== undefined && (typeof group !== "string" || group.length === 0)) {
      throw new TypeError("Group must be a non-empty string");
    }
  }

  /** Sends `frame`, with an `id` and waiting for the answer when acks are on. */
  #sendMaybeAck(frame: ClientFrame, ack: boolean | undefined): Promise<void> {
    if (!(ack ?? this.#server !== null)) return this.#send(frame);
    const id = this.#answers.nextId();
    frame.id = id;
    const answer = this.#answers.expect(id);
    this.#send(frame).catch((error) => this.#answers.fail(id, error));
    return answer;
  }

  async #sayHello(options: HelloOptions, signal: AbortSignal): Promise<void> {
    const frame: ClientFrame = { action: "hello", version: 1, id: this.#answers.nextId() };
    if (options.name !== undefined) frame.name = options.name;
    if (options.echo !== undefined) frame.echo = options.echo;
    const answer = this.#answers.expectHello();
    const onAbort = (): void => this.#answers.endHello(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#send(frame);
      this.#server = await answer;
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#answers.endHello();
    }
  }

  #unsubscribeLocal(subscription: Subscription, ack: boolean | undefined): Promise<void> {
    const frame: ClientFrame = { action: "unsubscribe", topic: subscription.pattern };
    if (subscription.group !== undefined) frame.group = subscription.group;
    this.#forget(subscription);
    return this.#sendMaybeAck(frame, ack);
  }

  #forget(subscription: Subscription): void {
    this.#dropped += this.#local.forget(subscription);
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

  /** Rejects everything waiting on the server: flushes, acks, hello. */
  #endFlushes(): void {
    const error = this.#closedError();
    this.#trips.rejectAll(error);
    this.#answers.rejectAll(error);
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
      case "message": {
        const { kind: _, ...message } = frame;
        if (this.#trips.take(message)) return;
        if (message.reply !== undefined) {
          const reply = message.reply;
          message.respond = (answer: JsonValue) => this.publish(reply, answer);
        }
        const queue = this.#local.route(message.topic);
        if (queue === undefined) {
          // In flight when its subscription ended: nobody asked for it any more.
          this.#dropped++;
          this.#logger.debug("Dropped a message for an ended subscription", {
            topic: message.topic,
          });
          return;
        }
        this.#inbox.push(queue, message, line.byteLength);
        return;
      }
      case "ok":
        return this.#answers.ok(frame.id);
      case "hello": {
        const { kind: _, id: _id, ...info } = frame;
        return this.#answers.hello(info);
      }
      case "error": {
        const error = new ServerError(frame.code, frame.error);
        if (this.#answers.error(frame.id, error)) return;
        this.#serverError = error;
        this.#logger.warn("Server sent an error", { code: frame.code, error: frame.error });
        return;
      }
      default:
        this.#logger.debug("Ignored a frame", {
          action: frame.kind === "unknown" ? frame.action : frame.kind,
        });
    }
  }
}
