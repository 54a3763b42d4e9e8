/**
 * The server's WebSocket endpoint: WebSocket clients are clients like TCP
 * ones (routing, auth, limits, policies, shutdown), and what a hostile one
 * does harms nobody else. The WebSocket client is the global one, or the
 * `ws` package's on Node 20.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Authenticator,
  type ConnectionTransport,
  detectRuntime,
  hashPassword,
  parseUsersConfig,
  PubSubClient,
  type PubSubClientOptions,
  type PubSubServer,
  type PubSubServerOptions,
  startPubSubServer,
  type WebSocketServerOptions,
} from "../mod.ts";
import type { WebSocketLike } from "../src/transport/websocket.ts";
import { RawPeer, serverCases, take, until } from "./helpers.ts";
import { Opcode, RawWebSocket } from "./raw_websocket.ts";
import { makeTestCerts, withTls } from "./tls_cert.ts";
import { clientCases, rawHttp, upgradeRequest } from "./websocket_helpers.ts";

const [wsClient] = await clientCases();

/** A server with TCP and WebSocket listeners, and ways to open clients of both kinds. */
interface Both {
  server: PubSubServer;
  wsPort: number;
  tcp(options?: PubSubClientOptions): Promise<PubSubClient>;
  ws(options?: PubSubClientOptions): Promise<PubSubClient>;
  tcpRaw(): Promise<RawPeer>;
  wsRaw(): Promise<RawPeer>;
  /** A raw WebSocket (frames by hand), closed at the end. */
  frames(headers?: string[]): Promise<RawWebSocket>;
}

/** Runs `body` with a server; closes every client it opened, then the server, even on failure. */
async function withServer(
  options: PubSubServerOptions & { webSocket?: WebSocketServerOptions },
  body: (both: Both) => Promise<void>,
): Promise<void> {
  const server = await startPubSubServer({
    port: 0,
    ...options,
    webSocket: { port: 0, ...options.webSocket },
  });
  const opened: { close(): unknown }[] = [];
  const keep = <T extends { close(): unknown }>(c: T): T => {
    opened.push(c);
    return c;
  };
  const wsPort = server.webSocketAddr!.port;
  const connectWs = () => wsClient.transport().connect({ hostname: "127.0.0.1", port: wsPort });
  try {
    await body({
      server,
      wsPort,
      tcp: async (o) =>
        keep(await PubSubClient.connect("127.0.0.1", server.addr.port, { reconnect: false, ...o })),
      ws: async (o) =>
        keep(
          await PubSubClient.connect("127.0.0.1", wsPort, {
            reconnect: false,
            transport: wsClient.transport(),
            ...o,
          }),
        ),
      tcpRaw: async () => {
        const { nodeTransport } = await import("../src/transport/node.ts");
        return keep(
          new RawPeer(
            await nodeTransport.connect({ hostname: "127.0.0.1", port: server.addr.port }),
          ),
        );
      },
      wsRaw: async () => keep(new RawPeer(await connectWs())),
      frames: async (headers) => keep(await RawWebSocket.open(wsPort, headers)),
    });
  } finally {
    await Promise.all(opened.map((c) => c.close()));
    await server.close();
  }
}

/** The lines `peer` reads next, parsed, `count` of them. */
async function lines(peer: RawPeer, count: number): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  while (out.length < count) out.push(await peer.json());
  return out;
}

/** Resolves with the close code once `ws` closes. */
function closeCode(ws: WebSocketLike): Promise<number> {
  return new Promise<number>((resolve) => {
    ws.addEventListener("close", (event) => resolve((event as { code?: number }).code ?? 0));
  });
}

