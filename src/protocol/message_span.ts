/**
 * Finds where the `"message"` value of a valid publish line starts and ends,
 * so that its bytes can be forwarded as they are. Used for the publish lines
 * the publish scanner (`publish_scanner.ts`) left to the full decoder: other
 * members (`headers`, `reply`, `retain`), another order, escapes.
 *
 * @module
 */

import type { JsonScanner } from "./json_scanner.ts";
import type { MessageSpan } from "./publish_spans.ts";

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MESSAGE = new TextEncoder().encode('"message"');

/**
 * Finds the last top-level `"message"` value (the one `JSON.parse` keeps)
 * of the JSON object line `bytes[start, end)` and writes where it is into
 * `span`. Returns `false` when it cannot tell: the line has no message, is
 * not pure ASCII JSON, has a key written with escapes (it could spell
 * `"message"`), nests a value deeper than `maxDepth`, or spaces the message
 * with a raw tab or `\r` (deliveries carry neither). The caller then
 * encodes the parsed message instead.
 *
 * @example
 * ```ts ignore
 * const line = new TextEncoder().encode('{"action":"publish","topic":"t","message":[1,2]}');
 * const span = { messageStart: 0, messageEnd: 0 };
 * findMessage(new JsonScanner(), line, 0, line.length, 64, span);
 * // true; span is { messageStart: 42, messageEnd: 47 }
 * ```
 */
export function findMessage(
  json: JsonScanner,
  bytes: Uint8Array,
  start: number,
  end: number,
  maxDepth: number,
  span: MessageSpan,
): boolean {
  json.use(bytes, end);
  let at = json.skipSpace(start);
  if (json.peek(at) !== OPEN_BRACE) return false;
  let found = false;
  at = json.skipSpace(at + 1);
  while (json.peek(at) === QUOTE) {
    const isMessage = json.startsWith(at, MESSAGE);
    json.escaped = false;
    const keyEnd = json.scanString(at);
    if (keyEnd < 0 || (json.escaped && !isMessage)) return false;
    at = json.skipSpace(keyEnd);
    if (json.peek(at) !== COLON) return false;
    const valueStart = json.skipSpace(at + 1);
    json.controlSpace = false;
    const valueEnd = json.scanValue(valueStart, maxDepth);
    if (valueEnd < 0) return false;
    if (isMessage) {
      // Raw tabs or CRs inside it: the message is re-encoded, never forwarded with them.
      if (json.controlSpace) return false;
      span.messageStart = valueStart;
      span.messageEnd = valueEnd;
      found = true;
    }
    at = json.skipSpace(valueEnd);
    if (json.peek(at) !== COMMA) break;
    at = json.skipSpace(at + 1);
  }
  return found && json.peek(at) === CLOSE_BRACE && json.skipSpace(at + 1) === end;
}
