/**
 * The client over WebSocket: `PubSubClient.connect("ws://…")` against a TCP
 * server behind a WebSocket relay (`websocket_relay.ts`), with TCP clients
 * on the other side: publish and subscribe both ways, `hello` features,
 * reconnecting with the offline buffer, the cap on one message, the URL
 * checks, the Node 20 message; and the browser entry's import graph.
 */
import { WEBSOCKET_SEND_BYTES } from "../src/limits.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import process from "node:process";
import {
  createMemoryTransport,
  PubSubClient,
  type PubSubClientOptions,
  type PubSubServer,
  startPubSubServer,
  type StatusEvent,
} from "../mod.ts";
import { webSocketTransport } from "../src/transport/websocket.ts";
import { browserGraphProblems } from "../scripts/check_browser_graph.ts";
import { nextStatus } from "./client_fakes.ts";
import { subscribed, take } from "./helpers.ts";
import { clientCases } from "./websocket_helpers.ts";
import { type Relay, type RelayOptions, startRelay } from "./websocket_relay.ts";

const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

/** `take(from, count)`, failing if `sender` closes first (the relay refused a message). */
function takeWhileOpen(from: PubSubClient, count: number, sender: PubSubClient) {
  const closed = sender.closed.then(() => {
    throw new Error("The sender's connection closed: a message over the bound?");
  });
  return Promise.race([take(from, count), closed]);
}
const hasGlobalWebSocket = typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function";

/** The options a `ws://` connect needs here: the `ws` package's class where there is no global one. */
async function wsOptions(): Promise<PubSubClientOptions> {
  if (hasGlobalWebSocket) return {};
  const ws = (await clientCases()).find((c) => c.name === "ws")!;
  return { WebSocket: ws.WebSocket };
}

interface Setup {
  server: PubSubServer;
  relay: Relay;
  url: string;
  /** A TCP client of the server. */
  tcp(): Promise<PubSubClient>;
  /** A client over WebSocket, by URL. */
  ws(options?: PubSubClientOptions): Promise<PubSubClient>;
}

/** Runs `body` with a TCP server and a relay in front of it; closes all of it, even on failure. */
async function withRelay(
  body: (setup: Setup) => Promise<void>,
  options: { server?: Parameters<typeof startPubSubServer>[0]; relay?: RelayOptions } = {},
): Promise<void> {
  const server = await startPubSubServer({ host: "127.0.0.1", port: 0, ...options.server });
  const clients: PubSubClient[] = [];
  let relay: Relay | undefined;
  try {
    relay = await startRelay(server.addr.port, options.relay);
    const url = `ws://127.0.0.1:${relay.port}/ws`;
    const defaults = await wsOptions();
    await body({
      server,
      relay,
      url,
      async tcp() {
        const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
        clients.push(client);
        return client;
      },
      async ws(options = {}) {
        const client = await PubSubClient.connect(url, { ...defaults, ...options });
        clients.push(client);
        return client;
      },
    });
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await relay?.close();
    await server.close();
  }
}

test("connect('ws://…') publishes to and receives from a TCP client", async () => {
  await withRelay(async ({ tcp, ws }) => {
    const viaTcp = await tcp();
    const viaWs = await ws();
    assert.equal(viaWs.connected, true);
    await subscribed(viaWs, "news/+");
    await subscribed(viaTcp, "replies/#");
    await viaTcp.publish("news/sports", "from TCP");
    assert.deepEqual(await viaWs.recv({ timeout: 5000 }), {
      topic: "news/sports",
      message: "from TCP",
    });
    await viaWs.publish("replies/1", { over: "WebSocket", n: 1 });
    const [reply] = await take(viaTcp, 1);
    assert.equal(reply.topic, "replies/1");
    assert.deepEqual(reply.message, { over: "WebSocket", n: 1 });
  });
});

