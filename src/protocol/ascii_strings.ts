/**
 * A bounded table of the strings of short ASCII byte runs (topics), so that
 * reading the same topic again costs a hash and a compare instead of a
 * UTF-8 decode.
 *
 * @module
 */

import { decodeUtf8 } from "./codec.ts";

/** Runs longer than this are decoded each time. */
const MAX_CACHED_BYTES = 256;
/** Past this many entries the table starts again. */
const MAX_ENTRIES = 4096;

/**
 * The strings of ASCII byte runs, cached by their bytes.
 *
 * @example
 * ```ts ignore
 * const strings = new AsciiStrings();
 * const bytes = new TextEncoder().encode("news/sports");
 * strings.get(bytes, 0, 4); // "news", decoded once
 * ```
 */
export class AsciiStrings {
  readonly #entries = new Map<number, string>();

  /** The text of the ASCII bytes `bytes[start, end)`. */
  get(bytes: Uint8Array, start: number, end: number): string {
    const length = end - start;
    if (length > MAX_CACHED_BYTES) return decodeUtf8(bytes.subarray(start, end));
    // FNV-1a.
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
    const cached = this.#entries.get(hash);
    if (cached !== undefined && cached.length === length) {
      // ASCII: one UTF-16 unit per byte.
      let i = 0;
      while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++;
      if (i === length) return cached;
    }
    const text = decodeUtf8(bytes.subarray(start, end));
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(hash, text);
    return text;
  }
}
