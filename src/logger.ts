/**
 * The logger interface. Library code never writes to the console: the
 * server and client log through a logger you pass, and do nothing by default.
 *
 * @module
 */

import { ignore } from "./_async.ts";

/** Structured context for a log line. */
export type LogFields = Record<string, unknown>;

/**
 * Where the library logs. Each method takes a sentence-case message and
 * optional fields; `console` fits.
 *
 * @example Logging to the console
 * ```ts
 * import { startPubSubServer } from "@kn-sock/pubsub";
 *
 * const server = await startPubSubServer({ port: 0, logger: console });
 * await server.close();
 * ```
 */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, fields?: LogFields): void;
  /** Normal events: a connection opened or closed. */
  info(message: string, fields?: LogFields): void;
  /** Something went wrong for one peer: a slow consumer, a bad frame. */
  warn(message: string, fields?: LogFields): void;
  /** Something went wrong that the operator should see: a handler threw. */
  error(message: string, fields?: LogFields): void;
}

/**
 * A logger that drops everything: the default.
 *
 * @example
 * ```ts
 * import { silentLogger } from "@kn-sock/pubsub";
 *
 * silentLogger.info("Not printed");
 * ```
 */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});

function lost(): void {
  // A line the logger failed to write.
}

/**
 * `logger` with each method guarded: a logger that throws loses that line,
 * never the caller's work. The server calls its logger in the middle of
 * routing a publish, and the client in the middle of a reconnect.
 */
export function guardLogger(logger: Logger): Logger {
  if (logger === silentLogger) return logger;
  const guarded = (method: keyof Logger) => (message: string, fields?: LogFields): void => {
    try {
      // An async logger's rejection is lost the same way (unhandled, it could end the process).
      const result: unknown = logger[method](message, fields);
      if (result instanceof Promise) result.catch(lost);
    } catch {
      // A failing logger has nowhere to report to: the line is lost, nothing else.
    }
  };
  return {
    debug: guarded("debug"),
    info: guarded("info"),
    warn: guarded("warn"),
    error: guarded("error"),
  };
}
