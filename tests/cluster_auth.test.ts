/**
 * Auth on one node of a cluster (a real redis-server): the node a client
 * connects to checks its credentials and ACLs before anything reaches Redis.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Authenticator,
  defaultTransport,
  ErrorCode,
  hashPassword,
  hashToken,
  parseUsersConfig,
  PubSubClient,
  PubSubError,
  ServerError,
  startPubSubServer,
} from "../mod.ts";
import { redisBackplane } from "../src/backplane/redis.ts";
import { drain, settle, startNode, stopNodes } from "./cluster_helpers.ts";
import { RawPeer, subscribed, take } from "./helpers.ts";
import { REDIS_SKIP, RedisServer } from "./redis_server.ts";

async function users(): Promise<Authenticator> {
  return new Authenticator(parseUsersConfig({
    users: [
      {
        user: "alice",
        password: await hashPassword("s3cret", { iterations: 1000 }),
        permissions: { publish: { allow: ["orders/#"], deny: ["orders/secret"] } },
      },
      { user: "probe", token: await hashToken("probe-token") },
    ],
  }));
}

test(
  "auth on one node: a refused client and a denied publish reach no other node, an allowed one does",
  { skip: REDIS_SKIP },
  async () => {
    const redis = await RedisServer.start();
    // Node a has a users file; node b has none (every node should have the same: see CLUSTER.md).
    const server = await startPubSubServer({
      port: 0,
      auth: await users(),
      backplane: redisBackplane({ url: redis.url, cluster: "auth" }),
    });
    const port = server.addr.port;
    const probe = await PubSubClient.connect("127.0.0.1", port, {
      hello: true,
      auth: { token: "probe-token" },
    });
    const a = { server, probe, syncs: await probe.subscribe("sync/#") };
    await probe.flush();
    const b = await startNode(redis, "auth");
    const nodes = [a, b];
    const clients: PubSubClient[] = [];
    let raw: RawPeer | null = null;
    try {
      const reader = await PubSubClient.connect("127.0.0.1", b.server.addr.port);
      clients.push(reader);
      await subscribed(reader, "orders/#");
      await settle(nodes); // b's subscription is known, and a's probe counted in `sent`
      const sent = () => a.server.stats().backplane!.sent;
      const before = sent();

      // A connection that never authenticated: its publish is refused on a.
      raw = new RawPeer(
        await (await defaultTransport()).connect({ hostname: "127.0.0.1", port }),
      );
      const refused = await raw.ask({
        action: "publish",
        topic: "orders/1",
        message: "unauthenticated",
        id: 1,
      });
      assert.equal(refused.code, ErrorCode.AuthRequired);
      // A wrong password: the connection is refused.
      const failed = await PubSubClient.connect("127.0.0.1", port, {
        auth: { user: "alice", password: "wrong" },
        reconnect: false,
      }).catch((error: unknown) => error);
      assert.ok(failed instanceof PubSubError, String(failed));
      assert.equal(failed.code, ErrorCode.AuthFailed);
      assert.equal(sent(), before, "nothing refused was handed to Redis");

      // Alice may publish orders/#, except orders/secret.
      const alice = await PubSubClient.connect("127.0.0.1", port, {
        hello: true,
        auth: { user: "alice", password: "s3cret" },
      });
      clients.push(alice);
      const denied = await alice.publish("orders/secret", "denied", { ack: true })
        .catch((error: unknown) => error);
      assert.ok(denied instanceof ServerError, String(denied));
      assert.equal(denied.code, ErrorCode.Forbidden);
      assert.equal(sent(), before, "the denied publish was stopped before Redis");
      await alice.publish("orders/1", "allowed", { ack: true });
      assert.equal(sent(), before + 1);
      const [got] = await take(reader, 1);
      assert.deepEqual([got.topic, got.message], ["orders/1", "allowed"]);

      await settle(nodes);
      assert.deepEqual(await drain(reader), [], "nothing else reached node b");
      assert.equal(b.server.stats().backplane!.lost, 0);
    } finally {
      raw?.close();
      for (const client of clients) await client.close();
      await stopNodes(nodes);
      await redis.stop();
    }
  },
);
