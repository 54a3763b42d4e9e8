/**
 * What a user may publish and subscribe to: allow and deny lists of topic
 * patterns, compiled once into a {@linkcode PermissionSet}.
 *
 * @module
 */

import { hasWildcard, matchLevels, patternProblem, SEPARATOR } from "../topic/pattern.ts";
import { patternCovers, patternsOverlap } from "../topic/pattern_relations.ts";
import { typeName } from "../topic/validate_topic.ts";

/** Allow and deny lists of topic patterns (`+` and `#` wildcards allowed). */
export interface PermissionRule {
  /** When present, only what these patterns allow is allowed; `[]` allows nothing. */
  allow?: string[];
  /** Nothing these patterns reach is allowed, whatever `allow` says. */
  deny?: string[];
}

/**
 * A user's permissions, as written in a users file. A missing direction,
 * or a rule without `allow`, allows everything not denied — except
 * publishing to a reserved topic (one whose first level starts with `$`,
 * such as `$SYS/stats`), which needs an allow pattern that names it. A
 * deny pattern reaches reserved topics too: `deny: ["#"]` denies them.
 */
export interface Permissions {
  /** The topics the user may publish to. */
  publish?: PermissionRule;
  /** The patterns the user may subscribe to. */
  subscribe?: PermissionRule;
}

/**
 * A compiled, immutable {@linkcode Permissions}: answers whether a user may
 * publish to a topic or subscribe to a pattern.
 *
 * - **Publish** to a topic is allowed when `publish.allow` is absent or one
 *   of its patterns matches the topic, and no `publish.deny` pattern
 *   matches it.
 * - **Subscribe** to a pattern is allowed when `subscribe.allow` is absent or
 *   one of its patterns covers the subscribed pattern (matches every topic
 *   the subscription could receive), and the subscribed pattern overlaps no
 *   `subscribe.deny` pattern. **Overlap is forbidden**: with
 *   `deny: ["alerts/internal/#"]`, subscribing to `alerts/#` or `alerts/+`
 *   is refused as a whole, because either could receive an internal alert,
 *   even though it would also receive allowed ones.
 *
 * A topic or pattern is a single topic when it has no wildcard, so
 * subscribing to `a/b` is checked exactly like publishing to it.
 *
 * @example Checking a user's permissions
 * ```ts
 * import { PermissionSet } from "@kn-sock/pubsub";
 *
 * const permissions = new PermissionSet({
 *   publish: { allow: ["sensors/#"] },
 *   subscribe: { allow: ["alerts/#"], deny: ["alerts/internal/#"] },
 * });
 * console.log(permissions.canPublish("sensors/kitchen/temp")); // true
 * console.log(permissions.canPublish("alerts/fire")); // false
 * console.log(permissions.canSubscribe("alerts/fire/+")); // true
 * console.log(permissions.canSubscribe("alerts/#")); // false: overlaps the deny
 * ```
 */
export class PermissionSet {
  readonly #publish: CompiledRule;
  readonly #subscribe: CompiledRule;

  /**
   * Validates and compiles permissions.
   *
   * @param permissions The allow and deny lists; `{}` allows everything.
   * @throws {TypeError} When a field has the wrong type or a pattern is not
   * a valid pattern; the message names the field, such as
   * `permissions.publish.allow[1]`.
   */
  constructor(permissions: Permissions = {}) {
    const checked = validatePermissions(permissions, "permissions");
    this.#publish = compileRule(checked.publish);
    this.#subscribe = compileRule(checked.subscribe);
  }

