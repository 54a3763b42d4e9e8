/**
 * The frame codec: lines (bytes, without `\n`) to typed frames and back.
 * Pure functions, no I/O.
 *
 * Frames are written as compact JSON with every non-ASCII character escaped
 * as `\uXXXX`, as kn-sock's `json.dumps` does, so a peer that decodes each
 * read on its own never sees a UTF-8 sequence split in two. Readers accept
 * any valid JSON spacing and escaping.
 *
 * @module
 */

import { ErrorCode, FrameError } from "../errors.ts";
import { topicProblem, typeName } from "../topic/validate_topic.ts";
import type { ClientFrame, JsonValue, ServerFrame } from "./frames.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const NON_ASCII = /[\u0080-\uffff]/g;
const HAS_NON_ASCII = /[\u0080-\uffff]/;

function escapeCodeUnit(unit: string): string {
  return "\\u" + unit.charCodeAt(0).toString(16).padStart(4, "0");
}

/**
 * JSON text with every non-ASCII character written as a `\uXXXX` escape.
 *
 * @example
 * ```ts
 * import { toAsciiJson } from "@kn-sock/pubsub";
 *
 * console.log(toAsciiJson('{"message":"café"}')); // {"message":"caf\u00e9"}
 * ```
 */
export function toAsciiJson(json: string): string {
  return HAS_NON_ASCII.test(json) ? json.replace(NON_ASCII, escapeCodeUnit) : json;
}

/** Encodes a JSON-serialisable value as one line: ASCII JSON plus `\n`. */
export function encodeLine(value: unknown): Uint8Array {
  return encoder.encode(toAsciiJson(JSON.stringify(value)) + "\n");
}

/**
 * Decodes one line as UTF-8.
 *
 * @throws {FrameError} `invalid_utf8`.
 */
export function decodeUtf8(line: Uint8Array): string {
  try {
    return utf8.decode(line);
  } catch (error) {
    throw new FrameError(ErrorCode.InvalidUtf8, "Line is not valid UTF-8", { cause: error });
  }
}

/**
 * A whole chunk decoded at once when it is pure ASCII (so its string
 * offsets are its byte offsets), else `null`. One decoder call per chunk
 * instead of one per line.
 */
