/**
 * The Redis backplane's two ioredis connections: one to publish, with no
 * offline queue (a publish while Redis is away is counted, never held), and
 * one subscribed; how they reconnect, and how they close.
 *
 * @module
 */

import { Redis, type RedisOptions } from "ioredis";

/** Longest wait between reconnection attempts, in ms: a Redis back up is used within it. */
const MAX_RECONNECT_DELAY_MS = 500;

/** The connections of one node. */
export interface RedisConnections {
  /** Publishes and commands; fails at once while disconnected. */
  pub: Redis;
  /** Subscribed to the cluster's channels. */
  sub: Redis;
}

/**
 * Makes the two connections to `url`, not connected yet (`connect()` each):
 * both reconnect by themselves, at most 500 ms apart.
 */
export function redisConnections(url: string, connectTimeoutMs: number): RedisConnections {
  const settings: RedisOptions = {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (times) => Math.min(times * 50, MAX_RECONNECT_DELAY_MS),
  };
  // No offline queue: a publish while Redis is away is counted, never held.
  const pub = new Redis(url, {
    ...settings,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  });
  const sub = new Redis(url, settings);
  return { pub, sub };
}

/** Whether `connection` can take a command now. */
export function isReady(connection: Redis | null): connection is Redis {
  return connection !== null && connection.status === "ready";
}

/** Closes a connection: politely when it is up, at once when it is not. */
export async function quit(connection: Redis | null): Promise<void> {
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
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
