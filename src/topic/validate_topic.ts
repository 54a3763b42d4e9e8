/**
 * Topic validation. Topics are non-empty strings such as `news/technology`;
 * matching is exact (kn-sock semantics).
 *
 * @module
 */

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
 * @returns A sentence-case reason, or `null`.
 */
export function topicProblem(topic: unknown, maxBytes: number): string | null {
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
  return null;
}

/** The JSON type name of a value, for error messages. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** The UTF-8 length of a string, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // 4 bytes for the pair, 2 units counted already
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
