/**
 * The pub/sub server: accepts connections, runs the handler, routes
 * publishes to subscribers.
 *
 * @module
 */

import { ErrorCode } from "../errors.ts";
import {
  DEFAULT_SERVER_LIMITS,
  DEFAULT_SLOW_CONSUMER_POLICY,
  resolveLimits,
  type ServerLimits,
} from "../limits.ts";
import { guardLogger, type Logger, silentLogger } from "../logger.ts";
import { AsciiStrings } from "../protocol/ascii_strings.ts";
import type { Backplane } from "../backplane/backplane.ts";
import type { JsonValue, SlowConsumerPolicy } from "../protocol/frames.ts";
import { jsonValueProblem } from "../protocol/json_value.ts";
import { hasWildcard } from "../topic/pattern.ts";
import { topicProblem } from "../topic/validate_topic.ts";
import { ClusterNode } from "./cluster_node.ts";
import { Router } from "./router.ts";
import { defaultTransport } from "../transport/auto.ts";
import type { HttpListener } from "../transport/http_types.ts";
import type { Addr, Conn, Listener } from "../transport/types.ts";
import { ServerConnection, type ServerCore } from "./connection.ts";
import type { ConnectionTransport } from "./server_client.ts";
import { createCounters, type ServerCounters, type ServerStats } from "./stats.ts";
import {
  checkHost,
  checkPolicy,
  checkPort,
  type PubSubServerOptions,
  type ServerPublishOptions,
} from "./server_options.ts";
import { SharedBudget } from "./shared_budget.ts";
import { Watchdog } from "./watchdog.ts";
import { planWebSocket, serveWebSocket, webSocketUrl } from "./websocket_endpoint.ts";
import { Monitor } from "./monitor/monitor.ts";
import { planMonitor } from "./monitor/monitor_options.ts";
import type { MonitorSource } from "./monitor/monitor_source.ts";

/** The server's WebSocket listener, and the URL clients connect to. */
interface WebSocketEndpoint {
  listener: HttpListener;
  url: string;
}

// Set in PubSubServer's static block: startPubSubServer's access to it.
let acceptWebSocket: (server: PubSubServer, conn: Conn) => void;
let attachWebSocket: (server: PubSubServer, endpoint: WebSocketEndpoint) => Promise<void>;
let monitorSource: (server: PubSubServer) => MonitorSource;
let attachMonitor: (server: PubSubServer, monitor: Monitor) => Promise<void>;
let startBackplane: (server: PubSubServer) => Promise<void>;

/**
 * A running pub/sub server. Start one with {@linkcode startPubSubServer}.
 *
 * @example
 * ```ts
 * import { startPubSubServer } from "@kn-sock/pubsub";
 *
 * await using server = await startPubSubServer({ port: 0 });
 * console.log(`Listening on ${server.addr.hostname}:${server.addr.port}`);
 * console.log(server.stats().connections); // 0
 * ```
 */
export class PubSubServer {
  static {
    acceptWebSocket = (server, conn) => server.#acceptWebSocket(conn);
    attachWebSocket = (server, endpoint) => server.#attachWebSocket(endpoint);
    monitorSource = (server) => server.#monitorSource();
    attachMonitor = (server, monitor) => server.#attachMonitor(monitor);
    startBackplane = (server) => server.#cluster?.start() ?? Promise.resolve();
  }

  /** The bound address, with the real port when `0` was asked for. */
  readonly addr: Addr;
  /** The name of the transport in use, for example `"deno"`. */
  readonly transportName: string;
  readonly #listener: Listener;
  readonly #core: ServerCore;
  readonly #router: Router;
  readonly #connections = new Set<ServerConnection>();
  /** Answers `hello` with it: unique to this server while it runs. */
  readonly serverId: string = crypto.randomUUID();
  readonly #counters: ServerCounters = createCounters();
  readonly #limits: ServerLimits;
  readonly #logger: Logger;
  readonly #watchdog: Watchdog;
  #nextId = 1;
  #signal: AbortSignal | undefined = undefined;
  readonly #onAbort = (): void => void this.close();
  #closing: Promise<void> | null = null;
  #accepting: Promise<void>;
  #webSocket: WebSocketEndpoint | null = null;
  #monitor: Monitor | null = null;
  readonly #startedAt = Date.now();
  readonly #policy: SlowConsumerPolicy;
  readonly #viaTcp: ConnectionTransport;
  readonly #viaWs: ConnectionTransport;
  /** This server as a node of a cluster; `null` without a backplane. */
  readonly #cluster: ClusterNode | null;

