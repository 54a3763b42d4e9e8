/**
 * The monitor: the HTTP routes of `/healthz`, `/varz`, `/connz`, `/subsz`,
 * `/metrics`, `/events` and the dashboard, on a listener of their own or
 * beside the WebSocket route, and the sampling that feeds the rates, the
 * event streams and `$SYS/stats`. It samples from the server's watchdog
 * (about once a second): nothing is added to the publish path.
 *
 * @module
 */

import type { Logger } from "../../logger.ts";
import type { JsonValue } from "../../protocol/frames.ts";
import { defaultHttpTransport } from "../../transport/auto_http.ts";
import type { HttpListener } from "../../transport/http_types.ts";
import type { Addr } from "../../transport/types.ts";
import type { HttpRoute } from "../server_options.ts";
import { composeRoutes } from "../websocket_endpoint.ts";
import { connz, parseConnzQuery, sortedRows } from "./connz.ts";
import { dashboardFiles } from "./dashboard_page.ts";
import { EventStreams, sseEvent } from "./event_streams.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { isLoopback, type MonitorPlan } from "./monitor_options.ts";
import type { MonitorSource } from "./monitor_source.ts";
import { RateHistory } from "./rate_history.ts";
import { type PatternCount, subsz, topPatterns } from "./subsz.ts";
import { varz } from "./varz.ts";

/** How often the monitor samples, in ms. */
export const SAMPLE_MS = 1000;
/** The topic of the stats snapshots the server publishes when `sysStatsIntervalMs` is set. */
export const SYS_STATS_TOPIC = "$SYS/stats";
/** Rows of the busiest connections in each `/events` snapshot. */
export const SNAPSHOT_CONNECTIONS = 10;
/** Patterns in a snapshot's topic table, recounted every this many samples. */
export const SNAPSHOT_TOPICS = { count: 10, everySamples: 5 } as const;

/** The monitoring endpoints, as documented in `docs/MONITORING.md` (a test compares them). */
export const MONITOR_ENDPOINTS: readonly { path: string; token: boolean; what: string }[] = [
  { path: "/healthz", token: false, what: "200 while accepting, 503 while shutting down" },
  { path: "/varz", token: true, what: "the server as a whole (JSON)" },
  { path: "/connz", token: true, what: "one row per connection, paged (JSON)" },
  { path: "/subsz", token: true, what: "subscription counts and a topic's reach (JSON)" },
  { path: "/metrics", token: true, what: "Prometheus text exposition format" },
  { path: "/events", token: true, what: "server-sent events: history, then a snapshot a second" },
  { path: "/", token: false, what: "the dashboard page (also /dashboard)" },
];

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** Compares in time that depends on the lengths only. */
function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i % (b.length || 1));
  return diff === 0;
}

/** The monitoring side of one server. */
export class Monitor {
  readonly #source: MonitorSource;
  readonly #plan: MonitorPlan;
  readonly #logger: Logger;
  readonly #history = new RateHistory();
  readonly #streams = new EventStreams();
  readonly #files: ReturnType<typeof dashboardFiles>;
  #listener: HttpListener | null = null;
  #shared: Addr | null = null;
  #https = false;
  #sampledAt = -Infinity;
  #samples = 0;
  #topics: PatternCount[] = [];
  #closed = false;

  /** Answers the monitoring paths; `null` for others. */
  readonly route: HttpRoute = (request) => this.#answer(request);

  /**
   * @param source The server, as monitoring sees it.
   * @param plan The checked `monitor` option.
   * @param logger The server's logger.
   */
  constructor(source: MonitorSource, plan: MonitorPlan, logger: Logger) {
    this.#source = source;
    this.#plan = plan;
    this.#logger = logger;
    this.#files = dashboardFiles(plan.assets);
  }

  /** The plan it was made with. */
  get plan(): MonitorPlan {
    return this.#plan;
  }

  /** The address it answers on (its own listener's, or the WebSocket one's it shares). */
  get addr(): Addr | null {
    return this.#listener?.addr ?? this.#shared;
  }

  /** The base URL of the endpoints, for example `"http://127.0.0.1:8222"`. */
  get url(): string | null {
    const addr = this.addr;
    if (addr === null) return null;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    return `${this.#https ? "https" : "http"}://${host}:${addr.port}`;
  }

