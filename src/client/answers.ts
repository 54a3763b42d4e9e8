/**
 * The server's answers a client waits for: `ok`/`error` for frames sent
 * with an `id`, the answer to `hello`, and messages on the client's private
 * topics (a `flush({ viaTopic: true })` marker, a `request()`'s reply), which never reach a
 * subscription.
 *
 * @module
 */

import { type Deferred, deferred, handled, ignore, RESOLVED } from "../_async.ts";
import type { ConnectionClosedError, ServerError } from "../errors.ts";
import type { FrameId, ServerInfo } from "../protocol/frames.ts";
import type { Message } from "./message.ts";

/** Pending answers, by frame id, and waits on private topics. */
export class Answers {
  /**
   * Starts the client's private topics (`_flush/<prefix>/n`, `_inbox/<prefix>/n`):
   * 64 random bits, so that nobody who did not see a request can guess its reply topic.
   */
  readonly prefix: string = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  readonly #acks = new Map<FrameId, Deferred<void>>();
  readonly #messages = new Map<string, Deferred<Message>>();
  #nextId = 1;
  #hello: Deferred<ServerInfo> | null = null;
  #helloId: FrameId | undefined = undefined;
  #idle: Deferred<void> | null = null;

  /** A fresh frame id. */
  nextId(): number {
    return this.#nextId++;
  }

  /** Waits for the answer to frame `id`: resolves on `ok`, rejects on `error`. */
  expect(id: FrameId): Promise<void> {
    const answer = handled<void>();
    this.#acks.set(id, answer);
    return answer.promise;
  }

  /** Settles frame `id` with `error` instead (it could not be sent). */
  fail(id: FrameId, error: unknown): void {
    const answer = this.#acks.get(id);
    this.#acks.delete(id);
    answer?.reject(error);
    this.#checkIdle();
  }

  /** An `ok` arrived. */
  ok(id: FrameId): void {
    const answer = this.#acks.get(id);
    this.#acks.delete(id);
    answer?.resolve();
    this.#checkIdle();
  }

  /** Resolves once no frame waits for its answer (`drain()` waits for it). */
  idle(): Promise<void> {
    if (this.#acks.size === 0) return RESOLVED;
    this.#idle ??= deferred<void>();
    return this.#idle.promise;
  }

  #checkIdle(): void {
    if (this.#acks.size > 0 || this.#idle === null) return;
    const idle = this.#idle;
    this.#idle = null;
    idle.resolve();
  }

  /** An `error` arrived; `false` when no frame waited for it. */
  error(id: FrameId | undefined, error: ServerError): boolean {
    if (id === undefined) return false;
    if (id === this.#helloId && this.#hello !== null) {
      this.#hello.reject(error);
      return true;
    }
    if (!this.#acks.has(id)) return false;
    this.fail(id, error);
    return true;
  }

  /** Waits for the answer to the `hello` sent with `id` (an `error` with it rejects). */
  expectHello(id: FrameId): Promise<ServerInfo> {
    this.#hello = deferred<ServerInfo>();
    this.#helloId = id;
    this.#hello.promise.catch(ignore);
    return this.#hello.promise;
  }

  /**
   * Ends the wait for the `hello` sent with `id`, if it is still the one
   * waited for: rejects it with `reason` (an abort, a lost connection), or
   * just forgets it when `reason` is `undefined`.
   */
  endHello(id: FrameId, reason?: unknown): void {
    if (id !== this.#helloId) return;
    if (reason !== undefined) this.#hello?.reject(reason);
    this.#hello = null;
    this.#helloId = undefined;
  }

  /** The answer to `hello` arrived. */
  hello(info: ServerInfo): void {
    this.#hello?.resolve(info);
  }

  /**
   * Waits for a message on the private topic `topic`; `forget(topic)` once
   * done with it, whatever happened.
   */
  message(topic: string): Promise<Message> {
    const answer = handled<Message>();
    this.#messages.set(topic, answer);
    return answer.promise;
  }

  /** Stops waiting on `topic`. */
  forget(topic: string): void {
    this.#messages.delete(topic);
  }

  /** Takes a message on a private topic; `true` when it was one. */
  take(message: Message): boolean {
    const waiting = this.#messages.size > 0 ? this.#messages.get(message.topic) : undefined;
    if (waiting !== undefined) {
      waiting.resolve(message);
      return true;
    }
    // A reply that came after its request gave up: nobody wants it. Its
    // topic is `_inbox/<prefix>/n`, or `_inbox/<connection>/<prefix>/n` in a
    // server's private inbox.
    const topic = message.topic;
    return topic.startsWith("_inbox/") && topic.includes(`/${this.prefix}/`);
  }

  /**
   * Rejects every pending answer, and every wait on a private topic, with
   * `error`: the connection they went out on is gone.
   */
  rejectAll(error: ConnectionClosedError): void {
    for (const answer of this.#acks.values()) answer.reject(error);
    this.#acks.clear();
    this.#checkIdle();
    this.#hello?.reject(error);
    for (const waiting of this.#messages.values()) waiting.reject(error);
  }
}
