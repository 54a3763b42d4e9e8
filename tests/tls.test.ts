/**
 * TLS on every TCP transport this runtime runs (its own and node:net):
 * round trips, refused certificates, peers that do not speak TLS, aborts
 * during the handshake, bad credentials; the memory transport's refusal;
 * and the CLI's `--tls-*` options with a TLS server process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectError,
  createMemoryTransport,
  detectRuntime,
  PubSubClient,
  startPubSubServer,
} from "../mod.ts";
import type {
  Conn,
  PubSubServer,
  PubSubServerOptions,
  TlsConnectOptions,
  Transport,
} from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { CaptureIo, runCli } from "./cli_helpers.ts";
import { Child } from "./child_process.ts";
import { assertCleanExit, subscribed, take, transportCases, until } from "./helpers.ts";
import { makeTestCerts } from "./tls_cert.ts";

// The PEM texts are all the library tests need: the files go at once.
const certs = await makeTestCerts();
await certs.remove();
const serverTls = { cert: certs.cert, key: certs.key };
const encoder = new TextEncoder();

function isConnectFailed(error: unknown): boolean {
  return error instanceof ConnectError && error.code === "connect_failed" &&
    error.cause !== undefined;
}

function connectTls(
  transport: Transport,
  server: PubSubServer,
  tls: TlsConnectOptions = { ca: certs.ca },
): Promise<PubSubClient> {
  return PubSubClient.connect("127.0.0.1", server.addr.port, { transport, tls });
}

/** What `startPubSubServer(options)` rejects with; a server that starts is closed. */
async function startError(options: PubSubServerOptions): Promise<unknown> {
  try {
    await (await startPubSubServer(options)).close();
    return null;
  } catch (error) {
    return error;
  }
}

/** Reads until the stream ends; the number of bytes read. */
async function drain(conn: Conn): Promise<number> {
  let bytes = 0;
  for await (const chunk of conn) bytes += chunk.byteLength;
  return bytes;
}

/** A publish and its delivery through `server`, over TLS: proof that it still serves. */
async function assertServes(transport: Transport, server: PubSubServer): Promise<void> {
  const subscriber = await connectTls(transport, server);
  const publisher = await connectTls(transport, server, {
    ca: [certs.ca],
    serverName: "localhost",
  });
  await subscribed(subscriber, "tls/check");
  await publisher.publish("tls/check", "still serving");
  assert.deepEqual(await take(subscriber, 1), [{ topic: "tls/check", message: "still serving" }]);
  await Promise.all([subscriber.close(), publisher.close()]);
}

for (const { name, make } of transportCases().filter((c) => c.name !== "memory")) {
  test(`${name} TLS: clients that trust the CA publish and subscribe through a TLS server`, async () => {
    const transport = make();
    const server = await startPubSubServer({ port: 0, transport, tls: serverTls });
    const subscriber = await connectTls(transport, server);
    const publisher = await PubSubClient.connect("127.0.0.1", server.addr.port, {
      transport,
      tls: { ca: certs.ca },
      hello: true,
    });
    await subscribed(subscriber, "secure/+");
    await publisher.publish("secure/news", "over TLS ✓"); // acked: hello
    await publisher.publish("secure/data", { n: 1, text: "x".repeat(100_000) });
    const messages = await take(subscriber, 2);
    assert.deepEqual(messages[0], { topic: "secure/news", message: "over TLS ✓" });
    assert.deepEqual(messages[1], {
      topic: "secure/data",
      message: { n: 1, text: "x".repeat(100_000) },
    });
    await Promise.all([subscriber.close(), publisher.close()]);
    await until(() => server.stats().connections === 0, "the server to see both clients go");
    await server.close();
  });

  test(`${name} TLS: a client without the CA, or expecting another name, is refused with connect_failed`, async () => {
    const transport = make();
    const server = await startPubSubServer({ port: 0, transport, tls: serverTls });
    await assert.rejects(connectTls(transport, server, {}), isConnectFailed);
    await assert.rejects(
      connectTls(transport, server, { ca: certs.ca, serverName: "other.example" }),
      isConnectFailed,
    );
    await assertServes(transport, server);
    await until(() => server.stats().connections === 0, "the refused connections to close");
    await server.close();
  });

  test(`${name} TLS: a plain-TCP client on a TLS port is dropped and the server keeps serving`, async () => {
    const transport = make();
    const server = await startPubSubServer({ port: 0, transport, tls: serverTls });
    const plain = await transport.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const reading = drain(plain);
    await plain.write(encoder.encode('{"action":"publish","topic":"t","message":"m"}\n'));
    await reading; // the server ended the connection (after a TLS alert, on some runtimes)
    plain.close();
    await assertServes(transport, server);
    await until(() => server.stats().connections === 0, "the plain connection to close");
    await server.close();
  });

  test(`${name} TLS: a connect aborted during the handshake rejects with connect_failed`, async () => {
    const transport = make();
    // A plain listener that accepts and never answers the ClientHello.
    const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = listener[Symbol.asyncIterator]().next();
    const controller = new AbortController();
    const connecting = transport.connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      signal: controller.signal,
      tls: { ca: certs.ca },
    });
    const next = await accepted;
    assert.equal(next.done, false);
    const silent = next.value as Conn;
    const reading = silent[Symbol.asyncIterator]();
    assert.equal((await reading.next()).done, false, "the ClientHello arrived");
    controller.abort(new Error("gave up"));
    await assert.rejects(connecting, isConnectFailed);
    if (name !== "deno") {
      // The client closed its socket. Deno closes a TLS socket only once its
      // handshake ends (denoland/deno#14547), which our close() below does.
      while (!(await reading.next()).done);
    }
    silent.close();
    await listener.close();
  });

  test(`${name} TLS: a listener refuses an unusable certificate or key with TypeError`, {
    skip: name === "node" && detectRuntime() === "deno"
      ? "Deno's node:tls takes any PEM text and fails at the first handshake"
      : false,
  }, async () => {
    const transport = make();
    for (const tls of [{ cert: certs.cert, key: certs.caKey }, { cert: certs.cert, key: "nope" }]) {
      const error = await startError({ port: 0, transport, tls });
      assert.ok(error instanceof TypeError, String(error));
      assert.match(error.message, /Invalid TLS certificate or key: ./);
    }
    const empty = await startError({ port: 0, transport, tls: { cert: "", key: "" } });
    assert.ok(empty instanceof TypeError, String(empty));
  });
}

