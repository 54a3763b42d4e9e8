/**
 * The seam between one server and the others it acts as one broker with.
 * The router hands each local publish to the backplane after delivering it
 * locally; the backplane hands each publish from another node back to the
 * router as if a local client had sent it, minus re-publishing. Every node
 * filters with its own subscription index, so wildcards and the `$` rule
 * never depend on the carrier.
 *
 * Runtime-free: an adapter (`redisBackplane()` from `@kn-sock/pubsub/redis`)
 * implements it over a library.
 *
 * @module
 */

import type { Logger } from "../logger.ts";
import type { Headers, JsonValue } from "../protocol/frames.ts";

/** A (group, pattern) pair a node has members in. */
export type GroupMembership = readonly [group: string, pattern: string];

/** A backplane's connection state. */
export type BackplaneState = "starting" | "up" | "down" | "closed";

/**
 * What a backplane has counted, from {@linkcode PubSubServer.stats} (its
 * `backplane` field). Loss is never silent: what could not be sent, and
 * what other nodes sent that never arrived, are counted here.
 */
export interface BackplaneStats {
  /** The adapter, for example `"redis"`. */
  kind: string;
  /** The cluster's name: nodes with the same name act as one broker. */
  cluster: string;
  /** This node's id in the cluster (unique while it runs). */
  node: string;
  /** The connection state now. */
  state: BackplaneState;
  /** Other nodes heard from within the node expiry, now. */
  nodes: number;
  /** Publishes sent to the other nodes. */
  sent: number;
  /** Publishes from other nodes routed here. */
  received: number;
  /** Publishes meant for the other nodes that were not sent: the backplane was down. */
  unsent: number;
  /**
   * Publishes from other nodes that never arrived here, found from a gap in
   * their counters (in a later publish or heartbeat of the same node).
   */
  lost: number;
  /** Messages from the backplane that were not valid envelopes (dropped and logged). */
  badEnvelopes: number;
  /** Times the backplane went down after it was up. */
  outages: number;
  /** Times this node's own heartbeat did not come back in time (a stalled subscription). */
  stalls: number;
  /**
   * Queue group publishes this node picked another node for after that
   * node's last heartbeat, when that node then went silent and was taken
   * out: possibly lost (an upper bound; a node that leaves cleanly says so
   * first and counts nothing here).
   */
  pickedGone: number;
}

/** What a backplane reports when its state changes. */
export interface BackplaneEvent {
  /** The new state. */
  state: BackplaneState;
  /** Why, in a few words (for example the connection error). */
  reason?: string;
  /** The counters at the change. */
  stats: BackplaneStats;
}

/** A publish from another node. */
export interface InboundPublish {
  /** The topic it was published to. */
  topic: string;
  /** The message. */
  message: JsonValue;
  /** Its headers, when it has some. */
  headers?: Headers;
  /** Where a responder answers, for a request. */
  reply?: string;
  /** Whether it is the topic's retained message now. */
  retain?: boolean;
  /**
   * The node its publisher picked for each matching queue group, by
   * subscription key: a node delivers to a member of a group only when
   * picked for it.
   */
  picks?: Record<string, string>;
}

/** A retained message, as the cluster keeps it. */
export interface RetainedMessage {
  /** Its topic. */
  topic: string;
  /** The message's JSON text. */
  json: string;
  /** Its headers, if any. */
  headers: Headers | undefined;
}

/** What the server gives its backplane when it starts it. */
export interface BackplaneHost {
  /** Routes a publish from another node to this node's subscribers. */
  route(publish: InboundPublish): void;
  /** Another node announced every (group, pattern) it has members in. */
  groups(node: string, groups: readonly GroupMembership[]): void;
  /**
   * Another node announced the subscription patterns it has subscribers
   * for: all of them (`"all"`), or some that it gained (`"add"`) or lost
   * (`"remove"`).
   */
  interest(node: string, patterns: readonly string[], change: "all" | "add" | "remove"): void;
  /** Every subscription pattern this node has subscribers for (to announce them all). */
  patterns(): string[];
  /** Another node left the cluster, or was not heard from in time: forget its groups and patterns. */
  nodeGone(node: string): void;
  /**
   * Stores retained messages the cluster kept (at start, and when the
   * backplane is back), without delivering them. Returns how many were
   * refused (bad, or past this node's limits).
   */
  restoreRetained(messages: readonly RetainedMessage[]): number;
  /** The retained messages this node holds (to restore a cluster store found empty). */
  retained(): RetainedMessage[];
  /**
   * Publishes of another node were found missing (a gap in its counter):
   * called once per gap found, with how many, so the server shows it to its
   * clients (`seq` skips a number). Going down needs no call: `changed()`
   * says it.
   */
  lost(count: number): void;
  /** Called when the backplane's state changes (down, up again, closed). */
  changed(event: BackplaneEvent): void;
  /** Where the backplane logs. */
  readonly logger: Logger;
  /** The server's id: the node's id unless the backplane was given one. */
  readonly serverId: string;
}

/** A publish for the other nodes. */
export interface OutboundPublish {
  /** The topic it was published to. */
  topic: string;
  /** The message's JSON text. */
  json: string;
  /** Its headers, when it has some. */
  headers?: Headers;
  /** Where a responder answers, for a request. */
  reply?: string;
  /**
   * Whether it is the topic's retained message now (a message of `null` or
   * `""` clears it): the backplane keeps it for nodes that start later.
   */
  retain?: boolean;
  /** The node picked for each matching queue group, by subscription key. */
  picks?: Record<string, string>;
}

/**
 * Carries publishes between the servers of one cluster. Pass one to
 * `startPubSubServer({ backplane })`; the server starts it, and closes it
 * when it closes. One backplane serves one server.
 *
 * @example A server that is one node of the cluster "orders"
 * ```ts ignore
 * import { startPubSubServer } from "@kn-sock/pubsub";
 * import { redisBackplane } from "@kn-sock/pubsub/redis";
 *
 * const server = await startPubSubServer({
 *   port: 4222,
 *   backplane: redisBackplane({ url: "redis://127.0.0.1:6379", cluster: "orders" }),
 * });
 * console.log(server.stats().backplane?.state); // "up"
 * await server.close();
 * ```
 */
export interface Backplane {
  /**
   * Connects and starts carrying publishes; resolves once this node can
   * send and receive. Called once, by the server.
   *
   * @throws {BackplaneError} When the backplane cannot be reached.
   */
  start(host: BackplaneHost): Promise<void>;
  /**
   * Sends a local publish to the other nodes. Never waits, never queues
   * without bound: a publish that cannot be sent now is counted in
   * `unsent`.
   */
  publish(publish: OutboundPublish): void;
  /**
   * Announces every (group, pattern) this node has members in, now and
   * after each reconnection, until the next call.
   */
  setGroups(groups: readonly GroupMembership[]): void;
  /**
   * Announces that this node has subscribers for `pattern` now (`watching`
   * true: its first subscription came) or no longer has (its last went).
   * Every pattern is announced again after each reconnection.
   */
  watch(pattern: string, watching: boolean): void;
  /** Its counters now. */
  stats(): BackplaneStats;
  /** Leaves the cluster and closes its connections. Idempotent. */
  close(): Promise<void>;
}

/** Topics that stay on the node that published them: its own `$SYS/` reports. */
export function isNodeLocal(topic: string): boolean {
  return topic.startsWith("$SYS/");
}
