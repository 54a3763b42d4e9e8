/**
 * The publish scanner (the server's path that skips `JSON.parse`): whatever
 * line it accepts, the full decoder must accept too and read as the same
 * frame, with the same message bytes. Checked on generated publish lines,
 * their mutations and truncations, and hand-picked edge cases.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeClientText } from "../mod.ts";
import { payloadRefusal } from "../src/protocol/json_value.ts";
import { PublishScanner } from "../src/protocol/publish_scanner.ts";
import type { PublishBounds, PublishSpans } from "../src/protocol/publish_spans.ts";
import { ClientLine, scannedPublish } from "../src/protocol/client_line.ts";
import { AsciiStrings } from "../src/protocol/ascii_strings.ts";
import { ErrorCode, FrameError } from "../src/errors.ts";
import { rng } from "./_fuzz_inputs.ts";

const encoder = new TextEncoder();
const text = new TextDecoder();
const BOUNDS: PublishBounds = { maxTopicBytes: 40, maxTopicLevels: 4, maxNestingDepth: 3 };
const LIMITS = { ...BOUNDS, maxPayloadBytes: 1024 * 1024 };

/** The full decoder's verdict: the frame, or the error code. */
function slowDecode(line: string): { frame?: unknown; code?: string } {
  try {
    const frame = decodeClientText(line, BOUNDS.maxTopicBytes, BOUNDS.maxTopicLevels);
    if (frame.action === "publish") {
      const refusal = payloadRefusal(frame.message, line.length, LIMITS);
      if (refusal !== null) return { code: refusal[0] };
    }
    return { frame };
  } catch (error) {
    if (error instanceof FrameError) return { code: error.code };
    throw error;
  }
}

const SPAN_KEYS = [
  "topicStart",
  "topicEnd",
  "messageStart",
  "messageEnd",
  "plainString",
  "idStart",
  "idEnd",
  "idIsString",
] as const;

/** The spans a scanner found (its fields, without its state). */
function spansOf(spans: PublishSpans): Partial<PublishSpans> {
  return Object.fromEntries(SPAN_KEYS.map((key) => [key, spans[key]]));
}

/** Whether the scanner took `line`; when it did, checks it against the full decoder. */
function agrees(line: string): boolean {
  const bytes = encoder.encode(line);
  const spans = new PublishScanner();
  // The line on its own, and in the middle of chunks (as the server scans
  // it) at every alignment, followed by bytes that must not be read.
  const alone = spans.scan(bytes, 0, bytes.length, BOUNDS);
  for (let shift = 0; shift < 4; shift++) {
    const before = `${" ".repeat(shift)}{"a":1}\n`;
    const buffer = encoder.encode(`${before}${line}.5e"}]${"x".repeat(8)}`);
    const chunk = buffer.subarray(1 + shift); // a view at another offset of its buffer
    const start = before.length - 1 - shift;
    const inChunk = new PublishScanner();
    const took = inChunk.scan(chunk, start, start + bytes.length, BOUNDS);
    assert.equal(took, alone, `the scan depends on the bytes around the line: ${line}`);
    if (took) assert.equal(inChunk.messageEnd - start, spans.messageEnd, line);
    // The same line with its end to be found by the scan: after "\n" or "\r\n", and cut
    // before its newline (the end of the chunk, or one byte short of the longest line).
    const ending = shift % 2 === 0 ? "\n" : "\r\n";
    const rest = `${before}${line}${ending}{"a":"\n"}\n`;
    const withEnd = encoder.encode(rest).subarray(1 + shift);
    const newline = start + bytes.length + ending.length - 1;
    const fused = new PublishScanner();
    const found = fused.scanLine(withEnd, start, withEnd.length, newline - start, BOUNDS);
    assert.equal(found, alone ? newline : -1, `the line's end was not found as its own: ${line}`);
    if (alone) assert.deepEqual(spansOf(fused), spansOf(inChunk), line);
    const short = fused.scanLine(withEnd, start, withEnd.length, newline - start - 1, BOUNDS);
    assert.equal(short, -1, `a line longer than allowed was scanned: ${line}`);
    assert.equal(fused.scanLine(withEnd, start, newline, 1 << 20, BOUNDS), -1, line);
  }
  if (!alone) return false;
  assert.equal(bytes.length, line.length, `a line that is not ASCII was scanned: ${line}`);
  const slow = slowDecode(line);
  assert.equal(slow.code, undefined, `the decoder refused a scanned line: ${line}`);
  const topic = line.slice(spans.topicStart, spans.topicEnd);
  assert.deepEqual(scannedPublish(bytes, spans, topic), slow.frame, line);
  const json = text.decode(bytes.subarray(spans.messageStart, spans.messageEnd));
  assert.deepEqual(JSON.parse(json), (slow.frame as { message: unknown }).message, line);
  return true;
}