test("a TCP and a WebSocket client see each other's messages, as kn-sock frames and after hello", async () => {
  const kinds = new Map<string, ConnectionTransport>();
  await withServer({
    handler(data, client) {
      if (data.action === "publish") kinds.set(String(data.message), client.transport);
    },
  }, async ({ server, tcp, ws, tcpRaw, wsRaw }) => {
    const tcpPeer = await tcpRaw(); // kn-sock frames, no hello
    const wsPeer = await wsRaw();
    const tcpClient = await tcp({ hello: true });
    const wsHello = await ws({ hello: true });
    await tcpPeer.sendJson({ action: "subscribe", topic: "mix/t" });
    await wsPeer.sendJson({ action: "subscribe", topic: "mix/t" });
    await tcpClient.subscribe("mix/t");
    await wsHello.subscribe("mix/t");
    await until(() => server.stats().subscriptions === 4, "four subscriptions");
    assert.deepEqual(server.stats().connectionsByTransport, { tcp: 2, ws: 2 });

    await tcpPeer.sendJson({ action: "publish", topic: "mix/t", message: "tcp kn-sock" });
    await until(() => kinds.size === 1, "the first publish");
    await wsPeer.sendJson({ action: "publish", topic: "mix/t", message: "ws kn-sock" });
    await until(() => kinds.size === 2, "the second publish");
    await tcpClient.publish("mix/t", "tcp hello");
    await wsHello.publish("mix/t", "ws hello");
    const sent = ["tcp kn-sock", "ws kn-sock", "tcp hello", "ws hello"];
    for (const peer of [tcpPeer, wsPeer]) {
      // kn-sock's delivery shape exactly, in publish order.
      assert.deepEqual(await lines(peer, 4), sent.map((message) => ({ topic: "mix/t", message })));
    }
    for (const client of [tcpClient, wsHello]) {
      const got = await take(client, 4);
      assert.deepEqual(got.map((m) => m.message), sent);
      assert.ok(got.every((m) => typeof m.seq === "number"), "hello clients get seq");
    }
    assert.deepEqual(Object.fromEntries(kinds), {
      "tcp kn-sock": { kind: "tcp", tls: false },
      "ws kn-sock": { kind: "ws", tls: false },
      "tcp hello": { kind: "tcp", tls: false },
      "ws hello": { kind: "ws", tls: false },
    });
  });
});

test("wildcards, queue groups and request/reply work over WebSocket", async () => {
  await withServer({}, async ({ tcp, ws }) => {
    const publisher = await tcp({ hello: true });
    const plus = await ws();
    const hash = await ws();
    await plus.subscribe("a/+/c");
    await hash.subscribe("a/#");
    const members = [await ws(), await ws()];
    const jobs: string[] = [];
    const serving = members.map(async (member) => {
      const sub = await member.subscribe("jobs", { group: "g" });
      for await (const job of sub) jobs.push(String(job.message));
    }).map((serving) => serving.catch(() => {})); // a close may end them with an error
    for (const client of [plus, hash, ...members]) await client.flush();
    await publisher.publish("a/b/c", "abc");
    await publisher.publish("a/x", "ax");
    assert.deepEqual((await take(plus, 1)).map((m) => [m.topic, m.message]), [["a/b/c", "abc"]]);
    assert.deepEqual((await take(hash, 2)).map((m) => m.message), ["abc", "ax"]);
    for (const job of ["one", "two", "three"]) await publisher.publish("jobs", job);
    await until(() => jobs.length === 3, "three jobs");
    assert.deepEqual(jobs.sort(), ["one", "three", "two"]);

    // A WebSocket responder answers a TCP requester, and the other way round.
    const wsResponder = await ws({ hello: true });
    const answering = (async () => {
      for await (const request of await wsResponder.subscribe("svc/ws")) {
        await request.respond?.(`ws got ${request.message}`);
      }
    })().catch(() => {});
    await wsResponder.flush();
    assert.equal(
      (await publisher.request("svc/ws", "hi", { timeout: 10_000 })).message,
      "ws got hi",
    );
    const wsRequester = await ws({ hello: true });
    const tcpResponder = await tcp({ hello: true });
    const answering2 = (async () => {
      for await (const request of await tcpResponder.subscribe("svc/tcp")) {
        await request.respond?.(`tcp got ${request.message}`);
      }
    })().catch(() => {});
    await tcpResponder.flush();
    const reply = await wsRequester.request("svc/tcp", "yo", { timeout: 10_000 });
    assert.equal(reply.message, "tcp got yo");
    await Promise.all([...members, wsResponder, tcpResponder].map((c) => c.close()));
    await Promise.all([...serving, answering, answering2]);
  });
});

