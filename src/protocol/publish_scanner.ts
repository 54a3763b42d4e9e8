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

import type { PublishBounds, PublishSpans } from "./publish_spans.ts";

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const HASH = 0x23;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_U = 0x75;

/** Digits past which a number could leave the range of a double; such numbers take the slow path. */
const MAX_NUMBER_CHARS = 300;
/** Digits of an `id` number kept exact by a double. */
const MAX_ID_DIGITS = 15;

const encoder = new TextEncoder();
const ACTION_PUBLISH = encoder.encode('"action"');
const PUBLISH = encoder.encode('"publish"');
const TOPIC = encoder.encode('"topic"');
const MESSAGE = encoder.encode('"message"');
const ID = encoder.encode('"id"');
// The usual spellings of the line up to the topic, and between the topic and the message:
// JSON.stringify()'s and Python json.dumps()'s (kn-sock's own client). One comparison each.
const COMPACT_HEAD = encoder.encode('{"action":"publish","topic":');
const SPACED_HEAD = encoder.encode('{"action": "publish", "topic": ');
const COMPACT_MESSAGE = encoder.encode(',"message":');
const SPACED_MESSAGE = encoder.encode(', "message": ');
const [TRUE, FALSE, NULL] = ["true", "false", "null"].map((word) => encoder.encode(word));

/** Escapes allowed after a backslash, besides `u`. */
const SIMPLE_ESCAPE = new Uint8Array(128);
for (const char of '"\\/bfnrt') SIMPLE_ESCAPE[char.charCodeAt(0)] = 1;

/**
 * Scans the line `bytes[start, end)` (without `\n`) and fills `spans` when
 * it is a publish in the common shape that the full decoder would accept as
 * it is. Returns `false` when unsure: the caller then decodes the line in
 * full.
 *
 * @example
 * ```ts ignore
 * const line = new TextEncoder().encode('{"action": "publish", "topic": "a/b", "message": "hi"}');
 * const bounds = { maxTopicBytes: 1024, maxTopicLevels: 32, maxNestingDepth: 64 };
 * const spans = publishSpans();
 * scanPublish(line, 0, line.length, bounds, spans);
 * // true; spans.topicStart is 31, spans.plainString is true
 * ```
 */
export function scanPublish(
  bytes: Uint8Array,
  start: number,
  end: number,
  bounds: PublishBounds,
  spans: PublishSpans,
): boolean {
  useLine(bytes);
  limit = end;
  const close = scanLine(start, bounds, spans);
  return close >= 0 && skipSpace(close) === limit;
}

/**
 * Like {@linkcode scanPublish}, for a line whose end is not known yet:
 * scans from `start` (up to `end`) and returns the index of the `\n` that
 * ends the publish (the object followed by nothing but spaces, tabs and
 * `\r`), or -1 when unsure. The line found is at most `maxBytes` long.
 */
export function scanPublishLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  maxBytes: number,
  bounds: PublishBounds,
  spans: PublishSpans,
): number {
  useLine(bytes);
  limit = Math.min(end, start + maxBytes + 1);
  const close = scanLine(start, bounds, spans);
  if (close < 0) return -1;
  const newline = skipSpace(close);
  return peek(newline) === LF ? newline : -1;
}

function useLine(bytes: Uint8Array): void {
  if (bytes === line) return;
  line = bytes;
  // The whole 4-byte words of `bytes`, for skipping plain string runs.
  const first = (bytes.byteOffset + 3) & ~3;
  wordsOffset = first - bytes.byteOffset;
  words = new Uint32Array(
    bytes.buffer,
    first,
    Math.max(0, (bytes.byteOffset + bytes.byteLength - first) >> 2),
  );
}

