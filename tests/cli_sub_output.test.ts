/**
 * `sub`'s output and life, as users of mosquitto_sub and nats expect:
 * `--raw`, `--verbose`, `--format`, `--no-retained`, `--timeout` as an idle
 * limit, and `--reconnect` saying on standard error when it retries,
 * loses and regains the connection (as a real process on Deno, Bun, Node).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { runCli } from "./cli_helpers.ts";
import { RUNTIMES, spawnCli } from "./cli_processes.ts";

test("cli sub --raw, --verbose, --format and --no-retained print what they say", async () => {
  const server = await startPubSubServer({ port: 0 });
  const port = String(server.addr.port);
  const publisher = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
  try {
    await publisher.publish("r/1", "line one", { retain: true, headers: { by: "test" } });
    await publisher.publish("r/2", { n: 2 }, { retain: true });
    const sub = (...args: string[]) =>
      runCli(["sub", "r/#", "--count", "2", "--port", port, ...args]);

    const raw = await sub("--raw");
    assert.equal(raw.code, 0, raw.io.errText);
    assert.deepEqual(raw.io.outLines, ["line one", '{"n":2}']);

    const verbose = await sub("--verbose");
    assert.equal(verbose.code, 0, verbose.io.errText);
    const [first, second] = verbose.io.outLines.map((line) => JSON.parse(line));
    const { seq, ...fields } = first;
    assert.deepEqual(fields, {
      topic: "r/1",
      message: "line one",
      headers: { by: "test" },
      retained: true,
    });
    assert.equal(typeof seq, "number");
    assert.equal(second.topic, "r/2");

    const format = await sub("--format", "{topic}\\t{message}|{json}|{retained}|{header:by}");
    assert.equal(format.code, 0, format.io.errText);
    assert.deepEqual(format.io.outLines, [
      'r/1\tline one|"line one"|retained|test',
      'r/2\t{"n":2}|{"n":2}|retained|',
    ]);

    // Without the retained ones, nothing comes: --timeout ends the wait, short of --count.
    const fresh = await sub("--no-retained", "--timeout", "100");
    assert.equal(fresh.code, 1);
    assert.deepEqual(fresh.io.outLines, []);
    assert.match(fresh.io.errText, /No message within 100 ms/);
    const idle = await runCli(["sub", "none", "--timeout", "100", "--port", port]);
    assert.equal(idle.code, 0, idle.io.errText);
  } finally {
    await publisher.close();
    await server.close();
  }
});

test("cli sub refuses contradicting output options", async () => {
  const cases: [string[], RegExp][] = [
    [["sub", "t", "--format", "{bogus}"], /Invalid --format field "\{bogus\}"/],
    [["sub", "t", "--raw", "--verbose"], /at most one of --raw, --verbose and --format/],
    [["sub", "t", "--verbose", "--kn-sock"], /need this project's server/],
    [["sub", "t", "--no-retained", "--kn-sock"], /need this project's server/],
  ];
  for (const [args, expected] of cases) {
    const { code, io } = await runCli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(io.errText, expected);
  }
});

test("cli sub --reconnect retries the first connect and says when it loses and regains the server", async () => {
  assert.ok(existsSync("npm/esm/src/cli/bin.js"), "run the npm build first (npm test does)");
  for (const runtime of RUNTIMES) {
    const probe = await startPubSubServer({ port: 0 });
    const port = probe.addr.port;
    await probe.close(); // nobody listens there now
    // --verbose says hello: "Reconnected" then comes once the server acknowledged the resubscription.
    const sub = spawnCli(runtime, ["sub", "t", "--reconnect", "--verbose", "--port", String(port)]);
    try {
      await sub.stderrIncludes("retrying in");
      let server = await startPubSubServer({ port });
      await sub.stderrIncludes("Subscribed to t");
      await server.close();
      await sub.stderrIncludes("Connection lost");
      server = await startPubSubServer({ port });
      try {
        await sub.stderrIncludes(`Reconnected to`);
        const publisher = await PubSubClient.connect("127.0.0.1", port, { reconnect: false });
        await publisher.publish("t", `back on ${runtime}`);
        await publisher.close();
        const { topic, message } = JSON.parse((await sub.line())!);
        assert.deepEqual({ topic, message }, { topic: "t", message: `back on ${runtime}` });
      } finally {
        await server.close();
      }
    } finally {
      await sub.stop("SIGINT");
    }
  }
});
