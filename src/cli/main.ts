/**
 * The command line: `serve`, `pub`, `sub`, `req`, and kn-sock's own
 * `run-pubsub-server` and `pubsub-client` forms.
 *
 * @module
 */

import process from "node:process";
import { PubSubError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { HELP, type HelpTopic } from "./help.ts";
import { type CliIo, publish, request, serve, subscribe } from "./commands.ts";
import {
  CLIENT_OPTIONS,
  CliError,
  parse,
  parseHeaders,
  parseMessage,
  parsePort,
  SERVER_OPTIONS,
  serverSetup,
  target,
  UsageError,
  webSocketSetup,
} from "./arguments.ts";
import { hashSecret } from "./hash.ts";
import { MONITOR_SERVER_OPTIONS, monitorSetup, runMonitorCommand } from "./monitor_commands.ts";
import { CLUSTER_SERVER_OPTIONS, clusterSetup } from "./cluster_options.ts";

export type { CliIo } from "./commands.ts";

const consoleIo: CliIo = {
  // deno-lint-ignore no-console
  out: (line) => console.log(line),
  // deno-lint-ignore no-console
  err: (line) => console.error(line),
};

/**
 * `serve`, and kn-sock's `run-pubsub-server <port>`: one server, its port
 * given as `--port` or as the one argument.
 */
async function runServer(
  command: "serve" | "run-pubsub-server",
  rest: string[],
  io: CliIo,
): Promise<number> {
  const { values, positionals } = parse(rest, command, {
    ...SERVER_OPTIONS,
    ...MONITOR_SERVER_OPTIONS,
    ...CLUSTER_SERVER_OPTIONS,
  });
  if (values.help) return help(io, command);
  let portText = values.port as string;
  if (command === "run-pubsub-server") {
    if (positionals.length !== 1) {
      throw new UsageError("Expected exactly one argument: <port>", command);
    }
    portText = positionals[0];
  } else if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${positionals[0]}"`, command);
  }
  const port = parsePort(portText, command, true);
  const webSocket = webSocketSetup(values, command);
  const monitor = monitorSetup(values, command);
  const setup = await serverSetup(values, command);
  const backplane = await clusterSetup(values, command);
  return serve(
    {
      host: values.host as string,
      port,
      quiet: values.quiet as boolean,
      ...setup,
      webSocket,
      monitor,
      backplane,
    },
    io,
  );
}

async function run(args: string[], io: CliIo): Promise<number> {
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
    case "serve":
    case "run-pubsub-server":
      return runServer(command, rest, io);
    case "pub": {
      const { values, positionals } = parse(rest, "pub", {
        ...CLIENT_OPTIONS,
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
      return publish(await target(values, values.host as string, port), positionals[0], message, {
        retain: values.retain === true ? true : undefined,
        headers,
      });
    }
    case "req": {
      const { values, positionals } = parse(rest, "req", {
        ...CLIENT_OPTIONS,
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
      const server = await target(values, values.host as string, port);
      return request(server, positionals[0], message, timeout, io);
    }
    case "sub": {
      const { values, positionals } = parse(rest, "sub", {
        ...CLIENT_OPTIONS,
        count: { type: "string" },
        group: { type: "string" },
        reconnect: { type: "boolean", default: false },
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
      const server = await target(values, values.host as string, port);
      return subscribe(server, positionals, count, io, group, values.reconnect === true);
    }
    case "stats":
    case "top":
      if (rest.includes("--help") || rest.includes("-h")) return help(io, command);
      // A terminal gets a redrawn screen; a pipe, plain blocks.
      return runMonitorCommand(
        command,
        rest,
        io,
        io === consoleIo && process.stdout.isTTY === true,
      );
    case "hash-password":
    case "hash-token": {
      const { values, positionals } = parse(rest, command, {
        iterations: { type: "string" },
      });
      if (values.help) return help(io, command);
      if (positionals.length > 0) {
        throw new UsageError(`Unexpected argument "${positionals[0]}"`, command);
      }
      return hashSecret(command, values.iterations as string | undefined, io);
    }
    case "pubsub-client": {
      const { values, positionals } = parse(rest, "pubsub-client", CLIENT_OPTIONS);
      if (values.help) return help(io, "pubsub-client");
      if (positionals.length < 3 || positionals.length > 4) {
        throw new UsageError("Expected <host> <port> <topic> [message]", "pubsub-client");
      }
      const [host, portText, topic, message] = positionals;
      const server = await target(values, host, parsePort(portText, "pubsub-client", false));
      return message === undefined
        ? subscribe(server, [topic], Infinity, io)
        : publish(server, topic, message);
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
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      return 1;
    }
    if (error instanceof PubSubError || error instanceof RangeError || error instanceof TypeError) {
      // Why a connect failed (a TLS certificate not trusted, a timeout) is in its cause.
      const why = error instanceof PubSubError && error.code === "connect_failed" &&
          error.cause instanceof Error
        ? `: ${error.cause.message}`
        : "";
      io.err(
        `error: ${error.message}${why}${error instanceof PubSubError ? ` (${error.code})` : ""}`,
      );
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