  /** Starts sampling from the server's watchdog. */
  start(): void {
    this.#source.sample((now) => this.#sample(now), SAMPLE_MS);
    if (!isLoopback(this.#plan.host) && this.#plan.token === null) {
      this.#logger.warn("Monitoring listens beyond this machine without a token", {
        host: this.#plan.host,
      });
    }
  }

  /**
   * Answers on the WebSocket listener at `addr` instead of a listener of
   * its own (HTTPS when `tls`: the server's certificate serves both).
   */
  share(addr: Addr, tls: boolean): void {
    this.#shared = addr;
    this.#https = tls;
  }

  /** Serves the routes on a listener of its own. */
  async listen(): Promise<void> {
    const http = this.#plan.httpTransport ?? await defaultHttpTransport();
    const listener = await http.serve({
      hostname: this.#plan.host,
      port: this.#plan.port,
      fetch: composeRoutes([this.route]),
    });
    if (this.#closed) await listener.close();
    else this.#listener = listener;
  }

  /** Ends the event streams and closes its listener. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#streams.close();
    const listener = this.#listener;
    this.#listener = null;
    await listener?.close();
  }

  /** Called from the watchdog's round: never throws. */
  #sample(now: number): void {
    try {
      this.#sampleNow(now);
    } catch (error) {
      this.#logger.error("Monitoring sample failed", { error });
    }
  }

  #sampleNow(now: number): void {
    // The watchdog may run more often (short limits): sample once a second.
    if (now - this.#sampledAt < SAMPLE_MS * 0.9) return;
    this.#sampledAt = now;
    const point = this.#history.sample(now, this.#source.stats());
    this.#samples++;
    const sysEvery = this.#plan.sysStatsSeconds;
    const sysDue = sysEvery > 0 && this.#samples % sysEvery === 0;
    if (this.#streams.size === 0 && !sysDue) return;
    const snapshot = varz(this.#source, this.#history.rates, now);
    if (sysDue && !this.#source.closing) {
      this.#source.publish(SYS_STATS_TOPIC, snapshot as unknown as JsonValue);
    }
    if (this.#streams.size === 0) return;
    const fresh = this.#samples % SNAPSHOT_TOPICS.everySamples === 1 || this.#topics.length === 0;
    if (fresh) this.#topics = topPatterns(this.#source, SNAPSHOT_TOPICS.count);
    this.#streams.send(sseEvent("snapshot", {
      point,
      varz: snapshot,
      connections: sortedRows(this.#source, "bytes_out", now).slice(0, SNAPSHOT_CONNECTIONS),
      topics: this.#topics,
    }));
  }

  #authorized(request: Request): boolean {
    const token = this.#plan.token;
    if (token === null) return true;
    const header = request.headers.get("authorization") ?? "";
    return header.startsWith("Bearer ") && sameText(header.slice(7).trim(), token);
  }

  #answer(request: Request): Response | Promise<Response> | null {
    const url = new URL(request.url);
    const path = url.pathname;
    const endpoint = MONITOR_ENDPOINTS.find((e) => e.path === path);
    const file = endpoint === undefined || path === "/" ? this.#files(path) : null;
    if (endpoint === undefined && file === null) return null;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (file !== null) return file;
    if (endpoint!.token && !this.#authorized(request)) {
      return json({ error: "A bearer token is required" }, 401, {
        "www-authenticate": 'Bearer realm="kn-sock monitor"',
      });
    }
    const source = this.#source;
    const now = Date.now();
    try {
      switch (path) {
        case "/healthz":
          return source.closing ? json({ status: "shutting_down" }, 503) : json({ status: "ok" });
        case "/varz":
          return json(varz(source, this.#history.rates, now));
        case "/connz":
          return json(connz(source, parseConnzQuery(url.searchParams), now));
        case "/subsz":
          return json(subsz(source, url.searchParams));
        case "/metrics":
          return new Response(renderMetrics(varz(source, this.#history.rates, now)), {
            headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
          });
        default:
          return this.#events();
      }
    } catch (error) {
      if (error instanceof RangeError) return json({ error: error.message }, 400);
      throw error;
    }
  }

  #events(): Response {
    const stream = this.#closed
      ? null
      : this.#streams.open(sseEvent("history", { points: this.#history.points() }));
    if (stream === null) return json({ error: "Too many event streams" }, 503);
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }
}
