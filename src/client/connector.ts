/**
 * Keeping a client connected: the current connection, the first one's
 * `hello`, each reconnect attempt (socket, `hello` again, keepalive), and
 * telling the session when a connection is ready or lost.
 *
 * @module
 */

import { deadline, type Deferred, handled } from "../_async.ts";
import type { ConnectionClosedError, PubSubError } from "../errors.ts";
import type { ClientLimits } from "../limits.ts";
import type { Logger } from "../logger.ts";
import type { ServerInfo } from "../protocol/frames.ts";
import { defaultTransport } from "../transport/auto.ts";
import type { Conn, Transport } from "../transport/types.ts";
import type { Answers } from "./answers.ts";
import { Connection, type ConnectionHost } from "./connection.ts";
import { type DialTarget, helloFailed, isFinal, openConn, sayHello } from "./handshake.ts";
import { Reconnector } from "./reconnector.ts";
import type { ClientSettings } from "./settings.ts";
import type { StatusEvent } from "./status.ts";

/** What the connector tells its session. */
export interface ConnectorHooks {
  /**
   * A new connection is current: send what it must know first
   * (subscriptions, held publishes). Resolves once the server
   * acknowledged what needs it; `connect` is reported then.
   */
  attached(link: Connection): Promise<unknown>;
  /** The current connection ended (it is no longer current). */
  lost(link: Connection, reason: PubSubError): void;
  /** Reconnecting failed for good. */
  giveUp(error: ConnectionClosedError): void;
  /** Reports a status event. */
  emit(event: StatusEvent): void;
}

/** What a connector needs. */
export interface ConnectorOptions {
  /** The limits in force. */
  readonly limits: ClientLimits;
  /** The resolved options. */
  readonly settings: ClientSettings;
  /** Where to log. */
  readonly logger: Logger;
  /** Where `hello` answers arrive. */
  readonly answers: Answers;
  /** What each connection does with its frames. */
  readonly host: ConnectionHost;
  /** Where to reconnect. */
  target: DialTarget;
  /** How to reconnect; the runtime's own when `undefined`. */
  transport: Transport | undefined;
}

/** One client's current connection, and the way to the next one. */
export class Connector {
  /** The server's answer to the latest `hello`. */
  server: ServerInfo | null = null;
  readonly #options: ConnectorOptions;
  readonly #hooks: ConnectorHooks;
  readonly #reconnector: Reconnector | null;
  #current: Connection | null;
  /** `false` only while `connect()` waits for `hello`: a loss then is final. */
  #greeted = true;
  #ready: Deferred<void> | null = null;
  #stopped = false;

  /**
   * @param conn The first connection, open.
   * @param options Settings and parts.
   * @param hooks The session.
   */
  constructor(conn: Conn, options: ConnectorOptions, hooks: ConnectorHooks) {
    this.#options = options;
    this.#hooks = hooks;
    const policy = options.settings.reconnect;
    this.#reconnector = policy === null ? null : new Reconnector(policy, {
      dial: (signal) => this.#dial(signal),
      attach: (link, attempt) => this.#attach(link, attempt),
      isFinal,
      giveUp: (error) => hooks.giveUp(error),
      emit: (event) => hooks.emit(event),
    });
    this.#current = this.#open(conn);
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
    return !this.#stopped && this.#greeted && this.open !== null;
  }

  /** Reconnects to `target` from now on (the host as given to `connect()`). */
  retarget(target: DialTarget): void {
    this.#options.target = target;
  }

  /**
   * `connect()`'s `hello` on the first connection. Rejects with
   * `auth_failed` or `connect_failed`; the caller closes the client.
   */
  async greet(signal: AbortSignal): Promise<void> {
    const link = this.#current!;
    this.#greeted = false;
    try {
      this.server = await this.#sayHello(link, signal);
    } catch (error) {
      throw helloFailed(this.#options.target, error, link.serverError);
    }
    this.#greeted = true;
    this.#keepalive(link);
  }

  /** Resolves once a connection is current again; rejects when the connector stops. */
  whenConnected(): Promise<void> {
    if (this.#ready === null) {
      this.#ready = handled<void>();
    }
    return this.#ready.promise;
  }

  /**
   * Starts reconnecting after a loss; `false` when the client must close
   * instead: reconnecting is off, `connect()` has not finished, or `reason`
   * is final (refused credentials, a server that is not ours).
   */
  reconnect(reason: PubSubError): boolean {
    const reconnector = this.#reconnector;
    if (reconnector === null || this.#stopped || !this.#greeted || isFinal(reason)) return false;
    reconnector.start(reason);
    return true;
  }

  /** Stops for good: no more attempts; whoever waits for a connection gets `error`. */
  stop(error: ConnectionClosedError): void {
    this.#stopped = true;
    this.#reconnector?.stop();
    this.#ready?.reject(error);
    this.#ready = null;
  }

  /** Wraps a socket; its end comes back to `#ended`. */
  #open(conn: Conn): Connection {
    const link = new Connection(conn, this.#options.limits, this.#options.host);
    void link.ended.then((reason) => this.#ended(link, reason));
    return link;
  }

  #ended(link: Connection, reason: PubSubError): void {
    if (link !== this.#current) return; // a reconnect attempt's: the attempt sees it
    this.#current = null;
    this.#hooks.lost(link, reason);
  }

  #sayHello(link: Connection, signal: AbortSignal): Promise<ServerInfo> {
    const { answers, settings: { hello, auth } } = this.#options;
    return sayHello(link, { answers, hello: hello!, auth, signal });
  }

  /** Pings a quiet server, after `hello` only (a kn-sock server never answers). */
  #keepalive(link: Connection): void {
    const server = this.server;
    if (server === null) return;
    const { pingIntervalMs, maxPingsOutstanding } = this.#options.limits;
    const advertised = server.pingInterval > 0 ? server.pingInterval : Infinity;
    link.keepalive(Math.min(pingIntervalMs, advertised), maxPingsOutstanding);
  }

  /** A reconnect attempt: a new socket, and `hello` again if the client said it. */
  async #dial(signal: AbortSignal): Promise<Connection> {
    const options = this.#options;
    const transport = options.transport ??= await defaultTransport();
    const timer = deadline(options.limits.connectTimeoutMs, "Reconnect", signal);
    try {
      const link = this.#open(await openConn(transport, options.target, timer.signal));
      if (options.settings.hello === null) return link;
      try {
        this.server = await this.#sayHello(link, timer.signal);
      } catch (error) {
        link.close();
        throw helloFailed(options.target, error, link.serverError);
      }
      return link;
    } finally {
      timer.clear();
    }
  }

  /**
   * Makes a dialled connection current: the session sends what it must
   * know first, then whoever waits for a connection goes on, and `connect`
   * is reported once the server acknowledged the subscriptions.
   */
  #attach(link: Connection, attempt: number): boolean {
    if (!link.open || this.#stopped) return false;
    this.#current = link;
    const acknowledged = this.#hooks.attached(link);
    const ready = this.#ready;
    this.#ready = null;
    ready?.resolve();
    this.#keepalive(link);
    this.#options.logger.info("Reconnected", { attempt });
    void acknowledged.then(() => {
      if (this.#current === link && link.open) {
        this.#hooks.emit({ type: "connect", addr: link.conn.remoteAddr, attempt });
      }
    });
    return true;
  }
}
