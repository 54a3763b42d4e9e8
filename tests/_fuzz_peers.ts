/**
 * The connections of `fuzz.test.ts`: attackers that send the inputs and
 * check every line the server answers, and well-behaved peers that keep
 * the lines they get.
 */

import assert from "node:assert/strict";
import type { Conn } from "../mod.ts";
import type { Fixture } from "./helpers.ts";
import { bytes, Category, type FuzzInput } from "./_fuzz_inputs.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LF = 0x0a;

/** What one run saw, for the assertions and the report. */
export class Tally {
  /** Inputs tried, by category (in the order of {@linkcode Category}). */
  readonly inputs: Map<Category, number> = new Map(Object.values(Category).map((c) => [c, 0]));
  floodFrames = 0;
  connections = 0;
  /** Connections the server ended cleanly (end of stream, after its answers). */
  serverClosed = 0;
  /** Connections we closed abruptly. */
  aborted = 0;
  /** Connections that got at least one error frame. */
  withErrors = 0;
  readonly codes = new Map<string, number>();
  readonly closes = new Map<string, number>();
  /** Inputs the server answered wrongly. */
  readonly failures: string[] = [];
  /** Lines from the server that are not a valid frame, or not ASCII. */
  readonly bad: string[] = [];

  count(input: FuzzInput): void {
    this.inputs.set(input.category, (this.inputs.get(input.category) ?? 0) + 1);
    this.floodFrames += input.frames ?? 0;
  }

