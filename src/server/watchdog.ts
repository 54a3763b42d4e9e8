/**
 * The server's watchdog: one timer for every connection, which pings quiet
 * clients, closes dead ones, closes connections whose writes make no
 * progress, and closes connections that leave a line unfinished too long.
 * Each round also trims the shared pool of write buffers. (The deadline of
 * a new connection, `authTimeoutMs` or `idleTimeoutMs`, is a timer of its
 * own: see `ServerConnection.watchOpening()`.)
 *
 * @module
 */

import { ErrorCode } from "../errors.ts";
import type { ServerLimits } from "../limits.ts";
import { encodeLine } from "../protocol/codec.ts";
import { trimBufferPool } from "../transport/buffer_pool.ts";
import type { ServerConnection } from "./connection.ts";
import type { ServerCounters } from "./stats.ts";

const PING = encodeLine({ action: "ping" });

/** What the watchdog keeps of a session between its rounds. */
export interface Liveness {
  /** When the session was opened, in ms since the epoch. */
  readonly openedAt: number;
  /** When the watchdog last saw input from the client. */
  heardAt: number;
  /** The session's `chunksIn` at the watchdog's last round. */
  seenChunks: number;
  /** Pings sent since the client was last heard. */
  pingsOut: number;
  /** The queue's `writesDone` at the watchdog's last round. */
  seenWrites: number;
  /** When the current write was first seen in flight without progress; 0 when none. */
  stalledAt: number;
  /** The session's `linesDone` at the watchdog's last round. */
  seenLines: number;
  /** When an unfinished line was first seen with no line completed since; 0 when none. */
  partialAt: number;
}

/** The shortest time between two rounds, in ms. */
const MIN_ROUND_MS = 10;

/** What the watchdog needs from its server. */
export interface WatchdogHost {
  readonly limits: ServerLimits;
  readonly counters: ServerCounters;
  /** The open connections. */
  readonly connections: ReadonlySet<ServerConnection>;
  /** Whether clients must authenticate (unauthenticated ones are not pinged). */
  readonly authRequired: boolean;
}

/**
 * Checks every session a few times per interval. Per session a round costs
 * a few comparisons: input and write progress are seen through counters the
 * session keeps anyway, with no timer or clock read per message.
 */
export class Watchdog {
  readonly #host: WatchdogHost;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;
  #sampler: ((now: number) => void) | null = null;
  #sampleMs = Infinity;
  #trimmedAt = 0;

  constructor(host: WatchdogHost) {
    this.#host = host;
  }

  /** How often a round runs: a quarter of the shortest interval watched. */
  get #roundMs(): number {
    return Math.min(this.#watchMs, Math.max(MIN_ROUND_MS, this.#sampleMs));
  }

  /** The rounds' interval for watching alone: a quarter of the shortest interval watched. */
  get #watchMs(): number {
    const { pingIntervalMs, writeDeadlineMs, lineTimeoutMs } = this.#host.limits;
    const shortest = Math.min(pingIntervalMs, writeDeadlineMs, lineTimeoutMs);
    return Math.max(MIN_ROUND_MS, Math.floor(shortest / 4));
  }

  /** Starts the rounds. */
  start(): void {
    this.#timer ??= setInterval(() => this.#round(Date.now()), this.#roundMs);
  }

  /**
   * Calls `sampler` at the end of every round, and runs rounds at least
   * every `everyMs` (monitoring samples the counters this way: no timer of
   * its own, nothing on the publish path).
   */
  sample(sampler: (now: number) => void, everyMs: number): void {
    this.#sampler = sampler;
    this.#sampleMs = everyMs;
    if (this.#timer === undefined) return;
    this.stop();
    this.start();
  }

  /** Stops the rounds. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round over every session, at time `now` (ms since the epoch). */
  #round(now: number): void {
    for (const connection of this.#host.connections) {
      if (connection.session.open) this.#check(connection, now);
    }
    // Sampling may run rounds more often: the pool is trimmed at the watching pace only.
    if (now - this.#trimmedAt >= this.#watchMs - this.#roundMs / 2) {
      this.#trimmedAt = now;
      trimBufferPool();
    }
    this.#sampler?.(now);
  }

  #check(connection: ServerConnection, now: number): void {
    const { limits, counters } = this.#host;
    const session = connection.session;
    const live = session.liveness;
    if (session.chunksIn !== live.seenChunks) {
      live.seenChunks = session.chunksIn;
      live.heardAt = now;
      live.pingsOut = 0;
    }
    if (!session.writing || session.writesDone !== live.seenWrites) {
      live.seenWrites = session.writesDone;
      live.stalledAt = session.writing ? now : 0;
    } else if (now - live.stalledAt >= limits.writeDeadlineMs) {
      session.disconnectSlow(`A write made no progress for ${limits.writeDeadlineMs} ms`);
      return;
    }
    if (session.heldLineBytes === 0) live.partialAt = 0;
    else if (live.partialAt === 0 || session.linesDone !== live.seenLines) {
      live.seenLines = session.linesDone;
      live.partialAt = now;
    } else if (now - live.partialAt >= limits.lineTimeoutMs) {
      void session.close({
        code: ErrorCode.IdleTimeout,
        text: `A line stayed unfinished for ${limits.lineTimeoutMs} ms`,
      });
      return;
    }
    if (this.#host.authRequired && connection.identity === null) return;
    // kn-sock clients cannot answer pings: only clients that said hello are pinged.
    if (
      connection.greeting === null ||
      now - live.heardAt < limits.pingIntervalMs * (live.pingsOut + 1)
    ) return;
    if (live.pingsOut >= limits.maxPingsOutstanding) {
      counters.pingTimeouts++;
      void session.close({
        code: ErrorCode.PingTimeout,
        text: `No answer to ${live.pingsOut} pings`,
      });
      return;
    }
    live.pingsOut++;
    session.deliver(PING);
  }
}
