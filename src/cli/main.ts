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
import { type CliIo, serve } from "./commands.ts";
import { publish, request, subscribe } from "./client_commands.ts";
import { Stopped } from "./command_stop.ts";
import { isStandardIo, standardIo } from "./standard_io.ts";
import { detectRuntime } from "../transport/auto.ts";
import {
  checkPattern,
  checkPublishTopic,
  CLIENT_OPTIONS,
  clientTarget,
  CliError,
  DEFAULT_TIMEOUT_MS,
  logSetup,
  parse,
  parseCount,
  parseHeaders,
  parseMessage,
  parsePort,
  parseTimeout,
  parseWhole,
  SERVER_OPTIONS,
  serverSetup,
  target,
  UsageError,
  type Values,
  webSocketSetup,
} from "./arguments.ts";
import { hashSecret } from "./hash.ts";
import { MONITOR_SERVER_OPTIONS, monitorSetup, runMonitorCommand } from "./monitor_commands.ts";
import { reply } from "./reply_command.ts";
import { bench } from "./bench_command.ts";
import { messageFormat } from "./message_format.ts";
import { checkReadable, type MessageInput, messages } from "./message_input.ts";
import { DEFAULT_CLIENT_LIMITS } from "../limits.ts";
import { CLUSTER_SERVER_OPTIONS, clusterSetup } from "./cluster_options.ts";

