/**
 * `/metrics`: the figures of `/varz` in the Prometheus text exposition
 * format (version 0.0.4). Counters end in `_total`, sizes are in bytes and
 * times in seconds, each family has one `HELP` and one `TYPE` line. Rates
 * are left to Prometheus (`rate()`); the list below is also the table of
 * `docs/MONITORING.md`, which a test compares with it.
 *
 * @module
 */

import type { Varz } from "./varz.ts";

/** One sample: its labels (possibly none) and its value. */
export type MetricSample = readonly [labels: Readonly<Record<string, string>>, value: number];

/** A metric family: its name, type, help text, and how to read its samples from `/varz`. */
export interface MetricFamily {
  readonly name: string;
  readonly type: "counter" | "gauge";
  readonly help: string;
  /** The label names its samples carry, if any. */
  readonly labels: readonly string[];
  /** Its samples; none when the runtime does not tell the figure. */
  readonly samples: (varz: Varz) => readonly MetricSample[];
}

const NONE = {};

/** A family as one row: name, type, help, its samples' reader, and its label names if any. */
type Row = readonly [
  name: string,
  type: "counter" | "gauge",
  help: string,
  read: (varz: Varz) => number | null | MetricSample[],
  labels?: readonly string[],
];

const ROWS: readonly Row[] = [
  [
    "knsock_info",
    "gauge",
    "Always 1; the labels say which server, version and runtime this is.",
    (v) => [[{
      version: v.version,
      runtime: v.runtime.name,
      runtime_version: v.runtime.version,
      server_id: v.serverId,
    }, 1]],
    ["version", "runtime", "runtime_version", "server_id"],
  ],
  [
    "knsock_start_time_seconds",
    "gauge",
    "When the server started, in seconds since the Unix epoch.",
    (v) => Date.parse(v.startedAt) / 1000,
  ],
  ["knsock_uptime_seconds", "gauge", "Seconds since the server started.", (v) => v.uptimeSeconds],
  [
    "knsock_connections",
    "gauge",
    "Open connections, by transport.",
    (v) => [
      [{ transport: "tcp" }, v.connections.byTransport.tcp],
      [{ transport: "ws" }, v.connections.byTransport.ws],
    ],
    ["transport"],
  ],
  [
    "knsock_tls_connections",
    "gauge",
    "Open connections protected by TLS.",
    (v) => v.connections.byTransport.tls,
  ],
  [
    "knsock_connections_accepted_total",
    "counter",
    "Connections accepted since start.",
    (v) => v.connections.total,
  ],
  [
    "knsock_connections_refused_total",
    "counter",
    "Connections refused for maxConnections.",
    (v) => v.connections.refused,
  ],
  [
    "knsock_subscriptions",
    "gauge",
    "Subscriptions (connection and pattern pairs; a queue group counts once).",
    (v) => v.subscriptions,
  ],
  [
    "knsock_subscription_patterns",
    "gauge",
    "Topics and patterns with at least one subscriber.",
    (v) => v.patterns,
  ],
  ["knsock_retained_messages", "gauge", "Retained messages held.", (v) => v.retained.messages],
  ["knsock_retained_bytes", "gauge", "Bytes of retained messages held.", (v) => v.retained.bytes],
  [
    "knsock_messages_received_total",
    "counter",
    "Messages published, by clients and by the server.",
    (v) => v.messages.in,
  ],
  [
    "knsock_messages_delivered_total",
    "counter",
    "Deliveries queued to subscribers.",
    (v) => v.messages.out,
  ],
  ["knsock_received_bytes_total", "counter", "Bytes read from clients.", (v) => v.bytes.in],
  ["knsock_sent_bytes_total", "counter", "Bytes written to clients.", (v) => v.bytes.out],
  ["knsock_lines_received_total", "counter", "Lines received, valid or not.", (v) => v.lines],
  ["knsock_frames_received_total", "counter", "Valid frames received.", (v) => v.frames],
  ["knsock_error_frames_sent_total", "counter", "Error frames sent.", (v) => v.errorsSent],
  [
    "knsock_slow_consumers_total",
    "counter",
    "Subscribers disconnected for falling behind.",
    (v) => v.slowConsumers.disconnected,
  ],
  [
    "knsock_slow_consumer_notices_total",
    "counter",
    "slow_consumer notices sent to clients whose messages were dropped.",
    (v) => v.slowConsumers.notices,
  ],
  [
    "knsock_dropped_messages_total",
    "counter",
    "Messages dropped, by slow-consumer policy (other: a logger's publishes past the limit).",
    (v) => [
      [{ policy: "drop-oldest" }, v.dropped.dropOldest],
      [{ policy: "drop-newest" }, v.dropped.dropNewest],
      [{ policy: "other" }, v.dropped.other],
    ],
    ["policy"],
  ],
  [
    "knsock_auth_failures_total",
    "counter",
    "Connections refused for bad credentials or no hello in time.",
    (v) => v.authFailures,
  ],
  [
    "knsock_ping_timeouts_total",
    "counter",
    "Connections closed because they answered no ping.",
    (v) => v.pingTimeouts,
  ],
  [
    "knsock_handler_errors_total",
    "counter",
    "Times the handler threw or rejected.",
    (v) => v.handlerErrors,
  ],
  [
    "knsock_partial_lines_total",
    "counter",
    "Connections that ended in the middle of a line.",
    (v) => v.partialLines,
  ],
  [
    "knsock_pending_bytes",
    "gauge",
    "Bytes waiting to be written, summed over connections.",
    (v) => v.pendingBytes,
  ],
  ["knsock_shutting_down", "gauge", "1 while the server shuts down, else 0.", (v) => +v.closing],
  [
    "process_resident_memory_bytes",
    "gauge",
    "Resident memory size in bytes.",
    (v) => v.memory?.rss ?? null,
  ],
  [
    "knsock_heap_used_bytes",
    "gauge",
    "JavaScript heap in use, in bytes.",
    (v) => v.memory?.heapUsed ?? null,
  ],
  [
    "knsock_heap_total_bytes",
    "gauge",
    "JavaScript heap allocated, in bytes.",
    (v) => v.memory?.heapTotal ?? null,
  ],
];

/** Every metric family `/metrics` serves, in order. */
export const METRIC_FAMILIES: readonly MetricFamily[] = ROWS.map((
  [name, type, help, read, labels = []],
): MetricFamily => ({
  name,
  type,
  help,
  labels,
  samples: (varz) => {
    const value = read(varz);
    return value === null ? [] : typeof value === "number" ? [[NONE, value]] : value;
  },
}));

/** The content type of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** The text of `/metrics` for `varz`. */
export function renderMetrics(varz: Varz): string {
  const lines: string[] = [];
  for (const metric of METRIC_FAMILIES) {
    const samples = metric.samples(varz);
    if (samples.length === 0) continue;
    lines.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, "\\\\")}`);
    lines.push(`# TYPE ${metric.name} ${metric.type}`);
    for (const [labels, value] of samples) {
      const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      const head = pairs.length === 0 ? metric.name : `${metric.name}{${pairs.join(",")}}`;
      lines.push(`${head} ${formatValue(value)}`);
    }
  }
  return lines.join("\n") + "\n";
}
