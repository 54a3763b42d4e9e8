/**
 * Hostile values inside frames, for `fuzz.test.ts`: deep nesting, huge
 * numbers, NUL bytes, lone surrogates, overlong and invalid UTF-8, wrong
 * field types. Fixed lists: the same inputs every run.
 */

import { bytes, Category, type FuzzInput, many, one, pub, sub } from "./_fuzz_inputs.ts";

/** The deliveries among `lines`. */
function deliveries(lines: readonly string[]): string[] {
  return lines.filter((l) => l.startsWith('{"topic":'));
}

/** A publish refused as `invalid_frame` ("the line is skipped") must not have been delivered. */
function refusedMeansUndelivered(lines: readonly string[]): string | undefined {
  const delivered = deliveries(lines).length;
  const refusal = lines.find((l) => l.includes('"code":"invalid_frame"'));
  if (delivered === 0 || refusal === undefined) return undefined;
  return `delivered ${delivered} time(s), yet answered ${refusal.slice(0, 160)}`;
}

/** Every delivery among `lines` (at least two) must carry the same message. */
function sameMessage(lines: readonly string[]): string | undefined {
  const delivered = deliveries(lines);
  if (delivered.length < 2) return `${delivered.length} deliveries, want at least 2`;
  const messages = delivered.map((l) => JSON.parse(l).message);
  const at = messages.findIndex((m) => m !== messages[0]);
  if (at === -1) return undefined;
  const cut = (l: string) => l.length > 120 ? l.slice(0, 120) + "…" : l;
  return `delivered as ${cut(delivered[0])}, then as ${cut(delivered[at])}`;
}

/** No delivery among `lines`: every publish was refused. */
function noDeliveries(lines: readonly string[]): string | undefined {
  const delivered = deliveries(lines);
  return delivered.length === 0 ? undefined : `${delivered.length} deliveries, want none`;
}

function deepNesting(): FuzzInput[] {
  const c = Category.DeepNesting;
  const arrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  const objects = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  const inputs: FuzzInput[] = [];
  const alone = { ending: "half-close", check: refusedMeansUndelivered } as const;
  for (
    const [name, value] of [
      ["[]", arrays],
      ["{}", objects],
    ] as const
  ) {
    for (const depth of [1_000, 10_000, name === "[]" ? 100_000 : 30_000]) {
      const what = `${name}-nested x${depth}`;
      const topic = `fuzz/d/${name === "[]" ? "a" : "o"}${depth}`;
      inputs.push(
        one(c, `${what} line`, () => value(depth) + "\n"),
        one(c, `${what} message`, () => pub("fuzz/d", value(depth))),
        one(c, `${what} headers`, () => pub("fuzz/d", "1", `,"headers":${value(depth)}`)),
        one(c, `${what} topic`, () => `{"action":"subscribe","topic":${value(depth)}}\n`),
        one(c, `${what} id`, () => `{"action":"ping","id":${value(depth)}}\n`, {
          codes: ["invalid_frame"],
        }),
        // A connection of its own, subscribed: the server re-encodes the message (a non-ASCII
        // topic, after hello) or keeps it (retain), and must deliver it or refuse it, not both.
        one(
          c,
          `${what} message, re-encoded for a subscriber`,
          () =>
            '{"action":"hello"}\n' + sub(`${topic}/é`) +
            pub(`${topic}/é`, value(depth), ',"id":"deep"'),
          alone,
        ),
        one(
          c,
          `${what} message, retained with a subscriber`,
          () => sub(`${topic}/r`) + pub(`${topic}/r`, value(depth), ',"retain":true,"id":"deep"'),
          alone,
        ),
      );
    }
  }
  for (const depth of [1_000, 10_000, 100_000]) {
    inputs.push(
      one(c, `[ x${depth}, unclosed`, () => "[".repeat(depth) + "\n", { codes: ["invalid_json"] }),
      one(c, `[ x${depth} in a message, unclosed`, () => pub("fuzz/d", "[".repeat(depth)), {
        codes: ["invalid_json"],
      }),
    );
  }
  return inputs;
}

