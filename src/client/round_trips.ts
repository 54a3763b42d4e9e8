/**
 * Round trips through private topics: `flush()` (a marker the client sends
 * itself) and `request()` (a reply on a private inbox). Messages on those
 * topics are taken here and never reach a subscription.
 *
 * @module
 */

import { type Deferred, deferred, handled, ignore } from "../_async.ts";
import { type ConnectionClosedError, ErrorCode, PubSubError } from "../errors.ts";
import type { ClientFrame, Headers, JsonValue, Message } from "../protocol/frames.ts";

/** What round trips need from their client. */
export interface RoundTripHost {
  /** Queues a frame; resolves once written. */
  send(frame: ClientFrame): Promise<void>;
  /** Queues a frame, waiting for the server's answer when acks are on. */
  sendMaybeAck(frame: ClientFrame): Promise<void>;
  /** Publishes with a reply topic. */
  publish(topic: string, message: JsonValue, reply: string, headers?: Headers): Promise<void>;
  /** The error for a closed client, or `null` while it is open. */
  closedError(): ConnectionClosedError | null;
  /** Whether the server answered `hello` (it then answers a `ping` with an `id`). */
  helloed(): boolean;
}

/** The longest delay setTimeout can count. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The client's pending flushes and requests. */
export class RoundTrips {
  readonly #host: RoundTripHost;
  readonly #prefix: string = Math.random().toString(36).slice(2);
  readonly #waiting = new Map<string, (message: Message) => void>();
  readonly #pending = new Set<Deferred<never> | Deferred<void> | Deferred<Message>>();
  #flushes = 0;
  #requests = 0;
  #inboxReady: Promise<void> | null = null;

  /** @param host The client. */
  constructor(host: RoundTripHost) {
    this.#host = host;
  }

  /** Takes a message meant for a flush or a request; `true` when it was one. */
  take(message: Message): boolean {
    const waiting = this.#waiting.size > 0 ? this.#waiting.get(message.topic) : undefined;
    if (waiting !== undefined) {
      waiting(message);
      return true;
    }
    // A reply that came after its request gave up: nobody wants it.
    return message.topic.startsWith(`_inbox/${this.#prefix}/`);
  }

  /**
   * Rejects every pending flush and request with `error`: the connection
   * they went out on is gone, and with it the private inbox subscription
   * (the next request subscribes it again).
   */
  rejectAll(error: ConnectionClosedError): void {
    for (const pending of this.#pending) pending.reject(error);
    this.#pending.clear();
    this.#inboxReady = null;
  }

  /** See `PubSubClient.flush()`. */
  async flush(): Promise<void> {
    const host = this.#host;
    // Our server handles a connection's frames in order, so its pong comes
    // after everything sent before: no topic, so no permission, is needed.
    if (host.helloed()) return await host.sendMaybeAck({ action: "ping" });
    const topic = `_flush/${this.#prefix}/${this.#flushes++}`;
    const arrived = handled<void>();
    this.#waiting.set(topic, () => arrived.resolve());
    this.#pending.add(arrived);
    try {
      await host.send({ action: "subscribe", topic });
      await host.send({ action: "publish", topic, message: null });
      await arrived.promise;
    } finally {
      this.#waiting.delete(topic);
      this.#pending.delete(arrived);
    }
    await host.send({ action: "unsubscribe", topic });
  }

  /** See `PubSubClient.request()`; arguments are already checked. */
  async request(
    topic: string,
    message: JsonValue,
    timeout: number,
    signal: AbortSignal | undefined,
    headers: Headers | undefined,
  ): Promise<Message> {
    const closed = this.#host.closedError();
    if (closed !== null) throw closed;
    if (signal?.aborted) throw signal.reason;
    // The waits are armed before the first await, so an abort or the
    // timeout is never missed.
    const reply = `_inbox/${this.#prefix}/${this.#requests++}`;
    const answer = deferred<Message>();
    answer.promise.catch(ignore);
    this.#pending.add(answer);
    this.#waiting.set(reply, answer.resolve);
    const onAbort = (): void => answer.reject(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    // Infinity waits for ever; setTimeout cannot count past MAX_TIMER_MS.
    const timer = timeout === Infinity ? undefined : setTimeout(() => {
      answer.reject(
        new PubSubError(ErrorCode.Timeout, `No reply on "${topic}" within ${timeout} ms`),
      );
    }, Math.min(timeout, MAX_TIMER_MS));
    try {
      await Promise.race([this.#inbox(), answer.promise]);
      this.#host.publish(topic, message, reply, headers).catch((error) => answer.reject(error));
      return await answer.promise;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      this.#waiting.delete(reply);
      this.#pending.delete(answer);
    }
  }

  /** Subscribes the private inbox once (again after a failure). */
  #inbox(): Promise<void> {
    if (this.#inboxReady === null) {
      const ready = this.#host.sendMaybeAck({
        action: "subscribe",
        topic: `_inbox/${this.#prefix}/+`,
      });
      this.#inboxReady = ready;
      ready.catch(() => {
        if (this.#inboxReady === ready) this.#inboxReady = null;
      });
    }
    return this.#inboxReady;
  }
}
