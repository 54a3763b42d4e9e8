/**
 * The write queue and the shared buffer pool behind it: bytes go out intact
 * and in order, a buffer is never reused while a write holds it, an idle
 * queue holds no buffer, and the pool stays within its bound.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BUDGET_FREE_BYTES, MAX_WRITE_BYTES, WriteQueue } from "../src/transport/write_queue.ts";
import {
  giveBuffer,
  MAX_POOL_BYTES,
  MAX_POOLED_BUFFER_BYTES,
  MAX_POOLED_PER_SIZE,
  MIN_POOLED_BYTES,
  pooledBufferBytes,
  takeBuffer,
  trimBufferPool,
} from "../src/transport/buffer_pool.ts";
import type { Conn } from "../src/transport/types.ts";

/** A connection whose writes complete when the test says so; it keeps what it was given. */
class HeldConn implements Conn {
  readonly localAddr = { hostname: "127.0.0.1", port: 1 };
  readonly remoteAddr = { hostname: "127.0.0.1", port: 2 };
  readonly closed: Promise<void> = new Promise(() => {});
  /** Each write's bytes as given (views, not copies), and a copy taken then. */
  readonly writes: { given: Uint8Array; copy: Uint8Array }[] = [];
  #finish: (() => void)[] = [];
  hold = true;

