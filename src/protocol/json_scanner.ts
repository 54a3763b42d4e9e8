/**
 * A validating JSON scanner over bytes: the one place that skips JSON
 * spacing, strings, numbers, literals, arrays and objects in a line without
 * decoding it. The publish scanner (`publish_scanner.ts`) and the message
 * finder (`message_span.ts`) both read through it.
 *
 * It accepts JSON's grammar and nothing else, over ASCII only (a non-ASCII
 * byte ends a scan: the caller then decodes the line in full), and notes
 * what a caller may want to refuse: a string with an escape, a number that
 * could leave the range of a double.
 *
 * @module
 */

const TAB = 0x09;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const PLUS = 0x2b;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_U = 0x75;

/** Characters past which a number could leave the range of a double. */
const MAX_EXACT_NUMBER_CHARS = 300;

const encoder = new TextEncoder();
const [TRUE, FALSE, NULL] = ["true", "false", "null"].map((word) => encoder.encode(word));
const EMPTY = new Uint8Array(0);
const NO_WORDS = new Uint32Array(0);

/** Escapes allowed after a backslash, besides `u`. */
const SIMPLE_ESCAPE = new Uint8Array(128);
for (const char of '"\\/bfnrt') SIMPLE_ESCAPE[char.charCodeAt(0)] = 1;

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

function isHex(byte: number): boolean {
  return (byte >= ZERO && byte <= NINE) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66);
}

/**
 * Scans JSON in the bytes it is given with {@linkcode JsonScanner.use}, up
 * to a limit. Each method takes an index and returns the index just past
 * what it read, or -1 when the bytes there are not what it reads. The
 * scanner keeps the bytes (and a word view of them, reused for every line
 * of the same chunk) until {@linkcode JsonScanner.release}.
 *
 * @example
 * ```ts ignore
 * const scanner = new JsonScanner();
 * const bytes = new TextEncoder().encode('[1, "a\\n"] ');
 * scanner.use(bytes, bytes.length);
 * scanner.escaped = false;
 * scanner.scanValue(0, 64); // 10; scanner.escaped is true
 * scanner.release();
 * ```
 */
export class JsonScanner {
  /** Set by {@linkcode JsonScanner.scanString} when a string had an escape; cleared by the caller. */
  escaped = false;
  /**
   * Set by {@linkcode JsonScanner.scanNumber} when a number has an exponent
   * or is so long that it could leave the range of a double (`JSON.parse`
   * would read it as `Infinity`); cleared by the caller.
   */
  inexact = false;
  /**
   * Set by {@linkcode JsonScanner.skipSpace} when it skipped a raw tab or
   * `\r` (JSON spacing that must not travel in a delivery); cleared by the caller.
   */
  controlSpace = false;
  /** The bytes being scanned (for subclasses that read them directly). */
  protected line: Uint8Array = EMPTY;
  /** The whole 4-byte words of `line`, for skipping plain string runs. */
  #words: Uint32Array = NO_WORDS;
  /** Where `#words` starts in `line`. */
  #wordsOffset = 0;
  /** Where scanning stops: the bytes from here on are not read. */
  protected limit = 0;

