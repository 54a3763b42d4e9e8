/**
 * The server's answers a client waits for: `ok`/`error` for frames sent
 * with an `id`, and the answer to `hello`.
 *
 * @module
 */

import { type Deferred, deferred } from "../_deferred.ts";
import type { ConnectionClosedError, ServerError } from "../errors.ts";
import type { FrameId, ServerInfo } from "../protocol/frames.ts";

function ignore(): void {
  // The promise is awaited by its caller; this only marks it handled.
}

/** Pending answers, by frame id. */
export class Answers {
  readonly #acks = new Map<FrameId, Deferred<void>>();
  #nextId = 1;
  #hello: Deferred<ServerInfo> | null = null;

  /** A fresh frame id. */
  nextId(): number {
    return this.#nextId++;
  }

  /** Waits for the answer to frame `id`: resolves on `ok`, rejects on `error`. */
  expect(id: FrameId): Promise<void> {
    const answer = deferred<void>();
    answer.promise.catch(ignore); // reported to whoever awaits it
    this.#acks.set(id, answer);
    return answer.promise;
  }

  /** Settles frame `id` with `error` instead (it could not be sent). */
  fail(id: FrameId, error: unknown): void {
    const answer = this.#acks.get(id);
    this.#acks.delete(id);
    answer?.reject(error);
  }

  /** An `ok` arrived. */
  ok(id: FrameId): void {
    const answer = this.#acks.get(id);
    this.#acks.delete(id);
    answer?.resolve();
  }

  /** An `error` arrived; `false` when no frame waited for it. */
  error(id: FrameId | undefined, error: ServerError): boolean {
    if (id === undefined || !this.#acks.has(id)) return false;
    this.fail(id, error);
    return true;
  }

  /** Waits for the answer to `hello`. */
  expectHello(): Promise<ServerInfo> {
    this.#hello = deferred<ServerInfo>();
    this.#hello.promise.catch(ignore);
    return this.#hello.promise;
  }

  /** Ends the wait for `hello` with `reason` (an abort), or forgets it (`undefined`). */
  endHello(reason?: unknown): void {
    if (reason !== undefined) this.#hello?.reject(reason);
    this.#hello = null;
  }

  /** The answer to `hello` arrived. */
  hello(info: ServerInfo): void {
    this.#hello?.resolve(info);
  }

  /** Rejects every pending answer with `error`. */
  rejectAll(error: ConnectionClosedError): void {
    for (const answer of this.#acks.values()) answer.reject(error);
    this.#acks.clear();
    this.#hello?.reject(error);
  }
}
