/**
 * The server's counters.
 *
 * @module
 */

import type { BackplaneStats } from "../backplane/backplane.ts";

/** Open connections, by what carries them. */
export interface ConnectionsByTransport {
  /** Over the server's `Transport` (TCP, or the memory transport). */
  tcp: number;
  /** Over WebSocket (the server's `webSocket` option). */
  ws: number;
}

/** A snapshot of a server's counters, from {@linkcode PubSubServer.stats}. */
export interface ServerStats {
  /** Connections open now. */
  connections: number;
  /** Connections open now, by transport: they add up to `connections`. */
  connectionsByTransport: ConnectionsByTransport;
  /** Connections accepted since start. */
  totalConnections: number;
  /** Connections refused for `maxConnections`. */
  refusedConnections: number;
  /** (connection, topic) subscriptions now. */
  subscriptions: number;
  /** Topics and patterns with at least one subscriber now. */
  topics: number;
  /** Retained messages held now. */
  retained: number;
  /** Lines received, valid or not, blank ones included. */
  linesIn: number;
  /** Valid frames received. */
  framesIn: number;
  /** Bytes read from clients (counted per chunk read, not per message). */
  bytesIn: number;
  /** Bytes written to clients (counted per write, not per message). */
  bytesOut: number;
  /** Messages published (by clients and by `server.publish()`). */
  messagesIn: number;
  /** Deliveries queued to subscribers. */
  messagesOut: number;
  /** Error frames sent. */
  errorsSent: number;
  /** Subscribers disconnected for falling behind (policy `disconnect`, or the write deadline). */
  slowConsumers: number;
  /**
   * Deliveries dropped by the `drop-oldest` and `drop-newest` policies; also
   * publishes a logger made during one publish past the first 1,024 (see
   * the server's `logger` option).
   */
  droppedMessages: number;
  /** Of `droppedMessages`, those dropped by the `drop-oldest` policy. */
  droppedOldest: number;
  /** Of `droppedMessages`, those dropped by the `drop-newest` policy. */
  droppedNewest: number;
  /** `slow_consumer` notices sent (each tells a client what was dropped). */
  slowConsumerNotices: number;
  /** Connections closed because they answered no ping. */
  pingTimeouts: number;
  /** Connections refused for bad credentials or no `hello` in time. */
  authFailures: number;
  /** Times the handler threw or rejected. */
  handlerErrors: number;
  /** Connections that ended in the middle of a line (the partial line is dropped). */
  partialLines: number;
  /** Bytes waiting to be written, summed over connections, now. */
  pendingBytes: number;
  /** Estimated bytes all subscriptions hold now, against `maxSubscriptionBytes`. */
  subscriptionBytes: number;
  /** Bytes unfinished lines hold now, summed over connections, against `maxPartialLineBytes`. */
  partialLineBytes: number;
  /** The backplane's state and counters; absent on a server without one (a single node). */
  backplane?: ClusterStats;
}

/** A backplane's counters, and what the server counts of its cluster. */
export interface ClusterStats extends BackplaneStats {
  /**
   * Publishes from other nodes that picked this node for a queue group it
   * no longer had (its last member left before the news reached the
   * publisher): no member of that group got them.
   */
  groupMisses: number;
  /** Nodes with queue group members, this one included, as this node knows them. */
  groupNodes: number;
  /**
   * (node, pattern) pairs the other nodes announced they have subscribers
   * for: what `no_responders` is answered from, with this node's own index.
   */
  remotePatterns: number;
}

/** The counters a server keeps; the gauges are computed on demand. */
export type ServerCounters = Omit<
  ServerStats,
  | "connections"
  | "connectionsByTransport"
  | "subscriptions"
  | "topics"
  | "retained"
  | "pendingBytes"
  | "subscriptionBytes"
  | "partialLineBytes"
  | "backplane"
>;

/** Fresh counters, all zero. */
export function createCounters(): ServerCounters {
  return {
    totalConnections: 0,
    refusedConnections: 0,
    linesIn: 0,
    framesIn: 0,
    bytesIn: 0,
    bytesOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    errorsSent: 0,
    slowConsumers: 0,
    droppedMessages: 0,
    droppedOldest: 0,
    droppedNewest: 0,
    slowConsumerNotices: 0,
    pingTimeouts: 0,
    authFailures: 0,
    handlerErrors: 0,
    partialLines: 0,
  };
}
