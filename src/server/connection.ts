/**
 * One client connection as the server sees it: the session that carries
 * it, its route in the router, and what its handshake established. It runs
 * the handler and routes each frame the session hands it.
 *
 * @module
 */

import { ErrorCode } from "../errors.ts";
import type { ClientFrame, FrameId, HelloFrame, JsonValue } from "../protocol/frames.ts";
import type { Addr, Conn } from "../transport/types.ts";
import {
  answerHello,
  authenticate,
  credentialsProblem,
  type Greeting,
  type HandshakeContext,
  hasCredentials,
  type Identity,
  nameProblem,
  refuseCredentials,
  type ServerAuthenticator,
} from "./handshake.ts";
import type { PubSubServer } from "./pubsub_server.ts";
import type { Route } from "./route.ts";
import { NO_EXTRAS, type PublishExtras, type Refusal } from "./routed_publish.ts";
import type { Router } from "./router.ts";
import { underInbox } from "./private_inbox.ts";
import type { ConnectionTransport, ServerClient } from "./server_client.ts";
import type { PubSubHandler } from "./server_options.ts";
import { Session, type SessionOwner, type SessionSettings } from "./session.ts";

/** What every connection of a server shares. */
export interface ServerCore {
  readonly settings: SessionSettings;
  readonly context: HandshakeContext;
  readonly router: Router;
  readonly handler: PubSubHandler | undefined;
  readonly auth: ServerAuthenticator | undefined;
  /** The server, as the handler's third argument. */
  readonly server: PubSubServer;
  /** The open connections: a connection leaves when it starts closing. */
  readonly connections: Set<ServerConnection>;
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === "function";
}

/** One client connection. The handler sees it as a {@linkcode ServerClient}. */
export class ServerConnection implements ServerClient, SessionOwner {
  /** Reads, writes and closes the connection. */
  readonly session: Session;
  /** Its routing state, owned by the router. */
  readonly route: Route;
  /** Who it authenticated as; `null` before, and always when auth is off. */
  identity: Identity | null = null;
  /** What it said in `hello`; `null` for a kn-sock client that never does. */
  greeting: Greeting | null = null;
  wantsFrames: boolean;
  /** What carries it: TCP or WebSocket, with or without TLS. */
  readonly transport: ConnectionTransport;
  readonly #core: ServerCore;
  /** The deadline of a new connection: see {@linkcode ServerConnection.watchOpening}. */
  #opening: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The TLS handshake's deadline (TCP with TLS only). */
  #handshake: ReturnType<typeof setTimeout> | undefined = undefined;

  /**
   * @param core What the server's connections share.
   * @param id A number unique within the server.
   * @param conn The accepted connection.
   * @param transport What carries it.
   */
  constructor(core: ServerCore, id: number, conn: Conn, transport: ConnectionTransport) {
    this.#core = core;
    this.transport = transport;
    this.session = new Session(id, conn, core.settings, this);
    this.route = core.router.attach(this.session, id);
    this.wantsFrames = core.handler !== undefined || core.auth !== undefined;
  }

  get id(): number {
    return this.session.id;
  }

  get remoteAddr(): Addr {
    return this.session.remoteAddr;
  }

  get subscriptions(): ReadonlySet<string> {
    return this.route.subscriptions;
  }

  get pendingBytes(): number {
    return this.session.pendingBytes;
  }

  get user(): string | null {
    return this.identity?.user ?? null;
  }

  send(frame: Record<string, unknown>): boolean {
    return this.session.send(frame);
  }

  close(): Promise<void> {
    return this.session.close();
  }

