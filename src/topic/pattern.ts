/**
 * Topic patterns, MQTT style over `/`-separated levels: `+` matches exactly
 * one level, `#` matches any number of levels (none included) and may only
 * stand last, and a topic whose first level starts with `$` is not matched
 * by a leading `+` or `#`.
 *
 * @module
 */

/** The level separator. */
export const SEPARATOR = "/";
/** Matches exactly one level. */
export const SINGLE = "+";
/** Matches any number of levels, none included; last only. */
export const MULTI = "#";

/**
 * Whether `text` holds a wildcard character anywhere.
 *
 * @example
 * ```ts
 * import { hasWildcard } from "@kn-sock/pubsub";
 *
 * console.log(hasWildcard("news/+")); // true
 * ```
 */
export function hasWildcard(text: string): boolean {
  return text.includes(SINGLE) || text.includes(MULTI);
}

/**
 * Why `pattern` is not a valid pattern (wildcards aside, it is a topic), or
 * `null` when it is one.
 *
 * @example
 * ```ts
 * import { patternProblem } from "@kn-sock/pubsub";
 *
 * console.log(patternProblem("news/#")); // null
 * console.log(patternProblem("a/#/b")); // "'#' may only stand as the last level"
 * ```
 */
export function patternProblem(pattern: string): string | null {
  if (!hasWildcard(pattern)) return null;
  const levels = pattern.split(SEPARATOR);
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level === MULTI) {
      if (i !== levels.length - 1) return "'#' may only stand as the last level";
    } else if (level !== SINGLE && hasWildcard(level)) {
      return `Wildcards must fill a whole level, got "${level}"`;
    }
  }
  return null;
}

/**
 * Whether `topic` matches `pattern` (a valid pattern). Used by tests and by
 * the client to route messages to its subscriptions; the server uses the
 * trie in `subscription_index.ts`, which agrees with it.
 *
 * @example
 * ```ts
 * import { matchTopic } from "@kn-sock/pubsub";
 *
 * console.log(matchTopic("news/#", "news")); // true
 * console.log(matchTopic("+/x", "$SYS/x")); // false
 * ```
 */
export function matchTopic(pattern: string, topic: string): boolean {
  if (!hasWildcard(pattern)) return pattern === topic;
  return matchLevels(pattern.split(SEPARATOR), topic.split(SEPARATOR));
}

/**
 * {@linkcode matchTopic} on patterns and topics already split into levels.
 *
 * @example
 * ```ts
 * import { matchLevels } from "@kn-sock/pubsub";
 *
 * console.log(matchLevels(["a", "+"], ["a", "b"])); // true
 * ```
 */
export function matchLevels(p: readonly string[], t: readonly string[]): boolean {
  if ((p[0] === SINGLE || p[0] === MULTI) && t[0].startsWith("$")) return false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === MULTI) return true;
    if (i >= t.length) return false;
    if (p[i] !== SINGLE && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}
