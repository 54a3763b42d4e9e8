/**
 * A server's part in a cluster: its backplane, the cluster's queue groups
 * and subscription patterns as this node knows them, and the two links
 * between them and the server (the router's `ClusterLink`, the backplane's
 * `BackplaneHost`). See `docs/CLUSTER.md`.
 *
 * @module
 */

import type {
  Backplane,
  BackplaneEvent,
  BackplaneHost,
  InboundPublish,
  RetainedMessage,
} from "../backplane/backplane.ts";
import type { Logger } from "../logger.ts";
import { encodeLine } from "../protocol/codec.ts";
import type { JsonValue } from "../protocol/frames.ts";
import { ClusterGroups } from "./cluster_groups.ts";
import { ClusterInterest } from "./cluster_interest.ts";
import type { PublishExtras } from "./routed_publish.ts";
import type { ClusterLink, Router } from "./router.ts";
import type { ClusterStats } from "./stats.ts";

/** The topic where a server with a backplane says when it goes down and comes back. */
export const SYS_BACKPLANE_TOPIC = "$SYS/backplane";

/** Decodes the ASCII JSON bytes of a publish for the backplane. */
const asciiText = new TextDecoder();

/** What a cluster node needs of its server. */
export interface ClusterServer {
  readonly serverId: string;
  readonly logger: Logger;
  readonly router: Router;
  /** Whether the server is closing. */
  readonly closing: boolean;
  /** Throws a `TypeError` for a topic or message a publish may not have. */
  checkPublish(topic: string, message: JsonValue): void;
  /**
   * Queues the notice `frame` (one encoded line) to every connection that
   * said `hello`, under its outbound limit (see `Session.notice()`); a
   * kn-sock client, which would not understand it, never gets it.
   */
  noticeGreeted(frame: Uint8Array): void;
}

/**
 * The `backplane` notice of a state change, for connections that said
 * `hello`: `{"action": "backplane", "state": "down", "reason": R, "nodes": N,
 * "unsent": N, "lost": N, "outages": N, "stalls": N}` (`reason` when down).
 */
export function encodeBackplaneNotice(event: BackplaneEvent): Uint8Array {
  const { state, reason, stats } = event;
  return encodeLine({
    action: "backplane",
    state,
    ...(reason === undefined ? {} : { reason }),
    nodes: stats.nodes,
    unsent: stats.unsent,
    lost: stats.lost,
    outages: stats.outages,
    stalls: stats.stalls,
  });
}

/** One server as a node of a cluster. */
export class ClusterNode {
  readonly #backplane: Backplane;
  readonly #server: ClusterServer;
  readonly #groups = new ClusterGroups();
  readonly #interest = new ClusterInterest();
  #groupMisses = 0;

  /**
   * Links the server's router to the backplane at once: a publish the
   * backplane cannot send yet (before `start()`) is counted.
   */
  constructor(backplane: Backplane, server: ClusterServer) {
    this.#backplane = backplane;
    this.#server = server;
    server.router.cluster = this.#link();
  }

  /** Starts the backplane: publishes from other nodes are routed here from now on. */
  start(): Promise<void> {
    return this.#backplane.start(this.#host());
  }

  /** The backplane's counters and the node's own. */
  stats(): ClusterStats {
    return {
      ...this.#backplane.stats(),
      groupMisses: this.#groupMisses,
      groupNodes: this.#groups.nodeCount,
      remotePatterns: this.#interest.remoteCount,
    };
  }

  /** The server starts closing: out of the cluster's queue groups first, so others stop picking it. */
  leaving(): void {
    this.#backplane.setGroups([]);
  }

  /** Leaves the cluster. */
  close(): Promise<void> {
    return this.#backplane.close();
  }

