/**
 * A bounded, coalescing write queue over a {@linkcode Conn}: the one place
 * where bytes waiting to go out are held and counted.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { type Deferred, handled, RESOLVED } from "../_async.ts";
import { utf8Length } from "../_utf8.ts";
import { giveBuffer, MAX_POOLED_BUFFER_BYTES, takeBuffer } from "./buffer_pool.ts";
import type { Conn } from "./types.ts";

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const LF = 0x0a;

/**
 * The most bytes handed to the connection in one `write()`: a large backlog
 * goes out in writes of this size, so progress (and room in the queue) is
 * seen at least every 64 KiB, whatever the coalesced batch holds.
 */
export const MAX_WRITE_BYTES: number = 64 * 1024;

/**
 * A round of writes that averaged fewer bytes than this per queue (or fewer
 * than {@linkcode SPREAD_MANY_BYTES} over at least {@linkcode SPREAD_QUEUES}
 * queues) makes the next round wait for the input at hand to be read.
 */
const SPREAD_BYTES = 2048;
const SPREAD_QUEUES = 16;
const SPREAD_MANY_BYTES = 16 * 1024;

/**
 * Runs `callback` once the input at hand is read: `setImmediate` (Deno, Bun,
 * Node: after the event loop's I/O callbacks), a timer in a browser.
 */
