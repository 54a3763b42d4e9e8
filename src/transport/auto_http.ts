/**
 * The HTTP seam's entry point: pick the current runtime's HTTP transport,
 * and the seam's types. Beside `auto.ts` (which picks the TCP transport),
 * and like it the only place here that asks which runtime this is; it
 * loads just the one adapter it needs.
 *
 * @module
 */

import { detectRuntime } from "./auto.ts";
import type { HttpTransport } from "./http_types.ts";

export type {
  FetchHandler,
  HttpListener,
  HttpRequestInfo,
  HttpTransport,
  ServeHttpOptions,
  WebSocketInfo,
  WebSocketRoute,
} from "./http_types.ts";

/**
 * The HTTP transport for the current runtime: Deno's `serve` on Deno,
 * Bun's `serve` on Bun, and `node:http` (with the `ws` package for
 * WebSocket) elsewhere.
 *
 * @example
 * ```ts
 * import { defaultHttpTransport } from "@kn-sock/pubsub/http";
 *
 * const http = await defaultHttpTransport();
 * const listener = await http.serve({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   fetch: () => new Response("ok"),
 * });
 * console.log(`${http.name} on port ${listener.addr.port}`);
 * await listener.close();
 * ```
 */
export async function defaultHttpTransport(): Promise<HttpTransport> {
  switch (detectRuntime()) {
    case "bun":
      return (await import("./bun_http.ts")).bunHttpTransport;
    case "deno":
      return (await import("./deno_http.ts")).denoHttpTransport;
    default:
      return (await import("./node_http.ts")).nodeHttpTransport;
  }
}
