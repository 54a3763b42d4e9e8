/**
 * The one sentence for a value that is not a slow-consumer policy: a
 * subscribe frame's `policy`, the server's `slowConsumerPolicy` option, a
 * client's `subscribe()` option, the command line's flag.
 *
 * @module
 */

import { quoted, typeName } from "../topic/validate_topic.ts";
import { isSlowConsumerPolicy, SlowConsumerPolicy } from "./frames.ts";

function choices(): string {
  const quoted = Object.values(SlowConsumerPolicy).map((policy) => JSON.stringify(policy));
  return `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}

/** The slow-consumer policies, quoted, for sentences: `"disconnect", "drop-oldest" or "drop-newest"`. */
export const POLICY_CHOICES: string = choices();

/**
 * Why `value` is not a slow-consumer policy, or `null` when it is one.
 *
 * @param value The value to check.
 * @param subject What the sentence calls it. Default `"Policy"`.
 * @returns For example `Policy must be "disconnect", "drop-oldest" or "drop-newest", got "drop-all"`.
 */
export function policyProblem(value: unknown, subject = "Policy"): string | null {
  if (isSlowConsumerPolicy(value)) return null;
  const got = typeof value === "string" ? quoted(value) : typeName(value);
  return `${subject} must be ${POLICY_CHOICES}, got ${got}`;
}
