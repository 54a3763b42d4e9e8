/**
 * The command line: `serve`, `pub`, `sub`, `req`, and kn-sock's own
 * `run-pubsub-server` and `pubsub-client` forms.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { PubSubError } from "../errors.ts";
import type { Headers, JsonValue } from "../protocol/frames.ts";
import { VERSION } from "../version.ts";
import { HELP, type HelpTopic } from "./help.ts";
import { type CliIo, publish, request, serve, subscribe } from "./commands.ts";

export type { CliIo } from "./commands.ts";

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
  options: Record<
    string,
    { type: "string" | "boolean"; default?: string | boolean; multiple?: boolean }
  >,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...CONNECTION_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: values as Record<string, string | boolean | string[] | undefined>,
      positionals,
    };
  } catch (error) {
    throw new UsageError((error as Error).message, topic);
  }
}

function parseMessage(text: string, json: boolean, topic: HelpTopic): JsonValue {
  if (!json) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UsageError(`--json given but the message is not valid JSON: ${text}`, topic);
  }
}

function parseHeaders(values: string[] | undefined): Headers | undefined {
  if (values === undefined) return undefined;
  const headers: Headers = {};
  for (const value of values) {
    const at = value.indexOf("=");
    if (at < 1) throw new UsageError(`Invalid --header "${value}": expected name=value`, "pub");
    headers[value.slice(0, at)] = value.slice(at + 1);
  }
  return headers;
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
        retain: { type: "boolean", default: false },
        header: { type: "string", multiple: true },
      });
      if (values.help) return help(io, "pub");
      if (positionals.length !== 2) {
        throw new UsageError("Expected two arguments: <topic> <message>", "pub");
      }
      const port = parsePort(values.port as string, "pub", false);
      const message = parseMessage(positionals[1], values.json as boolean, "pub");
      const headers = parseHeaders(values.header as string[] | undefined);
      return publish(values.host as string, port, positionals[0], message, {
        retain: values.retain === true ? true : undefined,
        headers,
      });
    }
    case "req": {
      const { values, positionals } = parse(rest, "req", {
        json: { type: "boolean", default: false },
        timeout: { type: "string", default: "10000" },
      });
      if (values.help) return help(io, "req");
      if (positionals.length !== 2) {
        throw new UsageError("Expected two arguments: <topic> <message>", "req");
      }
      const timeout = Number(values.timeout);
      if (!Number.isInteger(timeout) || timeout < 1) {
        throw new UsageError(
          `Invalid --timeout "${values.timeout}": expected a positive integer of ms`,
          "req",
        );
      }
      const port = parsePort(values.port as string, "req", false);
      const message = parseMessage(positionals[1], values.json as boolean, "req");
      return request(values.host as string, port, positionals[0], message, timeout, io);
    }
    case "sub": {
      const { values, positionals } = parse(rest, "sub", {
        count: { type: "string" },
        group: { type: "string" },
      });
      if (values.help) return help(io, "sub");
      if (positionals.length === 0) throw new UsageError("Expected at least one <topic>", "sub");
      const count = values.count === undefined ? Infinity : Number(values.count);
      if (count !== Infinity && (!Number.isInteger(count) || count < 1)) {
        throw new UsageError(
          `Invalid --count "${values.count}": expected a positive integer`,
          "sub",
        );
      }
      const port = parsePort(values.port as string, "sub", false);
      const group = values.group as string | undefined;
      return subscribe(values.host as string, port, positionals, count, io, group);
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