  write(bytes: Uint8Array): Promise<void> {
    this.writes.push({ given: bytes, copy: bytes.slice() });
    if (!this.hold) return Promise.resolve();
    return new Promise((resolve) => this.#finish.push(resolve));
  }

  /** Completes the oldest held write. */
  finishOne(): void {
    this.#finish.shift()!();
  }

  get held(): number {
    return this.#finish.length;
  }

  closeWrite(): void {}
  close(): void {}
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {}
}

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function joined(conn: HeldConn): string {
  return conn.writes.map((w) => new TextDecoder().decode(w.copy)).join("");
}

test("takeBuffer hands out powers of two from 512 bytes, and exact sizes past the largest class", () => {
  assert.equal(takeBuffer(1).byteLength, MIN_POOLED_BYTES);
  assert.equal(takeBuffer(513).byteLength, 1024);
  assert.equal(takeBuffer(MAX_POOLED_BUFFER_BYTES).byteLength, MAX_POOLED_BUFFER_BYTES);
  assert.equal(takeBuffer(MAX_POOLED_BUFFER_BYTES + 1).byteLength, MAX_POOLED_BUFFER_BYTES + 1);
});

/** Empties the pool (other tests in this process may have filled it). */
function emptyPool(): void {
  trimBufferPool();
  trimBufferPool();
  assert.equal(pooledBufferBytes(), 0);
}

test("a buffer given back is handed out again, and odd sizes are not pooled", () => {
  emptyPool();
  const before = pooledBufferBytes();
  const buffer = takeBuffer(3000);
  giveBuffer(buffer);
  assert.equal(pooledBufferBytes(), before + 4096);
  assert.equal(takeBuffer(4000), buffer);
  assert.equal(pooledBufferBytes(), before);
  giveBuffer(new Uint8Array(1000));
  giveBuffer(new Uint8Array(MAX_POOLED_BUFFER_BYTES * 2));
  assert.equal(pooledBufferBytes(), before);
});

test("the pool holds at most MAX_POOL_BYTES", () => {
  emptyPool();
  const count = MAX_POOL_BYTES / MAX_POOLED_BUFFER_BYTES + 8;
  const buffers = Array.from({ length: count }, () => takeBuffer(MAX_POOLED_BUFFER_BYTES));
  for (const buffer of buffers) giveBuffer(buffer);
  assert.ok(pooledBufferBytes() <= MAX_POOL_BYTES, `${pooledBufferBytes()} bytes pooled`);
  // Leave the pool as small as it was, for the tests after this one.
  for (let i = 0; i < count; i++) takeBuffer(MAX_POOLED_BUFFER_BYTES);
});

test("the pool holds at most MAX_POOLED_PER_SIZE buffers of one size", () => {
  emptyPool();
  const buffers = Array.from({ length: MAX_POOLED_PER_SIZE + 10 }, () => takeBuffer(600));
  for (const buffer of buffers) giveBuffer(buffer);
  assert.equal(pooledBufferBytes(), MAX_POOLED_PER_SIZE * 1024);
});

test("a trim lets go of the buffers no one took since the last trim", () => {
  emptyPool();
  const buffers = Array.from({ length: 10 }, () => takeBuffer(2048));
  for (const buffer of buffers) giveBuffer(buffer);
  trimBufferPool(); // all 10 arrived since the last trim: kept
  assert.equal(pooledBufferBytes(), 10 * 2048);
  const taken = [takeBuffer(2048), takeBuffer(2048), takeBuffer(2048)];
  for (const buffer of taken) giveBuffer(buffer);
  trimBufferPool(); // 7 were never taken: dropped; the 3 in use stay
  assert.equal(pooledBufferBytes(), 3 * 2048);
  trimBufferPool();
  assert.equal(pooledBufferBytes(), 0);
});

test("an idle write queue gives its buffers back to the pool", async () => {
  const conn = new HeldConn();
  conn.hold = false;
  const queue = new WriteQueue(conn, 1 << 20);
  assert.ok(queue.enqueue(bytesOf("x".repeat(3000))));
  await queue.written();
  assert.equal(queue.pendingBytes, 0);
  assert.equal(joined(conn), "x".repeat(3000));
  // The buffer given back last is handed out first: the queue's 4 KiB buffer, with its bytes.
  const buffer = takeBuffer(3000);
  assert.equal(buffer.byteLength, 4096);
  assert.equal(new TextDecoder().decode(buffer.subarray(0, 3000)), "x".repeat(3000));
  giveBuffer(buffer);
});

test("a buffer in flight is not reused, by its queue or by another, and order is kept", async () => {
  const slow = new HeldConn();
  const fast = new HeldConn();
  fast.hold = false;
  const held = new WriteQueue(slow, 1 << 20);
  const other = new WriteQueue(fast, 1 << 20);
  let expected = "";
  const put = (queue: WriteQueue, text: string): void => {
    assert.ok(queue.enqueue(bytesOf(text)));
    if (queue === held) expected += text;
  };
  put(held, "a".repeat(700));
  put(held, "b".repeat(300));
  await round(); // the flush starts
  assert.equal(slow.held, 1);
  // While the first write is held: more for the same queue, and another queue
  // taking and giving back buffers of every size many times.
  for (let step = 0; step < 20; step++) {
    put(held, String.fromCharCode(99 + (step % 20)).repeat(100 + step * 50));
    put(other, "z".repeat(500 << (step % 8)));
    await other.written();
  }
  for (const write of slow.writes) {
    assert.deepEqual(write.given, write.copy, "bytes in flight were overwritten");
  }
  slow.hold = false;
  while (slow.held > 0) slow.finishOne();
  await held.written();
  assert.equal(joined(slow), expected);
  assert.ok(slow.writes.length >= 2);
});

test("enqueueText and enqueue interleave into the same bytes", async () => {
  const conn = new HeldConn();
  conn.hold = false;
  const queue = new WriteQueue(conn, 1 << 20);
  queue.enqueue(bytesOf("one\n"));
  queue.enqueueText("twö\n");
  queue.enqueue(bytesOf("three\n"));
  await queue.written();
  assert.equal(joined(conn), "one\ntwö\nthree\n");
});

test("queues filled in the same tick all start writing in one round", async () => {
  const conns = Array.from({ length: 3 }, () => new HeldConn());
  const queues = conns.map((conn) => new WriteQueue(conn, 1 << 20));
  queues.forEach((queue, i) => queue.enqueue(bytesOf(`to ${i}\n`)));
  assert.deepEqual(conns.map((conn) => conn.held), [0, 0, 0]);
  await round();
  assert.deepEqual(conns.map((conn) => conn.held), [1, 1, 1]);
  // Bytes queued while a write is held wait for it; then the queue writes them.
  queues[0].enqueue(bytesOf("more\n"));
  for (const conn of conns) {
    conn.hold = false;
    conn.finishOne();
  }
  await Promise.all(queues.map((queue) => queue.written()));
  assert.deepEqual(conns.map(joined), ["to 0\nmore\n", "to 1\n", "to 2\n"]);
});

test("enqueueJoined queues three parts as one frame, within the limit, and dropOldest sees one frame", async () => {
  const conn = new HeldConn();
  const queue = new WriteQueue(conn, 24);
  queue.trackFrames();
  assert.equal(queue.enqueueJoined(bytesOf("{a:"), bytesOf("1"), bytesOf("}\n"), "t"), true);
  assert.equal(queue.enqueue(bytesOf("ok\n")), true);
  assert.equal(queue.pendingBytes, 9);
  // 9 + 16 bytes would pass the limit of 24: refused whole, nothing queued.
  assert.equal(queue.enqueueJoined(bytesOf("{b:"), bytesOf("x".repeat(11)), bytesOf("}\n")), false);
  assert.equal(queue.pendingBytes, 9);
  // The joined frame is dropped whole (its tag reported); the untagged one stays.
  const dropped: string[] = [];
  assert.equal(queue.dropOldest(1, (tag) => dropped.push(tag)), 6);
  assert.deepEqual(dropped, ["t"]);
  assert.equal(queue.enqueueJoined(bytesOf("{c:"), new Uint8Array(0), bytesOf("}\n")), true);
  await round();
  conn.hold = false;
  conn.finishOne();
  await queue.written();
  assert.equal(joined(conn), "ok\n{c:}\n");
});

/**
 * Lets the queues' scheduled round of writes run: a promise reaction, or,
 * after rounds that wrote little per queue, a `setImmediate` callback.
 */
function round(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Lets the queue's scheduled flush and a finished write's follow-up run. */
async function turns(): Promise<void> {
  await round();
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

/** `count` numbered lines of about `size` bytes each, as one string. */
function lines(count: number, size: number): string {
  let text = "";
  for (let i = 0; i < count; i++) {
    text += `${String(i).padStart(8, "0")}:${"x".repeat(size - 10)}\n`;
  }
  return text;
}

test("a large batch goes out in writes of at most MAX_WRITE_BYTES, each one progress and room", async () => {
  const conn = new HeldConn();
  const queue = new WriteQueue(conn, 8 * 1024 * 1024);
  const text = lines(3000, 1000); // ~3 MB queued in one tick: one coalesced batch
  assert.ok(queue.enqueue(bytesOf(text)));
  await turns();
  let finished = 0;
  while (conn.held > 0) {
    const last = conn.writes[conn.writes.length - 1];
    assert.ok(
      last.given.byteLength <= MAX_WRITE_BYTES,
      `a write of ${last.given.byteLength} bytes`,
    );
    const pending = queue.pendingBytes;
    conn.finishOne();
    finished++;
    await turns();
    assert.equal(queue.writesDone, finished, "each finished write counts as progress");
    assert.equal(queue.pendingBytes, pending - last.given.byteLength, "its bytes made room");
  }
  assert.equal(finished, Math.ceil(text.length / MAX_WRITE_BYTES));
  assert.equal(joined(conn), text);
  await queue.written();
});

test("cutInFlight() ends the batch in flight after the line being written; what is queued next follows it", async () => {
  const conn = new HeldConn();
  const queue = new WriteQueue(conn, 8 * 1024 * 1024);
  const text = lines(3000, 1000);
  assert.ok(queue.enqueue(bytesOf(text)));
  await turns();
  const batch = queue.written();
  const settled = batch.then(() => "resolved", () => "rejected");
  conn.finishOne(); // the first 64 KiB: it ends inside a line
  await turns();
  const started = conn.writes.length; // the second write is in flight now
  queue.cutInFlight(null);
  assert.ok(queue.enqueue(bytesOf('{"action":"error","code":"slow_consumer"}\n'), true));
  while (conn.held > 0) {
    conn.finishOne();
    await turns();
  }
  const out = joined(conn).split("\n");
  assert.equal(out.pop(), "");
  assert.equal(out.pop(), '{"action":"error","code":"slow_consumer"}');
  // Whole lines, in order, from the first: the line the cut fell in was finished, no more.
  assert.deepEqual(out, text.split("\n").slice(0, out.length));
  assert.equal(out.length, Math.ceil((started * MAX_WRITE_BYTES) / 1000));
  assert.equal(conn.writes.length, started + 2); // then the rest of its line, and the notice
  assert.equal(
    await settled,
    "rejected",
    "the cut batch's waiters are told it was not all written",
  );
  assert.equal(queue.pendingBytes, 0);
});

test("queues sharing an OutboundBudget: one behind is refused past it, one holding little is let in, and every byte is given back", async () => {
  const budget = { used: 0, max: 2 * BUDGET_FREE_BYTES };
  const chunk = bytesOf("y".repeat(16 * 1024 - 1) + "\n");
  const slowConn = new HeldConn();
  const slow = new WriteQueue(slowConn, 1 << 20, null, budget);
  let admitted = 0;
  while (slow.enqueue(chunk)) admitted++;
  // Let in up to the budget, then refused far under its own 1 MiB limit.
  assert.equal(admitted, budget.max / chunk.byteLength);
  assert.equal(budget.used, slow.pendingBytes);
  assert.equal(budget.used, budget.max);
  // A queue holding less than BUDGET_FREE_BYTES is let in past the full budget.
  const otherConn = new HeldConn();
  const other = new WriteQueue(otherConn, 1 << 20, null, budget);
  assert.ok(other.enqueue(chunk));
  assert.equal(budget.used, budget.max + chunk.byteLength);
  // Dropped bytes are given back at once.
  assert.equal(slow.discardQueued(null), budget.max);
  assert.equal(budget.used, chunk.byteLength);
  assert.ok(slow.enqueue(chunk), "room again");
  // So are written ones, write by write.
  await round();
  slowConn.hold = false;
  otherConn.hold = false;
  while (slowConn.held > 0) slowConn.finishOne();
  while (otherConn.held > 0) otherConn.finishOne();
  await Promise.all([slow.written(), other.written()]);
  assert.equal(budget.used, 0);
});