/** Scans the publish object at `start`; returns just past its closing brace, or -1. */
function scanLine(start: number, bounds: PublishBounds, spans: PublishSpans): number {
  let at = skipSpace(start);
  if (startsWith(at, COMPACT_HEAD)) at = skipSpace(at + COMPACT_HEAD.length);
  else if (startsWith(at, SPACED_HEAD)) at = skipSpace(at + SPACED_HEAD.length);
  else {
    if (peek(at) !== OPEN_BRACE) return -1;
    at = member(skipSpace(at + 1), ACTION_PUBLISH);
    if (at < 0 || !startsWith(at, PUBLISH)) return -1;
    at = next(at + PUBLISH.length);
    if (at < 0) return -1;
    at = member(at, TOPIC);
    if (at < 0) return -1;
  }
  const topicEnd = scanTopic(at, bounds);
  if (topicEnd < 0) return -1;
  spans.topicStart = at + 1;
  spans.topicEnd = topicEnd - 1;
  if (startsWith(topicEnd, COMPACT_MESSAGE)) at = skipSpace(topicEnd + COMPACT_MESSAGE.length);
  else if (startsWith(topicEnd, SPACED_MESSAGE)) at = skipSpace(topicEnd + SPACED_MESSAGE.length);
  else {
    at = next(topicEnd);
    if (at < 0) return -1;
    at = member(at, MESSAGE);
    if (at < 0) return -1;
  }
  escaped = false;
  const messageEnd = scanValue(at, bounds.maxNestingDepth);
  if (messageEnd < 0) return -1;
  spans.messageStart = at;
  spans.messageEnd = messageEnd;
  spans.plainString = line[at] === QUOTE && !escaped;
  spans.idStart = -1;
  at = skipSpace(messageEnd);
  if (peek(at) === COMMA) {
    at = member(skipSpace(at + 1), ID);
    if (at < 0) return -1;
    const idEnd = scanId(at);
    if (idEnd < 0) return -1;
    spans.idStart = at;
    spans.idEnd = idEnd;
    spans.idIsString = line[at] === QUOTE;
    at = skipSpace(idEnd);
  }
  return peek(at) === CLOSE_BRACE ? at + 1 : -1;
}

// The line being scanned (one set for all callers: the scan is synchronous); the
// bytes and their word view are kept while the caller scans one chunk's lines.
let line: Uint8Array = new Uint8Array(0);
let words: Uint32Array = new Uint32Array(0);
/** Where `words` starts in `line`. */
let wordsOffset = 0;
let limit = 0;
/** Set by `scanString()`: whether the string scanned last had an escape. */
let escaped = false;

/** The byte at `at`, or 0 past the end of the line. */
function peek(at: number): number {
  return at < limit ? line[at] : 0;
}

function skipSpace(at: number): number {
  while (at < limit) {
    const byte = line[at];
    if (byte !== SPACE && byte !== TAB && byte !== CR) break;
    at++;
  }
  return at;
}

function startsWith(at: number, word: Uint8Array): boolean {
  if (at + word.length > limit) return false;
  for (let i = 0; i < word.length; i++) if (line[at + i] !== word[i]) return false;
  return true;
}

/** Past `key` and its colon, at the value; or -1. */
function member(at: number, key: Uint8Array): number {
  if (at < 0 || !startsWith(at, key)) return -1;
  at = skipSpace(at + key.length);
  if (peek(at) !== COLON) return -1;
  return skipSpace(at + 1);
}

/** Past the comma after a member, at the next key; or -1. */
function next(at: number): number {
  at = skipSpace(at);
  if (peek(at) !== COMMA) return -1;
  return skipSpace(at + 1);
}

/** Just past a topic string that needs no further checks, or -1. */
function scanTopic(at: number, bounds: PublishBounds): number {
  if (peek(at) !== QUOTE) return -1;
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
    else if (byte < SPACE || byte >= 0x80 || byte === BACKSLASH || byte === PLUS || byte === HASH) {
      return -1;
    }
  }
  return -1;
}

/** Just past an `id`: a string without escapes or an integer a double holds exactly; or -1. */
function scanId(at: number): number {
  if (line[at] === QUOTE) {
    escaped = false;
    const idEnd = scanString(at);
    return escaped ? -1 : idEnd;
  }
  const digits = peek(at) === MINUS ? at + 1 : at;
  const i = skipDigits(digits);
  if (i === digits || i - digits > MAX_ID_DIGITS || (line[digits] === ZERO && i - digits > 1)) {
    return -1;
  }
  return i;
}

/**
 * Whether 4 bytes hold a quote, a backslash, a control character or a
 * non-ASCII byte (bit tricks from "Bit Twiddling Hacks": haszero and
 * hasless, exact for bytes below 0x80, which the last term sees to).
 */
