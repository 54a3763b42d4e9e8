/**
 * WebSocket connections as `Conn`s: served by this runtime's HTTP
 * transport, reached by every WebSocket client this runtime has (the
 * global one, and on Node the `ws` package's).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectError, ConnectionClosedError } from "../mod.ts";
import { type WebSocketLike, webSocketTransport } from "../src/transport/websocket.ts";
import { defaultHttpTransport } from "../src/transport/auto_http.ts";
import { readPattern, writePattern } from "./byte_streams.ts";
import { serverCases } from "./helpers.ts";
import { makeTestCerts, withTls } from "./tls_cert.ts";
import {
  clientCases,
  rawHttp,
  readAll,
  serveWs,
  upgradeRequest,
  withWsPair,
} from "./websocket_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Resolves with the close event's code once `ws` closes. */
function closeCode(ws: WebSocketLike): Promise<number> {
  return new Promise<number>((resolve) => {
    ws.addEventListener("close", (event) => resolve((event as { code?: number }).code ?? 0));
  });
}

for (const client of await clientCases()) {
  const name = client.name;

  test(`${name}: a server conn echoes what the client writes`, async () => {
    await withWsPair(client, async ({ server, client }) => {
      const echo = (async () => {
        for await (const chunk of server) await server.write(chunk);
      })();
      await client.write(encoder.encode("hello\n"));
      const reply = await client[Symbol.asyncIterator]().next();
      assert.equal(decoder.decode(reply.value), "hello\n");
      client.close();
      await echo; // the server's iteration ended
      await server.closed;
    });
  });

  test(`${name}: several lines in one message arrive as one chunk`, async () => {
    await withWsPair(client, async ({ server, client }) => {
      await client.write(encoder.encode('{"a":1}\n{"b":2}\n{"c":3}\n'));
      const next = await server[Symbol.asyncIterator]().next();
      assert.equal(decoder.decode(next.value), '{"a":1}\n{"b":2}\n{"c":3}\n');
    });
  });

  test(`${name}: one line across messages arrives in order, a text message as UTF-8`, async () => {
    const ws = await serveWs();
    const raw = new client.WebSocket(`ws://127.0.0.1:${ws.listener.addr.port}/ws`);
    try {
      await new Promise((resolve) => raw.addEventListener("open", resolve));
      raw.send(encoder.encode('{"topic":"caf'));
      (raw as unknown as { send(text: string): void }).send('é"}\n');
      const server = await ws.accept();
      const iterator = server[Symbol.asyncIterator]();
      const first = await iterator.next();
      const second = await iterator.next();
      assert.equal(decoder.decode(first.value), '{"topic":"caf');
      assert.deepEqual(second.value, encoder.encode('é"}\n'));
    } finally {
      raw.close();
      await ws.close();
    }
  });

  test(`${name}: 16 MiB written by the server arrive intact and in order to a slow reader`, async () => {
    await withWsPair(client, async ({ server, client }) => {
      const total = 16 * 1024 * 1024;
      const reader = readPattern(client);
      await writePattern(server, total);
      server.closeWrite();
      assert.deepEqual(await reader, { received: total, mismatches: 0 });
      await client.closed;
    }, { clientMaxMessageBytes: 1024 * 1024 });
  });

  test(`${name}: the client's close ends the server's stream`, async () => {
    await withWsPair(client, async ({ server, client }) => {
      await client.write(encoder.encode("last words"));
      client.close();
      client.close(); // idempotent
      await client.closed;
      assert.equal(decoder.decode(await readAll(server)), "last words");
      await server.closed;
      await assert.rejects(client.write(encoder.encode("x")), ConnectionClosedError);
      await assert.rejects(server.write(encoder.encode("x")), ConnectionClosedError);
    });
  });

  test(`${name}: the server's close ends the client's stream`, async () => {
    await withWsPair(client, async ({ server, client }) => {
      server.close();
      assert.equal((await readAll(client)).byteLength, 0);
      await Promise.all([client.closed, server.closed]);
      await assert.rejects(server.write(encoder.encode("x")), ConnectionClosedError);
      await assert.rejects(client.write(encoder.encode("x")), ConnectionClosedError);
    });
  });

  test(`${name}: closeWrite() closes normally after the write in flight`, async () => {
    await withWsPair(client, async ({ server, client }) => {
      const writing = server.write(new Uint8Array(1024 * 1024));
      server.closeWrite();
      await writing;
      assert.equal((await readAll(client)).byteLength, 1024 * 1024);
      await Promise.all([client.closed, server.closed]);
    }, { clientMaxMessageBytes: 2 * 1024 * 1024 });
  });

  test(`${name}: a message over the server's limit closes with 1009`, async () => {
    const ws = await serveWs({ maxMessageBytes: 1024 });
    const raw = new client.WebSocket(`ws://127.0.0.1:${ws.listener.addr.port}/ws`);
    try {
      const closed = closeCode(raw);
      await new Promise((resolve) => raw.addEventListener("open", resolve));
      const server = await ws.accept();
      raw.send(new Uint8Array(1024)); // at the limit: accepted
      raw.send(new Uint8Array(1025));
      assert.equal(await closed, 1009);
      assert.equal((await readAll(server)).byteLength, 1024);
      await server.closed;
    } finally {
      raw.close();
      await ws.close();
    }
  });

  test(`${name}: a message over the client's limit closes the client`, async () => {
    await withWsPair(client, async ({ server, client }) => {
      await server.write(new Uint8Array(2048));
      assert.equal((await readAll(client)).byteLength, 0);
      await client.closed;
      assert.equal((await readAll(server)).byteLength, 0);
    }, { clientMaxMessageBytes: 1024 });
  });
}

