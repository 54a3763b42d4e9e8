/**
 * The guard around a user's logger: a logger that throws loses its line and
 * nothing else (the server calls it in the middle of routing).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { guardLogger, type LogFields, type Logger, silentLogger } from "../src/logger.ts";

test("guardLogger forwards every method with its fields and this", () => {
  const lines: [string, string, LogFields | undefined][] = [];
  class Recorder implements Logger {
    debug(message: string, fields?: LogFields): void {
      lines.push([this === recorder ? "debug" : "wrong this", message, fields]);
    }
    info(message: string, fields?: LogFields): void {
      lines.push([this === recorder ? "info" : "wrong this", message, fields]);
    }
    warn(message: string, fields?: LogFields): void {
      lines.push([this === recorder ? "warn" : "wrong this", message, fields]);
    }
    error(message: string, fields?: LogFields): void {
      lines.push([this === recorder ? "error" : "wrong this", message, fields]);
    }
  }
  const recorder = new Recorder();
  const logger = guardLogger(recorder);
  logger.debug("a");
  logger.info("b", { id: 1 });
  logger.warn("c");
  logger.error("d", { error: "x" });
  assert.deepEqual(lines, [
    ["debug", "a", undefined],
    ["info", "b", { id: 1 }],
    ["warn", "c", undefined],
    ["error", "d", { error: "x" }],
  ]);
});

test("guardLogger swallows what a logger throws, and leaves the silent logger as it is", () => {
  let calls = 0;
  const fail = (): void => {
    calls++;
    throw new Error("logger down");
  };
  const logger = guardLogger({ debug: fail, info: fail, warn: fail, error: fail });
  for (const method of ["debug", "info", "warn", "error"] as const) logger[method]("line");
  assert.equal(calls, 4);
  assert.equal(guardLogger(silentLogger), silentLogger);
});

test("guardLogger catches what an async logger rejects with", async () => {
  let calls = 0;
  const logger = guardLogger({
    ...silentLogger,
    async warn(): Promise<void> {
      calls++;
      await Promise.resolve();
      throw new Error("logger down");
    },
  });
  logger.warn("line");
  assert.equal(calls, 1);
  // Were the rejection not caught, the runtime would report it unhandled and fail this file.
  await new Promise<void>((resolve) => setImmediate(resolve));
});