function hasStringStop(word: number): boolean {
  const control = (word - 0x20202020) & ~word;
  const quote = word ^ 0x22222222;
  const slash = word ^ 0x5c5c5c5c;
  return ((control | ((quote - 0x01010101) & ~quote) | ((slash - 0x01010101) & ~slash) | word) &
    0x80808080) !== 0;
}

/** From `at`, the first byte that may end a plain string run (whole words are skipped). */
function skipPlain(at: number): number {
  while ((at - wordsOffset) & 3 && at < limit) {
    const byte = line[at];
    if (byte === QUOTE || byte === BACKSLASH || byte < SPACE || byte >= 0x80) return at;
    at++;
  }
  let word = (at - wordsOffset) >> 2;
  const last = (limit - wordsOffset) >> 2; // words wholly inside the line
  while (word < last && !hasStringStop(words[word])) word++;
  return Math.max(at, wordsOffset + (word << 2));
}

/** Just past the JSON string at `at` (a quote), or -1; sets `escaped` when it has an escape. */
function scanString(at: number): number {
  for (let i = skipPlain(at + 1); i < limit; i++) {
    const byte = line[i];
    if (byte === QUOTE) return i + 1;
    if (byte === BACKSLASH) {
      escaped = true;
      const after = peek(++i);
      if (after === LOWER_U) {
        if (
          !isHex(peek(i + 1)) || !isHex(peek(i + 2)) || !isHex(peek(i + 3)) || !isHex(peek(i + 4))
        ) {
          return -1;
        }
        i += 4;
      } else if (after >= 0x80 || SIMPLE_ESCAPE[after] === 0) {
        return -1;
      }
      i = skipPlain(i + 1) - 1;
    } else if (byte < SPACE || byte >= 0x80) {
      return -1;
    }
  }
  return -1;
}

function isHex(byte: number): boolean {
  return (byte >= ZERO && byte <= NINE) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66);
}

function skipDigits(at: number): number {
  while (at < limit && line[at] >= ZERO && line[at] <= NINE) at++;
  return at;
}

/** Just past the JSON number at `at` (no exponent, so it cannot overflow), or -1. */
function scanNumber(at: number): number {
  const digits = peek(at) === MINUS ? at + 1 : at;
  let i = skipDigits(digits);
  if (i === digits || (line[digits] === ZERO && i - digits > 1)) return -1;
  if (peek(i) === DOT) {
    const fraction = i + 1;
    i = skipDigits(fraction);
    if (i === fraction) return -1;
  }
  const after = peek(i);
  if (after === LOWER_E || after === UPPER_E || i - at > MAX_NUMBER_CHARS) return -1;
  return i;
}

function scanLiteral(at: number, word: Uint8Array): number {
  return startsWith(at, word) ? at + word.length : -1;
}

/** Just past the JSON value at `at`, nested at most `depth` more levels; or -1. */
function scanValue(at: number, depth: number): number {
  const first = peek(at);
  if (first === QUOTE) return scanString(at);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    if (depth <= 0) return -1;
    const isObject = first === OPEN_BRACE;
    const close = isObject ? CLOSE_BRACE : CLOSE_BRACKET;
    let i = skipSpace(at + 1);
    if (peek(i) === close) return i + 1;
    for (;;) {
      if (isObject) {
        if (peek(i) !== QUOTE) return -1;
        i = scanString(i);
        if (i < 0) return -1;
        i = skipSpace(i);
        if (peek(i) !== COLON) return -1;
        i = skipSpace(i + 1);
      }
      i = scanValue(i, depth - 1);
      if (i < 0) return -1;
      i = skipSpace(i);
      const after = peek(i);
      if (after === close) return i + 1;
      if (after !== COMMA) return -1;
      i = skipSpace(i + 1);
    }
  }
  if (first === MINUS || (first >= ZERO && first <= NINE)) return scanNumber(at);
  if (first === 0x74) return scanLiteral(at, TRUE);
  if (first === 0x66) return scanLiteral(at, FALSE);
  if (first === 0x6e) return scanLiteral(at, NULL);
  return -1;
}