function hugeNumbers(): FuzzInput[] {
  const c = Category.HugeNumbers;
  const numbers = [
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "-0.0e-0",
    "1E308",
    "2e308",
    "9007199254740993",
    "9".repeat(400),
    "-" + "9".repeat(400),
    "1" + "0".repeat(400) + ".5",
    "0." + "0".repeat(400) + "1",
    "1e99999999999999999999",
    "7".repeat(100_000),
  ];
  const inputs: FuzzInput[] = [];
  for (const [i, n] of numbers.entries()) {
    const short = n.length > 24 ? `${n.slice(0, 8)}…(${n.length} chars)` : n;
    // A number a double cannot hold would be forwarded as written but
    // re-encoded as null: the server refuses such messages outright.
    const finite = Number.isFinite(JSON.parse(n));
    const check = finite ? sameMessage : noDeliveries;
    inputs.push(
      one(c, `message ${short}`, () => pub("fuzz/n", n), {
        codes: finite ? [] : ["invalid_frame"],
      }),
      // Live to a subscriber, then again as the retained message of a new subscription.
      one(
        c,
        `retained message ${short}`,
        () => sub(`fuzz/n/${i}`) + pub(`fuzz/n/${i}`, n, ',"retain":true') + sub(`fuzz/n/${i}/#`),
        { ending: "half-close", check },
      ),
      // The same publish on an ASCII line (copied) and on a line with raw UTF-8 (re-encoded).
      one(
        c,
        `message ${short}, copied and re-encoded`,
        () => sub(`fuzz/n/é${i}`) + pub(`fuzz/n/\\u00e9${i}`, n) + pub(`fuzz/n/é${i}`, n),
        { ending: "half-close", check },
      ),
      one(c, `id ${short}`, () => `{"action":"ping","id":${n}}\n`),
      one(c, `publish id ${short}`, () => pub("fuzz/n", "1", `,"id":${n}`)),
      one(c, `the line ${short}`, () => n + "\n", { codes: ["invalid_frame"] }),
    );
  }
  for (
    const field of ["action", "topic", "group", "policy", "retain", "echo", "version", "reply"]
  ) {
    inputs.push(
      one(c, `${field} 1e400`, () => `{"action":"subscribe","topic":"fuzz/n","${field}":1e400}\n`),
    );
  }
  inputs.push(one(c, "header value 1e400", () => pub("fuzz/n", "1", ',"headers":{"h":1e400}')));
  return inputs;
}

function nulBytes(): FuzzInput[] {
  const c = Category.NulBytes;
  const u0 = "\\u0000";
  return [
    one(c, "a NUL", () => "\0\n", { codes: ["invalid_json"] }),
    one(c, "4000 NULs", () => "\0".repeat(4000) + "\n", { codes: ["invalid_json"] }),
    one(c, "NUL after a frame", () => '{"action":"ping"}\0\n', { codes: ["invalid_json"] }),
    one(c, "NUL before a frame", () => '\0{"action":"ping"}\n', { codes: ["invalid_json"] }),
    one(c, "raw NUL in a message", () => pub("fuzz/a", '"a\0b"'), { codes: ["invalid_json"] }),
    one(c, "raw NUL in a topic", () => pub("fuzz/\0", "1"), { codes: ["invalid_json"] }),
    one(c, "raw NUL between tokens", () => '{"action":\0"ping"}\n', { codes: ["invalid_json"] }),
    one(c, "escaped NUL topic, to itself", () => sub(`fuzz/${u0}`) + pub(`fuzz/${u0}`, `"${u0}"`)),
    one(c, "escaped NUL topic alone", () => sub(u0) + pub(u0, "1")),
    one(c, "escaped NUL headers", () => pub("fuzz/a", "1", `,"headers":{"${u0}":"${u0}"}`)),
    one(c, "escaped NUL group", () => sub("fuzz/a", `,"group":"${u0}"`)),
    one(c, "escaped NUL id", () => `{"action":"ping","id":"${u0}"}\n`),
    one(c, "escaped NUL reply", () => pub("fuzz/a", "1", `,"reply":"fuzz/${u0}"`)),
    one(c, "escaped NUL hello name", () => `{"action":"hello","name":"${u0}","echo":true}\n`),
  ];
}