test("an Origin not in allowedOrigins gets 403; a listed one and none upgrade", async () => {
  const ws = await serveWs({ allowedOrigins: ["https://app.example.com"] });
  try {
    const port = ws.listener.addr.port;
    const denied = await rawHttp(port, upgradeRequest("Origin: https://evil.example.com"));
    assert.equal(denied.status, 403);
    const allowed = await rawHttp(port, upgradeRequest("Origin: https://app.example.com"));
    assert.equal(allowed.status, 101);
    const none = await rawHttp(port, upgradeRequest());
    assert.equal(none.status, 101);
  } finally {
    await ws.close();
  }
});

test("every Origin upgrades without allowedOrigins", async () => {
  const ws = await serveWs();
  try {
    const reply = await rawHttp(
      ws.listener.addr.port,
      upgradeRequest("Origin: https://any.example"),
    );
    assert.equal(reply.status, 101);
  } finally {
    await ws.close();
  }
});

test("bad requests after an upgrade leave the listener serving", async () => {
  let calls = 0;
  const ws = await serveWs({
    onConn(conn) {
      calls++;
      if (calls === 2) throw new Error("onConn failed"); // it must not; the listener survives
      conn.close();
    },
  }, () => new Response("ok"));
  try {
    const port = ws.listener.addr.port;
    assert.equal((await rawHttp(port, upgradeRequest())).status, 101);
    const badKey = upgradeRequest().replace(/Sec-WebSocket-Key: .*/, "Sec-WebSocket-Key: nope");
    assert.equal((await rawHttp(port, badKey)).status, 400);
    const noConnection = upgradeRequest().replace("Connection: Upgrade", "Connection: keep-alive");
    assert.equal((await rawHttp(port, noConnection)).status, 400);
    const oldVersion = upgradeRequest().replace("Version: 13", "Version: 8");
    assert.equal((await rawHttp(port, oldVersion)).status, 426);
    const post = upgradeRequest().replace("GET /ws", "POST /ws");
    // 405 from our routing; Deno's HTTP layer refuses it (400) before that.
    const refused = (await rawHttp(port, `${post}\r\nContent-Length: 0`)).status;
    assert.ok(refused === 405 || refused === 400, `status ${refused}`);
    assert.equal((await rawHttp(port, upgradeRequest())).status, 101); // onConn throws
    assert.equal((await rawHttp(port, upgradeRequest())).status, 101);
    const plain = await rawHttp(port, "GET /healthz HTTP/1.1\r\nConnection: close");
    assert.equal(plain.status, 200);
    assert.equal(calls, 3);
  } finally {
    await ws.close();
  }
});

