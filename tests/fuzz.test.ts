/**
 * A bounded fuzz run: attackers throw random bytes, truncated and mutated
 * frames, deep nesting, huge numbers, NUL bytes, lone surrogates, invalid
 * UTF-8, floods of tiny frames, lines around the limit, CR-only lines,
 * half-closed and aborted connections at the server (`_fuzz_framing.ts` and
 * `_fuzz_values.ts` list them, `_fuzz_peers.ts` sends them and checks each
 * answer), while a well-behaved publisher and two subscribers check that
 * their stream arrives whole, in order and byte for byte. Seeded, so every
 * run tries the same inputs; bounded by count, not time. The counts per
 * category are reported as diagnostics (`fuzz inputs: N`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Logger } from "../mod.ts";
import { serverCases, startFixture, subscribed, take, until } from "./helpers.ts";
import type { Fixture } from "./helpers.ts";
import { type FuzzInput, GOOD_TOPIC, rng, shuffle } from "./_fuzz_inputs.ts";
import { framingInputs } from "./_fuzz_framing.ts";
import { valueInputs } from "./_fuzz_values.ts";
import { attack, GoodPeer, ignore, Tally } from "./_fuzz_peers.ts";

const SEED = 20240601;
const ATTACKERS = 4;
/** Small enough that lines around it are cheap, large enough for 100,000-deep nesting. */
const MAX_LINE_BYTES = 256 * 1024;
/** The good publisher publishes at least this many, and goes on while the attack lasts. */
const MIN_GOOD_MESSAGES = 1000;
const GOOD_BATCH = 20;

