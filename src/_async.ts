/**
 * Small async helpers shared by every layer: a deferred promise (Node 20
 * has no `Promise.withResolvers`), marking a promise handled, a grace timer
 * to race against, a deadline signal, and waiting on a promise until a
 * signal aborts.
 *
 * @module
 */

/** A promise and the functions that settle it. */
export interface Deferred<T> {
  /** The promise. */
  readonly promise: Promise<T>;
  /** Fulfils the promise. */
  resolve(value: T): void;
  /** Rejects the promise. */
  reject(reason: unknown): void;
}

/** Creates a {@linkcode Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An already fulfilled `Promise<void>`, shared to avoid an allocation per call. */
export const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Does nothing: the rejection handler for a promise whose failure is
 * reported elsewhere (to whoever awaits it, or by the connection's end).
 */
export function ignore(): void {
  // Reported elsewhere; this only marks the promise handled.
}

/**
 * A {@linkcode Deferred} whose rejection is already marked handled: for a
 * promise shared by several waiters, or by none.
 */
export function handled<T>(): Deferred<T> {
  const settle = deferred<T>();
  settle.promise.catch(ignore);
  return settle;
}

/** A timer to race other promises against, and its cleanup. */
export interface Grace {
  /** Fulfils once the time is up; never rejects. */
  readonly elapsed: Promise<void>;
  /** Stops the timer (the promise then never settles). */
  clear(): void;
}

/**
 * A grace period of `ms` milliseconds: race what should finish in time
 * against `elapsed`, then `clear()` it.
 */
export function grace(ms: number): Grace {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { elapsed, clear: () => clearTimeout(timer) };
}

/** An abort signal that fires at a deadline or with another signal, and its cleanup. */
export interface Deadline {
  /** Aborts at the deadline (a `TimeoutError`) or when the outer signal does. */
  readonly signal: AbortSignal;
  /** Stops the timer and lets go of the outer signal. */
  clear(): void;
}

/**
 * A signal that aborts after `ms`, or when `outer` aborts. Our own timer
 * rather than `AbortSignal.timeout()`: Node does not keep the process alive
 * for the latter, so a hung connect could vanish.
 */
export function deadline(ms: number, what: string, outer?: AbortSignal): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`${what} timed out after ${ms} ms`, "TimeoutError"));
  }, ms);
  const onAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  outer?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * Waits for `promise`, or rejects with the signal's reason once it aborts.
 * The promise is marked handled either way: its owner settles and cleans
 * it up.
 */
export async function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return await promise;
  promise.catch(ignore);
  if (signal.aborted) throw signal.reason;
  const aborted = deferred<never>();
  const onAbort = (): void => aborted.reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([promise, aborted.promise]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
