/**
 * The server's publish fast path against the full decoder, on generated
 * lines: whatever the fast path reads (the publish scanner, and the message
 * finder for the lines it leaves) must be exactly what `decodeClientText()`
 * reads, and the bytes it would forward as the message must be the message
 * as it was written. A fast path may always decline; it may never differ.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeClientText } from "../mod.ts";
import { FrameError } from "../src/errors.ts";
import { ClientLine } from "../src/protocol/client_line.ts";
import { JsonScanner } from "../src/protocol/json_scanner.ts";
import { payloadRefusal } from "../src/protocol/json_value.ts";
import { findMessage } from "../src/protocol/message_span.ts";
import { rng } from "./_fuzz_inputs.ts";

type Random = (n: number) => number;

const encoder = new TextEncoder();
const text = new TextDecoder();
const LIMITS = {
  maxTopicBytes: 48,
  maxTopicLevels: 5,
  maxNestingDepth: 4,
  maxPayloadBytes: 4096,
};

/** The full decoder's verdict on a line: the frame, or the error code. */
function reference(
  line: string,
): { frame?: Record<string, unknown>; code?: string; id?: unknown } {
  try {
    const frame = decodeClientText(line, LIMITS.maxTopicBytes, LIMITS.maxTopicLevels);
    if (frame.action === "publish") {
      const refusal = payloadRefusal(frame.message, encoder.encode(line).length, LIMITS);
      if (refusal !== null) return { code: refusal[0], id: frame.id };
    }
    return { frame: frame as unknown as Record<string, unknown> };
  } catch (error) {
    if (error instanceof FrameError) return { code: error.code, id: error.id };
    throw error;
  }
}

const pick = <T>(random: Random, list: readonly T[]): T => list[random(list.length)];
const SPACES = ["", "", "", " ", "  ", "\t", " \t", "\r"];

const STRINGS = [
  '""',
  '"hi"',
  '"AI breakthrough"',
  `"${"x".repeat(37)}"`,
  '"say \\"hi\\""',
  '"back\\\\slash"',
  '"tab\\there"',
  '"caf\\u00e9"',
  '"\\ud83d\\ude00"',
  '"\\/"',
  '"café"', // raw non-ASCII
  '"☕ ready"',
  '"\u{1f600}"',
  '"{\\"event\\": \\"order\\"}"',
];
const NUMBERS = [
  "0",
  "-0",
  "7",
  "-12",
  "12.50",
  "99.99",
  "1e3",
  "-2.5E-3",
  "1E+2",
  "123456789012345678901234567890",
];
const LITERALS = ["true", "false", "null"];

function value(random: Random, depth: number): string {
  const space = (): string => pick(random, SPACES);
  const kind = depth >= 5 ? random(3) : random(5);
  if (kind === 0) return pick(random, STRINGS);
  if (kind === 1) return pick(random, NUMBERS);
  if (kind === 2) return pick(random, LITERALS);
  const items: string[] = [];
  for (let i = random(4); i > 0; i--) {
    const item = value(random, depth + 1);
    items.push(
      kind === 3 ? item : `${space()}${pick(random, STRINGS)}${space()}:${space()}${item}`,
    );
  }
  const [open, close] = kind === 3 ? ["[", "]"] : ["{", "}"];
  return `${open}${space()}${items.join(`${space()},${space()}`)}${space()}${close}`;
}

const TOPICS = ['"a"', '"news/sports"', '"a/b/c"', '"caf\\u00e9"', '"\\u0061/b"', '"t/1"'];
const BAD_TOPICS = ['"a/+"', '"#"', '""', '"a/b/c/d/e/f"', `"${"t".repeat(49)}"`, "7", '"ü"'];
const IDS = ['"req-1"', "7", "-3", "0", "1.5", '"a\\"b"', "123456789012345", "1234567890123456"];
const HEADERS = ['{"k": "v"}', "{}", '{"a":"1","b":"\\u00e9"}', '{"n": 1}', "[]"];
const REPLIES = ['"inbox/1"', '"inbox/+"', "1"];

/** A publish line and the message as written in it (`null` when it has none). */
function publish(random: Random): { line: string; message: string | null } {
  const space = (): string => pick(random, SPACES);
  const member = (key: string, v: string): string => `${space()}"${key}"${space()}:${space()}${v}`;
  const message = random(20) === 0 ? null : value(random, 0);
  const members = [
    member("action", random(20) === 0 ? '"subscribe"' : '"publish"'),
    member("topic", random(10) === 0 ? pick(random, BAD_TOPICS) : pick(random, TOPICS)),
  ];
  if (message !== null) members.push(member("message", message));
  if (random(3) === 0) members.push(member("id", pick(random, IDS)));
  // The extended members, and other orders: the scanner leaves these to the full decoder.
  if (random(6) === 0) members.push(member("headers", pick(random, HEADERS)));
  if (random(8) === 0) members.push(member("reply", pick(random, REPLIES)));
  if (random(8) === 0) members.push(member("retain", pick(random, ["true", "false", "1"])));
  if (random(10) === 0) members.push(member("x", value(random, 0)));
  if (random(8) === 0) members.splice(random(members.length), 0, members.pop()!);
  // The spellings JSON.stringify() and Python json.dumps() use, and any other.
  const style = random(3);
  const line = style === 0
    ? `{${members.map((m) => m.trim().replace(/\s*:\s*/, ":")).join(",")}}`
    : style === 1
    ? `{${members.map((m) => m.trim().replace(/\s*:\s*/, ": ")).join(", ")}}`
    : `${space()}{${members.join(`${space()},`)}${space()}}${space()}`;
  return { line, message };
}

