/**
 * A bounded, linear splitter of a byte stream into `\n`-terminated lines.
 *
 * @module
 */

import { ErrorCode, FrameError } from "../errors.ts";

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);
/** A buffer larger than this is released once its line is complete. */
const KEEP_BUFFER_BYTES = 64 * 1024;

/**
 * Splits bytes into lines. Push a chunk, then read lines until there are no
 * more; then push the next chunk. Two ways to read, which may be mixed:
 *
 * - **Views**: `next()` returns each line as a `Uint8Array`, or `null`.
 * - **Offsets**: `advance()` moves to the next line without making a view:
 *   the line is then `lineBytes` from `lineStart` to `lineEnd`. A caller
 *   that finds a line's end itself (reading `unread` from `unreadStart`)
 *   passes that `\n`'s index: `advance(newline)`.
 *
 * - It scans each byte once: only new bytes are searched for `\n`.
 * - A line is returned without its `\n` and without one `\r` before it.
 * - A line longer than `maxLineBytes` (counting neither the `\n` nor a `\r` before it) throws
 *   a `line_too_long` {@linkcode FrameError} as soon as that is known, and
 *   before more than `maxLineBytes` of it are held. The decoder is then
 *   unusable.
 * - The bytes of an unfinished line are copied into one growing buffer, so
 *   holding them never pins a larger chunk in memory and a line sent one
 *   byte at a time costs no more than one sent whole; `bufferedBytes`
 *   counts them. Once its lines are read, a chunk is not held either.
 * - A line may share memory with the pushed chunk or the buffer: use it
 *   before reading the next line or pushing the next chunk.
 *
 * @example Splitting two chunks
 * ```ts
 * import { LineDecoder } from "@kn-sock/pubsub";
 *
 * const decoder = new LineDecoder(1024);
 * const text = new TextDecoder();
 * for (const chunk of ["ab\ncd", "e\r\n"]) {
 *   decoder.push(new TextEncoder().encode(chunk));
 *   for (let line = decoder.next(); line !== null; line = decoder.next()) {
 *     console.log(text.decode(line)); // "ab", then "cde"
 *   }
 * }
 * ```
 */
export class LineDecoder {
  readonly #maxLineBytes: number;
  #chunk: Uint8Array | null = null;
  #offset = 0;
  #buffer: Uint8Array = EMPTY;
  #partBytes = 0;
  #lineBytes: Uint8Array = EMPTY;
  #lineStart = 0;
  #lineEnd = 0;

