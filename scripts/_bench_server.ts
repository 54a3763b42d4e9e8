/**
 * The benchmark's server process: the CLI's `serve` on Deno, Bun or Node
 * (the npm build), with its CPU time and memory read from `/proc/<pid>`.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { pinPrefix } from "./_bench_cpu.ts";

/**
 * A runtime the server can run on; `node` is the system's Node, `node24` the
 * Node 24 the tests use, and `relay` the baseline: `_bench_relay.ts`, a
 * minimal fan-out server on Bun (coalesced writes, linear line splitting),
 * not this package.
 */
export type Runtime = "deno" | "bun" | "node" | "node24" | "relay";

/** The Node 24 binary the tests use (fetched by npx once), for the `node24` runtime. */
function node24(): string {
  return execFileSync("npx", ["-y", "node@24.21.0", "-p", "process.execPath"], {
    encoding: "utf8",
  }).trim();
}

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** One server process. */
export class Server {
  readonly child: ChildProcess;
  port = 0;

  /** The WebSocket URL (`serve --ws-port 0`), when the server was asked for one. */
  webSocketUrl = "";
  readonly #webSocket: boolean;
  /** The monitoring URL (`serve --monitor-port 0`), when the server was asked for it. */
  monitorUrl = "";
  readonly #monitor: boolean;
  #poller: ReturnType<typeof setInterval> | undefined = undefined;
  /** `/varz` polls answered so far (with monitoring). */
  polls = 0;

  /**
   * @param runtime What the server runs on.
   * @param cpu The CPU to pin the server to, or `null` to leave it to the system.
   * @param webSocket Whether it also serves WebSocket (not on `relay`).
   * @param monitor Whether it serves monitoring (not on `relay`); `/varz` is then polled once a
   *   second from this process, as a dashboard or a scraper would.
   */
  constructor(runtime: Runtime, cpu: number | null = null, webSocket = false, monitor = false) {
    this.#webSocket = webSocket && runtime !== "relay";
    this.#monitor = monitor && runtime !== "relay";
    const ws = this.#webSocket ? ["--ws-port", "0"] : [];
    const mon = this.#monitor ? ["--monitor-port", "0"] : [];
    const args = runtime === "relay" ? [] : ["serve", "--port", "0", "--quiet", ...ws, ...mon];
    // BENCH_PROFILE=DIR writes a CPU profile of each server there (Node, Bun:
    // `.cpuprofile`; Deno: a V8 tick log for `node --prof-process`).
    const dir = process.env.BENCH_PROFILE;
    const profile = dir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
    const denoProfile = dir === undefined
      ? []
      : [`--v8-flags=--prof,--no-logfile-per-isolate,--logfile=${dir}/deno-${Date.now()}.log`];
    const [command, prefix] = runtime === "relay"
      ? ["node_modules/.bin/bun", ["scripts/_bench_relay.ts"]]
      : runtime === "deno"
      ? ["node_modules/.bin/deno", [
        "run",
        "--allow-net",
        "--allow-read",
        ...denoProfile,
        "src/cli/bin.ts",
      ]]
      : runtime === "bun"
      ? ["node_modules/.bin/bun", [...profile, ...(dir ? ["--cpu-prof-md"] : []), "src/cli/bin.ts"]]
      : [runtime === "node24" ? node24() : "node", [...profile, "npm/esm/src/cli/bin.js"]];
    const argv = [...pinPrefix(cpu), command, ...prefix, ...args];
    this.child = spawn(argv[0], argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
  }

  async started(): Promise<void> {
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (text: string) => {
      this.stderr += text;
    });
    const stdout = this.child.stdout!;
    stdout.setEncoding("utf8");
    let text = "";
    await new Promise<void>((resolve, reject) => {
      stdout.on("data", (chunk: string) => {
        text += chunk;
        const match = /listening on [^:]+:(\d+)/.exec(text);
        const ws = /WebSocket listening on (ws:\/\/\S+)/.exec(text);
        const monitor = /monitoring on (http:\/\/\S+)/.exec(text);
        if (match && (!this.#webSocket || ws) && (!this.#monitor || monitor)) {
          this.port = Number(match[1]);
          this.webSocketUrl = ws?.[1] ?? "";
          this.monitorUrl = monitor?.[1] ?? "";
          resolve();
        }
      });
      this.child.once("exit", () => reject(new Error(`server exited: ${text}`)));
    });
    if (this.#monitor) {
      const poll = () => {
        fetch(`${this.monitorUrl}/varz`).then((r) => r.json()).then(
          () => this.polls++,
          () => {}, // the server is stopping
        );
      };
      poll();
      this.#poller = setInterval(poll, 1000);
    }
  }

  /** User plus system CPU time of the server process, in microseconds. */
  cpuUs(): number {
    const [user, system] = this.cpuSplitUs();
    return user + system;
  }

  /** User and system CPU time of the server process, in microseconds. */
  cpuSplitUs(): [number, number] {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const us = 1e6 / TICKS_PER_SECOND;
    return [Number(fields[11]) * us, Number(fields[12]) * us];
  }

  /** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM). */
  memKiB(field: "VmRSS" | "VmHWM"): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
    return Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)![1]);
  }

  /** What the server printed on standard error (its shutdown summary). */
  stderr = "";

  async stop(): Promise<void> {
    clearInterval(this.#poller);
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
    await new Promise((resolve) => setImmediate(resolve)); // the last stderr chunk
  }

  /** Slow consumers the server disconnected, from its shutdown summary. */
  slowConsumers(): number | undefined {
    const match = /(\d+) slow consumers disconnected/.exec(this.stderr);
    return match ? Number(match[1]) : undefined;
  }
}
