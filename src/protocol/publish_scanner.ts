/**
 * A validating scanner for the common publish line, so that the server's
 * publish path needs no `JSON.parse` of the whole line and no frame checks:
 * `{"action":"publish","topic":T,"message":M}` in that order (kn-sock's own
 * shape and this package's client's, with any JSON spacing), optionally
 * followed by an `"id"`.
 *
 * The scanner only says yes when the line is certainly a valid publish that
 * `decodeClientText()` would accept unchanged: every member checked, the
 * message validated as JSON with its nesting bounded and no number that
 * could overflow, every byte ASCII. Anything else (other members, escapes
 * in the topic, wildcards, exponents, non-ASCII bytes, any error) is left to
 * the full decoder, which gives the precise error. It reads bytes only:
 * the line needs no UTF-8 decoding first.
 *
 * @module
 */

import { JsonScanner } from "./json_scanner.ts";
import type { PublishBounds, PublishSpans } from "./publish_spans.ts";

const LF = 0x0a;
const SPACE = 0x20;
const QUOTE = 0x22;
const HASH = 0x23;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const SLASH = 0x2f;
const ZERO = 0x30;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Digits of an `id` number kept exact by a double. */
const MAX_ID_DIGITS = 15;

const encoder = new TextEncoder();
const ACTION_PUBLISH = encoder.encode('"action"');
const PUBLISH = encoder.encode('"publish"');
const TOPIC = encoder.encode('"topic"');
const MESSAGE = encoder.encode('"message"');
const ID = encoder.encode('"id"');
// The usual spellings of the line up to the topic, and between the topic and the message:
// JSON.stringify()'s and Python this.dumps()'s (kn-sock's own client). One comparison each.
const COMPACT_HEAD = encoder.encode('{"action":"publish","topic":');
const SPACED_HEAD = encoder.encode('{"action": "publish", "topic": ');
const COMPACT_MESSAGE = encoder.encode(',"message":');
const SPACED_MESSAGE = encoder.encode(', "message": ');

/**
 * Scans publish lines: a {@linkcode JsonScanner} that knows the publish
 * shape. After a scan that said yes, its fields are the line's
 * {@linkcode PublishSpans}. One per reader (a session): it keeps the chunk
 * it scans (and a word view of it, reused for the chunk's next lines) until
 * {@linkcode JsonScanner.release}.
 *
 * @example
 * ```ts ignore
 * const line = new TextEncoder().encode('{"action": "publish", "topic": "a/b", "message": "hi"}');
 * const bounds = { maxTopicBytes: 1024, maxTopicLevels: 32, maxNestingDepth: 64 };
 * const scanner = new PublishScanner();
 * scanner.scan(line, 0, line.length, bounds);
 * // true; scanner.topicStart is 31, scanner.plainString is true
 * ```
 */
export class PublishScanner extends JsonScanner implements PublishSpans {
  topicStart = 0;
  topicEnd = 0;
  messageStart = 0;
  messageEnd = 0;
  plainString = false;
  idStart = -1;
  idEnd = -1;
  idIsString = false;

  /**
   * Scans the line `bytes[start, end)` (without `\n`) and fills the spans
   * when it is a publish in the common shape that the full decoder would
   * accept as it is. Returns `false` when unsure: the caller then decodes
   * the line in full.
   */
  scan(bytes: Uint8Array, start: number, end: number, bounds: PublishBounds): boolean {
    this.use(bytes, end);
    const close = this.#scanObject(start, bounds);
    return close >= 0 && this.skipSpace(close) === end;
  }

  /**
   * Like {@linkcode PublishScanner.scan}, for a line whose end is not known
   * yet: scans from `start` (up to `end`) and returns the index of the `\n`
   * that ends the publish (the object followed by nothing but spaces, tabs
   * and `\r`), or -1 when unsure. The line found is at most `maxBytes` long.
   */
  scanLine(
    bytes: Uint8Array,
    start: number,
    end: number,
    maxBytes: number,
    bounds: PublishBounds,
  ): number {
    this.use(bytes, Math.min(end, start + maxBytes + 1));
    const close = this.#scanObject(start, bounds);
    if (close < 0) return -1;
    const newline = this.skipSpace(close);
    return this.peek(newline) === LF ? newline : -1;
  }