  get total(): number {
    let total = 0;
    for (const n of this.inputs.values()) total += n;
    return total;
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Reads `conn` line by line until it ends; resolves with `"eof"` or with
 * the error that ended it. Each line is passed as bytes without its `\n`.
 */
async function readLines(conn: Conn, onLine: (line: Uint8Array) => void): Promise<unknown> {
  let held = new Uint8Array(0);
  try {
    for await (const chunk of conn) {
      let data = chunk;
      if (held.byteLength > 0) {
        data = new Uint8Array(held.byteLength + chunk.byteLength);
        data.set(held);
        data.set(chunk, held.byteLength);
      }
      let start = 0;
      for (let end = data.indexOf(LF); end !== -1; end = data.indexOf(LF, start)) {
        onLine(data.subarray(start, end));
        start = end + 1;
      }
      held = data.slice(start);
    }
    return held.byteLength === 0 ? "eof" : "eof mid-line";
  } catch (error) {
    return error;
  }
}

function isAscii(line: Uint8Array): boolean {
  for (let i = 0; i < line.byteLength; i++) if (line[i] > 0x7f) return false;
  return true;
}

/** An attacker's connection: reads and checks every line the server sends it. */
class FuzzPeer {
  readonly conn: Conn;
  /** Lines received since the last `take()`, and their error codes. */
  #lines: string[] = [];
  #codes: string[] = [];
  #errors = 0;
  #syncs = new Map<string, (answered: boolean) => void>();
  readonly #tally: Tally;
  /** `"eof"` or the error that ended reading. */
  readonly ended: Promise<unknown>;
  #over = false;

  private constructor(conn: Conn, tally: Tally) {
    this.conn = conn;
    this.#tally = tally;
    tally.connections++;
    this.ended = readLines(conn, (line) => this.#line(line)).then((end) => {
      this.#over = true;
      for (const resolve of this.#syncs.values()) resolve(false);
      this.#syncs.clear();
      return end;
    });
  }

  static async open(f: Fixture, tally: Tally): Promise<FuzzPeer> {
    const conn = await f.transport.connect({ hostname: "127.0.0.1", port: f.server.addr.port });
    return new FuzzPeer(conn, tally);
  }

  /** The lines received since the last call, and the codes of their error frames. */
  take(): Answer {
    return { lines: this.#lines.splice(0), codes: this.#codes.splice(0) };
  }

  #line(line: Uint8Array): void {
    const text = decoder.decode(line);
    this.#lines.push(text);
    const bad = (why: string): void => {
      this.#tally.bad.push(`${why}: ${text.slice(0, 200)}`);
    };
    if (!isAscii(line)) bad("not ASCII");
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(text);
    } catch {
      return bad("not JSON");
    }
    if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
      return bad("not an object");
    }
    const action = frame.action;
    if (action === undefined) {
      if (typeof frame.topic !== "string" || !("message" in frame)) bad("not a delivery");
    } else if (typeof action !== "string") {
      bad("action not a string");
    } else if (action === "error") {
      if (typeof frame.code !== "string" || typeof frame.error !== "string") bad("bad error frame");
      const code = String(frame.code);
      this.#codes.push(code);
      bump(this.#tally.codes, code);
      if (this.#errors++ === 0) this.#tally.withErrors++;
    } else if (action === "pong" && typeof frame.id === "string") {
      this.#syncs.get(frame.id)?.(true);
      this.#syncs.delete(frame.id);
    }
  }

  /**
   * Ends any partial line and pings; resolves `true` once the pong came
   * back (the server handled everything sent before), `false` once the
   * server closed the connection instead.
   */
  async sync(id: string): Promise<boolean> {
    if (this.#over) return false;
    const answered = new Promise<boolean>((resolve) => this.#syncs.set(id, resolve));
    const ping = encoder.encode(`\n{"action":"ping","id":"${id}"}\n`);
    if (!await write(this.conn, [ping])) {
      await this.ended;
      return false;
    }
    return answered;
  }

  /**
   * Writes each input's bytes followed by a ping, all in one write, and
   * collects each input's answer: the lines up to its pong. `null` for the
   * inputs whose pong never came (the server closed the connection).
   */
  async syncEach(inputs: readonly Uint8Array[][], prefix: string): Promise<(Answer | null)[]> {
    const answers: (Answer | null)[] = inputs.map(() => null);
    if (this.#over) return answers;
    const parts: Uint8Array[] = [];
    const answered = inputs.map((writes, i) => {
      const id = `${prefix}/${i}`;
      parts.push(...writes, encoder.encode(`\n{"action":"ping","id":"${id}"}\n`));
      return new Promise<boolean>((resolve) =>
        this.#syncs.set(id, (done) => {
          if (done) answers[i] = this.take();
          resolve(done);
        })
      );
    });
    if (!await write(this.conn, [bytes(...parts)])) await this.ended;
    await Promise.all(answered);
    return answers;
  }

  /** Ends our stream, waits for the server to end its, and closes. */
  async finish(): Promise<unknown> {
    this.conn.closeWrite();
    const end = await this.ended;
    this.conn.close();
    await this.conn.closed;
    if (end === "eof") this.#tally.serverClosed++;
    return end;
  }
}

/** What the server answered one input: its lines, and the codes of its error frames. */
export interface Answer {
  lines: string[];
  codes: string[];
}

/** Writes one after another; `false` once a write fails (the server closed). */
async function write(conn: Conn, writes: Uint8Array[]): Promise<boolean> {
  for (const bytes of writes) {
    try {
      await conn.write(bytes);
    } catch {
      return false;
    }
  }
  return true;
}

/** Drops what it is given: a write that our own `close()` cut off, a log line. */
export function ignore(): void {
  // Nothing to do, by design.
}

/** Checks what the server answered an input; adds what went wrong to `tally.failures`. */
function judge(
  input: FuzzInput,
  answer: { lines: string[]; codes: string[] },
  end: { answered?: boolean; eof?: unknown },
  tally: Tally,
): void {
  const what = `${input.category}: ${input.label}`;
  const fail = (problem: string) => tally.failures.push(`${what}: ${problem}`);
  if (input.codes !== undefined) {
    const got = answer.codes.join(",");
    const want = input.codes.join(",");
    if (got !== want) fail(`error codes [${got.slice(0, 200)}], want [${want.slice(0, 200)}]`);
  }
  if (input.keeps !== undefined && end.answered !== input.keeps) {
    fail(input.keeps ? "the server closed the connection" : "the server kept the connection");
  }
  if (end.eof !== undefined && end.eof !== "eof") fail(`the stream ended with ${String(end.eof)}`);
  const problem = input.check?.(answer.lines);
  if (problem !== undefined) fail(problem);
}

/** One attacker: takes inputs from the shared queue until it is empty. */
export async function attack(
  f: Fixture,
  queue: Iterator<FuzzInput>,
  tally: Tally,
  name: string,
): Promise<void> {
  let peer = await FuzzPeer.open(f, tally);
  let n = 0;
  for (let next = queue.next(); !next.done; next = queue.next()) {
    const input = next.value;
    tally.count(input);
    if (input.ending === "stream") {
      const answered = await write(peer.conn, input.writes()) &&
        await peer.sync(`sync/${name}/${n++}`);
      if (answered) {
        judge(input, peer.take(), { answered }, tally);
        continue;
      }
      // The server closed the connection: see why, and carry on with a new one.
      const eof = await peer.finish();
      const answer = peer.take();
      bump(tally.closes, answer.codes.at(-1) ?? "no error frame");
      judge(input, answer, { answered, eof }, tally);
      peer = await FuzzPeer.open(f, tally);
    } else {
      await onFreshConnection(f, input, tally);
    }
  }
  const eof = await peer.finish();
  if (eof !== "eof") tally.failures.push(`attacker ${name}: the stream ended with ${String(eof)}`);
}

/** Tries a `half-close` or `abort` input on a connection of its own. */
async function onFreshConnection(f: Fixture, input: FuzzInput, tally: Tally): Promise<void> {
  const fresh = await FuzzPeer.open(f, tally);
  if (input.ending === "half-close") {
    await write(fresh.conn, input.writes());
    const eof = await fresh.finish();
    judge(input, fresh.take(), { eof }, tally);
    return;
  }
  const writes = input.writes();
  const last = writes.pop();
  await write(fresh.conn, writes);
  if (last !== undefined) fresh.conn.write(last).catch(ignore);
  fresh.conn.close();
  await fresh.ended;
  await fresh.conn.closed;
  tally.aborted++;
}

/**
 * Like {@linkcode attack}, faster: up to `batch` `stream` inputs go out in
 * one write, each followed by a ping, and the pongs tell their answers
 * apart. When an input makes the server close the connection, the inputs
 * after it in its batch are tried again on a new connection.
 */
export async function attackBatched(
  f: Fixture,
  queue: Iterator<FuzzInput>,
  tally: Tally,
  name: string,
  batch: number,
): Promise<void> {
  let peer = await FuzzPeer.open(f, tally);
  const retry: FuzzInput[] = [];
  const take = (): FuzzInput | undefined => {
    if (retry.length > 0) return retry.shift();
    const next = queue.next();
    if (next.done) return undefined;
    tally.count(next.value);
    return next.value;
  };
  for (let round = 0;; round++) {
    const inputs: FuzzInput[] = [];
    let input: FuzzInput | undefined;
    while (inputs.length < batch && (input = take()) !== undefined) {
      if (input.ending === "stream") inputs.push(input);
      else await onFreshConnection(f, input, tally);
    }
    if (inputs.length === 0) break;
    const answers = await peer.syncEach(inputs.map((i) => i.writes()), `sync/${name}/${round}`);
    const closedAt = answers.indexOf(null);
    for (let i = 0; i < (closedAt === -1 ? answers.length : closedAt); i++) {
      judge(inputs[i], answers[i]!, { answered: true }, tally);
    }
    if (closedAt === -1) continue;
    // The server closed the connection at this input: see why, and carry on with a new one.
    const eof = await peer.finish();
    const answer = peer.take();
    bump(tally.closes, answer.codes.at(-1) ?? "no error frame");
    judge(inputs[closedAt], answer, { answered: false, eof }, tally);
    retry.unshift(...inputs.slice(closedAt + 1));
    peer = await FuzzPeer.open(f, tally);
  }
  const eof = await peer.finish();
  if (eof !== "eof") tally.failures.push(`attacker ${name}: the stream ended with ${String(eof)}`);
}

/** A well-behaved raw connection: keeps every line it gets, in order. */
export class GoodPeer {
  readonly conn: Conn;
  /** The lines not taken yet (a reader may splice them out as it checks them). */
  readonly lines: string[] = [];
  /** Lines received in all. */
  received = 0;
  readonly ended: Promise<unknown>;
  #waiters: [number, () => void][] = [];

  private constructor(conn: Conn) {
    this.conn = conn;
    this.ended = readLines(conn, (line) => {
      this.lines.push(isAscii(line) ? decoder.decode(line) : `(not ASCII) ${decoder.decode(line)}`);
      this.received++;
      this.#wake();
    }).finally(() => this.#wake(true));
  }

  static async open(f: Fixture): Promise<GoodPeer> {
    const conn = await f.transport.connect({ hostname: "127.0.0.1", port: f.server.addr.port });
    return new GoodPeer(conn);
  }

  send(text: string): Promise<void> {
    return this.conn.write(encoder.encode(text));
  }

  /** Resolves once `count` lines arrived in all; rejects if the stream ends first. */
  async waitFor(count: number): Promise<void> {
    if (this.received >= count) return;
    await new Promise<void>((resolve) => this.#waiters.push([count, resolve]));
    if (this.received < count) throw new Error(`Stream ended after ${this.received} lines`);
  }

  #wake(all = false): void {
    this.#waiters = this.#waiters.filter(([count, resolve]) => {
      if (!all && this.received < count) return true;
      resolve();
      return false;
    });
  }

  async finish(): Promise<void> {
    this.conn.closeWrite();
    assert.equal(await this.ended, "eof");
    this.conn.close();
  }
}
