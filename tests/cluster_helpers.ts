/**
 * Servers acting as one broker through a real redis-server, in this
 * process: each node has a `probe` client subscribed to `sync/#`, and
 * `settle()` proves that every publish made before it has been routed on
 * every node (without waiting on a clock).
 */
import {
  type Message,
  PubSubClient,
  type PubSubServer,
  type PubSubServerOptions,
  startPubSubServer,
  type Subscription,
} from "../mod.ts";
import { redisBackplane, type RedisBackplaneOptions } from "../src/backplane/redis.ts";
import type { RedisServer } from "./redis_server.ts";

/** One server of the cluster, with its probe client. */
export interface ClusterNode {
  server: PubSubServer;
  probe: PubSubClient;
  syncs: Subscription;
}

/** Starts a node on `redis` in the cluster `cluster`. */
export async function startNode(
  redis: RedisServer,
  cluster: string,
  options: PubSubServerOptions = {},
  backplane: RedisBackplaneOptions = {},
): Promise<ClusterNode> {
  const server = await startPubSubServer({
    port: 0,
    ...options,
    backplane: redisBackplane({ url: redis.url, cluster, ...backplane }),
  });
  const probe = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
  const syncs = await probe.subscribe("sync/#");
  await probe.flush();
  return { server, probe, syncs };
}

/** Starts `count` nodes of one cluster. */
export async function startNodes(
  redis: RedisServer,
  cluster: string,
  count: number,
): Promise<ClusterNode[]> {
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await startNode(redis, cluster));
  return nodes;
}

/** Closes the probe clients, then the servers. */
export async function stopNodes(nodes: ClusterNode[]): Promise<void> {
  for (const node of nodes) await node.probe.close();
  await Promise.all(nodes.map((node) => node.server.close()));
}

let syncs = 0;

/**
 * Returns once every publish sent to Redis before the call has been routed
 * on every node: each node in turn publishes a marker that every node must
 * receive. A node's markers follow its earlier publishes through Redis, and
 * each marker is sent only after every node received the one before, so
 * the last one reaches each node after everything published before.
 */
export async function settle(nodes: Pick<ClusterNode, "probe" | "syncs">[]): Promise<void> {
  for (const from of nodes) {
    const topic = `sync/${++syncs}`;
    await from.probe.publish(topic, null);
    for (const node of nodes) {
      for (;;) {
        const message = await node.syncs.next();
        if (message === null) throw new Error("probe subscription ended");
        if (message.topic === topic) break;
      }
    }
  }
}

/**
 * Every message in `client`'s inbox once the server has written all it
 * queued before the call (`flush()` is answered after those deliveries).
 */
export async function drain(client: PubSubClient): Promise<Message[]> {
  await client.flush();
  const messages: Message[] = [];
  for (
    let m = await client.recv({ timeout: 0 });
    m !== null;
    m = await client.recv({ timeout: 0 })
  ) {
    messages.push(m);
  }
  return messages;
}
