/**
 * Rates from counters: each sample (one per watchdog round, about every
 * second) turns the growth of the message and byte counters since the last
 * one into per-second rates, and keeps the last few minutes of points for
 * the dashboard's charts. Bounded: a fixed number of points.
 *
 * @module
 */

import type { ServerStats } from "../stats.ts";

/** The points kept: five minutes at one a second. */
export const HISTORY_POINTS = 300;

/** Per-second rates over the last sampling interval. */
export interface Rates {
  /** Messages published per second. */
  messagesIn: number;
  /** Deliveries queued per second. */
  messagesOut: number;
  /** Bytes read per second. */
  bytesIn: number;
  /** Bytes written per second. */
  bytesOut: number;
  /** The interval the rates are over, in ms (0 before the second sample). */
  intervalMs: number;
}

/** One point of the dashboard's charts. */
export interface HistoryPoint {
  /** When it was sampled, in ms since the epoch. */
  t: number;
  /** Messages in per second. */
  in: number;
  /** Deliveries out per second. */
  out: number;
  /** Connections open. */
  connections: number;
  /** Slow consumers disconnected since start. */
  slowConsumers: number;
  /** Messages dropped for slow consumers since start. */
  dropped: number;
}

type Counted = Pick<ServerStats, "messagesIn" | "messagesOut" | "bytesIn" | "bytesOut">;

const ZERO_RATES: Rates = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, intervalMs: 0 };

/** The rates and the recent points of one server. */
export class RateHistory {
  #last: (Counted & { at: number }) | null = null;
  #rates: Rates = ZERO_RATES;
  readonly #points: HistoryPoint[] = [];
  #next = 0;
  #latest: HistoryPoint | null = null;

  /** The rates over the last interval sampled. */
  get rates(): Rates {
    return this.#rates;
  }

  /** The points kept, oldest first. */
  points(): HistoryPoint[] {
    const points = this.#points;
    return points.length < HISTORY_POINTS
      ? points.slice()
      : [...points.slice(this.#next), ...points.slice(0, this.#next)];
  }

  /** The newest point, or `null` before the first sample. */
  get latest(): HistoryPoint | null {
    return this.#latest;
  }

  /** Samples `stats`, taken at `now` (ms since the epoch); returns the new point. */
  sample(now: number, stats: ServerStats): HistoryPoint {
    const last = this.#last;
    const ms = last === null ? 0 : now - last.at;
    if (last !== null && ms > 0) {
      const perSecond = (now: number, then: number) => Math.round(((now - then) * 1000) / ms);
      this.#rates = {
        messagesIn: perSecond(stats.messagesIn, last.messagesIn),
        messagesOut: perSecond(stats.messagesOut, last.messagesOut),
        bytesIn: perSecond(stats.bytesIn, last.bytesIn),
        bytesOut: perSecond(stats.bytesOut, last.bytesOut),
        intervalMs: ms,
      };
    }
    this.#last = {
      at: now,
      messagesIn: stats.messagesIn,
      messagesOut: stats.messagesOut,
      bytesIn: stats.bytesIn,
      bytesOut: stats.bytesOut,
    };
    const point: HistoryPoint = {
      t: now,
      in: this.#rates.messagesIn,
      out: this.#rates.messagesOut,
      connections: stats.connections,
      slowConsumers: stats.slowConsumers,
      dropped: stats.droppedMessages,
    };
    if (this.#points.length < HISTORY_POINTS) this.#points.push(point);
    else this.#points[this.#next] = point;
    this.#next = (this.#next + 1) % HISTORY_POINTS;
    this.#latest = point;
    return point;
  }
}
