/**
 * The command line's arguments: parsing, and the options read from files
 * (TLS certificates, the users file).
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import process from "node:process";
import { parseArgs } from "node:util";
import { Authenticator } from "../auth/authenticator.ts";
import { parseUsersConfig } from "../auth/users_config.ts";
import type { ClientAuth } from "../client/options.ts";
import {
  DEFAULT_CLIENT_LIMITS,
  DEFAULT_SERVER_LIMITS,
  resolveLimits,
  type ServerLimits,
} from "../limits.ts";
import { hasWildcard, patternProblem } from "../topic/pattern.ts";
import { topicProblem } from "../topic/validate_topic.ts";
import { type Headers, isSlowConsumerPolicy, type JsonValue } from "../protocol/frames.ts";
import { POLICY_CHOICES } from "../protocol/policy_problem.ts";
import type { WebSocketServerOptions } from "../server/server_options.ts";
import type { TlsConnectOptions, TlsListenOptions } from "../transport/types.ts";
import type { ServeOptions, Target } from "./commands.ts";
import type { HelpTopic } from "./help.ts";
import { parseServerConfig, type ServerConfig } from "./server_config.ts";

/** A usage error: printed with a hint, exit code 2. */
export class UsageError extends Error {
  readonly topic: HelpTopic;
  constructor(message: string, topic: HelpTopic) {
    super(message);
    this.name = "UsageError";
    this.topic = topic;
  }
}

export const CONNECTION_OPTIONS = {
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "8080" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** A failure that is not a usage error, with a message for the user: exit code 1. */
export class CliError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CliError";
  }
}

export const SERVER_OPTIONS = {
  quiet: { type: "boolean", short: "q", default: false },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  config: { type: "string" },
  "slow-consumer-policy": { type: "string" },
  "ws-port": { type: "string" },
  "ws-host": { type: "string" },
  "ws-path": { type: "string" },
  "ws-origin": { type: "string", multiple: true },
  "log-format": { type: "string" },
  verbose: { type: "boolean", short: "v", default: false },
  debug: { type: "boolean", default: false },
  limit: { type: "string", multiple: true },
  "no-warm-up": { type: "boolean", default: false },
} as const;

export const CLIENT_OPTIONS = {
  // No defaults here: given neither, --server or KN_SOCK_URL may say where the server is.
  host: { type: "string" },
  port: { type: "string" },
  server: { type: "string", short: "s" },
  user: { type: "string" },
  password: { type: "string" },
  token: { type: "string" },
  tls: { type: "boolean", default: false },
  "tls-ca": { type: "string" },
  "tls-server-name": { type: "string" },
} as const;

export type Values = Record<string, string | boolean | string[] | undefined>;

