/**
 * What one node knows of the others: the last counter heard from each
 * (origin, epoch), when it was last heard from, and so how many of its
 * publishes never arrived. Pure: the caller passes the time.
 *
 * @module
 */

import { ControlKind } from "./envelope.ts";

/** What the node knows of one other node. */
interface Origin {
  epoch: number;
  /** The counter of the last publish heard from it (or announced by its heartbeat). */
  last: number;
  /** When it was last heard from (ms). */
  heardAt: number;
  /** Whether it counts as a live node (heard within the expiry, not left). */
  live: boolean;
}

/** What a control envelope changed. */
export interface ControlOutcome {
  /** Publishes found missing. */
  lost: number;
  /** Whether the node was not known as live before. */
  joined: boolean;
}

/**
 * The other nodes, as far as this one has heard.
 *
 * A node's deadline is `expireMs` after it was last heard from. `expire()` is
 * called every `checkMs`, so it takes a node out at the last check before
 * its deadline (when the deadline falls before the next check): a node is
 * out between `expireMs - checkMs` and `expireMs` after it was last heard
 * from, never later (with the Redis backplane's 1 s heartbeat, checked every
 * heartbeat: between 2 and 3 s). The price is tolerance: a live node
 * that is not heard from for more than `expireMs - checkMs` (with the
 * defaults, two heartbeats: one missed and the next late) may be taken out;
 * it comes back in with its next heartbeat, and is asked for its groups. A check that comes
 * more than two periods after the previous one (this node's own event loop
 * was held up, so what the others sent may still be unread) takes nobody
 * out: the next check decides (even if it is late too, so that a node kept
 * constantly late still takes dead nodes out).
 */
export class Origins {
  readonly #expireMs: number;
  readonly #forgetMs: number;
  readonly #checkMs: number;
  readonly #origins = new Map<string, Origin>();
  #live = 0;
  /** When `expire()` last ran; `undefined` before the first check. */
  #checkedAt: number | undefined = undefined;
  /** Whether the last check came late and took nobody out. */
  #held = false;

  /**
   * @param expireMs A node not heard from for this long is out of the cluster.
   * @param forgetMs A node out of the cluster for this long is forgotten
   *   (its counters too: if it comes back, its loss meanwhile is not counted).
   * @param checkMs How often the caller calls `expire()`. Default: a third of
   *   `expireMs` (the Redis backplane expires a node after three heartbeats
   *   and checks every heartbeat).
   */
  constructor(expireMs: number, forgetMs: number, checkMs: number = expireMs / 3) {
    this.#expireMs = expireMs;
    this.#forgetMs = forgetMs;
    this.#checkMs = checkMs;
  }

  /** Nodes heard from within the expiry. */
  get live(): number {
    return this.#live;
  }

  /**
   * A publish from `origin`: how many of its publishes before this one were
   * lost, or `-1` when it must be skipped (from an older epoch, or already
   * seen).
   */
  publish(origin: string, epoch: number, counter: number, now: number): number {
    const known = this.#origins.get(origin);
    if (known === undefined || epoch > known.epoch) {
      this.#set(origin, known, epoch, counter, now);
      return 0;
    }
    if (epoch < known.epoch || counter <= known.last) return -1;
    const lost = counter - known.last - 1;
    known.last = counter;
    this.#heard(known, now);
    return lost;
  }

  /** An announcement or heartbeat from `origin`. */
  control(
    kind: ControlKind,
    origin: string,
    epoch: number,
    counter: number,
    now: number,
  ): ControlOutcome {
    const known = this.#origins.get(origin);
    if (kind === ControlKind.Leave) {
      if (known !== undefined && epoch >= known.epoch) {
        if (known.live) this.#live--;
        this.#origins.delete(origin);
      }
      return { lost: 0, joined: false };
    }
    if (known === undefined || epoch > known.epoch) {
      this.#set(origin, known, epoch, counter, now);
      return { lost: 0, joined: true };
    }
    if (epoch < known.epoch) return { lost: 0, joined: false };
    const joined = !known.live;
    this.#heard(known, now);
    // A heartbeat says how many the node sent: those not heard are lost.
    if (counter <= known.last) return { lost: 0, joined };
    const lost = counter - known.last;
    known.last = counter;
    return { lost, joined };
  }

  /**
   * Takes out of the cluster the nodes whose deadline falls before the next
   * check, forgets those out for longer than the forget period, and returns
   * the ids of those taken out now.
   */
  expire(now: number): string[] {
    const gone: string[] = [];
    const late = this.#checkedAt !== undefined && now - this.#checkedAt > 2 * this.#checkMs;
    const hold = late && !this.#held;
    this.#held = hold;
    this.#checkedAt = now;
    for (const [id, origin] of this.#origins) {
      const silent = now - origin.heardAt;
      if (origin.live && !hold && silent > this.#expireMs - this.#checkMs) {
        origin.live = false;
        this.#live--;
        gone.push(id);
      }
      if (!origin.live && silent > this.#forgetMs) this.#origins.delete(id);
    }
    return gone;
  }

  #set(id: string, known: Origin | undefined, epoch: number, counter: number, now: number): void {
    if (known !== undefined && known.live) this.#live--;
    this.#origins.set(id, { epoch, last: counter, heardAt: now, live: true });
    this.#live++;
  }

  #heard(origin: Origin, now: number): void {
    origin.heardAt = now;
    if (!origin.live) {
      origin.live = true;
      this.#live++;
    }
  }
}
