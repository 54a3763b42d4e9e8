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
  type Greeting,
  type HandshakeContext,
  type Identity,
  type ServerAuthenticator,
} from "./handshake.ts";
import type { PubSubServer } from "./pubsub_server.ts";
import type { Route } from "./route.ts";
import { NO_EXTRAS, type PublishExtras, type Refusal } from "./routed_publish.ts";
import type { Router } from "./router.ts";
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
    this.route = core.router.attach(this.session);
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

  /** Leaves the server and the router, once; logs why. */
  closed(reason: string): void {
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
        if (this.identity?.permissions.canSubscribe(frame.topic) === false) {
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
    const greeting = answerHello(this.session, frame, this.#core.context, this.user);
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
    return this.#core.router.publishFrom(this.route, topic, message, json, extras);
  }
}
