/**
 * Where a client command finds its server, as NATS users expect:
 * `--server URL` (`tcp://`, `tls://`, `ws://`, `wss://`, or `host:port`),
 * else `--host`/`--port`, else the `KN_SOCK_URL` environment variable, run
 * as a real process on Deno, Bun and Node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { RUNTIMES, spawnCli } from "./cli_processes.ts";
import { runCli } from "./cli_helpers.ts";
import { subscribed, take } from "./helpers.ts";

test("cli pub reaches the server named by --server (tcp://, host:port, ws://) or KN_SOCK_URL", async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  const server = await startPubSubServer({ port: 0, webSocket: { port: 0 } });
  const tcp = `127.0.0.1:${server.addr.port}`;
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { reconnect: false });
  try {
    await subscribed(client, "url/#");
    const ways: [string, string[], Record<string, string> | undefined][] = [
      ["tcp", ["--server", `tcp://${tcp}`], undefined],
      ["bare", ["-s", tcp], undefined],
      ["ws", ["--server", server.webSocketUrl!], undefined],
      ["env", [], { KN_SOCK_URL: `tcp://${tcp}` }],
      ["envws", [], { KN_SOCK_URL: server.webSocketUrl! }],
      // --host/--port win over KN_SOCK_URL.
      ["flags", ["--port", String(server.addr.port)], { KN_SOCK_URL: "tcp://127.0.0.1:1" }],
    ];
    const sent: string[] = [];
    for (const runtime of RUNTIMES) {
      await Promise.all(ways.map(async ([way, args, env]) => {
        const topic = `url/${runtime}/${way}`;
        const pub = spawnCli(runtime, ["pub", topic, "m", ...args], env);
        assert.equal(await pub.exited, 0, `${runtime} ${way}: ${pub.stderr}`);
        sent.push(topic);
      }));
    }
    const received = (await take(client, sent.length)).map((message) => message.topic);
    assert.deepEqual(received.sort(), sent.sort());
  } finally {
    await client.close();
    await server.close();
  }
});

test("cli refuses a bad --server, and --server with --host or --port", async () => {
  const cases: [string[], RegExp][] = [
    [["pub", "t", "m", "--server", "ftp://x:1"], /Invalid --server "ftp:\/\/x:1": unknown scheme/],
    [["pub", "t", "m", "--server", "tcp://h:1/path"], /a TCP URL has no path/],
    [["sub", "t", "--server", "tcp://h:99999"], /Invalid --server "tcp:\/\/h:99999": not a URL/],
    [["sub", "t", "--server", "tcp://h:0"], /Invalid port "0"/],
    [["sub", "t", "--server", "tcp://h:1", "--port", "2"], /Give --server or --host/],
    [["req", "t", "m", "-s", "ws://h/ws", "--tls"], /--tls\* options need a wss:\/\/ URL/],
    [["pubsub-client", "h", "1", "t", "--server", "h:1"], /given as <host> <port>/],
  ];
  for (const [args, expected] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(io.errText, expected);
  }
});