test("auth over WebSocket: auth_required before hello, then forbidden by permissions", async () => {
  const auth = new Authenticator(parseUsersConfig({
    users: [{
      user: "alice",
      password: await hashPassword("s3cret", { iterations: 1000 }),
      permissions: { publish: { allow: ["sensors/#"], deny: ["sensors/secret"] } },
    }],
  }));
  await withServer({ auth }, async ({ wsRaw, ws }) => {
    const peer = await wsRaw();
    await peer.sendJson({ action: "subscribe", topic: "sensors/a", id: 1 });
    const first = await peer.json();
    assert.equal(first.code, "auth_required");
    assert.equal(first.id, 1);
    await peer.sendJson({ action: "hello", user: "alice", pass: "s3cret", id: 2 });
    const hello = await peer.json();
    assert.equal(hello.action, "hello");
    assert.equal(hello.user, "alice");
    await peer.sendJson({ action: "publish", topic: "sensors/secret", message: 1, id: 3 });
    const refused = await peer.json();
    assert.equal(refused.code, "forbidden");
    assert.equal(refused.id, 3);
    await peer.sendJson({ action: "publish", topic: "sensors/ok", message: 1, id: 4 });
    assert.deepEqual(await peer.json(), { action: "ok", id: 4 });
    // The client library over WebSocket authenticates the same way.
    const client = await ws({ auth: { user: "alice", password: "s3cret" } });
    await assert.rejects(client.publish("sensors/secret", 1), /not allowed/);
  });
});

test("an Origin not allowed gets 403 and no session; an allowed one gets a session", async () => {
  const webSocket = { allowedOrigins: ["https://app.example.com"] };
  await withServer({ webSocket }, async ({ server, wsPort, frames }) => {
    const denied = await rawHttp(wsPort, upgradeRequest("Origin: https://evil.example.com"));
    assert.equal(denied.status, 403);
    assert.equal(server.stats().totalConnections, 0);
    const raw = await frames(["Origin: https://app.example.com"]);
    await raw.send(Opcode.Text, '{"action":"subscribe","topic":"t","id":1}\n');
    const ok = await raw.frame();
    assert.deepEqual(JSON.parse(new TextDecoder().decode(ok!.payload)), { action: "ok", id: 1 });
    assert.equal(server.stats().totalConnections, 1);
  });
});

test("a message over maxWebSocketMessageBytes closes that client with 1009; others go on", async () => {
  const limits = { maxWebSocketMessageBytes: 64 * 1024 };
  await withServer({ limits }, async ({ server, wsPort, ws, tcp }) => {
    const healthy = await ws();
    await healthy.subscribe("still");
    await healthy.flush();
    const hostile = new wsClient.WebSocket(`ws://127.0.0.1:${wsPort}/ws`);
    try {
      const closed = closeCode(hostile);
      await new Promise((resolve) => hostile.addEventListener("open", resolve));
      await until(() => server.stats().connectionsByTransport.ws === 2, "the hostile session");
      hostile.send(new Uint8Array(64 * 1024 + 1).fill(0x20));
      assert.equal(await closed, 1009);
      await until(() => server.stats().connectionsByTransport.ws === 1, "the session to end");
    } finally {
      hostile.close();
    }
    const publisher = await tcp();
    await publisher.publish("still", "here");
    assert.deepEqual((await take(healthy, 1)).map((m) => m.message), ["here"]);
  });
});

