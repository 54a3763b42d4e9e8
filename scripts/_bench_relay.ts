/**
 * The benchmark's baseline: the smallest fair fan-out server of the same
 * wire protocol, on Bun's `node:net`, so that `--runtimes relay` shows what
 * a plain runtime server does on this machine with this load generator.
 *
 * Fair means it does what a careful hand-written server would: lines are
 * split in linear time (only new bytes are searched for `\n`; a partial
 * line is kept as parts and joined once), each delivery is serialised once
 * per publish and shared by its subscribers, and the deliveries for one
 * connection are coalesced into one write per tick (one shared microtask
 * flushes every connection written to in that tick). It has no limits, no
 * validation beyond `JSON.parse`, no wildcards and no slow-consumer
 * handling: not a server to use, a baseline to compare with.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import net from "node:net";
import process from "node:process";

const topics = new Map<string, Set<net.Socket>>();
/** Deliveries queued in this tick, per connection. */
const outbound = new Map<net.Socket, string[]>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const [socket, parts] of outbound) {
    if (!socket.destroyed) socket.write(parts.join(""));
  }
  outbound.clear();
}

function deliver(socket: net.Socket, delivery: string): void {
  const parts = outbound.get(socket);
  if (parts === undefined) outbound.set(socket, [delivery]);
  else parts.push(delivery);
  if (!flushScheduled) {
    flushScheduled = true;
    queueMicrotask(flush);
  }
}

function handle(socket: net.Socket, line: string): void {
  const frame = JSON.parse(line);
  if (frame.action === "subscribe") {
    let subscribers = topics.get(frame.topic);
    if (subscribers === undefined) topics.set(frame.topic, subscribers = new Set());
    subscribers.add(socket);
  } else if (frame.action === "unsubscribe") {
    topics.get(frame.topic)?.delete(socket);
  } else if (frame.action === "publish") {
    const subscribers = topics.get(frame.topic);
    if (subscribers === undefined || subscribers.size === 0) return;
    const delivery = JSON.stringify({ topic: frame.topic, message: frame.message }) + "\n";
    for (const subscriber of subscribers) deliver(subscriber, delivery);
  }
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  const decoder = new TextDecoder();
  /** The partial line, in the parts it came in. */
  let partial: string[] = [];
  socket.on("data", (chunk: Uint8Array) => {
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", start)) {
      const rest = text.slice(start, at);
      const line = partial.length === 0 ? rest : partial.join("") + rest;
      partial = [];
      start = at + 1;
      handle(socket, line);
    }
    if (start < text.length) partial.push(text.slice(start));
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => {
    outbound.delete(socket);
    for (const subscribers of topics.values()) subscribers.delete(socket);
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as net.AddressInfo;
  console.log(`relay listening on 127.0.0.1:${port}`);
});
process.on("SIGTERM", () => process.exit(0));
