/**
 * Publisher backpressure for one session. As a subscriber, the session
 * falls behind once its outbound queue holds half of `maxOutboundBytes`,
 * and holds back the publishers that feed it until the queue drained to a
 * quarter, for at most `publisherPauseMs`. As a publisher, it remembers the
 * subscribers its last line fed that fell behind, and its reading waits
 * for them. A flood then goes at the pace of the subscribers that keep up,
 * and a stalled one costs its publishers one bounded pause.
 *
 * @module
 */

import { type Deferred, deferred, RESOLVED } from "../_async.ts";
import type { ServerLimits } from "../limits.ts";

/** What a publisher waits for: a subscriber that fell behind. */
export interface Holder {
  /** Resolves once it no longer holds publishers back. */
  drained(): Promise<void>;
}

/** One session's side of publisher backpressure, as a subscriber and as a publisher. */
export class Backpressure {
  readonly #highMark: number;
  readonly #lowMark: number;
  readonly #pauseMs: number;
  /** When the queue passed the high mark; 0 when it is not behind. */
  #behindSince = 0;
  /** Whether it held publishers back for `publisherPauseMs` already in this episode. */
  #expired = false;
  #drained: Deferred<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** As a publisher: the subscribers to wait for before reading on. */
  #holders: Holder[] | null = null;

  /** @param limits The server's limits (`maxOutboundBytes`, `publisherPauseMs`). */
  constructor(limits: ServerLimits) {
    this.#highMark = limits.maxOutboundBytes >> 1;
    this.#lowMark = limits.maxOutboundBytes >> 2;
    this.#pauseMs = limits.publisherPauseMs;
  }

  /** Whether it fell behind and may still hold back the publishers that feed it. */
  get behind(): boolean {
    return this.#behindSince !== 0 && !this.#expired;
  }

  /** After bytes were queued: `pending` bytes are held now. */
  queued(pending: number): void {
    if (pending >= this.#highMark && this.#behindSince === 0) this.#behindSince = Date.now();
  }

  /** After a write: `pending` bytes are held now; at the low mark, the publishers read on. */
  written(pending: number): void {
    if (this.#behindSince === 0 || pending > this.#lowMark) return;
    this.#behindSince = 0;
    this.#expired = false;
    this.release();
  }

  /**
   * Resolves once the queue drained to the low mark, the session closed
   * (`release()`), or it held publishers back for `publisherPauseMs`.
   */
  drained(): Promise<void> {
    if (!this.behind) return RESOLVED;
    this.#timer ??= setTimeout(() => {
      this.#expired = true;
      this.release();
    }, this.#behindSince + this.#pauseMs - Date.now());
    return (this.#drained ??= deferred<void>()).promise;
  }

  /** Lets the publishers waiting for it read on; on close, for good. */
  release(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const drained = this.#drained;
    this.#drained = null;
    drained?.resolve();
  }

  /** Closing: holds no one back any more. */
  close(): void {
    this.#expired = true;
    this.release();
  }

  /** As a publisher: waits for `subscriber`, which its line fed and which fell behind. */
  holdFor(subscriber: Holder): void {
    (this.#holders ??= []).push(subscriber);
  }

  /** As a publisher: the wait before reading on, or `null` when nothing holds it back. */
  heldBack(): Promise<void> | null {
    const holders = this.#holders;
    if (holders === null) return null;
    this.#holders = null;
    return waitFor(holders);
  }
}

async function waitFor(holders: Holder[]): Promise<void> {
  for (const holder of holders) await holder.drained();
}