test("invalid UTF-8 gets invalid_utf8 in a binary message; in a text message the WebSocket layer closes", async () => {
  await withServer({}, async ({ server, frames, ws, tcp }) => {
    const healthy = await ws();
    await healthy.subscribe("u");
    await healthy.flush();
    const bytes = new TextEncoder().encode('{"action":"publish","topic":"u","message":"x"}\n');
    const bad = bytes.slice();
    bad[bad.indexOf(0x78)] = 0xff; // the "x" becomes a byte that is never UTF-8

    const binary = await frames();
    await binary.send(Opcode.Binary, bad);
    const answer = await binary.frame();
    assert.equal(JSON.parse(new TextDecoder().decode(answer!.payload)).code, "invalid_utf8");
    await binary.send(Opcode.Binary, bytes); // the connection stays, as over TCP
    assert.deepEqual((await take(healthy, 1)).map((m) => m.message), ["x"]);

    const text = await frames();
    await text.send(Opcode.Text, bad);
    // 1007 from Bun and ws; Deno drops the connection without a close frame.
    assert.equal(await text.closeCode(), detectRuntime() === "deno" ? null : 1007);
    text.close(); // as a client does once closed (ws waits 30 s for its close frame otherwise)
    await until(() => server.stats().connections === 2, "the session to end");
    const publisher = await tcp();
    await publisher.publish("u", "after");
    assert.deepEqual((await take(healthy, 1)).map((m) => m.message), ["after"]);
  });
});

test("a WebSocket client that vanishes mid-line leaves the server healthy", async () => {
  await withServer({}, async ({ server, frames, ws }) => {
    const client = await ws();
    await client.subscribe("v");
    await client.flush();
    const raw = await frames();
    await until(() => server.stats().connections === 2, "the raw client's session");
    await raw.send(Opcode.Binary, '{"action":"publish","topic":"v","message":"hal');
    raw.close(); // no close frame: the TCP connection just goes
    await until(() => server.stats().partialLines === 1, "the partial line to be counted");
    assert.equal(server.stats().connections, 1);
    await client.publish("v", "whole");
    assert.deepEqual((await take(client, 1)).map((m) => m.message), ["whole"]);
  });
});

