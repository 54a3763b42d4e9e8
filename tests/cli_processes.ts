/**
 * The command line as a child process on Deno, Bun or Node: sources on
 * Deno and Bun, the npm build on Node (`npm test` builds it first).
 */
import assert from "node:assert/strict";
import { Child } from "./child_process.ts";

/** The runtimes the CLI runs on. */
export const RUNTIMES = ["deno", "bun", "node"] as const;
/** One of {@linkcode RUNTIMES}. */
export type Runtime = typeof RUNTIMES[number];

/** The command that runs the CLI on `runtime` (Deno may read: `serve --ws-port` reads the bundle). */
function cli(runtime: Runtime): [string, string[]] {
  switch (runtime) {
    case "deno":
      return ["node_modules/.bin/deno", ["run", "--allow-net", "--allow-read", "src/cli/bin.ts"]];
    case "bun":
      return ["node_modules/.bin/bun", ["src/cli/bin.ts"]];
    case "node":
      return ["node", ["npm/esm/src/cli/bin.js"]];
  }
}

/**
 * Runs the CLI with `args` on `runtime`; `denoFlags` are more permissions
 * for Deno (`serve --redis` needs `--allow-env`).
 */
export function spawnCli(runtime: Runtime, args: string[], denoFlags: string[] = []): Child {
  const [command, prefix] = cli(runtime);
  const flags = runtime === "deno" ? [prefix[0], ...denoFlags, ...prefix.slice(1)] : prefix;
  return new Child(command, [...flags, ...args], { NO_COLOR: "1" });
}

/** A `serve` on `runtime`, once it printed its banner. */
export async function startCliServer(
  runtime: Runtime,
  args: string[],
  denoFlags: string[] = [],
): Promise<{ child: Child; port: number }> {
  const child = spawnCli(runtime, args, denoFlags);
  const banner = await child.line();
  const match = /listening on 127\.0\.0\.1:(\d+) \((\w+), transport (\w+)\)/.exec(banner ?? "");
  assert.ok(match, `no banner from ${runtime}: ${banner}\n${child.stderr}`);
  assert.equal(match[2], runtime);
  return { child, port: Number(match[1]) };
}

/** The WebSocket URL that a `serve --ws-port` prints on the line after its banner. */
export async function webSocketBanner(child: Child): Promise<string> {
  const line = await child.line();
  const url = /WebSocket listening on (\S+)/.exec(line ?? "")?.[1];
  assert.ok(url, `no WebSocket banner: ${line}\n${child.stderr}`);
  return url;
}