const SPACES = ["", " ", "  ", "\t", "\r"];
/** Long strings put their special characters at every offset of a 4-byte word. */
const long = (middle: string): string => `"${"x".repeat(21)}${middle}${"y".repeat(18)}"`;
/** Values, then the ones the scanner must leave (invalid, or not provably in range). */
const ATOMS = [
  ['"plain text"', '""', '"say \\"hi\\""', '"tab\\tand\\u00e9"', '"\\ud800"', "0", "-0", "12.5"],
  ["-7", "true", "false", "null", "9".repeat(300), long('\\"'), long("\\\\z\\u0041\\n")],
];
const ODD_ATOMS = [
  long("\t"),
  long("é"),
  '"café"',
  long("\u{1f600}"),
  long("\\x"),
  long('\u007f""'),
  '"bad \\x"',
  '"bad \\u12"',
  "01",
  "1.",
  ".5",
  "1e3",
  "1E400",
  "9".repeat(301),
  "nul",
];
const TOPICS = ['"a/b"', '"news"', '"a/b/c/d"'];
const ODD_TOPICS = [
  '"ü/a"',
  '"a/+"',
  '"a/#"',
  '""',
  '"a\\/b"',
  '"a/b/c/d/e"',
  `"${"t".repeat(41)}"`,
];
const IDS = ['"req-1"', "7", "-3", "123456789012345"];
const ODD_IDS = ["1.5", "1e2", '"a\\"b"', "true", "1234567890123456", "007"];

/** Mostly from `good`, one time in `odds` from `odd`. */
function pick(
  random: (n: number) => number,
  good: readonly string[],
  odd: readonly string[],
  odds: number,
): string {
  const list = random(odds) === 0 ? odd : good;
  return list[random(list.length)];
}

function value(random: (n: number) => number, depth: number): string {
  const space = (): string => SPACES[random(SPACES.length)];
  const kind = depth > 5 ? 0 : random(4);
  if (kind <= 1) return pick(random, ATOMS[kind], ODD_ATOMS, 40);
  const items: string[] = [];
  const count = random(4);
  for (let i = 0; i < count; i++) {
    const item = value(random, depth + 1);
    items.push(kind === 2 ? item : `${space()}"k${random(3)}"${space()}:${space()}${item}`);
  }
  const [open, close] = kind === 2 ? ["[", "]"] : ["{", "}"];
  return `${open}${space()}${items.join(`${space()},${space()}`)}${space()}${close}`;
}

function publishLine(random: (n: number) => number): string {
  const space = (): string => SPACES[random(SPACES.length)];
  const member = (key: string, v: string): string => `${space()}"${key}"${space()}:${space()}${v}`;
  const members = [
    member("action", random(8) === 0 ? '"subscribe"' : '"publish"'),
    member("topic", pick(random, TOPICS, ODD_TOPICS, 8)),
    member("message", value(random, 0)),
  ];
  if (random(3) === 0) members.push(member("id", pick(random, IDS, ODD_IDS, 4)));
  if (random(8) === 0) members.push(member("retain", "true"));
  if (random(8) === 0) members.reverse();
  return `${space()}{${members.join(`${space()},`)}${space()}}${space()}`;
}

test("the publish scanner reads every line it takes as the full decoder does", () => {
  const random = rng(5);
  let taken = 0;
  let lines = 0;
  for (let i = 0; i < 4000; i++) {
    const line = publishLine(random);
    const variants = [line, line.slice(0, random(line.length + 1))];
    const at = random(line.length);
    variants.push(line.slice(0, at) + String.fromCharCode(32 + random(95)) + line.slice(at + 1));
    for (const variant of variants) {
      lines++;
      if (agrees(variant)) taken++;
    }
  }
  // The generator aims at the scanner's edges: it must take many lines and leave many.
  assert.ok(taken > lines / 10, `taken ${taken} of ${lines}`);
  assert.ok(taken < lines / 2, `taken ${taken} of ${lines}`);
});

test("the publish scanner takes kn-sock's and the client's common shapes", () => {
  for (
    const line of [
      '{"action": "publish", "topic": "news/technology", "message": "AI breakthrough"}',
      '{"action":"publish","topic":"a/b","message":{"n":[1,2.5,-0,true,null]}}',
      '{"action":"publish","topic":"a","message":"x","id":12}',
      '{"action":"publish","topic":"a","message":"say \\"hi\\"","id":"r1"}',
      ' {"action":"publish","topic":"a","message":[]} \r',
      // The usual spellings (read in one comparison each), then more spaces than they have.
      '{"action": "publish", "topic":  "a", "message":   "x"}',
      '{"action":"publish","topic":\t"a","message": \t{"k" : 1}}',
      '{"action": "publish","topic": "a", "message":"x"}',
    ]
  ) {
    assert.equal(agrees(line), true, line);
  }
});

