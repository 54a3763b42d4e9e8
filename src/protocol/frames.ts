/**
 * The frames of the kn-sock wire protocol, as TypeScript types. Each frame
 * is one JSON object on one `\n`-terminated line; `docs/PROTOCOL.md` has
 * examples of every frame.
 *
 * @module
 */

import { SlowConsumerPolicy } from "../limits.ts";

/** Any value JSON can carry. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The actions a client may send (kn-sock's three). */
export const ClientAction = {
  /** Start receiving a topic's messages. */
  Subscribe: "subscribe",
  /** Stop receiving a topic's messages. */
  Unsubscribe: "unsubscribe",
  /** Send a message to a topic's subscribers. */
  Publish: "publish",
} as const;

/** One of the values of {@linkcode ClientAction}. */
export type ClientAction = typeof ClientAction[keyof typeof ClientAction];

/** The `id` a client may put on any frame; the server answers it with `ok` or `error`. */
export type FrameId = string | number;

/** Headers of a message: names to string values. */
export type Headers = Record<string, string>;

// Defined in the leaf src/limits.ts (DEFAULT_SLOW_CONSUMER_POLICY needs it).
export { SlowConsumerPolicy } from "../limits.ts";

const POLICIES: ReadonlySet<unknown> = new Set(Object.values(SlowConsumerPolicy));

/**
 * Whether `value` is one of the {@linkcode SlowConsumerPolicy} values.
 *
 * @example
 * ```ts
 * import { isSlowConsumerPolicy } from "@kn-sock/pubsub";
 *
 * console.log(isSlowConsumerPolicy("drop-oldest"), isSlowConsumerPolicy("drop-all")); // true false
 * ```
 */
export function isSlowConsumerPolicy(value: unknown): value is SlowConsumerPolicy {
  return POLICIES.has(value);
}

/** `{"action": "subscribe", "topic": P}`, optionally with a queue `group` and an `id`. */
export interface SubscribeFrame {
  /** The action. */
  action: "subscribe";
  /** The topic or pattern, for example `news/sports` or `news/#`. */
  topic: string;
  /** A queue group: each message goes to one member of the group. */
  group?: string;
  /** The slow-consumer policy of this subscription's deliveries; the server's when omitted. */
  policy?: SlowConsumerPolicy;
  /** Asks for an `ok` or `error` answer. */
  id?: FrameId;
}

/** `{"action": "unsubscribe", "topic": P}`, optionally with `group` and `id`. */
export interface UnsubscribeFrame {
  /** The action. */
  action: "unsubscribe";
  /** The topic or pattern, as subscribed. */
  topic: string;
  /** The queue group, as subscribed. */
  group?: string;
  /** Asks for an `ok` or `error` answer. */
  id?: FrameId;
}

/**
 * `{"action": "publish", "topic": T, "message": M}`; a missing `message`
 * reads as `null`. The optional fields are additions to kn-sock.
 */
export interface PublishFrame {
  /** The action. */
  action: "publish";
  /** The topic (no wildcards). */
  topic: string;
  /** The payload; kn-sock sends strings, any JSON value is passed through. */
  message: JsonValue;
  /** Headers, delivered unchanged. */
  headers?: Headers;
  /** Where replies should go (request/reply). */
  reply?: string;
  /** Keep this as the topic's retained message (an empty message clears it). */
  retain?: boolean;
  /** Asks for an `ok` or `error` answer. */
  id?: FrameId;
}

/** `{"action": "hello", ...}`: the optional handshake. */
export interface HelloFrame {
  /** The action. */
  action: "hello";
  /** The protocol version the client speaks (1). */
  version?: number;
  /** A name for the server's logs. */
  name?: string;
  /** `false`: do not deliver this client's own publishes back to it. */
  echo?: boolean;
  /** The user name, for username/password auth (with `pass`). */
  user?: string;
  /** The password, for username/password auth (with `user`). */
  pass?: string;
  /** The token, for token auth. */
  token?: string;
  /** Echoed in the server's `hello` answer. */
  id?: FrameId;
}

/**
 * `{"action": "ping"}`, sent by either side; the other answers
 * `{"action": "pong"}` (with the same `id`, when there is one).
 */
export interface PingFrame {
  /** The action. */
  action: "ping";
  /** Echoed in the `pong`. */
  id?: FrameId;
}

