/**
 * Hostile framing and connection use, for `fuzz.test.ts`: random bytes,
 * truncated and mutated frames, floods of tiny frames, lines around the
 * limit, CR-only and empty lines, half-closed and aborted connections.
 * Seeded: the same seed gives the same inputs.
 */

import {
  bytes,
  Category,
  chunks,
  encoder,
  FORGED,
  FRAMES,
  type FuzzInput,
  many,
  one,
  pub,
  publishOfLength,
  type Random,
  randomBytes,
  sub,
  times,
} from "./_fuzz_inputs.ts";

/** Random lines, and mutated frames, per run. */
const RANDOM_INPUTS = 1000;
const MUTATED_INPUTS = 2000;

const INTERESTING = [0x00, 0x0a, 0x0d, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0xff, 0xed];

function mutate(random: Random, frame: string): [number[], string] {
  let data = Array.from(encoder.encode(frame));
  const ops: string[] = [];
  for (let n = 1 + random(4); n > 0; n--) {
    const at = random(data.length);
    const span = 1 + random(8);
    switch (random(5)) {
      case 0:
        data[at] ^= 1 << random(8);
        ops.push(`flip@${at}`);
        break;
      case 1:
        data[at] = random(256);
        ops.push(`set@${at}`);
        break;
      case 2:
        data.splice(at, span);
        ops.push(`delete@${at}+${span}`);
        break;
      case 3:
        data.splice(at, 0, ...data.slice(at, at + span));
        ops.push(`duplicate@${at}+${span}`);
        break;
      default:
        data.splice(at, 0, INTERESTING[random(INTERESTING.length)]);
        ops.push(`insert@${at}`);
    }
    if (data.length === 0) data = [0x7b];
  }
  return [data, ops.join(" ")];
}

function seeded(random: Random): FuzzInput[] {
  const inputs: FuzzInput[] = [];
  for (let i = 0; i < RANDOM_INPUTS; i++) {
    const data = randomBytes(random, 1 + random(600));
    inputs.push(one(Category.RandomBytes, `random bytes #${i}`, () => [...data, 0x0a]));
  }
  for (const frame of [...FRAMES, FORGED]) {
    const data = encoder.encode(frame);
    for (let at = 0; at < data.byteLength; at++) {
      inputs.push(
        one(Category.Truncated, `${frame} cut at byte ${at}`, () => [...data.subarray(0, at), 10]),
      );
    }
  }
  for (let i = 0; i < MUTATED_INPUTS; i++) {
    const [data, ops] = mutate(random, FRAMES[random(FRAMES.length)]);
    inputs.push(one(Category.Mutated, `mutated #${i}: ${ops}`, () => [...data, 0x0a]));
  }
  return inputs;
}

const LONE = [0xed, 0xa0, 0x80, 0x0a];

function tinyFrames(): FuzzInput[] {
  const c = Category.TinyFrames;
  const n = 10_000;
  const flood = (label: string, make: (i: number) => string, codes?: string[]) =>
    one(c, label, () => Array.from({ length: n }, (_, i) => make(i)).join(""), {
      frames: n,
      codes,
    });
  return [
    flood("{} x10000", () => "{}\n", times("unknown_action", n)),
    flood("empty lines x10000", () => "\n", []),
    flood("x x10000", () => "x\n", times("invalid_json", n)),
    flood("1 x10000", () => "1\n", times("invalid_frame", n)),
    flood("pings x10000", (i) => `{"action":"ping","id":${i}}\n`, []),
    flood("publishes x10000", (i) => pub("fuzz/t", String(i)), []),
    flood("publishes with ids x10000", (i) => pub("fuzz/t", "1", `,"id":${i}`), []),
    flood("hellos x10000", () => '{"action":"hello"}\n', []),
    flood(
      "subscribe, unsubscribe x5000",
      (i) =>
        i % 2 === 0 ? sub(`fuzz/s/${i}`) : `{"action":"unsubscribe","topic":"fuzz/s/${i - 1}"}\n`,
      [],
    ),
    flood("requests nobody answers x10000", (i) => pub(`fuzz/none/${i}`, "1", ',"reply":"fuzz/r"')),
    flood(
      "{} and ping x5000",
      (i) => i % 2 === 0 ? "{}\n" : '{"action":"ping"}\n',
      times("unknown_action", n / 2),
    ),
    one(c, "ED A0 80 x10000", () => Array.from({ length: 4 * n }, (_, i) => LONE[i % 4]), {
      frames: n,
      codes: times("invalid_utf8", n),
    }),
  ];
}

function lineLimit(limit: number): FuzzInput[] {
  const c = Category.LineLimit;
  const kept = { codes: [], keeps: true };
  const cut = { codes: ["line_too_long"], keeps: false };
  return [
    one(c, "a publish of maxLineBytes - 1", () => publishOfLength(limit - 1) + "\n", kept),
    one(c, "a publish of maxLineBytes", () => publishOfLength(limit) + "\n", kept),
    one(c, "a publish of maxLineBytes, CRLF", () => publishOfLength(limit) + "\r\n", kept),
    many(
      c,
      "a publish of maxLineBytes, CR and LF in two writes",
      () => [publishOfLength(limit) + "\r", "\n"],
      kept,
    ),
    one(c, "a publish of maxLineBytes + 1", () => publishOfLength(limit + 1) + "\n", cut),
    many(
      c,
      "a publish of maxLineBytes + 1 in 4 KiB writes",
      () => chunks(bytes(publishOfLength(limit + 1), "\n"), 4096),
      cut,
    ),
    one(c, "garbage of maxLineBytes", () => "x".repeat(limit) + "\n", {
      codes: ["invalid_json"],
      keeps: true,
    }),
    one(c, "garbage of maxLineBytes + 1", () => "x".repeat(limit + 1) + "\n", cut),
    one(c, "garbage of maxLineBytes + 2, no newline", () => "x".repeat(limit + 2), cut),
    one(c, "garbage of 2 x maxLineBytes, no newline", () => "x".repeat(2 * limit), cut),
    one(c, "spaces of maxLineBytes", () => " ".repeat(limit) + "\n", kept),
    one(c, "spaces of maxLineBytes + 1", () => " ".repeat(limit + 1) + "\n", cut),
    one(
      c,
      "CRs of maxLineBytes + 1 (the last one ends the line)",
      () => "\r".repeat(limit + 1) + "\n",
      kept,
    ),
    one(c, "CRs of maxLineBytes + 2", () => "\r".repeat(limit + 2) + "\n", cut),
  ];
}