async function readText(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new CliError(`Cannot read ${option} "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** `--tls-cert` and `--tls-key`, read; `undefined` when neither is given. */
async function serverTls(values: Values, topic: HelpTopic): Promise<TlsListenOptions | undefined> {
  const certFile = values["tls-cert"] as string | undefined;
  const keyFile = values["tls-key"] as string | undefined;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError("--tls-cert and --tls-key must be given together", topic);
  }
  const [cert, key] = await Promise.all([
    readText(certFile, "--tls-cert"),
    readText(keyFile, "--tls-key"),
  ]);
  return { cert, key };
}

/**
 * `--user` with `--password`, or `--token`; the secrets may come from the
 * environment instead (`KN_SOCK_PASSWORD`, `KN_SOCK_TOKEN`) so that they do
 * not show in the process list.
 */
function clientAuth(values: Values): ClientAuth | undefined {
  const user = values.user as string | undefined;
  const token = (values.token as string | undefined) ?? env("KN_SOCK_TOKEN");
  if (user !== undefined) {
    const password = (values.password as string | undefined) ?? env("KN_SOCK_PASSWORD");
    if (password === undefined) {
      throw new UsageError("--user needs --password (or KN_SOCK_PASSWORD)", "main");
    }
    return { user, password };
  }
  if (values.password !== undefined) throw new UsageError("--password needs --user", "main");
  return token === undefined ? undefined : { token };
}

/**
 * An environment variable, or `undefined` when unset, empty, or not
 * permitted (Deno without --allow-env: asked first, so Deno never prompts).
 */
function env(name: string): string | undefined {
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno;
  if (deno?.permissions.querySync?.({ name: "env", variable: name }).state === "prompt") {
    return undefined;
  }
  let value: string | undefined;
  try {
    value = process.env[name];
  } catch {
    return undefined; // Deno's NotCapable: the secret must come as an argument then
  }
  return value === undefined || value === "" ? undefined : value;
}

/** The part of Deno's permissions API that `env()` uses. */
interface DenoPermissions {
  permissions: {
    querySync?(descriptor: { name: "env"; variable: string }): { state: string };
  };
}

/** The URL forms `--server` and `KN_SOCK_URL` take. */
const URL_FORMS = "tcp://host:port, tls://host:port, ws://host:port/path, wss://... or host:port";

/**
 * The server a client command talks to: `--server URL`, else `--host` and
 * `--port`, else `KN_SOCK_URL`, else 127.0.0.1:8080.
 */
export async function clientTarget(values: Values, command: HelpTopic): Promise<Target> {
  const given = values.server as string | undefined;
  const host = values.host as string | undefined;
  const portText = values.port as string | undefined;
  if (given !== undefined && (host !== undefined || portText !== undefined)) {
    throw new UsageError("Give --server or --host and --port, not both", command);
  }
  const url = given ??
    (host === undefined && portText === undefined ? env("KN_SOCK_URL") : undefined);
  if (url !== undefined) {
    return await urlTarget(url, given === undefined ? "KN_SOCK_URL" : "--server", values, command);
  }
  return await target(values, host ?? "127.0.0.1", parsePort(portText ?? "8080", command, false));
}

/** A server URL as a target; TCP (`tcp:`, `tls:`, none) as a host and port, WebSocket as the URL. */
async function urlTarget(
  text: string,
  source: string,
  values: Values,
  command: HelpTopic,
): Promise<Target> {
  const invalid = (why: string) =>
    new UsageError(`Invalid ${source} "${text}": ${why} (expected ${URL_FORMS})`, command);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `tcp://${text}`);
  } catch {
    throw invalid("not a URL");
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (hostname === "") throw invalid("no host");
  switch (url.protocol) {
    case "tcp:":
    case "tls:": {
      if (url.pathname !== "" && url.pathname !== "/") throw invalid("a TCP URL has no path");
      const port = parsePort(url.port === "" ? "8080" : url.port, command, false);
      const tcp = await target(values, hostname, port);
      return url.protocol === "tls:" && tcp.tls === undefined ? { ...tcp, tls: {} } : tcp;
    }
    case "ws:":
    case "wss:": {
      const tls = await target(values, hostname, 0);
      if (url.protocol === "ws:" && tls.tls !== undefined) {
        throw new UsageError(`--tls* options need a wss:// URL, not "${text}"`, command);
      }
      const port = url.port === "" ? (url.protocol === "ws:" ? 80 : 443) : Number(url.port);
      return { ...tls, port, url: url.href };
    }
    default:
      throw invalid(`unknown scheme "${url.protocol}"`);
  }
}

/** The server to talk to: `--host`, `--port` (or positionals), and TLS when any `--tls*` is given. */
export async function target(values: Values, host: string, port: number): Promise<Target> {
  const caFile = values["tls-ca"] as string | undefined;
  const serverName = values["tls-server-name"] as string | undefined;
  const auth = clientAuth(values);
  if (values.tls !== true && caFile === undefined && serverName === undefined) {
    return { host, port, auth };
  }
  const tls: TlsConnectOptions = { serverName };
  if (caFile !== undefined) tls.ca = await readText(caFile, "--tls-ca");
  return { host, port, tls, auth };
}

export function parsePort(text: string, topic: HelpTopic, allowZero: boolean): number {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new UsageError(
      `Invalid port "${text}": expected an integer from ${allowZero ? 0 : 1} to 65535`,
      topic,
    );
  }
  return port;
}

