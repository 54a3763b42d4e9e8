/**
 * A bounded fuzz run: attackers throw random bytes, truncated and mutated
 * frames, deep nesting, huge numbers, NUL bytes, lone surrogates and floods
 * of tiny frames at the server, while a well-behaved publisher and
 * subscriber check that their stream arrives whole and in order. Seeded, so
 * every run tries the same inputs; bounded by count, not time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { serverCases, startFixture, subscribed, until } from "./helpers.ts";
import type { Fixture, RawPeer } from "./helpers.ts";

const INPUTS_PER_ATTACKER = 400;
const ATTACKERS = 4;
const GOOD_MESSAGES = 2000;

function rng(seed: number): (n: number) => number {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
}

const encoder = new TextEncoder();

const VALID = [
  '{"action":"subscribe","topic":"fuzz/a"}',
  '{"action":"publish","topic":"fuzz/a","message":"hello"}',
  '{"action":"publish","topic":"fuzz/b","message":{"k":[1,2,{"x":null}]},"headers":{"h":"v"}}',
  '{"action":"unsubscribe","topic":"fuzz/#","id":3}',
  '{"action":"hello","echo":false,"id":"h"}',
  '{"action":"subscribe","topic":"fuzz/+","group":"g","id":1}',
  '{"action":"publish","topic":"fuzz/r","message":"q","reply":"fuzz/inbox","retain":true}',
];

/** One hostile input; `kind` is counted for the report. */
function input(random: (n: number) => number): Uint8Array {
  switch (random(9)) {
    case 0: { // random bytes, newline-terminated
      const bytes = Uint8Array.from({ length: random(300) + 1 }, () => random(256));
      bytes[bytes.length - 1] = 0x0a;
      return bytes;
    }
    case 1: { // a truncated valid frame
      const frame = VALID[random(VALID.length)];
      return encoder.encode(frame.slice(0, random(frame.length)) + "\n");
    }
    case 2: { // a mutated valid frame
      const bytes = encoder.encode(VALID[random(VALID.length)] + "\n");
      for (let i = 0; i < 1 + random(4); i++) bytes[random(bytes.length - 1)] = random(256);
      return bytes;
    }
    case 3: { // deep nesting
      const depth = 1000 + random(50_000);
      return encoder.encode(
        `{"action":"publish","topic":"fuzz/d","message":${"[".repeat(depth)}${
          "]".repeat(depth)
        }}\n`,
      );
    }
    case 4: // huge numbers
      return encoder.encode(
        `{"action":"publish","topic":"fuzz/n","message":${
          random(2) ? "1e999999" : "9".repeat(5000)
        }}\n`,
      );
    case 5: // NUL bytes and lone surrogates
      return encoder.encode(
        `{"action":"publish","topic":"fuzz/\\u0000","message":"\\ud800\\udfff\\ud800"}\n\u0000\n`,
      );
    case 6: { // 10,000 tiny frames in one write
      return encoder.encode("{}\n".repeat(10_000));
    }
    case 7: // wrong types everywhere
      return encoder.encode(
        `{"action":${random(2) ? "[]" : "1"},"topic":${random(2) ? "{}" : "null"},"id":{"x":1}}\n`,
      );
    default: // a valid frame, sometimes without its newline
      return encoder.encode(VALID[random(VALID.length)] + (random(4) ? "\n" : ""));
  }
}

async function attack(f: Fixture, seed: number): Promise<number> {
  const random = rng(seed);
  let tried = 0;
  let peer: RawPeer = await f.raw();
  while (tried < INPUTS_PER_ATTACKER) {
    const bytes = input(random);
    tried++;
    const sent = await peer.send(bytes).then(() => true, () => false);
    if (!sent || random(50) === 0) {
      // Cut off (slow consumer, line too long) or leaving mid-stream: reconnect.
      peer.close();
      peer = await f.raw();
    }
  }
  peer.close();
  return tried;
}

for (const { name, make } of serverCases()) {
  test(`fuzz (${name}): hostile input never disturbs a well-behaved publisher and subscriber`, async () => {
    const f = await startFixture(make(), { limits: { maxOutboundBytes: 256 * 1024 } });
    const [subscriber, publisher] = await Promise.all([f.client(), f.client()]);
    await subscribed(subscriber, "good/stream");
    const received: unknown[] = [];
    const receiving = (async () => {
      while (received.length < GOOD_MESSAGES) {
        const message = await subscriber.recv();
        if (message !== null) received.push(message.message);
      }
    })();
    const publishing = (async () => {
      for (let i = 0; i < GOOD_MESSAGES; i++) {
        await publisher.publish("good/stream", { i, text: `message ${i} ☕` });
        if (i % 100 === 0) await new Promise<void>((resolve) => setTimeout(resolve, 0));
      }
    })();
    const tried = await Promise.all(
      Array.from({ length: ATTACKERS }, (_, i) => attack(f, 1000 + i)),
    );
    await publishing;
    await receiving;
    assert.equal(tried.reduce((a, b) => a + b, 0), ATTACKERS * INPUTS_PER_ATTACKER);
    assert.deepEqual(
      received,
      Array.from({ length: GOOD_MESSAGES }, (_, i) => ({ i, text: `message ${i} ☕` })),
    );
    // Every attacker connection is gone; the two good ones remain.
    await until(() => f.server.stats().connections === 2, "the attackers' connections to close");
    assert.ok(f.server.stats().errorsSent > 0);
    await f.close();
  });
}
