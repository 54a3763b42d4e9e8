import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, FrameError, LineDecoder } from "../mod.ts";

const encoder = new TextEncoder();
const text = new TextDecoder();

/** Feeds chunks and returns the lines (as strings) and whether it threw line_too_long. */
function feed(chunks: Uint8Array[], max = 1024): { lines: string[]; tooLong: boolean } {
  const decoder = new LineDecoder(max);
  const lines: string[] = [];
  try {
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (let line = decoder.next(); line !== null; line = decoder.next()) {
        lines.push(text.decode(line));
      }
    }
  } catch (error) {
    assert.ok(error instanceof FrameError);
    assert.equal(error.code, ErrorCode.LineTooLong);
    return { lines, tooLong: true };
  }
  return { lines, tooLong: false };
}

function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Every way of cutting `input` in two. */
function splits(input: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let at = 0; at <= input.byteLength; at++) {
    out.push([input.subarray(0, at), input.subarray(at)]);
  }
  return out;
}

function oneByteAtATime(input: Uint8Array): Uint8Array[] {
  return Array.from(input, (byte) => new Uint8Array([byte]));
}

const FIXTURES: { name: string; input: string; lines: string[] }[] = [
  { name: "one line", input: '{"a":1}\n', lines: ['{"a":1}'] },
  { name: "two lines", input: "a\nb\n", lines: ["a", "b"] },
  { name: "CRLF endings", input: "a\r\nb\r\n", lines: ["a", "b"] },
  { name: "empty lines", input: "\n\na\n\n", lines: ["", "", "a", ""] },
  { name: "an unterminated tail", input: "a\nb", lines: ["a"] },
  { name: "multi-byte UTF-8", input: "café ☕ 𝄞\n", lines: ["café ☕ 𝄞"] },
  { name: "a lone CR inside a line", input: "a\rb\n", lines: ["a\rb"] },
];

for (const fixture of FIXTURES) {
  const input = bytes(fixture.input);
  test(`LineDecoder splits ${fixture.name} fed whole`, () => {
    assert.deepEqual(feed([input]).lines, fixture.lines);
  });
  test(`LineDecoder splits ${fixture.name} fed one byte at a time`, () => {
    assert.deepEqual(feed(oneByteAtATime(input)).lines, fixture.lines);
  });
  test(`LineDecoder splits ${fixture.name} cut at every offset`, () => {
    for (const chunks of splits(input)) assert.deepEqual(feed(chunks).lines, fixture.lines);
  });
}

test("LineDecoder keeps a UTF-8 character split across chunks intact", () => {
  const input = bytes("€\n"); // e2 82 ac 0a
  const { lines } = feed([input.subarray(0, 1), input.subarray(1, 2), input.subarray(2)]);
  assert.deepEqual(lines, ["€"]);
});

test("LineDecoder accepts a line of exactly the limit", () => {
  const line = "x".repeat(16);
  assert.deepEqual(feed([bytes(line + "\n")], 16), { lines: [line], tooLong: false });
});

test("LineDecoder accepts a line of exactly the limit with a CRLF ending, split anywhere", () => {
  const input = bytes("x".repeat(16) + "\r\n");
  for (const chunks of splits(input)) {
    assert.deepEqual(feed(chunks, 16), { lines: ["x".repeat(16)], tooLong: false });
  }
  assert.equal(feed([bytes("x".repeat(17) + "\n")], 16).tooLong, true);
  assert.equal(feed([bytes("x".repeat(17) + "\r\n")], 16).tooLong, true);
});

test("LineDecoder rejects a terminated line one byte over the limit", () => {
  assert.equal(feed([bytes("x".repeat(17) + "\n")], 16).tooLong, true);
});

test("LineDecoder rejects an unterminated line past the limit before buffering it", () => {
  const decoder = new LineDecoder(16);
  decoder.push(bytes("x".repeat(10)));
  assert.equal(decoder.next(), null);
  assert.equal(decoder.bufferedBytes, 10);
  decoder.push(bytes("x".repeat(8))); // 18: past the limit and its one byte of slack for a \r
  assert.throws(() => decoder.next(), (error: unknown) => {
    return error instanceof FrameError && error.code === "line_too_long";
  });
  assert.equal(decoder.bufferedBytes, 0);
});

