/**
 * The open-file limit of the benchmark: the `connections` scenario holds
 * 10,101 sockets in this process and as many in the server. This process
 * raises its soft limit to the hard limit (`prlimit`, util-linux); the
 * servers it starts inherit it. Above the hard limit only root can go: the
 * scenario then opens fewer connections and its note says so.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import process from "node:process";

/** An open-file limit: a count, or `Infinity` for `unlimited`. */
export interface FdLimit {
  soft: number;
  hard: number;
}

/** `prlimit --nofile --output SOFT,HARD --noheadings` output, or `null` if it is not that. */
export function parsePrlimit(text: string): FdLimit | null {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 2) return null;
  const [soft, hard] = fields.map((f) => f === "unlimited" ? Infinity : Number(f));
  if (!(soft >= 0) || !(hard >= 0) || soft > hard) return null;
  return { soft, hard };
}

function readLimit(pid: number): FdLimit | null {
  const out = execFileSync(
    "prlimit",
    ["--pid", String(pid), "--nofile", "--output", "SOFT,HARD", "--noheadings"],
    { encoding: "utf8" },
  );
  return parsePrlimit(out);
}

/**
 * Raises this process's soft open-file limit to its hard limit; the limit
 * after, or `null` when it cannot be read or set here (no `prlimit`).
 */
export function raiseFdLimit(): FdLimit | null {
  try {
    const limit = readLimit(process.pid);
    if (limit === null || limit.soft === limit.hard) return limit;
    const hard = Number.isFinite(limit.hard) ? String(limit.hard) : "unlimited";
    execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${hard}:${hard}`]);
    return readLimit(process.pid);
  } catch {
    return null;
  }
}