test("memory transport rejects a tls option with TypeError", async () => {
  const transport = createMemoryTransport();
  await assert.rejects(startPubSubServer({ port: 0, transport, tls: serverTls }), TypeError);
  const server = await startPubSubServer({ port: 0, transport });
  await assert.rejects(
    PubSubClient.connect("memory", server.addr.port, { transport, tls: { ca: certs.ca } }),
    /The memory transport does not support TLS/,
  );
  await server.close();
});

// ---- the command line ---------------------------------------------------------

test("cli refuses --tls-cert without --tls-key, and files it cannot read", async () => {
  const files = await makeTestCerts();
  try {
    const half = await runCli(["serve", "--port", "0", "--tls-cert", files.certFile]);
    assert.equal(half.code, 2);
    assert.match(half.io.errText, /--tls-cert and --tls-key must be given together/);
    const missing = `${files.dir}/missing.pem`;
    const serve = await runCli(["serve", "--tls-cert", missing, "--tls-key", files.keyFile]);
    assert.equal(serve.code, 1);
    assert.match(serve.io.errText, /Cannot read --tls-cert ".*missing\.pem"/);
    const pub = await runCli(["pub", "t", "m", "--port", "1", "--tls-ca", missing]);
    assert.equal(pub.code, 1);
    assert.match(pub.io.errText, /Cannot read --tls-ca/);
  } finally {
    await files.remove();
  }
});

test("cli serve --tls-cert --tls-key serves TLS to sub, pub and req with --tls-ca", async () => {
  const files = await makeTestCerts();
  const child = new Child("node_modules/.bin/deno", [
    "run",
    "--allow-net",
    "--allow-read",
    "src/cli/bin.ts",
    "serve",
    "--port",
    "0",
    "--tls-cert",
    files.certFile,
    "--tls-key",
    files.keyFile,
  ], { NO_COLOR: "1" });
  try {
    const banner = await child.line();
    const match = /listening on 127\.0\.0\.1:(\d+) \(deno, transport deno, TLS\)/.exec(
      banner ?? "",
    );
    assert.ok(match, `no banner: ${banner}\n${child.stderr}`);
    const port = match[1];
    const tlsArgs = ["--port", port, "--tls-ca", files.caFile];
    const io = new CaptureIo();
    const sub = main(["sub", "secure/#", "--count", "2", ...tlsArgs], io);
    await until(() => io.errText.includes("Subscribed to secure/#"), "sub to subscribe");
    assert.equal((await runCli(["pub", "secure/a", "one", ...tlsArgs])).code, 0);
    const named = await runCli([
      "pub",
      "secure/b",
      "two",
      ...tlsArgs,
      "--tls-server-name",
      "localhost",
    ]);
    assert.equal(named.code, 0, named.io.errText);
    assert.equal(await sub, 0);
    assert.deepEqual(io.outLines.map((line) => JSON.parse(line)), [
      { topic: "secure/a", message: "one" },
      { topic: "secure/b", message: "two" },
    ]);
    const untrusted = await runCli(["pub", "secure/c", "three", "--port", port, "--tls"]);
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.io.errText,
      /Could not connect to 127\.0\.0\.1:\d+: .+ \(connect_failed\)/,
    );
    const none = await runCli(["req", "secure/nobody", "x", ...tlsArgs]);
    assert.equal(none.code, 1);
    assert.match(none.io.errText, /no_responders/);
  } finally {
    await child.stop("SIGTERM");
    await files.remove();
  }
  assertCleanExit(child);
});
