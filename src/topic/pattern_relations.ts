/**
 * Relations between two topic patterns, with the semantics of
 * {@linkcode matchTopic}: whether one pattern matches every topic another
 * matches, and whether two patterns match a topic in common. The permission
 * checks of `src/auth/` are built on them.
 *
 * Both functions take valid patterns (see {@linkcode patternProblem}); a
 * pattern without wildcards is a single topic.
 *
 * @module
 */

import { MULTI, SEPARATOR, SINGLE } from "./pattern.ts";

/**
 * Whether every topic matched by pattern `inner` is also matched by pattern
 * `outer`. Both must be valid patterns. `+` matches one level (an empty one
 * too), `#` matches the levels before it and any number after them, and a
 * leading wildcard does not match a first level that starts with `$`, so
 * `#` does not cover `$SYS/#`.
 *
 * @example Covering patterns
 * ```ts
 * import { patternCovers } from "@kn-sock/pubsub";
 *
 * console.log(patternCovers("sensors/#", "sensors/+/temp")); // true
 * console.log(patternCovers("sensors/+", "sensors/#")); // false: "sensors/a/b"
 * console.log(patternCovers("#", "$SYS/#")); // false
 * ```
 *
 * @param outer The pattern that should match more.
 * @param inner The pattern whose topics are checked.
 * @returns `true` when `outer` matches every topic `inner` matches.
 */
export function patternCovers(outer: string, inner: string): boolean {
  const o = outer.split(SEPARATOR);
  // A topic has at least one level, so `#` alone matches what `+/#` matches.
  const i = inner === MULTI ? [SINGLE, MULTI] : inner.split(SEPARATOR);
  // A topic inner allows whose first level starts with `$` (inner's first
  // level is then that literal) is refused by outer's leading wildcard.
  if (isWildcard(o[0]) && !isWildcard(i[0]) && i[0].startsWith("$")) return false;
  for (let at = 0;; at++) {
    // Every topic inner matches has at least `at` levels here.
    if (o[at] === MULTI) return true;
    if (at >= o.length) return at === i.length;
    // Outer needs a level at `at`, which inner may not have.
    if (at >= i.length || i[at] === MULTI) return false;
    if (o[at] !== SINGLE && o[at] !== i[at]) return false;
  }
}

/**
 * Whether some topic is matched by both pattern `a` and pattern `b`. Both
 * must be valid patterns. The relation is symmetric.
 *
 * @example Overlapping patterns
 * ```ts
 * import { patternsOverlap } from "@kn-sock/pubsub";
 *
 * console.log(patternsOverlap("alerts/+", "alerts/internal/#")); // true: "alerts/internal"
 * console.log(patternsOverlap("alerts/+/x", "alerts/internal/y")); // false
 * console.log(patternsOverlap("+/uptime", "$SYS/#")); // false
 * ```
 *
 * @param a One pattern.
 * @param b The other pattern.
 * @returns `true` when at least one topic matches both.
 */
export function patternsOverlap(a: string, b: string): boolean {
  const p = a.split(SEPARATOR);
  const q = b.split(SEPARATOR);
  // A leading wildcard refuses `$` first levels, which a literal may require.
  if (isWildcard(p[0]) && !isWildcard(q[0]) && q[0].startsWith("$")) return false;
  if (isWildcard(q[0]) && !isWildcard(p[0]) && p[0].startsWith("$")) return false;
  for (let at = 0;; at++) {
    // The levels before `at` agree, and both patterns reach level `at`.
    if (p[at] === MULTI || q[at] === MULTI) return true;
    if (at >= p.length || at >= q.length) return p.length === q.length;
    if (p[at] !== SINGLE && q[at] !== SINGLE && p[at] !== q[at]) return false;
  }
}

function isWildcard(level: string): boolean {
  return level === SINGLE || level === MULTI;
}
