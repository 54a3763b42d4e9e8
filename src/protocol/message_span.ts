/**
 * Finds where the `"message"` value of a valid publish line starts and ends,
 * so that its bytes can be forwarded as they are. Used for publish lines the
 * fast scanner (`publish_scanner.ts`) left to the full decoder.
 *
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MESSAGE = new TextEncoder().encode('"message"');

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipSpace(line: Uint8Array, at: number): number {
  while (at < line.length && isSpace(line[at])) at++;
  return at;
}

/** The index just past the string starting at `at` (a quote), or -1. */
function skipString(line: Uint8Array, at: number): number {
  // Native indexOf finds each quote; an odd run of backslashes before it escapes it.
  let quote = line.indexOf(QUOTE, at + 1);
  while (quote !== -1) {
    let slash = quote - 1;
    while (line[slash] === BACKSLASH) slash--;
    if ((quote - 1 - slash) % 2 === 0) return quote + 1;
    quote = line.indexOf(QUOTE, quote + 1);
  }
  return -1;
}

/** The index just past the JSON value starting at `at`, or -1. */
function skipValue(line: Uint8Array, at: number): number {
  const first = line[at];
  if (first === QUOTE) return skipString(line, at);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let i = at; i < line.length; i++) {
      const byte = line[i];
      if (byte === QUOTE) {
        i = skipString(line, i) - 1;
        if (i < 0) return -1;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (--depth === 0) return i + 1;
      }
    }
    return -1;
  }
  let i = at;
  while (
    i < line.length && line[i] !== COMMA && line[i] !== CLOSE_BRACE && !isSpace(line[i])
  ) i++;
  return i;
}

function hasBackslash(line: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (line[i] === BACKSLASH) return true;
  return false;
}

function isMessageKey(line: Uint8Array, start: number, end: number): boolean {
  if (end - start !== MESSAGE.length) return false;
  for (let i = 0; i < MESSAGE.length; i++) if (line[start + i] !== MESSAGE[i]) return false;
  return true;
}

/** Where a value starts and ends in a line. */
export interface Span {
  /** The first byte. */
  start: number;
  /** Just past the last byte. */
  end: number;
}

/**
 * Finds the last top-level `"message"` value of a valid JSON object line and
 * writes where it starts and ends into `span`. Returns `false` when the line
 * has none or a key is written with escapes.
 *
 * @example
 * ```ts ignore
 * const line = new TextEncoder().encode('{"action":"publish","topic":"t","message":[1,2]}');
 * const span = { start: 0, end: 0 };
 * findMessage(line, span); // true; span is { start: 42, end: 47 }
 * ```
 */
export function findMessage(line: Uint8Array, span: Span): boolean {
  return findLastStringMessage(line, span) || scanForMessage(line, span);
}

function skipSpaceBack(line: Uint8Array, at: number): number {
  while (at >= 0 && isSpace(line[at])) at--;
  return at;
}

/**
 * The common shape, kn-sock's own: a string message as the last member.
 * Walks back from the closing brace with a few native searches instead of
 * scanning the whole line. Inside a string every quote is escaped, so the
 * nearest unescaped quote before the closing one opens it.
 */
function findLastStringMessage(line: Uint8Array, span: Span): boolean {
  let at = skipSpaceBack(line, line.length - 1);
  if (line[at] !== CLOSE_BRACE) return false;
  const end = skipSpaceBack(line, at - 1) + 1;
  if (line[end - 1] !== QUOTE || end < 2) return false;
  let start = line.lastIndexOf(QUOTE, end - 2);
  while (start > 0) {
    let slash = start - 1;
    while (line[slash] === BACKSLASH) slash--;
    if ((start - 1 - slash) % 2 === 0) break;
    start = line.lastIndexOf(QUOTE, start - 1);
  }
  if (start <= 0) return false;
  at = skipSpaceBack(line, start - 1);
  if (line[at] !== COLON) return false;
  const keyEnd = skipSpaceBack(line, at - 1) + 1;
  const keyStart = keyEnd - MESSAGE.length;
  if (keyStart < 1 || !isMessageKey(line, keyStart, keyEnd)) return false;
  const before = line[skipSpaceBack(line, keyStart - 1)];
  if (before !== COMMA && before !== OPEN_BRACE) return false;
  span.start = start;
  span.end = end;
  return true;
}

/** Walks the top-level members in order; the last `"message"` wins, as in `JSON.parse`. */
function scanForMessage(line: Uint8Array, span: Span): boolean {
  let at = skipSpace(line, 0);
  if (line[at] !== OPEN_BRACE) return false;
  let found = false;
  at = skipSpace(line, at + 1);
  while (at < line.length && line[at] === QUOTE) {
    const keyEnd = skipString(line, at);
    if (keyEnd < 0) return false;
    const isMessage = isMessageKey(line, at, keyEnd);
    // A key written with escapes could spell "message": leave such lines to the slow path.
    if (!isMessage && hasBackslash(line, at + 1, keyEnd - 1)) return false;
    at = skipSpace(line, keyEnd);
    if (line[at] !== COLON) return false;
    const valueStart = skipSpace(line, at + 1);
    const valueEnd = skipValue(line, valueStart);
    if (valueEnd < 0) return false;
    if (isMessage) {
      span.start = valueStart;
      span.end = valueEnd;
      found = true;
    }
    at = skipSpace(line, valueEnd);
    if (line[at] === COMMA) at = skipSpace(line, at + 1);
    else break;
  }
  return line[at] === CLOSE_BRACE && found;
}

const span: Span = { start: 0, end: 0 };

/**
 * The bytes of the `"message"` value of a valid, pure ASCII publish line (a
 * view into it), or `null` when {@linkcode findMessage} cannot tell.
 */
export function messageJson(line: Uint8Array): Uint8Array | null {
  return findMessage(line, span) ? line.subarray(span.start, span.end) : null;
}