test("LineDecoder rejects an over-limit line fed one byte at a time, holding at most the limit and a \\r", () => {
  const decoder = new LineDecoder(64);
  let held = 0;
  assert.throws(() => {
    for (let i = 0; i < 1000; i++) {
      decoder.push(bytes("y"));
      decoder.next();
      held = Math.max(held, decoder.bufferedBytes);
    }
  }, FrameError);
  assert.equal(held, 65); // the limit plus one byte that could be a \r
});

test("LineDecoder returns the lines before an over-limit line in the same chunk", () => {
  const result = feed([bytes("ok\n" + "z".repeat(40))], 16);
  assert.deepEqual(result, { lines: ["ok"], tooLong: true });
});

test("LineDecoder hands back an unfinished line on flush()", () => {
  const decoder = new LineDecoder(100);
  decoder.push(bytes("a\npartial"));
  assert.equal(text.decode(decoder.next()!), "a");
  assert.equal(decoder.next(), null);
  assert.equal(text.decode(decoder.flush()!), "partial");
  assert.equal(decoder.flush(), null);
});

test("LineDecoder refuses a push before the previous chunk is consumed", () => {
  const decoder = new LineDecoder(100);
  decoder.push(bytes("a\nb\n"));
  decoder.next();
  assert.throws(() => decoder.push(bytes("c\n")), Error);
});

test("LineDecoder refuses a limit that is not a positive integer", () => {
  assert.throws(() => new LineDecoder(0), RangeError);
  assert.throws(() => new LineDecoder(1.5), RangeError);
});

test("LineDecoder scans a megabyte of tiny lines in one chunk", () => {
  const input = bytes("ab\n".repeat(350_000));
  assert.equal(feed([input], 8).lines.length, 350_000);
});

test("LineDecoder reports where each line starts in the chunk, or -1 when joined", () => {
  const decoder = new LineDecoder(100);
  const offsets: number[] = [];
  for (const chunk of [bytes("ab\ncd\nef"), bytes("g\nhi\n")]) {
    decoder.push(chunk);
    while (decoder.advance()) {
      // A line in the chunk is read in place; a joined one from the decoder's own buffer.
      offsets.push(decoder.lineBytes === chunk ? decoder.lineStart : -1);
    }
  }
  assert.deepEqual(offsets, [0, 3, -1, 2]);
});

test("advance(newline) takes the line a caller found in the unread bytes, as advance() would", () => {
  const decoder = new LineDecoder(16);
  const chunk = encoder.encode("ab\r\ncd\nef");
  decoder.push(chunk);
  assert.equal(decoder.unread, chunk);
  assert.equal(decoder.unreadStart, 0);
  assert.ok(decoder.advance(3));
  assert.equal(decoder.lineBytes, chunk);
  const inChunk = decoder.lineBytes === chunk ? decoder.lineStart : -1;
  assert.deepEqual([decoder.lineStart, decoder.lineEnd, inChunk], [0, 2, 0]);
  assert.equal(decoder.unreadStart, 4);
  assert.ok(decoder.advance());
  assert.deepEqual([decoder.lineStart, decoder.lineEnd], [4, 6]);
  // "ef" has no newline yet: it is held, so the next chunk's bytes do not start a line.
  assert.equal(decoder.advance(), false);
  const next = encoder.encode("g\nh\n");
  decoder.push(next);
  assert.equal(decoder.unread, null);
  assert.ok(decoder.advance());
  assert.equal(
    text.decode(
      decoder.lineBytes.subarray(decoder.lineStart, decoder.lineEnd),
    ),
    "efg",
  );
  assert.equal(decoder.unread, next);
  assert.equal(decoder.unreadStart, 2);
  assert.ok(decoder.advance(3));
  assert.equal(decoder.unread, null);
  assert.equal(decoder.advance(), false);
});

test("LineDecoder lets go of a chunk once its lines are read", () => {
  const decoder = new LineDecoder(16);
  const chunk = encoder.encode("ab\ncd\n");
  decoder.push(chunk);
  assert.ok(decoder.advance());
  assert.equal(decoder.lineBytes, chunk);
  assert.ok(decoder.advance());
  assert.equal(decoder.lineBytes, chunk);
  // No line left: the chunk is not held (an idle connection keeps no chunk alive).
  assert.equal(decoder.advance(), false);
  assert.equal(decoder.lineBytes.byteLength, 0);
  // The same when the chunk ends in part of a line, which is copied.
  const partial = encoder.encode("ef\ngh");
  decoder.push(partial);
  assert.ok(decoder.advance());
  assert.equal(decoder.lineBytes, partial);
  assert.equal(decoder.advance(), false);
  assert.equal(decoder.lineBytes.byteLength, 0);
});
