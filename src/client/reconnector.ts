/**
 * The reconnect loop of a client: wait the backoff delay, dial, and either
 * hand the new connection to the client or try again, until it succeeds,
 * fails for good, runs out of attempts, or the client closes.
 *
 * @module
 */

import { ConnectionClosedError } from "../errors.ts";
import { backoffDelay, type ReconnectPolicy } from "./backoff.ts";
import type { Connection } from "./connection.ts";
import type { StatusEvent } from "./status.ts";

/** What the loop needs from its client. */
export interface ReconnectHost {
  /** Opens a connection (and says `hello` when the client does); rejects when that fails. */
  dial(signal: AbortSignal): Promise<Connection>;
  /**
   * Takes a dialled connection into use; `attempt` is how many it took.
   * `false` when the connection ended in the meantime (the loop goes on).
   */
  attach(connection: Connection, attempt: number): boolean;
  /** Whether a failed attempt must not be retried. */
  isFinal(error: unknown): boolean;
  /** Closes the client for good with `error`. */
  giveUp(error: ConnectionClosedError): void;
  /** Reports a status event. */
  emit(event: StatusEvent): void;
}

/** Reconnects a client, one loop at a time. */
export class Reconnector {
  readonly #policy: ReconnectPolicy;
  readonly #host: ReconnectHost;
  readonly #random: () => number;
  #running = false;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #wake: ((go: boolean) => void) | null = null;
  #dialing: AbortController | null = null;

  /**
   * @param policy The delays and the most attempts.
   * @param host The client.
   * @param random The jitter's random source.
   */
  constructor(policy: ReconnectPolicy, host: ReconnectHost, random: () => number = Math.random) {
    this.#policy = policy;
    this.#host = host;
    this.#random = random;
  }

  /** Whether a loop is running. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts a loop, unless one runs or the client is closing; `cause` is why. */
  start(cause: unknown): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    void this.#run(cause);
  }

  /** Stops for good: cancels the wait and aborts a dial in progress. Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = null;
    wake?.(false);
    this.#dialing?.abort(new ConnectionClosedError("Client is closed"));
  }

  async #run(cause: unknown): Promise<void> {
    const policy = this.#policy;
    const host = this.#host;
    let error = cause;
    for (let attempt = 1;; attempt++) {
      if (attempt > policy.maxAttempts) {
        this.#running = false;
        host.giveUp(
          new ConnectionClosedError(`Gave up reconnecting after ${policy.maxAttempts} attempts`, {
            cause: error,
          }),
        );
        return;
      }
      const delayMs = backoffDelay(attempt, { ...policy, random: this.#random });
      host.emit({ type: "reconnect", attempt, delayMs, error });
      if (!await this.#sleep(delayMs)) return;
      const controller = new AbortController();
      this.#dialing = controller;
      let connection: Connection;
      try {
        connection = await host.dial(controller.signal);
      } catch (failure) {
        if (this.#stopped) return;
        if (host.isFinal(failure)) {
          this.#running = false;
          const message = failure instanceof Error ? failure.message : String(failure);
          host.giveUp(
            new ConnectionClosedError(`Stopped reconnecting: ${message}`, { cause: failure }),
          );
          return;
        }
        error = failure;
        continue;
      } finally {
        this.#dialing = null;
      }
      if (this.#stopped) {
        connection.close();
        return;
      }
      // Not running any more before attaching: a connection that ends right
      // after must be able to start the next loop.
      this.#running = false;
      if (host.attach(connection, attempt)) return;
      this.#running = true;
      error = connection.reason;
    }
  }

  /** Resolves `true` after `ms`, or `false` as soon as the loop is stopped. */
  #sleep(ms: number): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#wake = null;
        resolve(true);
      }, ms);
    });
  }
}