  /**
   * Starts the deadline of a new connection: with auth on, it must
   * authenticate within `authTimeoutMs` (else `auth_timeout`); with auth off,
   * send a valid frame within `idleTimeoutMs` (else `idle_timeout`). A timer
   * of its own, so it fires on time rather than at the watchdog's next round.
   *
   * With TLS over TCP, the first bytes must also arrive within
   * `tlsHandshakeTimeoutMs`. Every adapter hands the server a TLS connection
   * at accept, before its handshake, which runs on the first read: so a
   * handshake that never completes (a truncated ClientHello) shows here as
   * a connection that has read nothing. It is closed without an error
   * frame, which it could not read. (A WebSocket's TLS is the HTTP
   * server's, done before the upgrade.)
   */
  watchOpening(): void {
    const { limits, logger } = this.#core.settings;
    if (this.transport.tls && this.transport.kind === "tcp") {
      this.#handshake = setTimeout(() => {
        this.#handshake = undefined;
        if (!this.session.open || this.session.chunksIn !== 0) return;
        logger.warn("TLS handshake timed out", { id: this.id, ...this.remoteAddr });
        void this.session.close(undefined, "tls_handshake_timeout", false);
      }, limits.tlsHandshakeTimeoutMs);
    }
    const auth = this.#core.auth !== undefined;
    const ms = auth ? limits.authTimeoutMs : limits.idleTimeoutMs;
    this.#opening = setTimeout(() => {
      this.#opening = undefined;
      const session = this.session;
      if (!session.open) return;
      if (auth && this.identity === null) {
        this.#core.settings.counters.authFailures++;
        void session.close({
          code: ErrorCode.AuthTimeout,
          text: `No authenticated hello within ${ms} ms`,
        });
      } else if (!auth && session.framesIn === 0) {
        void session.close({ code: ErrorCode.IdleTimeout, text: `No frame within ${ms} ms` });
      }
    }, ms);
  }

  /** Leaves the server and the router, once; logs why. */
  closed(reason: string): void {
    clearTimeout(this.#opening);
    clearTimeout(this.#handshake);
    this.#opening = this.#handshake = undefined;
    const core = this.#core;
    if (!core.connections.delete(this)) return;
    core.router.detach(this.route);
    core.settings.logger.info("Client disconnected", { id: this.id, ...this.remoteAddr, reason });
  }

  publish(topic: string, json: Uint8Array, id: FrameId | undefined): void {
    if (this.session.open) this.session.answer(id, this.#publish(topic, null, json, NO_EXTRAS));
  }

  frame(frame: ClientFrame, json: Uint8Array | null): void | Promise<void> {
    const { auth, handler } = this.#core;
    if (frame.action === "hello" && !this.#helloAccepted(frame, auth !== undefined)) return;
    if (auth !== undefined && this.identity === null) return this.#unauthenticated(auth, frame);
    // Without a handler the delivery is built from the message's own bytes; a
    // handler may have changed `data`, so then the frame is re-encoded.
    if (handler === undefined) return this.#route(frame, json);
    let verdict: ReturnType<PubSubHandler>;
    try {
      verdict = handler(frame, this, this.#core.server);
    } catch (error) {
      return this.#handlerFailed(frame, error);
    }
    if (isPromise<boolean | void>(verdict)) {
      return verdict.then(
        (result) => this.#afterHandler(frame, result),
        (error) => this.#handlerFailed(frame, error),
      );
    }
    this.#afterHandler(frame, verdict);
  }

  /**
   * Checks a `hello` before the handler sees it: its `name` must fit
   * `maxNameBytes` (else `invalid_frame`); with auth on, credentials after
   * authentication are refused (`auth_failed`, closed: a connection
   * authenticates once), and with auth off credentials must be strings.
   */
  #helloAccepted(frame: HelloFrame, auth: boolean): boolean {
    const session = this.session;
    const name = nameProblem(frame, this.#core.settings.limits);
    if (name !== null) {
      session.sendError(ErrorCode.InvalidFrame, name, false, frame.id);
      return false;
    }
    if (auth) {
      if (this.identity === null || !hasCredentials(frame)) return true;
      delete frame.pass;
      delete frame.token;
      refuseCredentials(session, this.#core.context, "Credentials after authentication");
      return false;
    }
    const problem = credentialsProblem(frame);
    if (problem === null) return true;
    session.sendError(ErrorCode.InvalidFrame, problem, false, frame.id);
    return false;
  }

  /** A frame from a client that has not authenticated: only an authenticating hello goes on. */
  #unauthenticated(auth: ServerAuthenticator, frame: ClientFrame): void | Promise<void> {
    if (frame.action !== "hello") {
      this.session.sendError(
        ErrorCode.AuthRequired,
        "Authenticate first: hello with user and pass, or token",
        false,
        frame.id,
      );
      return;
    }
    return authenticate(auth, this.session, frame, this.#core.context).then((identity) => {
      if (identity === null) return;
      this.identity = identity;
      clearTimeout(this.#opening);
      this.#opening = undefined;
      this.wantsFrames = this.#core.handler !== undefined;
      return this.frame(frame, null);
    });
  }

  /** Routes the frame unless the handler said `false`; an `id` is answered either way. */
  #afterHandler(frame: ClientFrame, verdict: boolean | void): void {
    if (verdict !== false) this.#route(frame, null);
    else if (frame.id !== undefined && this.session.open) this.session.sendOk(frame.id);
  }

  #handlerFailed(frame: ClientFrame, error: unknown): void {
    const { counters, logger } = this.#core.settings;
    counters.handlerErrors++;
    logger.error("Handler failed", { id: this.id, error });
    this.session.sendError(
      ErrorCode.HandlerError,
      "Handler failed; the frame was not routed",
      false,
      frame.id,
    );
  }

  #route(frame: ClientFrame, json: Uint8Array | null): void {
    const session = this.session;
    if (!session.open) return;
    const id = frame.id;
    const router = this.#core.router;
    let refusal: Refusal | null = null;
    switch (frame.action) {
      case "hello":
        return this.#hello(frame);
      case "ping":
        session.send(id === undefined ? { action: "pong" } : { action: "pong", id });
        return;
      case "pong":
        // Any inbound line shows the peer is alive; a pong needs nothing more.
        return;
      case "publish":
        refusal = this.#publish(frame.topic, frame.message, json, frame);
        break;
      case "subscribe":
        // Its own private inbox is every connection's to read, whatever its permissions.
        if (
          this.identity?.permissions.canSubscribe(frame.topic) === false &&
          !underInbox(frame.topic, this.route.inbox)
        ) {
          refusal = [ErrorCode.Forbidden, `Subscribing to "${frame.topic}" is not allowed`];
          break;
        }
        refusal = router.subscribe(this.route, frame.topic, frame.group, frame.policy);
        break;
      case "unsubscribe":
        router.unsubscribe(this.route, frame.topic, frame.group);
        break;
    }
    session.answer(id, refusal);
  }

  #hello(frame: HelloFrame): void {
    const greeting = answerHello(
      this.session,
      frame,
      this.#core.context,
      this.user,
      this.#core.auth === undefined ? null : this.route.inbox,
    );
    this.greeting = greeting;
    this.#core.router.greet(this.route, greeting.echo);
  }

  /** Routes a publish unless the user may not publish to `topic`. */
  #publish(
    topic: string,
    message: JsonValue,
    json: Uint8Array | null,
    extras: PublishExtras,
  ): Refusal | null {
    // Reserved (`$`) topics are the server's unless a user's permissions name them.
    const allowed = this.identity !== null
      ? this.identity.permissions.canPublish(topic)
      : topic.charCodeAt(0) !== 0x24;
    if (!allowed) return [ErrorCode.Forbidden, `Publishing to "${topic}" is not allowed`];
    // A reply topic is where the responder will publish: with auth on it must be the
    // publisher's own inbox or a topic it may publish to itself.
    const reply = extras.reply;
    if (
      reply !== undefined && this.identity !== null && !underInbox(reply, this.route.inbox) &&
      !this.identity.permissions.canPublish(reply)
    ) {
      return [ErrorCode.Forbidden, `Reply topic "${reply}" is not allowed`];
    }
    return this.#core.router.publishFrom(this.route, topic, message, json, extras);
  }
}
