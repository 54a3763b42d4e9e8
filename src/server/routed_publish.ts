/**
 * The publish the router is handing out: its state while subscribers are
 * visited, kept in one reusable object so that visiting allocates nothing;
 * and the publishes made while it is routed (by a logger that publishes),
 * which wait to be routed right after it.
 *
 * @module
 */

import { DeliveryEncoder } from "../protocol/delivery_encoder.ts";
import type { Headers, JsonValue } from "../protocol/frames.ts";
import type { Route } from "./route.ts";

/** The optional parts of a publish: the publish frame itself, or `server.publish()`'s options. */
export interface PublishExtras {
  headers?: Headers;
  reply?: string;
  retain?: boolean;
}

/** A publish without extras. */
export const NO_EXTRAS: PublishExtras = {};

/** A refusal: an error code and its sentence. */
export type Refusal = [code: string, text: string];

/** Publishes made while others are routed that wait at most; more are dropped and counted. */
export const MAX_LATER_PUBLISHES = 1024;

/** A publish made while another was routed, waiting to be routed. */
export interface LaterPublish {
  topic: string;
  message: JsonValue;
  json: Uint8Array | null;
  from: Route | null;
  extras: PublishExtras;
  /** Whether it came from another node (through the backplane). */
  remote: boolean;
  /** A remote publish's queue group picks (see `ClusterGroups`). */
  picks: Record<string, string> | null;
}

/** One publish being routed. */
export class RoutedPublish {
  /** Encodes this publish's deliveries, in buffers of its own. */
  readonly deliveries: DeliveryEncoder;
  /** Marks the routes that have this publish: a connection gets it once. */
  stamp = 0;
  topic = "";
  message: JsonValue = null;
  extras: PublishExtras = NO_EXTRAS;
  /** The message's own JSON bytes when they are pure ASCII, else `null`. */
  json: Uint8Array | null = null;
  from: Route | null = null;
  /** Whether it came from another node (through the backplane): it is not sent back out. */
  remote = false;
  /**
   * In a cluster, the node picked for each matching queue group (by
   * subscription key): this node delivers to a group only when picked.
   * `null` on a single node.
   */
  picks: Record<string, string> | null = null;
  retainRefusal: Refusal | null = null;
  /** The `seq` this publish took on its topic; 0 until one is needed. */
  seq = 0;
  /** The kn-sock-shaped delivery, once encoded. */
  plain: Uint8Array | null = null;
  /** Whether the direct delivery was tried already (see the router's `#direct()`). */
  directDone = false;
  /** The delivery for clients that said `hello`, once encoded. */
  extended: Uint8Array | null = null;
  matched = 0;
  /** The private inbox prefix its topic is under, when inboxes are private; else `null`. */
  inbox: string | null = null;

  /** @param maxPrefixBytes The byte budget of its encoder's prefix cache. */
  constructor(maxPrefixBytes?: number) {
    this.deliveries = new DeliveryEncoder(maxPrefixBytes);
  }
  delivered = 0;
  /**
   * Routes with policies of their own that this publish matched: delivered
   * once every subscription was visited, with the strongest matching policy.
   */
  readonly held: Route[] = [];

  /** Starts routing a publish. */
  start(
    stamp: number,
    topic: string,
    message: JsonValue,
    json: Uint8Array | null,
    from: Route | null,
    extras: PublishExtras,
    remote: boolean,
  ): void {
    this.stamp = stamp;
    this.remote = remote;
    this.picks = null;
    this.topic = topic;
    this.message = message;
    this.json = json;
    this.from = from;
    this.extras = extras;
    this.seq = 0;
    this.plain = null;
    this.directDone = false;
    this.extended = null;
    this.matched = 0;
    this.delivered = 0;
    this.retainRefusal = null;
    if (this.held.length !== 0) this.held.length = 0;
  }

  /** Lets go of the message and its bytes: they may be large. */
  end(): void {
    this.message = null;
    this.json = null;
    this.from = null;
    this.picks = null;
    this.extras = NO_EXTRAS;
    this.plain = null;
    this.extended = null;
    if (this.held.length !== 0) this.held.length = 0;
  }
}
