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

import { Redis, type RedisOptions } from "ioredis";
import { ErrorCode, PubSubError } from "../errors.ts";
import type {
  Backplane,
  BackplaneHost,
  BackplaneState,
  BackplaneStats,
  GroupMembership,
  OutboundPublish,
  RetainedMessage,
} from "./backplane.ts";
import {
  ControlKind,
  decodeControlEnvelope,
  decodePublishEnvelope,
  decodeRetained,
  encodeControlEnvelope,
  encodePublishEnvelope,
  encodeRetained,
} from "./envelope.ts";
import { Origins } from "./origins.ts";

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
   * How often the node sends a heartbeat, in ms. A node not heard from for
   * three heartbeats is out of the cluster; a node whose own heartbeat does
   * not come back within two, while its subscription delivers nothing at
   * all, reconnects that subscription (it is stuck). Default 1000.
   */
  heartbeatMs?: number;
  /** How long connecting to Redis may take at start, in ms. Default 5000. */
  connectTimeoutMs?: number;
}

/** The default Redis URL. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** Longest wait between reconnection attempts, in ms: a Redis back up is used within it. */
const MAX_RECONNECT_DELAY_MS = 500;

/** A node out of the cluster is forgotten after this many heartbeats. */
const FORGET_HEARTBEATS = 60;

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

/** The channels of the cluster `cluster`. */
export function clusterChannels(cluster: string): ClusterChannels {
  const prefix = `knsock:${cluster}:`;
  return {
    all: `${prefix}all`,
    control: `${prefix}control`,
    node: (node) => `${prefix}node:${node}`,
    retained: `${prefix}retained`,
  };
}

