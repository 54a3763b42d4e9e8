/**
 * A client's session with the server, across connections: where a frame
 * goes (the current connection, the offline buffer, or a wait for the next
 * connection), what a new connection is told first, what a lost one means
 * (reconnect, or close), and the one close path.
 *
 * @module
 */

import { type Deferred, deferred, grace, ignore, RESOLVED } from "../_async.ts";
import { ConnectionClosedError, ErrorCode, PubSubError } from "../errors.ts";
import type { ClientLimits } from "../limits.ts";
import type { Logger } from "../logger.ts";
import type { ClientFrame, JsonValue, PublishFrame, ServerInfo } from "../protocol/frames.ts";
import type { Conn, Transport } from "../transport/types.ts";
import { Answers } from "./answers.ts";
import type { Connection } from "./connection.ts";
import { Connector } from "./connector.ts";
import { type ClientCounters, dispatchFrame } from "./dispatch.ts";
import type { DialTarget } from "./handshake.ts";
import { Inbox } from "./inbox.ts";
import { LocalSubscriptions, subscribeFrame, unsubscribeFrame } from "./local_subscriptions.ts";
import { OfflineBuffer } from "./offline_buffer.ts";
import type { PublishOptions, SubscribeOptions } from "./options.ts";
import { RoundTrips } from "./round_trips.ts";
import type { ClientSettings } from "./settings.ts";
import { StatusEvents } from "./status.ts";
import type { Subscription } from "./subscription.ts";

/** What a session is made of. */
export interface SessionOptions {
  /** The limits in force. */
  readonly limits: ClientLimits;
  /** The resolved options. */
  readonly settings: ClientSettings;
  /** Where to log. */
  readonly logger: Logger;
  /** Where to reconnect. */
  target: DialTarget;
  /** How to reconnect; the runtime's own when `undefined`. */
  transport: Transport | undefined;
  /** The client's `publish()`, for replies and `message.respond()`. */
  publish(topic: string, message: JsonValue, options?: PublishOptions): Promise<void>;
}

/** One client's sends, subscriptions across connections, and close path. */
export class ClientSession {
  /** Pending answers to frames with an `id`, and to `hello`. */
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
  readonly local: LocalSubscriptions;
  /** Pending flushes and requests. */
  readonly trips: RoundTrips;
  /** The current connection and the way to the next. */
  readonly connector: Connector;
  /** Resolves once closed for good. */
  readonly done: Promise<void>;
  readonly #options: SessionOptions;
  readonly #offline: OfflineBuffer;
  readonly #finished: Deferred<void> = deferred<void>();
  #closing: Promise<void> | null = null;
  #closedLocally = false;
  #closeError: ConnectionClosedError = new ConnectionClosedError("Client is closed");

