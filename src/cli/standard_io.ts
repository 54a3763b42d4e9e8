/**
 * The command line's standard output and error: writes that respect the
 * pipe's backpressure, and a clean stop when the reader has gone
 * (`sub '#' | head -1`: EPIPE on every runtime) instead of a stack trace
 * or a process that keeps running.
 *
 * @module
 */

import process from "node:process";
import type { CliIo } from "./commands.ts";

/** Codes of a write to a pipe or terminal whose reader has gone. */
const GONE = new Set(["EPIPE", "ERR_STREAM_DESTROYED", "ECONNRESET", "BrokenPipe"]);

const made = new WeakSet<CliIo>();

/** Whether `io` writes to this process's own standard output (a terminal may then be redrawn). */
export function isStandardIo(io: CliIo): boolean {
  return made.has(io);
}

/**
 * Standard output and error as a {@linkcode CliIo}. Made when `main()`
 * runs without its own `io`, so importing the CLI installs nothing.
 */
export function standardIo(): CliIo {
  let onGone: () => void = () => {};
  const outClosed = new Promise<void>((resolve) => {
    onGone = resolve;
  });
  let gone = false;
  process.stdout.on("error", (error: Error & { code?: string }) => {
    if (!GONE.has(error.code ?? error.name)) {
      process.stderr.write(`error: cannot write to standard output: ${error.message}\n`);
    }
    gone = true;
    onGone();
  });
  const io: CliIo = {
    out(line: string): void | Promise<void> {
      if (gone) return;
      if (process.stdout.write(line + "\n")) return;
      // The reader is slower than us: wait, so that memory stays bounded.
      return new Promise<void>((resolve) => {
        process.stdout.once("drain", resolve);
        void outClosed.then(resolve);
      });
    },
    err(line: string): void {
      process.stderr.write(line + "\n");
    },
    outClosed,
  };
  made.add(io);
  return io;
}
