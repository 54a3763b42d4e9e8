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
import { quoted, topicProblem, typeName } from "../topic/validate_topic.ts";
import type {
  BackplaneNotice,
  ClientFrame,
  Delivery,
  ErrorFrame,
  FrameId,
  Headers,
  HelloFrame,
  JsonValue,
  PingFrame,
  PongFrame,
  PublishFrame,
  ServerFrame,
  ServerInfo,
  SubscribeFrame,
  UnsubscribeFrame,
} from "./frames.ts";
import { isSlowConsumerPolicy } from "./frames.ts";
import { policyProblem } from "./policy_problem.ts";
import { hasWildcard, patternProblem } from "../topic/pattern.ts";

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
export function decodeClientText(
  text: string,
  maxTopicBytes = 1024,
  maxTopicLevels = 32,
): ClientFrame {
  const frame = asObject(parseJson(text));
  const id = frame.id;
  if (id !== undefined && typeof id !== "string" && !(typeof id === "number" && isFinite(id))) {
    throw new FrameError(
      ErrorCode.InvalidFrame,
      `Id must be a string or a number, got ${typeName(id)}`,
    );
  }
  try {
    return checkFrame(frame, maxTopicBytes, maxTopicLevels);
  } catch (error) {
    if (error instanceof FrameError) error.id = id as FrameId | undefined;
    throw error;
  }
}

function refuse(code: ErrorCode, message: string): never {
  throw new FrameError(code, message);
}

function checkFrame(
  frame: Record<string, unknown>,
  maxTopicBytes: number,
  maxTopicLevels: number,
): ClientFrame {
  const action = frame.action;
  if (action === "hello") {
    if (frame.echo !== undefined && typeof frame.echo !== "boolean") {
      refuse(ErrorCode.InvalidFrame, `Echo must be a boolean, got ${typeName(frame.echo)}`);
    }
    if (frame.name !== undefined && typeof frame.name !== "string") {
      refuse(ErrorCode.InvalidFrame, `Name must be a string, got ${typeName(frame.name)}`);
    }
    // `user`, `pass` and `token` are the server's to check (see `credentialsProblem()`):
    // with auth on, credentials of the wrong type are an `auth_failed`, not a bad frame.
    return frame as unknown as HelloFrame;
  }
  if (action === "ping" || action === "pong") return frame as unknown as PingFrame | PongFrame;
  if (action !== "publish" && action !== "subscribe" && action !== "unsubscribe") {
    refuse(
      ErrorCode.UnknownAction,
      action === undefined
        ? "Action is missing"
        : typeof action === "string"
        ? `Unknown action ${quoted(action)}`
        : `Action must be a string, got ${typeName(action)}`,
    );
  }
  const topic = frame.topic;
  const problem = topicProblem(topic, maxTopicBytes, maxTopicLevels);
  if (problem !== null) refuse(ErrorCode.InvalidTopic, problem);
  if (action === "publish") {
    if (hasWildcard(topic as string)) {
      refuse(ErrorCode.InvalidTopic, "A publish topic must not contain '+' or '#'");
    }
    if (frame.message === undefined) frame.message = null;
    const { headers, reply, retain } = frame;
    if (headers !== undefined && !isHeaders(headers)) {
      refuse(ErrorCode.InvalidFrame, "Headers must be an object of string values");
    }
    if (reply !== undefined) {
      const replyProblem = topicProblem(reply, maxTopicBytes, maxTopicLevels);
      if (replyProblem !== null) refuse(ErrorCode.InvalidTopic, `Reply: ${replyProblem}`);
      if (hasWildcard(reply as string)) {
        refuse(ErrorCode.InvalidTopic, "A reply topic must not contain '+' or '#'");
      }
    }
    if (retain !== undefined && typeof retain !== "boolean") {
      refuse(ErrorCode.InvalidFrame, `Retain must be a boolean, got ${typeName(retain)}`);
    }
    return frame as unknown as PublishFrame;
  }
  const patternIssue = patternProblem(topic as string);
  if (patternIssue !== null) refuse(ErrorCode.InvalidPattern, patternIssue);
  const group = frame.group;
  if (group !== undefined && topicProblem(group, maxTopicBytes) !== null) {
    refuse(ErrorCode.InvalidFrame, "Group must be a non-empty string");
  }
  const policy = frame.policy;
  const policyIssue = policy === undefined ? null : policyProblem(policy);
  if (policyIssue !== null) refuse(ErrorCode.InvalidFrame, policyIssue);
  return frame as unknown as SubscribeFrame | UnsubscribeFrame;
}

