/**
 * What a server's handler sees of a connection, and what an authenticated
 * user may do on it.
 *
 * @module
 */

import type { Addr } from "../transport/types.ts";

/**
 * What carries a connection: `"tcp"` for a connection from the server's
 * `Transport` (TCP on Deno, Bun and Node; the memory transport counts as
 * it too), `"ws"` for a WebSocket one; `tls` when TLS protects it (`wss:`
 * for a WebSocket).
 */
export interface ConnectionTransport {
  /** `"tcp"` or `"ws"`. */
  readonly kind: "tcp" | "ws";
  /** Whether the connection is over TLS. */
  readonly tls: boolean;
}

/**
 * A connected client, as the server's handler sees it (kn-sock passes the
 * raw socket; this is the safe equivalent).
 */
export interface ServerClient {
  /** A number unique within the server. */
  readonly id: number;
  /** The client's address. */
  readonly remoteAddr: Addr;
  /** What carries the connection: TCP or WebSocket, with or without TLS. */
  readonly transport: ConnectionTransport;
  /** The topics it is subscribed to. */
  readonly subscriptions: ReadonlySet<string>;
  /** Bytes queued or in flight to it: at most `limits.maxOutboundBytes`. */
  readonly pendingBytes: number;
  /** The authenticated user, when the server requires auth. */
  readonly user: string | null;
  /**
   * Sends one JSON object as a line, subject to the outbound limit.
   * Returns `false` when the client is closing or the limit was hit (the
   * client is then disconnected as a slow consumer).
   */
  send(frame: Record<string, unknown>): boolean;
  /** Closes the connection after flushing what is queued (bounded in time). */
  close(): Promise<void>;
}

/** What a user may do, once authenticated (a `PermissionSet` is one). */
export interface PermissionChecker {
  /** Whether the user may publish to `topic`. */
  canPublish(topic: string): boolean;
  /** Whether the user may subscribe to `pattern`. */
  canSubscribe(pattern: string): boolean;
}
