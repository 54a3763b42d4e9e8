/**
 * What `stats` and `top` print: the monitor's `/varz`, `/connz` and
 * `/subsz` answers as plain text tables.
 *
 * @module
 */

/** A JSON answer of the monitor, read field by field. */
// deno-lint-ignore no-explicit-any -- the monitor's JSON, as documented in docs/MONITORING.md
export type MonitorJson = Record<string, any>;

/** `n` bytes in B, KiB, MiB or GiB. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `n` with thousands separators. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Seconds as `1d02h`, `3h04m`, `5m06s` or `7s`. */
export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s >= 86400) return `${Math.floor(s / 86400)}d${pad(Math.floor((s % 86400) / 3600))}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${s}s`;
}

/** Lays out rows as columns; `right` lists the columns aligned right. */
export function table(rows: string[][], right: ReadonlySet<number>): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) =>
    row.map((cell, i) => right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))
      .join("  ").trimEnd()
  );
}

/** The server-wide figures of `/varz`, a few lines. */
export function summaryLines(varz: MonitorJson): string[] {
  const c = varz.connections;
  const r = varz.rates;
  const memory = varz.memory === null ? "" : `  rss ${formatBytes(varz.memory.rss)}`;
  return [
    `kn-sock pubsub ${varz.version} on ${varz.runtime.name} ${varz.runtime.version} at ` +
    `${varz.listeners.tcp}, up ${formatDuration(varz.uptimeSeconds)}` +
    (varz.closing ? " (shutting down)" : ""),
    `connections ${formatCount(c.current)} (tcp ${c.byTransport.tcp}, ws ${c.byTransport.ws}, ` +
    `tls ${c.byTransport.tls}), ${formatCount(c.total)} since start  ` +
    `subscriptions ${formatCount(varz.subscriptions)}  patterns ${formatCount(varz.patterns)}  ` +
    `retained ${formatCount(varz.retained.messages)}`,
    `messages in  ${formatCount(r.messagesIn)}/s (${formatCount(varz.messages.in)} total)  ` +
    `out ${formatCount(r.messagesOut)}/s (${formatCount(varz.messages.out)} total)`,
    `bytes in  ${formatBytes(r.bytesIn)}/s (${formatBytes(varz.bytes.in)} total)  ` +
    `out ${formatBytes(r.bytesOut)}/s (${formatBytes(varz.bytes.out)} total)`,
    `slow consumers ${formatCount(varz.slowConsumers.disconnected)}  ` +
    `dropped ${formatCount(varz.dropped.total)}  auth failures ${
      formatCount(varz.authFailures)
    }  ` +
    `pending ${formatBytes(varz.pendingBytes)}${memory}`,
  ];
}

/** The `top` screen: the summary, the busiest connections, the patterns with most subscribers. */
export function topLines(varz: MonitorJson, connz: MonitorJson, subsz: MonitorJson): string[] {
  const rows = [["ID", "REMOTE", "VIA", "NAME", "USER", "SUBS", "IN", "OUT", "PENDING", "IDLE"]];
  for (const row of connz.connections) {
    rows.push([
      String(row.id),
      row.remote,
      row.transport + (row.tls ? "+tls" : ""),
      row.name ?? "",
      row.user ?? "",
      formatCount(row.subscriptions),
      formatBytes(row.bytesIn),
      formatBytes(row.bytesOut),
      formatBytes(row.pendingBytes),
      formatDuration(row.idleMs / 1000),
    ]);
  }
  const topics = [["SUBSCRIBERS", "PATTERN"]];
  for (const { pattern, subscribers } of subsz.top) {
    topics.push([formatCount(subscribers), pattern]);
  }
  return [
    ...summaryLines(varz),
    "",
    `Busiest connections (by bytes out; ${connz.connections.length} of ${connz.total})`,
    ...table(rows, new Set([0, 5, 6, 7, 8, 9])),
    "",
    "Patterns with the most subscribers",
    ...table(topics, new Set([0])),
  ];
}