export type { CliIo } from "./commands.ts";

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
      warmUp: values["no-warm-up"] !== true,
      ...setup,
      webSocket,
      monitor,
      ...logSetup(values, command),
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
      io.out(`${VERSION} (${runtimeVersion()})`);
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
        timeout: { type: "string" },
        "kn-sock": { type: "boolean", default: false },
        stdin: { type: "boolean", default: false },
        file: { type: "string" },
        lines: { type: "boolean", default: false },
        count: { type: "string" },
      });
      if (values.help) return help(io, "pub");
      if (positionals.length < 1 || positionals.length > 2) {
        throw new UsageError(
          "Expected <topic> <message> (or <topic> with -, --stdin or --file F)",
          "pub",
        );
      }
      const topic = checkPublishTopic(positionals[0], "pub");
      const headers = parseHeaders(values.header as string[] | undefined);
      const input = messageInput(values, positionals[1]);
      if (input.argument === undefined) await checkReadable(input.source);
      return publish(await clientTarget(values, "pub"), {
        topic,
        messages: messages(input),
        retain: values.retain === true ? true : undefined,
        headers,
        timeoutMs: parseTimeout(values.timeout, "pub"),
        knSock: values["kn-sock"] === true,
      }, io);
    }
    case "req": {
      const { values, positionals } = parse(rest, "req", {
        ...CLIENT_OPTIONS,
        json: { type: "boolean", default: false },
        timeout: { type: "string" },
      });
      if (values.help) return help(io, "req");
      if (positionals.length !== 2) {
        throw new UsageError("Expected two arguments: <topic> <message>", "req");
      }
      const timeout = parseTimeout(values.timeout, "req");
      const topic = checkPublishTopic(positionals[0], "req");
      const message = parseMessage(positionals[1], values.json as boolean, "req");
      const server = await clientTarget(values, "req");
      return request(server, topic, message, timeout, io);
    }
    case "sub": {
      const { values, positionals } = parse(rest, "sub", {
        ...CLIENT_OPTIONS,
        count: { type: "string" },
        group: { type: "string" },
        reconnect: { type: "boolean", default: false },
        timeout: { type: "string" },
        "kn-sock": { type: "boolean", default: false },
        raw: { type: "boolean", default: false },
        verbose: { type: "boolean", short: "v", default: false },
        format: { type: "string" },
        "no-retained": { type: "boolean", default: false },
      });
      if (values.help) return help(io, "sub");
      if (positionals.length === 0) throw new UsageError("Expected at least one <topic>", "sub");
      const count = parseCount(values.count, "sub");
      const group = values.group as string | undefined;
      if (group === "") throw new UsageError('Invalid --group "": expected a name', "sub");
      const server = await clientTarget(values, "sub");
      const { format, hello } = messageFormat(values, "sub");
      const noRetained = values["no-retained"] === true;
      const knSock = values["kn-sock"] === true;
      if (knSock && (hello || noRetained)) {
        throw new UsageError(
          "--verbose, --no-retained and --format fields other than {topic}, {message} and " +
            "{json} need this project's server: not with --kn-sock",
          "sub",
        );
      }
      return subscribe(server, {
        patterns: positionals.map((pattern) => checkPattern(pattern, "sub")),
        count,
        group,
        reconnect: values.reconnect === true,
        timeoutMs: parseTimeout(values.timeout, "sub"),
        idleMs: values.timeout === undefined ? undefined : parseTimeout(values.timeout, "sub"),
        knSock,
        format,
        hello,
        noRetained,
      }, io);
    }
    case "reply": {
      const { values, positionals } = parse(rest, "reply", {
        ...CLIENT_OPTIONS,
        json: { type: "boolean", default: false },
        exec: { type: "string" },
        group: { type: "string" },
        count: { type: "string" },
        timeout: { type: "string" },
      });
      if (values.help) return help(io, "reply");
      const exec = values.exec as string | undefined;
      if (positionals.length !== (exec === undefined ? 2 : 1)) {
        throw new UsageError("Expected <pattern> <response>, or <pattern> --exec CMD", "reply");
      }
      const json = values.json === true;
      const group = values.group as string | undefined;
      if (group === "") throw new UsageError('Invalid --group "": expected a name', "reply");
      return reply(await clientTarget(values, "reply"), {
        pattern: checkPattern(positionals[0], "reply"),
        response: exec === undefined ? parseMessage(positionals[1], json, "reply") : undefined,
        exec,
        json,
        group,
        count: parseCount(values.count, "reply"),
        timeoutMs: parseTimeout(values.timeout, "reply"),
        maxBytes: DEFAULT_CLIENT_LIMITS.maxLineBytes,
      }, io);
    }
    case "bench": {
      const { values, positionals } = parse(rest, "bench", {
        ...CLIENT_OPTIONS,
        pub: { type: "string" },
        sub: { type: "string" },
        count: { type: "string" },
        size: { type: "string" },
        timeout: { type: "string" },
      });
      if (values.help) return help(io, "bench");
      if (positionals.length > 1) throw new UsageError("Expected at most one <topic>", "bench");
      const count = parseCount(values.count, "bench");
      return bench(await clientTarget(values, "bench"), {
        topic: checkPublishTopic(positionals[0] ?? "bench", "bench"),
        publishers: parseWhole(values.pub, "--pub", 1, "bench"),
        subscribers: parseWhole(values.sub, "--sub", 1, "bench"),
        count: count === Infinity ? 100_000 : count,
        size: parseWhole(values.size, "--size", 128, "bench"),
        timeoutMs: parseTimeout(values.timeout, "bench"),
      }, io);
    }
    case "stats":
    case "top":
      if (rest.includes("--help") || rest.includes("-h")) return help(io, command);
      // A terminal gets a redrawn screen; a pipe, plain blocks.
      return runMonitorCommand(
        command,
        rest,
        io,
        isStandardIo(io) && process.stdout.isTTY === true,
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
      const { values, positionals } = parse(rest, "pubsub-client", {
        ...CLIENT_OPTIONS,
        "kn-sock": { type: "boolean", default: false },
      });
      if (values.help) return help(io, "pubsub-client");
      if (positionals.length < 3 || positionals.length > 4) {
        throw new UsageError("Expected <host> <port> <topic> [message]", "pubsub-client");
      }
      if (values.server !== undefined || values.host !== undefined || values.port !== undefined) {
        throw new UsageError("The server is given as <host> <port>", "pubsub-client");
      }
      const [host, portText, topic, message] = positionals;
      const server = await target(values, host, parsePort(portText, "pubsub-client", false));
      const knSock = values["kn-sock"] === true;
      const timeoutMs = DEFAULT_TIMEOUT_MS;
      return message === undefined
        ? subscribe(server, {
          patterns: [checkPattern(topic, "pubsub-client")],
          count: Infinity,
          reconnect: false,
          timeoutMs,
          knSock,
        }, io)
        : publish(server, {
          topic: checkPublishTopic(topic, "pubsub-client"),
          messages: messages({
            argument: message,
            lines: false,
            count: 1,
            json: false,
            maxBytes: DEFAULT_CLIENT_LIMITS.maxLineBytes,
          }),
          timeoutMs,
          knSock,
        }, io);
    }
    default:
      throw new UsageError(`Unknown command "${command}"`, "main");
  }
}

