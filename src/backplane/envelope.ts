/**
 * The envelopes nodes exchange, as JSON text: publishes on the cluster
 * channel, and announcements and heartbeats on the control channel. Each
 * carries its origin node, the origin's epoch (when it started) and a
 * counter, so a receiver can skip its own and count what never arrived.
 *
 * ```text
 * {"o":"node-a","e":1764770000000,"c":42,"t":"news/eu","m":"hi","h":{"k":"v"},"r":"inbox/1","k":1}
 * {"o":"node-a","e":1764770000000,"c":43,"t":"jobs/1","m":1,"q":{"g7:workers:jobs/#":"node-b"}}
 * {"a":"hb","o":"node-a","e":1764770000000,"c":42}
 * {"a":"groups","o":"node-b","e":1764770000500,"c":0,"g":[["workers","jobs/#"]]}
 * {"a":"watch","o":"node-b","e":1764770000500,"c":0,"p":["time/now"]}
 * ```
 *
 * `h` (headers), `r` (reply topic), `k` (retain) and `q` (the node picked
 * for each matching queue group, by subscription key) appear only when set.
 * In a control envelope, `c` is the counter of the last publish the node
 * sent, and `a` says what it is: `join` (a node started), `here` (an
 * answer to a join), `hb` (a heartbeat), `groups` (the node's queue groups,
 * all of them, in `g`), `interest` (every pattern it has subscribers for,
 * in `p`), `watch` and `unwatch` (patterns that gained their first
 * subscriber or lost their last, in `p`) or `leave` (a node stops).
 *
 * @module
 */

import type { Headers, JsonValue } from "../protocol/frames.ts";
import type { GroupMembership, InboundPublish } from "./backplane.ts";

/** A publish between nodes: a publish, and where it comes from. */
export interface PublishEnvelope extends InboundPublish {
  /** The node that published it. */
  origin: string;
  /** When the origin started (ms since the epoch): a restarted node has a new one. */
  epoch: number;
  /** The origin's count of publishes sent in this epoch, this one included (from 1). */
  counter: number;
}

/** What a control envelope says. */
export const ControlKind = {
  Join: "join",
  Here: "here",
  Heartbeat: "hb",
  Groups: "groups",
  Interest: "interest",
  Watch: "watch",
  Unwatch: "unwatch",
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
  /** With `groups`: every (group, pattern) the origin has members in. */
  groups?: readonly GroupMembership[];
  /** With `interest`, `watch` and `unwatch`: subscription patterns. */
  patterns?: readonly string[];
}

/** The control kinds that carry patterns. */
const PATTERN_KINDS = new Set<string>([
  ControlKind.Interest,
  ControlKind.Watch,
  ControlKind.Unwatch,
]);

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
  picks?: Record<string, string>,
): string {
  let text = `{"o":${JSON.stringify(origin)},"e":${epoch},"c":${counter},"t":${
    JSON.stringify(topic)
  },"m":${json}`;
  if (headers !== undefined) text += `,"h":${JSON.stringify(headers)}`;
  if (reply !== undefined) text += `,"r":${JSON.stringify(reply)}`;
  if (retain === true) text += `,"k":1`;
  if (picks !== undefined) text += `,"q":${JSON.stringify(picks)}`;
  return text + "}";
}

/** The envelope of an announcement or heartbeat. */
export function encodeControlEnvelope(envelope: ControlEnvelope): string {
  const value: Record<string, unknown> = {
    a: envelope.kind,
    o: envelope.origin,
    e: envelope.epoch,
    c: envelope.counter,
  };
  if (envelope.groups !== undefined) value.g = envelope.groups;
  if (envelope.patterns !== undefined) value.p = envelope.patterns;
  return JSON.stringify(value);
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

/** A string-to-string object (headers, picks), `undefined` when absent, `null` when bad. */
function stringsOf(value: unknown): Record<string, string> | undefined | null {
  if (value === undefined) return undefined;
  if (!isObject(value)) return null;
  for (const key in value) if (typeof value[key] !== "string") return null;
  return value as Headers;
}

/** A publish envelope from its text, or why it is not one. */
export function decodePublishEnvelope(text: string): PublishEnvelope | string {
  const value = parse(text);
  if (typeof value === "string") return value;
  const { o, e, c, t, m, h, r, k, q } = value;
  if (typeof o !== "string" || o === "") return `bad origin ${JSON.stringify(o)}`;
  if (!isCount(e) || !isCount(c) || c === 0) return "bad epoch or counter";
  if (typeof t !== "string" || t === "") return `bad topic ${JSON.stringify(t)}`;
  if (m === undefined) return "no message";
  const headers = stringsOf(h);
  if (headers === null) return "bad headers";
  const picks = stringsOf(q);
  if (picks === null) return "bad queue group picks";
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
  if (picks !== undefined) envelope.picks = picks;
  return envelope;
}

/**
 * A retained message as the cluster's Redis hash keeps it (the field is its
 * topic): `{"m":<message>,"h":{…}}`, `h` only when it has headers.
 */
export function encodeRetained(json: string, headers: Headers | undefined): string {
  return headers === undefined ? `{"m":${json}}` : `{"m":${json},"h":${JSON.stringify(headers)}}`;
}

/** A retained message's message JSON text and headers from the hash, or why it is not one. */
export function decodeRetained(text: string): { json: string; headers?: Headers } | string {
  const value = parse(text);
  if (typeof value === "string") return value;
  const headers = stringsOf(value.h);
  if (value.m === undefined) return "no message";
  if (headers === null) return "bad headers";
  const json = JSON.stringify(value.m);
  return headers === undefined ? { json } : { json, headers };
}

const CONTROL_KINDS = new Set<string>(Object.values(ControlKind));

function isMembership(value: unknown): value is GroupMembership {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" &&
    value[0] !== "" && typeof value[1] === "string" && value[1] !== "";
}

/** A control envelope from its text, or why it is not one. */
export function decodeControlEnvelope(text: string): ControlEnvelope | string {
  const value = parse(text);
  if (typeof value === "string") return value;
  const { a, o, e, c, g, p } = value;
  if (typeof a !== "string" || !CONTROL_KINDS.has(a)) return `bad kind ${JSON.stringify(a)}`;
  if (typeof o !== "string" || o === "") return `bad origin ${JSON.stringify(o)}`;
  if (!isCount(e) || !isCount(c)) return "bad epoch or counter";
  const envelope: ControlEnvelope = { kind: a as ControlKind, origin: o, epoch: e, counter: c };
  if (a === ControlKind.Groups) {
    if (!Array.isArray(g) || !g.every(isMembership)) return "bad group list";
    envelope.groups = g;
  }
  if (PATTERN_KINDS.has(a)) {
    if (!Array.isArray(p) || !p.every((x) => typeof x === "string" && x !== "")) {
      return "bad pattern list";
    }
    envelope.patterns = p;
  }
  return envelope;
}