/** `{"action": "pong"}`: the answer to a `ping`. */
export interface PongFrame {
  /** The action. */
  action: "pong";
  /** The `id` of the `ping` it answers. */
  id?: FrameId;
}

/** A frame sent by a client. Fields this version does not know are kept, unread. */
export type ClientFrame =
  | SubscribeFrame
  | UnsubscribeFrame
  | PublishFrame
  | HelloFrame
  | PingFrame
  | PongFrame;

/**
 * A message delivered to a subscriber: `{"topic": T, "message": M}`. A client
 * that said `hello` also gets `seq` and, when present, `headers`, `reply` and
 * `retained`.
 */
export interface Delivery {
  /** The topic it was published to. */
  topic: string;
  /** The payload, as published. */
  message: JsonValue;
  /** The topic's sequence number on this server (after `hello`). */
  seq?: number;
  /** Headers, as published. */
  headers?: Headers;
  /** Where the publisher wants replies. */
  reply?: string;
  /** `true` for a retained message sent on subscribe. */
  retained?: boolean;
}

/** `{"action": "error", "code": C, "error": text}`, sent by the server. */
export interface ErrorFrame {
  /** The action. */
  action: "error";
  /** A stable code; `docs/PROTOCOL.md` lists them all. */
  code: string;
  /** A human-readable sentence. */
  error: string;
  /** The `id` of the frame this answers, when it had one. */
  id?: FrameId;
}

/** The server's answer to `hello`. */
export interface ServerInfo {
  /** The protocol version the server speaks. */
  version: number;
  /** An id unique to the server while it runs. */
  serverId: string;
  /** The longest line the server accepts, in bytes. */
  maxLine: number;
  /** The largest message the server accepts, in bytes (bounded by the line). */
  maxPayload: number;
  /**
   * How often the server pings a quiet connection, in ms (`0`: never). A
   * connection that stays silent for a few intervals is closed as dead.
   */
  pingInterval: number;
  /** The authenticated user, when the server requires auth. */
  user?: string;
  /**
   * The connection's private inbox prefix (`_inbox/<connection id>`), when
   * the server gives one: with auth on, topics under it reach only this
   * connection, which may always subscribe to them.
   */
  inbox?: string;
}

/**
 * `{"action": "slow_consumer", "policy": P, "dropped": N, "topics": {T: n}}`:
 * sent when the server dropped deliveries to this connection because its
 * outbound queue was full (policies `drop-oldest` and `drop-newest`), as soon
 * as the queue has room for the notice.
 */
export interface SlowConsumerNotice {
  /** The policy that dropped them. */
  policy: SlowConsumerPolicy;
  /** How many messages were dropped since the last notice. */
  dropped: number;
  /** How many of them per topic (at most 100 topics are listed). */
  topics: Record<string, number>;
}

/**
 * `{"action": "backplane", "state": "down" | "up", "reason": R, "nodes": N,
 * "unsent": N, "lost": N, "outages": N, "stalls": N}`: sent by a server that
 * is one node of a cluster (a backplane such as Redis) to each connection
 * that said `hello`, when the node is cut off from the other nodes and when
 * it is back. The counters are the node's since it started (see
 * `docs/CLUSTER.md`).
 */
export interface BackplaneNotice {
  /** `down`: cut off from the other nodes; `up`: back. */
  state: "down" | "up";
  /** Why it went down, in a few words (only when down). */
  reason?: string;
  /** The other nodes heard from lately. */
  nodes: number;
  /** Publishes meant for the other nodes that could not be sent. */
  unsent: number;
  /** Publishes from the other nodes that never arrived here. */
  lost: number;
  /** Times the node was cut off. */
  outages: number;
  /** Times the node's subscription was found stuck. */
  stalls: number;
}

/** A frame sent by the server: a delivery, or a control frame with an `action`. */
export type ServerFrame =
  | ({ kind: "message" } & Delivery)
  | ({ kind: "error" } & ErrorFrame)
  | { kind: "ok"; id: FrameId }
  | ({ kind: "hello"; id?: FrameId } & ServerInfo)
  | { kind: "ping"; id?: FrameId }
  | { kind: "pong"; id?: FrameId }
  | ({ kind: "slow_consumer" } & SlowConsumerNotice)
  | ({ kind: "backplane" } & BackplaneNotice)
  | { kind: "unknown"; action: string };
