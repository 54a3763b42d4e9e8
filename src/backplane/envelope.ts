/**
 * The envelopes nodes exchange, as JSON text: publishes on the cluster
 * channel, and announcements and heartbeats on the control channel. Each
 * carries its origin node, the origin's epoch (when it started) and a
 * counter, so a receiver can skip its own and count what never arrived.
 *
 * ```text
 * {"o":"node-a","e":1764770000000,"c":42,"t":"news/eu","m":"hi","h":{"k":"v"},"r":"inbox/1","k":1}
 * {"a":"hb","o":"node-a","e":1764770000000,"c":42}
 * ```
 *
 * `h` (headers), `r` (reply topic) and `k` (retain) appear only when set.
 * In a control envelope, `c` is the counter of the last publish the node
 * sent, and `a` says what it is: `join` (a node started), `here` (an
 * answer to a join), `hb` (a heartbeat) or `leave` (a node stops).
 *
 * @module
 */

import type { Headers, JsonValue } from "../protocol/frames.ts";

/** A publish between nodes. */
export interface PublishEnvelope {
  /** The node that published it. */
  origin: string;
  /** When the origin started (ms since the epoch): a restarted node has a new one. */
  epoch: number;
  /** The origin's count of publishes sent in this epoch, this one included (from 1). */
  counter: number;
  topic: string;
  message: JsonValue;
  headers?: Headers;
  reply?: string;
  retain?: boolean;
}

/** What a control envelope says. */
export const ControlKind = {
  Join: "join",
  Here: "here",
  Heartbeat: "hb",
  Leave: "leave",
} as const;

/** One of the values of {@linkcode ControlKind}. */
export type ControlKind = typeof ControlKind[keyof typeof ControlKind];

/** An announcement or a heartbeat. */
export interface ControlEnvelope {
  kind: ControlKind;
  origin: string;
  epoch: number;
  /** The counter of the last publish the origin sent in this epoch (0 before the first). */
  counter: number;
}

/**
 * The envelope of a publish. `json` is the message's JSON text, put in as
 * it is (the receiver parses the whole envelope once).
 */
export function encodePublishEnvelope(
  origin: string,
  epoch: number,
  counter: number,
  topic: string,
  json: string,
  headers?: Headers,
  reply?: string,
  retain?: boolean,
): string {
  let text = `{"o":${JSON.stringify(origin)},"e":${epoch},"c":${counter},"t":${
    JSON.stringify(topic)
  },"m":${json}`;
  if (headers !== undefined) text += `,"h":${JSON.stringify(headers)}`;
  if (reply !== undefined) text += `,"r":${JSON.stringify(reply)}`;
  if (retain === true) text += `,"k":1`;
  return text + "}";
}

/** The envelope of an announcement or heartbeat. */
export function encodeControlEnvelope(envelope: ControlEnvelope): string {
  return JSON.stringify({
    a: envelope.kind,
    o: envelope.origin,
    e: envelope.epoch,
    c: envelope.counter,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function parse(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  return isObject(value) ? value : "not a JSON object";
}

function headersOf(value: unknown): Headers | undefined | null {
  if (value === undefined) return undefined;
  if (!isObject(value)) return null;
  for (const key in value) if (typeof value[key] !== "string") return null;
  return value as Headers;
}

/** A publish envelope from its text, or why it is not one. */
export function decodePublishEnvelope(text: string): PublishEnvelope | string {
  const value = parse(text);
  if (typeof value === "string") return value;
  const { o, e, c, t, m, h, r, k } = value;
  if (typeof o !== "string" || o === "") return `bad origin ${JSON.stringify(o)}`;
  if (!isCount(e) || !isCount(c) || c === 0) return "bad epoch or counter";
  if (typeof t !== "string" || t === "") return `bad topic ${JSON.stringify(t)}`;
  if (m === undefined) return "no message";
  const headers = headersOf(h);
  if (headers === null) return "bad headers";
  if (r !== undefined && (typeof r !== "string" || r === "")) return "bad reply topic";
  if (k !== undefined && k !== 1) return "bad retain flag";
  const envelope: PublishEnvelope = {
    origin: o,
    epoch: e,
    counter: c,
    topic: t,
    message: m as JsonValue,
  };
  if (headers !== undefined) envelope.headers = headers;
  if (r !== undefined) envelope.reply = r;
  if (k === 1) envelope.retain = true;
  return envelope;
}

const CONTROL_KINDS = new Set<string>(Object.values(ControlKind));

/** A control envelope from its text, or why it is not one. */
export function decodeControlEnvelope(text: string): ControlEnvelope | string {
  const value = parse(text);
  if (typeof value === "string") return value;
  const { a, o, e, c } = value;
  if (typeof a !== "string" || !CONTROL_KINDS.has(a)) return `bad kind ${JSON.stringify(a)}`;
  if (typeof o !== "string" || o === "") return `bad origin ${JSON.stringify(o)}`;
  if (!isCount(e) || !isCount(c)) return "bad epoch or counter";
  return { kind: a as ControlKind, origin: o, epoch: e, counter: c };
}
