/**
 * `/varz`: the server as a whole, in one JSON object: identity, runtime,
 * connections, subscriptions, retained messages, message and byte counters
 * with their current rates, slow consumers and drops, failures, memory, and
 * the limits in force.
 *
 * @module
 */

import type { ServerLimits } from "../../limits.ts";
import { type MemoryInfo, memoryInfo, runtimeInfo } from "../../transport/runtime_info.ts";
import { VERSION } from "../../version.ts";
import type { MonitorSource } from "./monitor_source.ts";
import type { ClusterStats } from "../stats.ts";
import type { Rates } from "./rate_history.ts";

/** What `/varz` answers. */
export interface Varz {
  serverId: string;
  /** This package's version. */
  version: string;
  runtime: { name: string; version: string };
  /** When the server started (ISO 8601). */
  startedAt: string;
  /** When this was taken, in ms since the epoch. */
  now: number;
  uptimeSeconds: number;
  /** Whether the server is shutting down. */
  closing: boolean;
  listeners: { tcp: string; webSocket: string | null };
  connections: {
    current: number;
    total: number;
    refused: number;
    byTransport: { tcp: number; ws: number; tls: number };
  };
  subscriptions: number;
  patterns: number;
  retained: { messages: number; bytes: number };
  messages: { in: number; out: number };
  bytes: { in: number; out: number };
  /** Per second, over the last watchdog sampling interval. */
  rates: Rates;
  slowConsumers: { disconnected: number; notices: number };
  dropped: { total: number; dropOldest: number; dropNewest: number; other: number };
  authFailures: number;
  pingTimeouts: number;
  errorsSent: number;
  handlerErrors: number;
  partialLines: number;
  lines: number;
  frames: number;
  pendingBytes: number;
  memory: MemoryInfo | null;
  slowConsumerPolicy: string;
  limits: ServerLimits;
  /** The backplane's state and counters; `null` on a single node. */
  backplane: ClusterStats | null;
}

/** `/varz` for `source` at `now`, with `rates` from the last sample. */
export function varz(source: MonitorSource, rates: Rates, now: number): Varz {
  const stats = source.stats();
  let tls = 0;
  for (const connection of source.connections()) if (connection.transport.tls) tls++;
  const { hostname, port } = source.addr;
  const dropOldest = stats.droppedOldest;
  const dropNewest = stats.droppedNewest;
  return {
    serverId: source.serverId,
    version: VERSION,
    runtime: { ...runtimeInfo() },
    startedAt: new Date(source.startedAt).toISOString(),
    now,
    uptimeSeconds: Math.floor((now - source.startedAt) / 1000),
    closing: source.closing,
    listeners: {
      tcp: hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`,
      webSocket: source.webSocketUrl,
    },
    connections: {
      current: stats.connections,
      total: stats.totalConnections,
      refused: stats.refusedConnections,
      byTransport: { ...stats.connectionsByTransport, tls },
    },
    subscriptions: stats.subscriptions,
    patterns: stats.topics,
    retained: { messages: stats.retained, bytes: source.retainedBytes },
    messages: { in: stats.messagesIn, out: stats.messagesOut },
    bytes: { in: stats.bytesIn, out: stats.bytesOut },
    rates: { ...rates },
    slowConsumers: { disconnected: stats.slowConsumers, notices: stats.slowConsumerNotices },
    dropped: {
      total: stats.droppedMessages,
      dropOldest,
      dropNewest,
      other: stats.droppedMessages - dropOldest - dropNewest,
    },
    authFailures: stats.authFailures,
    pingTimeouts: stats.pingTimeouts,
    errorsSent: stats.errorsSent,
    handlerErrors: stats.handlerErrors,
    partialLines: stats.partialLines,
    lines: stats.linesIn,
    frames: stats.framesIn,
    pendingBytes: stats.pendingBytes,
    memory: memoryInfo(),
    slowConsumerPolicy: source.policy,
    limits: { ...source.limits },
    backplane: stats.backplane ?? null,
  };
}
