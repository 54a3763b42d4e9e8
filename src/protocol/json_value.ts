/**
 * Checks that a parsed JSON value can travel on unchanged: JSON.parse reads
 * `1e400` as `Infinity`, which JSON.stringify would write as `null`, and a
 * deeply nested value can overflow the stack of a runtime's
 * JSON.stringify.
 *
 * @module
 */

import { ErrorCode } from "../errors.ts";
import { utf8Length } from "../_utf8.ts";

/**
 * Why `value` cannot be forwarded unchanged, or `null` when it can: a number
 * out of range, or arrays and objects nested deeper than `maxDepth`.
 *
 * @example
 * ```ts
 * import { jsonValueProblem } from "@kn-sock/pubsub";
 *
 * console.log(jsonValueProblem(JSON.parse("[1, 2]"), 64)); // null
 * console.log(jsonValueProblem(JSON.parse("1e400"), 64)); // "Message holds a number out of range"
 * ```
 *
 * @param value A value from JSON.parse.
 * @param maxDepth The deepest nesting allowed (`[]` is depth 1).
 * @returns A sentence, or `null`.
 */
export function jsonValueProblem(value: unknown, maxDepth: number): string | null {
  if (typeof value === "string" || value === null || typeof value === "boolean") return null;
  return check(value, maxDepth, 0);
}

function check(value: unknown, maxDepth: number, depth: number): string | null {
  if (typeof value === "number") {
    return Number.isFinite(value) ? null : "Message holds a number out of range";
  }
  if (typeof value !== "object" || value === null) return null;
  if (depth >= maxDepth) return `Message nests deeper than ${maxDepth} levels`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = check(value[i], maxDepth, depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  for (const key in value) {
    const problem = check((value as Record<string, unknown>)[key], maxDepth, depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}

/**
 * Why a publish's `message` is refused, as an error code and a sentence, or
 * `null`: a value that cannot travel unchanged (`invalid_frame`) or one
 * larger than `maxPayloadBytes` of JSON text (`payload_too_large`; measured
 * only when the whole line is larger, so the common case costs nothing).
 */
export function payloadRefusal(
  message: unknown,
  lineBytes: number,
  limits: { maxPayloadBytes: number; maxNestingDepth: number },
): [ErrorCode, string] | null {
  const problem = jsonValueProblem(message, limits.maxNestingDepth);
  if (problem !== null) return [ErrorCode.InvalidFrame, problem];
  if (
    lineBytes > limits.maxPayloadBytes &&
    utf8Length(JSON.stringify(message)) > limits.maxPayloadBytes
  ) {
    return [ErrorCode.PayloadTooLarge, `Message is larger than ${limits.maxPayloadBytes} bytes`];
  }
  return null;
}