  /**
   * Whether the user may publish to `topic`.
   *
   * @param topic A topic (a wildcard in it is an ordinary character).
   * @returns `true` when allowed.
   */
  canPublish(topic: string): boolean {
    return allowsTopic(this.#publish, topic, false);
  }

  /**
   * Whether the user may subscribe to `pattern`: some allow pattern covers
   * it (or there is no allow list) and it overlaps no deny pattern. An
   * invalid pattern is never allowed.
   *
   * @param pattern The pattern of the subscription.
   * @returns `true` when allowed.
   */
  canSubscribe(pattern: string): boolean {
    const rule = this.#subscribe;
    if (!hasWildcard(pattern)) return allowsTopic(rule, pattern, true);
    if (patternProblem(pattern) !== null) return false;
    for (const denied of rule.denyExact) if (patternsOverlap(denied, pattern)) return false;
    // A deny reaches `$` patterns that a leading wildcard would skip.
    const renamed = isReserved(pattern) ? withoutReserved(pattern) : null;
    for (const denied of rule.denyWild) {
      if (patternsOverlap(denied.pattern, pattern)) return false;
      if (renamed !== null && patternsOverlap(denied.pattern, renamed)) return false;
    }
    if (rule.allowAll) return true;
    // A wildcard pattern matches many topics: no single topic covers it.
    return rule.allowWild.some((allowed) => patternCovers(allowed.pattern, pattern));
  }
}

/** A rule with exact entries in sets and wildcard patterns split into levels. */
interface CompiledRule {
  allowAll: boolean;
  allowExact: ReadonlySet<string>;
  allowWild: readonly SplitPattern[];
  denyExact: ReadonlySet<string>;
  denyWild: readonly SplitPattern[];
}

interface SplitPattern {
  pattern: string;
  levels: readonly string[];
}

function compileRule(rule: PermissionRule | undefined): CompiledRule {
  const [allowExact, allowWild] = partition(rule?.allow ?? []);
  const [denyExact, denyWild] = partition(rule?.deny ?? []);
  return { allowAll: rule?.allow === undefined, allowExact, allowWild, denyExact, denyWild };
}

function partition(patterns: readonly string[]): [Set<string>, SplitPattern[]] {
  const exact = new Set<string>();
  const wild: SplitPattern[] = [];
  for (const pattern of patterns) {
    if (hasWildcard(pattern)) wild.push({ pattern, levels: pattern.split(SEPARATOR) });
    else exact.add(pattern);
  }
  return [exact, wild];
}

/** Whether `topic` is reserved: its first level starts with `$` (`$SYS/...`). */
function isReserved(topic: string): boolean {
  return topic.charCodeAt(0) === 0x24; // "$"
}

/**
 * `topic` with its `$` first level renamed, for deny checks beside the
 * topic itself: a leading wildcard does not match a `$` topic, but
 * `deny: ["#"]` must still reach it.
 */
function withoutReserved(topic: string): string {
  const end = topic.indexOf(SEPARATOR);
  return end < 0 ? "_" : "_" + topic.slice(end);
}

/**
 * Whether the rule allows one topic: the exact sets first, then the
 * wildcards. A deny reaches a reserved (`$`) topic as any other; an absent
 * allow list allows it only for `allowAllReserved` (subscribing), so
 * publishing to one needs an allow pattern that names it (`$SYS/#`).
 */
function allowsTopic(rule: CompiledRule, topic: string, allowAllReserved: boolean): boolean {
  if (rule.denyExact.has(topic)) return false;
  const reserved = isReserved(topic);
  const allowAll = rule.allowAll && (allowAllReserved || !reserved);
  const noWildcards = rule.denyWild.length === 0 && rule.allowWild.length === 0;
  if (noWildcards) return allowAll || rule.allowExact.has(topic);
  const levels = topic.split(SEPARATOR);
  const renamed = reserved ? withoutReserved(topic).split(SEPARATOR) : null;
  for (const denied of rule.denyWild) {
    if (matchLevels(denied.levels, levels)) return false;
    if (renamed !== null && matchLevels(denied.levels, renamed)) return false;
  }
  if (allowAll || rule.allowExact.has(topic)) return true;
  return rule.allowWild.some((allowed) => matchLevels(allowed.levels, levels));
}

/**
 * Checks that `value` is a {@linkcode Permissions} and returns a copy of it.
 * Used by {@linkcode PermissionSet} and by the users file parser, so both
 * report a bad field the same way: `<path>.publish.allow[1]: ...`.
 *
 * @param value The value to check.
 * @param path The name of `value` in messages, such as `users[2].permissions`.
 * @returns A copy holding only the known fields.
 * @throws {TypeError} Naming the first bad field.
 */
export function validatePermissions(value: unknown, path: string): Permissions {
  const object = expectObject(value, path, ["publish", "subscribe"]);
  const out: Permissions = {};
  if (object.publish !== undefined) out.publish = validateRule(object.publish, `${path}.publish`);
  if (object.subscribe !== undefined) {
    out.subscribe = validateRule(object.subscribe, `${path}.subscribe`);
  }
  return out;
}

function validateRule(value: unknown, path: string): PermissionRule {
  const object = expectObject(value, path, ["allow", "deny"]);
  const out: PermissionRule = {};
  if (object.allow !== undefined) out.allow = validatePatterns(object.allow, `${path}.allow`);
  if (object.deny !== undefined) out.deny = validatePatterns(object.deny, `${path}.deny`);
  return out;
}

function validatePatterns(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`${path}: must be an array of patterns, got ${typeName(value)}`);
  }
  return value.map((pattern: unknown, index) => {
    const at = `${path}[${index}]`;
    if (typeof pattern !== "string") {
      throw new TypeError(`${at}: must be a pattern string, got ${typeName(pattern)}`);
    }
    if (pattern.length === 0) throw new TypeError(`${at}: pattern must not be empty`);
    const problem = patternProblem(pattern);
    if (problem !== null) {
      throw new TypeError(`${at}: "${pattern}" is not a valid pattern: ${problem}`);
    }
    return pattern;
  });
}

/**
 * Checks that `value` is a plain object with only `known` keys.
 *
 * @param value The value to check.
 * @param path Its name in messages.
 * @param known The keys it may have.
 * @returns The object.
 * @throws {TypeError} Naming `path`, or the first unknown key.
 */
export function expectObject(
  value: unknown,
  path: string,
  known: readonly string[],
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${path}: must be an object, got ${typeName(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const expected = known.map((k) => `"${k}"`).join(", ");
      throw new TypeError(`${path}: unknown field "${key}" (expected ${expected})`);
    }
  }
  return value as Record<string, unknown>;
}