test("connect('ws://…', { hello }) gets the server's answer, acks and request/reply", async () => {
  await withRelay(async ({ tcp, ws }) => {
    const responder = await tcp();
    const viaWs = await ws({ hello: { name: "browser" } });
    assert.equal(typeof viaWs.server?.serverId, "string");
    assert.equal(viaWs.server?.maxLine, 1024 * 1024);
    const requests = await responder.subscribe("time/now");
    await responder.flush();
    void (async () => {
      for await (const request of requests) await request.respond?.(`answer to ${request.message}`);
    })();
    const answer = await viaWs.request("time/now", "ws", { timeout: 5000 });
    assert.equal(answer.message, "answer to ws");
    await assert.rejects(viaWs.request("nobody/home", null), { code: "no_responders" });
  });
});

test("connect('tcp://host:port') is connect(host, port)", async () => {
  await withRelay(async ({ server, tcp }) => {
    const other = await tcp();
    await subscribed(other, "t");
    const client = await PubSubClient.connect(`tcp://127.0.0.1:${server.addr.port}`);
    try {
      await client.publish("t", "by URL");
      assert.equal((await take(other, 1))[0].message, "by URL");
    } finally {
      await client.close();
    }
  });
});

test("an explicit webSocketTransport() with connect(host, port) still works", async () => {
  await withRelay(async ({ relay, tcp }) => {
    const other = await tcp();
    await subscribed(other, "explicit");
    const { WebSocket } = await wsOptions();
    const client = await PubSubClient.connect("127.0.0.1", relay.port, {
      transport: webSocketTransport({ path: "/ws", WebSocket }),
    });
    try {
      await client.publish("explicit", "yes");
      assert.equal((await take(other, 1))[0].message, "yes");
    } finally {
      await client.close();
    }
  });
});

test("a WebSocket client reconnects to the same URL, resubscribes and sends what it held", async () => {
  await withRelay(async ({ server, relay, tcp, ws }) => {
    const other = await tcp();
    await subscribed(other, "held/#");
    const client = await ws({ hello: true, reconnect: FAST });
    const events: AsyncIterator<StatusEvent> = client.status();
    await client.subscribe("back/#");
    const port = relay.port;
    await relay.close();
    await nextStatus(events, "disconnect");
    assert.equal(client.connected, false);
    const held = client.publish("held/1", "sent while away");
    assert.ok(client.offlineBytes > 0, "the publish waits in the offline buffer");
    const again = await startRelay(server.addr.port, { port });
    try {
      const { event } = await nextStatus(events, "connect");
      assert.ok(event.attempt >= 1);
      await held;
      assert.equal((await take(other, 1))[0].message, "sent while away");
      await other.publish("back/1", "resubscribed");
      assert.equal((await client.recv({ timeout: 5000 }))?.message, "resubscribed");
    } finally {
      await client.close();
      await again.close();
    }
  });
});

test("a burst past the server's maxLine goes out in WebSocket messages no longer than it", async () => {
  const maxLineBytes = 64 * 1024;
  await withRelay(async ({ relay, tcp, ws }) => {
    const other = await tcp();
    await subscribed(other, "burst/#");
    // Without reconnecting, a message over the relay's bound (it closes with 1009) fails the test.
    const client = await ws({ hello: true, reconnect: false });
    assert.equal(client.server?.maxLine, maxLineBytes);
    const count = 2000;
    const body = "x".repeat(500);
    const sent: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      sent.push(client.publish("burst/n", `${i} ${body}`, { ack: false }));
    }
    await Promise.all(sent);
    const received = await takeWhileOpen(other, count, client);
    assert.deepEqual(received.map((m) => m.message), sent.map((_, i) => `${i} ${body}`));
    const total = relay.messageSizes.reduce((a, b) => a + b, 0);
    assert.ok(total > count * body.length, `${total} bytes relayed`);
    assert.ok(Math.max(...relay.messageSizes) <= maxLineBytes, "no message over the cap");
    assert.ok(relay.messageSizes.length >= total / maxLineBytes, "the burst was split");
  }, { server: { limits: { maxLineBytes } }, relay: { maxMessageBytes: maxLineBytes } });
});

