/**
 * Encodes deliveries for the server's publish path without allocating per
 * message: into one reusable buffer, and, for a publish from a client, by
 * copying the message's own JSON bytes (validated by the decoder, found by
 * the scanner or `findMessage`) behind a cached `{"topic":T,"message":`
 * prefix, so the message is neither re-serialised nor re-encoded.
 *
 * @module
 */

import { toAsciiJson } from "./codec.ts";
import type { Headers, JsonValue } from "./frames.ts";
import { ENTRY_BYTES, stringBytes } from "../_memory_cost.ts";

/** The bytes that end every delivery: `}` and the newline. */
export const DELIVERY_END: Uint8Array = new TextEncoder().encode("}\n");
const encoder = new TextEncoder();

/** The prefix cache's budget unless told otherwise, in bytes; the cache is emptied when full. */
const PREFIX_CACHE_BYTES = 4 * 1024 * 1024;
/** What a `Uint8Array` costs beside its bytes: the view, its buffer, the backing store's record. */
const BYTES_OBJECT_BYTES = 256;
/** The reusable buffer grows up to this size; larger deliveries get their own. */
const MAX_SCRATCH_BYTES = 64 * 1024;

/**
 * Encodes deliveries into a reusable buffer. The bytes it returns are valid
 * until its next call: copy them (as `WriteQueue.enqueue()` does) before.
 */
export class DeliveryEncoder {
  readonly #scratch: Uint8Array[] = [new Uint8Array(4096), new Uint8Array(4096)];
  readonly #prefixes = new Map<string, Uint8Array>();
  readonly #maxPrefixBytes: number;
  #prefixBytes = 0;

  /**
   * @param maxPrefixBytes The most memory the cache of prefixes may hold,
   *   in bytes, counted with each entry's overhead; it is emptied when full.
   */
  constructor(maxPrefixBytes: number = PREFIX_CACHE_BYTES) {
    this.#maxPrefixBytes = maxPrefixBytes;
  }

  /**
   * The delivery of `message` on `topic`. With `json`, the message's own
   * JSON text as pure ASCII bytes (so the copy needs no escaping), those
   * bytes are copied instead of encoding `message`. `extra` (ASCII JSON
   * members such as `,"seq":7`) goes before the closing brace. The two
   * `slot`s are two buffers, so a plain and an extended delivery of the
   * same publish can be held at once.
   *
   * @throws {TypeError} When JSON cannot encode `message` (a BigInt, a cycle).
   * @throws {RangeError} When `message` is too deeply nested to encode.
   */
  encode(
    topic: string,
    message: JsonValue,
    json: Uint8Array | null,
    extra = "",
    slot: 0 | 1 = 0,
  ): Uint8Array {
    if (json !== null) {
      const prefix = this.prefix(topic);
      const body = prefix.byteLength + json.byteLength;
      const size = body + extra.length + DELIVERY_END.byteLength;
      const out = this.#buffer(size, slot);
      out.set(prefix, 0);
      out.set(json, prefix.byteLength);
      if (extra.length > 0) encoder.encodeInto(extra, out.subarray(body));
      out.set(DELIVERY_END, body + extra.length);
      return out.subarray(0, size);
    }
    const whole = toAsciiJson(JSON.stringify({ topic, message }));
    const text = whole.slice(0, -1) + extra + "}\n";
    const out = this.#buffer(text.length, slot); // ASCII: one byte per unit
    const { written } = encoder.encodeInto(text, out);
    return out.subarray(0, written);
  }

  /** A delivery from a message already encoded as ASCII JSON text (retained messages). */
  encodeJson(topic: string, json: string, extra: string, slot: 0 | 1 = 0): Uint8Array {
    const text = `{"topic":${toAsciiJson(JSON.stringify(topic))},"message":${json}${extra}}\n`;
    const out = this.#buffer(text.length, slot);
    const { written } = encoder.encodeInto(text, out);
    return out.subarray(0, written);
  }

  #buffer(size: number, slot: 0 | 1): Uint8Array {
    const scratch = this.#scratch[slot];
    if (size <= scratch.byteLength) return scratch;
    if (size > MAX_SCRATCH_BYTES) return new Uint8Array(size);
    const grown = Math.min(MAX_SCRATCH_BYTES, Math.max(size, scratch.byteLength * 2));
    this.#scratch[slot] = new Uint8Array(grown);
    return this.#scratch[slot];
  }

  /**
   * The bytes a kn-sock-shaped delivery on `topic` starts with,
   * `{"topic":T,"message":`; the message's JSON and
   * {@linkcode DELIVERY_END} complete it. Cached per topic: do not modify.
   */
  prefix(topic: string): Uint8Array {
    let prefix = this.#prefixes.get(topic);
    if (prefix === undefined) {
      prefix = encoder.encode(`{"topic":${toAsciiJson(JSON.stringify(topic))},"message":`);
      const bytes = ENTRY_BYTES + stringBytes(topic) + BYTES_OBJECT_BYTES + prefix.byteLength;
      if (this.#prefixBytes + bytes > this.#maxPrefixBytes) {
        this.#prefixes.clear();
        this.#prefixBytes = 0;
      }
      // A prefix larger than the whole budget is used once and not kept.
      if (bytes <= this.#maxPrefixBytes) {
        this.#prefixes.set(topic, prefix);
        this.#prefixBytes += bytes;
      }
    }
    return prefix;
  }
}

/**
 * The extended members of a delivery (for clients that said `hello`):
 * `,"seq":N` and the optional `headers`, `reply` and `retained`, as ASCII
 * JSON to pass to {@linkcode DeliveryEncoder.encode} as `extra`.
 */
export function extraMembers(
  seq: number,
  headers: Headers | undefined,
  reply: string | undefined,
  retained: boolean,
): string {
  let extra = `,"seq":${seq}`;
  if (headers !== undefined) extra += `,"headers":${toAsciiJson(JSON.stringify(headers))}`;
  if (reply !== undefined) extra += `,"reply":${toAsciiJson(JSON.stringify(reply))}`;
  if (retained) extra += `,"retained":true`;
  return extra;
}
