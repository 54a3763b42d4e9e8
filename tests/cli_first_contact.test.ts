/**
 * The command line as a new user meets it (issue 17's defects), run as a
 * real process on Deno, Bun and Node: `pub` reports the server's refusals,
 * `sub '#'` sees only user topics, auth refusals are named, a closed
 * standard output ends `sub` cleanly, no command hangs past its timeout or
 * ignores Ctrl-C, listen errors are one line, and the module has no side
 * effects on import.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  Authenticator,
  detectRuntime,
  hashToken,
  PubSubClient,
  type PubSubServerOptions,
  startPubSubServer,
} from "../mod.ts";
import { VERSION } from "../src/version.ts";
import { nodeTransport } from "../src/transport/node.ts";
import { Child } from "./child_process.ts";
import { FakeServer } from "./client_fakes.ts";
import { type Runtime, RUNTIMES, spawnCli } from "./cli_processes.ts";

function built(): void {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
}

/** Runs the CLI to its end; its exit code, stdout lines and stderr. */
async function runToEnd(
  runtime: Runtime,
  args: string[],
): Promise<{ code: number | null; out: string[]; err: string }> {
  const child = spawnCli(runtime, args);
  child.process.stdin!.end();
  const out: string[] = [];
  for (let line = await child.line(); line !== null; line = await child.line()) out.push(line);
  return { code: await child.exited, out, err: child.stderr };
}

/** Runs `check` for every runtime at once, each failure naming its runtime. */
async function eachRuntime(check: (runtime: Runtime) => Promise<void>): Promise<void> {
  built();
  await Promise.all(RUNTIMES.map(async (runtime) => {
    try {
      await check(runtime);
    } catch (error) {
      throw new Error(`on ${runtime}: ${(error as Error).message}`, { cause: error });
    }
  }));
}

/** A server in this process, closed after `body`. */
async function withServer(
  options: Omit<PubSubServerOptions, "port">,
  body: (port: string) => Promise<void>,
): Promise<void> {
  const server = await startPubSubServer({ port: 0, ...options });
  try {
    await body(String(server.addr.port));
  } finally {
    await server.close();
  }
}

/**
 * Asserts that a CLI stopped by `signal` exited with the shell's code for
 * it. Deno's node:child_process reports a child it signalled as killed by
 * the signal even when the child handled it and exited, so there the
 * message the CLI printed is the proof.
 */
function assertInterrupted(child: Child, code: number | null, signal: string): void {
  assert.match(child.stderr, new RegExp(`Interrupted by ${signal}`));
  if (detectRuntime() !== "deno") assert.equal(code, signal === "SIGINT" ? 130 : 143);
}

