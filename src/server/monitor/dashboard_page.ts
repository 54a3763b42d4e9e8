/**
 * The dashboard's files: the page at `/` (and `/dashboard`), its script,
 * and the chart library the `assets` option loads (kept once loaded; a
 * failure answers `503` and is tried again on the next request).
 *
 * @module
 */

import { DASHBOARD_HTML } from "./_dashboard_html.ts";
import { DASHBOARD_SCRIPT } from "./_dashboard_script.ts";
import type { DashboardAsset } from "./monitor_options.ts";

const TYPES = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
} as const;

function page(body: string, type: string): Response {
  return new Response(body, {
    headers: {
      "content-type": type,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data:; frame-ancestors 'none'",
    },
  });
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The paths the dashboard answers. */
export const DASHBOARD_PATHS: readonly string[] = [
  "/",
  "/dashboard",
  "/dashboard.js",
  "/uplot.js",
  "/uplot.css",
];

/**
 * A handler for the dashboard's paths (see {@linkcode DASHBOARD_PATHS});
 * `null` for any other.
 */
export function dashboardFiles(
  assets: ((name: DashboardAsset) => string | Promise<string>) | null,
): (pathname: string) => Response | Promise<Response> | null {
  const loaded = new Map<DashboardAsset, Promise<string>>();
  const load = async (name: DashboardAsset): Promise<Response> => {
    if (assets === null) return plain(404, `${name} is not served: the monitor has no assets`);
    let text = loaded.get(name);
    if (text === undefined) {
      text = Promise.resolve(name).then(assets);
      loaded.set(name, text);
    }
    try {
      return page(await text, name.endsWith(".js") ? TYPES.js : TYPES.css);
    } catch {
      loaded.delete(name);
      return plain(503, `${name} could not be loaded`);
    }
  };
  return (pathname) => {
    switch (pathname) {
      case "/":
      case "/dashboard":
        return page(DASHBOARD_HTML, TYPES.html);
      case "/dashboard.js":
        return page(DASHBOARD_SCRIPT, TYPES.js);
      case "/uplot.js":
      case "/uplot.css":
        return load(pathname.slice(1) as DashboardAsset);
      default:
        return null;
    }
  };
}