  /**
   * Creates a decoder.
   *
   * @param maxLineBytes The longest line accepted, in bytes.
   * @throws {RangeError} When `maxLineBytes` is not a positive integer.
   */
  constructor(maxLineBytes: number) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes <= 0) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.#maxLineBytes = maxLineBytes;
  }

  /** Bytes of an unfinished line held between chunks. */
  get bufferedBytes(): number {
    return this.#partBytes;
  }

  /** Memory an unfinished line holds: its buffer's size, 0 when no line is unfinished. */
  get heldBytes(): number {
    return this.#partBytes === 0 ? 0 : this.#buffer.byteLength;
  }

  /**
   * Adds a chunk. Read its lines until there are no more before the next push.
   *
   * @throws {Error} When the previous chunk was not consumed.
   */
  push(chunk: Uint8Array): void {
    if (this.#chunk !== null) throw new Error("Previous chunk was not consumed: call next() first");
    this.#chunk = chunk;
    this.#offset = 0;
  }

  /**
   * The next complete line, as a view, or `null` when the pushed bytes hold
   * no more.
   *
   * @throws {FrameError} `line_too_long` when a line passes the limit.
   */
  next(): Uint8Array | null {
    return this.advance() ? this.#lineBytes.subarray(this.#lineStart, this.#lineEnd) : null;
  }

  /**
   * Moves to the next complete line without making a view of it: when it
   * returns `true`, the line is `lineBytes` from `lineStart` to `lineEnd`.
   * `false` when the pushed bytes hold no more.
   *
   * @param newline The index in `unread` of the line's `\n`, when the
   *   caller found it (the first `\n` from `unreadStart`); else it is
   *   searched for.
   * @throws {FrameError} `line_too_long` when a line passes the limit.
   */
  advance(newline = -1): boolean {
    const chunk = this.#chunk;
    // No more lines: the last one has been read, so its bytes are let go of
    // (an idle connection keeps no chunk alive).
    if (chunk === null) {
      this.#lineBytes = EMPTY;
      return false;
    }
    const start = this.#offset;
    if (newline < 0) newline = chunk.indexOf(LF, start);
    if (newline === -1) {
      this.#chunk = null;
      this.#lineBytes = EMPTY;
      const rest = chunk.byteLength - start;
      if (rest === 0) return false;
      // One byte of slack: it may be the '\r' of a CRLF ending.
      if (this.#partBytes + rest > this.#maxLineBytes + 1) this.#tooLong();
      this.#append(chunk, start, chunk.byteLength);
      return false;
    }
    this.#offset = newline + 1;
    if (this.#offset === chunk.byteLength) this.#chunk = null;
    const length = this.#partBytes + newline - start;
    if (length > this.#maxLineBytes) {
      const last = newline > start ? chunk[newline - 1] : this.#buffer[this.#partBytes - 1];
      if (length > this.#maxLineBytes + 1 || last !== CR) this.#tooLong();
    }
    if (this.#partBytes > 0) {
      this.#append(chunk, start, newline);
      this.#lineBytes = this.#buffer;
      this.#lineStart = 0;
      this.#lineEnd = this.#partBytes;
      this.#partBytes = 0;
      // The line is read before the next call, so the buffer can be let go of now.
      if (this.#buffer.byteLength > KEEP_BUFFER_BYTES) this.#buffer = EMPTY;
    } else {
      this.#lineBytes = chunk;
      this.#lineStart = start;
      this.#lineEnd = newline;
    }
    if (this.#lineEnd > this.#lineStart && this.#lineBytes[this.#lineEnd - 1] === CR) {
      this.#lineEnd--;
    }
    return true;
  }

  /**
   * The chunk pushed last, when its unread bytes start a line (no part of
   * a line is held from earlier chunks), for a caller that finds the line's
   * end itself and passes it to {@linkcode LineDecoder.advance}; else `null`.
   */
  get unread(): Uint8Array | null {
    return this.#partBytes === 0 ? this.#chunk : null;
  }

  /** Where the unread bytes of `unread` start. */
  get unreadStart(): number {
    return this.#offset;
  }

  /**
   * The bytes holding the line `advance()` found last: the chunk pushed
   * last, or the decoder's own buffer for a line joined from several chunks.
   * Empty once `advance()` returned `false`.
   */
  get lineBytes(): Uint8Array {
    return this.#lineBytes;
  }
  /** Where that line starts in `lineBytes`. */
  get lineStart(): number {
    return this.#lineStart;
  }

  /** Just past its last byte (without `\n`, nor one `\r` before it). */
  get lineEnd(): number {
    return this.#lineEnd;
  }

  /**
   * Ends the stream: returns the bytes of an unfinished line (a peer that
   * disconnected mid-line), or `null` when there were none, and resets.
   */
  flush(): Uint8Array | null {
    this.#chunk = null;
    if (this.#partBytes === 0) return null;
    const rest = this.#buffer.subarray(0, this.#partBytes);
    this.#buffer = EMPTY;
    this.#partBytes = 0;
    return rest;
  }

  #append(bytes: Uint8Array, start: number, end: number): void {
    const needed = this.#partBytes + end - start;
    if (needed > this.#buffer.byteLength) {
      const grown = new Uint8Array(
        Math.min(Math.max(needed, this.#buffer.byteLength * 2, 256), this.#maxLineBytes + 1),
      );
      grown.set(this.#buffer.subarray(0, this.#partBytes));
      this.#buffer = grown;
    }
    this.#buffer.set(bytes.subarray(start, end), this.#partBytes);
    this.#partBytes = needed;
  }

  #tooLong(): never {
    this.#chunk = null;
    this.#buffer = EMPTY;
    this.#partBytes = 0;
    throw new FrameError(
      ErrorCode.LineTooLong,
      `Line exceeds ${this.#maxLineBytes} bytes`,
    );
  }
}
