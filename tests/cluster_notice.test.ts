/**
 * What a clustered server tells its clients about the backplane, in-band:
 * the `backplane` notice frame to connections that said `hello` (never to
 * kn-sock ones), the `backplane` status event of `PubSubClient`, and loss
 * between nodes shown as a gap in `seq`. A real redis-server, stopped and
 * restarted on its port; nothing is mocked at the Redis boundary.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type BackplaneStatus,
  createMemoryTransport,
  defaultTransport,
  type Message,
  PubSubClient,
  type PubSubServer,
  startPubSubServer,
  type StatusEvent,
  SYS_BACKPLANE_TOPIC,
} from "../mod.ts";
import { redisBackplane } from "../src/backplane/redis.ts";
import { type ClusterNode, startNode, stopNodes } from "./cluster_helpers.ts";
import { nextStatus } from "./client_fakes.ts";
import { CaptureIo } from "./cli_helpers.ts";
import { main } from "../src/cli/main.ts";
import { RawPeer, subscribed, take, until } from "./helpers.ts";
import { REDIS_SKIP, RedisServer } from "./redis_server.ts";

const options = { skip: REDIS_SKIP };

/** A raw TCP connection to `server`. */
async function rawPeer(server: PubSubServer): Promise<RawPeer> {
  const transport = await defaultTransport();
  return new RawPeer(await transport.connect({ hostname: "127.0.0.1", port: server.addr.port }));
}

/** The next `backplane` status event of `events`. */
async function nextBackplane(events: AsyncIterator<StatusEvent>): Promise<BackplaneStatus> {
  return (await nextStatus(events, "backplane")).event;
}

/** What a test opened, closed at its end. */
type Closable = { close(): unknown };

/**
 * Runs `body` with a redis-server and one node of the cluster `cluster` on
 * it; closes what `body` put in `opened`, then the node, then Redis.
 */
async function withNode(
  cluster: string,
  body: (node: ClusterNode, redis: RedisServer, opened: Closable[]) => Promise<void>,
): Promise<void> {
  const redis = await RedisServer.start();
  const node = await startNode(redis, cluster);
  const opened: Closable[] = [];
  try {
    await body(node, redis, opened);
  } finally {
    for (const thing of opened) await thing.close();
    await stopNodes([node]);
    await redis.stop();
  }
}

/** The reason a down notice gives: whichever of the two connections broke first. */
const LOST = /^(publish|subscribe) connection lost$/;

test(
  "Redis going away and coming back: hello connections get backplane down and up notices with the counts, kn-sock ones nothing",
  options,
  () =>
    withNode("notice", async ({ server }, redis, opened) => {
      const hello = await rawPeer(server);
      const knSock = await rawPeer(server);
      opened.push(hello, knSock);
      assert.equal((await hello.ask({ action: "hello", id: 1 })).action, "hello");
      // It never says hello; a ping answered proves its subscribe was handled.
      await knSock.sendJson({ action: "subscribe", topic: "after" });
      assert.deepEqual(await knSock.ask({ action: "ping", id: 2 }), { action: "pong", id: 2 });
      const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
      opened.push(client);
      const events = client.status();

      await redis.stop();
      const down = await hello.json();
      assert.match(String(down.reason), LOST);
      const counts = { nodes: 0, unsent: 0, lost: 0, outages: 1, stalls: 0 };
      const reason = down.reason;
      assert.deepEqual(down, { action: "backplane", state: "down", reason, ...counts });
      const downEvent = await nextBackplane(events);
      assert.deepEqual(downEvent, { type: "backplane", state: "down", reason, ...counts });
      // Meant for other nodes, and counted: the up notice says so.
      server.publish("elsewhere", 1);

      await redis.restart();
      const upCounts = { ...counts, unsent: 1 };
      assert.deepEqual(await hello.json(), { action: "backplane", state: "up", ...upCounts });
      const upEvent = await nextBackplane(events);
      assert.deepEqual(upEvent, { type: "backplane", state: "up", ...upCounts });
      // Both notices were queued before this delivery: the kn-sock peer's next line is it.
      server.publish("after", "x");
      assert.deepEqual(await knSock.json(), { topic: "after", message: "x" });
    }),
);

