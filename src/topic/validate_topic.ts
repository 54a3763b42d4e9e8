/**
 * Topic validation. Topics are non-empty strings such as `news/technology`;
 * matching is exact (kn-sock semantics).
 *
 * @module
 */

import { utf8Length } from "../_utf8.ts";

/**
 * Why `topic` is not a valid topic, or `null` when it is one: it must be a
 * non-empty string of at most `maxBytes` UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { topicProblem } from "@kn-sock/pubsub";
 *
 * console.log(topicProblem("news/sports", 1024)); // null
 * console.log(topicProblem("", 1024)); // "Topic must not be empty"
 * ```
 *
 * @param topic The value to check.
 * @param maxBytes The longest topic allowed, in UTF-8 bytes.
 * @param maxLevels The most `/`-separated levels allowed.
 * @returns A sentence-case reason, or `null`.
 */
export function topicProblem(topic: unknown, maxBytes: number, maxLevels = 32): string | null {
  if (typeof topic !== "string") {
    return topic === undefined
      ? "Topic is missing"
      : `Topic must be a string, got ${typeName(topic)}`;
  }
  if (topic.length === 0) return "Topic must not be empty";
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: count only when it matters.
  if (topic.length * 3 > maxBytes && utf8Length(topic) > maxBytes) {
    return `Topic exceeds ${maxBytes} bytes`;
  }
  if (topic.length >= maxLevels && levelCount(topic) > maxLevels) {
    return `Topic exceeds ${maxLevels} levels`;
  }
  return null;
}

/** The JSON type name of a value, for error messages. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** The most characters of a client's text that an error message repeats. */
const QUOTED_CHARS = 64;

/**
 * `text` in double quotes for an error message, cut to its first 64
 * characters (then `…` inside the quotes): a message never repeats a
 * client's long input at length.
 *
 * @example
 * ```ts
 * import { quoted } from "./validate_topic.ts";
 *
 * console.log(quoted("publsh")); // "\"publsh\""
 * console.log(quoted("x".repeat(100)).length); // 67
 * ```
 */
export function quoted(text: string): string {
  const cut = text.length > QUOTED_CHARS ? text.slice(0, QUOTED_CHARS) + "…" : text;
  return JSON.stringify(cut);
}

/** The number of `/`-separated levels of a topic. */
function levelCount(topic: string): number {
  let levels = 1;
  for (let at = topic.indexOf("/"); at !== -1; at = topic.indexOf("/", at + 1)) levels++;
  return levels;
}