  /**
   * Use {@linkcode startPubSubServer}; this wraps a listener that is already bound.
   *
   * @param listener A bound listener.
   * @param transportName The transport's name.
   * @param options The server options (`port`, `host` and `transport` are not read).
   */
  constructor(listener: Listener, transportName: string, options: PubSubServerOptions = {}) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.transportName = transportName;
    const tls = options.tls !== undefined;
    this.#viaTcp = Object.freeze({ kind: "tcp", tls });
    this.#viaWs = Object.freeze({ kind: "ws", tls });
    const limits = this.#limits = resolveLimits(DEFAULT_SERVER_LIMITS, options.limits);
    const counters = this.#counters;
    const logger = this.#logger = guardLogger(options.logger ?? silentLogger);
    this.#router = new Router(limits, counters, options.auth !== undefined);
    this.#cluster = options.backplane === undefined ? null : this.#joinCluster(options.backplane);
    const policy = this.#policy = checkPolicy(
      options.slowConsumerPolicy ?? DEFAULT_SLOW_CONSUMER_POLICY,
    );
    this.#core = {
      settings: {
        limits,
        policy,
        logger,
        counters,
        topics: new AsciiStrings(),
        partialLines: new SharedBudget(limits.maxPartialLineBytes),
        outbound: new SharedBudget(limits.maxOutboundTotalBytes),
      },
      context: { limits, logger, counters, serverId: this.serverId },
      router: this.#router,
      handler: options.handler,
      auth: options.auth,
      server: this,
      connections: this.#connections,
    };
    this.#watchdog = new Watchdog({
      limits,
      counters,
      connections: this.#connections,
      authRequired: options.auth !== undefined,
    });
    this.#watchdog.start();
    this.#accepting = this.#accept().catch((error) => {
      // An adapter that fails mid-accept stops new connections; the server stays up.
      this.#logger.error("Accepting connections failed", { error });
    });
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) void this.close();
      else {
        signal.addEventListener("abort", this.#onAbort, { once: true });
        this.#signal = signal;
      }
    }
  }

  /**
   * The bound address of the WebSocket listener (the `webSocket` option),
   * with the real port when `0` was asked for; `null` without one.
   */
  get webSocketAddr(): Addr | null {
    return this.#webSocket?.listener.addr ?? null;
  }

  /**
   * The URL WebSocket clients connect to, for example
   * `"ws://127.0.0.1:8081/ws"` (`wss:` with TLS); `null` without the
   * `webSocket` option.
   */
  get webSocketUrl(): string | null {
    return this.#webSocket?.url ?? null;
  }

  /**
   * The base URL of the monitoring endpoints (the `monitor` option), for
   * example `"http://127.0.0.1:8222"`; `null` without one.
   */
  get monitorUrl(): string | null {
    return this.#monitor?.url ?? null;
  }

  /** The limits in force. */
  get limits(): Readonly<ServerLimits> {
    return this.#limits;
  }

  /** Whether `close()` was called. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /**
   * A snapshot of the counters.
   *
   * @example
   * ```ts ignore
   * const { connections, messagesIn, messagesOut } = server.stats();
   * ```
   */
  stats(): ServerStats {
    let pendingBytes = 0;
    let ws = 0;
    for (const connection of this.#connections) {
      pendingBytes += connection.pendingBytes;
      if (connection.transport.kind === "ws") ws++;
    }
    return {
      ...this.#counters,
      connections: this.#connections.size,
      connectionsByTransport: { tcp: this.#connections.size - ws, ws },
      subscriptions: this.#router.subscriptionCount,
      topics: this.#router.patternCount,
      retained: this.#router.retainedCount,
      pendingBytes,
      subscriptionBytes: this.#router.subscriptionBytes,
      partialLineBytes: this.#core.settings.partialLines.used,
      ...(this.#cluster === null ? {} : { backplane: this.#cluster.stats() }),
    };
  }

  /**
   * Publishes a message from the server itself, as a client's publish would
   * (the handler is not called). Never waits on a subscriber.
   *
   * @example
   * ```ts ignore
   * const delivered = server.publish("alerts/system", "Maintenance at noon");
   * ```
   *
   * @returns How many subscribers it was queued for; 0 when called from the
   *   logger while another publish is routed (it is routed right after that
   *   one, and a refusal of its retain is not reported).
   * @throws {TypeError} For an invalid topic or a message JSON cannot encode.
   */
  publish(topic: string, message: JsonValue, options: ServerPublishOptions = {}): number {
    this.#checkPublish(topic, message);
    const delivered = this.#router.publish(topic, message, null, null, options);
    const refusal = this.#router.retainRefusal;
    if (refusal !== null) throw new RangeError(refusal[1]);
    return delivered;
  }

  /** Throws a `TypeError` for a topic or message a publish may not have. */
  #checkPublish(topic: string, message: JsonValue): void {
    const problem = topicProblem(topic, this.#limits.maxTopicBytes, this.#limits.maxTopicLevels);
    if (problem !== null) throw new TypeError(problem);
    if (hasWildcard(topic)) throw new TypeError("A publish topic must not contain '+' or '#'");
    const problem2 = jsonValueProblem(message, this.#limits.maxNestingDepth);
    if (problem2 !== null) throw new TypeError(problem2);
  }

  /** This server as a node of the cluster on `backplane`. */
  #joinCluster(backplane: Backplane): ClusterNode {
    const closing = (): boolean => this.closing;
    return new ClusterNode(backplane, {
      serverId: this.serverId,
      logger: this.#logger,
      router: this.#router,
      get closing() {
        return closing();
      },
      checkPublish: (topic, message) => this.#checkPublish(topic, message),
      noticeGreeted: (frame) => {
        for (const { greeting, session } of this.#connections) {
          if (greeting !== null) session.notice(frame);
        }
      },
    });
  }

  /**
   * Stops accepting, sends each client a `server_shutdown` error frame,
   * flushes queued messages (bounded by `limits.shutdownGraceMs`), and
   * closes every connection, then the WebSocket listener. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Closes the server: `await using server = await startPubSubServer()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#cluster?.leaving();
    this.#watchdog.stop();
    const connections = [...this.#connections];
    await this.#listener.close();
    await Promise.all(
      connections.map(({ session }) =>
        session.close({ code: ErrorCode.ServerShutdown, text: "Server is shutting down" })
      ),
    );
    // The monitor's event streams end first: an HTTP listener's close waits
    // for responses in progress, and the monitor may share the WebSocket one.
    await this.#monitor?.close();
    // Closing the HTTP listener closes its WebSockets at once (Deno cannot
    // keep them): only now that they have had their goodbye.
    await this.#webSocket?.listener.close();
    await this.#accepting;
    await this.#cluster?.close();
    this.#logger.info("Server closed", { ...this.addr });
  }

  async #accept(): Promise<void> {
    for await (const conn of this.#listener) {
      if (this.#closing !== null) {
        conn.close();
        continue;
      }
      this.#open(conn, this.#viaTcp);
    }
  }

  /** A WebSocket connection from the HTTP listener: never throws (see `WebSocketRoute.onConn`). */
  #acceptWebSocket(conn: Conn): void {
    if (this.#closing !== null) conn.close();
    else this.#open(conn, this.#viaWs);
  }

  /** Keeps the WebSocket listener, or closes it if the server closed meanwhile. */
  async #attachWebSocket(endpoint: WebSocketEndpoint): Promise<void> {
    if (this.#closing !== null) {
      await endpoint.listener.close();
      return;
    }
    this.#webSocket = endpoint;
  }

  /** Keeps the monitor, or closes it if the server closed meanwhile. */
  async #attachMonitor(monitor: Monitor): Promise<void> {
    if (this.#closing !== null) {
      await monitor.close();
      return;
    }
    this.#monitor = monitor;
  }

  /** The server as monitoring sees it. */
  #monitorSource(): MonitorSource {
    const router = this.#router;
    const closing = (): boolean => this.closing;
    const webSocketUrl = (): string | null => this.webSocketUrl;
    return {
      serverId: this.serverId,
      startedAt: this.#startedAt,
      limits: this.#limits,
      policy: this.#policy,
      addr: this.addr,
      get closing() {
        return closing();
      },
      get webSocketUrl() {
        return webSocketUrl();
      },
      get retainedBytes() {
        return router.retainedBytes;
      },
      stats: () => this.stats(),
      connections: () => this.#connections,
      reach: (topic) => router.reach(topic),
      queueGroupPatterns: () => router.queueGroupPatterns(),
      sample: (sampler, everyMs) => this.#watchdog.sample(sampler, everyMs),
      publish: (topic, message) => this.publish(topic, message),
    };
  }

  #open(conn: Conn, via: ConnectionTransport): void {
    const connection = new ServerConnection(this.#core, this.#nextId++, conn, via);
    const session = connection.session;
    this.#counters.totalConnections++;
    if (this.#connections.size >= this.#limits.maxConnections) {
      this.#counters.refusedConnections++;
      this.#logger.warn("Connection refused: too many connections", { ...conn.remoteAddr });
      session.start();
      void session.close({
        code: ErrorCode.TooManyConnections,
        text: `Server already has ${this.#limits.maxConnections} connections`,
      });
      return;
    }
    this.#connections.add(connection);
    this.#logger.info("Client connected", {
      id: session.id,
      ...conn.remoteAddr,
      transport: via.kind,
    });
    session.start();
    connection.watchOpening();
  }
}

