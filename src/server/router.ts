/**
 * Routing: subscriptions (plain and queue groups), publishes to matching
 * subscribers, sequence numbers and retained messages.
 *
 * A publish is encoded at most twice, whatever the fan-out: once in
 * kn-sock's shape for clients that never said `hello`, once with `seq`,
 * `headers` and `reply` for those that did. Each connection gets each
 * publish once however many of its patterns match.
 *
 * @module
 */

import { type GroupMembership, isNodeLocal, type RetainedMessage } from "../backplane/backplane.ts";
import { ErrorCode } from "../errors.ts";
import type { ServerLimits } from "../limits.ts";
import { DELIVERY_END, extraMembers } from "../protocol/delivery_encoder.ts";
import type { Headers, JsonValue, SlowConsumerPolicy } from "../protocol/frames.ts";
import { SubscriptionIndex } from "../topic/subscription_index.ts";
import { subscriptionKey } from "../topic/subscription_key.ts";
import { RetainedStore } from "./retained_store.ts";
import { type Outlet, Route } from "./route.ts";
import {
  type LaterPublish,
  MAX_LATER_PUBLISHES,
  type PublishExtras,
  type Refusal,
  RoutedPublish,
} from "./routed_publish.ts";
import { strongerPolicy } from "./slow_consumer.ts";
import type { ServerCounters } from "./stats.ts";
import { inboxOf, inboxPrefix } from "./private_inbox.ts";
import { SeqTable } from "./seq_table.ts";
import { COLLECTION_BYTES, ENTRY_BYTES, OBJECT_BYTES, stringBytes } from "../_memory_cost.ts";

/** The prefix cache of the publishes a logger makes while another is routed (rare): kept small. */
const LATER_PREFIX_BYTES = 64 * 1024;

/** Members sharing one (group, pattern) subscription; each message goes to one of them. */
class QueueGroup {
  readonly key: string;
  readonly group: string;
  readonly pattern: string;
  readonly members: Route[] = [];
  /** The members' own slow-consumer policies for this subscription; `null` until the first. */
  policies: Map<Route, SlowConsumerPolicy> | null = null;
  next = 0;

  constructor(key: string, group: string, pattern: string) {
    this.key = key;
    this.group = group;
    this.pattern = pattern;
  }

  /** Sets (or, with `undefined`, clears) `member`'s own policy for this subscription. */
  setPolicy(member: Route, policy: SlowConsumerPolicy | undefined): void {
    if (policy !== undefined) (this.policies ??= new Map()).set(member, policy);
    else this.policies?.delete(member);
  }
}

type Subscriber = Route | QueueGroup;

/**
 * What one subscription costs outside the index: its entry in the
 * connection's set, its slow-consumer policy entry, and the text of its key
 * (the pattern, or the group's subscription key).
 */
function recordBytes(key: string): number {
  return 2 * ENTRY_BYTES + stringBytes(key);
}

/** What a queue group costs: the object, its members array, its entry in the groups map. */
const GROUP_BYTES = OBJECT_BYTES + COLLECTION_BYTES + ENTRY_BYTES;

/** How the router takes part in a cluster (the server's backplane). */
export interface ClusterLink {
  /** This node's id, as queue group picks name it. */
  readonly node: string;
  /** The node whose turn it is in each queue group matching `topic`, or `null`. */
  pick(topic: string): Record<string, string> | null;
  /**
   * Hands a local publish to the other nodes, after it was routed here,
   * with its queue group picks. `json` is valid only during the call.
   */
  forward(
    topic: string,
    message: JsonValue,
    json: Uint8Array | null,
    extras: PublishExtras,
    picks: Record<string, string> | null,
  ): void;
  /** This node's queue groups changed: one was created, or lost its last member. */
  groupsChanged(): void;
  /** A subscription to `pattern` was added (`1`) or removed (`-1`) here. */
  interest(pattern: string, change: 1 | -1): void;
  /** Whether a subscriber on another node may match `topic` (for `no_responders`). */
  remoteInterest(topic: string): boolean;
}

