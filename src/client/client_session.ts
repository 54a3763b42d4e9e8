/**
 * A client's session with the server, across connections: where a frame
 * goes (the current connection, the offline buffer, or a wait for the next
 * connection), round trips (`flush()`, `request()`), and the one close
 * path. `ConnectionLoop` keeps it connected; `receive.ts` handles what
 * the server sends.
 *
 * @module
 */

import { abortable, deferred, grace, ignore, RESOLVED } from "../_async.ts";
import { ConnectionClosedError, ErrorCode, PubSubError, type ServerError } from "../errors.ts";
import type { ClientFrame, JsonValue, PublishFrame } from "../protocol/frames.ts";
import type { Message } from "./message.ts";
import type { Conn } from "../transport/types.ts";
import { Answers } from "./answers.ts";
import type { Connection, DialTarget } from "./connection.ts";
import { ConnectionLoop } from "./connection_loop.ts";
import { Inbox } from "./inbox.ts";
import { OfflineBuffer } from "./offline_buffer.ts";
import {
  checkTopic,
  type ClientSettings,
  type FlushOptions,
  type PublishOptions,
  type RequestOptions,
  type SubscribeOptions,
} from "./options.ts";
import { StatusEvents } from "./status.ts";
import {
  LocalSubscriptions,
  subscribeFrame,
  type Subscription,
  unsubscribeFrame,
} from "./subscription.ts";

/** The client's counters, shown by its getters. */
export interface ClientCounters {
  /** Messages for subscriptions that had ended. */
  droppedMessages: number;
  /** Publishes the full offline buffer dropped (`offlineOverflow: "count"`). */
  droppedPublishes: number;
  /** Messages the server dropped for this client (its `slow_consumer` notices). */
  droppedByServer: number;
  /** The last `error` frame about no frame with an `id`. */
  lastServerError: ServerError | null;
}

/** The longest delay setTimeout can count. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One client's sends, receives, subscriptions across connections, and close path. */
export class ClientSession {
  /** The resolved options. */
  readonly settings: ClientSettings;
  /** Where to reconnect (the host as given to `connect()`). */
  readonly target: DialTarget;
  /** Pending answers: acks, `hello`, flushes and requests. */
  readonly answers: Answers = new Answers();
  /** Status events. */
  readonly status: StatusEvents;
  /** The counters the client shows. */
  readonly counters: ClientCounters = {
    droppedMessages: 0,
    droppedPublishes: 0,
    droppedByServer: 0,
    lastServerError: null,
  };
  /** Received messages, in their subscriptions' queues. */
  readonly inbox: Inbox;
  /** The client's subscriptions. */
  readonly subscriptions: LocalSubscriptions;
  /** Publishes held while disconnected. */
  readonly offline: OfflineBuffer;
  /** Resolves once closed for good. */
  readonly done: Promise<void>;
  readonly #loop: ConnectionLoop;
  readonly #finished = deferred<void>();
  #closing: Promise<void> | null = null;
  #closedLocally = false;
  #closeError = new ConnectionClosedError("Client is closed");
  #flushes = 0;
  #requests = 0;
  #inboxReady: Promise<string> | null = null;

  /**
   * @param conn The first connection, open.
   * @param target Where to reconnect.
   * @param settings The client's options, resolved.
   */
  constructor(conn: Conn, target: DialTarget, settings: ClientSettings) {
    this.settings = settings;
    this.target = target;
    this.status = new StatusEvents(settings.limits.maxStatusEvents);
    this.inbox = new Inbox(settings.limits.maxInboundBytes);
    this.subscriptions = new LocalSubscriptions(this);
    this.offline = new OfflineBuffer(settings.limits.maxOfflineBytes);
    this.done = this.#finished.promise;
    this.#loop = new ConnectionLoop(conn, this);
  }

  /** Whether closing or closed: sends reject, a lost connection is not replaced. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** Whether the owner closed it (`close()`, `drain()`): iterations then end quietly. */
  get closedLocally(): boolean {
    return this.#closedLocally;
  }

  /** The current connection's loop: the server's answer, whether connected. */
  get loop(): ConnectionLoop {
    return this.#loop;
  }

  /** Whether a connection is up. */
  get connected(): boolean {
    return this.#closing === null && this.#loop.connected;
  }

