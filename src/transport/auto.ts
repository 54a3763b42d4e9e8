/**
 * Picks the transport of the runtime the code runs on. This is the only
 * place that asks which runtime it is; it looks the globals up by name and
 * loads just the one adapter it needs.
 *
 * @module
 */

import type { Transport } from "./types.ts";

/** The runtimes with an adapter of their own. */
export type RuntimeName = "deno" | "bun" | "node";

/**
 * Tells which runtime this is: `"bun"` or `"deno"` when their global is
 * present, `"node"` otherwise.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "@kn-sock/pubsub";
 *
 * console.log(detectRuntime()); // "deno" under Deno
 * ```
 */
export function detectRuntime(): RuntimeName {
  const globals = globalThis as Record<string, unknown>;
  if (globals["Bun"] !== undefined) return "bun";
  if (globals["Deno"] !== undefined) return "deno";
  return "node";
}

/**
 * The transport for the current runtime: Deno's own sockets on Deno, Bun's
 * own on Bun, and `node:net` elsewhere.
 *
 * @example
 * ```ts
 * import { defaultTransport } from "@kn-sock/pubsub";
 *
 * const transport = await defaultTransport();
 * console.log(transport.name);
 * ```
 */
export async function defaultTransport(): Promise<Transport> {
  switch (detectRuntime()) {
    case "bun":
      return (await import("./bun.ts")).bunTransport;
    case "deno":
      return (await import("./deno.ts")).denoTransport;
    default:
      return (await import("./node.ts")).nodeTransport;
  }
}
