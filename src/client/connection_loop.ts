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
import type { Conn, Transport } from "../transport/types.ts";
import { backoffDelay } from "./backoff.ts";
import type { ClientSession } from "./client_session.ts";
import { Connection, isFinal, openConn } from "./connection.ts";
import { runtimeTransport } from "./dial.ts";
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
   * The connection life, one connection after another: take it into use,
   * read it until it is lost, then back off and dial until a new one is up.
   * It ends when the client closes, or closes it.
   */
  async #run(first: Connection): Promise<void> {
    let link = first;
    let attempt = 0; // how many attempts it took to get `link` (0: connect()'s)
    while (true) {
      if (attempt > 0) this.#attach(link, attempt); // resubscribe, drain held publishes
      const reason = await link.ended; // read until lost
      if (!this.#lost(link, reason)) return; // closing, or closed instead of reconnecting
      const next = await this.#redial(reason); // back off and dial
      if (next === null) return; // the client closed, or it gave up
      [link, attempt] = next;
    }
  }

  /**
   * The current connection ended: whoever waits for its answers is told,
   * and `disconnect` reported. Returns whether to reconnect; when not
   * (reconnecting is off, `connect()` has not finished, or `reason` is
   * final), the client is closed.
   */
  #lost(link: Connection, reason: PubSubError): boolean {
    const session = this.#session;
    this.#current = null;
    const lost = link.closedError();
    session.answers.rejectAll(lost);
    session.connectionLost();
    link.queue.discardQueued(lost);
    if (session.closing) return false;
    session.settings.logger.warn("Connection lost", { reason });
    session.status.emit({ type: "disconnect", error: reason });
    if (session.settings.reconnect !== null && this.#greeted && !isFinal(reason)) return true;
    session.shutdown(lost);
    return false;
  }

  /**
   * Backs off and dials until a connection is up: resolves with it and the
   * attempt number, or with `null` once the client closes, or after it
   * gave up (too many attempts, or a final failure) and closed the client.
   */
  async #redial(reason: PubSubError): Promise<[Connection, number] | null> {
    const session = this.#session;
    const policy = session.settings.reconnect!;
    const stop = this.#stop.signal;
    let error: unknown = reason;
    for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
      const delayMs = backoffDelay(attempt, policy);
      session.status.emit({ type: "reconnect", attempt, delayMs, error });
      const wait = grace(delayMs);
      await abortable(wait.elapsed, stop).catch(ignore); // rejects only once stopped
      wait.clear();
      if (stop.aborted) return null;
      let link: Connection;
      try {
        link = await this.#dial(stop);
      } catch (failure) {
        if (stop.aborted) return null;
        if (isFinal(failure)) {
          const message = failure instanceof Error ? failure.message : String(failure);
          session.shutdown(
            new ConnectionClosedError(`Stopped reconnecting: ${message}`, { cause: failure }),
          );
          return null;
        }
        error = failure;
        continue;
      }
      if (stop.aborted) {
        link.close();
        return null;
      }
      if (link.open) return [link, attempt];
      error = link.reason; // it ended in the meantime: try again
    }
    const message = `Gave up reconnecting after ${policy.maxAttempts} attempts`;
    session.shutdown(new ConnectionClosedError(message, { cause: error }));
    return null;
  }

  /** A reconnect attempt: a new socket, and `hello` again if the client said it. */
  async #dial(signal: AbortSignal): Promise<Connection> {
    const { settings, target } = this.#session;
    const transport = this.#transport ??= await runtimeTransport();
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
    if (this.#stop.signal.aborted) return link.close(); // the client closed meanwhile
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
