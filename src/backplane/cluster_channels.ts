/**
 * The Redis names of one cluster: its channels and its retained hash.
 * Pure; see `docs/CLUSTER.md` ("Channels").
 *
 * @module
 */

/** The channel names of one cluster. */
export interface ClusterChannels {
  /** Every publish; every node subscribes. */
  all: string;
  /** Announcements and heartbeats. */
  control: string;
  /** What is for node `node` alone. */
  node(node: string): string;
  /** The hash of retained messages (a key, not a channel): topic to `{"m":…,"h":…}`. */
  retained: string;
}

/**
 * The channels of the cluster `cluster`.
 *
 * @example
 * ```ts ignore
 * import { clusterChannels } from "@kn-sock/pubsub/redis";
 *
 * console.log(clusterChannels("orders").all); // "knsock:orders:all"
 * ```
 */
export function clusterChannels(cluster: string): ClusterChannels {
  const prefix = `knsock:${cluster}:`;
  return {
    all: `${prefix}all`,
    control: `${prefix}control`,
    node: (node) => `${prefix}node:${node}`,
    retained: `${prefix}retained`,
  };
}
