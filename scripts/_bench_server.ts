/**
 * The benchmark's server process: the CLI's `serve` on Deno, Bun or Node
 * (the npm build), or a peer (`nats-server`, `redis-server`), with its CPU
 * time and memory read from `/proc/<pid>`.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { pinPrefix } from "./_bench_cpu.ts";
import {
  isPeer,
  MAX_CONNECTIONS,
  type Peer,
  peerCommand,
  peerDialect,
  peerReady,
} from "./_bench_peers.ts";
import { type Dialect, KNSOCK } from "./_bench_protocols.ts";

/**
 * A runtime the server can run on; `node` is the system's Node, `node24` the
 * Node 24 the tests use, and `relay` the baseline: `_bench_relay.ts`, a
 * minimal fan-out server on Bun (coalesced writes, linear line splitting),
 * not this package.
 */
export type Runtime = "deno" | "bun" | "node" | "node24" | "relay";

let node24Path: string | undefined;

/** The Node 24 binary the tests use (fetched by npx once), for the `node24` runtime. */
function node24(): string {
  node24Path ??= execFileSync("npx", ["-y", "node@24.21.0", "-p", "process.execPath"], {
    encoding: "utf8",
  }).trim();
  return node24Path;
}

/** How a server is started; every field is optional. */
export interface ServerOptions {
  /** The CPU to pin the server to, or `null` (the default) to leave it to the system. */
  cpu?: number | null;
  /** Whether it also serves WebSocket (not on `relay` or a peer). */
  webSocket?: boolean;
  /**
   * Whether it serves monitoring (not on `relay` or a peer); `/varz` is then polled once a
   * second from this process, as a dashboard or a scraper would.
   */
  monitor?: boolean;
  /** The port a peer serves on (from `freePort()`); this package's server takes port 0. */
  port?: number;
  /** More `serve` options (not on `relay` or a peer), such as `--redis URL`. */
  serveArgs?: string[];
}

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** One server process. */
export class Server {
  readonly child: ChildProcess;
  port = 0;
  /** The protocol the load speaks to it. */
  readonly dialect: Dialect;
  readonly #peer: Peer | null;

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
   * @param runtime What the server runs on, or the peer to run.
   * @param options Where and with what it runs.
   */
  constructor(runtime: Runtime | Peer, options: ServerOptions = {}) {
    const { cpu = null, webSocket = false, monitor = false } = options;
    this.#peer = isPeer(runtime) ? runtime : null;
    this.dialect = this.#peer === null ? KNSOCK : peerDialect(this.#peer);
    this.#webSocket = webSocket && runtime !== "relay" && this.#peer === null;
    this.#monitor = monitor && runtime !== "relay" && this.#peer === null;
    if (this.#peer !== null) {
      this.port = options.port ?? 0;
      if (this.port === 0) throw new RangeError(`The peer "${runtime}" needs a free port`);
      const argv = [...pinPrefix(cpu), ...peerCommand(this.#peer, this.port)];
      this.child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
      return;
    }
    const ws = this.#webSocket ? ["--ws-port", "0"] : [];
    const mon = this.#monitor ? ["--monitor-port", "0"] : [];
    const more = options.serveArgs ?? [];
    // Room for the connections scenario's 10,101 connections (the default limit is 10,000).
    const room = ["--limit", `maxConnections=${MAX_CONNECTIONS}`];
    const args = runtime === "relay"
      ? []
      : ["serve", "--port", "0", "--quiet", ...room, ...ws, ...mon, ...more];
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
        ...(more.length > 0 ? ["--allow-env"] : []), // ioredis reads the environment
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
    if (this.#peer !== null) return await this.#peerStarted(this.#peer);
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

  /** Waits for a peer's "ready" line on standard output or error. */
  async #peerStarted(peer: Peer): Promise<void> {
    const ready = peerReady(peer);
    let text = "";
    await new Promise<void>((resolve, reject) => {
      const read = (chunk: string): void => {
        text += chunk;
        if (ready.test(text)) resolve();
      };
      for (const stream of [this.child.stdout!, this.child.stderr!]) {
        stream.setEncoding("utf8");
        stream.on("data", read);
      }
      this.child.once("error", reject);
      this.child.once("exit", () => reject(new Error(`${peer} exited: ${text}`)));
    });
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