  /**
   * `connect()`'s `hello` on the first connection. On failure the session
   * is closed and the error says why (`auth_failed`, or `connect_failed`).
   */
  async greet(signal: AbortSignal): Promise<void> {
    try {
      await this.#loop.greet(signal);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  // ---- sending ---------------------------------------------------------------

  /**
   * See `PubSubClient.publish()`: publishes now, or holds it in the offline
   * buffer while disconnected.
   */
  publish(topic: string, message: JsonValue, options: PublishOptions = {}): Promise<void> {
    const { limits, overflow } = this.settings;
    checkTopic(topic, limits);
    if (message === undefined) throw new TypeError("Message must be a JSON value, got undefined");
    const frame: PublishFrame = { action: "publish", topic, message };
    if (options.headers !== undefined) frame.headers = options.headers;
    if (options.reply !== undefined) {
      checkTopic(options.reply, limits);
      frame.reply = options.reply;
    }
    if (options.retain !== undefined) frame.retain = options.retain;
    if (this.#closing !== null) return Promise.reject(this.#closeError);
    const link = this.#loop.open;
    if (link !== null) return this.sendMaybeAck(link, frame, options.ack);
    const held = this.offline.hold(frame, options.ack ?? this.#loop.server !== null);
    if (held instanceof Promise) return held;
    if (overflow === "error") return Promise.reject(held);
    this.counters.droppedPublishes++;
    if (this.status.listening) {
      const error = new PubSubError(
        ErrorCode.BufferFull,
        `Dropped a publish to "${topic}": ${held.message}`,
      );
      this.status.emit({ type: "error", error });
    }
    return RESOLVED;
  }

  /** See `PubSubClient.subscribe()`; arguments are checked. */
  async subscribe(pattern: string, options: SubscribeOptions): Promise<Subscription> {
    if (this.#closing !== null) throw this.#closeError;
    const existing = this.subscriptions.find(pattern, options.group);
    if (existing !== undefined) return existing;
    const subscription = this.subscriptions.create(pattern, options.group, options.policy);
    try {
      await this.sendSubscription(subscribeFrame(subscription), options.ack);
    } catch (error) {
      this.forget(subscription);
      throw error;
    }
    return subscription;
  }

  /** See `PubSubClient.unsubscribe()`; arguments are checked. */
  unsubscribe(pattern: string, options: SubscribeOptions): Promise<void> {
    if (this.#closing !== null) return Promise.reject(this.#closeError);
    const subscription = this.subscriptions.find(pattern, options.group);
    if (subscription !== undefined) this.forget(subscription);
    const frame: ClientFrame = { action: "unsubscribe", topic: pattern };
    if (options.group !== undefined) frame.group = options.group;
    return this.sendSubscription(frame, options.ack);
  }

  /** Ends `subscription` here, counting the messages it drops. */
  forget(subscription: Subscription): void {
    this.counters.droppedMessages += this.subscriptions.forget(subscription);
  }

  /**
   * Sends a subscribe or unsubscribe now; while disconnected there is
   * nothing to send (the next connection subscribes from the client's list).
   */
  sendSubscription(frame: ClientFrame, ack: boolean | undefined): Promise<void> {
    if (this.#closing !== null) return Promise.reject(this.#closeError);
    const link = this.#loop.open;
    return link === null ? RESOLVED : this.sendMaybeAck(link, frame, ack);
  }

  /** For round trips: sends now, or once connected again. */
  #sendWhenConnected(frame: ClientFrame, ack: boolean | undefined): Promise<void> {
    if (this.#closing !== null) return Promise.reject(this.#closeError);
    const link = this.#loop.open;
    if (link !== null) return this.sendMaybeAck(link, frame, ack);
    return this.#loop.whenConnected().then(() => this.#sendWhenConnected(frame, ack));
  }

  /**
   * Sends `frame` on `link`, with an `id` and waiting for the answer when
   * `ack` (default: after `hello`); `force` goes past `maxOutboundBytes`.
   */
  sendMaybeAck(
    link: Connection,
    frame: ClientFrame,
    ack: boolean | undefined,
    force = false,
  ): Promise<void> {
    if (!(ack ?? this.#loop.server !== null)) return link.send(frame, force);
    const id = this.answers.nextId();
    frame.id = id;
    const answer = this.answers.expect(id);
    link.send(frame, force).catch((error) => this.answers.fail(id, error));
    return answer;
  }

  // ---- round trips -----------------------------------------------------------

  /** See `PubSubClient.flush()`. */
  async flush(options: FlushOptions = {}): Promise<void> {
    const { signal, viaTopic = false } = options;
    if (signal?.aborted) throw signal.reason;
    if (viaTopic) return await this.#flushViaTopic(signal);
    while (true) {
      if (this.#closing !== null) throw this.#closeError;
      const link = this.#loop.open;
      if (link === null) {
        await abortable(this.#loop.whenConnected(), signal);
        continue;
      }
      // A ping with an id: our server handles a connection's frames in order
      // and answers it (a pong, an `ok` when a handler stopped it, or
      // `auth_required`), with or without hello. It routes nothing.
      const frame: ClientFrame = { action: "ping" };
      const answer = this.sendMaybeAck(link, frame, true);
      try {
        return await abortable(answer, signal);
      } catch (error) {
        if (signal?.aborted && frame.id !== undefined) this.answers.fail(frame.id, error);
        throw error;
      }
    }
  }

  /** For kn-sock servers, which answer no ping: a marker published to a private topic. */
  async #flushViaTopic(signal: AbortSignal | undefined): Promise<void> {
    const topic = `_flush/${this.answers.prefix}/${this.#flushes++}`;
    const arrived = this.answers.message(topic);
    try {
      await abortable(this.#sendWhenConnected({ action: "subscribe", topic }, false), signal);
      await abortable(
        this.#sendWhenConnected({ action: "publish", topic, message: null }, false),
        signal,
      );
      await abortable(arrived, signal);
    } finally {
      this.answers.forget(topic);
    }
    await this.#sendWhenConnected({ action: "unsubscribe", topic }, false);
  }

  /** See `PubSubClient.request()`; `topic` and `timeout` are checked. */
  async request(topic: string, message: JsonValue, options: RequestOptions): Promise<Message> {
    const { timeout = 10_000, signal, headers } = options;
    if (this.#closing !== null) throw this.#closeError;
    if (signal?.aborted) throw signal.reason;
    // The waits are armed before the first await, so an abort or the
    // timeout is never missed.
    const n = this.#requests++;
    let reply: string | null = null;
    const given = deferred<never>();
    given.promise.catch(ignore);
    const onAbort = (): void => given.reject(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    // Infinity waits for ever; setTimeout cannot count past MAX_TIMER_MS.
    const timer = timeout === Infinity ? undefined : setTimeout(() => {
      given.reject(
        new PubSubError(ErrorCode.Timeout, `No reply on "${topic}" within ${timeout} ms`),
      );
    }, Math.min(timeout, MAX_TIMER_MS));
    try {
      const inbox = await Promise.race([this.#inbox(), given.promise]);
      reply = `${inbox}/${n}`;
      const answer = Promise.race([this.answers.message(reply), given.promise]);
      this.publish(topic, message, { reply, headers }).catch((error) => given.reject(error));
      return await answer;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (reply !== null) this.answers.forget(reply);
    }
  }

  /**
   * Subscribes the private inbox once per connection (again after a
   * failure); resolves with the topic its replies go under. That is
   * `<server's inbox>/<random prefix>` when the server gives the connection
   * a private inbox (auth on: no other connection can read it), else
   * `_inbox/<random prefix>`.
   */
  #inbox(): Promise<string> {
    if (this.#inboxReady === null) {
      const connected = this.#loop.open !== null ? RESOLVED : this.#loop.whenConnected();
      const ready = connected.then(async () => {
        const inbox = `${this.#loop.server?.inbox ?? "_inbox"}/${this.answers.prefix}`;
        await this.#sendWhenConnected({ action: "subscribe", topic: `${inbox}/+` }, undefined);
        return inbox;
      });
      this.#inboxReady = ready;
      ready.catch(() => {
        if (this.#inboxReady === ready) this.#inboxReady = null;
      });
    }
    return this.#inboxReady;
  }

  /** The connection was lost: the private inbox subscription went with it. */
  connectionLost(): void {
    this.#inboxReady = null;
  }

  // ---- closing ---------------------------------------------------------------

  /** See `PubSubClient.close()`. */
  close(): Promise<void> {
    return this.#closeLocally("Client is closed", false);
  }

  /** See `PubSubClient.drain()`. */
  drain(): Promise<void> {
    return this.#closeLocally("Client is draining", true);
  }

  #closeLocally(why: string, drain: boolean): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closedLocally = true;
    this.#closeError = new ConnectionClosedError(why);
    this.#closing = this.#closeWithin(this.settings.limits.closeGraceMs, drain);
    return this.#closing;
  }

  /** Closes for good, not asked by the owner: gave up, or no reconnecting. */
  shutdown(error: ConnectionClosedError): void {
    if (this.#closing !== null) return;
    this.#closeError = error;
    this.#closing = this.#teardown(null);
  }

  async #closeWithin(graceMs: number, drain: boolean): Promise<void> {
    const within = grace(graceMs);
    try {
      const link = this.#loop.open;
      if (drain && link !== null) {
        // Unsubscribing with acks: once answered, no message is in flight.
        const done = [...this.subscriptions.live()].map((subscription) =>
          this.sendMaybeAck(link, unsubscribeFrame(subscription), undefined, true).catch(ignore)
        );
        done.push(this.answers.idle());
        await Promise.race([Promise.all(done), within.elapsed]);
      }
      if (drain) this.#closeError = new ConnectionClosedError("Client is closed");
      await this.#teardown(within.elapsed);
    } finally {
      within.clear();
    }
  }

  /**
   * The one close path: stops reconnecting, rejects held publishes and
   * waiting calls, flushes the queue until `flushUntil` (when given),
   * closes the socket, and ends the inbox and the status iterators.
   */
  async #teardown(flushUntil: Promise<void> | null): Promise<void> {
    const error = this.#closeError;
    this.#loop.stop(error);
    this.offline.rejectAll(error);
    const link = this.#loop.current;
    if (link !== null && flushUntil !== null) {
      await Promise.race([link.queue.written().catch(ignore), flushUntil]);
    }
    link?.close();
    this.answers.rejectAll(error);
    this.inbox.close(error);
    if (link !== null) await link.ended;
    this.status.close({ type: "close", error: this.#closedLocally ? null : error });
    this.#finished.resolve();
  }
}