test("a WebSocket subscriber that never reads is disconnected as a slow consumer, its queue bounded", async () => {
  const maxOutboundBytes = 64 * 1024;
  await withServer({ limits: { maxOutboundBytes } }, async ({ server, frames }) => {
    const raw = await frames(); // subscribes, then never reads
    await raw.send(Opcode.Binary, '{"action":"subscribe","topic":"flood"}\n');
    await until(() => server.stats().subscriptions === 1, "the subscription");
    const message = "x".repeat(4096);
    let maxPending = 0;
    let published = 0;
    while (server.stats().slowConsumers === 0) {
      assert.ok(published < 16384, "no slow consumer after 64 MiB");
      for (let i = 0; i < 16; i++, published++) server.publish("flood", message);
      maxPending = Math.max(maxPending, server.stats().pendingBytes);
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
    assert.ok(maxPending <= maxOutboundBytes, `pending ${maxPending}`);
    await until(() => server.stats().connections === 0, "the slow consumer to be closed");
    assert.equal(server.stats().pendingBytes, 0);
    assert.equal(server.stats().slowConsumers, 1);
  });
});

test("server.close() says goodbye to WebSocket clients before closing their sockets", async () => {
  await withServer({}, async ({ server, wsRaw, tcpRaw }) => {
    const peers = [await wsRaw(), await tcpRaw()];
    for (const peer of peers) await peer.sendJson({ action: "subscribe", topic: "t", id: 1 });
    for (const peer of peers) assert.deepEqual(await peer.json(), { action: "ok", id: 1 });
    const closing = server.close();
    for (const peer of peers) {
      assert.deepEqual(await peer.json(), {
        action: "error",
        code: "server_shutdown",
        error: "Server is shutting down",
      });
      assert.deepEqual(await peer.end(), []);
    }
    await closing;
    const port = server.webSocketAddr!.port;
    await assert.rejects(wsClient.transport().connect({ hostname: "127.0.0.1", port }));
  });
});

test("bad requests after an upgrade leave the WebSocket listener serving; fetch answers the rest", async () => {
  const webSocket = {
    fetch: (request: Request) =>
      new URL(request.url).pathname === "/hello" ? new Response("hi") : null,
  };
  await withServer({ webSocket }, async ({ wsPort, ws }) => {
    const first = await ws();
    await first.subscribe("d");
    await first.flush();
    const badKey = upgradeRequest().replace(/Sec-WebSocket-Key: .*/, "Sec-WebSocket-Key: nope");
    assert.equal((await rawHttp(wsPort, badKey)).status, 400);
    const oldVersion = upgradeRequest().replace("Version: 13", "Version: 8");
    assert.equal((await rawHttp(wsPort, oldVersion)).status, 426);
    assert.equal((await rawHttp(wsPort, "GET /ws HTTP/1.1\r\nConnection: close")).status, 426);
    const hello = await rawHttp(wsPort, "GET /hello HTTP/1.1\r\nConnection: close");
    assert.equal(hello.status, 200);
    assert.match(hello.text, /\r\n\r\n(?:2\r\n)?hi(?:\r\n|$)/);
    assert.equal((await rawHttp(wsPort, "GET / HTTP/1.1\r\nConnection: close")).status, 404);
    const second = await ws();
    await second.publish("d", "still serving");
    assert.deepEqual((await take(first, 1)).map((m) => m.message), ["still serving"]);
  });
});

test("with the server's tls option, the WebSocket endpoint is wss and its connections say tls", async () => {
  const certs = await makeTestCerts();
  await certs.remove();
  const seen: ConnectionTransport[] = [];
  const server = await startPubSubServer({
    port: 0,
    tls: { cert: certs.cert, key: certs.key },
    webSocket: { port: 0 },
    handler(_data, client) {
      seen.push(client.transport);
    },
  });
  let raw: RawWebSocket | undefined;
  try {
    assert.match(server.webSocketUrl!, /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
    const tcp = withTls(serverCases()[1].make(), { cert: "", key: "" }, { ca: certs.ca });
    raw = await RawWebSocket.open(server.webSocketAddr!.port, [], tcp);
    await raw.send(Opcode.Binary, '{"action":"subscribe","topic":"t","id":1}\n');
    assert.ok((await raw.frame()) !== null);
    assert.deepEqual(seen, [{ kind: "ws", tls: true }]);
  } finally {
    raw?.close();
    await server.close();
  }
});

test("startPubSubServer() checks the webSocket option and frees the TCP port when it fails", async () => {
  await assert.rejects(startPubSubServer({ port: 0, webSocket: { path: "ws" } }), TypeError);
  await assert.rejects(
    startPubSubServer({
      port: 0,
      webSocket: { port: 0 },
      limits: { maxWebSocketMessageBytes: 1000 },
    }),
    RangeError,
  );
  const taken = await startPubSubServer({ port: 0, webSocket: { port: 0 } });
  try {
    const wsPort = taken.webSocketAddr!.port;
    await assert.rejects(startPubSubServer({ port: 0, webSocket: { port: wsPort } }));
    assert.equal(taken.stats().connections, 0);
  } finally {
    await taken.close();
  }
  const plain = await startPubSubServer({ port: 0 });
  assert.equal(plain.webSocketAddr, null);
  assert.equal(plain.webSocketUrl, null);
  assert.deepEqual(plain.stats().connectionsByTransport, { tcp: 0, ws: 0 });
  await plain.close();
});
