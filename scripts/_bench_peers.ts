/**
 * The peers the benchmark measures beside this package in the same run:
 * `nats-server` and `redis-server` (Debian packages), each started on a
 * free loopback port with persistence off, driven by the same load
 * generator over their own protocols (`_bench_protocols.ts`).
 *
 * @module
 */

import { accessSync, constants, existsSync } from "node:fs";
import * as net from "node:net";
import process from "node:process";
import { type Dialect, NATS, REDIS } from "./_bench_protocols.ts";
import { DEFAULT_SCENARIOS } from "./_bench_plan.ts";

/** A server that is not this package, measured for comparison. */
export type Peer = "nats" | "redis";

/** The most connections every server is configured to accept (ours, Redis's `maxclients`). */
export const MAX_CONNECTIONS = 20_000;

interface PeerSpec {
  /** The program, looked up on `PATH` (and in /usr/sbin, where Debian puts `nats-server`). */
  binary: string;
  /** The Debian package that has it. */
  apt: string;
  /** Its arguments, to serve on 127.0.0.1:`port` only. */
  args(port: number): string[];
  /** What it prints (on standard output or error) once it accepts connections. */
  ready: RegExp;
  dialect: Dialect;
}

const PEERS: Record<Peer, PeerSpec> = {
  nats: {
    binary: "nats-server",
    apt: "nats-server",
    args: (port) => ["--addr", "127.0.0.1", "--port", String(port)],
    ready: /Server is ready/,
    dialect: NATS,
  },
  redis: {
    binary: "redis-server",
    apt: "redis-server",
    // No snapshots, no append-only file: a pub/sub broker, as NATS core and this package are.
    args: (port) => [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--save",
      "",
      "--appendonly",
      "no",
      // As many clients as ours accepts (Redis lowers it to fit its open-file limit, and says so).
      "--maxclients",
      String(MAX_CONNECTIONS),
    ],
    ready: /Ready to accept connections/,
    dialect: REDIS,
  },
};

/** Every peer `--peers` takes. */
export const PEER_NAMES: readonly Peer[] = Object.keys(PEERS) as Peer[];

/** The scenarios the peers run (the others use this package's own features or WebSocket). */
export const PEER_SCENARIOS: ReadonlySet<string> = new Set([...DEFAULT_SCENARIOS, "fanin"]);

/** Whether `name` is a peer. */
export function isPeer(name: string): name is Peer {
  return Object.hasOwn(PEERS, name);
}

/** The protocol a peer speaks. */
export function peerDialect(peer: Peer): Dialect {
  return PEERS[peer].dialect;
}

/** The peer's program, or `null` when it is not installed. */
function findBinary(peer: Peer): string | null {
  const { binary } = PEERS[peer];
  const path = `${process.env.PATH ?? ""}:/usr/sbin:/usr/local/sbin`;
  for (const dir of path.split(":")) {
    if (dir === "") continue;
    const file = `${dir}/${binary}`;
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here (or not executable): the next directory.
    }
  }
  return null;
}

/**
 * What to do about the peers in `peers` that are not installed, or `null`
 * when all are: the install command to run.
 */
export function missingPeers(peers: readonly Peer[]): string | null {
  const missing = peers.filter((peer) => findBinary(peer) === null);
  if (missing.length === 0) return null;
  const names = missing.map((peer) => PEERS[peer].binary).join(" and ");
  const packages = missing.map((peer) => PEERS[peer].apt).join(" ");
  return `${names} not found (looked on PATH and in /usr/sbin). Install with ` +
    `\`apt-get install -y ${packages}\` (Debian and Ubuntu, as root; tested with nats-server ` +
    `2.9.10 and redis-server 7.0.15), or put the program on PATH. Do not leave the packages' ` +
    `system services running: the benchmark starts its own on free ports.`;
}

/**
 * Why a benchmark of `runtimes` against `peers` cannot run, or `null` when
 * it can: a peer not installed (what to install), or no npm build for the
 * Node runtimes (they run `npm/esm/src/cli/bin.js`).
 */
export function setupProblem(peers: readonly Peer[], runtimes: readonly string[]): string | null {
  const missing = missingPeers(peers);
  if (missing !== null) return missing;
  if (runtimes.some((r) => r.startsWith("node")) && !existsSync("npm/esm/src/cli/bin.js")) {
    return "Node runs the npm build: run `npm run build` first";
  }
  return null;
}

/** The command line that serves `peer` on 127.0.0.1:`port`. */
export function peerCommand(peer: Peer, port: number): string[] {
  const binary = findBinary(peer);
  if (binary === null) throw new Error(missingPeers([peer])!);
  return [binary, ...PEERS[peer].args(port)];
}

/** What `peer` prints once it accepts connections. */
export function peerReady(peer: Peer): RegExp {
  return PEERS[peer].ready;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the peers take a port, not port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
