/**
 * What monitoring reads from a server: counters it keeps anyway, its open
 * connections, and a few questions to its router. The server hands one
 * over; nothing here is called on the publish path.
 *
 * @module
 */

import type { ServerLimits } from "../../limits.ts";
import type { JsonValue, SlowConsumerPolicy } from "../../protocol/frames.ts";
import type { Addr } from "../../transport/types.ts";
import type { ServerConnection } from "../connection.ts";
import type { ServerStats } from "../stats.ts";

/** A server as monitoring sees it. */
export interface MonitorSource {
  /** The server's id (as in its `hello` answer). */
  readonly serverId: string;
  /** When the server started, in ms since the epoch. */
  readonly startedAt: number;
  readonly limits: Readonly<ServerLimits>;
  /** The server's slow-consumer policy. */
  readonly policy: SlowConsumerPolicy;
  /** Whether the server is shutting down. */
  readonly closing: boolean;
  /** The TCP listener's address. */
  readonly addr: Addr;
  /** The WebSocket URL, or `null`. */
  readonly webSocketUrl: string | null;
  /** The counters and gauges. */
  stats(): ServerStats;
  /** The open connections. */
  connections(): Iterable<ServerConnection>;
  /** Who a publish to `topic` would reach now. */
  reach(topic: string): { connections: number; groups: number };
  /** The pattern of each queue group. */
  queueGroupPatterns(): string[];
  /** Bytes of retained messages held. */
  readonly retainedBytes: number;
  /** Calls `sampler` from the server's watchdog at least every `everyMs`. */
  sample(sampler: (now: number) => void, everyMs: number): void;
  /** Publishes from the server itself. */
  publish(topic: string, message: JsonValue): number;
}