/**
 * Starts a pub/sub server and resolves once it listens. kn-sock's
 * `start_pubsub_server(port, handler_func, host)`, in TypeScript.
 *
 * @example A server with a kn-sock-style handler
 * ```ts
 * import { startPubSubServer } from "@kn-sock/pubsub";
 *
 * const server = await startPubSubServer({
 *   port: 0,
 *   handler(data, client) {
 *     if (data.action === "publish") console.log(`Client ${client.id} published to ${data.topic}`);
 *   },
 * });
 * await server.close();
 * ```
 *
 * @param options Port, host, handler, transport, limits, logger, signal, and
 *   `webSocket` to serve WebSocket clients too.
 * @returns The running server.
 * @throws {RangeError} For an invalid port or limit.
 * @throws {TypeError} For an invalid host or WebSocket option.
 */
export async function startPubSubServer(
  options: PubSubServerOptions = {},
): Promise<PubSubServer> {
  const port = checkPort(options.port ?? 8080);
  const host = checkHost(options.host ?? "127.0.0.1");
  const limits = resolveLimits(DEFAULT_SERVER_LIMITS, options.limits);
  checkPolicy(options.slowConsumerPolicy ?? DEFAULT_SLOW_CONSUMER_POLICY);
  let plan = options.webSocket === undefined
    ? undefined
    : planWebSocket(options.webSocket, host, limits);
  const monitorPlan = options.monitor === undefined ? undefined : planMonitor(options.monitor);
  const transport = options.transport ?? await defaultTransport();
  const listener = await transport.listen({ hostname: host, port, tls: options.tls });
  const server = new PubSubServer(listener, transport.name, options);
  const logger = guardLogger(options.logger ?? silentLogger);
  logger.info("Server listening", {
    hostname: server.addr.hostname,
    port: server.addr.port,
    transport: transport.name,
  });
  const monitor = monitorPlan && new Monitor(monitorSource(server), monitorPlan, logger);
  // The same port and host as the WebSocket listener's: the monitor answers there.
  const shared = monitor !== undefined && plan !== undefined && monitorPlan!.port !== 0 &&
    monitorPlan!.port === plan.port && monitorPlan!.host === plan.host;
  if (shared) plan = { ...plan!, routes: [...plan!.routes, monitor!.route] };
  const tls = options.tls !== undefined;
  try {
    await startBackplane(server);
    if (plan !== undefined) {
      const http = await serveWebSocket(
        plan,
        { tls: options.tls, limits },
        (conn) => acceptWebSocket(server, conn),
      );
      await attachWebSocket(server, {
        listener: http,
        url: webSocketUrl(http.addr, plan.path, tls),
      });
      if (shared) monitor!.share(http.addr, tls);
      logger.info("WebSocket listening", { url: server.webSocketUrl });
    }
    if (monitor !== undefined) {
      if (!shared) await monitor.listen();
      await attachMonitor(server, monitor);
      monitor.start();
      logger.info("Monitoring listening", { url: server.monitorUrl });
    }
  } catch (error) {
    await monitor?.close();
    await server.close();
    throw error;
  }
  return server;
}
