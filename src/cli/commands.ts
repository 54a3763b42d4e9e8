/**
 * The command line's commands: serve, publish, subscribe, request.
 *
 * @module
 */

import { ignore } from "../_async.ts";
import process from "node:process";
import { PubSubClient } from "../client/pubsub_client.ts";
import type { Backplane } from "../backplane/backplane.ts";
import type { Logger } from "../logger.ts";
import type { Headers, JsonValue, SlowConsumerPolicy } from "../protocol/frames.ts";
import type { ClientAuth } from "../client/options.ts";
import type { ServerAuthenticator } from "../server/handshake.ts";
import { demoPage } from "../demo/demo_page.ts";
import { loadBrowserFile, loadClientScript } from "./client_script.ts";
import type { MonitorOptions } from "../server/monitor/monitor_options.ts";
import { startPubSubServer } from "../server/pubsub_server.ts";
import type { WebSocketServerOptions } from "../server/server_options.ts";
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
}

/** What `serve` takes. */
export interface ServeOptions {
  /** The address to bind. */
  host: string;
  /** The port to bind; 0 picks one. */
  port: number;
  /** Log only warnings and errors. */
  quiet: boolean;
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
  /** Act as one broker with the other servers on this backplane. */
  backplane?: Backplane;
}

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
}

function consoleLogger(io: CliIo, quiet: boolean): Logger {
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const detail = fields === undefined ? "" : " " + JSON.stringify(fields, replaceErrors);
    io.err(`${new Date().toISOString()} ${level} ${message}${detail}`);
  };
  return {
    debug: ignore,
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

/** Runs a server until SIGINT or SIGTERM. */
export async function serve(options: ServeOptions, io: CliIo): Promise<number> {
  const { host, port, quiet, tls, auth, policy, webSocket, monitor, backplane } = options;
  const signal = shutdownSignal();
  try {
    const server = await startPubSubServer({
      host,
      port,
      tls,
      auth,
      slowConsumerPolicy: policy,
      logger: consoleLogger(io, quiet),
      // The WebSocket port also serves the demo page and the browser client.
      webSocket: webSocket && {
        fetch: demoPage({ clientScript: loadClientScript, webSocketPath: webSocket.path }),
        ...webSocket,
      },
      // The dashboard's charts come from the package's browser/ folder.
      monitor: monitor && { assets: loadBrowserFile, ...monitor },
      backplane,
    });
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

/** Publishes one message; `options` (retain, headers) need our server, so they say hello. */
export async function publish(
  target: Target,
  topic: string,
  message: JsonValue,
  options: { retain?: boolean; headers?: Headers } = {},
): Promise<number> {
  const extended = options.retain === true || options.headers !== undefined;
  const client = await PubSubClient.connect(target.host, target.port, {
    hello: extended ? true : undefined,
    tls: target.tls,
    auth: target.auth,
    reconnect: false,
  });
  try {
    await client.publish(topic, message, options);
    // A round trip: the server has routed the message before we disconnect.
    await client.flush();
  } finally {
    await client.close();
  }
  return 0;
}

/**
 * Subscribes and prints messages as JSON lines; `group` joins a queue group;
 * with `reconnect` it rides out server restarts.
 */
export async function subscribe(
  target: Target,
  topics: string[],
  count: number,
  io: CliIo,
  group?: string,
  reconnect = false,
): Promise<number> {
  const signal = shutdownSignal();
  const client = await PubSubClient.connect(target.host, target.port, {
    tls: target.tls,
    auth: target.auth,
    reconnect,
  });
  try {
    for (const topic of topics) await client.subscribe(topic, { group });
    await client.flush();
    io.err(`Subscribed to ${topics.join(", ")}`);
    let received = 0;
    const stop = signal.promise.then(() => client.close());
    for await (const message of client) {
      io.out(JSON.stringify({ topic: message.topic, message: message.message }));
      if (++received === count) break;
    }
    void stop;
    return 0;
  } finally {
    signal.dispose();
    await client.close();
  }
}

/** Sends a request and prints the reply as one JSON line. */
export async function request(
  target: Target,
  topic: string,
  message: JsonValue,
  timeout: number,
  io: CliIo,
): Promise<number> {
  const client = await PubSubClient.connect(target.host, target.port, {
    hello: true,
    tls: target.tls,
    auth: target.auth,
    reconnect: false,
  });
  try {
    const reply = await client.request(topic, message, { timeout });
    io.out(JSON.stringify({ topic: reply.topic, message: reply.message }));
    return 0;
  } finally {
    await client.close();
  }
}
