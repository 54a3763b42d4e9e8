/**
 * The server's delivery encoder: the fast path (message bytes copied from
 * the publish line) must mean exactly what the slow path (re-encoding the
 * parsed message) means.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeClientFrame, encodeDelivery, type PublishFrame } from "../mod.ts";
import { DeliveryEncoder } from "../src/protocol/delivery_encoder.ts";
import { ClientLine } from "../src/protocol/client_line.ts";
import { DEFAULT_SERVER_LIMITS } from "../src/limits.ts";

const encoder = new TextEncoder();
const text = new TextDecoder();

const CASES: { name: string; line: string; fast: boolean }[] = [
  { name: "a string", line: '{"action":"publish","topic":"t","message":"hi"}', fast: true },
  {
    name: "kn-sock spacing",
    line: '{"action": "publish", "topic": "t", "message": "hi"}',
    fast: true,
  },
  {
    name: "message first",
    line: '{ "message" : [1, {"a": "}"}] , "topic":"t","action":"publish"}',
    fast: true,
  },
  {
    name: "an escaped quote",
    line: '{"action":"publish","topic":"t","message":"say \\"hi\\" \\\\"}',
    fast: true,
  },
  { name: "a number", line: '{"action":"publish","topic":"t","message":-12.5e3}', fast: true },
  { name: "a literal", line: '{"action":"publish","topic":"t","message":null,"x":1}', fast: true },
  {
    name: "nested braces in strings",
    line: '{"action":"publish","topic":"t","message":{"k":"{[","v":[]}}',
    fast: true,
  },
  {
    name: "a duplicate key (the last wins)",
    line: '{"action":"publish","topic":"t","message":1,"message":2}',
    fast: true,
  },
  {
    name: "escaped unicode",
    line: '{"action":"publish","topic":"t","message":"caf\\u00e9"}',
    fast: true,
  },
  {
    name: "raw non-ASCII (escaped on the way out)",
    line: '{"action":"publish","topic":"t","message":"café"}',
    fast: false,
  },
  {
    name: "a key written with escapes",
    line: '{"action":"publish","topic":"t","mess\\u0061ge":"hi"}',
    fast: false,
  },
  { name: "no message", line: '{"action":"publish","topic":"t"}', fast: false },
  {
    name: "a non-ASCII topic",
    line: '{"action":"publish","topic":"ü","message":"x"}',
    fast: false,
  },
  {
    name: "an escaped non-ASCII topic",
    line: '{"action":"publish","topic":"\\u00fc","message":"x"}',
    fast: true,
  },
  {
    name: "a backslash before a quote",
    line: '{"action":"publish","topic":"t","message":"a\\\\","x":"\\""}',
    fast: true,
  },
];

for (const { name, line, fast } of CASES) {
  test(`DeliveryEncoder delivers ${name} as the slow path would`, () => {
    const bytes = encoder.encode(line);
    const frame = decodeClientFrame(bytes) as PublishFrame;
    const out = new ClientLine(DEFAULT_SERVER_LIMITS);
    out.decode(bytes, 0, bytes.length, true);
    assert.deepEqual(out.frame, frame);
    const got = new DeliveryEncoder().encode(frame.topic, frame.message, out.json);
    const expected = encodeDelivery(frame.topic, frame.message);
    assert.deepEqual(JSON.parse(text.decode(got)), JSON.parse(text.decode(expected)));
    assert.equal(got[got.length - 1], 0x0a);
    assert.ok(got.every((byte) => byte < 0x80), "deliveries are ASCII");
    assert.equal(out.json !== null, fast);
  });
}

test("DeliveryEncoder keeps the message bytes as published on the fast path", () => {
  const json = encoder.encode('{ "a" : 12.50 }');
  const got = text.decode(new DeliveryEncoder().encode("t", { a: 12.5 }, json));
  assert.equal(got, '{"topic":"t","message":{ "a" : 12.50 }}\n');
});

test("DeliveryEncoder handles a message larger than its reusable buffer", () => {
  const big = "y".repeat(200_000);
  const delivery = new DeliveryEncoder();
  for (
    const json of [null, encoder.encode(JSON.stringify(big))]
  ) {
    const got = delivery.encode("t", big, json);
    assert.deepEqual(JSON.parse(text.decode(got)), { topic: "t", message: big });
  }
});