function isHeaders(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  for (const key in value) {
    if (typeof (value as Record<string, unknown>)[key] !== "string") return false;
  }
  return true;
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
export function encodeErrorFrame(code: string, error: string, id?: FrameId): Uint8Array {
  return encodeLine(
    id === undefined ? { action: "error", code, error } : { action: "error", code, error, id },
  );
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
    const message: { kind: "message" } & Delivery = {
      kind: "message",
      topic: frame.topic,
      message: frame.message === undefined ? null : frame.message as JsonValue,
    };
    if (typeof frame.seq === "number") message.seq = frame.seq;
    if (isHeaders(frame.headers)) message.headers = frame.headers as Headers;
    if (typeof frame.reply === "string") message.reply = frame.reply;
    if (frame.retained === true) message.retained = true;
    return message;
  }
  const id = typeof frame.id === "string" || typeof frame.id === "number" ? frame.id : undefined;
  switch (action) {
    case "error": {
      const error: { kind: "error" } & ErrorFrame = {
        kind: "error",
        action: "error",
        code: String(frame.code ?? "unknown"),
        error: String(frame.error ?? ""),
      };
      if (id !== undefined) error.id = id;
      return error;
    }
    case "ok":
      if (id === undefined) break;
      return { kind: "ok", id };
    case "hello": {
      const hello: { kind: "hello"; id?: FrameId } & ServerInfo = {
        kind: "hello",
        id,
        version: Number(frame.version ?? 0),
        serverId: String(frame.server_id ?? ""),
        maxLine: Number(frame.max_line ?? 0),
        maxPayload: Number(frame.max_payload ?? 0),
        pingInterval: Number(frame.ping_interval ?? 0),
      };
      if (typeof frame.user === "string") hello.user = frame.user;
      if (typeof frame.inbox === "string") hello.inbox = frame.inbox;
      return hello;
    }
    case "ping":
    case "pong": {
      const kind = action === "ping" ? "ping" : "pong";
      return id === undefined ? { kind } : { kind, id };
    }
    case "slow_consumer": {
      const topics: Record<string, number> = {};
      const listed = frame.topics;
      if (typeof listed === "object" && listed !== null && !Array.isArray(listed)) {
        for (const [topic, count] of Object.entries(listed)) {
          if (typeof count === "number") topics[topic] = count;
        }
      }
      return {
        kind: "slow_consumer",
        policy: isSlowConsumerPolicy(frame.policy) ? frame.policy : "drop-newest",
        dropped: Number(frame.dropped ?? 0),
        topics,
      };
    }
    case "backplane": {
      const state = frame.state;
      if (state !== "down" && state !== "up") break;
      const notice: { kind: "backplane" } & BackplaneNotice = {
        kind: "backplane",
        state,
        nodes: Number(frame.nodes ?? 0),
        unsent: Number(frame.unsent ?? 0),
        lost: Number(frame.lost ?? 0),
        outages: Number(frame.outages ?? 0),
        stalls: Number(frame.stalls ?? 0),
      };
      if (typeof frame.reason === "string") notice.reason = frame.reason;
      return notice;
    }
  }
  return { kind: "unknown", action: String(action) };
}

/** `{"action":"ok","id":ID}` and `\n`. */
export function encodeOkFrame(id: FrameId): Uint8Array {
  return encodeLine({ action: "ok", id });
}
