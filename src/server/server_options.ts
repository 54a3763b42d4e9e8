/**
 * The options of {@linkcode startPubSubServer} and the handler's type.
 *
 * @module
 */

import type { Backplane } from "../backplane/backplane.ts";
import type { MonitorOptions } from "./monitor/monitor_options.ts";
import type { ServerLimits } from "../limits.ts";
import type { Logger } from "../logger.ts";
import type { ClientFrame, Headers, SlowConsumerPolicy } from "../protocol/frames.ts";
import { policyProblem } from "../protocol/policy_problem.ts";
import type { HttpRequestInfo, HttpTransport } from "../transport/http_types.ts";
import type { TlsListenOptions, Transport } from "../transport/types.ts";
import type { ServerAuthenticator } from "./handshake.ts";
import type { PubSubServer } from "./pubsub_server.ts";
import type { ServerClient } from "./server_client.ts";

/** Options of {@linkcode PubSubServer.publish}. */
export interface ServerPublishOptions {
  /** Headers, delivered unchanged to clients that said `hello`. */
  headers?: Headers;
  /** Keep it as the topic's retained message (an empty message clears it). */
  retain?: boolean;
}

/**
 * The kn-sock-style handler, called as `handler(data, client, server)` with
 * every valid frame a client sends, before routing. Return `false` (or a
 * promise of it) to stop the built-in routing of that frame; anything else
 * lets it go on. An async handler delays the next frame of the same
 * connection, so each connection's frames are handled in order. A handler
 * that throws or rejects gets the client a `handler_error` error frame and
 * the frame is not routed.
 */
export type PubSubHandler = (
  data: ClientFrame,
  client: ServerClient,
  server: PubSubServer,
) => boolean | void | Promise<boolean | void>;

/**
 * Answers a plain HTTP request on the WebSocket port (any request but a
 * WebSocket upgrade on the WebSocket path), or returns `null` to leave it
 * to the next route; a request no route answers gets `404`. A route that
 * throws or rejects gets `500`.
 *
 * @example A route for one path
 * ```ts
 * import type { HttpRoute } from "@kn-sock/pubsub";
 *
 * const hello: HttpRoute = (request) =>
 *   new URL(request.url).pathname === "/hello" ? new Response("Hello") : null;
 * ```
 */
export type HttpRoute = (
  request: Request,
  info: HttpRequestInfo,
) => Response | null | Promise<Response | null>;

/**
 * The `webSocket` option of {@linkcode startPubSubServer}: serve WebSocket
 * clients too, on an HTTP listener of their own. Each WebSocket
 * connection is a client like a TCP one (same limits, auth, policies,
 * routing); its messages carry the same lines (see `docs/PROTOCOL.md`).
 * With the server's `tls` option it serves `wss:` (and HTTPS).
 *
 * @example A server for TCP clients and for browsers of one site
 * ```ts
 * import { startPubSubServer } from "@kn-sock/pubsub";
 *
 * const server = await startPubSubServer({
 *   port: 0,
 *   webSocket: { port: 0, path: "/ws", allowedOrigins: ["https://app.example.com"] },
 * });
 * console.log(server.webSocketUrl); // for example "ws://127.0.0.1:41234/ws"
 * await server.close();
 * ```
 */
export interface WebSocketServerOptions {
  /** The HTTP port; `0` picks a free one. Default 8081. */
  port?: number;
  /** The address to bind. Default: the server's `host`. */
  host?: string;
  /** The path WebSocket clients connect to; it must start with `/`. Default `"/ws"`. */
  path?: string;
  /**
   * The `Origin` values to accept, exactly as browsers send them (for
   * example `"https://app.example.com"`); another origin gets `403` before
   * any upgrade (against cross-site WebSocket hijacking). Requests without
   * `Origin` (non-browser clients) are always accepted. Absent: every
   * origin; empty: no browser.
   */
  allowedOrigins?: readonly string[];
  /** Answers the HTTP requests that are not WebSocket ones. Default: `404` for all. */
  fetch?: HttpRoute;
  /** How to serve HTTP; the current runtime's (`defaultHttpTransport()`) when omitted. */
  httpTransport?: HttpTransport;
}

