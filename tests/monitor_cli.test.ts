/**
 * Monitoring on the command line: `serve --monitor-port`, `stats` and
 * `top` (in-process), their argument errors, and `serve --monitor-port` as
 * a child process on Deno, Bun and Node (with `KN_SOCK_MATRIX=1`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { CaptureIo, runCli } from "./cli_helpers.ts";
import { main } from "../src/cli/main.ts";
import { RUNTIMES, spawnCli, startCliServer } from "./cli_processes.ts";
import { subscribed, take, until } from "./helpers.ts";
import { formatBytes, formatDuration } from "../src/cli/top_view.ts";
import { runMonitorCommand } from "../src/cli/monitor_commands.ts";

const matrix = process.env.KN_SOCK_MATRIX === "1";

test("stats prints /varz once, as lines or as JSON", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0 } });
  // hello: its flush() is a ping, not a publish that would count.
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
  try {
    await subscribed(client, "cli/#");
    await client.publish("cli/x", "one");
    await take(client, 1);
    const port = new URL(server.monitorUrl!).port;
    const json = await runCli(["stats", "--json", "--monitor-port", port]);
    assert.equal(json.code, 0, json.io.errText);
    const varz = JSON.parse(json.io.outLines.join("\n"));
    assert.equal(varz.serverId, server.serverId);
    assert.deepEqual(varz.messages, { in: 1, out: 1 });
    assert.equal(varz.connections.current, 1);

    const plain = await runCli(["stats", "--monitor-port", port]);
    assert.equal(plain.code, 0, plain.io.errText);
    const text = plain.io.outLines.join("\n");
    assert.match(text, new RegExp(`at 127\\.0\\.0\\.1:${server.addr.port}, up \\d+s`));
    assert.match(text, /connections 1 \(tcp 1, ws 0, tls 0\)/);
    assert.match(text, /messages in {2}\d+\/s \(1 total\) {2}out \d+\/s \(1 total\)/);
  } finally {
    await client.close();
    await server.close();
  }
});

test("top prints plain blocks when not on a terminal, --count times", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0 } });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, {
    hello: { name: "topper" },
  });
  try {
    await subscribed(client, "top/a", "top/b");
    const port = new URL(server.monitorUrl!).port;
    const { code, io } = await runCli(["top", "--count", "2", "--monitor-port", port]);
    assert.equal(code, 0, io.errText);
    const text = io.outLines.join("\n");
    assert.ok(!text.includes("\x1b"), "no escape sequences off a terminal");
    assert.equal(text.match(/^Busiest connections/gm)?.length, 2);
    assert.match(text, /Busiest connections \(by bytes out; 1 of 1\)/);
    assert.match(text, /^ID +REMOTE +VIA +NAME +USER +SUBS +IN +OUT +PENDING +IDLE$/m);
    assert.match(text, /^ *1 +127\.0\.0\.1:\d+ +tcp +topper +2 /m);
    assert.match(text, /^ +1 +top\/a$/m);
  } finally {
    await client.close();
    await server.close();
  }
});

test("top redraws the screen on a terminal", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0 } });
  try {
    const io = new CaptureIo();
    const port = new URL(server.monitorUrl!).port;
    const code = await runMonitorCommand("top", ["--count", "1", "--monitor-port", port], io, true);
    assert.equal(code, 0, io.errText);
    assert.equal(io.outLines.length, 1);
    assert.ok(io.outLines[0].startsWith("\x1b[H\x1b[2Jkn-sock pubsub "), io.outLines[0]);
    assert.match(io.outLines[0], /\nBusiest connections \(by bytes out; 0 of 0\)\n/);
  } finally {
    await server.close();
  }
});

test("stats and top say what is wrong: no monitor, a token needed, bad arguments", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0, token: "tok" } });
  const port = new URL(server.monitorUrl!).port;
  try {
    const refused = await runCli(["stats", "--monitor-port", "1"]);
    assert.equal(refused.code, 1);
    assert.match(refused.io.errText, /Cannot reach the monitor at http:\/\/127\.0\.0\.1:1/);
    const needed = await runCli(["stats", "--monitor-port", port]);
    assert.equal(needed.code, 1);
    assert.match(needed.io.errText, /needs a token: --monitor-token or KN_SOCK_MONITOR_TOKEN/);
    const given = await runCli([
      "stats",
      "--json",
      "--monitor-port",
      port,
      "--monitor-token",
      "tok",
    ]);
    assert.equal(given.code, 0, given.io.errText);
  } finally {
    await server.close();
  }
  const cases: [string[], RegExp][] = [
    [["serve", "--monitor-token", "t"], /--monitor-token needs --monitor-port/],
    [["serve", "--sys-stats", "5"], /--sys-stats needs --monitor-port/],
    [["serve", "--monitor-port", "70000"], /Invalid port "70000"/],
    [["serve", "--monitor-port", "0", "--sys-stats", "0"], /Invalid --sys-stats "0"/],
    [["top", "--count", "0"], /Invalid --count "0"/],
    [["stats", "extra"], /Unexpected argument "extra"/],
    [["stats", "--monitor-port", "0"], /Invalid port "0"/],
  ];
  for (const [args, expected] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(io.errText, expected);
  }
  for (const command of ["stats", "top"]) {
    const { code, io } = await runCli([command, "--help"]);
    assert.equal(code, 0);
    assert.match(io.outLines.join("\n"), /--monitor-port/);
  }
});

test("serve --monitor-port serves the endpoints and prints where", async () => {
  const io = new CaptureIo();
  const serving = main(["serve", "--port", "0", "--monitor-port", "0", "--quiet"], io);
  await until(() => io.outLines.some((l) => l.includes("monitoring on")), "the banner");
  const url = /monitoring on (\S+)/.exec(io.outLines.join("\n"))![1];
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const health = await fetch(`${url}/healthz`);
  assert.deepEqual(await health.json(), { status: "ok" });
  process.emit("SIGINT" as never);
  assert.equal(await serving, 0);
});

test("the top view formats bytes and durations", () => {
  assert.deepEqual(
    [0, 1023, 1024, 1536, 5 * 1024 * 1024].map(formatBytes),
    ["0 B", "1023 B", "1.0 KiB", "1.5 KiB", "5.0 MiB"],
  );
  assert.deepEqual(
    [0, 59.9, 61, 3600 + 120, 86400 * 2 + 3600].map(formatDuration),
    ["0s", "59s", "1m01s", "1h02m", "2d01h"],
  );
});

test("serve --monitor-port on Deno, Bun and Node serves the dashboard and its charts", {
  skip: matrix ? false : "set KN_SOCK_MATRIX=1 (the README's test command does, once)",
}, async () => {
  for (const runtime of RUNTIMES) {
    const { child } = await startCliServer(runtime, [
      "serve",
      "--port",
      "0",
      "--monitor-port",
      "0",
    ]);
    try {
      const url = /monitoring on (\S+)/.exec((await child.line()) ?? "")?.[1];
      assert.ok(url, `no monitoring banner on ${runtime}: ${child.stderr}`);
      const varz = await (await fetch(`${url}/varz`)).json();
      assert.equal(varz.runtime.name, runtime);
      const page = await fetch(`${url}/`);
      assert.match(await page.text(), /<script type="module" src="\.\/dashboard\.js">/);
      const chart = await fetch(`${url}/uplot.js`);
      assert.equal(chart.status, 200, `uplot.js on ${runtime} (run the npm build first)`);
      assert.match(await chart.text(), /^\/\*! uPlot /);
      const stats = spawnCli(runtime, ["stats", "--json", "--monitor-port", new URL(url).port]);
      const lines: string[] = [];
      for (let line = await stats.line(); line !== null; line = await stats.line()) {
        lines.push(line);
      }
      assert.equal(JSON.parse(lines.join("\n")).serverId, varz.serverId);
    } finally {
      await child.stop("SIGTERM");
    }
  }
});
