/**
 * `reply`, the pair of `req`: a fixed response, a command's output
 * (`--exec`), and queue groups sharing requests; run as a real process on
 * Deno, Bun and Node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startPubSubServer } from "../mod.ts";
import { runCli } from "./cli_helpers.ts";
import { RUNTIMES, spawnCli } from "./cli_processes.ts";

test("cli reply answers req with a response, or with an --exec command's output", async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  const server = await startPubSubServer({ port: 0 });
  const port = String(server.addr.port);
  try {
    await Promise.all(RUNTIMES.map(async (runtime) => {
      const cases: [string[], string, unknown][] = [
        [['{"ok": true}', "--json"], "fixed", { ok: true }],
        [["--exec", "tr a-z A-Z"], "shout", "SHOUT"],
      ];
      for (const [args, request, expected] of cases) {
        const topic = `svc/${runtime}/${request}`;
        const responder = spawnCli(runtime, [
          "reply",
          topic,
          ...args,
          "--count",
          "1",
          "--port",
          port,
        ]);
        try {
          await responder.stderrIncludes("Answering requests on");
          const req = spawnCli(runtime, ["req", topic, request, "--port", port]);
          const line = await req.line();
          assert.ok(line !== null, `${runtime} ${request}: ${req.stderr} / ${responder.stderr}`);
          assert.deepEqual(JSON.parse(line).message, expected);
          assert.equal(await req.exited, 0, req.stderr);
          assert.deepEqual(JSON.parse((await responder.line())!), { topic, message: request });
          assert.equal(await responder.exited, 0, responder.stderr);
        } finally {
          await responder.stop();
        }
      }
    }));
  } finally {
    await server.close();
  }
});

test("cli reply --group shares the requests between responders", async () => {
  const server = await startPubSubServer({ port: 0 });
  const port = String(server.addr.port);
  const runtime = RUNTIMES[0];
  const responders = [1, 2].map(() =>
    spawnCli(runtime, ["reply", "jobs", "done", "--group", "g", "--count", "1", "--port", port])
  );
  try {
    for (const responder of responders) await responder.stderrIncludes("in group g");
    for (const n of [1, 2]) {
      const { code, io } = await runCli(["req", "jobs", `job ${n}`, "--port", port]);
      assert.equal(code, 0, io.errText);
      assert.equal(JSON.parse(io.outLines[0]).message, "done");
    }
    // Each answered one and exited: the group shared them.
    assert.deepEqual(await Promise.all(responders.map((r) => r.exited)), [0, 0]);
  } finally {
    await Promise.all(responders.map((r) => r.stop()));
    await server.close();
  }
});

test("cli reply refuses bad arguments", async () => {
  const cases: [string[], RegExp][] = [
    [["reply", "t"], /Expected <pattern> <response>, or <pattern> --exec CMD/],
    [["reply", "t", "r", "--exec", "cat"], /Expected <pattern> <response>/],
    [["reply", "a/#/b", "r"], /Invalid pattern/],
    [["reply", "t", "{", "--json"], /not valid JSON/],
  ];
  for (const [args, expected] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(io.errText, expected);
  }
});
