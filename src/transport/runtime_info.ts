/**
 * What the monitoring endpoints report about the runtime: its name and
 * version, and the process's memory. Node's `process` object answers on
 * all three runtimes (Deno and Bun implement it), so this one file is the
 * only place outside the adapters that reads it.
 *
 * @module
 */

import process from "node:process";
import { detectRuntime, type RuntimeName } from "./auto.ts";

/** The runtime and its version. */
export interface RuntimeInfo {
  /** `"deno"`, `"bun"` or `"node"`. */
  readonly name: RuntimeName;
  /** Its version, for example `"2.9.6"`. */
  readonly version: string;
}

/** The process's memory, in bytes. */
export interface MemoryInfo {
  /** Resident set size. */
  readonly rss: number;
  /** JavaScript heap in use. */
  readonly heapUsed: number;
  /** JavaScript heap allocated. */
  readonly heapTotal: number;
}

/**
 * The current runtime and its version.
 *
 * @example
 * ```ts
 * import { runtimeInfo } from "./runtime_info.ts";
 *
 * console.log(runtimeInfo().name); // "deno", "bun" or "node"
 * ```
 */
export function runtimeInfo(): RuntimeInfo {
  const name = detectRuntime();
  const versions = process.versions as Record<string, string | undefined>;
  return { name, version: versions[name] ?? versions.node ?? "unknown" };
}

/**
 * The process's memory now; `null` where the runtime does not tell it.
 *
 * @example
 * ```ts
 * import { memoryInfo } from "./runtime_info.ts";
 *
 * console.log(memoryInfo()?.rss);
 * ```
 */
export function memoryInfo(): MemoryInfo | null {
  try {
    const { rss, heapUsed, heapTotal } = process.memoryUsage();
    return { rss, heapUsed, heapTotal };
  } catch {
    return null; // a runtime that does not implement it
  }
}
