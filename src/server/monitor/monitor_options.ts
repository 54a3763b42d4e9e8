/**
 * The server's `monitor` option: where the monitoring endpoints listen, the
 * token that guards them, the dashboard's chart library, and `$SYS/stats`.
 *
 * @module
 */

import type { HttpTransport } from "../../transport/http_types.ts";
import { checkHost, checkPort } from "../server_options.ts";

/** The monitoring port when the option does not give one (NATS uses the same). */
export const DEFAULT_MONITOR_PORT = 8222;
/** The monitoring host when the option does not give one: this machine only. */
export const DEFAULT_MONITOR_HOST = "127.0.0.1";

/** The files the dashboard page loads besides its own script: the chart library. */
export type DashboardAsset = "uplot.js" | "uplot.css";

/**
 * The `monitor` option of {@linkcode startPubSubServer}: HTTP endpoints
 * with the server's health, counters, connections, subscriptions,
 * Prometheus metrics, a stream of snapshots, and a dashboard page (see
 * `docs/MONITORING.md`).
 *
 * @example Monitoring on a free port, guarded by a token
 * ```ts
 * import { startPubSubServer } from "@kn-sock/pubsub";
 *
 * const server = await startPubSubServer({ port: 0, monitor: { port: 0, token: "s3cret" } });
 * const varz = await fetch(`${server.monitorUrl}/varz`, {
 *   headers: { authorization: "Bearer s3cret" },
 * });
 * console.log((await varz.json()).connections.current); // 0
 * await server.close();
 * ```
 */
export interface MonitorOptions {
  /**
   * The HTTP port; `0` picks a free one. Default 8222. The same (non-zero)
   * port as the `webSocket` option's, on the same host, shares that
   * listener.
   */
  port?: number;
  /** The address to bind. Default `"127.0.0.1"`: bind elsewhere only with a `token`. */
  host?: string;
  /**
   * When set, every endpoint with data (all but `/healthz` and the
   * dashboard's static files) requires `Authorization: Bearer <token>`.
   */
  token?: string;
  /**
   * Loads the dashboard's chart library (uPlot): `"uplot.js"` as one ES
   * module, `"uplot.css"` its style. The CLI reads them from the npm
   * package's `browser/` folder. Without it the dashboard shows its tables
   * and figures, without charts.
   */
  assets?: (name: DashboardAsset) => string | Promise<string>;
  /**
   * Publish a stats snapshot to `$SYS/stats` every this many ms (rounded
   * up to whole seconds). Default: never.
   */
  sysStatsIntervalMs?: number;
  /** How to serve HTTP; the current runtime's (`defaultHttpTransport()`) when omitted. */
  httpTransport?: HttpTransport;
}

/** The `monitor` option, checked and with its defaults. */
export interface MonitorPlan {
  readonly port: number;
  readonly host: string;
  readonly token: string | null;
  readonly assets: ((name: DashboardAsset) => string | Promise<string>) | null;
  /** In whole seconds; 0 when `$SYS/stats` is off. */
  readonly sysStatsSeconds: number;
  readonly httpTransport: HttpTransport | undefined;
}

/**
 * Checks the `monitor` option.
 *
 * @throws {RangeError} For a bad port or interval.
 * @throws {TypeError} For another bad option.
 */
export function planMonitor(options: MonitorOptions): MonitorPlan {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`monitor must be an object, got ${String(options)}`);
  }
  const port = checkPort(options.port ?? DEFAULT_MONITOR_PORT);
  const host = checkHost(options.host ?? DEFAULT_MONITOR_HOST);
  const token = options.token ?? null;
  if (token !== null && (typeof token !== "string" || token === "")) {
    throw new TypeError("monitor.token must be a non-empty string");
  }
  if (options.assets !== undefined && typeof options.assets !== "function") {
    throw new TypeError(`monitor.assets must be a function, got ${typeof options.assets}`);
  }
  const interval = options.sysStatsIntervalMs;
  if (interval !== undefined && (!Number.isSafeInteger(interval) || interval < 1)) {
    throw new RangeError(
      `monitor.sysStatsIntervalMs must be a positive integer, got "${String(interval)}"`,
    );
  }
  return {
    port,
    host,
    token,
    assets: options.assets ?? null,
    sysStatsSeconds: interval === undefined ? 0 : Math.ceil(interval / 1000),
    httpTransport: options.httpTransport,
  };
}

/** Whether `host` is a loopback address (binding it needs no token). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
