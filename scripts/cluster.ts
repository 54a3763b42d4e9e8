/**
 * `npm run cluster`: a local cluster to try, in one command. Starts a
 * redis-server (Debian's `redis-server`, on a free 127.0.0.1 port,
 * persistence off) and three nodes of one cluster on it, one per runtime
 * (Deno and Bun from the sources, Node from the npm build, built first when
 * missing), prints their addresses and command lines to paste, and stays in
 * the foreground. Ctrl-C (SIGINT), SIGTERM or SIGHUP stops every child by
 * its PID (the nodes first, then Redis) and exits 0; a child that exits by
 * itself is reported and the others are stopped (exit 1).
 *
 * Run: `npm run cluster` (`deno run -A scripts/cluster.ts`), with options
 * `--base-port N` (the nodes listen on N, N+1, N+2; default 4222; 0: each on
 * a free port), `--redis-port N` (default: a free port), `--cluster-name
 * NAME` (default `local`).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { freePort, missingPeers, peerCommand, peerReady } from "./_bench_peers.ts";

const USAGE = `Usage: npm run cluster -- [options]   (deno run -A scripts/cluster.ts)

Starts redis-server and three nodes of one cluster on it (Deno, Bun, Node),
prints how to reach them, and stops them all on Ctrl-C.

  --base-port N      the nodes listen on N, N+1, N+2 (default 4222; 0: free ports)
  --redis-port N     Redis's port (default: a free one; never the machine's own Redis)
  --cluster-name S   the cluster's name (default local)
  --help             this text
`;

/** The checkout's root: children run there. */
const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);

/** The runtimes of the three nodes, in port order. */
const RUNTIMES = ["deno", "bun", "node"] as const;
type Runtime = typeof RUNTIMES[number];

/** The Node node runs the npm build. */
const NODE_BIN = "npm/esm/src/cli/bin.js";

/** The command that runs the CLI on `runtime` (Deno: ioredis reads the environment). */
function cliCommand(runtime: Runtime): string[] {
  switch (runtime) {
    case "deno":
      return [
        "node_modules/.bin/deno",
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        "src/cli/bin.ts",
      ];
    case "bun":
      return ["node_modules/.bin/bun", "src/cli/bin.ts"];
    case "node":
      return ["node", NODE_BIN];
  }
}

/** One child process, its standard output read line by line. */
class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** The last lines it wrote (both streams), shown if it dies. */
  readonly #tail: string[] = [];
  #waiters: (() => void)[] = [];
  #lines: string[] = [];
  #done = false;

  constructor(name: string, argv: string[], forward: boolean) {
    this.name = name;
    // Its own process group: Ctrl-C reaches this script only, which stops each child in order.
    this.child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
      detached: true,
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.once("error", (error) => {
        this.#keep(`${error.message}`);
        resolve();
      });
    });
    void this.exited.then(() => {
      this.#done = true;
      this.#wake();
    });
    this.#read(this.child.stdout!, (line) => {
      this.#lines.push(line);
      this.#wake();
    });
    // A node logs on standard error: shown, with the node's name in front.
    this.#read(this.child.stderr!, (line) => {
      if (forward) console.error(`[${this.name}] ${line}`);
    });
  }

  #read(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
    let buffer = "";
    stream.setEncoding("utf8");
    stream.on("data", (text: string) => {
      buffer += text;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.#keep(line);
        onLine(line);
      }
    });
  }

  #keep(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > 20) this.#tail.shift();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** The first line of standard output that matches `pattern`; fails if the child exits first. */
  async expect(pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      const line = this.#lines.shift();
      const match = line === undefined ? null : pattern.exec(line);
      if (match !== null) return match;
      if (line !== undefined) continue;
      if (this.#done) throw new Error(`${this.name} exited before it was ready:\n${this.tail()}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** What it wrote last. */
  tail(): string {
    return this.#tail.map((line) => `  ${line}`).join("\n");
  }

  /** Whether it is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && !this.#done;
  }

  /** SIGTERM to its PID, and waits until it exited. */
  async stop(): Promise<void> {
    if (this.running && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, "SIGTERM");
      } catch {
        // It exited in the meantime: nothing to stop.
      }
    }
    await this.exited;
  }
}