  /**
   * @param conn The first connection, open.
   * @param options The client's settings.
   */
  constructor(conn: Conn, options: SessionOptions) {
    this.#options = options;
    const { limits, logger, settings } = options;
    const inbox = this.inbox = new Inbox(limits.maxInboundBytes);
    const closedLocally = (): boolean => this.#closedLocally;
    const local = this.local = new LocalSubscriptions(inbox, {
      unsubscribe: (subscription) => {
        this.forget(subscription);
        return this.sendSubscription(unsubscribeFrame(subscription), undefined);
      },
      get closedLocally() {
        return closedLocally();
      },
    });
    const trips = this.trips = new RoundTrips({
      send: (frame) => this.sendWhenConnected(frame, false),
      sendMaybeAck: (frame) => this.sendWhenConnected(frame, undefined),
      publish: (topic, message, reply, headers) =>
        options.publish(topic, message, { reply, headers }),
      closedError: () => this.#closing === null ? null : this.#closeError,
      helloed: () => this.server !== null,
    });
    const status = this.status = new StatusEvents(limits.maxStatusEvents);
    this.#offline = new OfflineBuffer({
      maxBytes: limits.maxOfflineBytes,
      overflow: settings.overflow,
      dropped: (topic, problem) => {
        this.counters.droppedPublishes++;
        if (!status.listening) return;
        const message = `Dropped a publish to "${topic}": ${problem}`;
        status.emit({ type: "error", error: new PubSubError(ErrorCode.BufferFull, message) });
      },
    });
    const { answers, counters } = this;
    const publish = (topic: string, message: JsonValue) => options.publish(topic, message);
    const dispatch = { answers, trips, local, inbox, status, counters, logger, publish };
    this.connector = new Connector(conn, {
      ...options,
      answers,
      host: {
        frame: (frame, size, link) => dispatchFrame(dispatch, frame, size, link),
        room: () => inbox.room(),
      },
    }, {
      attached: (link) => this.#attached(link),
      lost: (link, reason) => this.#lost(link, reason),
      giveUp: (error) => this.#shutdown(error),
      emit: (event) => status.emit(event),
    });
    this.done = this.#finished.promise;
  }

  /** Whether closing or closed. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** Whether the owner closed it (`close()`, `drain()`): iterations then end quietly. */
  get closedLocally(): boolean {
    return this.#closedLocally;
  }

  /** What calls reject with once closing. */
  get closeError(): ConnectionClosedError {
    return this.#closeError;
  }

  /** The server's answer to the latest `hello`. */
  get server(): ServerInfo | null {
    return this.connector.server;
  }

  /** Whether a connection is up. */
  get connected(): boolean {
    return this.#closing === null && this.connector.connected;
  }

  /** Bytes queued or in flight on the current connection. */
  get pendingBytes(): number {
    return this.connector.current?.queue.pendingBytes ?? 0;
  }

  /** Bytes held in the offline buffer. */
  get offlineBytes(): number {
    return this.#offline.bytes;
  }

  /**
   * `connect()`'s `hello` on the first connection. On failure the session
   * is closed and the error says why (`auth_failed`, or `connect_failed`).
   */
  async greet(signal: AbortSignal): Promise<void> {
    try {
      await this.connector.greet(signal);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** See `PubSubClient.subscribe()`; arguments are checked. */
  async subscribe(pattern: string, options: SubscribeOptions): Promise<Subscription> {
    if (this.#closing !== null) throw this.#closeError;
    const existing = this.local.find(pattern, options.group);
    if (existing !== undefined) return existing;
    const subscription = this.local.create(pattern, options.group, options.policy);
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
    const subscription = this.local.find(pattern, options.group);
    if (subscription !== undefined) this.forget(subscription);
    const frame: ClientFrame = { action: "unsubscribe", topic: pattern };
    if (options.group !== undefined) frame.group = options.group;
    return this.sendSubscription(frame, options.ack);
  }

  /** Ends `subscription` here, counting the messages it drops. */
  forget(subscription: Subscription): void {
    this.counters.droppedMessages += this.local.forget(subscription);
  }

  // ---- sending ---------------------------------------------------------------

  /** Publishes now, or holds it in the offline buffer while disconnected. */
  publish(frame: PublishFrame, ack: boolean | undefined): Promise<void> {
    if (this.#closing !== null) return Promise.reject(this.#closeError);
    const link = this.connector.open;
    if (link !== null) return this.#sendMaybeAck(link, frame, ack);
    return this.#offline.hold(frame, ack ?? this.server !== null);
  }

  /**
   * Sends a subscribe or unsubscribe now; while disconnected there is
   * nothing to send (the next connection subscribes from the client's list).
   */
  sendSubscription(frame: ClientFrame, ack: boolean | undefined): Promise<void> {
    if (this.#closing !== null) return Promise.reject(this.#closeError);
    const link = this.connector.open;
    return link === null ? RESOLVED : this.#sendMaybeAck(link, frame, ack);
  }

  /** For round trips: sends now, or once connected again. */
  sendWhenConnected(frame: ClientFrame, ack: boolean | undefined): Promise<void> {
    if (this.#closing !== null) return Promise.reject(this.#closeError);
    const link = this.connector.open;
    if (link !== null) return this.#sendMaybeAck(link, frame, ack);
    return this.connector.whenConnected().then(() => this.sendWhenConnected(frame, ack));
  }

  /** Sends `frame`, with an `id` and waiting for the answer when `ack` (default: after `hello`). */
  #sendMaybeAck(
    link: Connection,
    frame: ClientFrame,
    ack: boolean | undefined,
    force = false,
  ): Promise<void> {
    if (!(ack ?? this.server !== null)) return link.send(frame, force);
    const id = this.answers.nextId();
    frame.id = id;
    const answer = this.answers.expect(id);
    link.send(frame, force).catch((error) => this.answers.fail(id, error));
    return answer;
  }

  // ---- connections -----------------------------------------------------------

  /**
   * A new connection after a reconnect: subscribes again to every
   * subscription, then sends the publishes held meanwhile, in order.
   * Resolves once the server acknowledged the subscriptions (after `hello`).
   */
  #attached(link: Connection): Promise<unknown> {
    const acks: Promise<void>[] = [];
    for (const subscription of this.local.live()) {
      const sent = this.#sendMaybeAck(link, subscribeFrame(subscription), undefined, true);
      acks.push(sent.catch((error) => this.#resubscribeFailed(subscription, error)));
    }
    this.#offline.drain((entry) => {
      if (entry.text !== null) {
        link.queue.enqueueText(entry.text, true);
        return;
      }
      const answer = entry.answer!;
      this.#sendMaybeAck(link, entry.frame!, true, true).then(answer.resolve, answer.reject);
    }, () => link.queue.written());
    return Promise.all(acks);
  }

  #resubscribeFailed(subscription: Subscription, error: unknown): void {
    if (error instanceof ConnectionClosedError || !(error instanceof PubSubError)) return;
    this.#options.logger.warn("Server refused a subscription again", {
      pattern: subscription.pattern,
      error,
    });
    this.status.emit({ type: "error", error });
  }

  /** The current connection ended: reconnect, or close. */
  #lost(link: Connection, reason: PubSubError): void {
    const lost = link.closedError();
    this.answers.rejectAll(lost);
    this.trips.rejectAll(lost);
    link.queue.discardQueued(lost);
    if (this.#closing !== null) return;
    this.#options.logger.warn("Connection lost", { reason });
    this.status.emit({ type: "disconnect", error: reason });
    if (!this.connector.reconnect(reason)) this.#shutdown(lost);
  }

  // ---- closing ---------------------------------------------------------------

  /** See `PubSubClient.close()`. */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closedLocally = true;
    this.#closeError = new ConnectionClosedError("Client is closed");
    this.#closing = this.#closeWithin(this.#options.limits.closeGraceMs, false);
    return this.#closing;
  }

  /** See `PubSubClient.drain()`. */
  drain(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closedLocally = true;
    this.#closeError = new ConnectionClosedError("Client is draining");
    this.#closing = this.#closeWithin(this.#options.limits.closeGraceMs, true);
    return this.#closing;
  }

  /** Closes for good, not asked by the owner: gave up, or no reconnecting. */
  #shutdown(error: ConnectionClosedError): void {
    if (this.#closing !== null) return;
    this.#closeError = error;
    this.#closing = this.#teardown(null);
  }

  async #closeWithin(graceMs: number, drain: boolean): Promise<void> {
    const within = grace(graceMs);
    try {
      const link = this.connector.open;
      if (drain && link !== null) {
        // Unsubscribing with acks: once answered, no message is in flight.
        const done = [...this.local.live()].map((subscription) =>
          this.#sendMaybeAck(link, unsubscribeFrame(subscription), undefined, true).catch(ignore)
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
    this.connector.stop(error);
    this.#offline.rejectAll(error);
    const link = this.connector.current;
    if (link !== null && flushUntil !== null) {
      await Promise.race([link.queue.written().catch(ignore), flushUntil]);
    }
    link?.close();
    this.answers.rejectAll(error);
    this.trips.rejectAll(error);
    this.inbox.close(error);
    if (link !== null) await link.ended;
    this.status.close({ type: "close", error: this.#closedLocally ? null : error });
    this.#finished.resolve();
  }
}