export function asciiText(chunk: Uint8Array): string | null {
  let text: string;
  try {
    text = utf8.decode(chunk);
  } catch {
    return null; // not valid UTF-8 as a whole: each line is decoded on its own
  }
  return text.length === chunk.byteLength ? text : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FrameError(ErrorCode.InvalidJson, "Line is not valid JSON", { cause: error });
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FrameError(
      ErrorCode.InvalidFrame,
      `Frame must be a JSON object, got ${typeName(value)}`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * Decodes a line sent by a client into a {@linkcode ClientFrame}. The
 * returned object is the parsed JSON itself (unknown fields are kept); a
 * publish without `message` gets `message: null`, as kn-sock delivers it.
 *
 * @example
 * ```ts
 * import { decodeClientFrame } from "@kn-sock/pubsub";
 *
 * const line = new TextEncoder().encode('{"action": "subscribe", "topic": "news/sports"}');
 * console.log(decodeClientFrame(line)); // { action: "subscribe", topic: "news/sports" }
 * ```
 *
 * @param line One line, without its `\n`.
 * @param maxTopicBytes The longest topic accepted, in UTF-8 bytes.
 * @throws {FrameError} With code `invalid_utf8`, `invalid_json`,
 *   `invalid_frame`, `unknown_action` or `invalid_topic`.
 */
export function decodeClientFrame(line: Uint8Array, maxTopicBytes = 1024): ClientFrame {
  return decodeClientText(decodeUtf8(line), maxTopicBytes);
}

/**
 * {@linkcode decodeClientFrame} for a line already decoded from UTF-8.
 *
 * @example
 * ```ts
 * import { decodeClientText } from "@kn-sock/pubsub";
 *
 * console.log(decodeClientText('{"action": "publish", "topic": "t"}')); // message: null
 * ```
 *
 * @throws {FrameError} With code `invalid_json`, `invalid_frame`,
 *   `unknown_action` or `invalid_topic`.
 */
export function decodeClientText(text: string, maxTopicBytes = 1024): ClientFrame {
  const frame = asObject(parseJson(text));
  const action = frame.action;
  if (action !== "publish" && action !== "subscribe" && action !== "unsubscribe") {
    throw new FrameError(
      ErrorCode.UnknownAction,
      action === undefined
        ? "Action is missing"
        : typeof action === "string"
        ? `Unknown action "${action}"`
        : `Action must be a string, got ${typeName(action)}`,
    );
  }
  const problem = topicProblem(frame.topic, maxTopicBytes);
  if (problem !== null) throw new FrameError(ErrorCode.InvalidTopic, problem);
  if (action === "publish" && frame.message === undefined) frame.message = null;
  return frame as unknown as ClientFrame;
}

/**
 * Encodes a frame for a client to send.
 *
 * @example
 * ```ts
 * import { encodeClientFrame } from "@kn-sock/pubsub";
 *
 * const bytes = encodeClientFrame({ action: "publish", topic: "news", message: "hi" });
 * console.log(new TextDecoder().decode(bytes)); // {"action":"publish","topic":"news","message":"hi"}\n
 * ```
 */
export function encodeClientFrame(frame: ClientFrame): Uint8Array {
  return encodeLine(frame);
}

/**
 * Encodes the delivery of a message: `{"topic":T,"message":M}` and `\n`.
 * The server encodes each publish once and shares the bytes.
 *
 * @example
 * ```ts
 * import { encodeDelivery } from "@kn-sock/pubsub";
 *
 * const bytes = encodeDelivery("news/sports", "Tonight!");
 * console.log(new TextDecoder().decode(bytes)); // {"topic":"news/sports","message":"Tonight!"}\n
 * ```
 */
export function encodeDelivery(topic: string, message: JsonValue): Uint8Array {
  return encodeLine({ topic, message });
}

/**
 * Encodes an error frame: `{"action":"error","code":C,"error":text}` and `\n`.
 *
 * @example
 * ```ts
 * import { encodeErrorFrame } from "@kn-sock/pubsub";
 *
 * const bytes = encodeErrorFrame("invalid_json", "Line is not valid JSON");
 * console.log(new TextDecoder().decode(bytes));
 * ```
 */
export function encodeErrorFrame(code: string, error: string): Uint8Array {
  return encodeLine({ action: "error", code, error });
}

/**
 * Decodes a line sent by a server. A frame with a string `topic` and no
 * `action` is a delivery (kn-sock's only server frame); one with an
 * `action` is a control frame, `unknown` when this version does not know it.
 *
 * @example
 * ```ts
 * import { decodeServerFrame } from "@kn-sock/pubsub";
 *
 * const line = new TextEncoder().encode('{"topic": "news", "message": "hi"}');
 * console.log(decodeServerFrame(line)); // { kind: "message", topic: "news", message: "hi" }
 * ```
 *
 * @throws {FrameError} When the line is not a JSON object, or a delivery
 *   has no string topic.
 */
export function decodeServerFrame(line: Uint8Array): ServerFrame {
  const frame = asObject(parseJson(decodeUtf8(line)));
  const action = frame.action;
  if (action === undefined) {
    if (typeof frame.topic !== "string") {
      throw new FrameError(ErrorCode.InvalidTopic, "Delivery has no string topic");
    }
    const message = frame.message === undefined ? null : frame.message as JsonValue;
    return { kind: "message", topic: frame.topic, message };
  }
  if (action === "error") {
    return {
      kind: "error",
      action,
      code: String(frame.code ?? "unknown"),
      error: String(frame.error ?? ""),
    };
  }
  return { kind: "unknown", action: String(action) };
}
