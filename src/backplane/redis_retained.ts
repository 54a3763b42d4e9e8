/**
 * The cluster's retained messages in Redis: the hash `knsock:C:retained`
 * (field: the topic; value: `{"m":<message>,"h":{…}}`), written by the
 * publishing node just before the publish, loaded by a node when it starts,
 * and synced when the backplane comes back after an outage.
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { BackplaneHost, OutboundPublish, RetainedMessage } from "./backplane.ts";
import { decodeRetained, encodeRetained } from "./envelope.ts";

/** One node's side of the cluster's retained hash. */
export class RedisRetained {
  readonly #key: string;
  readonly #host: BackplaneHost;
  readonly #bad: (problem: string) => void;

  /**
   * @param key The hash's key.
   * @param host The server, which holds the retained messages in memory.
   * @param bad Counts and logs a bad entry of the hash.
   */
  constructor(key: string, host: BackplaneHost, bad: (problem: string) => void) {
    this.#key = key;
    this.#host = host;
    this.#bad = bad;
  }

  /** Keeps (or clears) a retained message in the hash, before its publish goes out on `pub`. */
  store(pub: Redis, publish: OutboundPublish): void {
    const json = publish.json.trim();
    const key = this.#key;
    const done = json === "null" || json === '""'
      ? pub.hdel(key, publish.topic)
      : pub.hset(key, publish.topic, encodeRetained(json, publish.headers));
    done.catch((error: Error) => {
      // The live nodes keep it in memory; nodes that start later will not have it.
      this.#host.logger.warn("Storing a retained message in Redis failed", {
        topic: publish.topic,
        error: error.message,
      });
    });
  }

  /** Gives the server the retained messages the hash holds. */
  async load(pub: Redis): Promise<void> {
    const stored = await pub.hgetall(this.#key);
    const messages: RetainedMessage[] = [];
    for (const topic in stored) {
      const retained = decodeRetained(stored[topic]);
      if (typeof retained === "string") this.#bad(`retained message for "${topic}": ${retained}`);
      else messages.push({ topic, json: retained.json, headers: retained.headers });
    }
    if (messages.length === 0) return;
    const refused = this.#host.restoreRetained(messages);
    this.#host.logger.info("Retained messages loaded from Redis", {
      count: messages.length - refused,
      refused,
    });
  }

  /**
   * Back after an outage: a Redis that came back empty gets this node's
   * retained messages again; otherwise this node takes what it missed.
   */
  async sync(pub: Redis): Promise<void> {
    const key = this.#key;
    try {
      if (await pub.exists(key) === 1) return await this.load(pub);
      const mine = this.#host.retained();
      if (mine.length === 0) return;
      const fields: string[] = [];
      for (const { topic, json, headers } of mine) {
        fields.push(topic, encodeRetained(json, headers));
      }
      await pub.hset(key, ...fields);
      this.#host.logger.info("Retained messages restored to Redis", { count: mine.length });
    } catch (error) {
      this.#host.logger.warn("Syncing retained messages with Redis failed", {
        error: (error as Error).message,
      });
    }
  }
}
