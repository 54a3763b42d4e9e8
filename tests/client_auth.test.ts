/**
 * Client credentials and subscribe policies: what goes into `hello` and
 * `subscribe`, and what a refusal does on connect and on reconnect.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  createMemoryTransport,
  PubSubClient,
  PubSubError,
  type ServerAuthenticator,
  startPubSubServer,
  type StatusEvent,
} from "../mod.ts";
import { connectToFake, FakeServer } from "./client_fakes.ts";

const allowAll = { canPublish: () => true, canSubscribe: () => true };

/** Accepts the token "good" only. */
const tokens: ServerAuthenticator = {
  authenticate: (credentials) =>
    Promise.resolve(credentials.token === "good" ? { user: "ann", permissions: allowAll } : null),
};

test("auth: a token goes into hello, which auth implies", async () => {
  const { fake, client, hello } = await connectToFake(createMemoryTransport(), {
    auth: { token: "s3cret" },
  }, { user: "ann" });
  assert.deepEqual(hello, { action: "hello", version: 1, id: hello?.id, token: "s3cret" });
  assert.equal(client.server?.user, "ann");
  await client.close();
  await fake.close();
});

test("auth: a user name and password go into hello as user and pass, beside the hello options", async () => {
  const { fake, client, hello } = await connectToFake(createMemoryTransport(), {
    hello: { name: "billing", echo: false },
    auth: { user: "ann", password: "pässword" },
  });
  assert.deepEqual(hello, {
    action: "hello",
    version: 1,
    id: hello?.id,
    name: "billing",
    echo: false,
    user: "ann",
    pass: "pässword",
  });
  await client.close();
  await fake.close();
});

test("auth: malformed credentials, or auth with hello: false, are refused with TypeError", async () => {
  const options = [
    { auth: { token: 5 } },
    { auth: { user: "ann" } },
    { auth: { token: "t", user: "ann", password: "p" } },
    { auth: "token" },
    { auth: { token: "t" }, hello: false },
  ];
  for (const option of options) {
    await assert.rejects(PubSubClient.connect("127.0.0.1", 8080, option as never), TypeError);
  }
});

test("auth: connect rejects with auth_failed when our server refuses the credentials", async () => {
  const transport = createMemoryTransport();
  const server = await startPubSubServer({ port: 0, transport, auth: tokens });
  const error = await PubSubClient.connect("127.0.0.1", server.addr.port, {
    transport,
    auth: { token: "bad" },
  }).catch((e: unknown) => e);
  assert.ok(error instanceof PubSubError, String(error));
  assert.equal(error.code, "auth_failed");
  assert.match(error.message, /refused the credentials/);
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, {
    transport,
    auth: { token: "good" },
  });
  assert.equal(client.server?.user, "ann");
  await client.subscribe("t");
  await client.publish("t", "authenticated");
  assert.equal((await client.recv())?.message, "authenticated");
  await client.close();
  await server.close();
});

test("auth: connect rejects with auth_failed when the server answers with an error and hangs up", async () => {
  const transport = createMemoryTransport();
  const fake = await FakeServer.start(transport);
  const accepted = fake.accept();
  const connecting = PubSubClient.connect("127.0.0.1", fake.port, {
    transport,
    auth: { user: "ann", password: "wrong" },
  });
  const peer = await accepted;
  await peer.json();
  // Not tied to the hello's id: the last word before the close says why.
  await peer.sendJson({ action: "error", code: "auth_failed", error: "Invalid credentials" });
  peer.close();
  await assert.rejects(
    connecting,
    (error: unknown) => error instanceof PubSubError && error.code === "auth_failed",
  );
  await fake.close();
});

test("auth: a refusal while reconnecting is final: the client closes and stops trying", async () => {
  const transport = createMemoryTransport();
  const server = await startPubSubServer({ port: 0, transport, auth: tokens });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, {
    transport,
    auth: { token: "good" },
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
  });
  const events = client.status();
  const waiting = client.recv();
  const port = server.addr.port;
  await server.close();
  // The restarted server no longer accepts the token.
  const again = await startPubSubServer({
    port,
    transport,
    auth: { authenticate: () => Promise.resolve(null) },
  });
  const seen: StatusEvent[] = [];
  for await (const event of events) seen.push(event);
  const types = seen.map((event) => event.type);
  assert.equal(types[0], "disconnect");
  assert.equal(types.at(-1), "close");
  assert.ok(types.slice(1, -1).every((type) => type === "reconnect"), types.join());
  const close = seen.at(-1) as { error: ConnectionClosedError };
  assert.ok(close.error instanceof ConnectionClosedError);
  assert.equal((close.error.cause as PubSubError).code, "auth_failed");
  await assert.rejects(waiting, ConnectionClosedError);
  await client.closed;
  await again.close();
});

test("auth: a subscribe policy goes into the subscribe frame, and a bad one is a TypeError", async () => {
  const transport = createMemoryTransport();
  const fake = await FakeServer.start(transport);
  const accepted = fake.accept();
  const client = await PubSubClient.connect("127.0.0.1", fake.port, { transport });
  const peer = await accepted;
  await client.subscribe("feed/#", { policy: "drop-newest" });
  await client.subscribe("jobs", { group: "w", policy: "disconnect" });
  assert.deepEqual(await peer.json(), {
    action: "subscribe",
    topic: "feed/#",
    policy: "drop-newest",
  });
  assert.deepEqual(await peer.json(), {
    action: "subscribe",
    topic: "jobs",
    group: "w",
    policy: "disconnect",
  });
  assert.throws(() => client.subscribe("x", { policy: "drop-all" as never }), TypeError);
  await client.close();
  await fake.close();
});
