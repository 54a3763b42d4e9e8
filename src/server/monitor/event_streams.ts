/**
 * `/events`: server-sent event streams. Each stream first gets the recent
 * history, then one snapshot per sample (about a second). Bounded: at most
 * {@linkcode MAX_EVENT_STREAMS} streams, and a stream whose reader lets
 * more than {@linkcode MAX_UNREAD_EVENT_BYTES} pile up is ended.
 *
 * @module
 */

/** The most `/events` streams open at once; one more gets `503`. */
export const MAX_EVENT_STREAMS: number = 32;
/** Unread bytes a stream may hold before it is ended. */
export const MAX_UNREAD_EVENT_BYTES: number = 256 * 1024;

const encoder = new TextEncoder();

/** Encodes one event: `event: <name>` and its data as one JSON line. */
export function sseEvent(name: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** The open `/events` streams of one monitor. */
export class EventStreams {
  readonly #streams = new Set<ReadableStreamDefaultController<Uint8Array>>();

  /** Streams open now. */
  get size(): number {
    return this.#streams.size;
  }

  /**
   * A new stream that starts with `first`, or `null` when
   * {@linkcode MAX_EVENT_STREAMS} are open.
   */
  open(first: Uint8Array): ReadableStream<Uint8Array> | null {
    if (this.#streams.size >= MAX_EVENT_STREAMS) return null;
    let own: ReadableStreamDefaultController<Uint8Array> | null = null;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        own = controller;
        this.#streams.add(controller);
        controller.enqueue(first);
      },
      cancel: () => {
        if (own !== null) this.#streams.delete(own);
      },
    }, { highWaterMark: MAX_UNREAD_EVENT_BYTES, size: (chunk) => chunk?.byteLength ?? 0 });
  }

  /** Sends `event` to every stream; ends the streams that stopped reading. */
  send(event: Uint8Array): void {
    for (const controller of this.#streams) {
      if ((controller.desiredSize ?? 0) < event.byteLength) {
        this.#end(controller);
        continue;
      }
      controller.enqueue(event);
    }
  }

  /** Ends every stream (abruptly). Idempotent. */
  close(): void {
    for (const controller of this.#streams) this.#end(controller);
  }

  /**
   * Ends a stream abruptly: what it still holds is dropped, so that neither
   * a reader that stopped reading nor closing the listener (which waits for
   * responses in progress) waits on it.
   */
  #end(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#streams.delete(controller);
    try {
      controller.error(new Error("Event stream ended"));
    } catch {
      // Already closed or errored by the reader's side.
    }
  }
}