test("the usual spellings, changed at any byte, are read as the full decoder reads them", () => {
  // The scanner compares these lines' heads in one go: every one-byte change,
  // deletion and cut must still agree with the full decoder.
  const bases = [
    '{"action":"publish","topic":"a/b","message":"hi","id":3}',
    '{"action": "publish", "topic": "a/b", "message": {"k": [1, 2]}, "id": "r"}',
  ];
  let taken = 0;
  let lines = 0;
  for (const base of bases) {
    for (let at = 0; at <= base.length; at++) {
      const variants = [base.slice(0, at), base.slice(0, at) + base.slice(at + 1)];
      for (const char of ' \t",:{}ax\\') {
        variants.push(base.slice(0, at) + char + base.slice(at + 1));
        variants.push(base.slice(0, at) + char + base.slice(at));
      }
      for (const variant of variants) {
        lines++;
        if (agrees(variant)) taken++;
      }
    }
  }
  assert.ok(taken > lines / 10 && taken < lines / 2, `taken ${taken} of ${lines}`);
});

test("the publish scanner leaves what it cannot vouch for to the full decoder", () => {
  for (
    const line of [
      '{"action":"publish","topic":"a","message":1e3}', // could overflow: the decoder decides
      '{"action":"publish","topic":"a","message":[[[[1]]]]}', // deeper than maxNestingDepth 3
      '{"action":"publish","topic":"a/+","message":"x"}', // a wildcard: invalid_topic
      '{"action":"publish","topic":"a","message":"x","retain":true}', // another member
      '{"action":"publish","topic":"a","message":"x"}}', // trailing garbage
      '{"action":"publish","topic":"a","message":"x","id":1.5}', // a fractional id
      '{"action":"publish","topic":"a","message":"x\u0001"}', // a raw control character
      '{"topic":"a","action":"publish","message":"x"}', // another order
    ]
  ) {
    assert.equal(agrees(line), false, line);
  }
});

test("ClientLine.decode() reads a publish with or without a frame, and refuses as the decoder does", () => {
  const limits = { ...LIMITS, maxPayloadBytes: 64 };
  const out = new ClientLine(limits);
  for (
    const [line, json] of [
      ['{"action":"publish","topic":"a","message":{ "b" : 1 },"id":-0}', '{ "b" : 1 }'],
      ['{"topic":"a","action":"publish","message":"x","id":"r"}', '"x"'], // the full decoder's path
      ['{"action":"publish","topic":"a","message":"caf\u00e9"}', null], // not ASCII
    ] as const
  ) {
    const bytes = encoder.encode(line);
    const frame = decodeClientText(line);
    out.decode(bytes, 0, bytes.length, true);
    assert.deepEqual(out.frame, frame, line);
    assert.equal(out.json === null ? null : text.decode(out.json), json, line);
    out.decode(bytes, 0, bytes.length, false);
    if (out.frame === null) {
      // Scanned without a frame: the topic, id and message bytes are the whole publish.
      assert.equal(out.topic, "a");
      assert.ok(Object.is(out.id, (frame as { id?: unknown }).id), line);
    } else {
      assert.deepEqual(out.frame, frame, line);
    }
  }
  const big = encoder.encode(
    JSON.stringify({ action: "publish", topic: "a", message: "x".repeat(80) }),
  );
  assert.throws(
    () => out.decode(big, 0, big.length, false),
    (error: unknown) => error instanceof FrameError && error.code === ErrorCode.PayloadTooLarge,
  );
  const deep = encoder.encode('{"action":"publish","topic":"a","message":[[[[1]]]],"id":3}');
  assert.throws(
    () => out.decode(deep, 0, deep.length, false),
    (error: unknown) =>
      error instanceof FrameError && error.code === ErrorCode.InvalidFrame && error.id === 3,
  );
});

test("AsciiStrings gives each run of bytes its own text, however many there are", () => {
  const strings = new AsciiStrings();
  const random = rng(9);
  const chunk = new Uint8Array(64);
  for (let i = 0; i < 20_000; i++) {
    // Few distinct topics at first (hits), then many (misses and a full table).
    const name = `t/${random(i < 5000 ? 50 : 100_000)}`;
    const at = random(8);
    encoder.encodeInto(name, chunk.subarray(at));
    assert.equal(strings.get(chunk, at, at + name.length), name);
  }
});
