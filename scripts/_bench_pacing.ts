/**
 * Paced publishing for the latency scenarios: how many messages are due
 * after a time at a rate (so a late timer tick sends a bigger batch, and the
 * rate holds at 100,000 messages per second where one timer per message
 * could not), and the send time each message carries and the subscriber
 * reads back. Numbers and strings in, out: no I/O.
 *
 * @module
 */

/** Messages due `elapsedMs` after the start at `rate` per second, at most `total`. */
export function dueCount(elapsedMs: number, rate: number, total: number): number {
  if (!(elapsedMs > 0) || !(rate > 0)) return 0;
  return Math.min(total, Math.floor((elapsedMs * rate) / 1000));
}

/**
 * A message of `size` characters that carries `stamp` (ms, from
 * `performance.now()`): `<tag>=<stamp>|` padded with `x`. A tag other than
 * `t` marks a message that is not sampled (warm-up).
 */
export function stampedMessage(tag: string, stamp: number, size = 128): string {
  const head = `${tag}=${stamp}|`;
  return head + "x".repeat(Math.max(0, size - head.length));
}

/**
 * The send time a delivery carries (`t=<stamp>|` anywhere in it: a
 * kn-sock line, a NATS or Redis payload), or `undefined` when it carries
 * none (another tag, or no stamp).
 */
export function stampOf(delivery: string): number | undefined {
  const at = delivery.indexOf("t=");
  if (at === -1 || (at > 0 && /\w/.test(delivery[at - 1]))) return undefined;
  const end = delivery.indexOf("|", at + 2);
  if (end === -1) return undefined;
  const value = Number(delivery.slice(at + 2, end));
  return end > at + 2 && Number.isFinite(value) ? value : undefined;
}
