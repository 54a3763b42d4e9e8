/**
 * The benchmark load generator's protocol readers (`scripts/_bench_protocols.ts`):
 * byte fixtures read whole, split at every offset, and byte by byte.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  type Dialect,
  KNSOCK,
  LineBlobScanner,
  NATS,
  parseInteger,
  REDIS,
} from "../scripts/_bench_protocols.ts";

const encoder = new TextEncoder();

interface Seen {
  count: number;
  deliveries: string[];
  replies: string[];
}

/** Reads `chunks` with a fresh reader of `dialect`. */
function readAll(dialect: Dialect, chunks: Uint8Array[], withDeliveries = true): Seen {
  const seen: Seen = { count: 0, deliveries: [], replies: [] };
  const reader = dialect.reader({
    onDelivery: withDeliveries ? (d) => seen.deliveries.push(d) : undefined,
    reply: (text) => seen.replies.push(text),
  });
  for (const chunk of chunks) seen.count += reader.read(chunk);
  return seen;
}

/** The ways a stream can be cut: whole, in two at every offset, and byte by byte. */
function cuts(text: string): Uint8Array[][] {
  const bytes = encoder.encode(text);
  const all: Uint8Array[][] = [[bytes]];
  for (let at = 1; at < bytes.byteLength; at++) {
    all.push([bytes.subarray(0, at), bytes.subarray(at)]);
  }
  all.push(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
  return all;
}

function assertEveryCut(
  dialect: Dialect,
  text: string,
  expected: { count: number; deliveries: string[]; replies?: string[] },
): void {
  for (const chunks of cuts(text)) {
    const seen = readAll(dialect, chunks);
    const where = `cut in ${chunks.length} chunk(s) at ${chunks[0].byteLength}`;
    assert.equal(seen.count, expected.count, where);
    assert.deepEqual(seen.deliveries, expected.deliveries, where);
    assert.deepEqual(seen.replies, expected.replies ?? [], where);
    assert.equal(readAll(dialect, chunks, false).count, expected.count, `${where}, uncounted`);
  }
}

const PAYLOAD = "x".repeat(128);

describe("bench protocols", () => {
  it("parseInteger() reads decimal digits and a sign, and nothing else", () => {
    const cases: [string, number][] = [["128", 128], ["-1", -1], ["0", 0], ["", NaN], ["1a", NaN]];
    for (const [text, expected] of cases) {
      assert.deepEqual(parseInteger(encoder.encode(text), 0, text.length), expected, text);
    }
  });

  it("LineBlobScanner hands a blob that holds CR and LF over whole", () => {
    const decoder = new TextDecoder();
    for (const chunks of cuts("a\r\n$4\r\n\r\n\n\r\r\nb\n")) {
      const lines: string[] = [];
      const blobs: string[] = [];
      const scanner = new LineBlobScanner((line, start, end) => {
        const text = decoder.decode(line.subarray(start, end));
        lines.push(text);
        return text.startsWith("$") ? Number(text.slice(1)) : -1;
      }, (blob) => blobs.push(decoder.decode(blob)));
      for (const chunk of chunks) scanner.feed(chunk);
      assert.deepEqual(lines, ["a", "$4", "b"]);
      assert.deepEqual(blobs, ["\r\n\n\r"]);
    }
  });

  it("LineBlobScanner refuses a line past 64 KiB", () => {
    const scanner = new LineBlobScanner(() => -1, () => {});
    scanner.feed(new Uint8Array(64 * 1024).fill(97));
    assert.throws(() => scanner.feed(new Uint8Array([97])), RangeError);
  });

  it("the kn-sock reader counts lines and hands each over", () => {
    const one = KNSOCK.publish("bench", PAYLOAD).replace('"action":"publish",', "");
    assert.equal(KNSOCK.message(one.trimEnd()), PAYLOAD);
    assertEveryCut(KNSOCK, one + one, { count: 2, deliveries: [one.trimEnd(), one.trimEnd()] });
  });

  it("the NATS reader counts MSG payloads, with or without reply-to, and answers PING", () => {
    const stream = 'INFO {"server_id":"x","max_payload":1048576}\r\n' +
      `MSG bench 1 128\r\n${PAYLOAD}\r\n` +
      "PING\r\n" +
      "MSG t/7 12 _INBOX.a 11\r\nMSG 1 2 3\r\n\r\n" + // a payload that looks like a frame
      "MSG bench 1 0\r\n\r\n" +
      "+OK\r\nPONG\r\n";
    assertEveryCut(NATS, stream, {
      count: 3,
      deliveries: [PAYLOAD, "MSG 1 2 3\r\n", ""],
      replies: ["PONG\r\n"],
    });
  });

  it("NATS frames: CONNECT, SUB with its sid, PUB with the payload's UTF-8 byte count", () => {
    assert.equal(NATS.hello, 'CONNECT {"verbose":false,"pedantic":false}\r\n');
    assert.equal(NATS.subscribe("t/1", 2), "SUB t/1 2\r\n");
    assert.equal(NATS.publish("bench", "é!"), "PUB bench 3\r\né!\r\n");
  });

  it("the Redis reader counts message pushes and reads past confirmations and replies", () => {
    const push = (channel: string, message: string): string =>
      `*3\r\n$7\r\nmessage\r\n$${channel.length}\r\n${channel}\r\n$${message.length}\r\n${message}\r\n`;
    const stream = "*3\r\n$9\r\nsubscribe\r\n$5\r\nbench\r\n:1\r\n" +
      push("bench", PAYLOAD) +
      ":10\r\n+OK\r\n-ERR wrong\r\n" + // replies outside an array
      push("t/1", "*3\r\n$7\r\nmessage\r\n") + // a message that looks like a push
      "*3\r\n$8\r\nmessagf\r\n$1\r\na\r\n$1\r\nb\r\n" + // not "message"
      "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$-1\r\n";
    assertEveryCut(REDIS, stream, {
      count: 3,
      deliveries: [PAYLOAD, "*3\r\n$7\r\nmessage\r\n"],
    });
  });

  it("Redis frames: SUBSCRIBE and PUBLISH as RESP arrays of bulk strings", () => {
    assert.equal(REDIS.hello, "");
    assert.equal(REDIS.subscribe("t/1", 1), "*2\r\n$9\r\nSUBSCRIBE\r\n$3\r\nt/1\r\n");
    assert.equal(REDIS.publish("a", "é"), "*3\r\n$7\r\nPUBLISH\r\n$1\r\na\r\n$2\r\né\r\n");
  });
});
