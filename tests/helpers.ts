/**
 * Shared test helpers: transports per runtime, raw connections, and waiting
 * on events (never on time).
 */

import type { Conn, Message, Transport } from "../mod.ts";
import {
  createMemoryTransport,
  defaultTransport,
  detectRuntime,
  PubSubClient,
  startPubSubServer,
} from "../mod.ts";
import type { PubSubServer, PubSubServerOptions } from "../mod.ts";
import { bunTransport } from "../src/transport/bun.ts";
import { denoTransport } from "../src/transport/deno.ts";
import { nodeTransport } from "../src/transport/node.ts";
import assert from "node:assert/strict";
import type { Child } from "./child_process.ts";

/** A named way to get a transport; memory makes a fresh network each time. */
export interface TransportCase {
  name: string;
  make(): Transport;
}

/** Every transport this runtime supports: memory and node:net everywhere, plus its own. */
export function transportCases(): TransportCase[] {
  const cases: TransportCase[] = [
    { name: "memory", make: createMemoryTransport },
    { name: "node", make: () => nodeTransport },
  ];
  const runtime = detectRuntime();
  if (runtime === "deno") cases.push({ name: "deno", make: () => denoTransport });
  if (runtime === "bun") cases.push({ name: "bun", make: () => bunTransport });
  return cases;
}

/** The memory transport and this runtime's own TCP transport: for server behaviour tests. */
export function serverCases(): TransportCase[] {
  const all = transportCases();
  const native = all.find((c) => c.name === detectRuntime()) ?? all[1];
  return [all[0], native];
}

/**
 * A 127.0.0.1 TCP port that was free a moment ago: for options that need
 * the same port twice, and for servers of other programs (redis-server).
 */
export async function freePort(): Promise<number> {
  const probe = await (await defaultTransport()).listen({ hostname: "127.0.0.1", port: 0 });
  await probe.close();
  return probe.addr.port;
}

/** A server and a way to open clients and raw connections to it. */
export interface Fixture {
  server: PubSubServer;
  transport: Transport;
  client(): Promise<PubSubClient>;
  raw(): Promise<RawPeer>;
  close(): Promise<void>;
}

/** Starts a server on `transport` with `options`; `close()` closes everything it opened. */
export async function startFixture(
  transport: Transport,
  options: PubSubServerOptions = {},
): Promise<Fixture> {
  const server = await startPubSubServer({ port: 0, transport, ...options });
  const opened: { close(): Promise<void> | void }[] = [];
  return {
    server,
    transport,
    async client() {
      const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { transport });
      opened.push(client);
      return client;
    },
    async raw() {
      const conn = await transport.connect({ hostname: "127.0.0.1", port: server.addr.port });
      const peer = new RawPeer(conn);
      opened.push(peer);
      return peer;
    },
    async close() {
      await Promise.all(opened.map((c) => c.close()));
      await server.close();
    },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A raw connection that reads lines as JSON, for protocol-level tests. */
export class RawPeer {
  readonly conn: Conn;
  #iterator: AsyncIterator<Uint8Array>;
  #buffer = "";
  #ended = false;

  constructor(conn: Conn) {
    this.conn = conn;
    this.#iterator = conn[Symbol.asyncIterator]();
  }

  /** Writes a string or bytes. */
  send(data: string | Uint8Array): Promise<void> {
    return this.conn.write(typeof data === "string" ? encoder.encode(data) : data);
  }

  /** Writes one JSON value and a newline. */
  sendJson(value: unknown): Promise<void> {
    return this.send(JSON.stringify(value) + "\n");
  }

  /** Sends one JSON frame and returns the next line, parsed (its answer, when it has an `id`). */
  async ask(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.sendJson(frame);
    return await this.json();
  }

  /** The next line, or `null` at end of stream. */
  async line(): Promise<string | null> {
    while (true) {
      const newline = this.#buffer.indexOf("\n");
      if (newline !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      if (this.#ended) return null;
      const next = await this.#iterator.next();
      if (next.done) {
        this.#ended = true;
        continue;
      }
      this.#buffer += decoder.decode(next.value, { stream: true });
    }
  }

  /** The next line parsed as JSON; fails at end of stream. */
  async json(): Promise<Record<string, unknown>> {
    const line = await this.line();
    if (line === null) throw new Error("Stream ended before a line");
    return JSON.parse(line);
  }

  /**
   * Reads until the peer ends the stream, then closes this side (as a real
   * client does); returns the lines left unread.
   */
  async end(): Promise<string[]> {
    const lines: string[] = [];
    for (let line = await this.line(); line !== null; line = await this.line()) lines.push(line);
    this.conn.close();
    return lines;
  }

  close(): void {
    this.conn.close();
  }
}

/** Subscribes and waits until the server has the subscription. */
export async function subscribed(client: PubSubClient, ...topics: string[]): Promise<void> {
  for (const topic of topics) await client.subscribe(topic);
  await client.flush();
}

/** {@linkcode subscribed} on a kn-sock server, which answers no ping: a marker round trip. */
export async function subscribedOnKnSock(client: PubSubClient, topic: string): Promise<void> {
  await client.subscribe(topic);
  await client.flush({ viaTopic: true });
}

/** Receives `count` messages, failing if the client closes first. */
export async function take(client: PubSubClient, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < count) {
    const message = await client.recv();
    if (message !== null) messages.push(message);
  }
  return messages;
}

/**
 * Waits until `condition()` holds, checking once per macrotask. It waits on
 * the event loop, not on a clock: `what` names the event in the failure.
 */
export async function until(
  condition: () => boolean,
  what: string,
  maxTurns = 100_000,
): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  throw new Error(`Gave up waiting for ${what}`);
}

/**
 * Asserts that a CLI server stopped by a signal shut down cleanly: it logged
 * "Server closed" and exited 0. Deno's node:child_process reports a child it
 * signalled as killed by that signal even when the child handled it and
 * exited 0, so there the log line is the proof.
 */
export function assertCleanExit(child: Child): void {
  assert.match(child.stderr, /Server closed/);
  if (detectRuntime() !== "deno") assert.equal(child.process.exitCode, 0);
}
