/**
 * The Redis backplane itself: a node's state in the cluster (starting, up,
 * down, closed), its publishes out, the envelopes in, its heartbeats, and
 * its counters. The connections, the retained hash and the stall watch are
 * in their own files; `redis.ts` is the entry point.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { ErrorCode, PubSubError } from "../errors.ts";
import type {
  Backplane,
  BackplaneHost,
  BackplaneState,
  BackplaneStats,
  GroupMembership,
  OutboundPublish,
} from "./backplane.ts";
import { type ClusterChannels, clusterChannels } from "./cluster_channels.ts";
import { ClusterPeers } from "./cluster_peers.ts";
import { ControlKind, encodeControlEnvelope, encodePublishEnvelope } from "./envelope.ts";
import { OwnHeartbeat } from "./own_heartbeat.ts";
import { isReady, quit, redactUrl, redisConnections } from "./redis_connections.ts";
import { RedisRetained } from "./redis_retained.ts";

/** The checked options of a Redis backplane. */
export interface RedisBackplaneSettings {
  url: string;
  cluster: string;
  heartbeatMs: number;
  connectTimeoutMs: number;
}

/** The Redis backplane: two connections, one to publish, one subscribed. */
export class RedisBackplane implements Backplane {
  readonly #options: RedisBackplaneSettings;
  readonly #channels: ClusterChannels;
  readonly #epoch = Date.now();
  readonly #heartbeat: OwnHeartbeat;
  #node = "";
  #host: BackplaneHost | null = null;
  #peers: ClusterPeers | null = null;
  #retained: RedisRetained | null = null;
  #pub: Redis | null = null;
  #sub: Redis | null = null;
  #state: BackplaneState = "starting";
  #subReady = false;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;
  #closing: Promise<void> | null = null;
  #counter = 0;
  /** This node's queue groups, as last announced. */
  #groups: readonly GroupMembership[] = [];
  #unsent = 0;
  #outages = 0;
  #stalls = 0;

  constructor(options: RedisBackplaneSettings) {
    this.#options = options;
    this.#channels = clusterChannels(options.cluster);
    this.#heartbeat = new OwnHeartbeat(options.heartbeatMs);
  }

  stats(): BackplaneStats {
    const peers = this.#peers;
    return {
      kind: "redis",
      cluster: this.#options.cluster,
      node: this.#node,
      state: this.#state,
      nodes: peers?.live ?? 0,
      sent: this.#counter,
      received: peers?.received ?? 0,
      unsent: this.#unsent,
      lost: peers?.lost ?? 0,
      badEnvelopes: peers?.badEnvelopes ?? 0,
      outages: this.#outages,
      stalls: this.#stalls,
      pickedGone: peers?.pickedGone ?? 0,
    };
  }

  async start(host: BackplaneHost): Promise<void> {
    if (this.#host !== null) throw new Error("A backplane serves one server: it was started");
    this.#host = host;
    const node = this.#node = host.serverId;
    const peers = this.#peers = new ClusterPeers({
      node,
      epoch: this.#epoch,
      heartbeatMs: this.#options.heartbeatMs,
      channels: this.#channels,
      host,
      heartbeat: this.#heartbeat,
      say: (channel, kind) => this.#send(channel, this.#control(kind)),
    });
    const retained = this.#retained = new RedisRetained(
      this.#channels.retained,
      host,
      (problem) => peers.bad(problem),
    );
    const { pub, sub } = redisConnections(this.#options.url, this.#options.connectTimeoutMs);
    this.#pub = pub;
    this.#sub = sub;
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
    sub.on("message", (channel: string, text: string) => {
      if (this.#closing === null) peers.message(channel, text);
    });
    try {
      await pub.connect();
      await sub.connect();
      await this.#subscribe();
      await retained.load(pub);
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
    if (!isReady(pub) || this.#closing !== null) {
      this.#unsent++;
      return;
    }
    if (publish.retain === true) this.#retained!.store(pub, publish);
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
    if (publish.picks !== undefined) this.#peers!.picked(publish.picks);
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
    if (isReady(pub)) {
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
    if (!this.#subReady || !isReady(this.#pub)) return;
    const wasDown = this.#state === "down";
    this.#state = "up";
    this.#heartbeat.returned();
    // Announced again after any reconnection: the others may have expired this node.
    this.#send(this.#channels.control, this.#control(ControlKind.Join));
    this.#send(this.#channels.control, this.#control(ControlKind.Groups));
    this.#send(this.#channels.control, this.#control(ControlKind.Interest));
    if (wasDown) {
      void this.#retained!.sync(this.#pub!);
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

  /** This node's control envelope of `kind`; an `interest` one lists all its patterns. */
  #control(kind: ControlKind, patterns?: readonly string[]): string {
    if (kind === ControlKind.Interest) patterns ??= this.#host!.patterns();
    return encodeControlEnvelope({
      kind,
      origin: this.#node,
      epoch: this.#epoch,
      counter: this.#counter,
      ...(kind === ControlKind.Groups ? { groups: this.#groups } : {}),
      ...(patterns === undefined ? {} : { patterns }),
    });
  }

  /** Sends a control envelope when the publishing connection is ready (else it is not needed). */
  #send(channel: string, text: string): void {
    const pub = this.#pub;
    if (!isReady(pub)) return;
    pub.publish(channel, text).catch((error: Error) => {
      this.#host?.logger.debug("Redis control publish failed", { error: error.message });
    });
  }

  /** Every heartbeat period: a heartbeat, the own-heartbeat check, the node expiry. */
  #tick(): void {
    const now = Date.now();
    this.#peers!.expire(now);
    if (this.#state !== "up") return;
    const waited = this.#heartbeat.tick(now);
    if (waited > 0) {
      // The node's own heartbeat did not come back: its subscription is stuck.
      this.#stalls++;
      this.#host!.logger.warn(
        "Redis subscription stalled: own heartbeat did not come back; reconnecting",
        { waitedMs: waited },
      );
      this.#sub?.disconnect(true);
      return;
    }
    this.#send(this.#channels.control, this.#control(ControlKind.Heartbeat));
  }
}