/** Options of {@linkcode startPubSubServer}. */
export interface PubSubServerOptions {
  /** The port to listen on; `0` picks a free one. Default 8080. */
  port?: number;
  /**
   * The address to bind. Default `"127.0.0.1"` (kn-sock binds `0.0.0.0`;
   * pass that explicitly to accept connections from other machines).
   */
  host?: string;
  /** Called with every valid frame before routing; see {@linkcode PubSubHandler}. */
  handler?: PubSubHandler;
  /** The transport; the current runtime's when omitted. */
  transport?: Transport;
  /** Limits to change from {@linkcode DEFAULT_SERVER_LIMITS}. */
  limits?: Partial<ServerLimits>;
  /**
   * Where to log; nothing is logged when omitted. It is called synchronously,
   * sometimes while a publish is being routed (a delivery that meets the
   * slow-consumer policy is logged), and what it throws is ignored. It may
   * call `server.publish()`, to send log lines to a topic: such a publish is
   * routed right after the one being routed (it returns 0), and past 1,024
   * of them in one go the rest are dropped and counted in `droppedMessages`.
   */
  logger?: Logger;
  /** Closes the server when aborted (kn-sock's `shutdown_event`). */
  signal?: AbortSignal;
  /**
   * Accept only TLS connections, with this certificate chain and key (PEM
   * text). Clients then connect with `tls` too. Not supported by the memory
   * transport.
   *
   * @example A TLS server
   * ```ts ignore
   * import { startPubSubServer } from "@kn-sock/pubsub";
   * declare function readText(path: string): Promise<string>; // your runtime's file API
   *
   * const server = await startPubSubServer({
   *   port: 8443,
   *   tls: { cert: await readText("server.pem"), key: await readText("server.key") },
   * });
   * await server.close();
   * ```
   */
  tls?: TlsListenOptions;
  /**
   * What happens to a subscriber past `limits.maxOutboundBytes`, unless its
   * subscription says otherwise. Default `"disconnect"`.
   */
  slowConsumerPolicy?: SlowConsumerPolicy;
  /**
   * Requires every client to authenticate in `hello` (`user` and `pass`, or
   * `token`) and checks each publish and subscribe against its permissions.
   * An `Authenticator` built from a users file fits. Default: no auth, as
   * in kn-sock.
   */
  auth?: ServerAuthenticator;
  /**
   * Serve WebSocket clients too, on another port; see
   * {@linkcode WebSocketServerOptions}. Default: TCP only.
   */
  webSocket?: WebSocketServerOptions;
  /**
   * Serve monitoring endpoints and a dashboard over HTTP (by default on
   * 127.0.0.1:8222); see {@linkcode MonitorOptions}. Default: none.
   */
  monitor?: MonitorOptions;
  /**
   * Act as one broker with the other servers on the same backplane: a
   * publish here reaches their subscribers too, and theirs reach this
   * server's (see `docs/CLUSTER.md`). `redisBackplane()` from
   * `@kn-sock/pubsub/redis` makes one. Default: none (a single node).
   */
  backplane?: Backplane;
}

/** Checks a port number. */
export function checkPort(port: unknown): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  return port;
}

/** Checks a host name. */
export function checkHost(host: unknown): string {
  if (typeof host !== "string" || host.length === 0) {
    throw new TypeError(`Host must be a non-empty string, got ${String(host)}`);
  }
  return host;
}

/** Checks a slow-consumer policy. */
export function checkPolicy(policy: unknown): SlowConsumerPolicy {
  const problem = policyProblem(policy, "Slow-consumer policy");
  if (problem !== null) throw new TypeError(problem);
  return policy as SlowConsumerPolicy;
}
