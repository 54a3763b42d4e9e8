/**
 * A client's connections, one after another, in one loop: a connection is
 * taken into use (subscriptions sent again, held publishes drained), read
 * until it is lost, and then, unless the client closes, the loop backs off
 * and dials (socket, `hello`) until a new one is up, or gives up.
 *
 * @module
 */

import { abortable, deadline, type Deferred, grace, handled, ignore } from "../_async.ts";
import { ConnectionClosedError, PubSubError } from "../errors.ts";
import type { ServerInfo } from "../protocol/frames.ts";
import { defaultTransport } from "../transport/auto.ts";
import type { Conn, Transport } from "../transport/types.ts";
import { backoffDelay } from "./backoff.ts";
import type { ClientSession } from "./client_session.ts";
import { Connection, isFinal, openConn } from "./connection.ts";
import { subscribeFrame, type Subscription } from "./subscription.ts";

/** The current connection of a client, and the loop that replaces it when it is lost. */
export class ConnectionLoop {
  /** The server's answer to the latest `hello`. */
  server: ServerInfo | null = null;
  readonly #session: ClientSession;
  #transport: Transport | undefined;
  #current: Connection | null;
  /** `false` only while `connect()` waits for `hello`: a loss then is final. */
  #greeted = true;
  #ready: Deferred<void> | null = null;
  /** Aborted when the client closes: stops the backoff wait and a dial in progress. */
  readonly #stop = new AbortController();

  /**
   * Takes `conn` into use and starts the loop.
   *
   * @param conn The first connection, open.
   * @param session The client's session.
   */
  constructor(conn: Conn, session: ClientSession) {
    this.#session = session;
    this.#transport = session.settings.transport;
    const first = this.#current = new Connection(conn, session);
    void this.#run(first);
  }

  /** The current connection, even a failing one; `null` between connections. */
  get current(): Connection | null {
    return this.#current;
  }

  /** The connection to send on, or `null` while there is none (or it is failing). */
  get open(): Connection | null {
    const link = this.#current;
    return link !== null && link.open ? link : null;
  }

  /** Whether a connection is up and past `connect()`'s `hello`. */
  get connected(): boolean {
    return !this.#stop.signal.aborted && this.#greeted && this.open !== null;
  }

  /**
   * `connect()`'s `hello` on the first connection. Rejects with
   * `auth_failed` or `connect_failed`; the caller closes the client.
   */
  async greet(signal: AbortSignal): Promise<void> {
    const link = this.#current!;
    this.#greeted = false;
    this.server = await link.hello(signal);
    this.#greeted = true;
    this.#keepalive(link);
  }

  /** Resolves once a connection is current again; rejects when the loop stops. */
  whenConnected(): Promise<void> {
    this.#ready ??= handled<void>();
    return this.#ready.promise;
  }

  /** Stops for good: no more attempts; whoever waits for a connection gets `error`. */
  stop(error: ConnectionClosedError): void {
    this.#stop.abort(new ConnectionClosedError("Client is closed"));
    this.#ready?.reject(error);
    this.#ready = null;
  }

  /**
   * The connection life: read the current connection until it is lost,
   * then back off and dial until a new one is up, and take it into use.
   */
  async #run(link: Connection): Promise<void> {
    const session = this.#session;
    while (true) {
      const reason = await link.ended; // read until lost
      this.#current = null;
      const lost = link.closedError();
      session.answers.rejectAll(lost);
      session.connectionLost();
      link.queue.discardQueued(lost);
      if (session.closing) return;
      session.settings.logger.warn("Connection lost", { reason });
      session.status.emit({ type: "disconnect", error: reason });
      const policy = session.settings.reconnect;
      if (policy === null || !this.#greeted || isFinal(reason)) return session.shutdown(lost);
      let error: unknown = reason;
      let attempt = 0;
      while (true) {
        attempt++;
        if (attempt > policy.maxAttempts) {
          const message = `Gave up reconnecting after ${policy.maxAttempts} attempts`;
          return session.shutdown(new ConnectionClosedError(message, { cause: error }));
        }
        const delayMs = backoffDelay(attempt, policy);
        session.status.emit({ type: "reconnect", attempt, delayMs, error });
        const wait = grace(delayMs);
        await abortable(wait.elapsed, this.#stop.signal).catch(ignore); // back off
        wait.clear();
        if (this.#stop.signal.aborted) return;
        try {
          link = await this.#dial(this.#stop.signal);
        } catch (failure) {
          if (this.#stop.signal.aborted) return;
          if (!isFinal(failure)) {
            error = failure;
            continue;
          }
          const message = failure instanceof Error ? failure.message : String(failure);
          return session.shutdown(
            new ConnectionClosedError(`Stopped reconnecting: ${message}`, { cause: failure }),
          );
        }
        if (this.#stop.signal.aborted) return link.close();
        if (link.open) break;
        error = link.reason; // it ended in the meantime: try again
      }
      this.#attach(link, attempt);
    }
  }

  /** A reconnect attempt: a new socket, and `hello` again if the client said it. */
  async #dial(signal: AbortSignal): Promise<Connection> {
    const { settings, target } = this.#session;
    const transport = this.#transport ??= await defaultTransport();
    const timer = deadline(settings.limits.connectTimeoutMs, "Reconnect", signal);
    try {
      const link = new Connection(await openConn(transport, target, timer.signal), this.#session);
      if (settings.hello === null) return link;
      try {
        this.server = await link.hello(timer.signal);
      } catch (error) {
        link.close();
        throw error;
      }
      return link;
    } finally {
      timer.clear();
    }
  }

  /**
   * Takes a new connection into use: subscribes again to every
   * subscription, sends the publishes held meanwhile, in order, lets
   * whoever waits for a connection go on, and reports `connect` once the
   * server acknowledged the subscriptions (after `hello`).
   */
  #attach(link: Connection, attempt: number): void {
    const session = this.#session;
    this.#current = link;
    const acks: Promise<void>[] = [];
    for (const subscription of session.subscriptions.live()) {
      const sent = session.sendMaybeAck(link, subscribeFrame(subscription), undefined, true);
      acks.push(sent.catch((error) => this.#resubscribeFailed(subscription, error)));
    }
    session.offline.drain((entry) => {
      if (entry.text !== null) {
        link.queue.enqueueText(entry.text, true);
        return;
      }
      const answer = entry.answer!;
      session.sendMaybeAck(link, entry.frame!, true, true).then(answer.resolve, answer.reject);
    }, () => link.queue.written());
    const ready = this.#ready;
    this.#ready = null;
    ready?.resolve();
    this.#keepalive(link);
    session.settings.logger.info("Reconnected", { attempt });
    void Promise.all(acks).then(() => {
      if (this.#current === link && link.open) {
        session.status.emit({ type: "connect", addr: link.conn.remoteAddr, attempt });
      }
    });
  }

  #resubscribeFailed(subscription: Subscription, error: unknown): void {
    if (error instanceof ConnectionClosedError || !(error instanceof PubSubError)) return;
    this.#session.settings.logger.warn("Server refused a subscription again", {
      pattern: subscription.pattern,
      error,
    });
    this.#session.status.emit({ type: "error", error });
  }

  /** Pings a quiet server, after `hello` only (a kn-sock server never answers). */
  #keepalive(link: Connection): void {
    const server = this.server;
    if (server === null) return;
    const { pingIntervalMs, maxPingsOutstanding } = this.#session.settings.limits;
    const advertised = server.pingInterval > 0 ? server.pingInterval : Infinity;
    link.keepalive(Math.min(pingIntervalMs, advertised), maxPingsOutstanding);
  }
}