test("cli pub exits 1 with the server's refusal, and 2 for a topic it cannot publish to", async () => {
  await withServer({ limits: { maxPayloadBytes: 16 } }, (port) =>
    eachRuntime(async (runtime) => {
      const big = await runToEnd(runtime, [
        "pub",
        "t",
        "longer than sixteen bytes",
        "--port",
        port,
      ]);
      assert.equal(big.code, 1, big.err);
      assert.match(big.err, /\(payload_too_large\)/);
      assert.match(big.err, /hint: the server's max_payload/);
      for (const topic of ["a/#", "a/+", ""]) {
        const bad = await runToEnd(runtime, ["pub", topic, "x", "--port", port]);
        assert.equal(bad.code, 2, `pub "${topic}": ${bad.err}`);
        assert.match(bad.err, /Invalid topic/);
        assert.match(bad.err, /pub --help" for usage/);
      }
      const sub = await runToEnd(runtime, ["sub", "a/#/b", "--port", port]);
      assert.equal(sub.code, 2, sub.err);
      assert.match(sub.err, /Invalid pattern "a\/#\/b"/);
    }));
});

test("cli sub '#' prints only user topics; pub and sub complete past a handler that stops all but its allow-list", async () => {
  const handled: string[] = [];
  await withServer({
    handler(data) {
      handled.push(data.action === "publish" ? `${data.action} ${data.topic}` : data.action);
      if (data.action === "publish" && !data.topic.startsWith("news/")) return false;
    },
  }, (port) =>
    eachRuntime(async (runtime) => {
      const topic = `news/${runtime}`;
      const sub = spawnCli(runtime, ["sub", "#", "--count", "2", "--port", port]);
      try {
        await sub.stderrIncludes(`Subscribed to #`);
        for (const message of ["one", "two"]) {
          const pub = await runToEnd(runtime, ["pub", topic, message, "--port", port]);
          assert.equal(pub.code, 0, pub.err);
          assert.deepEqual(pub.out, []);
        }
        // Other runtimes' publishes may arrive too: all of them are user topics.
        const lines = [JSON.parse((await sub.line())!), JSON.parse((await sub.line())!)];
        for (const line of lines) assert.match(line.topic, /^news\/(deno|bun|node)$/);
        assert.equal(await sub.exited, 0, sub.stderr);
      } finally {
        await sub.stop();
      }
    }));
  assert.deepEqual(handled.filter((h) => h.startsWith("publish") && !h.includes("news/")), []);
});

test("cli pub and sub without credentials show auth_required; wrong ones auth_failed", async () => {
  const auth = new Authenticator({ users: [{ user: "bot", token: await hashToken("t0ken") }] });
  await withServer({ auth }, (port) =>
    eachRuntime(async (runtime) => {
      for (const args of [["pub", "t", "m"], ["sub", "t"]]) {
        const anonymous = await runToEnd(runtime, [...args, "--port", port]);
        assert.equal(anonymous.code, 1, `${args[0]}: ${anonymous.err}`);
        assert.match(anonymous.err, /\(auth_required\)/);
        assert.match(anonymous.err, /hint: the server requires credentials/);
      }
      const wrong = await runToEnd(runtime, ["pub", "t", "m", "--port", port, "--token", "nope"]);
      assert.equal(wrong.code, 1, wrong.err);
      assert.match(wrong.err, /\(auth_failed\)/);
      const right = await runToEnd(runtime, ["pub", "t", "m", "--port", port, "--token", "t0ken"]);
      assert.equal(right.code, 0, right.err);
    }));
});

test("cli sub exits 0 without a stack trace once its standard output is closed", async () => {
  await withServer({}, (port) =>
    eachRuntime(async (runtime) => {
      const topic = `pipe/${runtime}`;
      const sub = spawnCli(runtime, ["sub", topic, "--port", port]);
      const publisher = await PubSubClient.connect("127.0.0.1", Number(port), {
        reconnect: false,
      });
      try {
        await sub.stderrIncludes("Subscribed to");
        await publisher.publish(topic, "first");
        assert.deepEqual(JSON.parse((await sub.line())!), { topic, message: "first" });
        sub.process.stdout!.destroy(); // `| head -1`: the reader has gone
        let exited = false;
        void sub.exited.then(() => exited = true);
        // Each write after the reader has gone meets EPIPE; the CLI stops at the first.
        while (!exited) {
          await publisher.publish(topic, "more");
          await publisher.flush();
        }
        assert.equal(await sub.exited, 0, sub.stderr);
        assert.doesNotMatch(sub.stderr, /EPIPE|\n\s+at /);
      } finally {
        await publisher.close();
        await sub.stop();
      }
    }));
});

/** A server that accepts and never answers (a kn-sock server answers no id), for `body`. */
async function withSilentServer(body: (fake: FakeServer) => Promise<void>): Promise<void> {
  const fake = await FakeServer.start(nodeTransport);
  try {
    await body(fake);
  } finally {
    await fake.close();
  }
}

test("cli pub and sub against a server that never answers: a timeout, or Ctrl-C, ends them", async () => {
  await eachRuntime(async (runtime) => {
    await withSilentServer(async (fake) => {
      const port = String(fake.port);
      const late = await runToEnd(runtime, ["pub", "t", "m", "--port", port, "--timeout", "200"]);
      assert.equal(late.code, 1, late.err);
      assert.match(late.err, /Publishing timed out after 200 ms \(a kn-sock server/);
      const knSock = await runToEnd(runtime, ["pub", "t", "m", "--port", port, "--kn-sock"]);
      assert.equal(knSock.code, 0, knSock.err);
    });
    for (const args of [["pub", "t", "m"], ["sub", "t"], ["req", "t", "m"]]) {
      await withSilentServer(async (fake) => {
        const child = spawnCli(runtime, [...args, "--port", String(fake.port)]);
        const peer = await fake.accept();
        await peer.json(); // its first frame (req's hello): it now waits for an answer
        child.process.kill("SIGINT");
        assertInterrupted(child, await child.exited, "SIGINT");
      });
    }
  });
});

test("cli serve reports a listen error in one line and exits 1", async () => {
  await eachRuntime(async (runtime) => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: EADDRNOTAVAIL or its runtime's name for it.
    const { code, err } = await runToEnd(runtime, ["serve", "--host", "192.0.2.1", "--port", "0"]);
    assert.equal(code, 1, err);
    assert.match(err, /^error: Cannot listen on 192\.0\.2\.1:0: .+\n$/);
  });
});

test("cli --version names the runtime that runs it", async () => {
  await eachRuntime(async (runtime) => {
    const { code, out } = await runToEnd(runtime, ["--version"]);
    assert.equal(code, 0);
    assert.match(
      out.join("\n"),
      new RegExp(`^${VERSION.replaceAll(".", "\\.")} \\(${runtime} \\d`),
    );
  });
});

/** How each runtime evaluates a module's text. */
const EVAL: Record<Runtime, (code: string) => [string, string[]]> = {
  deno: (code) => ["node_modules/.bin/deno", ["eval", code]],
  bun: (code) => ["node_modules/.bin/bun", ["-e", code]],
  node: (code) => ["node", ["--input-type=module", "-e", code]],
};

test("cli module: importing it exports main() and runs nothing", async () => {
  await eachRuntime(async (runtime) => {
    const entry = runtime === "node" ? "./npm/esm/src/cli/main.js" : "./src/cli/main.ts";
    const [command, args] = EVAL[runtime](
      `const cli = await import("${entry}"); console.log(typeof cli.main);`,
    );
    const child = new Child(command, args, { NO_COLOR: "1" });
    assert.equal(await child.line(), "function");
    assert.equal(await child.line(), null);
    assert.equal(await child.exited, 0, child.stderr);
  });
});
