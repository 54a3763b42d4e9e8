/**
 * The stall watch of a node's subscription: the node's own heartbeat must
 * come back to it through Redis. When it has not for two heartbeats while
 * the subscription delivered nothing at all, the subscription is stuck (a
 * wedged connection); one that still delivers is behind, not stuck, and
 * reconnecting it would lose more. Pure: the caller passes the time.
 *
 * @module
 */

/** Whether a node's own heartbeats come back. */
export class OwnHeartbeat {
  readonly #heartbeatMs: number;
  /** When the oldest heartbeat that has not come back was sent; 0 when none. */
  #waitingSince = 0;
  /** Messages the subscription delivered, and how many at the last tick. */
  #inbound = 0;
  #inboundAtTick = 0;

  /** @param heartbeatMs How often the node sends a heartbeat, in ms. */
  constructor(heartbeatMs: number) {
    this.#heartbeatMs = heartbeatMs;
  }

  /** The subscription delivered a message. */
  inbound(): void {
    this.#inbound++;
  }

  /** The node's own heartbeat came back. */
  returned(): void {
    this.#waitingSince = 0;
  }

  /**
   * Every heartbeat period, while up, before sending the heartbeat: how long
   * the oldest heartbeat has been waiting when the subscription is stuck
   * (the watch starts again), else `0` (the heartbeat about to go out is
   * waited for unless an older one is).
   */
  tick(now: number): number {
    const waited = this.#waitingSince === 0 ? 0 : now - this.#waitingSince;
    const silent = this.#inbound === this.#inboundAtTick;
    this.#inboundAtTick = this.#inbound;
    if (waited > 2 * this.#heartbeatMs && silent) {
      this.#waitingSince = 0;
      return waited;
    }
    if (this.#waitingSince === 0) this.#waitingSince = now;
    return 0;
  }
}