/** JSON text with every non-ASCII UTF-16 unit escaped: what the server writes. */
function ascii(json: string): string {
  return json.replace(
    /[\u0080-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

function goodJson(i: number): string {
  return JSON.stringify({ i, text: `message ${i} \u2615 "q" \\ \u00e9` });
}

/** Even messages as escaped ASCII (copied by the server), odd ones as raw UTF-8 (re-encoded). */
function goodPublish(i: number): string {
  const json = goodJson(i);
  return `{"action":"publish","topic":"${GOOD_TOPIC}","message":${i % 2 ? json : ascii(json)}}\n`;
}

/** Subscribes (after `hello` when asked) and checks the answers. */
async function goodSubscriber(f: Fixture, hello: boolean): Promise<GoodPeer> {
  const peer = await GoodPeer.open(f);
  const subscribe = `{"action":"subscribe","topic":"${GOOD_TOPIC}","id":"good"}\n`;
  await peer.send((hello ? '{"action":"hello","id":"good"}\n' : "") + subscribe);
  await peer.waitFor(hello ? 2 : 1);
  const answers = peer.lines.splice(0);
  if (hello) assert.equal(JSON.parse(answers.shift()!).action, "hello");
  assert.deepEqual(answers, ['{"action":"ok","id":"good"}']);
  return peer;
}

/** Asserts that `lines` are exactly `expected`, naming the first difference. */
function assertExact(lines: string[], expected: string[], who: string): void {
  const at = lines.findIndex((line, i) => line !== expected[i]);
  assert.equal(at, -1, `${who}, line ${at}: got ${lines[at]}, want ${expected[at]}`);
  assert.equal(lines.length, expected.length, `${who}: line count`);
}

function summary(map: ReadonlyMap<string, number>): string {
  return [...map].map(([key, n]) => `${key} ${n}`).join(", ") || "none";
}

/** Every input of one run, shuffled so that the categories mix: the same every run. */
function fuzzInputs(): FuzzInput[] {
  const random = rng(SEED);
  return shuffle([...framingInputs(random, MAX_LINE_BYTES), ...valueInputs()], random);
}

for (const { name, make } of serverCases()) {
  const inputs = fuzzInputs();
  const title = `fuzz (${name}): ${inputs.length} hostile inputs never crash the server, ` +
    "leak a connection or touch another client's stream";
  // A bound on a hang, not a clock the test waits on: Bun's default of 5 s is too tight.
  test(title, { timeout: 60_000 }, async (t) => {
    const crashes: string[] = [];
    const logger: Logger = {
      debug: ignore,
      info: ignore,
      warn: ignore,
      error: (message, fields) => crashes.push(`${message}: ${String(fields?.error)}`),
    };
    const f = await startFixture(make(), { limits: { maxLineBytes: MAX_LINE_BYTES }, logger });
    const tally = new Tally();
    const good: GoodPeer[] = [];
    try {
      const plain = await goodSubscriber(f, false);
      const extended = await goodSubscriber(f, true);
      const publisher = await GoodPeer.open(f);
      good.push(plain, extended, publisher);

      let attacking = true;
      let sent = 0;
      const publishing = (async () => {
        for (let batch = 1; attacking || sent < MIN_GOOD_MESSAGES; batch++) {
          let text = "";
          for (let k = 0; k < GOOD_BATCH; k++) text += goodPublish(sent++);
          await publisher.send(text + `{"action":"ping","id":"good/${batch}"}\n`);
          await publisher.waitFor(batch);
        }
      })();
      const queue = inputs[Symbol.iterator]();
      const attackers = Promise.all(
        Array.from({ length: ATTACKERS }, (_, i) => attack(f, queue, tally, String(i))),
      ).finally(() => attacking = false);
      await Promise.all([attackers, publishing]);

      t.diagnostic(`fuzz inputs: ${tally.total} (${name})`);
      t.diagnostic(`by category: ${summary(tally.inputs)}`);
      t.diagnostic(`tiny frames in floods: ${tally.floodFrames}`);
      t.diagnostic(
        `fuzz connections: ${tally.connections} (${tally.serverClosed} closed cleanly by the server, ` +
          `${tally.aborted} aborted by the client, ${tally.withErrors} got error frames)`,
      );
      t.diagnostic(`error frames: ${summary(tally.codes)}`);
      t.diagnostic(`connections the server closed: ${summary(tally.closes)}`);
      t.diagnostic(`good messages: ${sent}, delivered to 2 subscribers`);

      // No crash; every input tried; every fuzz connection closed, by the server cleanly or by us.
      assert.deepEqual(crashes, [], "errors the server logged");
      assert.deepEqual(tally.bad, [], "lines from the server that are not ASCII JSON frames");
      assert.equal(tally.total, inputs.length);
      assert.equal(tally.serverClosed + tally.aborted, tally.connections);

      // The good stream: every message, in order, byte for byte, and nothing else.
      assert.deepEqual(
        publisher.lines,
        Array.from(
          { length: sent / GOOD_BATCH },
          (_, i) => `{"action":"pong","id":"good/${i + 1}"}`,
        ),
      );
      for (const peer of [plain, extended]) await peer.send('{"action":"ping","id":"end"}\n');
      await Promise.all([plain.waitFor(sent + 1), extended.waitFor(sent + 1)]);
      const end = '{"action":"pong","id":"end"}';
      const delivery = (i: number) => `{"topic":"${GOOD_TOPIC}","message":${ascii(goodJson(i))}`;
      assertExact(
        plain.lines,
        [...Array.from({ length: sent }, (_, i) => delivery(i) + "}"), end],
        "plain subscriber",
      );
      assertExact(
        extended.lines,
        [...Array.from({ length: sent }, (_, i) => delivery(i) + `,"seq":${i + 1}}`), end],
        "subscriber after hello",
      );

      // No leaked connection: only the three good ones are left, and the server still routes.
      await until(() => f.server.stats().connections === 3, "the fuzz connections to close");
      const [subscriber, client] = await Promise.all([f.client(), f.client()]);
      await subscribed(subscriber, "after/fuzz");
      await client.publish("after/fuzz", "still routing");
      assert.deepEqual((await take(subscriber, 1))[0], {
        topic: "after/fuzz",
        message: "still routing",
      });
      await Promise.all([subscriber.close(), client.close()]);
      await until(() => f.server.stats().connections === 3, "the last clients to close");
      await Promise.all([plain.finish(), extended.finish(), publisher.finish()]);
      await until(() => f.server.stats().connections === 0, "the good clients to close");

      // Last, so that it hides nothing else: what the server answered each input.
      assert.deepEqual(tally.failures.sort(), [], "inputs the server answered wrongly");
    } finally {
      for (const peer of good) peer.conn.close();
      await f.close();
    }
  });
}