  /** Scans `bytes` up to (not including) `limit` from now on. */
  use(bytes: Uint8Array, limit: number): void {
    this.limit = limit;
    if (bytes === this.line) return;
    this.line = bytes;
    const first = (bytes.byteOffset + 3) & ~3;
    this.#wordsOffset = first - bytes.byteOffset;
    this.#words = new Uint32Array(
      bytes.buffer,
      first,
      Math.max(0, (bytes.byteOffset + bytes.byteLength - first) >> 2),
    );
  }

  /** Lets go of the bytes (and their buffer): call it once their lines are read. */
  release(): void {
    this.line = EMPTY;
    this.#words = NO_WORDS;
    this.#wordsOffset = 0;
    this.limit = 0;
  }

  /** The byte at `at`, or 0 at or past the limit. */
  peek(at: number): number {
    return at < this.limit ? this.line[at] : 0;
  }

  /**
   * Past JSON spacing within a line (spaces, tabs, `\r`: a line holds no
   * `\n`); sets `controlSpace` when it skips a tab or `\r`.
   */
  skipSpace(at: number): number {
    const line = this.line;
    const limit = this.limit;
    while (at < limit) {
      const byte = line[at];
      if (byte !== SPACE) {
        if (byte !== TAB && byte !== CR) break;
        this.controlSpace = true;
      }
      at++;
    }
    return at;
  }

  /** Whether the bytes at `at` (not -1) are `word`. */
  startsWith(at: number, word: Uint8Array): boolean {
    const line = this.line;
    if (at + word.length > this.limit) return false;
    for (let i = 0; i < word.length; i++) if (line[at + i] !== word[i]) return false;
    return true;
  }

  /** Past the digits at `at`. */
  skipDigits(at: number): number {
    const line = this.line;
    const limit = this.limit;
    while (at < limit && line[at] >= ZERO && line[at] <= NINE) at++;
    return at;
  }

  /** From `at`, the first byte that may end a plain string run (whole words are skipped). */
  #skipPlain(at: number): number {
    const line = this.line;
    const limit = this.limit;
    const wordsOffset = this.#wordsOffset;
    while ((at - wordsOffset) & 3 && at < limit) {
      const byte = line[at];
      if (byte === QUOTE || byte === BACKSLASH || byte < SPACE || byte >= 0x80) return at;
      at++;
    }
    const words = this.#words;
    let word = (at - wordsOffset) >> 2;
    const last = (limit - wordsOffset) >> 2; // words wholly before the limit
    while (word < last && !hasStringStop(words[word])) word++;
    return Math.max(at, wordsOffset + (word << 2));
  }

  /**
   * Just past the JSON string at `at` (a quote), or -1 (not a string, a
   * bad escape, a control or non-ASCII byte). Sets `escaped` when it has an
   * escape.
   */
  scanString(at: number): number {
    if (this.peek(at) !== QUOTE) return -1;
    const line = this.line;
    const limit = this.limit;
    for (let i = this.#skipPlain(at + 1); i < limit; i++) {
      const byte = line[i];
      if (byte === QUOTE) return i + 1;
      if (byte === BACKSLASH) {
        this.escaped = true;
        const after = this.peek(++i);
        if (after === LOWER_U) {
          if (
            !isHex(this.peek(i + 1)) || !isHex(this.peek(i + 2)) || !isHex(this.peek(i + 3)) ||
            !isHex(this.peek(i + 4))
          ) {
            return -1;
          }
          i += 4;
        } else if (after >= 0x80 || SIMPLE_ESCAPE[after] === 0) {
          return -1;
        }
        i = this.#skipPlain(i + 1) - 1;
      } else if (byte < SPACE || byte >= 0x80) {
        return -1;
      }
    }
    return -1;
  }

  /**
   * Just past the JSON number at `at`, or -1. Sets `inexact` when it has an
   * exponent or more than 300 characters.
   */
  scanNumber(at: number): number {
    const line = this.line;
    const digits = this.peek(at) === MINUS ? at + 1 : at;
    let i = this.skipDigits(digits);
    if (i === digits || (line[digits] === ZERO && i - digits > 1)) return -1;
    if (this.peek(i) === DOT) {
      const fraction = i + 1;
      i = this.skipDigits(fraction);
      if (i === fraction) return -1;
    }
    const after = this.peek(i);
    if (after === LOWER_E || after === UPPER_E) {
      this.inexact = true;
      const sign = this.peek(i + 1);
      const exponent = sign === PLUS || sign === MINUS ? i + 2 : i + 1;
      i = this.skipDigits(exponent);
      if (i === exponent) return -1;
    }
    if (i - at > MAX_EXACT_NUMBER_CHARS) this.inexact = true;
    return i;
  }

  #scanLiteral(at: number, word: Uint8Array): number {
    return this.startsWith(at, word) ? at + word.length : -1;
  }

  /**
   * Just past the JSON value at `at`, nested at most `depth` more levels
   * (`[]` takes one), or -1.
   */
  scanValue(at: number, depth: number): number {
    const first = this.peek(at);
    if (first === QUOTE) return this.scanString(at);
    if (first === OPEN_BRACE || first === OPEN_BRACKET) {
      if (depth <= 0) return -1;
      const isObject = first === OPEN_BRACE;
      const close = isObject ? CLOSE_BRACE : CLOSE_BRACKET;
      let i = this.skipSpace(at + 1);
      if (this.peek(i) === close) return i + 1;
      for (;;) {
        if (isObject) {
          i = this.scanString(i);
          if (i < 0) return -1;
          i = this.skipSpace(i);
          if (this.peek(i) !== COLON) return -1;
          i = this.skipSpace(i + 1);
        }
        i = this.scanValue(i, depth - 1);
        if (i < 0) return -1;
        i = this.skipSpace(i);
        const after = this.peek(i);
        if (after === close) return i + 1;
        if (after !== COMMA) return -1;
        i = this.skipSpace(i + 1);
      }
    }
    if (first === MINUS || (first >= ZERO && first <= NINE)) return this.scanNumber(at);
    if (first === 0x74) return this.#scanLiteral(at, TRUE);
    if (first === 0x66) return this.#scanLiteral(at, FALSE);
    if (first === 0x6e) return this.#scanLiteral(at, NULL);
    return -1;
  }
}
