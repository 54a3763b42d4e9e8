/**
 * How `sub` prints a message: kn-sock's JSON line (the default), the
 * payload alone (`--raw`), every delivery field (`--verbose`), or a
 * template (`--format '{topic} {message}'`).
 *
 * @module
 */

import type { Message } from "../client/message.ts";
import type { JsonValue } from "../protocol/frames.ts";
import { UsageError, type Values } from "./arguments.ts";
import type { HelpTopic } from "./help.ts";

/** Turns a message into the line to print. */
export type MessageFormat = (message: Message) => string;

/** The fields a `--format` template may name, and how each prints. */
const FIELDS: Readonly<Record<string, (message: Message) => string>> = {
  topic: (m) => m.topic,
  message: (m) => payload(m.message),
  json: (m) => JSON.stringify(m.message),
  seq: (m) => m.seq === undefined ? "" : String(m.seq),
  reply: (m) => m.reply ?? "",
  retained: (m) => m.retained === true ? "retained" : "",
  headers: (m) => m.headers === undefined ? "" : JSON.stringify(m.headers),
};

/** A string as it is, any other JSON value as JSON. */
function payload(message: JsonValue): string {
  return typeof message === "string" ? message : JSON.stringify(message);
}

/** `{"topic": T, "message": M}`, kn-sock's delivery. */
function jsonLine(message: Message): string {
  return JSON.stringify({ topic: message.topic, message: message.message });
}

/** Every field of the delivery. */
function verbose(message: Message): string {
  const { topic, message: body, seq, headers, reply, retained } = message;
  return JSON.stringify({ topic, message: body, seq, headers, reply, retained });
}

/** A `--format` template, checked: `{field}` and `{header:NAME}`; `\n` and `\t` escapes. */
function template(text: string, command: HelpTopic): MessageFormat {
  const parts: (string | MessageFormat)[] = [];
  const unescaped = text.replaceAll("\\n", "\n").replaceAll("\\t", "\t");
  let last = 0;
  for (const match of unescaped.matchAll(/\{([a-z]+)(?::([^}]+))?\}/g)) {
    parts.push(unescaped.slice(last, match.index));
    last = match.index + match[0].length;
    const [, field, name] = match;
    if (field === "header" && name !== undefined) {
      parts.push((m) => m.headers?.[name] ?? "");
    } else if (name === undefined && Object.hasOwn(FIELDS, field)) {
      parts.push(FIELDS[field]);
    } else {
      throw new UsageError(
        `Invalid --format field "${match[0]}": expected {${
          Object.keys(FIELDS).join("}, {")
        }} or {header:NAME}`,
        command,
      );
    }
  }
  parts.push(unescaped.slice(last));
  return (message) => parts.map((part) => typeof part === "string" ? part : part(message)).join("");
}

/**
 * `--raw`, `--verbose` or `--format` (at most one); `hello` says whether it
 * prints fields only a client that said hello receives.
 */
export function messageFormat(
  values: Values,
  command: HelpTopic,
): { format: MessageFormat; hello: boolean } {
  const text = values.format as string | undefined;
  const chosen = [values.raw === true, values.verbose === true, text !== undefined];
  if (chosen.filter(Boolean).length > 1) {
    throw new UsageError("Give at most one of --raw, --verbose and --format", command);
  }
  if (values.raw === true) return { format: (m) => payload(m.message), hello: false };
  if (values.verbose === true) return { format: verbose, hello: true };
  if (text !== undefined) {
    return { format: template(text, command), hello: /\{(seq|reply|retained|header)/.test(text) };
  }
  return { format: jsonLine, hello: false };
}
