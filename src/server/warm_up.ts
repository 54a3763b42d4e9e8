/**
 * Warming the publish path up before a server takes its first connection:
 * a private server over the memory transport routes a few tens of thousands
 * of publishes (fan-out 1 and 10, to kn-sock and to `hello` subscribers),
 * so that the runtime has compiled the scanner, the router, the encoder and
 * the write queue before the first real client publishes. A broker
 * restarted under load otherwise serves its first hundred thousand messages
 * at a few times its warm cost (`docs/PERFORMANCE.md`, cold start).
 *
 * Nothing of it is seen from outside: its server has its own counters,
 * listens on no socket and is closed before the function returns.
 *
 * @module
 */

import { silentLogger } from "../logger.ts";
import { createMemoryTransport } from "../transport/memory.ts";
import type { Conn } from "../transport/types.ts";
import { startPubSubServer } from "./pubsub_server.ts";

/**
 * Publishes routed by {@linkcode warmUpPublishPath} by default.
 *
 * @example
 * ```ts
 * import { WARM_UP_MESSAGES } from "@kn-sock/pubsub";
 *
 * console.log(WARM_UP_MESSAGES); // 100000
 * ```
 */
export const WARM_UP_MESSAGES: number = 100_000;

/** Publishes written to the private server in one write. */
const BATCH = 500;
/** The plain subscribers of the fan-out 10 topic (one of them also gets the fan-out 1 topic). */
const FAN_OUT = 10;

const encoder = new TextEncoder();

/**
 * Routes `messages` publishes through a private server over the memory
 * transport, half to one subscriber and half to ten plain and one `hello`
 * subscriber, and waits until every delivery arrived; then closes it.
 *
 * @param messages How many publishes to route.
 * @returns The deliveries that arrived (each publish once to each subscriber
 *   of its topic), once the private server is closed.
 *
 * @example
 * ```ts
 * import { startPubSubServer, warmUpPublishPath } from "@kn-sock/pubsub";
 *
 * await warmUpPublishPath(); // about a quarter of a second
 * const server = await startPubSubServer({ port: 0 });
 * await server.close();
 * ```
 */
export async function warmUpPublishPath(messages: number = WARM_UP_MESSAGES): Promise<number> {
  const transport = createMemoryTransport();
  const server = await startPubSubServer({
    transport,
    host: "warm-up",
    port: 0,
    logger: silentLogger,
  });
  const conns: Conn[] = [];
  const readers: Reader[] = [];
  try {
    const connect = async (): Promise<Conn> => {
      const conn = await transport.connect({
        hostname: server.addr.hostname,
        port: server.addr.port,
      });
      conns.push(conn);
      return conn;
    };
    const publisher = await connect();
    for (let i = 0; i < FAN_OUT + 1; i++) {
      const hello = i === FAN_OUT;
      const reader = new Reader(await connect());
      readers.push(reader);
      const frames = [
        ...(hello ? [{ action: "hello", version: 1 }] : []),
        { action: "subscribe", topic: "warm/ten/+" },
        ...(i === 0 ? [{ action: "subscribe", topic: "warm/one" }] : []),
        { action: "ping", id: 1 },
      ];
      await reader.conn.write(
        encoder.encode(frames.map((f) => JSON.stringify(f)).join("\n") + "\n"),
      );
      // The ping's answer comes after the subscriptions are in place.
      await reader.until(hello ? 2 : 1);
      reader.lines = 0;
    }
    const one = encoder.encode(
      `{"action":"publish","topic":"warm/one","message":{"n":1,"text":"${"x".repeat(64)}"}}\n`,
    );
    const ten = encoder.encode(
      `{"action":"publish","topic":"warm/ten/a","message":{"n":2,"text":"${"y".repeat(64)}"}}\n`,
    );
    let sentOne = 0;
    let sentTen = 0;
    const batch = new Uint8Array(BATCH * Math.max(one.byteLength, ten.byteLength));
    while (sentOne + sentTen < messages) {
      let at = 0;
      const count = Math.min(BATCH, messages - sentOne - sentTen);
      for (let i = 0; i < count; i++) {
        const line = (sentOne + sentTen) % 2 === 0 ? one : ten;
        batch.set(line, at);
        at += line.byteLength;
        if (line === one) sentOne++;
        else sentTen++;
      }
      await publisher.write(batch.subarray(0, at));
      // Every delivery of this batch arrives before the next: the queues stay short.
      await Promise.all(readers.map((r, i) => r.until(i === 0 ? sentOne + sentTen : sentTen)));
    }
  } finally {
    for (const conn of conns) conn.close();
    await server.close();
  }
  return readers.reduce((sum, reader) => sum + reader.lines, 0);
}

/** Counts the lines a connection receives, and lets a caller wait for a count. */
class Reader {
  readonly conn: Conn;
  lines = 0;
  #waiting: { count: number; resolve: () => void } | null = null;
  #ended = false;

  constructor(conn: Conn) {
    this.conn = conn;
    void this.#read();
  }

  /** Resolves once `count` lines arrived (or the connection ended). */
  until(count: number): Promise<void> {
    if (this.lines >= count || this.#ended) return Promise.resolve();
    return new Promise((resolve) => this.#waiting = { count, resolve });
  }

  async #read(): Promise<void> {
    try {
      for await (const chunk of this.conn) {
        for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) {
          this.lines++;
        }
        this.#wake();
      }
    } catch {
      // Closed: the warm-up is over or failed; either way nobody waits.
    }
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const waiting = this.#waiting;
    if (waiting !== null && (this.lines >= waiting.count || this.#ended)) {
      this.#waiting = null;
      waiting.resolve();
    }
  }
}
