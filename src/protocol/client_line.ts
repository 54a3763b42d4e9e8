/**
 * A line from a client, as the server reads it. The common publish shape
 * takes the scanner's path: no UTF-8 decoding, no `JSON.parse`, no frame
 * checks, and, when nobody needs the frame object (no handler), no frame
 * at all: just the topic, the `id` and the message's own JSON bytes. Every
 * other line takes the full decoder's path.
 *
 * @module
 */

import { FrameError } from "../errors.ts";
import { AsciiStrings } from "./ascii_strings.ts";
import { decodeClientText, decodeUtf8 } from "./codec.ts";
import type { ClientFrame, FrameId, JsonValue, PublishFrame } from "./frames.ts";
import { payloadRefusal } from "./json_value.ts";
import { findMessage } from "./message_span.ts";
import { PublishScanner } from "./publish_scanner.ts";
import type { PublishBounds, PublishSpans } from "./publish_spans.ts";

/** The limits a client's line is decoded under. */
export interface ClientLineLimits extends PublishBounds {
  /** The largest message, in bytes of JSON text. */
  maxPayloadBytes: number;
}

/**
 * Reads a client's lines, one at a time, and holds what the last one said.
 * One per connection (it owns the scanner's state); the topic table may be
 * shared by all of a server's connections.
 *
 * @example
 * ```ts ignore
 * const line = new TextEncoder().encode('{"action":"publish","topic":"a","message":[1]}');
 * const out = new ClientLine(DEFAULT_SERVER_LIMITS);
 * out.decode(line, 0, line.length, false);
 * // out.frame is null, out.topic is "a", out.json is the bytes of [1]
 * out.release();
 * ```
 */
export class ClientLine {
  /**
   * The frame; `null` for a publish read by the scanner when no frame was
   * wanted: then `topic`, `id` and `json` are the whole publish.
   */
  frame: ClientFrame | null = null;
  /** For a scanned publish, its topic. */
  topic = "";
  /** For a scanned publish, its `id`. */
  id: FrameId | undefined = undefined;
  /**
   * For a publish whose line is pure ASCII, a view of the message's JSON
   * text in the line (valid until the next line is read); else `null`.
   */
  json: Uint8Array | null = null;
  readonly #limits: ClientLineLimits;
  readonly #topics: AsciiStrings;
  readonly #scanner: PublishScanner = new PublishScanner();

  /**
   * A reader for lines within `limits`; `topics` caches the topics' text
   * (give every connection of a server the same table).
   */
  constructor(limits: ClientLineLimits, topics: AsciiStrings = new AsciiStrings()) {
    this.#limits = limits;
    this.#topics = topics;
  }

  /**
   * Decodes the line `bytes[start, end)` (without `\n`). With `wantFrame`
   * false, a publish the scanner reads gets no frame object; with `scan`
   * false the scanner is not tried (it was, by {@linkcode ClientLine.scanLine}).
   *
   * @throws {FrameError} As `decodeClientText()` does, and for a publish
   *   message that cannot travel unchanged or is too large (`invalid_frame`,
   *   `payload_too_large`), with the frame's `id` when it has one.
   */
  decode(bytes: Uint8Array, start: number, end: number, wantFrame: boolean, scan = true): void {
    const limits = this.#limits;
    // A line within the payload limit holds a message within it.
    if (
      scan && end - start <= limits.maxPayloadBytes &&
      this.#scanner.scan(bytes, start, end, limits)
    ) {
      this.#scanned(bytes, wantFrame);
      return;
    }
    const line = bytes.subarray(start, end);
    const text = decodeUtf8(line);
    const frame = decodeClientText(text, limits.maxTopicBytes, limits.maxTopicLevels);
    this.frame = frame;
    this.json = null;
    if (frame.action !== "publish") return;
    const refusal = payloadRefusal(frame.message, line.byteLength, limits);
    if (refusal !== null) {
      const error = new FrameError(refusal[0], refusal[1]);
      error.id = frame.id;
      throw error;
    }
    // One UTF-16 unit per byte: the line is pure ASCII, so its message's bytes can be forwarded.
    const span = this.#scanner;
    if (
      text.length === line.byteLength &&
      findMessage(span, bytes, start, end, limits.maxNestingDepth, span)
    ) {
      this.json = bytes.subarray(span.messageStart, span.messageEnd);
    }
  }

  /**
   * Reads a publish line that starts at `start` and whose end is not known
   * yet, when the scanner can vouch for it: fills the fields as
   * {@linkcode ClientLine.decode} does and returns the index of the line's
   * `\n` (before `end`). Returns -1 when unsure, and fills nothing: find the
   * line's end, then decode it with `decode(..., scan = false)` (this line
   * was scanned already).
   */
  scanLine(
    bytes: Uint8Array,
    start: number,
    end: number,
    maxLineBytes: number,
    wantFrame: boolean,
  ): number {
    const limits = this.#limits;
    const maxBytes = Math.min(maxLineBytes, limits.maxPayloadBytes);
    const newline = this.#scanner.scanLine(bytes, start, end, maxBytes, limits);
    if (newline >= 0) this.#scanned(bytes, wantFrame);
    return newline;
  }

  /** Lets go of the chunk read last (the fields' views of it too): call it once its lines are handled. */
  release(): void {
    this.#scanner.release();
    this.frame = null;
    this.json = null;
  }

  #scanned(bytes: Uint8Array, wantFrame: boolean): void {
    const spans = this.#scanner;
    const topic = this.#topics.get(bytes, spans.topicStart, spans.topicEnd);
    this.frame = wantFrame ? scannedPublish(bytes, spans, topic) : null;
    this.topic = topic;
    this.id = scannedId(bytes, spans);
    this.json = bytes.subarray(spans.messageStart, spans.messageEnd);
  }
}

/**
 * The frame a scanned line stands for, as `decodeClientText()` would give
 * it (`topic` is the topic's text, which the caller may have cached).
 */
export function scannedPublish(
  bytes: Uint8Array,
  spans: PublishSpans,
  topic: string,
): PublishFrame {
  const { messageStart, messageEnd } = spans;
  const message: JsonValue = spans.plainString
    ? asciiString(bytes, messageStart + 1, messageEnd - 1)
    : JSON.parse(asciiString(bytes, messageStart, messageEnd));
  const id = scannedId(bytes, spans);
  return id === undefined
    ? { action: "publish", topic, message }
    : { action: "publish", topic, message, id };
}

/** The `id` of a scanned line, or `undefined` when it has none. */
function scannedId(bytes: Uint8Array, spans: PublishSpans): FrameId | undefined {
  const { idStart, idEnd } = spans;
  if (idStart < 0) return undefined;
  if (spans.idIsString) return asciiString(bytes, idStart + 1, idEnd - 1);
  // At most 15 digits: exact in a double.
  const negative = bytes[idStart] === 0x2d; // '-'
  let value = 0;
  for (let i = negative ? idStart + 1 : idStart; i < idEnd; i++) {
    value = value * 10 + bytes[i] - 0x30;
  }
  return negative ? -value : value;
}

/** The text of ASCII bytes. */
function asciiString(bytes: Uint8Array, start: number, end: number): string {
  return decodeUtf8(bytes.subarray(start, end));
}
