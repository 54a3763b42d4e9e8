/**
 * Several servers that act as one broker, through Redis: the Redis
 * backplane. Import it from `@kn-sock/pubsub/redis` (it needs the `ioredis`
 * package; single-node servers never load it).
 *
 * Channels, for the cluster `C`: `knsock:C:all` carries every publish and
 * every node SUBSCRIBEs to it (plain SUBSCRIBE: each node filters with its
 * own subscription index, so `+`, `#` and the `$` rule stay exact);
 * `knsock:C:control` carries announcements and heartbeats;
 * `knsock:C:node:N` carries what is for node `N` alone (answers to its
 * announcement). See `docs/CLUSTER.md`.
 *
 * @example Two nodes of one cluster
 * ```ts ignore
 * import { startPubSubServer } from "@kn-sock/pubsub";
 * import { redisBackplane } from "@kn-sock/pubsub/redis";
 *
 * const url = "redis://127.0.0.1:6379";
 * const a = await startPubSubServer({ port: 4222, backplane: redisBackplane({ url }) });
 * const b = await startPubSubServer({ port: 4223, backplane: redisBackplane({ url }) });
 * // A client of b gets what a client of a publishes.
 * await a.close();
 * await b.close();
 * ```
 *
 * @module
 */

import type { Backplane } from "./backplane.ts";
import { RedisBackplane, type RedisBackplaneSettings } from "./redis_backplane.ts";

export { type ClusterChannels, clusterChannels } from "./cluster_channels.ts";

/** Options of {@linkcode redisBackplane}. */
export interface RedisBackplaneOptions {
  /**
   * The Redis server, as a `redis://` URL (`rediss://` for TLS), with user
   * and password when it needs them: `redis://user:pass@host:6379/0`.
   * Default `"redis://127.0.0.1:6379"`.
   */
  url?: string;
  /** The cluster's name: servers with the same name act as one broker. Default `"default"`. */
  cluster?: string;
  /**
   * How often the node sends a heartbeat, in ms. A node not heard from is
   * out of the cluster within three heartbeats of the last one heard (two
   * to three); a node whose own heartbeat does
   * not come back within two, while its subscription delivers nothing at
   * all, reconnects that subscription (it is stuck). Default 1000.
   */
  heartbeatMs?: number;
  /** How long connecting to Redis may take at start, in ms. Default 5000. */
  connectTimeoutMs?: number;
}

/** The default Redis URL. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

function checkOptions(options: RedisBackplaneOptions): RedisBackplaneSettings {
  const url = options.url ?? DEFAULT_REDIS_URL;
  if (!/^rediss?:\/\//.test(url)) {
    throw new TypeError(`Redis URL must start with redis:// or rediss://, got "${url}"`);
  }
  const cluster = options.cluster ?? "default";
  if (!/^[\w.-]{1,100}$/.test(cluster)) {
    throw new TypeError(
      `Cluster name must be 1 to 100 letters, digits, '_', '.' or '-', got "${cluster}"`,
    );
  }
  for (const name of ["heartbeatMs", "connectTimeoutMs"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 10 || value > 600_000)) {
      throw new RangeError(`${name} must be an integer from 10 to 600000, got ${value}`);
    }
  }
  return {
    url,
    cluster,
    heartbeatMs: options.heartbeatMs ?? 1000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
  };
}

/**
 * A backplane over Redis, for `startPubSubServer({ backplane })`: servers
 * started with the same Redis and cluster name act as one broker. Each
 * publish goes once through Redis (one channel every node subscribes to);
 * each node delivers it to its own subscribers. Loss is counted, never
 * silent: see {@linkcode BackplaneStats}.
 *
 * @example One node of the cluster "orders"
 * ```ts ignore
 * import { startPubSubServer } from "@kn-sock/pubsub";
 * import { redisBackplane } from "@kn-sock/pubsub/redis";
 *
 * const server = await startPubSubServer({
 *   port: 4222,
 *   backplane: redisBackplane({ url: "redis://127.0.0.1:6379", cluster: "orders" }),
 * });
 * console.log(server.stats().backplane?.nodes); // the other nodes heard from
 * await server.close();
 * ```
 *
 * @param options The Redis URL, the cluster's name, the heartbeat period.
 * @returns A backplane to pass to one server.
 * @throws {TypeError} For a URL that is not `redis://` or `rediss://`, or a bad name.
 * @throws {RangeError} For a heartbeat or timeout out of range.
 */
export function redisBackplane(options: RedisBackplaneOptions = {}): Backplane {
  return new RedisBackplane(checkOptions(options));
}
