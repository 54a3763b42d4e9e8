/**
 * The reconnect policy of {@linkcode PubSubClient}: jittered exponential
 * backoff, as a pure function of the attempt number.
 *
 * @module
 */

/**
 * How a client reconnects after losing its connection. Every field is
 * optional; {@linkcode DEFAULT_RECONNECT} has the defaults.
 *
 * The delay before attempt `n` (from 1) is
 * `min(maxDelayMs, initialDelayMs * multiplier ** (n - 1))`, of which a
 * random fraction of up to `jitter` is taken off, so clients that lost the
 * same server do not all come back at once.
 *
 * @example Reconnect quickly, at most 5 times
 * ```ts ignore
 * const client = await PubSubClient.connect("127.0.0.1", 8080, {
 *   reconnect: { initialDelayMs: 10, maxDelayMs: 1000, maxAttempts: 5 },
 * });
 * ```
 */
export interface ReconnectOptions {
  /** The delay before the first attempt, in ms, before jitter. Default 100. */
  initialDelayMs?: number;
  /** The longest delay, in ms, before jitter. Default 10000. */
  maxDelayMs?: number;
  /** How much the delay grows from one attempt to the next (at least 1). Default 2. */
  multiplier?: number;
  /**
   * The largest fraction of a delay taken off at random, from 0 (no jitter)
   * to 1 (full jitter: anywhere from 0 to the delay). Default 0.5: a delay
   * of 1000 ms becomes 500 to 1000 ms.
   */
  jitter?: number;
  /**
   * Attempts in a row before the client gives up and closes (its `closed`
   * resolves and waiting calls reject with `ConnectionClosedError`).
   * Default `Infinity`: it never gives up.
   */
  maxAttempts?: number;
}

/** {@linkcode ReconnectOptions} with every field set. */
export type ReconnectPolicy = Readonly<Required<ReconnectOptions>>;

/**
 * The default reconnect policy: 100 ms doubling up to 10 s, up to half of
 * each delay taken off at random, attempts without end.
 *
 * @example
 * ```ts
 * import { DEFAULT_RECONNECT } from "@kn-sock/pubsub";
 *
 * console.log(DEFAULT_RECONNECT.maxDelayMs); // 10000
 * ```
 */
export const DEFAULT_RECONNECT: ReconnectPolicy = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
});

/**
 * Resolves the `reconnect` option: `null` when reconnecting is off.
 *
 * @example
 * ```ts
 * import { reconnectPolicy } from "@kn-sock/pubsub";
 *
 * console.log(reconnectPolicy(false)); // null
 * console.log(reconnectPolicy({ maxAttempts: 3 })?.maxAttempts); // 3
 * ```
 *
 * @param option `true` or omitted: the defaults; `false`: off; an object:
 *   the defaults with these changes.
 * @throws {RangeError} For a negative delay, a `maxDelayMs` below
 *   `initialDelayMs`, a `multiplier` below 1, a `jitter` outside 0 to 1,
 *   or a `maxAttempts` that is not a positive integer or `Infinity`.
 */
export function reconnectPolicy(
  option: boolean | ReconnectOptions | undefined,
): ReconnectPolicy | null {
  if (option === false) return null;
  if (option === undefined || option === true) return DEFAULT_RECONNECT;
  if (typeof option !== "object" || option === null) {
    throw new TypeError(`Reconnect must be a boolean or an object, got ${String(option)}`);
  }
  const policy = { ...DEFAULT_RECONNECT };
  for (const [name, value] of Object.entries(option)) {
    if (!Object.hasOwn(DEFAULT_RECONNECT, name)) {
      throw new TypeError(`Unknown reconnect option "${name}"`);
    }
    if (value !== undefined) (policy as Record<string, number>)[name] = value;
  }
  const { initialDelayMs, maxDelayMs, multiplier, jitter, maxAttempts } = policy;
  check(Number.isFinite(initialDelayMs) && initialDelayMs >= 0, "initialDelayMs", initialDelayMs);
  check(maxDelayMs >= initialDelayMs && Number.isFinite(maxDelayMs), "maxDelayMs", maxDelayMs);
  check(Number.isFinite(multiplier) && multiplier >= 1, "multiplier", multiplier);
  check(jitter >= 0 && jitter <= 1, "jitter", jitter);
  check(
    maxAttempts === Infinity || (Number.isSafeInteger(maxAttempts) && maxAttempts > 0),
    "maxAttempts",
    maxAttempts,
  );
  return Object.freeze(policy);
}

function check(ok: boolean, name: string, value: unknown): void {
  if (!ok) throw new RangeError(`Reconnect option "${name}" is out of range: ${String(value)}`);
}

/** Options of {@linkcode backoffDelay}: a policy and, for tests, the random source. */
export interface BackoffOptions extends ReconnectOptions {
  /** Returns a number in [0, 1); `Math.random` when omitted. */
  random?: () => number;
}

/**
 * The delay before reconnect attempt `attempt` (1 for the first), in whole
 * ms: `min(maxDelayMs, initialDelayMs * multiplier ** (attempt - 1))`, less
 * up to `jitter` of it at random. Pure when `random` is given.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@kn-sock/pubsub";
 *
 * console.log(backoffDelay(1, { random: () => 0 })); // 100
 * console.log(backoffDelay(3, { random: () => 0 })); // 400
 * console.log(backoffDelay(3, { random: () => 0.5 })); // 300: a quarter taken off
 * console.log(backoffDelay(20, { random: () => 0 })); // 10000: the cap
 * ```
 *
 * @param attempt The attempt number, from 1.
 * @param options The policy (defaults from {@linkcode DEFAULT_RECONNECT}) and `random`.
 * @throws {RangeError} For an attempt that is not a positive integer.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`Attempt must be a positive integer, got ${String(attempt)}`);
  }
  const initial = options.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs;
  const max = options.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs;
  const multiplier = options.multiplier ?? DEFAULT_RECONNECT.multiplier;
  const jitter = options.jitter ?? DEFAULT_RECONNECT.jitter;
  const random = options.random ?? Math.random;
  // multiplier ** n overflows to Infinity for a long outage; min() caps it.
  const base = Math.min(max, initial * multiplier ** (attempt - 1));
  return Math.round(base * (1 - jitter * random()));
}
