/**
 * The command line with auth: hash-password and hash-token, serve --config,
 * client commands with --user/--password and --token, and the slow-consumer
 * policy flag.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashPassword, hashToken, PubSubClient, verifyPassword } from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { Child } from "./child_process.ts";
import { CaptureIo, runCli } from "./cli_helpers.ts";
import { assertCleanExit, until } from "./helpers.ts";

const DENO_CLI = ["run", "--allow-net", "--allow-read", "--allow-env", "src/cli/bin.ts"];

/** Runs the Deno CLI with `input` on standard input; resolves with its stdout lines. */
async function withStdin(args: string[], input: string): Promise<string[]> {
  const child = new Child("node_modules/.bin/deno", [...DENO_CLI, ...args], { NO_COLOR: "1" });
  child.process.stdin!.end(input);
  const lines: string[] = [];
  for (let line = await child.line(); line !== null; line = await child.line()) lines.push(line);
  assert.equal(await child.exited, 0, child.stderr);
  return lines;
}

test("cli hash-password and hash-token read the secret from stdin", async () => {
  const [hash] = await withStdin(["hash-password", "--iterations", "1000"], "s3cret\n");
  assert.match(hash, /^pbkdf2-sha256\$1000\$/);
  assert.equal(await verifyPassword("s3cret", hash), true);
  assert.equal(await verifyPassword("s3cret\n", hash), false);
  assert.deepEqual(await withStdin(["hash-token"], "t0ken"), [await hashToken("t0ken")]);
});

test("cli refuses bad auth and policy arguments", async () => {
  const cases: [string[], RegExp][] = [
    [["serve", "--slow-consumer-policy", "drop-all"], /Invalid --slow-consumer-policy "drop-all"/],
    [["pub", "t", "m", "--user", "alice"], /--user needs --password/],
    [["pub", "t", "m", "--password", "x"], /--password needs --user/],
    [["hash-token", "--iterations", "5000"], /--iterations applies to hash-password only/],
    [["hash-password", "--iterations", "10"], /Invalid --iterations "10"/],
  ];
  for (const [args, expected] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(io.errText, expected);
  }
  const missing = await runCli(["serve", "--port", "0", "--config", "/nonexistent/users.json"]);
  assert.equal(missing.code, 1);
  assert.match(missing.io.errText, /Cannot read --config/);
});

test("cli serve --config requires auth; pub, sub and req authenticate", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kn-sock-auth-"));
  const config = join(dir, "users.json");
  await writeFile(
    config,
    JSON.stringify({
      users: [
        {
          user: "alice",
          password: await hashPassword("s3cret", { iterations: 1000 }),
          // pub's flush() is a ping after hello: it needs no permission.
          permissions: { publish: { allow: ["news/#"] } },
        },
        { user: "bot", token: await hashToken("t0ken") },
      ],
    }),
  );
  const child = new Child(
    "node_modules/.bin/deno",
    [...DENO_CLI, "serve", "--port", "0", "--config", config],
    { NO_COLOR: "1" },
  );
  try {
    const banner = await child.line();
    const match = /listening on 127\.0\.0\.1:(\d+) \(deno, transport deno, auth\)/.exec(
      banner ?? "",
    );
    assert.ok(match, `no banner: ${banner}\n${child.stderr}`);
    const port = match[1];
    const io = new CaptureIo();
    const sub = main(["sub", "news/#", "--count", "1", "--port", port, "--token", "t0ken"], io);
    await until(() => io.errText.includes("Subscribed to news/#"), "sub to subscribe");
    const alice = ["--port", port, "--user", "alice", "--password", "s3cret"];
    assert.equal((await runCli(["pub", "news/a", "hello", ...alice])).code, 0);
    assert.equal(await sub, 0);
    assert.deepEqual(io.outLines, [JSON.stringify({ topic: "news/a", message: "hello" })]);

    const forbidden = await runCli(["pub", "sports/a", "x", ...alice]);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.io.errText, /forbidden/);
    const wrong = await runCli(["pub", "news/a", "x", "--port", port, "--token", "guess"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.io.errText, /auth_failed/);
    // A kn-sock client without credentials is told, not served.
    const anonymous = await PubSubClient.connect("127.0.0.1", Number(port), { reconnect: false });
    await assert.rejects(
      anonymous.subscribe("news/#", { ack: true }),
      (error: { code?: string }) => error.code === "auth_required",
    );
    await anonymous.close();
  } finally {
    await child.stop("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
  assertCleanExit(child);
});
