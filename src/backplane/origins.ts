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

/** The other nodes, as far as this one has heard. */
export class Origins {
  readonly #expireMs: number;
  readonly #forgetMs: number;
  readonly #origins = new Map<string, Origin>();
  #live = 0;

  /**
   * @param expireMs A node not heard from for this long is out of the cluster.
   * @param forgetMs A node out of the cluster for this long is forgotten
   *   (its counters too: if it comes back, its loss meanwhile is not counted).
   */
  constructor(expireMs: number, forgetMs: number) {
    this.#expireMs = expireMs;
    this.#forgetMs = forgetMs;
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
   * Takes out of the cluster the nodes not heard from within the expiry,
   * forgets those out for longer, and returns the ids of those taken out now.
   */
  expire(now: number): string[] {
    const gone: string[] = [];
    for (const [id, origin] of this.#origins) {
      const silent = now - origin.heardAt;
      if (origin.live && silent > this.#expireMs) {
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
