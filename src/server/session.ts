/**
 * One client connection on the server: reads and decodes its lines, answers
 * bad ones with error frames, queues what it is sent, and closes once.
 *
 * @module
 */

import { ErrorCode, FrameError } from "../errors.ts";
import { grace, ignore, RESOLVED } from "../_async.ts";
import type { Logger } from "../logger.ts";
import type { ServerLimits } from "../limits.ts";
import type { AsciiStrings } from "../protocol/ascii_strings.ts";
import { ClientLine } from "../protocol/client_line.ts";
import { encodeErrorFrame, encodeLine, encodeOkFrame } from "../protocol/codec.ts";
import type { ClientFrame, FrameId, SlowConsumerPolicy } from "../protocol/frames.ts";
import { LineDecoder } from "../protocol/line_decoder.ts";
import type { Addr, Conn } from "../transport/types.ts";
import { WriteQueue } from "../transport/write_queue.ts";
import type { Outlet } from "./route.ts";
import type { Liveness } from "./watchdog.ts";
import { Backpressure } from "./backpressure.ts";
import { DropLedger } from "./slow_consumer.ts";
import type { SharedBudget } from "./shared_budget.ts";
import type { ServerCounters } from "./stats.ts";

/** What every session of a server shares: its limits, policy, logger and counters. */
export interface SessionSettings {
  readonly limits: ServerLimits;
  /** The server's slow-consumer policy. */
  readonly policy: SlowConsumerPolicy;
  readonly logger: Logger;
  readonly counters: ServerCounters;
  /** The text of the topics scanned publishes name, shared by the server's sessions. */
  readonly topics: AsciiStrings;
  /** The bytes of unfinished lines, summed over the server's sessions (`maxPartialLineBytes`). */
  readonly partialLines: SharedBudget;
  /** The bytes queued to be written, summed over the server's sessions (`maxOutboundTotalBytes`). */
  readonly outbound: SharedBudget;
}

/** Where a session hands what it reads: the connection it carries. */
export interface SessionOwner {
  /**
   * Whether lines must be decoded into frame objects (for a handler, or
   * before authentication); else a plain publish goes to `publish()` as bytes.
   */
  readonly wantsFrames: boolean;
  /**
   * Runs the handler and routing for one valid frame; a promise pauses
   * reading. For a publish, `json` holds the message's own JSON bytes, when
   * they are pure ASCII, until the call returns; otherwise it is `null`.
   */
  frame(frame: ClientFrame, json: Uint8Array | null): void | Promise<void>;
  /** Routes a publish read without a frame object; `json` is valid until the call returns. */
  publish(topic: string, json: Uint8Array, id: FrameId | undefined): void;
  /**
   * Called once, when the session starts closing, with why: the error code
   * sent to the client (`auth_timeout`, `slow_consumer`, `ping_timeout`,
   * `line_too_long`, `server_shutdown`...), `client_closed` when the client
   * ended the connection, `write_failed`, or `session_failed`.
   */
  closed(reason: string): void;
}

/**
 * Input handled before the writes it queued are let go: a runtime that reads
 * half a megabyte at once would otherwise make each subscriber's queue hold
 * that much before its first write.
 */
const SLICE_BYTES = 64 * 1024;

const OPEN = 0;
const CLOSING = 1;
const CLOSED = 2;

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  }
  return true;
}

/** A closing notice: an error frame sent just before closing. */
export interface Notice {
  /** The error code. */
  code: string;
  /** The sentence. */
  text: string;
}

/**
 * One client connection's input and output: reads its lines and hands them
 * to its owner, writes what it is sent, closes once. It keeps no routing or
 * handshake state.
 */