test("a plain GET reaches fetch; one to the WebSocket path gets 426", async () => {
  const ws = await serveWs({}, (request, info) => {
    const { pathname } = new URL(request.url);
    if (pathname !== "/healthz") return new Response("Not Found", { status: 404 });
    return new Response(`ok from ${info.remoteAddr.hostname}`);
  });
  try {
    const port = ws.listener.addr.port;
    const healthz = await rawHttp(port, "GET /healthz HTTP/1.1\r\nConnection: close");
    assert.equal(healthz.status, 200);
    assert.match(healthz.text, /ok from 127\.0\.0\.1/);
    const other = await rawHttp(port, "GET /nowhere HTTP/1.1\r\nConnection: close");
    assert.equal(other.status, 404);
    const plain = await rawHttp(port, "GET /ws HTTP/1.1\r\nConnection: close");
    assert.equal(plain.status, 426);
    assert.match(plain.text, /upgrade: websocket/i);
  } finally {
    await ws.close();
  }
});

test("a fetch handler that throws gets 500 and the listener keeps serving", async () => {
  const ws = await serveWs({}, () => {
    throw new Error("boom");
  });
  try {
    const port = ws.listener.addr.port;
    assert.equal((await rawHttp(port, "GET /x HTTP/1.1\r\nConnection: close")).status, 500);
    assert.equal((await rawHttp(port, upgradeRequest())).status, 101);
  } finally {
    await ws.close();
  }
});

test("the listener's close frees the port and closes its WebSocket connections", async () => {
  const [client] = await clientCases();
  if (client === undefined) return; // none on Node 20 without ws, a devDependency
  await withWsPair(client, async ({ server, client: conn, ws }) => {
    const port = ws.listener.addr.port;
    await ws.listener.close();
    await ws.listener.close(); // idempotent
    await Promise.all([server.closed, conn.closed]);
    assert.equal((await readAll(conn)).byteLength, 0);
    await assert.rejects(
      client.transport().connect({ hostname: "127.0.0.1", port }),
      (error: unknown) => error instanceof ConnectError && error.code === "connect_failed",
    );
  });
});

test("webSocketTransport() cannot listen, and refuses tls.ca", async () => {
  const [client] = await clientCases();
  if (client === undefined) return;
  const transport = client.transport();
  await assert.rejects(transport.listen({ hostname: "127.0.0.1", port: 0 }), TypeError);
  await assert.rejects(
    transport.connect({ hostname: "127.0.0.1", port: 9, tls: { ca: "x" } }),
    TypeError,
  );
  assert.throws(() => webSocketTransport({ path: "ws" }), TypeError);
});

test("webSocketTransport() without a global WebSocket names Node 22 and the option", () => {
  if ((globalThis as { WebSocket?: unknown }).WebSocket !== undefined) return;
  assert.throws(() => webSocketTransport(), /Node 22 or later.*WebSocket option/);
});

test("over TLS, a GET reaches fetch and an upgrade gets 101", async () => {
  const certs = await makeTestCerts();
  await certs.remove(); // the PEM texts are all this test needs
  const http = await defaultHttpTransport();
  const listener = await http.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: certs.cert, key: certs.key },
    fetch: () => new Response("ok over tls"),
    webSocket: { path: "/ws", maxMessageBytes: 1024, onConn: (conn) => conn.close() },
  });
  try {
    // This runtime's own TCP transport, trusting the test CA.
    const tcp = withTls(serverCases()[1].make(), { cert: "", key: "" }, { ca: certs.ca });
    const port = listener.addr.port;
    const get = await rawHttp(port, "GET /healthz HTTP/1.1\r\nConnection: close", tcp);
    assert.equal(get.status, 200);
    assert.match(get.text, /ok over tls/);
    assert.equal((await rawHttp(port, upgradeRequest(), tcp)).status, 101);
  } finally {
    await listener.close();
  }
});

test("serve() rejects unusable TLS credentials and bad options with a TypeError", async () => {
  const http = await defaultHttpTransport();
  const base = { hostname: "127.0.0.1", port: 0 };
  const route = { path: "/ws", maxMessageBytes: 1024, onConn: () => {} };
  await assert.rejects(
    http.serve({ ...base, tls: { cert: "not pem", key: "not pem" } }),
    TypeError,
  );
  await assert.rejects(http.serve({ ...base, webSocket: { ...route, path: "ws" } }), TypeError);
  await assert.rejects(
    http.serve({ ...base, webSocket: { ...route, maxMessageBytes: 0 } }),
    TypeError,
  );
});
