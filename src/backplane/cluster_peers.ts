/**
 * What a node hears from the other nodes of its cluster: their publishes
 * (routed here, their counters checked for gaps) and their announcements
 * and heartbeats (their groups, their patterns, who is live), with the
 * counters of what arrived, what was lost and what was bad. Runtime-free:
 * the adapter hands it each message of its subscription and says what it
 * answers through `say`.
 *
 * @module
 */

import type { BackplaneHost } from "./backplane.ts";
import type { ClusterChannels } from "./cluster_channels.ts";
import { ControlKind, decodeControlEnvelope, decodePublishEnvelope } from "./envelope.ts";
import { Origins } from "./origins.ts";
import type { OwnHeartbeat } from "./own_heartbeat.ts";

/** A node out of the cluster is forgotten after this many heartbeats. */
const FORGET_HEARTBEATS = 60;

/** Sends this node's control envelope of `kind` on `channel` (when it can). */
export type Say = (channel: string, kind: ControlKind) => void;

/** Who this node is, and where it answers. */
export interface PeersSettings {
  /** This node's id. */
  node: string;
  /** This node's epoch: its own heartbeats of another epoch are not its. */
  epoch: number;
  /** How often nodes send a heartbeat, in ms. */
  heartbeatMs: number;
  channels: ClusterChannels;
  host: BackplaneHost;
  /** Told when the node's own heartbeat comes back, and of every message. */
  heartbeat: OwnHeartbeat;
  say: Say;
}

/** The other nodes, as this one hears them. */
export class ClusterPeers {
  readonly #settings: PeersSettings;
  readonly #origins: Origins;
  /** Queue group picks of each other node since its last control envelope. */
  readonly #picked = new Map<string, number>();
  /** Publishes from other nodes routed here. */
  received = 0;
  /** Publishes from other nodes that never arrived (counter gaps). */
  lost = 0;
  /** Messages that were not valid envelopes (or could not be routed). */
  badEnvelopes = 0;
  /** Queue group publishes picked for a node that then went silent. */
  pickedGone = 0;

  constructor(settings: PeersSettings) {
    this.#settings = settings;
    const { heartbeatMs } = settings;
    this.#origins = new Origins(3 * heartbeatMs, FORGET_HEARTBEATS * heartbeatMs);
  }

  /** The other nodes heard from within three heartbeats. */
  get live(): number {
    return this.#origins.live;
  }

  /** This node picked other nodes for queue groups (`picks`, by subscription key). */
  picked(picks: Record<string, string>): void {
    const node = this.#settings.node;
    for (const key in picks) {
      const picked = picks[key];
      if (picked !== node) this.#picked.set(picked, (this.#picked.get(picked) ?? 0) + 1);
    }
  }

  /** Takes out the nodes not heard from in time (every heartbeat period). */
  expire(now: number): void {
    const host = this.#settings.host;
    for (const node of this.#origins.expire(now)) {
      const picked = this.#picked.get(node) ?? 0;
      this.#picked.delete(node);
      this.pickedGone += picked;
      host.logger.warn("Cluster node gone: no heartbeat", { node, picked });
      host.nodeGone(node);
    }
  }

  /** A message of the subscription, on `channel`. */
  message(channel: string, text: string): void {
    this.#settings.heartbeat.inbound();
    if (channel === this.#settings.channels.all) this.#publishEnvelope(text);
    else this.#controlEnvelope(text);
  }

  /** Counts and logs a bad envelope (or a bad entry of the retained hash). */
  bad(problem: string): void {
    this.badEnvelopes++;
    this.#settings.host.logger.warn("Bad envelope from Redis dropped", { problem });
  }

  #publishEnvelope(text: string): void {
    const envelope = decodePublishEnvelope(text);
    if (typeof envelope === "string") return this.bad(envelope);
    if (envelope.origin === this.#settings.node) return;
    const lost = this.#origins.publish(
      envelope.origin,
      envelope.epoch,
      envelope.counter,
      Date.now(),
    );
    if (lost < 0) return;
    if (lost > 0) this.#missing(envelope.origin, lost);
    this.received++;
    try {
      this.#settings.host.route(envelope);
    } catch (error) {
      this.bad(`cannot route it (${(error as Error).message})`);
    }
  }

  #controlEnvelope(text: string): void {
    const envelope = decodeControlEnvelope(text);
    if (typeof envelope === "string") return this.bad(envelope);
    const { kind, origin, epoch, counter } = envelope;
    const { host, say } = this.#settings;
    if (origin === this.#settings.node) {
      if (kind === ControlKind.Heartbeat && epoch === this.#settings.epoch) {
        this.#settings.heartbeat.returned();
      }
      return;
    }
    this.#picked.delete(origin);
    const outcome = this.#origins.control(kind, origin, epoch, counter, Date.now());
    if (outcome.lost > 0) this.#missing(origin, outcome.lost);
    if (outcome.joined) host.logger.info("Cluster node joined", { node: origin });
    const direct = this.#settings.channels.node(origin);
    switch (kind) {
      case ControlKind.Join:
        say(direct, ControlKind.Here);
        say(direct, ControlKind.Groups);
        say(direct, ControlKind.Interest);
        return;
      case ControlKind.Groups:
        host.groups(origin, envelope.groups ?? []);
        return;
      case ControlKind.Interest:
        host.interest(origin, envelope.patterns ?? [], "all");
        return;
      case ControlKind.Watch:
        host.interest(origin, envelope.patterns ?? [], "add");
        return;
      case ControlKind.Unwatch:
        host.interest(origin, envelope.patterns ?? [], "remove");
        return;
      case ControlKind.Leave:
        host.nodeGone(origin);
        return;
    }
    // Heard again after it was taken out (or never announced): ask it for its groups.
    if (outcome.joined && kind !== ControlKind.Here) say(direct, ControlKind.Join);
  }

  #missing(node: string, lost: number): void {
    this.lost += lost;
    this.#settings.host.logger.warn("Publishes from a cluster node were lost", { node, lost });
    this.#settings.host.lost(lost);
  }
}