/** A near miss: one byte changed, inserted or removed, or the line cut short. */
function mutate(random: Random, line: string): string {
  const at = random(line.length + 1);
  const char = pick(random, [...' \t",:{}[]\\x0e-+#.', "é", "\u0001"]);
  switch (random(4)) {
    case 0:
      return line.slice(0, at) + char + line.slice(at + 1);
    case 1:
      return line.slice(0, at) + char + line.slice(at);
    case 2:
      return line.slice(0, at) + line.slice(at + 1);
    default:
      return line.slice(0, at);
  }
}

/**
 * Runs `line` through the fast path (the line found in a chunk, and the
 * line given whole, with and without a frame object) and checks it against
 * the full decoder. `message` is the message as written, when known.
 * Returns whether the scanner took it, and whether message bytes were forwarded.
 */
function check(line: string, message: string | null): { scanned: boolean; forwarded: boolean } {
  // A cut may leave half a surrogate pair: compare the text the bytes on the wire hold.
  line = text.decode(encoder.encode(line));
  const expected = reference(line);
  const bytes = encoder.encode(line);
  const ascii = bytes.length === line.length;
  const out = new ClientLine(LIMITS);
  // As the session reads it: from a chunk with lines before and after it.
  const chunk = encoder.encode(`{"a":1}\n${line}\n{"b":"\\n"}\n`);
  const start = 8;
  const newline = out.scanLine(chunk, start, chunk.length, 1 << 20, true);
  const scanned = newline >= 0;
  if (scanned) {
    assert.equal(newline, start + bytes.length, line);
    assert.equal(expected.code, undefined, `scanned a line the decoder refuses: ${line}`);
    assert.deepEqual(out.frame, expected.frame, line);
    assert.ok(ascii, `scanned a line that is not ASCII: ${line}`);
    forwardedBytes(out.json, expected.frame!, message, line);
  }
  out.release();
  let forwarded = false;
  for (const wantFrame of [true, false]) {
    let thrown: unknown = null;
    try {
      out.decode(bytes, 0, bytes.length, wantFrame);
    } catch (error) {
      thrown = error;
    }
    if (expected.code !== undefined) {
      assert.ok(thrown instanceof FrameError, `accepted a line the decoder refuses: ${line}`);
      assert.equal(thrown.code, expected.code, line);
      assert.ok(Object.is(thrown.id, expected.id), line);
      continue;
    }
    assert.equal(thrown, null, `refused a line the decoder accepts: ${line}`);
    const frame = expected.frame!;
    if (out.frame === null) {
      // Scanned without a frame object: the topic, the id and the bytes are the publish.
      assert.equal(wantFrame, false, line);
      assert.equal(out.topic, frame.topic, line);
      assert.ok(Object.is(out.id, frame.id), line);
    } else {
      assert.deepEqual(out.frame, frame, line);
    }
    if (frame.action === "publish") {
      if (!ascii) assert.equal(out.json, null, `forwarded bytes of a non-ASCII line: ${line}`);
      if (out.json !== null) forwarded = true;
      forwardedBytes(out.json, frame, message, line);
    } else {
      assert.equal(out.json, null, line);
    }
    out.release();
  }
  return { scanned, forwarded };
}

/** The bytes forwarded as the message are the message as written, and mean what the decoder read. */
function forwardedBytes(
  json: Uint8Array | null,
  frame: Record<string, unknown>,
  message: string | null,
  line: string,
): void {
  if (json === null) return;
  const written = text.decode(json);
  // Raw tabs and CRs never travel in a delivery: such a message is re-encoded.
  assert.ok(!/[\t\r]/.test(written), `forwarded raw control spacing: ${JSON.stringify(line)}`);
  assert.deepEqual(JSON.parse(written), frame.message, line);
  if (message !== null) assert.equal(written, message.trim(), line);
  assert.ok(line.includes(written), line);
}