/** A topic to publish to, checked here so that a bad one is a usage error (exit 2). */
export function checkPublishTopic(topic: string, command: HelpTopic): string {
  const { maxTopicBytes, maxTopicLevels } = DEFAULT_CLIENT_LIMITS;
  const problem = topicProblem(topic, maxTopicBytes, maxTopicLevels) ??
    (hasWildcard(topic) ? "A publish topic must not contain '+' or '#'" : null);
  if (problem !== null) throw new UsageError(`Invalid topic "${topic}": ${problem}`, command);
  return topic;
}

/** A topic or pattern to subscribe to, checked here (exit 2 when bad). */
export function checkPattern(pattern: string, command: HelpTopic): string {
  const { maxTopicBytes, maxTopicLevels } = DEFAULT_CLIENT_LIMITS;
  const problem = topicProblem(pattern, maxTopicBytes, maxTopicLevels) ?? patternProblem(pattern);
  if (problem !== null) throw new UsageError(`Invalid pattern "${pattern}": ${problem}`, command);
  return pattern;
}

/** A positive whole number of `option`, or `undefined` when not given. */
function positive(
  text: string | boolean | string[] | undefined,
  option: string,
  unit: string,
  command: HelpTopic,
): number | undefined {
  if (text === undefined) return undefined;
  const value = typeof text === "string" && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(
      `Invalid ${option} "${text}": expected a positive integer${unit}`,
      command,
    );
  }
  return value;
}

/** What a client command may wait for the server before giving up, unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** `--timeout` in ms; {@linkcode DEFAULT_TIMEOUT_MS} when not given. */
export function parseTimeout(
  text: string | boolean | string[] | undefined,
  command: HelpTopic,
): number {
  return positive(text, "--timeout", " of ms", command) ?? DEFAULT_TIMEOUT_MS;
}

/** A positive whole number of `option`, or `fallback` when not given. */
export function parseWhole(
  text: string | boolean | string[] | undefined,
  option: string,
  fallback: number,
  command: HelpTopic,
): number {
  return positive(text, option, "", command) ?? fallback;
}

/** `--count`; `Infinity` when not given. */
export function parseCount(
  text: string | boolean | string[] | undefined,
  command: HelpTopic,
): number {
  return positive(text, "--count", "", command) ?? Infinity;
}

export function parse(
  args: string[],
  topic: HelpTopic,
  options: Record<
    string,
    { type: "string" | "boolean"; default?: string | boolean; multiple?: boolean; short?: string }
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

export function parseMessage(text: string, json: boolean, topic: HelpTopic): JsonValue {
  if (!json) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new UsageError(`--json given but the message is not valid JSON: ${text}`, topic);
  }
}

export function parseHeaders(values: string[] | undefined): Headers | undefined {
  if (values === undefined) return undefined;
  const headers: Headers = {};
  for (const value of values) {
    const at = value.indexOf("=");
    if (at < 1) throw new UsageError(`Invalid --header "${value}": expected name=value`, "pub");
    headers[value.slice(0, at)] = value.slice(at + 1);
  }
  return headers;
}

/** `--ws-origin`'s value as an origin (`https://app.example.com/` becomes `https://app.example.com`). */
function parseOrigin(text: string, topic: HelpTopic): string {
  let origin = "null";
  try {
    origin = new URL(text).origin;
  } catch {
    // reported below
  }
  if (origin === "null") {
    throw new UsageError(
      `Invalid --ws-origin "${text}": expected an origin such as https://app.example.com`,
      topic,
    );
  }
  return origin;
}

/**
 * `--ws-port` (and `--ws-host`, `--ws-path`, `--ws-origin`): the server's
 * `webSocket` option; `undefined` without `--ws-port`.
 */
