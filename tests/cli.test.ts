/**
 * The command line: usage errors, pub/sub in-process, serve as a process,
 * and the cross-runtime matrix (servers and clients on Deno, Bun and Node).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { CaptureIo, runCli } from "./cli_helpers.ts";
import { VERSION } from "../src/version.ts";
import { RUNTIMES, spawnCli, startCliServer } from "./cli_processes.ts";
import { assertCleanExit, subscribed, take, until } from "./helpers.ts";
import { clientCases } from "./websocket_helpers.ts";

test("cli prints help and the version", async () => {
  for (const args of [["--help"], [], ["help", "sub"], ["serve", "--help"], ["pub", "-h"]]) {
    const { code, io } = await runCli(args);
    assert.equal(code, 0, args.join(" "));
    assert.match(io.outLines.join("\n"), /Usage/);
  }
  const { code, io } = await runCli(["--version"]);
  assert.equal(code, 0);
  assert.equal(io.outLines.length, 1);
  assert.ok(io.outLines[0].startsWith(`${VERSION} (`), io.outLines[0]);
});

test("cli exits 2 with a clear message for bad arguments", async () => {
  const cases: [string[], RegExp][] = [
    [["dance"], /Unknown command "dance"/],
    [["serve", "--port", "99999"], /Invalid port "99999"/],
    [["serve", "--port", "eighty"], /Invalid port "eighty"/],
    [["serve", "--bogus"], /Unknown option '--bogus'/],
    [["pub"], /Expected <topic> <message> \(or <topic> with -, --stdin or --file F\)/],
    [["pub", "t"], /Give the message once/],
    [["pub", "t", "{", "--json"], /not valid JSON/],
    [["sub"], /Expected at least one <topic>/],
    [["sub", "t", "--count", "0"], /Invalid --count "0"/],
    [["sub", "t", "--port", "0"], /Invalid port "0"/],
    [["pub", "", "m"], /Invalid topic "": Topic must not be empty/],
    [["pub", "a/#", "m"], /Invalid topic "a\/#"/],
    [["pub", "t", "m", "--timeout", "0"], /Invalid --timeout "0"/],
    [["sub", "t", "--group", ""], /Invalid --group ""/],
    [["req", "t/+", "m"], /Invalid topic "t\/\+"/],
    [["run-pubsub-server"], /Expected exactly one argument: <port>/],
    [["pubsub-client", "127.0.0.1"], /Expected <host> <port> <topic> \[message\]/],
    [["serve", "--ws-path", "/x"], /--ws-host, --ws-path and --ws-origin need --ws-port/],
    [["serve", "--ws-port", "70000"], /Invalid port "70000"/],
    [["serve", "--ws-port", "0", "--ws-path", "ws"], /Invalid --ws-path "ws"/],
    [["serve", "--ws-port", "0", "--ws-origin", "nope"], /Invalid --ws-origin "nope"/],
  ];
  for (const [args, expected] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(io.errText, expected);
    assert.match(io.errText, /--help" for usage/);
  }
});

test("cli exits 1 with the error code when the server is unreachable", async () => {
  const server = await startPubSubServer({ port: 0 });
  const port = server.addr.port;
  await server.close();
  const { code, io } = await runCli(["pub", "t", "m", "--port", String(port)]);
  assert.equal(code, 1);
  assert.match(io.errText, /Connection refused by 127\.0\.0\.1:\d+ \(connection_refused\)/);
});

test("cli pub and sub --count deliver through a server", async () => {
  const server = await startPubSubServer({ port: 0 });
  const port = String(server.addr.port);
  const io = new CaptureIo();
  const sub = main(["sub", "news/sports", "news/tech", "--count", "2", "--port", port], io);
  await until(
    () => io.errText.includes("Subscribed to news/sports, news/tech"),
    "sub to subscribe",
  );
  assert.equal((await runCli(["pub", "news/sports", "Tonight!", "--port", port])).code, 0);
  assert.equal((await runCli(["pub", "news/tech", '{"n": 1}', "--json", "--port", port])).code, 0);
  assert.equal(await sub, 0);
  assert.deepEqual(io.outLines.map((l) => JSON.parse(l)), [
    { topic: "news/sports", message: "Tonight!" },
    { topic: "news/tech", message: { n: 1 } },
  ]);
  await server.close();
});

test("cli accepts kn-sock's pubsub-client form for publishing", async () => {
  const server = await startPubSubServer({ port: 0 });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port);
  await subscribed(client, "alerts/system");
  const { code } = await runCli([
    "pubsub-client",
    "127.0.0.1",
    String(server.addr.port),
    "alerts/system",
    "Server maintenance scheduled",
  ]);
  assert.equal(code, 0);
  assert.deepEqual(await client.recv(), {
    topic: "alerts/system",
    message: "Server maintenance scheduled",
  });
  await client.close();
  await server.close();
});

test("cli pub --retain and --header; sub with a pattern gets the retained message", async () => {
  const server = await startPubSubServer({ port: 0 });
  const port = String(server.addr.port);
  const pub = await runCli([
    "pub",
    "status/api",
    "up",
    "--retain",
    "--header",
    "by=cli",
    "--port",
    port,
  ]);
  assert.equal(pub.code, 0, pub.io.errText);
  const { code, io } = await runCli(["sub", "status/+", "--count", "1", "--port", port]);
  assert.equal(code, 0);
  assert.deepEqual(io.outLines.map((l) => JSON.parse(l)), [{ topic: "status/api", message: "up" }]);
  assert.equal((await runCli(["pub", "t", "m", "--header", "novalue", "--port", port])).code, 2);
  await server.close();
});

test("cli sub --group shares messages between members", async () => {
  const server = await startPubSubServer({ port: 0 });
  const port = String(server.addr.port);
  const ios = [new CaptureIo(), new CaptureIo()];
  const members: Promise<number>[] = [];
  for (const io of ios) {
    members.push(main(["sub", "jobs", "--group", "g", "--count", "1", "--port", port], io));
    await until(() => io.errText.includes("Subscribed"), "a member to join");
  }
  assert.equal((await runCli(["pub", "jobs", "one", "--port", port])).code, 0);
  assert.equal((await runCli(["pub", "jobs", "two", "--port", port])).code, 0);
  assert.deepEqual(await Promise.all(members), [0, 0]);
  assert.deepEqual(
    ios.map((io) => JSON.parse(io.outLines[0]).message).sort(),
    ["one", "two"],
  );
  await server.close();
});

test("cli req prints the reply, and fails with no_responders", async () => {
  const server = await startPubSubServer({ port: 0 });
  const responder = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
  const sub = await responder.subscribe("svc/time");
  const serving = (async () => {
    for await (const request of sub) await request.respond?.(`got ${request.message}`);
  })().then(() => null, (error: unknown) => error);
  const port = String(server.addr.port);
  const ok = await runCli(["req", "svc/time", "now", "--port", port]);
  assert.equal(ok.code, 0, ok.io.errText);
  assert.equal(JSON.parse(ok.io.outLines[0]).message, "got now");
  const none = await runCli(["req", "svc/none", "x", "--port", port]);
  assert.equal(none.code, 1);
  assert.match(none.io.errText, /no_responders/);
  await responder.close();
  await serving;
  await server.close();
});

// ---- processes --------------------------------------------------------------

test("cli serve logs connections and shuts down cleanly on SIGTERM", async () => {
  const { child, port } = await startCliServer("deno", ["serve", "--port", "0"]);
  const client = await PubSubClient.connect("127.0.0.1", port);
  await child.stderrIncludes("Client connected");
  await client.close();
  await child.stderrIncludes("Client disconnected");
  await child.stop("SIGTERM");
  assertCleanExit(child);
});

test("cli run-pubsub-server is kn-sock's form of serve", async () => {
  const { child, port } = await startCliServer("deno", ["run-pubsub-server", "0"]);
  const client = await PubSubClient.connect("127.0.0.1", port);
  await subscribed(client, "t");
  await client.close();
  await child.stop("SIGINT");
  assertCleanExit(child);
});

test("cli serve --ws-port prints both addresses; a WebSocket client reaches a TCP subscriber", async () => {
  const { child, port } = await startCliServer("deno", [
    "serve",
    "--port",
    "0",
    "--ws-port",
    "0",
    "--ws-origin",
    "https://app.example.com/",
  ]);
  const opened: PubSubClient[] = [];
  try {
    const banner = await child.line();
    const match = /^kn-sock pubsub WebSocket listening on ws:\/\/127\.0\.0\.1:(\d+)\/ws$/.exec(
      banner ?? "",
    );
    assert.ok(match, `no WebSocket banner: ${banner}\n${child.stderr}`);
    const subscriber = await PubSubClient.connect("127.0.0.1", port, { reconnect: false });
    opened.push(subscriber);
    await subscribed(subscriber, "cli/ws");
    const [ws] = await clientCases();
    const publisher = await PubSubClient.connect("127.0.0.1", Number(match[1]), {
      transport: ws.transport(),
      reconnect: false,
    });
    opened.push(publisher);
    await publisher.publish("cli/ws", "over WebSocket");
    assert.deepEqual((await take(subscriber, 1)).map((m) => m.message), ["over WebSocket"]);
  } finally {
    await Promise.all(opened.map((client) => client.close()));
    await child.stop("SIGTERM");
  }
  assertCleanExit(child);
});

const matrix = process.env.KN_SOCK_MATRIX === "1";

test("cli works across runtimes: servers on Deno, Bun and Node, each with clients on all three", {
  skip: matrix ? false : "set KN_SOCK_MATRIX=1 (the README's test command does, once)",
}, async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  for (const serverRuntime of RUNTIMES) {
    const { child: server, port } = await startCliServer(serverRuntime, ["serve", "--port", "0"]);
    try {
      await Promise.all(RUNTIMES.map(async (clientRuntime) => {
        const topic = `matrix/${serverRuntime}/${clientRuntime}`;
        const text = `${clientRuntime} to ${serverRuntime} via ${serverRuntime} ✓`;
        const sub = spawnCli(clientRuntime, ["sub", topic, "--count", "1", "--port", String(port)]);
        try {
          await sub.stderrIncludes("Subscribed to");
          const pub = spawnCli(clientRuntime, ["pub", topic, text, "--port", String(port)]);
          assert.equal(await pub.exited, 0, `pub on ${clientRuntime}: ${pub.stderr}`);
          assert.deepEqual(JSON.parse((await sub.line())!), { topic, message: text });
          assert.equal(await sub.exited, 0, `sub on ${clientRuntime}: ${sub.stderr}`);
        } finally {
          await sub.stop();
        }
      }));
    } finally {
      await server.stop("SIGTERM");
    }
    assertCleanExit(server);
  }
});
