/**
 * How a client command stops before it is done: at SIGINT or SIGTERM
 * (Ctrl-C is never ignored), when standard output's reader has gone
 * (`sub t | head -1`), or when a step takes longer than its timeout. Every
 * wait of a client command is raced against these, so none can hang.
 *
 * @module
 */

import process from "node:process";
import { abortable, deadline } from "../_async.ts";
import { CliError } from "./arguments.ts";

/** A command stopped by a signal or a closed standard output: exits with `exitCode`, quietly. */
export class Stopped extends Error {
  /** The exit code: 130 for SIGINT, 143 for SIGTERM, 0 when standard output closed. */
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "Stopped";
    this.exitCode = exitCode;
  }
}

/** The exit code a shell reports for a process ended by `signal`. */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** A client command's stop: aborts at SIGINT, SIGTERM or when `outClosed` resolves. */
export interface CommandStop {
  /** Aborts with a {@linkcode Stopped} reason. */
  readonly signal: AbortSignal;
  /** Removes the signal listeners. */
  dispose(): void;
}

/** Starts listening for SIGINT and SIGTERM (and `outClosed`) until `dispose()`. */
export function commandStop(outClosed?: Promise<void>): CommandStop {
  const controller = new AbortController();
  const onSignal = (name: string): void => {
    controller.abort(new Stopped(`Interrupted by ${name}`, SIGNAL_EXIT[name] ?? 1));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  void outClosed?.then(() => controller.abort(new Stopped("", 0)));
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/**
 * Runs `step` with a signal that aborts after `timeoutMs` or with `stop`,
 * and never waits past either: a timeout becomes a {@linkcode CliError}
 * saying `what` timed out (and `hint`), a stop its {@linkcode Stopped}.
 */
export async function bounded<T>(
  stop: CommandStop,
  timeoutMs: number,
  what: string,
  step: (signal: AbortSignal) => Promise<T>,
  hint = "",
): Promise<T> {
  const limit = deadline(timeoutMs, what, stop.signal);
  try {
    return await abortable(step(limit.signal), limit.signal);
  } catch (error) {
    if (!limit.signal.aborted) throw error;
    if (stop.signal.aborted) throw stop.signal.reason;
    throw new CliError(`${what} timed out after ${timeoutMs} ms${hint}`, { cause: error });
  } finally {
    limit.clear();
  }
}