test(
  "loss between nodes shows as a seq gap: a counter gap, then an outage, each skip one number on every topic but $SYS ones",
  options,
  () =>
    withNode("seqgap", async ({ server }, redis, opened) => {
      const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
      opened.push(client);
      await subscribed(client, "x", "y", SYS_BACKPLANE_TOPIC);
      const events = client.status();
      const next = async (): Promise<Message> => (await take(client, 1))[0];
      const seqOf = async (topic: string): Promise<number> => {
        const message = await next();
        assert.equal(message.topic, topic);
        return message.seq!;
      };
      const ghost = (counter: number) =>
        redis.cli(
          "PUBLISH",
          "knsock:seqgap:all",
          JSON.stringify({ o: "ghost", e: 1, c: counter, t: "x", m: counter }),
        );

      // Another "node", straight into Redis: publishes 1 and 2 on x.
      ghost(1);
      ghost(2);
      assert.deepEqual([await seqOf("x"), await seqOf("x")], [1, 2]);
      server.publish("y", "y1");
      assert.equal(await seqOf("y"), 1);
      // Then 6: 3 to 5 never came, and nobody can know their topics.
      ghost(6);
      assert.equal(await seqOf("x"), 4, "x skips 3");
      server.publish("y", "y2");
      assert.equal(await seqOf("y"), 3, "y skips 2: the loss may have been on y");
      server.publish("y", "y3");
      assert.equal(await seqOf("y"), 4, "one loss event, one number skipped");
      assert.equal(server.stats().backplane!.lost, 3);

      // An outage: what other nodes publish meanwhile never arrives here.
      await redis.stop();
      assert.equal((await nextBackplane(events)).state, "down");
      const down = await next();
      assert.equal(down.topic, SYS_BACKPLANE_TOPIC);
      assert.equal(down.seq, 1, "$SYS topics are this node's own: no gap");
      server.publish("y", "y4");
      assert.equal(await seqOf("y"), 6, "y skips 5");
      server.publish("y", "y5");
      assert.equal(await seqOf("y"), 7);

      await redis.restart();
      assert.equal((await nextBackplane(events)).state, "up");
      const up = await next();
      assert.equal(up.topic, SYS_BACKPLANE_TOPIC);
      assert.equal(up.seq, 2);
    }),
);

test(
  "a hello connection over its outbound limit is not harmed by a backplane notice: it gets it once its queue has room",
  options,
  async () => {
    const redis = await RedisServer.start();
    const transport = createMemoryTransport();
    const server = await startPubSubServer({
      port: 0,
      transport,
      limits: { maxOutboundBytes: 64 * 1024 },
      backplane: redisBackplane({ url: redis.url, cluster: "full" }),
    });
    let peer: RawPeer | null = null;
    try {
      peer = new RawPeer(
        await transport.connect({ hostname: "127.0.0.1", port: server.addr.port }),
      );
      assert.equal((await peer.ask({ action: "hello", id: 1 })).action, "hello");
      assert.deepEqual(
        await peer.ask({ action: "subscribe", topic: "feed", policy: "drop-newest", id: 2 }),
        { action: "ok", id: 2 },
      );
      // The peer reads nothing: fill its queue with large messages until one is dropped, then
      // with small ones until one of those is, so that less room is left than a notice needs;
      // again after each turn of the event loop until a turn frees no room (the write in
      // flight waits on the peer: nothing moves any more).
      let published = 0;
      const publishUntilDropped = (payload: string): void => {
        const dropped = server.stats().droppedMessages;
        while (server.stats().droppedMessages === dropped) {
          server.publish("feed", payload);
          published++;
          assert.ok(published < 100_000, "the queue never filled");
        }
      };
      for (let rounds = 0;; rounds++) {
        assert.ok(rounds < 100, "writes to a peer that reads nothing never stopped");
        const before = published;
        publishUntilDropped("x".repeat(1000));
        publishUntilDropped("x");
        if (published === before + 2) break; // each dropped at its first try: nothing moved
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
      }

      await redis.stop();
      await until(() => server.stats().backplane!.state === "down", "the backplane down");
      assert.equal(server.stats().connections, 1, "the full connection was kept");

      // Reading makes room: the deliveries, the slow_consumer notice and the held one arrive.
      let delivered = 0;
      let dropped = 0;
      let notice: Record<string, unknown> | null = null;
      while (notice === null) {
        const frame = await peer.json();
        if (frame.action === undefined) delivered++;
        else if (frame.action === "slow_consumer") dropped += frame.dropped as number;
        else if (frame.action === "backplane") notice = frame;
        else assert.fail(`unexpected frame ${JSON.stringify(frame)}`);
      }
      assert.equal(notice.state, "down");
      assert.equal(notice.outages, 1);
      assert.equal(delivered + dropped, published, "every message delivered or counted dropped");
      assert.equal(server.stats().slowConsumers, 0);

      await redis.restart();
      assert.equal((await peer.json()).state, "up");
      assert.equal(server.stats().connections, 1);
    } finally {
      peer?.close();
      await server.close();
      await redis.stop();
    }
  },
);

test(
  "sub --verbose says on standard error when its server is cut off from the cluster and back",
  options,
  () =>
    withNode("clinotice", async ({ server }, redis) => {
      const io = new CaptureIo();
      const said = (text: string) => () => io.errLines.some((line) => line.includes(text));
      const port = String(server.addr.port);
      const sub = main(["sub", "x", "--verbose", "--count", "1", "--port", port], io);
      await until(said("Subscribed to x"), "the subscription");
      await redis.stop();
      await until(said("Server cut off from its cluster"), "the down line");
      await redis.restart();
      await until(said("Server back in its cluster"), "the up line");
      server.publish("x", "done");
      assert.equal(await sub, 0);
      assert.match(
        io.errText,
        /Server cut off from its cluster \((publish|subscribe) connection lost\): 0 unsent, 0 lost, 1 outages/,
      );
      assert.match(io.errText, /Server back in its cluster: 0 unsent, 0 lost, 1 outages/);
      assert.equal(JSON.parse(io.outLines[0]).message, "done");
    }),
);
