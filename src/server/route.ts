/**
 * The router's record of one connection: what it is subscribed to, which
 * queue groups it is in, how it wants deliveries, and the last publish it
 * got. The router creates it, keeps it and alone changes it; the session it
 * delivers to knows nothing of it.
 *
 * @module
 */

import type { SlowConsumerPolicy } from "../protocol/frames.ts";

/** Where a route's deliveries go: the outbound side of a session. */
export interface Outlet {
  /** Whether deliveries are still accepted. */
  readonly open: boolean;
  /**
   * Queues a delivery; over the outbound limit the slow-consumer policy
   * decides: `policy`, that of the subscriptions that matched it, or the
   * server's when they have none.
   */
  deliver(bytes: Uint8Array, topic: string, policy?: SlowConsumerPolicy): boolean;
  /** Queues `head` + `body` + `tail` when it fits under the outbound limit. */
  deliverJoined(head: Uint8Array, body: Uint8Array, tail: Uint8Array, topic: string): boolean;
  /** Whether `bytes` more would fit under the outbound limit. */
  hasRoom(bytes: number): boolean;
  /** Sends an error frame (it counts against the outbound limit). */
  sendError(code: string, text: string): void;
  /** Tells the outlet that one of its subscriptions has `policy` (drop-oldest needs preparing). */
  usePolicy(policy: SlowConsumerPolicy): void;
  /** Whether it fell behind and may hold back the publishers that feed it. */
  readonly behind: boolean;
  /** Resolves once it no longer holds publishers back (drained, closed, or held them long enough). */
  drained(): Promise<void>;
  /** As a publisher: waits for `subscriber`, which fell behind, before reading more. */
  holdFor(subscriber: Outlet): void;
}

/** One connection's routing state, owned by the router. */
export class Route {
  /** Where its deliveries go. */
  readonly out: Outlet;
  /** Its plain subscriptions' patterns. */
  readonly subscriptions: Set<string> = new Set();
  /** Its queue-group subscriptions, as subscription keys; `null` until the first. */
  groups: Set<string> | null = null;
  /** Its plain subscriptions' own slow-consumer policies, by pattern; `null` until the first. */
  policies: Map<string, SlowConsumerPolicy> | null = null;
  /** The policy of the publish being routed, while the router holds its delivery back. */
  policy: SlowConsumerPolicy | undefined = undefined;
  /** The stamp of the last publish delivered to it: a connection gets each publish once. */
  stamp = 0;
  /** Whether it gets extended deliveries (`seq`, `headers`, `reply`): it said `hello`. */
  extended = false;
  /** Whether its own publishes come back to it. */
  echo = true;
  /**
   * Its private inbox prefix, `_inbox/<connection id>`: with private inboxes
   * on (auth on), topics under another connection's prefix never reach it.
   */
  readonly inbox: string;

  /**
   * @param out Where its deliveries go.
   * @param inbox Its private inbox prefix.
   */
  constructor(out: Outlet, inbox: string) {
    this.out = out;
    this.inbox = inbox;
  }

  /** How many subscriptions it has, plain and in groups. */
  get size(): number {
    return this.subscriptions.size + (this.groups?.size ?? 0);
  }
}
