/**
 * The client's argument checks: `TypeError` for a malformed value,
 * `RangeError` for one past a limit.
 *
 * @module
 */

import type { ClientLimits } from "../limits.ts";
import { patternProblem } from "../topic/pattern.ts";
import { topicProblem } from "../topic/validate_topic.ts";

const POLICIES: ReadonlySet<unknown> = new Set(["disconnect", "drop-oldest", "drop-newest"]);

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
  if (policy !== undefined && !POLICIES.has(policy)) {
    throw new TypeError(
      `Policy must be "disconnect", "drop-oldest" or "drop-newest", got ${String(policy)}`,
    );
  }
}