  /** Scans the publish object at `start`; returns just past its closing brace, or -1. */
  #scanObject(start: number, bounds: PublishBounds): number {
    let at = this.skipSpace(start);
    if (this.startsWith(at, COMPACT_HEAD)) at = this.skipSpace(at + COMPACT_HEAD.length);
    else if (this.startsWith(at, SPACED_HEAD)) at = this.skipSpace(at + SPACED_HEAD.length);
    else {
      if (this.peek(at) !== OPEN_BRACE) return -1;
      at = this.#member(this.skipSpace(at + 1), ACTION_PUBLISH);
      if (at < 0 || !this.startsWith(at, PUBLISH)) return -1;
      at = this.#next(at + PUBLISH.length);
      at = this.#member(at, TOPIC);
      if (at < 0) return -1;
    }
    const topicEnd = this.#scanTopic(at, bounds);
    if (topicEnd < 0) return -1;
    this.topicStart = at + 1;
    this.topicEnd = topicEnd - 1;
    if (this.startsWith(topicEnd, COMPACT_MESSAGE)) {
      at = this.skipSpace(topicEnd + COMPACT_MESSAGE.length);
    } else if (this.startsWith(topicEnd, SPACED_MESSAGE)) {
      at = this.skipSpace(topicEnd + SPACED_MESSAGE.length);
    } else {
      at = this.#member(this.#next(topicEnd), MESSAGE);
      if (at < 0) return -1;
    }
    this.escaped = false;
    this.inexact = false;
    this.controlSpace = false;
    const messageEnd = this.scanValue(at, bounds.maxNestingDepth);
    // A raw tab or CR inside the message: the full decoder's path re-encodes it.
    if (messageEnd < 0 || this.inexact || this.controlSpace) return -1;
    this.messageStart = at;
    this.messageEnd = messageEnd;
    this.plainString = this.peek(at) === QUOTE && !this.escaped;
    this.idStart = -1;
    at = this.skipSpace(messageEnd);
    if (this.peek(at) === COMMA) {
      at = this.#member(this.skipSpace(at + 1), ID);
      if (at < 0) return -1;
      const idEnd = this.#scanId(at);
      if (idEnd < 0) return -1;
      this.idStart = at;
      this.idEnd = idEnd;
      this.idIsString = this.peek(at) === QUOTE;
      at = this.skipSpace(idEnd);
    }
    return this.peek(at) === CLOSE_BRACE ? at + 1 : -1;
  }

  /** Past `key` and its colon, at the value; or -1. */
  #member(at: number, key: Uint8Array): number {
    if (at < 0 || !this.startsWith(at, key)) return -1;
    at = this.skipSpace(at + key.length);
    if (this.peek(at) !== COLON) return -1;
    return this.skipSpace(at + 1);
  }

  /** Past the comma after a member, at the next key; or -1. */
  #next(at: number): number {
    at = this.skipSpace(at);
    if (this.peek(at) !== COMMA) return -1;
    return this.skipSpace(at + 1);
  }

  /** Just past a topic string that needs no further checks, or -1. */
  #scanTopic(at: number, bounds: PublishBounds): number {
    const { line, limit } = this;
    if (this.peek(at) !== QUOTE) return -1;
    let levels = 1;
    for (let i = at + 1; i < limit; i++) {
      const byte = line[i];
      if (byte === QUOTE) {
        const length = i - at - 1;
        if (length === 0 || length > bounds.maxTopicBytes || levels > bounds.maxTopicLevels) {
          return -1;
        }
        return i + 1;
      }
      if (byte === SLASH) levels++;
      // Escapes, control characters, non-ASCII and wildcards: the full decoder decides.
      else if (
        byte < SPACE || byte >= 0x80 || byte === BACKSLASH || byte === PLUS || byte === HASH
      ) {
        return -1;
      }
    }
    return -1;
  }

  /** Just past an `id`: a string without escapes or an integer a double holds exactly; or -1. */
  #scanId(at: number): number {
    if (this.peek(at) === QUOTE) {
      this.escaped = false;
      const idEnd = this.scanString(at);
      return this.escaped ? -1 : idEnd;
    }
    const digits = this.peek(at) === MINUS ? at + 1 : at;
    const i = this.skipDigits(digits);
    if (
      i === digits || i - digits > MAX_ID_DIGITS || (this.peek(digits) === ZERO && i - digits > 1)
    ) {
      return -1;
    }
    return i;
  }
}