function crAndEmpty(): FuzzInput[] {
  const c = Category.CrAndEmpty;
  const none = { codes: [] };
  return [
    one(c, "CRLF x1000", () => "\r\n".repeat(1000), none),
    one(c, "10000 CRs, then LF", () => "\r".repeat(10_000) + "\n", none),
    one(c, "10000 CRs, no LF", () => "\r".repeat(10_000), none),
    one(c, "LF x1000", () => "\n".repeat(1000), none),
    one(c, "blank lines x1000", () => " \t\r\n".repeat(1000), none),
    one(c, "frames separated by CR only", () => '{"action":"ping","id":"cr"}\r'.repeat(3) + "\n", {
      codes: ["invalid_json"],
    }),
    one(c, "frames separated by CR only, no LF", () => '{"action":"ping"}\r{"action":"ping"}\r', {
      codes: ["invalid_json"],
    }),
    one(c, "a frame, CR CR LF", () => '{"action":"ping"}\r\r\n', none),
    one(c, "CR, a frame", () => '\r{"action":"ping"}\n', none),
    one(c, "a raw CR in a message", () => pub("fuzz/cr", '"a\rb"'), { codes: ["invalid_json"] }),
    one(c, "empty lines around a frame", () => '\n\n\n{"action":"ping"}\n\n\n', none),
    many(c, "CRLF split across writes", () => ['{"action":"ping"}\r', "\n"], none),
  ];
}

/** Connections that end their stream after the input: the server answers, then closes. */
function halfClosed(random: Random, limit: number): FuzzInput[] {
  const c = Category.HalfClosed;
  const ending = { ending: "half-close" } as const;
  const inputs: FuzzInput[] = [
    one(c, "nothing", () => "", { ...ending, codes: [] }),
    one(c, "an unterminated publish to the good topic", () => FORGED, { ...ending, codes: [] }),
    one(c, "x x100, then x unterminated", () => "x\n".repeat(100) + "x", {
      ...ending,
      codes: times("invalid_json", 100),
    }),
    one(c, "{} x10000", () => "{}\n".repeat(10_000), {
      ...ending,
      frames: 10_000,
      codes: times("unknown_action", 10_000),
    }),
    one(c, "ED A0 80, unterminated", () => [0xed, 0xa0, 0x80], { ...ending, codes: [] }),
    one(c, "garbage past maxLineBytes", () => "x".repeat(limit + 2), {
      ...ending,
      codes: ["line_too_long"],
    }),
  ];
  for (let i = 0; i < 20; i++) {
    const data = randomBytes(random, 1 + random(600));
    inputs.push(one(c, `random bytes #${i}`, () => data, ending));
  }
  for (const frame of FRAMES) {
    const data = encoder.encode(frame).subarray(0, random(frame.length));
    inputs.push(one(c, `${frame}, cut and unterminated`, () => data, ending));
  }
  return inputs;
}

/** Connections closed at once, a write still in flight. */
function abruptClose(random: Random): FuzzInput[] {
  const c = Category.AbruptClose;
  const ending = { ending: "abort" } as const;
  const half = Math.floor(FORGED.length / 2);
  const inputs: FuzzInput[] = [
    many(c, "nothing", () => [], ending),
    many(c, "an unterminated publish to the good topic, written", () => [FORGED, " "], ending),
    many(
      c,
      "a publish to the good topic, cut in two",
      () => [FORGED.slice(0, half), FORGED.slice(half)],
      ending,
    ),
    one(
      c,
      "200 KiB of an unterminated publish",
      () => '{"action":"publish","topic":"fuzz/a","message":"' + "x".repeat(200 * 1024),
      ending,
    ),
    one(c, "{} x10000", () => "{}\n".repeat(10_000), { ...ending, frames: 10_000 }),
    many(
      c,
      "in the middle of a UTF-8 character",
      () => ['{"action":"publish","topic":"fuzz/a","message":"', [0xe2, 0x98]],
      ending,
    ),
  ];
  for (let i = 0; i < 20; i++) {
    const data = randomBytes(random, 1 + random(600));
    inputs.push(one(c, `random bytes #${i}`, () => data, ending));
  }
  for (const frame of FRAMES) {
    const data = encoder.encode(frame).subarray(0, random(frame.length));
    inputs.push(one(c, `${frame}, cut`, () => data, ending));
  }
  return inputs;
}

/**
 * Every framing input of one run.
 *
 * @param random The seeded PRNG.
 * @param maxLineBytes The server's line limit.
 */
export function framingInputs(random: Random, maxLineBytes: number): FuzzInput[] {
  return [
    ...seeded(random),
    ...tinyFrames(),
    ...lineLimit(maxLineBytes),
    ...crAndEmpty(),
    ...halfClosed(random, maxLineBytes),
    ...abruptClose(random),
  ];
}