export class Session implements Outlet {
  readonly id: number;
  readonly remoteAddr: Addr;
  /** Chunks read so far: the watchdog sees the client is alive by it. */
  chunksIn = 0;
  /** Bytes read so far (added per chunk). */
  bytesIn = 0;
  /** Lines completed so far (blank ones included): the watchdog sees lines progress by it. */
  linesDone = 0;
  /** Valid frames read so far. */
  framesIn = 0;
  /** Bytes its unfinished line holds, as counted against `maxPartialLineBytes`. */
  heldLineBytes = 0;
  /** The watchdog's notes. */
  readonly liveness: Liveness;
  readonly #conn: Conn;
  readonly #host: SessionSettings;
  readonly #owner: SessionOwner;
  readonly #queue: WriteQueue;
  readonly #ledger: DropLedger;
  /** A notice that did not fit under the outbound limit yet: queued after the next write. */
  #heldNotice: Uint8Array | null = null;
  // Made on first use: most connections never drop a message.
  #onDrop: ((topic: string) => void) | null = null;
  readonly #flow: Backpressure;
  #state = OPEN;
  #closing: Promise<void> | null = null;
  #readDone: Promise<void> = Promise.resolve();

  /**
   * @param id A number unique within the server.
   * @param conn The connection.
   * @param host The server's settings.
   * @param owner Where what is read goes.
   */
  constructor(id: number, conn: Conn, host: SessionSettings, owner: SessionOwner) {
    this.id = id;
    this.#conn = conn;
    this.#host = host;
    this.#owner = owner;
    this.remoteAddr = conn.remoteAddr;
    this.#queue = new WriteQueue(
      conn,
      host.limits.maxOutboundBytes,
      host.counters,
      host.outbound,
    );
    this.#queue.onError = () => void this.close(undefined, "write_failed");
    this.#queue.onWritten = () => this.#written();
    this.#flow = new Backpressure(host.limits);
    this.#ledger = new DropLedger(host.policy);
    if (host.policy === "drop-oldest") this.#queue.trackFrames();
    const now = Date.now();
    this.liveness = {
      openedAt: now,
      heardAt: now,
      seenChunks: 0,
      pingsOut: 0,
      seenWrites: 0,
      stalledAt: 0,
      seenLines: 0,
      partialAt: 0,
    };
  }

  /** Whether deliveries are still accepted. */
  get open(): boolean {
    return this.#state === OPEN;
  }

  /** Bytes queued or in flight to this client. */
  get pendingBytes(): number {
    return this.#queue.pendingBytes;
  }

  /** Whether a write is in flight. */
  get writing(): boolean {
    return this.#queue.writing;
  }

  /** Writes completed so far. */
  get writesDone(): number {
    return this.#queue.writesDone;
  }

  /** Bytes written to the client so far. */
  get bytesOut(): number {
    return this.#queue.bytesWritten;
  }

  /** Prepares for a subscription's own `policy`: drop-oldest needs the queue to remember its frames. */
  usePolicy(policy: SlowConsumerPolicy): void {
    if (policy === "drop-oldest") this.#queue.trackFrames();
  }

  /** Starts reading; returns at once. */
  start(): void {
    this.#readDone = this.#read();
  }

  /**
   * Queues encoded bytes (a delivery shared between subscribers; `topic`
   * tells the slow-consumer policy what it is, `policy` is that of the
   * subscriptions it matched, when they have one). Over the outbound limit
   * the policy decides: disconnect, drop the oldest queued deliveries, or
   * drop this one. A frame without a topic disconnects.
   */
  deliver(
    bytes: Uint8Array,
    topic: string | null = null,
    policy: SlowConsumerPolicy | undefined = undefined,
  ): boolean {
    if (this.#state !== OPEN) return false;
    if (this.#queue.enqueue(bytes, false, topic)) {
      this.#flow.queued(this.#queue.pendingBytes);
      return true;
    }
    policy = topic === null ? "disconnect" : policy ?? this.#ledger.defaultPolicy;
    if (policy === "disconnect") {
      const limits = this.#host.limits;
      // Refused under its own limit: the server-wide total was reached.
      this.disconnectSlow(
        this.#queue.pendingBytes + bytes.byteLength <= limits.maxOutboundBytes
          ? `Outbound queues exceeded ${limits.maxOutboundTotalBytes} bytes server-wide`
          : undefined,
      );
      return false;
    }
    if (policy === "drop-oldest") {
      // Free an eighth of the queue at least, so that a flood does not move the queue per message.
      const wanted = Math.max(bytes.byteLength, this.#host.limits.maxOutboundBytes >> 3);
      this.#queue.dropOldest(
        wanted,
        this.#onDrop ??= (topic) => this.#recordDrop(topic, "drop-oldest"),
      );
      if (this.#queue.enqueue(bytes, false, topic)) {
        this.#sendNotice();
        return true;
      }
    }
    this.#recordDrop(topic!, policy);
    return false;
  }

  /**
   * Queues the delivery `head` + `body` + `tail` when it fits under the
   * outbound limit, without joining the parts first. `false` when it does
   * not (or the session is closing): the caller then goes through
   * {@linkcode Session.deliver}, whose slow-consumer policy decides.
   */
  deliverJoined(head: Uint8Array, body: Uint8Array, tail: Uint8Array, topic: string): boolean {
    if (this.#state !== OPEN || !this.#queue.enqueueJoined(head, body, tail, topic)) return false;
    this.#flow.queued(this.#queue.pendingBytes);
    return true;
  }

  /** Whether it fell behind and may hold back the publishers that feed it (`backpressure.ts`). */
  get behind(): boolean {
    return this.#flow.behind;
  }

  /** Resolves once it no longer holds publishers back: drained, closed, or `publisherPauseMs` passed. */
  drained(): Promise<void> {
    return this.#flow.drained();
  }

  /** As a publisher: reads no further line until `subscriber`, which fell behind, drained. */
  holdFor(subscriber: Outlet): void {
    this.#flow.holdFor(subscriber);
  }

  /** After each write: the notices that waited for room, and whether the queue drained. */
  #written(): void {
    if (this.#ledger.pending > 0) this.#sendNotice();
    if (this.#heldNotice !== null) this.notice(this.#heldNotice);
    this.#flow.written(this.#queue.pendingBytes);
  }

  /** Whether `bytes` more would fit under the outbound limit. */
  hasRoom(bytes: number): boolean {
    return this.#state === OPEN &&
      this.#queue.pendingBytes + bytes <= this.#host.limits.maxOutboundBytes;
  }

  /** Sends one JSON object as a line, subject to the outbound limit. */
  send(frame: Record<string, unknown>): boolean {
    return this.deliver(encodeLine(frame));
  }

  /**
   * Queues a notice, a control frame about no frame of the client's (the
   * backplane's), under the outbound limit, like the `slow_consumer` notice:
   * when it does not fit now it waits for the next write to make room, and
   * a newer notice replaces one still waiting. It never makes the
   * connection a slow consumer, and holds one frame at most.
   */
  notice(bytes: Uint8Array): void {
    if (this.#state !== OPEN) return;
    this.#heldNotice = this.#queue.enqueue(bytes) ? null : bytes;
  }

  /** Answers a frame: an error frame for a refusal (code, text), else `ok` when it has an `id`. */
  answer(id: FrameId | undefined, refusal: readonly [string, string] | null): void {
    if (refusal !== null) this.sendError(refusal[0], refusal[1], false, id);
    else if (id !== undefined) this.sendOk(id);
  }

  /** Answers a frame's `id` with `ok`. */
  sendOk(id: FrameId): void {
    if (this.#state === OPEN && !this.#queue.enqueue(encodeOkFrame(id))) this.disconnectSlow();
  }

  /**
   * Sends an error frame. Like a delivery it counts against the outbound
   * limit (a client that sends bad lines and never reads is a slow
   * consumer); only the closing notice may pass the limit.
   */
  sendError(code: string, text: string, closing = false, id?: FrameId): void {
    if (this.#state === CLOSED || (this.#state === CLOSING && !closing)) return;
    if (this.#queue.enqueue(encodeErrorFrame(code, text, id), closing)) {
      this.#host.counters.errorsSent++;
    } else if (!closing) {
      this.disconnectSlow();
    }
  }

  /**
   * Closes once: flushes (bounded), with `notice` as the last frame when
   * given; `reason` says why when there is no notice (default `closed`); with
   * `flush` false, closes at once (nothing could reach the peer).
   */
  close(notice?: Notice, reason = "closed", flush = true): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#state = CLOSING;
    this.#flow.close();
    this.#owner.closed(notice?.code ?? reason);
    if (notice !== undefined) this.sendError(notice.code, notice.text, true);
    this.#closing = flush ? this.#finish() : this.#abort();
    return this.#closing;
  }

  #abort(): Promise<void> {
    this.#queue.discardQueued(null);
    this.#conn.close();
    this.#state = CLOSED;
    return RESOLVED;
  }

  #recordDrop(topic: string, policy: SlowConsumerPolicy): void {
    this.#ledger.record(topic, policy);
    const counters = this.#host.counters;
    counters.droppedMessages++;
    if (policy === "drop-oldest") counters.droppedOldest++;
    else counters.droppedNewest++;
    if (this.#ledger.pending === 1) {
      this.#host.logger.warn("Dropping messages for a slow consumer", { id: this.id, policy });
    }
  }

  /** Queues the `slow_consumer` notice, or waits for the next write to make room for it. */
  #sendNotice(): void {
    if (this.#ledger.pending === 0 || this.#state !== OPEN) return;
    if (!this.#queue.enqueue(this.#ledger.notice())) return;
    this.#ledger.reset();
    this.#host.counters.slowConsumerNotices++;
  }

  /**
   * Disconnects the client as a slow consumer: what is queued is dropped,
   * and so is the rest of the write in flight past the line being written;
   * then a `slow_consumer` error frame goes out if the socket takes those
   * bytes within `shutdownGraceMs`.
   */
  disconnectSlow(text?: string): void {
    if (this.#state !== OPEN) return;
    this.#host.counters.slowConsumers++;
    this.#host.logger.warn("Slow consumer disconnected", {
      id: this.id,
      pendingBytes: this.#queue.pendingBytes,
    });
    this.#queue.discardQueued(null);
    // The notice goes out after the line being written, not after the whole backlog in flight.
    this.#queue.cutInFlight(null);
    void this.close({
      code: ErrorCode.SlowConsumer,
      text: text ?? `Outbound queue exceeded ${this.#host.limits.maxOutboundBytes} bytes`,
    });
  }

  /** Flushes (bounded), half-closes, waits for the peer's end (bounded), closes. */
  async #finish(): Promise<void> {
    const within = grace(this.#host.limits.shutdownGraceMs);
    try {
      await Promise.race([this.#queue.written().catch(ignore), within.elapsed]);
      this.#conn.closeWrite();
      await Promise.race([this.#readDone, within.elapsed]);
    } finally {
      within.clear();
      this.#conn.close();
      this.#state = CLOSED;
    }
    // Closing the connection ends the read loop, unless it waits on an async
    // handler: that handler's frame is then dropped (the session is closed),
    // and the close does not wait for it.
  }

  async #read(): Promise<void> {
    const decoder = new LineDecoder(this.#host.limits.maxLineBytes);
    const lines = new ClientLine(this.#host.limits, this.#host.topics);
    try {
      for await (const chunk of this.#conn) {
        // While closing, input is read and dropped so that the close is clean.
        if (this.#state !== OPEN) {
          if (this.heldLineBytes > 0) this.#holdLine(0);
          decoder.flush();
          continue;
        }
        this.chunksIn++;
        this.bytesIn += chunk.byteLength;
        this.#host.counters.bytesIn += chunk.byteLength;
        decoder.push(chunk);
        let handled = 0;
        try {
          for (;;) {
            // A publish the scanner vouches for is read in one pass, its end found by the scan.
            const unread = decoder.unread;
            const scanned = unread !== null && this.#scan(decoder, unread, lines);
            if (!scanned && !decoder.advance()) break;
            const { lineStart, lineEnd } = decoder;
            const pending = scanned
              ? this.#decoded(lines)
              : this.#line(lines, decoder.lineBytes, lineStart, lineEnd, unread === null);
            if (pending !== undefined) await pending;
            if (this.#state !== OPEN) break;
            // Publisher backpressure: subscribers it fed fell behind, so read no more for now.
            const held = this.#flow.heldBack();
            if (held !== null) {
              await held;
              if (this.#state !== OPEN) break;
            }
            handled += lineEnd - lineStart + 1;
            if (handled >= SLICE_BYTES) {
              // Let the writes queued so far start (a microtask queued before this one;
              // after rounds that wrote little per queue, they wait for the input at hand).
              handled = 0;
              await RESOLVED;
            }
          }
        } catch (error) {
          // line_too_long, the decoder's only error: the stream cannot be resynchronised.
          if (!(error instanceof FrameError)) throw error;
          this.#host.logger.warn("Closing connection", { id: this.id, code: error.code });
          void this.close({ code: error.code, text: error.message });
        }
        // The chunk's lines are handled: nothing keeps it now.
        lines.release();
        if (!this.#holdLine(this.#state === OPEN ? decoder.heldBytes : 0)) {
          decoder.flush(); // the line is lost with the connection: its bytes go now
          void this.close({
            code: ErrorCode.InputBudget,
            text: `Unfinished lines would exceed ${this.#host.partialLines.max} bytes server-wide`,
          });
        }
      }
      if (this.#state === OPEN && decoder.flush() !== null) this.#host.counters.partialLines++;
    } catch (error) {
      this.#host.logger.error("Session failed", { id: this.id, error });
      void this.close(undefined, "session_failed");
    }
    this.#holdLine(0);
    void this.close(undefined, "client_closed");
  }

  /**
   * Counts `bytes` as what this session's unfinished line holds, against the
   * server-wide budget: the one place the share changes. `false` when it
   * would pass the budget (the share is then released: the session closes).
   */
  #holdLine(bytes: number): boolean {
    if (this.#host.partialLines.move(this.heldLineBytes, bytes)) {
      this.heldLineBytes = bytes;
      return true;
    }
    this.#host.partialLines.move(this.heldLineBytes, 0);
    this.heldLineBytes = 0;
    return false;
  }

  /** Tries to scan a publish line from `unread` into `lines`; on success the decoder is past it. */
  #scan(decoder: LineDecoder, unread: Uint8Array, lines: ClientLine): boolean {
    const newline = lines.scanLine(
      unread,
      decoder.unreadStart,
      unread.byteLength,
      this.#host.limits.maxLineBytes,
      this.#owner.wantsFrames,
    );
    if (newline < 0) return false;
    decoder.advance(newline);
    this.#host.counters.linesIn++;
    this.linesDone++;
    return true;
  }

  /**
   * Handles the line `bytes[start, end)` (`scan`: whether the scanner has
   * yet to try it); returns a promise when reading must wait for it.
   */
  #line(
    lines: ClientLine,
    bytes: Uint8Array,
    start: number,
    end: number,
    scan: boolean,
  ): void | Promise<void> {
    const host = this.#host;
    host.counters.linesIn++;
    this.linesDone++;
    if (isBlank(bytes, start, end)) return;
    try {
      lines.decode(bytes, start, end, this.#owner.wantsFrames, scan);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.sendError(error.code, error.message, false, error.id);
      return;
    }
    return this.#decoded(lines);
  }

  /** Handles the frame (or scanned publish) `lines` read last. */
  #decoded(lines: ClientLine): void | Promise<void> {
    const host = this.#host;
    host.counters.framesIn++;
    this.framesIn++;
    const { frame, json } = lines;
    lines.frame = null;
    lines.json = null;
    if (frame !== null) return this.#owner.frame(frame, json);
    this.#owner.publish(lines.topic, json!, lines.id);
  }
}