function loneSurrogates(): FuzzInput[] {
  const c = Category.LoneSurrogates;
  const inputs: FuzzInput[] = [];
  const raw: [string, number[]][] = [
    ["ED A0 80 (U+D800)", [0xed, 0xa0, 0x80]],
    ["ED BF BF (U+DFFF)", [0xed, 0xbf, 0xbf]],
    ["ED A0 BD ED B2 A9 (CESU-8 pair)", [0xed, 0xa0, 0xbd, 0xed, 0xb2, 0xa9]],
  ];
  for (const [name, seq] of raw) {
    const bad = { codes: ["invalid_utf8"] };
    inputs.push(
      one(c, `raw ${name} alone`, () => [...seq, 0x0a], bad),
      one(
        c,
        `raw ${name} in a topic`,
        () => bytes('{"action":"subscribe","topic":"fuzz/', seq, '"}\n'),
        bad,
      ),
      one(
        c,
        `raw ${name} in a message`,
        () => bytes('{"action":"publish","topic":"fuzz/s","message":"x', seq, '"}\n'),
        bad,
      ),
      one(
        c,
        `raw ${name} in a header`,
        () =>
          bytes('{"action":"publish","topic":"fuzz/s","message":1,"headers":{"h":"', seq, '"}}\n'),
        bad,
      ),
    );
  }
  for (const s of ["\\ud800", "\\udfff", "\\udc00\\ud800", "\\ud83d", "\\ud83d\\ude00"]) {
    inputs.push(
      one(c, `${s} in a topic, to itself`, () => sub(`fuzz/${s}`) + pub(`fuzz/${s}`, `"${s}"`)),
      one(
        c,
        `${s} in a topic, after hello`,
        () =>
          '{"action":"hello"}\n' + sub(`fuzz/h${s}`) +
          pub(`fuzz/h${s}`, `"${s}"`, `,"headers":{"${s}":"${s}"}`),
      ),
      one(
        c,
        `${s} re-encoded (raw UTF-8 on the line)`,
        () => sub(`fuzz/é${s}`) + pub(`fuzz/é${s}`, `"é${s}"`, `,"headers":{"é":"${s}"}`),
      ),
      one(c, `${s} retained`, () => pub(`fuzz/r${s}`, `"${s}"`, ',"retain":true') + sub("fuzz/#")),
      one(c, `${s} as a whole topic`, () => sub(s) + pub(s, "1")),
      // Copied (an ASCII line), re-encoded (raw UTF-8 on the line) and retained: the same message.
      one(
        c,
        `${s} copied, re-encoded and retained`,
        () =>
          sub(`fuzz/s/é${s}`) + pub(`fuzz/s/\\u00e9${s}`, `"${s}"`, ',"retain":true') +
          pub(`fuzz/s/é${s}`, `"${s}"`) + sub(`fuzz/s/é${s}/#`),
        { ending: "half-close", check: sameMessage },
      ),
      one(
        c,
        `${s} in reply, group, id, name`,
        () =>
          pub("fuzz/s", "1", `,"reply":"${s}","id":"${s}"`) + sub("fuzz/s", `,"group":"${s}"`) +
          `{"action":"hello","name":"${s}","id":"${s}"}\n`,
      ),
    );
  }
  return inputs;
}

