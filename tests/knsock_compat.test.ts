/**
 * Wire compatibility with kn-sock, proven with a Python peer written from
 * the protocol description (tests/fixtures/knsock_peer.py): a kn-sock client
 * against our server, and our client against a kn-sock server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { Child } from "./child_process.ts";
import { settle, startNodes, stopNodes } from "./cluster_helpers.ts";
import { assertCleanExit, subscribed, subscribedOnKnSock, take } from "./helpers.ts";
import { REDIS_SKIP, RedisServer } from "./redis_server.ts";

const PEER = "tests/fixtures/knsock_peer.py";

async function pythonClient(port: number): Promise<Child> {
  const child = new Child("python3", [PEER, "client", "127.0.0.1", String(port)]);
  assert.deepEqual(await child.json(), { ok: true, connected: true });
  return child;
}

/** Subscribes the Python client and waits until the server routes to it. */
async function pythonSubscribed(child: Child, topic: string): Promise<void> {
  await child.ask({ op: "subscribe", topic });
  await child.ask({ op: "publish", topic, message: "__ready__" });
  assert.deepEqual(await child.ask({ op: "recv", timeout: 30 }), {
    recv: { topic, message: "__ready__" },
  });
}

test("kn-sock compat: a kn-sock client subscribes, publishes and receives through our server", async () => {
  const server = await startPubSubServer({ port: 0 });
  const py = await pythonClient(server.addr.port);
  const ts = await PubSubClient.connect("127.0.0.1", server.addr.port);
  try {
    await pythonSubscribed(py, "news/technology");
    // Our client publishes, the kn-sock client receives.
    await ts.publish("news/technology", "New AI breakthrough announced!");
    assert.deepEqual(await py.ask({ op: "recv", timeout: 30 }), {
      recv: { topic: "news/technology", message: "New AI breakthrough announced!" },
    });
    // A JSON payload as kn-sock's documentation sends it, and non-ASCII text.
    const order = JSON.stringify({ event: "order_created", order_id: "ORD-789", amount: 99.99 });
    await ts.publish("news/technology", order);
    await ts.publish("news/technology", "café ☕ 𝄞");
    assert.deepEqual(await py.ask({ op: "recv", timeout: 30 }), {
      recv: { topic: "news/technology", message: order },
    });
    assert.deepEqual(await py.ask({ op: "recv", timeout: 30 }), {
      recv: { topic: "news/technology", message: "café ☕ 𝄞" },
    });
    // The kn-sock client publishes, ours receives.
    await subscribed(ts, "alerts/system");
    await py.ask({
      op: "publish",
      topic: "alerts/system",
      message: "Server maintenance scheduled",
    });
    assert.deepEqual(await ts.recv(), {
      topic: "alerts/system",
      message: "Server maintenance scheduled",
    });
    // recv(timeout) gives None when nothing comes; unsubscribe works.
    assert.deepEqual(await py.ask({ op: "recv", timeout: 0.01 }), { recv: null });
    await py.ask({ op: "unsubscribe", topic: "news/technology" });
    await pythonSubscribed(py, "barrier");
    await ts.publish("news/technology", "not for python");
    await ts.publish("barrier", "after");
    assert.deepEqual(await py.ask({ op: "recv", timeout: 30 }), {
      recv: { topic: "barrier", message: "after" },
    });
    await py.ask({ op: "close" });
  } finally {
    await py.stop();
    await ts.close();
    await server.close();
  }
});

test(
  "kn-sock compat: a kn-sock client on one cluster node gets what a client of another node publishes",
  { skip: REDIS_SKIP },
  async () => {
    const redis = await RedisServer.start();
    const nodes = await startNodes(redis, "knsock", 2);
    const [a, b] = nodes;
    const py = await pythonClient(b.server.addr.port);
    const ts = await PubSubClient.connect("127.0.0.1", a.server.addr.port);
    try {
      await pythonSubscribed(py, "news/technology");
      await ts.publish("news/technology", "from node a");
      await ts.publish("news/technology", { structured: ["json", 1, null] });
      assert.deepEqual(await py.ask({ op: "recv", timeout: 30 }), {
        recv: { topic: "news/technology", message: "from node a" },
      });
      assert.deepEqual(await py.ask({ op: "recv", timeout: 30 }), {
        recv: { topic: "news/technology", message: { structured: ["json", 1, null] } },
      });
      // And the other way: the kn-sock client publishes on b, our client on a receives.
      await subscribed(ts, "alerts/system");
      await py.ask({ op: "publish", topic: "alerts/system", message: "from python on b" });
      assert.deepEqual((await take(ts, 1))[0], {
        topic: "alerts/system",
        message: "from python on b",
      });
      await settle(nodes);
      assert.equal(a.server.stats().backplane!.lost + b.server.stats().backplane!.lost, 0);
      await py.ask({ op: "close" });
    } finally {
      await py.stop();
      await ts.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);

test("kn-sock compat: our client works against a kn-sock server", async () => {
  const server = new Child("python3", [PEER, "server"]);
  try {
    const { listening } = await server.json();
    const port = listening as number;
    const ts = await PubSubClient.connect("127.0.0.1", port);
    const py = await pythonClient(port);
    try {
      // A kn-sock server answers no ping: flush({ viaTopic: true }) is a marker round trip.
      await subscribedOnKnSock(ts, "news/sports");
      await py.ask({ op: "publish", topic: "news/sports", message: "Championship game tonight" });
      assert.deepEqual(await ts.recv(), {
        topic: "news/sports",
        message: "Championship game tonight",
      });
      await ts.publish("news/sports", { structured: ["json", 1, null] });
      assert.deepEqual(await ts.recv(), {
        topic: "news/sports",
        message: { structured: ["json", 1, null] },
      });
      await pythonSubscribed(py, "orders/created");
      await ts.publish("orders/created", "ünïcödé");
      assert.deepEqual(await py.ask({ op: "recv", timeout: 30 }), {
        recv: { topic: "orders/created", message: "ünïcödé" },
      });
      assert.equal(await ts.recv({ timeout: 1 }), null);
      await py.ask({ op: "close" });
    } finally {
      await py.stop();
      await ts.close();
    }
  } finally {
    await server.stop();
  }
});

test("kn-sock compat: `npm start`'s server serves a kn-sock client", async () => {
  const scripts = JSON.parse(readFileSync("package.json", "utf8")).scripts as Record<
    string,
    string
  >;
  const [tool, ...args] = scripts.start.split(/\s+/);
  assert.equal(tool, "deno");
  const server = new Child("node_modules/.bin/deno", [...args, "--port", "0", "--ws-port", "0"], {
    NO_COLOR: "1",
  });
  try {
    const banner = await server.line();
    const match = /listening on 127\.0\.0\.1:(\d+)/.exec(banner ?? "");
    assert.ok(match, `unexpected banner ${banner}; stderr: ${server.stderr}`);
    const py = await pythonClient(Number(match[1]));
    try {
      await pythonSubscribed(py, "news/technology");
      await py.ask({ op: "publish", topic: "news/technology", message: "through npm start" });
      assert.deepEqual(await py.ask({ op: "recv", timeout: 30 }), {
        recv: { topic: "news/technology", message: "through npm start" },
      });
      await py.ask({ op: "close" });
    } finally {
      await py.stop();
    }
  } finally {
    await server.stop("SIGINT");
  }
  assertCleanExit(server);
});