function port(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65533) {
    throw new RangeError(`${option} must be a port number, not "${text}"`);
  }
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      "base-port": { type: "string", default: "4222" },
      "redis-port": { type: "string" },
      "cluster-name": { type: "string", default: "local" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const basePort = port(values["base-port"]!, "--base-port");
  const cluster = values["cluster-name"]!;
  const missing = missingPeers(["redis"]);
  if (missing !== null) {
    console.error(missing);
    return 1;
  }
  if (!existsSync(`${ROOT}/${NODE_BIN}`)) {
    console.error(`The Node node runs the npm build; building it (npm run build) ...`);
    execFileSync("node_modules/.bin/deno", ["run", "-A", "scripts/build_npm.ts"], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
    });
  }

  const procs: Proc[] = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    // The nodes first (each says goodbye to the cluster), then Redis.
    await Promise.all(procs.slice(1).map((p) => p.stop()));
    await procs[0]?.stop();
  };
  // Should this script end any other way, no child outlives it.
  process.on("exit", () => {
    for (const p of procs) if (p.running) p.child.kill("SIGTERM");
  });
  const stopped = new Promise<string>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.on(signal, () => resolve(signal));
    }
  });

  try {
    const redisPort = values["redis-port"] === undefined
      ? await freePort()
      : port(values["redis-port"], "--redis-port");
    const redis = new Proc("redis", peerCommand("redis", redisPort), false);
    procs.push(redis);
    await redis.expect(peerReady("redis"));
    const url = `redis://127.0.0.1:${redisPort}`;
    console.log(
      `redis-server on ${url} (pid ${redis.child.pid}), persistence off`,
    );
    const nodes: { runtime: Runtime; port: number }[] = [];
    for (const [i, runtime] of RUNTIMES.entries()) {
      const args = [
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        String(basePort === 0 ? 0 : basePort + i),
        "--redis",
        url,
        "--cluster-name",
        cluster,
      ];
      const node = new Proc(runtime, [...cliCommand(runtime), ...args], true);
      procs.push(node);
      const [, listening] = await node.expect(/listening on 127\.0\.0\.1:(\d+) /);
      await node.expect(/^kn-sock pubsub cluster /);
      nodes.push({ runtime, port: Number(listening) });
      console.log(
        `node ${runtime} on tcp://127.0.0.1:${listening} (pid ${node.child.pid})`,
      );
    }
    const [a, b, c] = nodes.map((n) => `tcp://127.0.0.1:${n.port}`);
    const cli = `node ${NODE_BIN}`;
    console.log(
      `\nCluster "${cluster}" is up: three nodes, one broker. In other terminals ` +
        `(installed, the command is kn-sock-pubsub):\n\n` +
        `  ${cli} sub -s ${b} 'news/#'              # on the Bun node\n` +
        `  ${cli} sub -s ${c} 'news/+'              # on the Node node\n` +
        `  ${cli} pub -s ${a} news/sports "hello"   # on the Deno node: both print it\n` +
        `  ${cli} reply -s ${c} time/now --exec date\n` +
        `  ${cli} req -s ${a} time/now ""\n` +
        `  redis-cli -p ${redisPort} PUBSUB CHANNELS 'knsock:*'\n\n` +
        `Ctrl-C stops everything.`,
    );
  } catch (error) {
    console.error(`Cannot start the cluster: ${(error as Error).message}`);
    await stopAll();
    return 1;
  }

  const died = new Promise<Proc>((resolve) => {
    for (const p of procs) void p.exited.then(() => resolve(p));
  });
  const first = await Promise.race([stopped, died]);
  if (typeof first === "string") {
    console.error(`Received ${first}, stopping the cluster`);
    await stopAll();
    console.error("Stopped");
    return 0;
  }
  if (stopping) return 0;
  const { code, signal } = { code: first.child.exitCode, signal: first.child.signalCode };
  console.error(
    `${first.name} (pid ${first.child.pid}) exited (${signal ?? `code ${code}`}); ` +
      `stopping the others. Its last lines:\n${first.tail()}`,
  );
  await stopAll();
  return 1;
}

process.exit(await main());