const afterInput: (callback: () => void) => unknown =
  (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate ??
    ((callback: () => void) => setTimeout(callback, 0));

/**
 * Unwritten bytes of several {@linkcode WriteQueue}s together, and the most
 * they may hold: a server's outbound budget.
 */
export interface OutboundBudget {
  /** Bytes queued or in flight, summed over the queues that share it. */
  used: number;
  /** The most bytes `used` may reach through queues already behind. */
  readonly max: number;
}

/**
 * A queue holding fewer unwritten bytes than this is let in past a full
 * {@linkcode OutboundBudget}: the budget holds back only queues that are behind.
 */
export const BUDGET_FREE_BYTES: number = 64 * 1024;

/** A byte count several {@linkcode WriteQueue}s add their writes to (a server's counters). */
export interface ByteTally {
  /** Bytes written. */
  bytesOut: number;
}

/**
 * Queues bytes for one connection, bounded in bytes. Enqueued bytes are
 * copied into a buffer the queue owns, so the queue holds exactly what it
 * counts (a shared delivery is not pinned by a slow reader) and no object is
 * allocated per enqueue. Bytes queued in the same tick, or while a write is
 * in flight, go out together in one write; two buffers alternate, one being
 * written while the other fills. Buffers come from a shared pool and go back
 * to it once everything is written, so an idle queue holds none. A batch
 * is written in pieces of at most {@linkcode MAX_WRITE_BYTES}.
 *
 * @example
 * ```ts ignore
 * const queue = new WriteQueue(conn, 8 * 1024 * 1024);
 * if (!queue.enqueue(bytes)) {
 *   // over the limit: the caller decides (slow consumer, buffer full, ...)
 * }
 * await queue.written();
 * ```
 */
export class WriteQueue {
  /** Called once when a write fails; the queue then refuses everything. */
  onError: ((error: unknown) => void) | null = null;
  /** Called after each write completes (room was made). */
  onWritten: (() => void) | null = null;
  readonly #conn: Conn;
  readonly #maxBytes: number;
  #buffer: Uint8Array = EMPTY;
  #length = 0;
  #spare: Uint8Array | null = null;
  #inFlight = 0;
  #writing = false;
  #scheduled = false;
  #error: unknown = null;
  #queuedBatch: Deferred<void> | null = null;
  #inFlightBatch: Deferred<void> | null = null;
  #writesDone = 0;
  // The size of recent batches (the last one's, or more when an earlier one
  // was larger: it decays by an eighth a batch): a batch that starts from no
  // buffer takes one this big from the pool, rather than growing from the
  // smallest (each doubling copies what is queued). Batches whose size
  // swings from read to read then rarely grow.
  #lastBatch = 0;
  #bytesWritten = 0;
  readonly #tally: ByteTally | null;
  readonly #budget: OutboundBudget | null;
  // What this queue last added to the budget's `used`.
  #reported = 0;
  /** Set by cutInFlight(): the batch in flight stops at the end of the line being written. */
  #cutting = false;
  #cutReason: unknown = null;
  // The frames queued (not in flight), for dropOldest(): sizes and tags, or
  // null until trackFrames() is called.
  #sizes: number[] | null = null;
  #tags: (string | null)[] = [];

  /**
   * @param conn The connection to write to.
   * @param maxBytes The most bytes held (queued plus in flight).
   * @param tally A count shared by several queues: each write adds its bytes to `bytesOut`.
   * @param budget A bound shared by several queues: see {@linkcode OutboundBudget}.
   */
  constructor(
    conn: Conn,
    maxBytes: number,
    tally: ByteTally | null = null,
    budget: OutboundBudget | null = null,
  ) {
    this.#conn = conn;
    this.#maxBytes = maxBytes;
    this.#tally = tally;
    this.#budget = budget;
  }

  /** Bytes queued or in flight. */
  get pendingBytes(): number {
    return this.#length + this.#inFlight;
  }

  /** Whether a write failed; the queue then refuses everything. */
  get failed(): boolean {
    return this.#error !== null;
  }

  /** Whether a write is in flight. */
  get writing(): boolean {
    return this.#writing;
  }

  /**
   * How many writes completed so far, each of at most
   * {@linkcode MAX_WRITE_BYTES}: a watchdog sees progress by it.
   */
  get writesDone(): number {
    return this.#writesDone;
  }

  /** Bytes written so far (counted once per write, not per frame). */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /**
   * From now on, remember where each queued frame starts and its tag, so
   * that {@linkcode WriteQueue.dropOldest} can remove whole frames. Bytes
   * already queued count as one untagged frame.
   */
  trackFrames(): void {
    if (this.#sizes !== null) return;
    this.#sizes = this.#length > 0 ? [this.#length] : [];
    this.#tags = this.#length > 0 ? [null] : [];
  }

  /**
   * Removes the oldest queued (not in flight) frames that carry a tag until
   * at least `bytes` are freed; untagged frames are kept. Calls `onDrop` with
   * each dropped frame's tag. Needs {@linkcode WriteQueue.trackFrames}.
   *
   * @returns The bytes freed.
   */
  dropOldest(bytes: number, onDrop: (tag: string) => void): number {
    const sizes = this.#sizes;
    if (sizes === null) return 0;
    const tags = this.#tags;
    const buffer = this.#buffer;
    let freed = 0;
    let read = 0;
    let write = 0;
    let kept = 0;
    let at = 0;
    for (; at < sizes.length && freed < bytes; at++) {
      const size = sizes[at];
      const tag = tags[at];
      if (tag !== null) {
        freed += size;
        onDrop(tag);
      } else {
        if (write !== read) buffer.copyWithin(write, read, read + size);
        sizes[kept] = size;
        tags[kept] = null;
        kept++;
        write += size;
      }
      read += size;
    }
    if (freed === 0) return 0;
    // The rest moves down in one copy.
    buffer.copyWithin(write, read, this.#length);
    sizes.splice(kept, at - kept);
    tags.splice(kept, at - kept);
    this.#length -= freed;
    this.#report();
    return freed;
  }

  /**
   * Copies `bytes` into the queue unless that would hold more than the limit
   * (or the queue failed). With `force`, queues past the limit: for a final
   * notice.
   *
   * @returns Whether the bytes were queued.
   */
  enqueue(bytes: Uint8Array, force = false, tag: string | null = null): boolean {
    const size = bytes.byteLength;
    if (!this.#admit(size, force)) return false;
    this.#reserve(size);
    this.#buffer.set(bytes, this.#length);
    this.#queued(size, tag);
    return true;
  }

  /**
   * Like `enqueue()` for one frame given in three parts (`head`, `body`,
   * `tail`), copied one after the other: the caller needs no buffer to join
   * them in first.
   *
   * @returns Whether the frame was queued.
   */
  enqueueJoined(
    head: Uint8Array,
    body: Uint8Array,
    tail: Uint8Array,
    tag: string | null = null,
  ): boolean {
    const size = head.byteLength + body.byteLength + tail.byteLength;
    if (!this.#admit(size, false)) return false;
    this.#reserve(size);
    const buffer = this.#buffer;
    const at = this.#length + head.byteLength;
    buffer.set(head, this.#length);
    buffer.set(body, at);
    buffer.set(tail, at + body.byteLength);
    this.#queued(size, tag);
    return true;
  }

  /** Like `enqueue()`, for text: encoded as UTF-8 straight into the queue. */
  enqueueText(text: string, force = false): boolean {
    // 3 bytes per UTF-16 unit is the most UTF-8 can take; count exactly only near the limit.
    const worst = text.length * 3;
    const fits = this.pendingBytes + worst <= this.#maxBytes;
    if (!this.#admit(fits ? 0 : utf8Length(text), force)) return false;
    this.#reserve(worst);
    const { written } = encoder.encodeInto(text, this.#buffer.subarray(this.#length));
    this.#queued(written, null);
    return true;
  }

  /**
   * Drops what is queued but not yet in flight; whoever awaits `written()`
   * for those bytes gets `reason`. Returns how many bytes were dropped.
   */
  discardQueued(reason: unknown): number {
    const dropped = this.#length;
    this.#length = 0;
    this.#report();
    this.#clearLog();
    this.#queuedBatch?.reject(reason);
    this.#queuedBatch = null;
    return dropped;
  }

  /**
   * Drops the rest of the batch in flight once the line being written is
   * whole (the bytes are lines ended by `\n`: the peer never sees half a
   * line): whatever is queued next goes out after at most that line and
   * the rest of the current write. Whoever awaits `written()` for the
   * batch gets `reason`.
   */
  cutInFlight(reason: unknown): void {
    if (this.#inFlight === 0) return;
    this.#cutting = true;
    this.#cutReason = reason;
  }

  /**
   * Resolves once every byte queued so far is handed to the connection;
   * rejects with a `ConnectionClosedError` if a write fails first.
   */
  written(): Promise<void> {
    if (this.#error !== null) return Promise.reject(this.#closedError());
    if (this.#length > 0) return (this.#queuedBatch ??= handled<void>()).promise;
    if (this.#writing) return (this.#inFlightBatch ??= handled<void>()).promise;
    return RESOLVED;
  }

  /** Counts `size` bytes just copied in as one frame, and schedules the write. */
  #queued(size: number, tag: string | null): void {
    this.#length += size;
    this.#report();
    if (this.#sizes !== null) this.#log(size, tag);
    this.#schedule();
  }

  #log(size: number, tag: string | null): void {
    this.#sizes!.push(size);
    this.#tags.push(tag);
  }

  #clearLog(): void {
    if (this.#sizes === null) return;
    this.#sizes.length = 0;
    this.#tags.length = 0;
  }

  #admit(size: number, force: boolean): boolean {
    if (this.#error !== null) return false;
    if (force) return true;
    const pending = this.pendingBytes;
    if (pending + size > this.#maxBytes) return false;
    const budget = this.#budget;
    return budget === null || pending < BUDGET_FREE_BYTES || budget.used + size <= budget.max;
  }

  /** Brings the budget's `used` up to date with this queue's unwritten bytes. */
  #report(): void {
    const budget = this.#budget;
    if (budget === null) return;
    const pending = this.#length + this.#inFlight;
    budget.used += pending - this.#reported;
    this.#reported = pending;
  }

  #reserve(size: number): void {
    const needed = this.#length + size;
    if (needed <= this.#buffer.byteLength) return;
    const spare = this.#spare;
    if (this.#length === 0 && spare !== null && spare.byteLength >= needed) {
      this.#release(this.#buffer);
      this.#buffer = spare;
      this.#spare = null;
      return;
    }
    const hint = this.#length === 0 ? Math.min(this.#lastBatch, MAX_POOLED_BUFFER_BYTES) : 0;
    const grown = takeBuffer(Math.max(this.#buffer.byteLength * 2, needed, hint));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#release(this.#buffer);
    this.#buffer = grown;
  }

  #release(buffer: Uint8Array | null): void {
    // The pool takes no buffer smaller than its first size, so not EMPTY.
    if (buffer !== null) giveBuffer(buffer);
  }

  #schedule(): void {
    if (this.#writing || this.#scheduled) return;
    this.#scheduled = true;
    const due = WriteQueue.#due;
    due.push(this);
    if (due.length !== 1) return;
    // A promise reaction, not queueMicrotask(): Node wraps each of those in an AsyncResource.
    if (WriteQueue.#spread) afterInput(WriteQueue.#flushDue);
    else void RESOLVED.then(WriteQueue.#flushDue);
  }

  // The queues with bytes to write, flushed in one round for all: a publish
  // that reaches a hundred subscribers schedules one, not a hundred. A queue
  // scheduled while they are flushed joins this round.
  static #due: WriteQueue[] = [];
  // How the next round is scheduled. When the last round wrote little per
  // queue (many publishes each for a different connection), it runs after
  // the input already at hand is read (setImmediate), so each connection
  // gets the publishes of several reads in one write rather than one write
  // per delivery; otherwise at once, after the read that queued them (a
  // microtask). While spreading, a queue whose write completed with more
  // queued meanwhile joins the next round too, rather than writing again
  // at once (where writes complete a tick later, as on Deno, most writes
  // start that way).
  static #spread = false;
  static #flushDue = (): void => {
    const due = WriteQueue.#due;
    let bytes = 0;
    for (let i = 0; i < due.length; i++) bytes += due[i].#length;
    const count = due.length;
    WriteQueue.#spread = bytes < count * SPREAD_BYTES ||
      (count >= SPREAD_QUEUES && bytes < count * SPREAD_MANY_BYTES);
    for (let i = 0; i < due.length; i++) {
      const queue = due[i];
      queue.#scheduled = false;
      void queue.#flush();
    }
    due.length = 0;
  };

  async #flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    let again = false;
    try {
      while (this.#length > 0) {
        const out = this.#buffer;
        const size = this.#length;
        this.#buffer = this.#spare ?? EMPTY;
        this.#spare = null;
        this.#length = 0;
        this.#clearLog();
        this.#inFlight = size;
        this.#lastBatch = Math.max(size, this.#lastBatch - (this.#lastBatch >> 3));
        this.#inFlightBatch = this.#queuedBatch;
        this.#queuedBatch = null;
        let cut = false;
        try {
          cut = await this.#writeBatch(out, size);
        } finally {
          this.#inFlight = 0;
          this.#report();
          this.#cutting = false;
        }
        if (this.#spare === null) this.#spare = out;
        else this.#release(out);
        const done = this.#inFlightBatch;
        this.#inFlightBatch = null;
        if (cut) done?.reject(this.#cutReason);
        else done?.resolve();
        this.#cutReason = null;
        this.onWritten?.();
        // Spreading: what was queued meanwhile goes with the next round,
        // after the input at hand, rather than at once.
        if (WriteQueue.#spread && this.#length > 0) {
          again = true;
          return;
        }
      }
      // Idle (nothing queued): the buffers go back to the pool.
      this.#release(this.#spare);
      this.#spare = null;
      this.#release(this.#buffer);
      this.#buffer = EMPTY;
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#writing = false;
      if (again) this.#schedule();
    }
  }

  /**
   * Writes `out[0, size)` in pieces of at most `MAX_WRITE_BYTES`, each
   * counted as progress; returns whether `cutInFlight()` stopped it early.
   */
  async #writeBatch(out: Uint8Array, size: number): Promise<boolean> {
    let at = 0;
    while (at < size) {
      let end = Math.min(size, at + MAX_WRITE_BYTES);
      if (this.#cutting) {
        if (out[at - 1] === LF) return true;
        // Finish the line being written, and no more.
        const newline = out.indexOf(LF, at);
        end = newline === -1 || newline >= size ? size : newline + 1;
      }
      await this.#conn.write(out.subarray(at, end));
      this.#bytesWritten += end - at;
      if (this.#tally !== null) this.#tally.bytesOut += end - at;
      at = end;
      this.#inFlight = size - at;
      this.#report();
      if (at < size) {
        // Room was made: tell whoever waits for it, as after a whole batch.
        this.#writesDone++;
        this.onWritten?.();
      }
    }
    this.#writesDone++;
    return false;
  }

  #closedError(): ConnectionClosedError {
    const error = this.#error;
    return error instanceof ConnectionClosedError
      ? error
      : new ConnectionClosedError("Connection is closed", { cause: error });
  }

  #fail(error: unknown): void {
    this.#error = error ?? new ConnectionClosedError();
    const closed = this.#closedError();
    this.discardQueued(closed);
    this.#buffer = EMPTY;
    this.#spare = null;
    this.#inFlightBatch?.reject(closed);
    this.#inFlightBatch = null;
    this.onError?.(error);
  }
}
