/**
 * A real redis-server for tests: started on a free 127.0.0.1 port with
 * persistence off, stopped by its PID (never the machine's own Redis, never
 * port 6379). Without `redis-server` on the PATH the cluster tests are
 * skipped, unless `CI=true`, where they fail (`apt-get install -y redis-server`).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { Child } from "./child_process.ts";
import { freePort } from "./helpers.ts";

/** Whether `redis-server` is on the PATH. */
export const REDIS_PRESENT: boolean = spawnSync("redis-server", ["--version"]).status === 0;

/** A `test()` option: skip without redis-server, except under `CI=true`. */
export const REDIS_SKIP: string | false = !REDIS_PRESENT && process.env.CI !== "true"
  ? "redis-server is missing (apt-get install -y redis-server)"
  : false;

/** One redis-server process. */
export class RedisServer {
  readonly port: number;
  #child: Child | null = null;

  private constructor(port: number) {
    this.port = port;
  }

  /** Starts one on a free port (or on `port`) and resolves once it accepts connections. */
  static async start(port?: number): Promise<RedisServer> {
    assert.ok(REDIS_PRESENT, "redis-server is missing: apt-get install -y redis-server");
    const server = new RedisServer(port ?? await freePort());
    await server.#run();
    return server;
  }

  /** Its URL. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async #run(): Promise<void> {
    const child = this.#child = new Child("redis-server", [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    for (;;) {
      const line = await child.line();
      assert.ok(line !== null, `redis-server did not start:\n${child.stderr}`);
      if (line.includes("Ready to accept connections")) return;
    }
  }

  /** Stops it (SIGTERM to its PID, or `signal`) and waits for it to exit. Idempotent. */
  async stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void> {
    const child = this.#child;
    this.#child = null;
    await child?.stop(signal);
  }

  /** Starts it again, empty, on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#run();
  }

  /** Runs `redis-cli` against it with `args` and returns its output. */
  cli(...args: string[]): string {
    const result = spawnSync("redis-cli", ["-p", String(this.port), ...args], {
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.trim();
  }
}