  #link(): ClusterLink {
    const backplane = this.#backplane;
    const groups = this.#groups;
    const interest = this.#interest;
    const server = this.#server;
    const router = server.router;
    const node = server.serverId;
    return {
      node,
      pick: (topic) => groups.pick(topic),
      forward: (topic, message, json, extras, picks) =>
        backplane.publish({
          topic,
          json: json !== null ? asciiText.decode(json) : JSON.stringify(message),
          headers: extras.headers,
          reply: extras.reply,
          // A retain refused here is not kept for the cluster either.
          retain: extras.retain === true && router.retainRefusal === null,
          picks: picks ?? undefined,
        }),
      groupsChanged: () => {
        // Closing: the cluster was told this node has none left.
        if (server.closing) return;
        const mine = router.queueGroups();
        groups.set(node, mine);
        backplane.setGroups(mine);
      },
      interest: (pattern, change) => {
        // Closing: the others forget this node's patterns when it leaves.
        if (interest.local(pattern, change) && !server.closing) {
          backplane.watch(pattern, change === 1);
        }
      },
      remoteInterest: (topic) => interest.hasRemote(topic),
    };
  }

  #host(): BackplaneHost {
    const groups = this.#groups;
    const interest = this.#interest;
    const server = this.#server;
    return {
      logger: server.logger,
      serverId: server.serverId,
      route: (publish) => this.#route(publish),
      groups: (node, list) => groups.set(node, list),
      interest: (node, patterns, change) => interest.update(node, patterns, change),
      patterns: () => interest.mine(),
      nodeGone: (node) => {
        groups.remove(node);
        interest.remove(node);
      },
      restoreRetained: (messages) => this.#restoreRetained(messages),
      retained: () => server.router.retainedMessages(),
      lost: () => server.router.lossDetected(),
      changed: (event) => this.#changed(event),
    };
  }

  /**
   * A publish from another node: checked as `server.publish()` checks one
   * (a bad one throws, and the backplane counts it), then routed here only.
   */
  #route(publish: InboundPublish): void {
    const server = this.#server;
    const { topic, message, headers, reply, retain, picks } = publish;
    if (picks !== undefined) {
      for (const key in picks) {
        if (picks[key] !== server.serverId) continue;
        if (server.closing || !server.router.hasQueueGroup(key)) this.#groupMisses++;
      }
    }
    if (server.closing) return;
    server.checkPublish(topic, message);
    const extras: PublishExtras = { headers, reply, retain };
    const refusal = server.router.publishRemote(topic, message, extras, picks);
    if (refusal !== null) {
      server.logger.warn("Retained message from another node refused", {
        topic,
        error: refusal[1],
      });
    }
  }

  /** Stores the cluster's retained messages here; returns how many were refused. */
  #restoreRetained(messages: readonly RetainedMessage[]): number {
    const server = this.#server;
    let refused = 0;
    for (const { topic, json, headers } of messages) {
      let problem: string | null;
      try {
        const message = JSON.parse(json) as JsonValue;
        server.checkPublish(topic, message);
        problem = server.router.restoreRetained(topic, message, headers);
      } catch (error) {
        problem = (error as Error).message;
      }
      if (problem !== null) {
        refused++;
        server.logger.warn("Retained message from the cluster refused", { topic, error: problem });
      }
    }
    return refused;
  }

  /**
   * Logs the backplane going down or up, tells `$SYS/backplane`'s
   * subscribers, and sends the `backplane` notice to every connection that
   * said `hello`.
   */
  #changed(event: BackplaneEvent): void {
    const server = this.#server;
    const { state, reason, stats } = event;
    if (state === "down") server.logger.warn("Backplane down", { reason, ...stats });
    else server.logger.info(`Backplane ${state}`, { ...stats });
    if (server.closing) return;
    // What other nodes publish while cut off never arrives: clients see a gap in `seq`.
    if (state === "down") server.router.lossDetected();
    const notice: Record<string, JsonValue> = { ...stats };
    if (reason !== undefined) notice.reason = reason;
    server.router.publish(SYS_BACKPLANE_TOPIC, notice, null, null, {});
    if (state === "down" || state === "up") server.noticeGreeted(encodeBackplaneNotice(event));
  }
}