export function webSocketSetup(
  values: Values,
  topic: HelpTopic,
): WebSocketServerOptions | undefined {
  const portText = values["ws-port"] as string | undefined;
  const host = values["ws-host"] as string | undefined;
  const path = values["ws-path"] as string | undefined;
  const origins = values["ws-origin"] as string[] | undefined;
  if (portText === undefined) {
    if (host !== undefined || path !== undefined || origins !== undefined) {
      throw new UsageError("--ws-host, --ws-path and --ws-origin need --ws-port", topic);
    }
    return undefined;
  }
  if (path !== undefined && !path.startsWith("/")) {
    throw new UsageError(`Invalid --ws-path "${path}": it must start with "/"`, topic);
  }
  return {
    port: parsePort(portText, topic, true),
    host,
    path,
    allowedOrigins: origins?.map((origin) => parseOrigin(origin, topic)),
  };
}

/** `--log-format`, `-v`/`--debug`: how `serve` logs. */
export function logSetup(
  values: Values,
  topic: HelpTopic,
): Pick<ServeOptions, "logFormat" | "debug"> {
  const format = values["log-format"] as string | undefined;
  if (format !== undefined && format !== "text" && format !== "json") {
    throw new UsageError(`Invalid --log-format "${format}": expected text or json`, topic);
  }
  const debug = values.verbose === true || values.debug === true;
  if (debug && values.quiet === true) {
    throw new UsageError("--quiet and --verbose (--debug) contradict each other", topic);
  }
  return { logFormat: format, debug };
}

/** `--limit name=value` (repeatable): server limits, by the names of `DEFAULT_SERVER_LIMITS`. */
export function parseLimits(
  values: Values,
  topic: HelpTopic,
): Partial<ServerLimits> | undefined {
  const given = values.limit as string[] | undefined;
  if (given === undefined) return undefined;
  const limits: Partial<Record<keyof ServerLimits, number>> = {};
  for (const text of given) {
    const at = text.indexOf("=");
    const name = text.slice(0, at);
    if (at < 1 || !Object.hasOwn(DEFAULT_SERVER_LIMITS, name)) {
      throw new UsageError(
        `Invalid --limit "${text}": expected name=value, the name one of ${
          Object.keys(DEFAULT_SERVER_LIMITS).join(", ")
        }`,
        topic,
      );
    }
    const value = Number(text.slice(at + 1));
    if (!/^\d+$/.test(text.slice(at + 1)) || !Number.isSafeInteger(value)) {
      throw new UsageError(`Invalid --limit "${text}": expected a whole number`, topic);
    }
    limits[name as keyof ServerLimits] = value;
  }
  try {
    resolveLimits(DEFAULT_SERVER_LIMITS, limits);
  } catch (error) {
    throw new UsageError(`Invalid --limit: ${(error as Error).message}`, topic);
  }
  return limits;
}

/** `serve`'s options read from arguments and files: TLS, the users file, the policy. */
export async function serverSetup(
  values: Values,
  topic: HelpTopic,
): Promise<Pick<ServeOptions, "tls" | "auth" | "policy" | "limits">> {
  const policy = values["slow-consumer-policy"] as string | undefined;
  if (policy !== undefined && !isSlowConsumerPolicy(policy)) {
    throw new UsageError(
      `Invalid --slow-consumer-policy "${policy}": expected ${POLICY_CHOICES}`,
      topic,
    );
  }
  const configFile = values.config as string | undefined;
  let auth: Authenticator | undefined;
  let config: ServerConfig = {};
  if (configFile !== undefined) {
    const text = await readText(configFile, "--config");
    try {
      config = parseServerConfig(text);
      if (config.users !== undefined) auth = new Authenticator(parseUsersConfig(config.users));
    } catch (error) {
      throw new CliError(`Invalid --config "${configFile}": ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  // The flags win over the file.
  const flagLimits = parseLimits(values, topic);
  const limits = config.limits === undefined && flagLimits === undefined
    ? undefined
    : { ...config.limits, ...flagLimits };
  return {
    tls: await serverTls(values, topic),
    auth,
    policy: policy ?? config.slowConsumerPolicy,
    limits,
  };
}
