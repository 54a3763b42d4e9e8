/**
 * What a hostile input of `fuzz.test.ts` is, and the pieces the input lists
 * (`_fuzz_framing.ts`, `_fuzz_values.ts`) build them from. An input's bytes
 * are built only when it is tried: some are 200 KiB.
 */

/** What an input is, for the count per category. */
export const Category = {
  RandomBytes: "random bytes",
  Truncated: "truncated valid frames",
  Mutated: "mutated valid frames",
  DeepNesting: "deeply nested JSON",
  HugeNumbers: "huge numbers",
  NulBytes: "NUL bytes",
  LoneSurrogates: "lone surrogates",
  InvalidUtf8: "overlong and invalid UTF-8",
  WrongTypes: "wrong field types",
  TinyFrames: "10,000 tiny frames in one write",
  LineLimit: "lines around maxLineBytes",
  CrAndEmpty: "CR-only and empty lines",
  HalfClosed: "half-closed after garbage",
  AbruptClose: "abrupt close mid-line",
} as const;

/** One of the values of {@linkcode Category}. */
export type Category = typeof Category[keyof typeof Category];

/**
 * How the connection is used: `stream` writes on the attacker's long-lived
 * connection, then checks that a ping is still answered; `half-close`
 * writes on a fresh connection and ends its stream (the server must answer
 * and close cleanly); `abort` writes on a fresh connection and closes it at
 * once, with its last write still in flight.
 */
export type Ending = "stream" | "half-close" | "abort";

/** One hostile input. */
export interface FuzzInput {
  category: Category;
  /** Names the input in a failure. */
  label: string;
  /** Builds the bytes, write by write. */
  writes(): Uint8Array[];
  ending: Ending;
  /** Frames in it, for a flood of tiny frames. */
  frames?: number;
  /** The error codes the server must answer, in order; unchecked when absent. */
  codes?: readonly string[];
  /** For `stream`: whether the server must keep (`true`) or close (`false`) the connection. */
  keeps?: boolean;
  /** Checks every line the server sent for the input; returns what is wrong, if anything. */
  check?: (lines: readonly string[]) => string | undefined;
}

/** The topic of the well-behaved clients; no input can publish to it. */
export const GOOD_TOPIC = "good/stream";

/** A seeded PRNG (mulberry32): `random(n)` is an integer in `[0, n)`. */
export function rng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

/** Text (written as UTF-8) or raw bytes. */
export type Part = string | readonly number[] | Uint8Array;
/** What {@linkcode rng} returns. */
export type Random = (n: number) => number;
/** The optional parts of an input. */
export type Options = Partial<Pick<FuzzInput, "ending" | "frames" | "codes" | "keeps" | "check">>;

/** One shared encoder. */
export const encoder: TextEncoder = new TextEncoder();

/** Concatenates text (as UTF-8) and raw bytes. */
export function bytes(...parts: Part[]): Uint8Array {
  const encoded = parts.map((p) =>
    typeof p === "string" ? encoder.encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)
  );
  const out = new Uint8Array(encoded.reduce((sum, p) => sum + p.byteLength, 0));
  let at = 0;
  for (const p of encoded) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** An input of one write; `stream` unless `options` say otherwise. */
export function one(
  category: Category,
  label: string,
  make: () => Part,
  options: Options = {},
): FuzzInput {
  return many(category, label, () => [make()], options);
}

/** An input of several writes. */
export function many(
  category: Category,
  label: string,
  make: () => Part[],
  options: Options = {},
): FuzzInput {
  return {
    category,
    label,
    writes: () => make().map((part) => bytes(part)),
    ending: "stream",
    ...options,
  };
}

/** A publish line of exactly `length` bytes (without its `\n`). */
export function publishOfLength(length: number): string {
  const head = '{"action":"publish","topic":"fuzz/limit","message":"';
  return head + "x".repeat(length - head.length - 2) + '"}';
}

/** `data` cut into writes of `size` bytes. */
export function chunks(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.byteLength; at += size) out.push(data.subarray(at, at + size));
  return out;
}

/** `code`, `count` times: the answer to a flood. */
export function times(code: string, count: number): string[] {
  return Array.from({ length: count }, () => code);
}

/** Valid frames of every type, with every optional field somewhere. */
export const FRAMES: readonly string[] = [
  '{"action":"hello","version":1,"name":"fuzz","echo":false,"id":"h"}',
  '{"action":"hello","user":"u","pass":"p","token":"t","id":2}',
  '{"action":"ping","id":"p"}',
  '{"action":"ping"}',
  '{"action":"pong","id":3}',
  '{"action":"subscribe","topic":"fuzz/a"}',
  '{"action":"subscribe","topic":"fuzz/+","group":"g","policy":"drop-oldest","id":4}',
  '{"action":"subscribe","topic":"fuzz/#","policy":"drop-newest","id":"s"}',
  '{"action":"unsubscribe","topic":"fuzz/+","group":"g","id":5}',
  '{"action":"publish","topic":"fuzz/a","message":"hello"}',
  '{"action":"publish","topic":"fuzz/b","message":{"k":[1,2.5,{"x":null}]},"headers":{"h":"v"},"reply":"fuzz/inbox","retain":true,"id":6}',
  '{"action":"publish","topic":"fuzz/caf\\u00e9","message":"\\u2615","id":"u"}',
  '{"action":"publish","topic":"fuzz/ü","message":"☕ raw","headers":{"ключ":"значение"}}',
  '{ "action" : "publish" , "topic" : "fuzz/s" , "message" : [ 1 , true , null ] }',
];

/**
 * A complete publish to the good topic. Only ever sent cut short: every
 * strict prefix of a compact JSON object is invalid, and an unterminated
 * line is dropped, so the good subscribers must never see it.
 */
export const FORGED: string = `{"action":"publish","topic":"${GOOD_TOPIC}","message":"forged"}`;

/** A publish line. */
export function pub(topic: string, message: string, extra = ""): string {
  return `{"action":"publish","topic":"${topic}","message":${message}${extra}}\n`;
}

/** A subscribe line. */
export function sub(topic: string, extra = ""): string {
  return `{"action":"subscribe","topic":"${topic}"${extra}}\n`;
}

/** Random bytes: uniform, or drawn from JSON's alphabet (and `\r`, `\n`). */
export function randomBytes(random: Random, length: number): Uint8Array {
  const alphabet = encoder.encode('{}[]":,\\ \tu0123456789abcdefnulltruefalse\r\n');
  const json = random(2) === 0;
  return Uint8Array.from(
    { length },
    () => json ? alphabet[random(alphabet.length)] : random(256),
  );
}

/** Shuffles `items` in place, as `random` says. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
