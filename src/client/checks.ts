/**
 * The client's argument checks: `TypeError` for a malformed value,
 * `RangeError` for one past a limit.
 *
 * @module
 */

import type { ClientLimits } from "../limits.ts";
import { isSlowConsumerPolicy } from "../protocol/frames.ts";
import { patternProblem } from "../topic/pattern.ts";
import { topicProblem } from "../topic/validate_topic.ts";

/** Checks the address `connect()` is given. */
export function checkAddress(host: unknown, port: unknown): void {
  if (typeof host !== "string" || host.length === 0) {
    throw new TypeError(`Host must be a non-empty string, got ${String(host)}`);
  }
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
    throw new RangeError(`Port must be an integer from 1 to 65535, got ${String(port)}`);
  }
}

/** Checks a topic the client sends. */
export function checkTopic(topic: string, limits: ClientLimits): void {
  const problem = topicProblem(topic, limits.maxTopicBytes, limits.maxTopicLevels);
  if (problem === null) return;
  if (typeof topic === "string" && topic.length > 0) throw new RangeError(problem);
  throw new TypeError(problem);
}

/** Checks a subscribe pattern, its group and its policy. */
export function checkPattern(
  pattern: string,
  limits: ClientLimits,
  options: { group?: string; policy?: unknown } = {},
): void {
  checkTopic(pattern, limits);
  const problem = patternProblem(pattern);
  if (problem !== null) throw new TypeError(problem);
  const { group, policy } = options;
  if (group !== undefined && (typeof group !== "string" || group.length === 0)) {
    throw new TypeError("Group must be a non-empty string");
  }
  if (policy !== undefined && !isSlowConsumerPolicy(policy)) {
    throw new TypeError(
      `Policy must be "disconnect", "drop-oldest" or "drop-newest", got ${String(policy)}`,
    );
  }
}
