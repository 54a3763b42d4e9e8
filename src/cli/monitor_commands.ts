/**
 * Monitoring on the command line: `serve`'s `--monitor-*` options, and the
 * `stats` and `top` commands, which read a server's monitoring endpoints.
 *
 * @module
 */

import process from "node:process";
import type { MonitorOptions } from "../server/monitor/monitor_options.ts";
import { CliError, parse, parsePort, UsageError, type Values } from "./arguments.ts";
import type { CliIo } from "./commands.ts";
import type { HelpTopic } from "./help.ts";
import { type MonitorJson, summaryLines, topLines } from "./top_view.ts";

/** `serve`'s monitoring options. */
export const MONITOR_SERVER_OPTIONS = {
  "monitor-port": { type: "string" },
  "monitor-host": { type: "string" },
  "monitor-token": { type: "string" },
  "sys-stats": { type: "string" },
} as const;

/** The options of `stats` and `top`. */
const MONITOR_CLIENT_OPTIONS = {
  "monitor-port": { type: "string", default: "8222" },
  "monitor-host": { type: "string", default: "127.0.0.1" },
  "monitor-token": { type: "string" },
  json: { type: "boolean", default: false },
  count: { type: "string" },
  connections: { type: "string", default: "10" },
} as const;

function monitorToken(values: Values): string | undefined {
  const given = values["monitor-token"] as string | undefined;
  if (given !== undefined) return given;
  try {
    return process.env.KN_SOCK_MONITOR_TOKEN || undefined;
  } catch {
    return undefined; // Deno without --allow-env
  }
}

function positiveInteger(text: string, option: string, topic: HelpTopic): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`Invalid ${option} "${text}": expected a positive integer`, topic);
  }
  return value;
}

/**
 * `--monitor-port` (and `--monitor-host`, `--monitor-token`, `--sys-stats`):
 * the server's `monitor` option; `undefined` without `--monitor-port`.
 */
export function monitorSetup(values: Values, topic: HelpTopic): MonitorOptions | undefined {
  const portText = values["monitor-port"] as string | undefined;
  if (portText === undefined) {
    for (const option of ["monitor-host", "monitor-token", "sys-stats"]) {
      if (values[option] !== undefined) {
        throw new UsageError(`--${option} needs --monitor-port`, topic);
      }
    }
    return undefined;
  }
  const sys = values["sys-stats"] as string | undefined;
  return {
    port: parsePort(portText, topic, true),
    host: values["monitor-host"] as string | undefined,
    token: monitorToken(values),
    sysStatsIntervalMs: sys === undefined
      ? undefined
      : 1000 * positiveInteger(sys, "--sys-stats", topic),
  };
}

/** The monitor a command reads, and its token. */
interface MonitorTarget {
  base: string;
  token: string | undefined;
}

async function getJson(target: MonitorTarget, path: string): Promise<MonitorJson> {
  let response: Response;
  try {
    response = await fetch(`${target.base}${path}`, {
      headers: target.token === undefined ? {} : { authorization: `Bearer ${target.token}` },
    });
  } catch (error) {
    throw new CliError(
      `Cannot reach the monitor at ${target.base}: ${(error as Error).message} ` +
        "(is the server running with --monitor-port?)",
      { cause: error },
    );
  }
  if (response.status === 401) {
    await response.body?.cancel();
    throw new CliError(
      `The monitor at ${target.base} needs a token: --monitor-token or KN_SOCK_MONITOR_TOKEN`,
    );
  }
  if (!response.ok) {
    const text = await response.text();
    throw new CliError(`The monitor answered ${response.status} to ${path}: ${text}`);
  }
  return await response.json();
}

/** Resolves after `ms`, or at once when `stop` aborts. */
function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    }
    stop.addEventListener("abort", done, { once: true });
  });
}

/** The escape sequence that homes the cursor and clears the screen. */
const CLEAR = "\x1b[H\x1b[2J";

/**
 * `stats` (prints `/varz` once) and `top` (refreshes every second until
 * SIGINT, or `--count` times). `tty`: whether standard output is a
 * terminal, where `top` redraws the screen instead of printing block after
 * block.
 */
export async function runMonitorCommand(
  command: "stats" | "top",
  args: string[],
  io: CliIo,
  tty: boolean,
): Promise<number> {
  const { values, positionals } = parse(args, command, MONITOR_CLIENT_OPTIONS);
  if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${positionals[0]}"`, command);
  }
  const port = parsePort(values["monitor-port"] as string, command, false);
  const host = values["monitor-host"] as string;
  const target: MonitorTarget = {
    base: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    token: monitorToken(values),
  };
  if (command === "stats") {
    const varz = await getJson(target, "/varz");
    if (values.json === true) io.out(JSON.stringify(varz, null, 2));
    else for (const line of summaryLines(varz)) io.out(line);
    return 0;
  }
  const count = values.count === undefined
    ? Infinity
    : positiveInteger(values.count as string, "--count", command);
  const rows = positiveInteger(values.connections as string, "--connections", command);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    for (let shown = 0; shown < count && !stop.signal.aborted; shown++) {
      if (shown > 0) await pause(1000, stop.signal);
      if (stop.signal.aborted) break;
      const [varz, connz, subsz] = await Promise.all([
        getJson(target, "/varz"),
        getJson(target, `/connz?sort=bytes_out&limit=${rows}`),
        getJson(target, "/subsz?limit=5"),
      ]);
      const lines = topLines(varz, connz, subsz);
      if (tty) io.out(CLEAR + lines.join("\n"));
      else {
        if (shown > 0) io.out("");
        for (const line of lines) io.out(line);
      }
    }
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
