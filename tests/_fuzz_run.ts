/**
 * One fuzz run, shared by `fuzz.test.ts` (a seeded, bounded run) and
 * `scripts/fuzz.ts` (a long one): attackers throw hostile inputs at a
 * server (`_fuzz_peers.ts` sends them and checks each answer), while a
 * well-behaved publisher and two subscribers (one plain, one after `hello`)
 * check that their stream arrives whole, in order and byte for byte, value
 * for value. Throws an `AssertionError` on anything wrong.
 */
import assert from "node:assert/strict";
import type { Logger, Transport } from "../mod.ts";
import { startFixture, subscribed, take, until } from "./helpers.ts";
import type { Fixture } from "./helpers.ts";
import { type FuzzInput, GOOD_TOPIC } from "./_fuzz_inputs.ts";
import { attack, attackBatched, GoodPeer, ignore, Tally } from "./_fuzz_peers.ts";

/** How a run goes. */
export interface FuzzRunOptions {
  /** Attackers taking inputs at once. */
  attackers: number;
  /** The server's `maxLineBytes` (the inputs around the limit were built for it). */
  maxLineBytes: number;
  /** The good publisher publishes at least this many, and goes on while the attack lasts. */
  minGoodMessages: number;
  /** Stream inputs written at once by an attacker; 1 (the default) syncs after each. */
  batch?: number;
  /** Reports a line of diagnostics. */
  diagnostic(line: string): void;
}

/** What a run did. */
export interface FuzzRunReport {
  /** Inputs tried. */
  inputs: number;
  /** Messages the good publisher sent, each checked at both subscribers. */
  goodMessages: number;
}

const GOOD_BATCH = 20;
const PING = '{"action":"ping"}';
const PONG = '{"action":"pong"}\n';

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

/**
 * A good subscriber's stream, checked as it arrives (the lines checked are
 * let go, so a long run holds none): each line must be the next delivery,
 * exactly.
 */
class GoodStream {
  readonly #peer: GoodPeer;
  readonly #who: string;
  readonly #delivery: (i: number) => string;
  #next = 0;
  /** The first line that was not what it should be, once there is one. */
  problem: string | null = null;

  constructor(peer: GoodPeer, who: string, delivery: (i: number) => string) {
    this.#peer = peer;
    this.#who = who;
    this.#delivery = delivery;
  }

  /** Checks the lines that came since the last call; answers the server's keepalive pings. */
  check(): void {
    for (const line of this.#peer.lines.splice(0)) {
      // A run longer than pingIntervalMs gets pinged (the subscriber after hello): answer, as a client does.
      if (line === PING) {
        this.#peer.send(PONG).catch(ignore);
        continue;
      }
      const want = this.#delivery(this.#next);
      if (line !== want && this.problem === null) {
        this.problem = `${this.#who}, line ${this.#next}: got ${line}, want ${want}`;
      }
      this.#next++;
    }
  }

  /** Sends a ping and checks that every one of `sent` deliveries, then its pong, came. */
  async end(sent: number): Promise<void> {
    const end = '{"action":"pong","id":"end"}';
    await this.#peer.send('{"action":"ping","id":"end"}\n');
    for (;;) {
      const lines = this.#peer.lines;
      if (lines.length === 0) await this.#peer.waitFor(this.#peer.received + 1);
      const at = lines.indexOf(end);
      if (at === -1) {
        this.check();
        continue;
      }
      const rest = lines.splice(at);
      this.check();
      assert.equal(this.problem, null);
      assert.equal(this.#next, sent, `${this.#who}: line count`);
      assert.deepEqual(rest, [end], `${this.#who}: the last line`);
      return;
    }
  }
}

function summary(map: ReadonlyMap<string, number>): string {
  return [...map].map(([key, n]) => `${key} ${n}`).join(", ") || "none";
}

/**
 * Runs every input `inputs` yields against a server on `transport`, with
 * the good clients alongside; resolves once all were tried and checked.
 */
export async function runFuzz(
  transport: Transport,
  inputs: Iterator<FuzzInput>,
  options: FuzzRunOptions,
): Promise<FuzzRunReport> {
  const { attackers: ATTACKERS, maxLineBytes, minGoodMessages: MIN_GOOD_MESSAGES } = options;
  const batch = options.batch ?? 1;
  const diagnostic = options.diagnostic;
  let drawn = 0;
  const queue: Iterator<FuzzInput> = {
    next() {
      const next = inputs.next();
      if (!next.done) drawn++;
      return next;
    },
  };
  const crashes: string[] = [];
  const logger: Logger = {
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (message, fields) => crashes.push(`${message}: ${String(fields?.error)}`),
  };
  const f = await startFixture(transport, { limits: { maxLineBytes }, logger });
  const tally = new Tally();
  const good: GoodPeer[] = [];
  try {
    const plain = await goodSubscriber(f, false);
    const extended = await goodSubscriber(f, true);
    const publisher = await GoodPeer.open(f);
    good.push(plain, extended, publisher);

    const delivery = (i: number) => `{"topic":"${GOOD_TOPIC}","message":${ascii(goodJson(i))}`;
    const streams = [
      new GoodStream(plain, "plain subscriber", (i) => delivery(i) + "}"),
      new GoodStream(extended, "subscriber after hello", (i) => delivery(i) + `,"seq":${i + 1}}`),
    ];
    let attacking = true;
    let sent = 0;
    const publishing = (async () => {
      for (let batch = 1; attacking || sent < MIN_GOOD_MESSAGES; batch++) {
        let text = "";
        for (let k = 0; k < GOOD_BATCH; k++) text += goodPublish(sent++);
        await publisher.send(text + `{"action":"ping","id":"good/${batch}"}\n`);
        await publisher.waitFor(batch);
        for (const stream of streams) stream.check();
      }
    })();
    const attackers = Promise.all(
      Array.from(
        { length: ATTACKERS },
        (_, i) =>
          batch > 1
            ? attackBatched(f, queue, tally, String(i), batch)
            : attack(f, queue, tally, String(i)),
      ),
    ).finally(() => attacking = false);
    await Promise.all([attackers, publishing]);

    diagnostic(`fuzz inputs: ${tally.total} (${transport.name})`);
    diagnostic(`by category: ${summary(tally.inputs)}`);
    diagnostic(`tiny frames in floods: ${tally.floodFrames}`);
    diagnostic(
      `fuzz connections: ${tally.connections} (${tally.serverClosed} closed cleanly by the server, ` +
        `${tally.aborted} aborted by the client, ${tally.withErrors} got error frames)`,
    );
    diagnostic(`error frames: ${summary(tally.codes)}`);
    diagnostic(`connections the server closed: ${summary(tally.closes)}`);
    diagnostic(`good messages: ${sent}, delivered to 2 subscribers`);

    // No crash; every input tried; every fuzz connection closed, by the server cleanly or by us.
    assert.deepEqual(crashes, [], "errors the server logged");
    assert.deepEqual(tally.bad, [], "lines from the server that are not ASCII JSON frames");
    assert.equal(tally.total, drawn);
    assert.equal(tally.serverClosed + tally.aborted, tally.connections);

    // The good stream: every message, in order, byte for byte, and nothing else.
    assert.deepEqual(
      publisher.lines,
      Array.from(
        { length: sent / GOOD_BATCH },
        (_, i) => `{"action":"pong","id":"good/${i + 1}"}`,
      ),
    );
    for (const stream of streams) await stream.end(sent);

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
    return { inputs: tally.total, goodMessages: sent };
  } finally {
    for (const peer of good) peer.conn.close();
    await f.close();
  }
}