test("without hello, a WebSocket client caps each message at the default 64 KiB (WEBSOCKET_SEND_BYTES)", async () => {
  await withRelay(async ({ relay, tcp, ws }) => {
    const other = await tcp();
    await subscribed(other, "big");
    const client = await ws({ reconnect: false });
    const count = 2500;
    const body = "y".repeat(1000);
    const sent: Promise<void>[] = [];
    for (let i = 0; i < count; i++) sent.push(client.publish("big", `${i}${body}`));
    await Promise.all(sent);
    const received = await takeWhileOpen(other, count, client);
    assert.equal(received.length, count);
    assert.equal(received[count - 1].message, `${count - 1}${body}`);
    assert.ok(Math.max(...relay.messageSizes) <= WEBSOCKET_SEND_BYTES, "no message over 64 KiB");
    assert.ok(
      relay.messageSizes.length >= (count * 1000) / WEBSOCKET_SEND_BYTES,
      "the burst was split",
    );
  });
});

test("connect() checks URLs and the options that go with them", async () => {
  const cases: [string, PubSubClientOptions | number | undefined, RegExp][] = [
    ["ws://", undefined, /valid ws:\/\/, wss:\/\/ or tcp:\/\/ URL/],
    ["http://127.0.0.1:1/ws", undefined, /scheme must be "ws:", "wss:" or "tcp:", got "http:"/],
    ["tcp://127.0.0.1", undefined, /tcp:\/\/ URL must have a port/],
    ["tcp://127.0.0.1:1/path", undefined, /no path or query/],
    ["ws://user:pw@127.0.0.1:1/ws", undefined, /credentials/],
    ["ws://127.0.0.1:1/ws#x", undefined, /fragment/],
    ["ws://127.0.0.1:1/ws", { transport: createMemoryTransport() }, /leave out the transport/],
    ["ws://127.0.0.1:1/ws", { tls: {} }, /needs a "wss:\/\/" URL/],
    ["ws://127.0.0.1:1/ws", 8080, /URL carries its port/],
  ];
  for (const [url, second, message] of cases) {
    await assert.rejects(
      PubSubClient.connect(url, second as PubSubClientOptions),
      (error: Error) => error instanceof TypeError && message.test(error.message),
      url,
    );
  }
  await assert.rejects(
    PubSubClient.connect("127.0.0.1", 1, { WebSocket: class {} as never }),
    /The WebSocket option needs a "ws:\/\/" or "wss:\/\/" URL/,
  );
});

test("connect('ws://…') without a global WebSocket says it needs Node 22+ or the WebSocket option", async () => {
  const globals = globalThis as { WebSocket?: unknown };
  const saved = globals.WebSocket;
  // Node 20 has no global WebSocket; elsewhere, hide it for the length of the call.
  if (saved !== undefined) delete globals.WebSocket;
  let attempt: Promise<PubSubClient>;
  try {
    attempt = PubSubClient.connect("ws://127.0.0.1:1/ws");
  } finally {
    if (saved !== undefined) globals.WebSocket = saved;
  }
  await assert.rejects(
    attempt,
    (error: Error) =>
      error instanceof TypeError && /Node 22 or later/.test(error.message) &&
      /WebSocket option/.test(error.message),
  );
});

test("the browser entry's import graph reaches no runtime code", () => {
  assert.deepEqual(browserGraphProblems(process.cwd(), "src/browser.ts"), []);
});

test("the browser graph check reports an entry that reaches src/transport/node.ts", () => {
  const root = mkdtempSync(join(tmpdir(), "browser-graph-"));
  try {
    const node = relative(root, join(process.cwd(), "src/transport/node.ts")).replaceAll("\\", "/");
    writeFileSync(join(root, "entry.ts"), `export { nodeTransport } from "./${node}";\n`);
    const problems = browserGraphProblems(root, "entry.ts");
    assert.ok(problems.length > 0);
    assert.ok(
      problems.some((p) => /transport\/node\.ts:\d+: names node:\* \(entry\.ts > /.test(p)),
      problems.join("\n"),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