/** The runtime that runs the CLI and its version, as in "bun 1.4.5". */
function runtimeVersion(): string {
  const runtime = detectRuntime();
  const versions = process.versions as Record<string, string | undefined>;
  return `${runtime} ${versions[runtime] ?? "(version unknown)"}`;
}

/** What to do about a server's refusal, by its code. */
const HINTS: Readonly<Record<string, string>> = {
  auth_required: "the server requires credentials: pass --user and --password, or --token",
  auth_failed: "the server refused these credentials",
  forbidden: "this user's permissions do not allow it",
  payload_too_large: "the server's max_payload is smaller than this message",
};

/** `pub`'s message: the argument, or standard input (`-`, `--stdin`) or `--file`, whole or by line. */
function messageInput(values: Values, argument: string | undefined): MessageInput {
  const file = values.file as string | undefined;
  const stdin = values.stdin === true || argument === "-";
  const fromArgument = argument !== undefined && argument !== "-";
  if ([fromArgument, stdin, file !== undefined].filter(Boolean).length !== 1) {
    throw new UsageError("Give the message once: as an argument, -, --stdin or --file F", "pub");
  }
  const lines = values.lines === true;
  if (lines && fromArgument) throw new UsageError("--lines reads --stdin or --file F", "pub");
  const count = parseCount(values.count, "pub");
  if (lines && count !== Infinity) {
    throw new UsageError("--count repeats one message: not with --lines", "pub");
  }
  const json = values.json === true;
  if (fromArgument && json) parseMessage(argument, true, "pub"); // a usage error, before connecting
  return {
    argument: fromArgument ? argument : undefined,
    source: file !== undefined ? { kind: "file", path: file } : { kind: "stdin" },
    lines,
    count: count === Infinity ? 1 : count,
    json,
    maxBytes: DEFAULT_CLIENT_LIMITS.maxLineBytes,
  };
}

function help(io: CliIo, topic: HelpTopic): Promise<number> {
  io.out(HELP[topic]);
  return Promise.resolve(0);
}

/**
 * Runs the command line with `args` (without the runtime and script) and
 * returns the exit code: 0 success, 1 failure, 2 bad usage, 130 and 143
 * when SIGINT or SIGTERM stopped a command before it was done. Without
 * `io` it writes to standard output and error.
 *
 * @example
 * ```ts ignore
 * import { main } from "@kn-sock/pubsub/cli";
 *
 * const code = await main(["pub", "news/sports", "Tonight!", "--port", "8080"]);
 * ```
 */
export async function main(args: string[], io?: CliIo): Promise<number> {
  const to = io ?? standardIo();
  try {
    return await run(args, to);
  } catch (error) {
    return report(error, to);
  }
}

/** Tells the user what went wrong; returns the exit code. */
function report(error: unknown, io: CliIo): number {
  if (error instanceof Stopped) {
    if (error.message !== "") io.err(error.message);
    return error.exitCode;
  }
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
    const code = error instanceof PubSubError ? error.code : undefined;
    io.err(`error: ${error.message}${why}${code === undefined ? "" : ` (${code})`}`);
    if (code !== undefined && code in HINTS) io.err(`hint: ${HINTS[code]}`);
    return 1;
  }
  io.err(`error: ${(error as Error)?.stack ?? String(error)}`);
  return 1;
}

// Run as a program (`deno run jsr:@kn-sock/pubsub/cli`, `bun src/cli/main.ts`);
// importing it runs nothing. The npm package's bin is `bin.ts`.
if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
