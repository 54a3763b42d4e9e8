/**
 * `/connz`: one row per open connection, sorted and paged. Rows come from
 * what the session and the watchdog keep anyway (bytes per chunk read and
 * per write, the watchdog's last sight of input); they hold no credential.
 *
 * @module
 */

import type { ServerConnection } from "../connection.ts";
import type { MonitorSource } from "./monitor_source.ts";

/** The most rows one page holds. */
export const MAX_CONNZ_LIMIT = 1000;
/** The rows a page holds when `limit` is not given. */
export const DEFAULT_CONNZ_LIMIT = 100;

/** One connection, as `/connz` shows it. */
export interface ConnectionRow {
  /** The server's number for it. */
  id: number;
  /** The client's address, `host:port`. */
  remote: string;
  /** `"tcp"` or `"ws"`. */
  transport: "tcp" | "ws";
  /** Whether TLS protects it. */
  tls: boolean;
  /** The name it gave in `hello`; `null` when it gave none. */
  name: string | null;
  /** The user it authenticated as; `null` without auth. */
  user: string | null;
  /** Its subscriptions, plain and in queue groups. */
  subscriptions: number;
  /** Bytes read from it. */
  bytesIn: number;
  /** Bytes written to it. */
  bytesOut: number;
  /** Bytes queued or in flight to it. */
  pendingBytes: number;
  /** The slow-consumer policy its subscriptions default to. */
  policy: string;
  /** Ms since the watchdog last saw input from it (to within a watchdog round). */
  idleMs: number;
  /** Ms since it connected. */
  uptimeMs: number;
}

/** A sort order of `/connz`. */
export type ConnzSort = "id" | "bytes_in" | "bytes_out" | "pending" | "subs" | "idle" | "uptime";

/** The numeric fields of a {@linkcode ConnectionRow}, which `/connz` sorts by. */
export type ConnzSortField =
  | "id"
  | "bytesIn"
  | "bytesOut"
  | "pendingBytes"
  | "subscriptions"
  | "idleMs"
  | "uptimeMs";

/** The sort orders of `/connz`, and the row field each sorts by (largest first but for `id`). */
export const CONNZ_SORTS: Readonly<Record<ConnzSort, ConnzSortField>> = {
  id: "id",
  bytes_in: "bytesIn",
  bytes_out: "bytesOut",
  pending: "pendingBytes",
  subs: "subscriptions",
  idle: "idleMs",
  uptime: "uptimeMs",
};

/** What `/connz` answers. */
export interface Connz {
  /** When, in ms since the epoch. */
  now: number;
  /** Open connections, all pages together. */
  total: number;
  offset: number;
  limit: number;
  sort: ConnzSort;
  /** This page's rows. */
  connections: ConnectionRow[];
}

/** A query of `/connz`, checked. */
export interface ConnzQuery {
  offset: number;
  limit: number;
  sort: ConnzSort;
}

function formatAddr(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** One row for `connection` at `now`. */
export function connectionRow(
  connection: ServerConnection,
  policy: string,
  now: number,
): ConnectionRow {
  const session = connection.session;
  const { remoteAddr, transport } = connection;
  return {
    id: connection.id,
    remote: formatAddr(remoteAddr.hostname, remoteAddr.port),
    transport: transport.kind,
    tls: transport.tls,
    name: connection.greeting?.name || null,
    user: connection.user,
    subscriptions: connection.route.size,
    bytesIn: session.bytesIn,
    bytesOut: session.bytesOut,
    pendingBytes: session.pendingBytes,
    policy,
    idleMs: Math.max(0, now - session.liveness.heardAt),
    uptimeMs: Math.max(0, now - session.liveness.openedAt),
  };
}

function integer(text: string | null, name: string, min: number, max: number, fallback: number) {
  if (text === null) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`"${name}" must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/**
 * Reads `limit`, `offset` and `sort` from a query string.
 *
 * @throws {RangeError} For a value out of range or an unknown sort.
 */
export function parseConnzQuery(params: URLSearchParams): ConnzQuery {
  const limit = integer(params.get("limit"), "limit", 1, MAX_CONNZ_LIMIT, DEFAULT_CONNZ_LIMIT);
  const offset = integer(params.get("offset"), "offset", 0, Number.MAX_SAFE_INTEGER, 0);
  const sort = params.get("sort") ?? "id";
  if (!Object.hasOwn(CONNZ_SORTS, sort)) {
    throw new RangeError(
      `"sort" must be one of ${Object.keys(CONNZ_SORTS).join(", ")}, got "${sort}"`,
    );
  }
  return { limit, offset, sort: sort as ConnzSort };
}

/** The rows of every open connection, sorted by `sort`. */
export function sortedRows(source: MonitorSource, sort: ConnzSort, now: number): ConnectionRow[] {
  const rows: ConnectionRow[] = [];
  for (const connection of source.connections()) {
    rows.push(connectionRow(connection, source.policy, now));
  }
  const field = CONNZ_SORTS[sort];
  if (field === "id") rows.sort((a, b) => a.id - b.id);
  else rows.sort((a, b) => b[field] - a[field] || a.id - b.id);
  return rows;
}

/** One page of `/connz`. */
export function connz(source: MonitorSource, query: ConnzQuery, now: number): Connz {
  const rows = sortedRows(source, query.sort, now);
  return {
    now,
    total: rows.length,
    offset: query.offset,
    limit: query.limit,
    sort: query.sort,
    connections: rows.slice(query.offset, query.offset + query.limit),
  };
}