function invalidUtf8(): FuzzInput[] {
  const c = Category.InvalidUtf8;
  const sequences: [string, number[]][] = [
    ["C0 80", [0xc0, 0x80]],
    ["C0 AF", [0xc0, 0xaf]],
    ["C1 BF", [0xc1, 0xbf]],
    ["E0 80 80", [0xe0, 0x80, 0x80]],
    ["E0 80 AF", [0xe0, 0x80, 0xaf]],
    ["E0 9F BF", [0xe0, 0x9f, 0xbf]],
    ["F0 80 80 80", [0xf0, 0x80, 0x80, 0x80]],
    ["F0 8F BF BF", [0xf0, 0x8f, 0xbf, 0xbf]],
    ["F8 88 80 80 80", [0xf8, 0x88, 0x80, 0x80, 0x80]],
    ["FC 84 80 80 80 80", [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80]],
    ["80", [0x80]],
    ["BF", [0xbf]],
    ["FE", [0xfe]],
    ["FF", [0xff]],
    ["F5 80 80 80", [0xf5, 0x80, 0x80, 0x80]],
    ["F4 90 80 80 (past U+10FFFF)", [0xf4, 0x90, 0x80, 0x80]],
    ["C3 28", [0xc3, 0x28]],
    ["E2 28 A1", [0xe2, 0x28, 0xa1]],
    ["E2 82 28", [0xe2, 0x82, 0x28]],
    ["F0 28 8C BC", [0xf0, 0x28, 0x8c, 0xbc]],
    ["F0 90 28 BC", [0xf0, 0x90, 0x28, 0xbc]],
    ["E2 82 (cut short)", [0xe2, 0x82]],
    ["F0 9F 98 (cut short)", [0xf0, 0x9f, 0x98]],
  ];
  const inputs: FuzzInput[] = [];
  const bad = { codes: ["invalid_utf8"] };
  for (const [name, seq] of sequences) {
    inputs.push(
      one(c, `${name} alone`, () => [...seq, 0x0a], bad),
      one(
        c,
        `${name} in a message`,
        () => bytes('{"action":"publish","topic":"fuzz/u","message":"', seq, '"}\n'),
        bad,
      ),
      one(
        c,
        `${name} in a topic`,
        () => bytes('{"action":"subscribe","topic":"fuzz/', seq, '"}\n'),
        bad,
      ),
    );
  }
  inputs.push(
    one(c, "a BOM before a frame", () => bytes([0xef, 0xbb, 0xbf], '{"action":"ping"}\n')),
    // Not invalid: a character split across writes must arrive whole.
    many(c, "U+2615 split across writes", () => [
      sub("fuzz/split") + '{"action":"publish","topic":"fuzz/split","message":"',
      [0xe2],
      [0x98, 0x95],
      '"}\n',
    ], { codes: [] }),
  );
  return inputs;
}

function wrongTypes(): FuzzInput[] {
  const c = Category.WrongTypes;
  const fields: [string, string, string[]][] = [
    ["publish", "action", ["[]", "1", "null", "true", "{}", '"PUBLISH"', '"publish "', '""']],
    ["publish", "topic", [
      "null",
      "1",
      "[]",
      "{}",
      '""',
      '"+"',
      '"a/#"',
      '"/"',
      `"${"a".repeat(2000)}"`,
      `"${"a/".repeat(40)}a"`,
    ]],
    ["subscribe", "topic", [
      "null",
      "[]",
      '""',
      '"#/a"',
      '"a+/b"',
      '"a/#/b"',
      `"${"+/".repeat(40)}#"`,
    ]],
    ["publish", "headers", [
      "[]",
      '"x"',
      '{"h":1}',
      '{"h":null}',
      '{"h":{}}',
      "null",
      '{"h":["v"]}',
    ]],
    ["publish", "reply", ["1", '"fuzz/+"', '""', "null", "[]"]],
    ["publish", "retain", ['"true"', "1", "null", "{}"]],
    ["subscribe", "group", ["1", '""', "[]", "null", "{}"]],
    ["subscribe", "policy", ['"x"', "1", "null", '"DROP-OLDEST"', "[]"]],
    ["hello", "echo", ['"false"', "0", "null"]],
    ["hello", "version", ['"1"', "-1", "2", "null"]],
    ["hello", "name", ["1", "{}", "null"]],
    ["ping", "id", ["{}", "[]", "true", "null"]],
  ];
  const inputs: FuzzInput[] = [];
  for (const [action, field, values] of fields) {
    for (const value of values) {
      const frame: Record<string, string> = { action: `"${action}"`, topic: '"fuzz/w"' };
      if (action === "publish") frame.message = '"m"';
      frame[field] = value;
      const text = "{" + Object.entries(frame).map(([k, v]) => `"${k}":${v}`).join(",") + "}\n";
      inputs.push(one(c, `${action} with ${field} ${value.slice(0, 20)}`, () => text));
    }
  }
  for (const value of ["[]", '"x"', "1", "null", "true", '["subscribe","fuzz/w"]']) {
    inputs.push(one(c, `the frame ${value}`, () => value + "\n", { codes: ["invalid_frame"] }));
  }
  return inputs;
}

/** Every input with a hostile value inside a frame. */
export function valueInputs(): FuzzInput[] {
  return [
    ...deepNesting(),
    ...hugeNumbers(),
    ...nulBytes(),
    ...loneSurrogates(),
    ...invalidUtf8(),
    ...wrongTypes(),
  ];
}
