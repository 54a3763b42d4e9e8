/**
 * A small live demo of the broker for a browser: a page that subscribes to
 * a pattern, publishes to a topic and lists the messages that arrive, over
 * WebSocket to the same host. Served by a web-standard handler, for the
 * HTTP listener of the WebSocket port; it loads the browser client from
 * the same server (no CDN).
 *
 * @module
 */

import { DEMO_SCRIPT, pageHtml } from "./_page.ts";

/** What {@linkcode demoPage} takes. */
export interface DemoPageOptions {
  /** The path of the WebSocket route the page connects to, on its own host. Default `"/ws"`. */
  webSocketPath?: string;
  /**
   * Loads the browser client as one ES module: the text of the bundled
   * `@kn-sock/pubsub/browser` (`npm/browser/pubsub.js` in the npm build).
   * Called on the first request for `/pubsub.js`; the text is kept. A
   * failure answers `503` and is tried again on the next request.
   */
  clientScript: () => string | Promise<string>;
}

/**
 * Answers a request for the demo, or returns `null` for a path that is
 * not the demo's (so the caller can answer it).
 */
export type DemoPageHandler = (request: Request) => Response | Promise<Response> | null;

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";

/**
 * The demo's handler: `GET /` is the page, `/demo.js` its script,
 * `/pubsub.js` the browser client; other paths return `null`. The page
 * connects to `ws(s)://<its host><webSocketPath>`, subscribes to `demo/#`,
 * and lets the visitor subscribe and publish. Responses forbid framing and
 * loading anything from elsewhere.
 *
 * @example Serving the demo beside a WebSocket route
 * ```ts
 * import { demoPage } from "./demo_page.ts";
 *
 * const page = demoPage({ clientScript: () => "export class PubSubClient {}" });
 * const response = await page(new Request("http://127.0.0.1:8081/"));
 * console.log(response?.headers.get("content-type")); // "text/html; charset=utf-8"
 * console.log(page(new Request("http://127.0.0.1:8081/healthz"))); // null
 * ```
 *
 * @param options The WebSocket path, and where the client's script comes from.
 * @returns A handler that answers the demo's paths and returns `null` for others.
 * @throws {TypeError} For a `webSocketPath` without a leading `/`, or no `clientScript`.
 */
export function demoPage(options: DemoPageOptions): DemoPageHandler {
  const path = options.webSocketPath ?? "/ws";
  if (typeof path !== "string" || !path.startsWith("/")) {
    throw new TypeError(`webSocketPath must start with "/", got "${String(path)}"`);
  }
  if (typeof options.clientScript !== "function") {
    throw new TypeError(`clientScript must be a function, got ${typeof options.clientScript}`);
  }
  const html = pageHtml(path);
  let script: Promise<string> | null = null;
  const loadScript = async (): Promise<Response> => {
    script ??= Promise.resolve().then(options.clientScript);
    try {
      return respond(await script, JS);
    } catch {
      script = null;
      return new Response("The browser client could not be loaded", {
        status: 503,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
  };
  return (request) => {
    const { pathname } = new URL(request.url);
    if (pathname !== "/" && pathname !== "/demo.js" && pathname !== "/pubsub.js") return null;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    if (pathname === "/") return respond(html, HTML);
    if (pathname === "/demo.js") return respond(DEMO_SCRIPT, JS);
    return loadScript();
  };
}

function respond(body: string, type: string): Response {
  return new Response(body, {
    headers: {
      "content-type": type,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'self'; connect-src 'self' ws: wss:; " +
        "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    },
  });
}
