/**
 * The logger interface. Library code never writes to the console: the
 * server and client log through a logger you pass, and do nothing by default.
 *
 * @module
 */

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

function ignore(): void {
  // The silent logger drops everything by design.
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
