/**
 * `pub`'s message sources, as users of mosquitto_pub and nats expect:
 * standard input (`-`, `--stdin`), a file (`--file`), one message per line
 * (`--lines`), repeats (`--count`); run as a real process on Deno, Bun and
 * Node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Message, PubSubClient, startPubSubServer } from "../mod.ts";
import { runCli } from "./cli_helpers.ts";
import { RUNTIMES, spawnCli } from "./cli_processes.ts";
import { subscribed, take } from "./helpers.ts";

test("cli pub reads standard input, a file, lines, and repeats with --count", async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  const dir = await mkdtemp(join(tmpdir(), "kn-sock-pub-"));
  const file = join(dir, "message.json");
  await writeFile(file, '{"from": "a file", "big": "' + "x".repeat(200_000) + '"}\n');
  const server = await startPubSubServer({ port: 0 });
  const port = String(server.addr.port);
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { reconnect: false });
  try {
    for (const runtime of RUNTIMES) {
      const topic = `in/${runtime}`;
      await subscribed(client, topic);
      const runs: [string[], string | null][] = [
        [["-"], "whole\ninput\n"],
        [["--stdin", "--lines"], "one\n\ntwo\r\nthree"],
        [["--file", file, "--json"], null],
        [["again", "--count", "2"], null],
      ];
      for (const [args, input] of runs) {
        const pub = spawnCli(runtime, ["pub", topic, ...args, "--port", port]);
        pub.process.stdin!.end(input ?? "");
        assert.equal(await pub.exited, 0, `${runtime} ${args.join(" ")}: ${pub.stderr}`);
      }
      const received = (await take(client, 7)).map((m: Message) => m.message);
      assert.deepEqual(received.slice(0, 4), ["whole\ninput", "one", "two", "three"]);
      const fromFile = received[4] as { from: string; big: string };
      assert.equal(fromFile.from, "a file");
      assert.equal(fromFile.big.length, 200_000); // past the argument-size limit
      assert.deepEqual(received.slice(5), ["again", "again"]);
      await client.unsubscribe(topic);
    }
  } finally {
    await client.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("cli pub refuses contradicting message sources", async () => {
  const cases: [string[], RegExp, number][] = [
    [["pub", "t"], /Give the message once/, 2],
    [["pub", "t", "m", "--stdin"], /Give the message once/, 2],
    [["pub", "t", "-", "--file", "f"], /Give the message once/, 2],
    [["pub", "t", "m", "--lines"], /--lines reads --stdin or --file F/, 2],
    [["pub", "t", "--stdin", "--lines", "--count", "2"], /--count repeats one message/, 2],
    [["pub", "t", "m", "--count", "0"], /Invalid --count "0"/, 2],
    [["pub", "t", "--file", "/nonexistent/m", "--port", "1"], /Cannot read --file/, 1],
  ];
  for (const [args, expected, exit] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, exit, args.join(" "));
    assert.match(io.errText, expected);
  }
});
