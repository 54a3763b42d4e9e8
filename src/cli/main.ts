/**
 * The command line: `serve`, `pub`, `sub`, and kn-sock's own
 * `run-pubsub-server` and `pubsub-client` forms.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { PubSubClient } from "../client/pubsub_client.ts";
import { PubSubError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { JsonValue } from "../protocol/frames.ts";
import { startPubSubServer } from "../server/pubsub_server.ts";
import { detectRuntime } from "../transport/auto.ts";
import { VERSION } from "../version.ts";
import { HELP, type HelpTopic } from "./help.ts";

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  /** Writes one line to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
}

const consoleIo: CliIo = {
  // deno-lint-ignore no-console
  out: (line) => console.log(line),
  // deno-lint-ignore no-console
  err: (line) => console.error(line),
};

/** A usage error: printed with a hint, exit code 2. */
class UsageError extends Error {
  readonly topic: HelpTopic;
  constructor(message: string, topic: HelpTopic) {
    super(message);
    this.name = "UsageError";
    this.topic = topic;
  }
}

const CONNECTION_OPTIONS = {
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "8080" },
  help: { type: "boolean", short: "h", default: false },
} as const;

const QUIET = { quiet: { type: "boolean", short: "q", default: false } } as const;

function parsePort(text: string, topic: HelpTopic, allowZero: boolean): number {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new UsageError(
      `Invalid port "${text}": expected an integer from ${allowZero ? 0 : 1} to 65535`,
      topic,
    );
  }
  return port;
}

function parse(
  args: string[],
  topic: HelpTopic,
  options: Record<string, { type: "string" | "boolean"; default?: string | boolean }>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...CONNECTION_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message, topic);
  }
}

function ignore(): void {
  // Debug lines (and info lines with --quiet) are not printed.
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

async function serve(host: string, port: number, quiet: boolean, io: CliIo): Promise<number> {
  const signal = shutdownSignal();
  try {
    const server = await startPubSubServer({ host, port, logger: consoleLogger(io, quiet) });
    io.out(
      `kn-sock pubsub server listening on ${server.addr.hostname}:${server.addr.port} ` +
        `(${detectRuntime()}, transport ${server.transportName})`,
    );
    const name = await signal.promise;
    io.err(`Received ${name}, shutting down`);
    const stats = server.stats();
    await server.close();
    io.err(
      `Server closed after ${stats.totalConnections} connections, ${stats.messagesIn} messages in, ` +
        `${stats.messagesOut} out, ${stats.slowConsumers} slow consumers disconnected`,
    );
    return 0;
  } finally {
    signal.dispose();
  }
}

function parseMessage(text: string, json: boolean): JsonValue {
  if (!json) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UsageError(`--json given but the message is not valid JSON: ${text}`, "pub");
  }
}

async function publish(
  host: string,
  port: number,
  topic: string,
  message: JsonValue,
): Promise<number> {
  const client = await PubSubClient.connect(host, port);
  try {
    await client.publish(topic, message);
    // A round trip: the server has routed the message before we disconnect.
    await client.flush();
  } finally {
    await client.close();
  }
  return 0;
}

async function subscribe(
  host: string,
  port: number,
  topics: string[],
  count: number,
  io: CliIo,
): Promise<number> {
  const signal = shutdownSignal();
  const client = await PubSubClient.connect(host, port);
  try {
    for (const topic of topics) await client.subscribe(topic);
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

function run(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h": {
      const topic = rest[0] as HelpTopic | undefined;
      io.out(HELP[topic !== undefined && topic in HELP ? topic : "main"]);
      return Promise.resolve(0);
    }
    case "--version":
    case "-V":
      io.out(VERSION);
      return Promise.resolve(0);
    case "serve": {
      const { values, positionals } = parse(rest, "serve", QUIET);
      if (values.help) return help(io, "serve");
      if (positionals.length > 0) {
        throw new UsageError(`Unexpected argument "${positionals[0]}"`, "serve");
      }
      const port = parsePort(values.port as string, "serve", true);
      return serve(values.host as string, port, values.quiet as boolean, io);
    }
    case "run-pubsub-server": {
      const { values, positionals } = parse(rest, "run-pubsub-server", QUIET);
      if (values.help) return help(io, "run-pubsub-server");
      if (positionals.length !== 1) {
        throw new UsageError("Expected exactly one argument: <port>", "run-pubsub-server");
      }
      const port = parsePort(positionals[0], "run-pubsub-server", true);
      return serve(values.host as string, port, values.quiet as boolean, io);
    }
    case "pub": {
      const { values, positionals } = parse(rest, "pub", {
        json: { type: "boolean", default: false },
      });
      if (values.help) return help(io, "pub");
      if (positionals.length !== 2) {
        throw new UsageError("Expected two arguments: <topic> <message>", "pub");
      }
      const port = parsePort(values.port as string, "pub", false);
      const message = parseMessage(positionals[1], values.json as boolean);
      return publish(values.host as string, port, positionals[0], message);
    }
    case "sub": {
      const { values, positionals } = parse(rest, "sub", { count: { type: "string" } });
      if (values.help) return help(io, "sub");
      if (positionals.length === 0) throw new UsageError("Expected at least one <topic>", "sub");
      const count = values.count === undefined ? Infinity : Number(values.count);
      if (!Number.isInteger(count) || count < 1) {
        if (count !== Infinity) {
          throw new UsageError(
            `Invalid --count "${values.count}": expected a positive integer`,
            "sub",
          );
        }
      }
      const port = parsePort(values.port as string, "sub", false);
      return subscribe(values.host as string, port, positionals, count, io);
    }
    case "pubsub-client": {
      const { values, positionals } = parse(rest, "pubsub-client", {});
      if (values.help) return help(io, "pubsub-client");
      if (positionals.length < 3 || positionals.length > 4) {
        throw new UsageError("Expected <host> <port> <topic> [message]", "pubsub-client");
      }
      const [host, portText, topic, message] = positionals;
      const port = parsePort(portText, "pubsub-client", false);
      return message === undefined
        ? subscribe(host, port, [topic], Infinity, io)
        : publish(host, port, topic, message);
    }
    default:
      throw new UsageError(`Unknown command "${command}"`, "main");
  }
}

function help(io: CliIo, topic: HelpTopic): Promise<number> {
  io.out(HELP[topic]);
  return Promise.resolve(0);
}

/**
 * Runs the command line with `args` (without the runtime and script) and
 * returns the exit code: 0 success, 1 failure, 2 bad usage.
 *
 * @example
 * ```ts ignore
 * import { main } from "@kn-sock/pubsub/cli";
 *
 * const code = await main(["pub", "news/sports", "Tonight!", "--port", "8080"]);
 * ```
 */
export async function main(args: string[], io: CliIo = consoleIo): Promise<number> {
  try {
    return await run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}`);
      io.err(
        `Run "kn-sock-pubsub ${error.topic === "main" ? "" : error.topic + " "}--help" for usage`,
      );
      return 2;
    }
    if (error instanceof PubSubError || error instanceof RangeError || error instanceof TypeError) {
      io.err(`error: ${error.message}${error instanceof PubSubError ? ` (${error.code})` : ""}`);
      return 1;
    }
    const code = (error as { code?: string } | null)?.code;
    if (code === "EADDRINUSE" || (error as Error)?.name === "AddrInUse") {
      io.err(`error: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}