function checkOptions(options: RedisBackplaneOptions): Required<RedisBackplaneOptions> {
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

/** The Redis backplane: two connections, one to publish, one subscribed. */
class RedisBackplane implements Backplane {
  readonly #options: Required<RedisBackplaneOptions>;
  readonly #channels: ClusterChannels;
  readonly #epoch = Date.now();
  readonly #origins: Origins;
  #node = "";
  #host: BackplaneHost | null = null;
  #pub: Redis | null = null;
  #sub: Redis | null = null;
  #state: BackplaneState = "starting";
  #subReady = false;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;
  /** When this node sent the oldest heartbeat that has not come back; 0 when none. */
  #waitingSince = 0;
  /** Messages the subscribed connection delivered, and how many at the last tick. */
  #inbound = 0;
  #inboundAtTick = 0;
  #closing: Promise<void> | null = null;
  #counter = 0;
  /** This node's queue groups, as last announced. */
  #groups: readonly GroupMembership[] = [];
  #received = 0;
  #unsent = 0;
  #lost = 0;
  #badEnvelopes = 0;
  #outages = 0;
  #stalls = 0;
  #pickedGone = 0;
  /** Queue group picks of each other node since its last control envelope. */
  readonly #picked = new Map<string, number>();

  constructor(options: Required<RedisBackplaneOptions>) {
    this.#options = options;
    this.#channels = clusterChannels(options.cluster);
    this.#origins = new Origins(3 * options.heartbeatMs, FORGET_HEARTBEATS * options.heartbeatMs);
  }

  stats(): BackplaneStats {
    return {
      kind: "redis",
      cluster: this.#options.cluster,
      node: this.#node,
      state: this.#state,
      nodes: this.#origins.live,
      sent: this.#counter,
      received: this.#received,
      unsent: this.#unsent,
      lost: this.#lost,
      badEnvelopes: this.#badEnvelopes,
      outages: this.#outages,
      stalls: this.#stalls,
      pickedGone: this.#pickedGone,
    };
  }

  async start(host: BackplaneHost): Promise<void> {
    if (this.#host !== null) throw new Error("A backplane serves one server: it was started");
    this.#host = host;
    this.#node = host.serverId;
    const settings: RedisOptions = {
      lazyConnect: true,
      connectTimeout: this.#options.connectTimeoutMs,
      retryStrategy: (times) => Math.min(times * 50, MAX_RECONNECT_DELAY_MS),
    };
    // No offline queue: a publish while Redis is away is counted, never held.
    const pub = this.#pub = new Redis(this.#options.url, {
      ...settings,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    });
    const sub = this.#sub = new Redis(this.#options.url, settings);
    for (const [name, connection] of [["publish", pub], ["subscribe", sub]] as const) {
      connection.on("error", (error: Error) => {
        host.logger.debug("Redis connection error", { connection: name, error: error.message });
      });
      connection.on("close", () => this.#lostConnection(name));
    }
    pub.on("ready", () => this.#check());
    // On a reconnection (ioredis resubscribes too; this waits for it, then goes up).
    sub.on("ready", () => {
      if (this.#state !== "starting") void this.#subscribe();
    });
    sub.on("message", (channel: string, text: string) => this.#message(channel, text));
    try {
      await pub.connect();
      await sub.connect();
      await this.#subscribe();
      await this.#loadRetained();
    } catch (error) {
      pub.disconnect();
      sub.disconnect();
      this.#state = "closed";
      throw new PubSubError(
        ErrorCode.BackplaneUnavailable,
        `Cannot reach Redis at ${redactUrl(this.#options.url)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.#timer = setInterval(() => this.#tick(), this.#options.heartbeatMs);
  }

  publish(publish: OutboundPublish): void {
    const pub = this.#pub;
    if (pub === null || pub.status !== "ready" || this.#closing !== null) {
      this.#unsent++;
      return;
    }
    if (publish.retain === true) this.#storeRetained(pub, publish);
    const text = encodePublishEnvelope(
      this.#node,
      this.#epoch,
      ++this.#counter,
      publish.topic,
      publish.json,
      publish.headers,
      publish.reply,
      publish.retain,
      publish.picks,
    );
    pub.publish(this.#channels.all, text).catch(this.#publishFailed);
    const picks = publish.picks;
    if (picks !== undefined) {
      for (const key in picks) {
        const node = picks[key];
        if (node !== this.#node) this.#picked.set(node, (this.#picked.get(node) ?? 0) + 1);
      }
    }
  }

  /** Keeps (or clears) a retained message in the cluster's hash, before its publish goes out. */
  #storeRetained(pub: Redis, publish: OutboundPublish): void {
    const json = publish.json.trim();
    const key = this.#channels.retained;
    const done = json === "null" || json === '""'
      ? pub.hdel(key, publish.topic)
      : pub.hset(key, publish.topic, encodeRetained(json, publish.headers));
    done.catch((error: Error) => {
      // The live nodes keep it in memory; nodes that start later will not have it.
      this.#host?.logger.warn("Storing a retained message in Redis failed", {
        topic: publish.topic,
        error: error.message,
      });
    });
  }

  /** Gives the server the retained messages the cluster keeps in Redis. */
  async #loadRetained(): Promise<void> {
    const stored = await this.#pub!.hgetall(this.#channels.retained);
    const messages: RetainedMessage[] = [];
    for (const topic in stored) {
      const retained = decodeRetained(stored[topic]);
      if (typeof retained === "string") this.#bad(`retained message for "${topic}": ${retained}`);
      else messages.push({ topic, json: retained.json, headers: retained.headers });
    }
    if (messages.length === 0) return;
    const refused = this.#host!.restoreRetained(messages);
    this.#host!.logger.info("Retained messages loaded from Redis", {
      count: messages.length - refused,
      refused,
    });
  }

  /**
   * Back after an outage: a Redis that came back empty gets this node's
   * retained messages again; otherwise this node takes what it missed.
   */
  async #syncRetained(): Promise<void> {
    const pub = this.#pub!;
    const key = this.#channels.retained;
    try {
      if (await pub.exists(key) === 1) return await this.#loadRetained();
      const mine = this.#host!.retained();
      if (mine.length === 0) return;
      const fields: string[] = [];
      for (const { topic, json, headers } of mine) {
        fields.push(topic, encodeRetained(json, headers));
      }
      await pub.hset(key, ...fields);
      this.#host!.logger.info("Retained messages restored to Redis", { count: mine.length });
    } catch (error) {
      this.#host!.logger.warn("Syncing retained messages with Redis failed", {
        error: (error as Error).message,
      });
    }
  }

  watch(pattern: string, watching: boolean): void {
    if (this.#state !== "up") return; // all of them are announced once it is up
    const kind = watching ? ControlKind.Watch : ControlKind.Unwatch;
    this.#send(this.#channels.control, this.#control(kind, [pattern]));
  }

  setGroups(groups: readonly GroupMembership[]): void {
    this.#groups = groups;
    if (this.#state === "up") this.#send(this.#channels.control, this.#control(ControlKind.Groups));
  }

  /** A publish handed to Redis that failed (the connection broke meanwhile). */
  readonly #publishFailed = (): void => {
    this.#unsent++;
  };

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    const pub = this.#pub;
    const sub = this.#sub;
    if (pub !== null && pub.status === "ready") {
      try {
        await pub.publish(this.#channels.control, this.#control(ControlKind.Leave));
      } catch {
        // Redis went away meanwhile: the others expire this node instead.
      }
    }
    this.#state = "closed";
    this.#subReady = false;
    await Promise.all([quit(pub), quit(sub)]);
  }

  /** (Re)subscribes to the cluster's channels; ioredis resubscribes too, this waits for it. */
  async #subscribe(): Promise<void> {
    const sub = this.#sub!;
    const channels = this.#channels;
    try {
      await sub.subscribe(channels.all, channels.control, channels.node(this.#node));
    } catch (error) {
      if (this.#host !== null && this.#state !== "starting") {
        this.#host.logger.warn("Redis subscribe failed", { error: (error as Error).message });
      }
      if (this.#state === "starting") throw error;
      return;
    }
    this.#subReady = true;
    this.#check();
  }

  /** Goes up once both connections are ready, and announces the node. */
  #check(): void {
    if (this.#closing !== null || this.#state === "up") return;
    if (!this.#subReady || this.#pub?.status !== "ready") return;
    const wasDown = this.#state === "down";
    this.#state = "up";
    this.#waitingSince = 0;
    // Announced again after any reconnection: the others may have expired this node.
    this.#send(this.#channels.control, this.#control(ControlKind.Join));
    this.#send(this.#channels.control, this.#control(ControlKind.Groups));
    this.#send(this.#channels.control, this.#interest());
    if (wasDown) {
      void this.#syncRetained();
      this.#changed("up");
    }
  }

  #lostConnection(name: string): void {
    if (name === "subscribe") this.#subReady = false;
    if (this.#state !== "up" || this.#closing !== null) return;
    this.#state = "down";
    this.#outages++;
    this.#changed("down", `${name} connection lost`);
  }

  #changed(state: BackplaneState, reason?: string): void {
    const host = this.#host!;
    const stats = this.stats();
    host.changed(reason === undefined ? { state, stats } : { state, reason, stats });
  }

  #control(kind: ControlKind, patterns?: readonly string[]): string {
    return encodeControlEnvelope({
      kind,
      origin: this.#node,
      epoch: this.#epoch,
      counter: this.#counter,
      ...(kind === ControlKind.Groups ? { groups: this.#groups } : {}),
      ...(patterns === undefined ? {} : { patterns }),
    });
  }

  /** Every pattern this node has subscribers for, in one control envelope. */
  #interest(): string {
    return this.#control(ControlKind.Interest, this.#host!.patterns());
  }

  /** Sends a control envelope when the publishing connection is ready (else it is not needed). */
  #send(channel: string, text: string): void {
    const pub = this.#pub;
    if (pub === null || pub.status !== "ready") return;
    pub.publish(channel, text).catch((error: Error) => {
      this.#host?.logger.debug("Redis control publish failed", { error: error.message });
    });
  }

  /** Every heartbeat period: a heartbeat, the own-heartbeat check, the node expiry. */
  #tick(): void {
    const now = Date.now();
    const host = this.#host!;
    for (const node of this.#origins.expire(now)) {
      const picked = this.#picked.get(node) ?? 0;
      this.#picked.delete(node);
      this.#pickedGone += picked;
      host.logger.warn("Cluster node gone: no heartbeat", { node, picked });
      host.nodeGone(node);
    }
    if (this.#state !== "up") return;
    const waited = this.#waitingSince === 0 ? 0 : now - this.#waitingSince;
    const silent = this.#inbound === this.#inboundAtTick;
    this.#inboundAtTick = this.#inbound;
    // A subscription that still delivers is behind, not stuck: reconnecting would lose more.
    if (waited > 2 * this.#options.heartbeatMs && silent) {
      // The node's own heartbeat did not come back: its subscription is stuck.
      this.#stalls++;
      this.#waitingSince = 0;
      host.logger.warn(
        "Redis subscription stalled: own heartbeat did not come back; reconnecting",
        {
          waitedMs: waited,
        },
      );
      this.#sub?.disconnect(true);
      return;
    }
    if (this.#waitingSince === 0) this.#waitingSince = now;
    this.#send(this.#channels.control, this.#control(ControlKind.Heartbeat));
  }

  #message(channel: string, text: string): void {
    if (this.#closing !== null) return;
    this.#inbound++;
    if (channel === this.#channels.all) this.#publishEnvelope(text);
    else this.#controlEnvelope(text);
  }

  #publishEnvelope(text: string): void {
    const envelope = decodePublishEnvelope(text);
    if (typeof envelope === "string") return this.#bad(envelope);
    if (envelope.origin === this.#node) return;
    const lost = this.#origins.publish(
      envelope.origin,
      envelope.epoch,
      envelope.counter,
      Date.now(),
    );
    if (lost < 0) return;
    if (lost > 0) this.#missing(envelope.origin, lost);
    this.#received++;
    try {
      this.#host!.route(envelope);
    } catch (error) {
      this.#bad(`cannot route it (${(error as Error).message})`);
    }
  }

  #controlEnvelope(text: string): void {
    const envelope = decodeControlEnvelope(text);
    if (typeof envelope === "string") return this.#bad(envelope);
    const { kind, origin, epoch, counter } = envelope;
    if (origin === this.#node) {
      if (kind === ControlKind.Heartbeat && epoch === this.#epoch) this.#waitingSince = 0;
      return;
    }
    const host = this.#host!;
    this.#picked.delete(origin);
    const outcome = this.#origins.control(kind, origin, epoch, counter, Date.now());
    if (outcome.lost > 0) this.#missing(origin, outcome.lost);
    if (outcome.joined) host.logger.info("Cluster node joined", { node: origin });
    const direct = this.#channels.node(origin);
    switch (kind) {
      case ControlKind.Join:
        this.#send(direct, this.#control(ControlKind.Here));
        this.#send(direct, this.#control(ControlKind.Groups));
        this.#send(direct, this.#interest());
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
    if (outcome.joined && kind !== ControlKind.Here) {
      this.#send(direct, this.#control(ControlKind.Join));
    }
  }

  #missing(node: string, lost: number): void {
    this.#lost += lost;
    this.#host!.logger.warn("Publishes from a cluster node were lost", { node, lost });
  }

  #bad(problem: string): void {
    this.#badEnvelopes++;
    this.#host!.logger.warn("Bad envelope from Redis dropped", { problem });
  }
}

/** Closes a connection: politely when it is up, at once when it is not. */
async function quit(connection: Redis | null): Promise<void> {
  if (connection === null) return;
  if (connection.status === "ready") {
    try {
      await connection.quit();
      return;
    } catch {
      // Fall through to a hard disconnect.
    }
  }
  connection.disconnect();
}

/** `url` without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