/** The picks of a remote publish that names none: this node delivers to no group. */
const NO_PICKS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The server's routing table and publish path. */
export class Router {
  readonly #limits: ServerLimits;
  readonly #counters: ServerCounters;
  readonly #index = new SubscriptionIndex<Subscriber>();
  readonly #groups = new Map<string, QueueGroup>();
  readonly #retained: RetainedStore;
  readonly #seqs: SeqTable;
  /** Bytes of subscriptions kept outside the index (see `recordBytes()`). */
  #recordBytes = 0;
  /** The publish being routed. */
  #p: RoutedPublish;
  /** Whether a publish is being routed. */
  #routing = false;
  /** Publishes made while another was routed, routed right after it (see `publish()`). */
  readonly #later: LaterPublish[] = [];
  /** The state the later publishes are routed with, so `#p` keeps the first one's outcome. */
  #laterState: RoutedPublish | null = null;
  /** The last stamp handed out: each publish gets a new one, nested or not. */
  #lastStamp = 0;
  /** The cluster this node is part of; `null` on a single node. */
  cluster: ClusterLink | null = null;
  readonly #visit = (subscriber: Subscriber, pattern: string): void => {
    this.#p.matched++;
    if (subscriber instanceof QueueGroup) this.#toGroup(subscriber);
    else this.#toRoute(subscriber, pattern);
  };

  /** Whether topics under `_inbox/<id>` reach connection `id` only. */
  readonly #privateInboxes: boolean;

  /**
   * @param limits The server's limits.
   * @param counters The server's counters.
   * @param privateInboxes Whether topics under `_inbox/<id>` reach connection `id` only (auth on).
   */
  constructor(limits: ServerLimits, counters: ServerCounters, privateInboxes = false) {
    this.#limits = limits;
    this.#counters = counters;
    this.#privateInboxes = privateInboxes;
    this.#retained = new RetainedStore(limits.maxRetainedMessages, limits.maxRetainedBytes);
    this.#p = new RoutedPublish(limits.maxPrefixCacheBytes);
    this.#seqs = new SeqTable(limits.maxSeqTableBytes);
  }

  /** (pattern, subscriber) pairs; a queue group counts once. */
  get subscriptionCount(): number {
    return this.#index.size;
  }

  /** Patterns with at least one subscriber. */
  get patternCount(): number {
    return this.#index.topicCount;
  }

  /**
   * An estimate of the memory subscriptions hold, in bytes, counted against
   * `maxSubscriptionBytes`: the index and each connection's records.
   */
  get subscriptionBytes(): number {
    return this.#index.bytes + this.#recordBytes;
  }

  /** Retained messages held. */
  get retainedCount(): number {
    return this.#retained.size;
  }

  /** Bytes of retained messages held. */
  get retainedBytes(): number {
    return this.#retained.bytes;
  }

  /**
   * Who a publish to `topic` would reach now: the connections with a
   * matching plain subscription (each once), and the matching queue groups
   * (one member each). For monitoring: never on the publish path.
   */
  reach(topic: string): { connections: number; groups: number } {
    const routes = new Set<Route>();
    let groups = 0;
    this.#index.match(topic, (subscriber) => {
      if (subscriber instanceof QueueGroup) groups++;
      else routes.add(subscriber);
    });
    return { connections: routes.size, groups };
  }

  /** Every (group, pattern) this node has members in. */
  queueGroups(): GroupMembership[] {
    return Array.from(this.#groups.values(), (queue) => [queue.group, queue.pattern] as const);
  }

  /** Whether this node has members in the queue group of subscription key `key`. */
  hasQueueGroup(key: string): boolean {
    return this.#groups.has(key);
  }

  /** The pattern of each queue group, one entry per group (for monitoring). */
  queueGroupPatterns(): string[] {
    return Array.from(this.#groups.values(), (group) => group.pattern);
  }

  /**
   * Starts routing to `out` (connection `id`): the returned route is the
   * connection's handle on the router.
   */
  attach(out: Outlet, id: number): Route {
    return new Route(out, inboxPrefix(id));
  }

  /** Marks `route` as having said `hello`: extended deliveries, and its own publishes unless `echo` is `false`. */
  greet(route: Route, echo: boolean): void {
    route.extended = true;
    route.echo = echo;
  }

  /**
   * Subscribes `route` to `pattern` (in `group` when given, with its own
   * slow-consumer `policy` when given) and sends it the matching retained
   * messages (plain subscriptions only, as in MQTT).
   * Returns a refusal, or `null`.
   */
  subscribe(
    route: Route,
    pattern: string,
    group: string | undefined,
    policy?: SlowConsumerPolicy,
  ): Refusal | null {
    const key = subscriptionKey(pattern, group);
    const has = group === undefined
      ? route.subscriptions.has(pattern)
      : route.groups?.has(key) === true;
    if (has) {
      if (group === undefined) this.#setPolicy(route, pattern, policy);
      else this.#groups.get(key)?.setPolicy(route, policy);
      if (policy !== undefined) route.out.usePolicy(policy);
      return null;
    }
    if (route.size >= this.#limits.maxSubscriptionsPerConnection) {
      return [
        ErrorCode.TooManySubscriptions,
        `Connection already has ${this.#limits.maxSubscriptionsPerConnection} subscriptions`,
      ];
    }
    const cost = recordBytes(group === undefined ? pattern : key);
    if (group !== undefined) {
      let queue = this.#groups.get(key);
      if (queue === undefined) {
        queue = new QueueGroup(key, group, pattern);
        this.#groups.set(key, queue);
        this.#index.add(pattern, queue);
        this.#recordBytes += GROUP_BYTES + stringBytes(key);
        this.cluster?.interest(pattern, 1);
        queue.members.push(route);
        this.cluster?.groupsChanged();
      } else queue.members.push(route);
      (route.groups ??= new Set()).add(key);
      this.#recordBytes += cost;
      if (this.#overBudget()) {
        route.groups.delete(key);
        this.#leave(key, route);
        return this.#budgetRefusal();
      }
      queue.setPolicy(route, policy);
      if (policy !== undefined) route.out.usePolicy(policy);
      return null;
    }
    this.#index.add(pattern, route);
    this.#recordBytes += cost;
    if (this.#overBudget()) {
      this.#index.remove(pattern, route);
      this.#recordBytes -= cost;
      return this.#budgetRefusal();
    }
    this.cluster?.interest(pattern, 1);
    route.subscriptions.add(pattern);
    this.#setPolicy(route, pattern, policy);
    if (policy !== undefined) route.out.usePolicy(policy);
    this.#sendRetained(route, pattern);
    return null;
  }

  /**
   * Sends the retained messages matching `pattern`, as long as the session's
   * outbound queue has room; the rest are skipped with a notice rather than
   * making a fresh subscriber a slow consumer.
   */
  #sendRetained(route: Route, pattern: string): void {
    const out = route.out;
    const matching = this.#retained.matching(pattern);
    for (let i = 0; i < matching.length; i++) {
      if (!out.open) return;
      const retained = matching[i];
      const extra = route.extended
        ? extraMembers(retained.seq, retained.headers, undefined, true)
        : "";
      const bytes = this.#p.deliveries.encodeJson(retained.topic, retained.json, extra, 0);
      if (!out.hasRoom(bytes.byteLength)) {
        out.sendError(
          ErrorCode.RetainedLimit,
          `${matching.length - i} retained messages for "${pattern}" not sent: outbound queue full`,
        );
        return;
      }
      out.deliver(bytes, retained.topic);
    }
  }

  #overBudget(): boolean {
    return this.subscriptionBytes > this.#limits.maxSubscriptionBytes;
  }

  #budgetRefusal(): Refusal {
    return [
      ErrorCode.SubscriptionBudget,
      `Subscriptions would exceed ${this.#limits.maxSubscriptionBytes} bytes server-wide`,
    ];
  }

  /** Sets (or, with `undefined`, clears) the policy of `route`'s plain subscription to `pattern`. */
  #setPolicy(route: Route, pattern: string, policy: SlowConsumerPolicy | undefined): void {
    if (policy !== undefined) (route.policies ??= new Map()).set(pattern, policy);
    else if (route.policies?.delete(pattern) === true && route.policies.size === 0) {
      route.policies = null;
    }
  }

  /** Unsubscribes `route` from `pattern` (in `group` when given). */
  unsubscribe(route: Route, pattern: string, group: string | undefined): void {
    const key = subscriptionKey(pattern, group);
    if (group === undefined) {
      this.#setPolicy(route, pattern, undefined);
      if (this.#index.remove(pattern, route)) {
        route.subscriptions.delete(pattern);
        this.#recordBytes -= recordBytes(pattern);
        this.cluster?.interest(pattern, -1);
      }
      return;
    }
    if (route.groups?.delete(key) === true) this.#leave(key, route);
  }

  /** Stops routing to `route`: removes every subscription it has. */
  detach(route: Route): void {
    for (const pattern of route.subscriptions) {
      if (this.#index.remove(pattern, route)) this.cluster?.interest(pattern, -1);
      this.#recordBytes -= recordBytes(pattern);
    }
    route.subscriptions.clear();
    route.policies = null;
    const groups = route.groups;
    route.groups = null;
    if (groups !== null) { for (const key of groups) this.#leave(key, route); }
  }

  /**
   * Routes a publish: to every matching plain subscriber once, and to one
   * member of each matching queue group (round robin, skipping members
   * whose queue is full). Never waits. `json` is the message's own JSON
   * text when it is pure ASCII bytes (copied into deliveries as it is);
   * `from` the publishing connection, or `null` for `server.publish()`.
   * Returns the deliveries queued; `retainRefusal` tells why the retain was
   * refused. Allocates nothing per publish.
   *
   * A publish made while another is routed (by a logger, called when a
   * delivery meets the slow-consumer policy) is routed right after it: it
   * returns 0 and a refusal of its retain is not reported. Inside the other
   * it could deliver the other twice, reorder `seq`, or re-enter a queue.
   *
   * @throws {TypeError} When JSON cannot encode the message.
   * @throws {RangeError} When the message is too deeply nested to encode.
   */
  publish(
    topic: string,
    message: JsonValue,
    json: Uint8Array | null,
    from: Route | null,
    extras: PublishExtras,
    remote = false,
    picks: Record<string, string> | null = null,
  ): number {
    if (this.#routing) {
      if (this.#later.length < MAX_LATER_PUBLISHES) {
        // `json` is valid only during this call.
        const later = json?.slice() ?? null;
        this.#later.push({ topic, message, json: later, from, extras, remote, picks });
      } else this.#counters.droppedMessages++;
      return 0;
    }
    const delivered = this.#route(topic, message, json, from, extras, remote, picks);
    if (this.#later.length > 0) this.#routeLater();
    return delivered;
  }

  #route(
    topic: string,
    message: JsonValue,
    json: Uint8Array | null,
    from: Route | null,
    extras: PublishExtras,
    remote: boolean,
    picks: Record<string, string> | null,
  ): number {
    const p = this.#p;
    const cluster = this.cluster;
    this.#routing = true;
    this.#counters.messagesIn++;
    p.start(++this.#lastStamp, topic, message, json, from, extras, remote);
    p.inbox = this.#privateInboxes ? inboxOf(topic) : null;
    try {
      if (cluster !== null) p.picks = remote ? picks ?? NO_PICKS : cluster.pick(topic);
      this.#index.match(topic, this.#visit);
      const held = p.held;
      for (let i = 0; i < held.length; i++) this.#send(held[i], held[i].policy);
      if (extras.retain === true) {
        // The seq this publish took, or the topic's last one when nobody got it.
        const seq = p.seq !== 0 ? p.seq : this.#seqs.last(topic);
        const problem = this.#retained.set(topic, message, extras.headers, seq);
        if (problem !== null) p.retainRefusal = [ErrorCode.RetainedLimit, problem];
      }
      if (cluster !== null && !remote && !isNodeLocal(topic)) {
        cluster.forward(topic, message, json, extras, p.picks);
      }
    } finally {
      this.#routing = false;
      this.#counters.messagesOut += p.delivered;
      p.end();
    }
    return p.delivered;
  }

  /** Routes the publishes made while others were routed, those they make included. */
  #routeLater(): void {
    const first = this.#p;
    this.#p = this.#laterState ??= new RoutedPublish(
      Math.min(LATER_PREFIX_BYTES, this.#limits.maxPrefixCacheBytes),
    );
    try {
      for (let i = 0; i < this.#later.length; i++) {
        const { topic, message, json, from, extras, remote, picks } = this.#later[i];
        try {
          this.#route(topic, message, json, from, extras, remote, picks);
        } catch {
          // server.publish() checked the message; a message that still cannot be
          // encoded is lost, as a log line that cannot be written is.
          this.#counters.droppedMessages++;
        }
      }
    } finally {
      this.#later.length = 0;
      this.#p = first;
    }
  }

  /**
   * Routes a publish from `route` and returns why it was refused, or
   * `null`. `message` is read only when `json` is `null` or the publish is
   * retained.
   */
  publishFrom(
    route: Route,
    topic: string,
    message: JsonValue,
    json: Uint8Array | null,
    extras: PublishExtras,
  ): Refusal | null {
    try {
      this.publish(topic, message, json, route, extras);
    } catch (error) {
      return [ErrorCode.InvalidFrame, `Message cannot be encoded: ${String(error)}`];
    }
    // In a cluster, a responder may be on another node: the replicated interest tells.
    if (
      this.#p.retainRefusal === null && extras.reply !== undefined && this.#p.matched === 0 &&
      this.cluster?.remoteInterest(topic) !== true
    ) {
      return [ErrorCode.NoResponders, `No subscriber for "${topic}"`];
    }
    return this.#p.retainRefusal;
  }

  /**
   * Routes a publish from another node (the backplane) to this node's
   * subscribers, without sending it back out. Returns why its retain was
   * refused here, or `null`.
   *
   * @throws {TypeError} When JSON cannot encode the message.
   * @throws {RangeError} When the message is too deeply nested to encode.
   */
  publishRemote(
    topic: string,
    message: JsonValue,
    extras: PublishExtras,
    picks: Record<string, string> | undefined,
  ): Refusal | null {
    this.publish(topic, message, null, null, extras, true, picks ?? null);
    return this.#p.retainRefusal;
  }

  /**
   * Stores a retained message kept elsewhere (the cluster's copy), without
   * delivering it. Returns why it was refused, or `null`.
   */
  restoreRetained(topic: string, message: JsonValue, headers: Headers | undefined): string | null {
    return this.#retained.set(topic, message, headers, this.#seqs.last(topic));
  }

  /** Every retained message held, as the message's JSON text. */
  retainedMessages(): RetainedMessage[] {
    return Array.from(
      this.#retained.all(),
      ({ topic, json, headers }) => ({ topic, json, headers }),
    );
  }

  /**
   * The cluster may have lost publishes (a counter gap, the backplane down):
   * the next delivery of each topic with a `seq` skips one number, so
   * clients that said `hello` see a gap (see {@linkcode SeqTable}).
   */
  lossDetected(): void {
    this.#seqs.lossDetected();
  }

  /** Why the last publish's retain was refused, or `null`. */
  get retainRefusal(): Refusal | null {
    return this.#p.retainRefusal;
  }

  #nextSeq(): number {
    const p = this.#p;
    if (p.seq === 0) p.seq = this.#seqs.next(p.topic);
    return p.seq;
  }

  /** The delivery for `route`: kn-sock's shape, or the extended one after `hello`. */
  #bytesFor(route: Route): Uint8Array {
    const p = this.#p;
    if (!route.extended) return p.plain ??= p.deliveries.encode(p.topic, p.message, p.json, "", 0);
    if (p.extended !== null) return p.extended;
    const { headers, reply } = p.extras;
    const extra = extraMembers(this.#nextSeq(), headers, reply, false);
    return p.extended = p.deliveries.encode(p.topic, p.message, p.json, extra, 1);
  }

  /**
   * Delivers to a plain subscriber, once per publish. A route with policies
   * of its own is held back until every subscription was visited, so that
   * the strongest policy among its matching subscriptions applies: the
   * policy comes from the subscriptions that matched, at no cost per
   * subscription the connection has.
   */
  #toRoute(route: Route, pattern: string): void {
    const p = this.#p;
    if (p.inbox !== null && route.inbox !== p.inbox) return;
    const policies = route.policies;
    if (route.stamp === p.stamp) {
      // Another of its patterns matched already (the route is held when it has policies).
      if (policies !== null) route.policy = strongerPolicy(route.policy, policies.get(pattern));
      return;
    }
    if (route === p.from && !route.echo) return;
    route.stamp = p.stamp;
    if (policies === null) {
      this.#send(route, undefined);
      return;
    }
    route.policy = policies.get(pattern);
    p.held.push(route);
  }

  #send(route: Route, policy: SlowConsumerPolicy | undefined): void {
    const p = this.#p;
    const out = route.out;
    if (this.#direct(route) || out.deliver(this.#bytesFor(route), p.topic, policy)) {
      p.delivered++;
    }
    // Publisher backpressure: a subscriber that fell behind holds back the
    // connection that fed it (not itself; queue groups route around a member behind).
    if (out.behind && p.from !== null && p.from !== route) p.from.out.holdFor(out);
  }

  /**
   * The first kn-sock-shaped delivery of a publish read as JSON bytes to a
   * plain subscriber (not a queue group's member) is copied straight into
   * its queue, in three parts, rather than joined in the encoder's buffer
   * and copied from there: at fan-out 1, the common case of a topic with
   * one reader, that saves a copy of the whole delivery. The next
   * recipients share the encoded bytes. `false` when the delivery was not
   * queued this way.
   */
  #direct(route: Route): boolean {
    const p = this.#p;
    if (p.directDone || p.json === null || route.extended) return false;
    p.directDone = true;
    return route.out.deliverJoined(p.deliveries.prefix(p.topic), p.json, DELIVERY_END, p.topic);
  }

  #toGroup(group: QueueGroup): void {
    // In a cluster, only the node picked for this group delivers to it.
    const picks = this.#p.picks;
    if (picks !== null && picks[group.key] !== this.cluster?.node) return;
    const members = group.members;
    const from = this.#p.from;
    let fallback = -1;
    for (let tried = 0; tried < members.length; tried++) {
      const at = (group.next + tried) % members.length;
      const member = members[at];
      // Skip a member that has this publish already (another pattern) or asked for no echo,
      // or whose private inbox it is not.
      if (member.stamp === this.#p.stamp || (member === from && !member.echo)) continue;
      if (this.#p.inbox !== null && member.inbox !== this.#p.inbox) continue;
      if (member.out.hasRoom(this.#bytesFor(member).byteLength)) {
        this.#toMember(group, at);
        return;
      }
      if (fallback === -1) fallback = at;
    }
    // Every candidate is full: the next one in turn meets the slow-consumer policy.
    if (fallback !== -1) this.#toMember(group, fallback);
  }

  #toMember(group: QueueGroup, at: number): void {
    const member = group.members[at];
    group.next = at + 1;
    const p = this.#p;
    member.stamp = p.stamp;
    const policy = group.policies?.get(member);
    if (member.out.deliver(this.#bytesFor(member), p.topic, policy)) p.delivered++;
  }

  #leave(key: string, route: Route): void {
    const group = this.#groups.get(key);
    if (group === undefined) return;
    const at = group.members.indexOf(route);
    if (at !== -1) {
      group.members.splice(at, 1);
      this.#recordBytes -= recordBytes(key);
    }
    group.setPolicy(route, undefined);
    if (group.members.length === 0) {
      this.#groups.delete(key);
      this.#index.remove(group.pattern, group);
      this.#recordBytes -= GROUP_BYTES + stringBytes(key);
      this.cluster?.interest(group.pattern, -1);
      this.cluster?.groupsChanged();
    }
  }
}
