/**
 * The command line's `serve` command, and what every command shares: where
 * it writes, the server a client command talks to.
 *
 * @module
 */

import { ignore } from "../_async.ts";
import process from "node:process";
import type { Backplane } from "../backplane/backplane.ts";
import type { Logger } from "../logger.ts";
import type { ServerLimits } from "../limits.ts";
import type { SlowConsumerPolicy } from "../protocol/frames.ts";
import type { ClientAuth } from "../client/options.ts";
import type { ServerAuthenticator } from "../server/handshake.ts";
import { demoPage } from "../demo/demo_page.ts";
import { loadBrowserFile, loadClientScript } from "./client_script.ts";
import type { MonitorOptions } from "../server/monitor/monitor_options.ts";
import { type PubSubServer, startPubSubServer } from "../server/pubsub_server.ts";
import { warmUpPublishPath } from "../server/warm_up.ts";
import type { PubSubServerOptions, WebSocketServerOptions } from "../server/server_options.ts";
import { CliError } from "./arguments.ts";
import { detectRuntime } from "../transport/auto.ts";
import type { TlsConnectOptions, TlsListenOptions } from "../transport/types.ts";

/** The server a client command talks to. */
export interface Target {
  /** The server's host. */
  host: string;
  /** The server's port. */
  port: number;
  /** Connect with TLS. */
  tls?: TlsConnectOptions;
  /** Credentials, for a server that requires auth. */
  auth?: ClientAuth;
  /** A `ws://` or `wss://` URL to connect to instead of `host` and `port` over TCP. */
  url?: string;
}

/** What `serve` takes. */
export interface ServeOptions {
  /** The address to bind. */
  host: string;
  /** The port to bind; 0 picks one. */
  port: number;
  /** Log only warnings and errors. */
  quiet: boolean;
  /**
   * Route a few tens of thousands of publishes in memory before listening,
   * so the runtime compiles the publish path first (default true).
   */
  warmUp?: boolean;
  /** Serve TLS only, with this certificate. */
  tls?: TlsListenOptions;
  /** Require auth, with the users of this authenticator. */
  auth?: ServerAuthenticator;
  /** The slow-consumer policy. */
  policy?: SlowConsumerPolicy;
  /** Serve WebSocket clients too. */
  webSocket?: WebSocketServerOptions;
  /** Serve the monitoring endpoints and dashboard. */
  monitor?: MonitorOptions;
  /** The log's format (default text). */
  logFormat?: LogFormat;
  /** Log debug lines too. */
  debug?: boolean;
  /** Limits to change from `DEFAULT_SERVER_LIMITS`. */
  limits?: Partial<ServerLimits>;
  /** Act as one broker with the other servers on this backplane. */
  backplane?: Backplane;
}

/** How `serve` writes its log: text lines, or JSON lines. */
export type LogFormat = "text" | "json";

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  /**
   * Writes one line to standard output; a promise when the reader is
   * behind (commands that print much wait for it).
   */
  out(line: string): void | Promise<void>;
  /** Writes one line to standard error. */
  err(line: string): void;
  /** Resolves when standard output's reader has gone: commands then stop, exit code 0. */
  outClosed?: Promise<void>;
}

/**
 * The server's log on standard error: text lines (`time LEVEL message
 * {fields}`) or, with `format: "json"`, one JSON object per line
 * (`{"time", "level", "msg", ...fields}`); debug lines with `debug`.
 */
function consoleLogger(
  io: CliIo,
  quiet: boolean,
  options: { format?: LogFormat; debug?: boolean } = {},
): Logger {
  const json = options.format === "json";
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const time = new Date().toISOString();
    if (json) {
      const entry = { time, level: level.toLowerCase(), msg: message, ...fields };
      io.err(JSON.stringify(entry, replaceErrors));
      return;
    }
    const detail = fields === undefined ? "" : " " + JSON.stringify(fields, replaceErrors);
    io.err(`${time} ${level} ${message}${detail}`);
  };
  return {
    debug: options.debug === true ? line("DEBUG") : ignore,
    info: quiet ? ignore : line("INFO"),
    warn: line("WARN"),
    error: line("ERROR"),
  };
}

function replaceErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}

/** Resolves on the first SIGINT or SIGTERM; `dispose()` removes the listeners. */
function shutdownSignal(): { promise: Promise<string>; dispose(): void } {
  let onSignal: (signal: string) => void = () => {};
  const promise = new Promise<string>((resolve) => {
    onSignal = resolve;
  });
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    promise,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/**
 * Starts the server; a failure to listen (address in use or not
 * available, permission denied, a bad host) is one line for the user.
 */
async function listen(
  options: PubSubServerOptions & { port: number },
  where: string,
): Promise<PubSubServer> {
  try {
    return await startPubSubServer(options);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new CliError(`Invalid server options: ${error.message}`, { cause: error });
    }
    const code = (error as { code?: unknown } | null)?.code;
    const name = (error as Error | null)?.name;
    const why = typeof code === "string" ? code : name ?? "Error";
    throw new CliError(`Cannot listen on ${where}: ${(error as Error).message} (${why})`, {
      cause: error,
    });
  }
}

/** Runs a server until SIGINT or SIGTERM. */
export async function serve(options: ServeOptions, io: CliIo): Promise<number> {
  const { host, port, quiet, tls, auth, policy, webSocket, monitor, limits, backplane } = options;
  const signal = shutdownSignal();
  try {
    if (options.warmUp !== false) {
      // Only a speed-up: a failure of it must not keep the server from starting.
      await warmUpPublishPath().catch((error: unknown) =>
        io.err(`Warm-up failed (${(error as Error)?.message ?? error}); listening anyway`)
      );
    }
    const server = await listen({
      host,
      port,
      tls,
      auth,
      slowConsumerPolicy: policy,
      logger: consoleLogger(io, quiet, { format: options.logFormat, debug: options.debug }),
      limits,
      // The WebSocket port also serves the demo page and the browser client.
      webSocket: webSocket && {
        fetch: demoPage({ clientScript: loadClientScript, webSocketPath: webSocket.path }),
        ...webSocket,
      },
      // The dashboard's charts come from the package's browser/ folder.
      monitor: monitor && { assets: loadBrowserFile, ...monitor },
      backplane,
    }, `${host}:${port}`);
    io.out(
      `kn-sock pubsub server listening on ${server.addr.hostname}:${server.addr.port} ` +
        `(${detectRuntime()}, transport ${server.transportName}${tls ? ", TLS" : ""}` +
        `${auth ? ", auth" : ""})`,
    );
    if (server.webSocketUrl !== null) {
      io.out(`kn-sock pubsub WebSocket listening on ${server.webSocketUrl}`);
    }
    if (server.monitorUrl !== null) {
      io.out(`kn-sock pubsub monitoring on ${server.monitorUrl}`);
    }
    const cluster = server.stats().backplane;
    if (cluster !== undefined) {
      io.out(
        `kn-sock pubsub cluster "${cluster.cluster}" on ${cluster.kind}, node ${cluster.node}`,
      );
    }
    const name = await signal.promise;
    io.err(`Received ${name}, shutting down`);
    const stats = server.stats();
    await server.close();
    io.err(
      `Server closed after ${stats.totalConnections} connections, ${stats.messagesIn} messages in, ` +
        `${stats.messagesOut} out, ${stats.slowConsumers} slow consumers disconnected, ` +
        `${stats.droppedMessages} messages dropped for slow consumers`,
    );
    return 0;
  } finally {
    signal.dispose();
  }
}
