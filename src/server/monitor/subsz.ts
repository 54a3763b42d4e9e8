/**
 * `/subsz`: subscription counts, the patterns with the most subscribers,
 * and, for `?topic=`, how many subscribers a publish to that topic would
 * reach now. Counting patterns visits every subscription, so it is done per
 * request (and for the dashboard every few seconds), never per publish.
 *
 * @module
 */

import { topicProblem } from "../../topic/validate_topic.ts";
import { hasWildcard } from "../../topic/pattern.ts";
import type { MonitorSource } from "./monitor_source.ts";

/** The patterns listed by `/subsz` when `limit` is not given, and the most it lists. */
export const SUBSZ_TOP = { default: 20, max: 1000 } as const;

/** A pattern and its subscribers (a queue group counts once). */
export interface PatternCount {
  pattern: string;
  subscribers: number;
}

/** What `/subsz` answers. */
export interface Subsz {
  /** (connection, pattern) subscriptions; a queue group counts once. */
  subscriptions: number;
  /** Patterns with at least one subscriber. */
  patterns: number;
  /** Queue groups. */
  queueGroups: number;
  /** The patterns with the most subscribers, most first. */
  top: PatternCount[];
  /** With `?topic=`: who a publish to it would reach now. */
  reach?: { topic: string; subscribers: number; connections: number; queueGroups: number };
}

/** The `limit` patterns with the most subscribers. */
export function topPatterns(source: MonitorSource, limit: number): PatternCount[] {
  const counts = new Map<string, number>();
  for (const connection of source.connections()) {
    for (const pattern of connection.route.subscriptions) {
      counts.set(pattern, (counts.get(pattern) ?? 0) + 1);
    }
  }
  for (const pattern of source.queueGroupPatterns()) {
    counts.set(pattern, (counts.get(pattern) ?? 0) + 1);
  }
  return Array.from(counts, ([pattern, subscribers]) => ({ pattern, subscribers }))
    .sort((a, b) => b.subscribers - a.subscribers || (a.pattern < b.pattern ? -1 : 1))
    .slice(0, limit);
}

/**
 * `/subsz` for the query `params` (`topic`, `limit`).
 *
 * @throws {RangeError} For a bad `limit` or `topic`.
 */
export function subsz(source: MonitorSource, params: URLSearchParams): Subsz {
  const limitText = params.get("limit");
  const limit = limitText === null ? SUBSZ_TOP.default : Number(limitText);
  if (!/^\d+$/.test(limitText ?? "0") || limit < 1 || limit > SUBSZ_TOP.max) {
    throw new RangeError(
      `"limit" must be an integer from 1 to ${SUBSZ_TOP.max}, got "${limitText}"`,
    );
  }
  const stats = source.stats();
  const result: Subsz = {
    subscriptions: stats.subscriptions,
    patterns: stats.topics,
    queueGroups: source.queueGroupPatterns().length,
    top: topPatterns(source, limit),
  };
  const topic = params.get("topic");
  if (topic !== null) {
    const { limits } = source;
    const problem = topicProblem(topic, limits.maxTopicBytes, limits.maxTopicLevels) ??
      (hasWildcard(topic) ? "A topic must not contain '+' or '#'" : null);
    if (problem !== null) throw new RangeError(problem);
    const { connections, groups } = source.reach(topic);
    result.reach = { topic, subscribers: connections + groups, connections, queueGroups: groups };
  }
  return result;
}