test("the fast path reads generated publish lines exactly as the full decoder does, or declines", () => {
  const random = rng(13);
  const counts = { lines: 0, scanned: 0, forwarded: 0, refused: 0 };
  for (let i = 0; i < 6000; i++) {
    const { line, message } = publish(random);
    for (
      const [variant, written] of [
        [line, message],
        [mutate(random, line), null],
        [mutate(random, mutate(random, line)), null],
      ] as const
    ) {
      counts.lines++;
      if (reference(variant).code !== undefined) counts.refused++;
      const { scanned, forwarded } = check(variant, written);
      if (scanned) counts.scanned++;
      if (forwarded && !scanned) counts.forwarded++;
    }
  }
  // The generator reaches every path: scanned, found by the message finder, refused.
  const { lines, scanned, forwarded, refused } = counts;
  assert.ok(scanned > lines / 20 && scanned < lines / 2, `scanned ${scanned} of ${lines}`);
  assert.ok(forwarded > lines / 20, `message found in ${forwarded} of ${lines}`);
  assert.ok(refused > lines / 10, `refused ${refused} of ${lines}`);
});

test("the fast path agrees with the full decoder on hand-picked lines", () => {
  for (
    const [line, message] of [
      [
        '{"action": "publish", "topic": "news/technology", "message": "AI breakthrough"}',
        '"AI breakthrough"',
      ],
      [
        '{"action":"publish","topic":"a","message":{ "b" : [1, 2.50] },"id":-0}',
        '{ "b" : [1, 2.50] }',
      ],
      ['{"action":"publish","topic":"a","message":1e3,"retain":true}', "1e3"],
      ['{"message": "x", "topic": "a", "action": "publish", "headers": {"k": "v"}}', '"x"'],
      ['{"action":"publish","topic":"a","reply":"inbox/1","message":"\\u00e9"}', '"\\u00e9"'],
      ['{"action":"publish","topic":"caf\\u00e9","message":"x"}', '"x"'],
      ['{"action":"publish","topic":"a","message":"café"}', '"café"'],
      ['{"action":"publish","topic":"a","message":[1,\t2]}', null], // raw tab: re-encoded
      ['{"action":"publish","topic":"a","message":{"b":\r1}}', null], // raw CR: re-encoded
      ['{"action":"publish","topic":"a","message":\t[1] \r}', "[1]"], // spacing around it is not in it
      ['{"message":{"b":\r1},"topic":"a","action":"publish"}', null],
      ['{"action":"publish","topic":"a","message":[[[[1]]]]}', null], // too deep: refused
      ['{"action":"publish","topic":"a","message":1e400}', null], // out of range: refused
      ['{"action":"publish","topic":"a"}', null],
    ] as const
  ) {
    check(line, message);
  }
});

/** What `findMessage()` decided for a line: the message's bytes as written, or `null`. */
function found(line: string, maxDepth = 4): string | null {
  const bytes = encoder.encode(`xx${line}yy`);
  const span = { messageStart: 0, messageEnd: 0 };
  const took = findMessage(new JsonScanner(), bytes, 2, bytes.length - 2, maxDepth, span);
  return took ? text.decode(bytes.subarray(span.messageStart, span.messageEnd)) : null;
}

const FIND_CASES: [name: string, line: string, message: string | null][] = [
  ["kn-sock's shape", '{"action": "publish", "topic": "t", "message": "hi"}', '"hi"'],
  ["the message first", '{ "message" : [1, {"a": "}"}] , "topic":"t"}', '[1, {"a": "}"}]'],
  ["a number with an exponent", '{"topic":"t","message":-12.5e3}', "-12.5e3"],
  ["a literal before another member", '{"message":null,"x":1}', "null"],
  ["a string with escapes", '{"message":"say \\"hi\\" \\\\","x":"\\""}', '"say \\"hi\\" \\\\"'],
  ["a backslash before the closing quote", '{"message":"a\\\\","retain":true}', '"a\\\\"'],
  ["the last of duplicate keys", '{"message":1,"message":[2]}', "[2]"],
  ["spacing kept", '{"message": { "a" : 12.50 } }', '{ "a" : 12.50 }'],
  ["a raw tab inside the message", '{"message": [1,\t2]}', null],
  ["a raw CR inside the message", '{"message":{"a":\r1}}', null],
  ["raw tabs and CRs around the message", '{"message":\t\r[1]\r,"x":\t2}', "[1]"],
  ["headers after the message", '{"message":"x","headers":{"message":"y"}}', '"x"'],
  ["an escaped key that spells message", '{"mess\\u0061ge":"hi","message":"x"}', null],
  ["an escaped key after the message", '{"message":"x","\\u0078":1}', null],
  ["no message", '{"action":"publish","topic":"t"}', null],
  ["raw non-ASCII", '{"message":"café"}', null],
  ["a member nested past the bound", '{"message":1,"x":[[[[[1]]]]]}', null],
  ["a message at the bound", '{"message":[[[[1]]]]}', "[[[[1]]]]"],
  ["not an object", '["message", 1]', null],
  ["garbage after the object", '{"message":1} x', null],
  ["a truncated line", '{"message":"x"', null],
  ["a bad escape", '{"message":"\\x"}', null],
];

for (const [name, line, message] of FIND_CASES) {
  test(`findMessage() with ${name}: ${message ?? "declines"}`, () => {
    assert.equal(found(line), message);
  });
}

test("findMessage() declines rather than recursing without bound", () => {
  const deep = `{"message":1,"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
  assert.equal(found(deep, 64), null);
});
