/**
 * The benchmark's load generator: raw `node:net` sockets that speak the
 * server's protocol (kn-sock, or a peer's: `_bench_protocols.ts`) with as
 * little work as possible (subscribers count deliveries; publishers write
 * pre-encoded batches), so the load generator takes a small share of the
 * two cores.
 *
 * @module
 */

import * as net from "node:net";
import { type Dialect, KNSOCK } from "./_bench_protocols.ts";

const encoder = new TextEncoder();

/** Resolves on the next `notify()`: how publishers wait for subscribers. */
export class Progress {
  #waiters: (() => void)[] = [];
  notify(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
  next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** Opens a socket with TCP_NODELAY. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    socket.once("connect", () => {
      socket.setNoDelay(true); // in case the runtime ignores the connect option
      socket.off("error", reject);
      socket.on("error", () => {
        // A closed connection shows up as a count that stops growing.
      });
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** A server the load connects to: its port and the protocol it speaks. */
export interface Endpoint {
  readonly port: number;
  readonly dialect: Dialect;
}

/** What the load writes to: a `net.Socket`, a {@linkcode Publisher}, a {@linkcode WsPublisher}. */
export interface Writer {
  /** Writes; `false` when the caller should wait for `drain`. */
  write(bytes: Uint8Array): boolean;
  /** Calls `listener` once the buffer drained. */
  once(event: "drain", listener: () => void): unknown;
}

/** Writes, waiting for 'drain' when the socket's buffer is full. */
export function write(socket: Writer, bytes: Uint8Array): Promise<void> | void {
  if (socket.write(bytes)) return;
  return new Promise((resolve) => socket.once("drain", resolve));
}

/** A writer that publishes: a {@linkcode Publisher}, or a {@linkcode WsPublisher}. */
export interface PublishWriter extends Writer {
  /** The protocol it speaks. */
  readonly dialect: Dialect;
}

/** One frame, encoded. */
export function frame(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) + "\n");
}

/**
 * A publisher: a socket that says the protocol's hello, and reads what the
 * server sends it only to answer pings and to keep the server's buffer
 * empty (Redis answers every `PUBLISH`).
 */
export class Publisher implements PublishWriter {
  readonly socket: net.Socket;
  readonly dialect: Dialect;

  private constructor(socket: net.Socket, dialect: Dialect) {
    this.socket = socket;
    this.dialect = dialect;
    const reader = dialect.reader({ reply: (text) => socket.write(text) });
    socket.on("data", (chunk: Uint8Array) => reader.read(chunk));
  }

  /** Connects to `server`. */
  static async open(server: Endpoint): Promise<Publisher> {
    const socket = await connect(server.port);
    if (server.dialect.hello !== "") socket.write(server.dialect.hello);
    return new Publisher(socket, server.dialect);
  }

  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  once(event: "drain", listener: () => void): void {
    this.socket.once(event, listener);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A subscriber that counts deliveries; optionally hands each delivery over
 * as the protocol frames it (kn-sock: the line; NATS, Redis: the payload).
 */
export class Subscriber {
  readonly socket: net.Socket;
  count = 0;
  closed = false;
  /** While set, chunks are also searched for this text; `seen` tells when it came. */
  watch: string | null = null;
  seen = false;
  #watchTail = "";

  constructor(
    socket: net.Socket,
    progress: Progress,
    onDelivery?: (delivery: string) => void,
    dialect: Dialect = KNSOCK,
  ) {
    this.socket = socket;
    const reader = dialect.reader({ onDelivery, reply: (text) => socket.write(text) });
    socket.on("close", () => {
      this.closed = true;
      progress.notify();
    });
    socket.on("data", (chunk: Uint8Array) => {
      if (this.watch !== null && !this.seen) {
        const text = this.#watchTail + new TextDecoder().decode(chunk);
        this.seen = text.includes(this.watch);
        this.#watchTail = text.slice(-this.watch.length);
      }
      this.count += reader.read(chunk);
      progress.notify();
    });
  }

  /** Connects to `server` (a port: this package's) and subscribes to `topics`. */
  static async open(
    server: number | Endpoint,
    topics: string[],
    progress: Progress,
    onDelivery?: (delivery: string) => void,
  ): Promise<Subscriber> {
    const { port, dialect } = typeof server === "number"
      ? { port: server, dialect: KNSOCK }
      : server;
    const socket = await connect(port);
    const subscriber = new Subscriber(socket, progress, onDelivery, dialect);
    // The hello and every subscription in one write.
    const text = dialect.hello + topics.map((topic, i) => dialect.subscribe(topic, i + 1)).join("");
    if (text !== "") await write(socket, encoder.encode(text));
    return subscriber;
  }
}

/**
 * Publishes warm-up messages until every subscriber got one (so every
 * subscription is active), then a fence, and waits until every subscriber
 * got the fence: after it, no warm-up message is still on its way.
 */
export async function warmUp(
  publisher: PublishWriter,
  topic: string,
  subscribers: readonly (Subscriber | WsSubscriber)[],
  progress: Progress,
): Promise<void> {
  const bytes = encoder.encode(publisher.dialect.publish(topic, "warm-up"));
  while (subscribers.some((s) => s.count === 0)) {
    await write(publisher, bytes);
    await Promise.race([progress.next(), new Promise((r) => setTimeout(r, 5))]);
  }
  const fence = `fence-${Math.random()}`;
  for (const s of subscribers) {
    s.watch = fence;
    s.seen = false;
  }
  await write(publisher, encoder.encode(publisher.dialect.publish(topic, fence)));
  while (subscribers.some((s) => !s.seen)) await progress.next();
  for (const s of subscribers) s.watch = null;
}

/** What `publishPaced` needs to know about how deliveries are going. */
export interface Pace {
  /** Deliveries so far. */
  delivered(): number;
  /** Deliveries one publish makes. */
  perMessage: number;
  /** The most messages the publisher may be ahead of delivery. */
  window: number;
  /** Stop early (for example when the deadline passes). */
  stop(): boolean;
}

/**
 * Publishes `count` frames made by `make(i)`, in batches, respecting the
 * socket's backpressure and staying at most `pace.window` messages ahead of
 * the deliveries.
 */
export async function publishPaced(
  publisher: Writer,
  count: number,
  make: (i: number) => string,
  pace: Pace,
  progress: Progress,
  start = 0,
): Promise<number> {
  const batch = 128;
  let sent = 0;
  while (sent < count && !pace.stop()) {
    const n = Math.min(batch, count - sent);
    let text = "";
    for (let i = 0; i < n; i++) text += make(start + sent + i);
    await write(publisher, encoder.encode(text));
    sent += n;
    while (
      sent * pace.perMessage - pace.delivered() > pace.window * pace.perMessage && !pace.stop()
    ) {
      await Promise.race([progress.next(), new Promise((r) => setTimeout(r, 20))]);
    }
  }
  return sent;
}

/** Waits until `done()` or until `deadline` (ms since epoch). */
export async function waitFor(
  done: () => boolean,
  progress: Progress,
  deadline: number,
): Promise<boolean> {
  while (!done()) {
    if (Date.now() > deadline) return false;
    await Promise.race([progress.next(), new Promise((r) => setTimeout(r, 20))]);
  }
  return true;
}

/**
 * A subscriber over WebSocket (the runtime's global `WebSocket`; the
 * benchmark runs on Bun): counts the lines it receives, like
 * {@linkcode Subscriber}, whatever way they are cut into messages.
 */
export class WsSubscriber {
  readonly socket: { destroy(): void };
  count = 0;
  closed = false;
  /** While set, messages are also searched for this text; `seen` tells when it came. */
  watch: string | null = null;
  seen = false;
  #watchTail = "";

  private constructor(ws: WebSocket, progress: Progress) {
    this.socket = { destroy: () => ws.close() };
    ws.binaryType = "arraybuffer";
    ws.addEventListener("close", () => {
      this.closed = true;
      progress.notify();
    });
    ws.addEventListener("message", (event: MessageEvent) => {
      const chunk = typeof event.data === "string"
        ? new TextEncoder().encode(event.data)
        : new Uint8Array(event.data as ArrayBuffer);
      if (this.watch !== null && !this.seen) {
        const text = this.#watchTail + new TextDecoder().decode(chunk);
        this.seen = text.includes(this.watch);
        this.#watchTail = text.slice(-this.watch.length);
      }
      let at = chunk.indexOf(10);
      while (at !== -1) {
        this.count++;
        at = chunk.indexOf(10, at + 1);
      }
      progress.notify();
    });
  }

  /** Opens a WebSocket to `url` and subscribes to `topics`. */
  static async open(url: string, topics: string[], progress: Progress): Promise<WsSubscriber> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`WebSocket to ${url} failed`)), {
        once: true,
      });
    });
    const subscriber = new WsSubscriber(ws, progress);
    for (const topic of topics) {
      ws.send(frame({ action: "subscribe", topic }) as Uint8Array<ArrayBuffer>);
    }
    return subscriber;
  }
}

/**
 * A publisher over WebSocket: each write is one binary message of at most
 * 64 KiB (as this package's client sends); past 1 MiB buffered, `write()`
 * says wait, and `drain` comes once `bufferedAmount` is back under it.
 */
export class WsPublisher implements PublishWriter {
  readonly dialect: Dialect = KNSOCK;
  readonly #ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  /** Opens a WebSocket to `url`. */
  static async open(url: string): Promise<WsPublisher> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`WebSocket to ${url} failed`)), {
        once: true,
      });
    });
    return new WsPublisher(ws);
  }

  write(bytes: Uint8Array): boolean {
    for (let at = 0; at < bytes.byteLength; at += 64 * 1024) {
      this.#ws.send(bytes.subarray(at, at + 64 * 1024) as Uint8Array<ArrayBuffer>);
    }
    return this.#ws.bufferedAmount < 1024 * 1024;
  }

  once(_event: "drain", listener: () => void): void {
    const check = (): void => {
      if (this.#ws.bufferedAmount < 1024 * 1024) listener();
      else setTimeout(check, 1);
    };
    setTimeout(check, 1);
  }

  /** Closes the WebSocket. */
  destroy(): void {
    this.#ws.close();
  }
}
