/**
 * The benchmark's floor: a minimal relay of the same wire protocol (no
 * limits, no validation beyond `JSON.parse`, no slow-consumer handling), so
 * that `--runtimes relay` shows what the machine and the load generator
 * allow by themselves. Not a server to use: it exists to be compared with.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import net from "node:net";
import process from "node:process";

const topics = new Map<string, Set<net.Socket>>();

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let pending = "";
  socket.on("data", (chunk: Buffer) => {
    pending += chunk.toString("latin1");
    for (let at = pending.indexOf("\n"); at !== -1; at = pending.indexOf("\n")) {
      const frame = JSON.parse(pending.slice(0, at));
      pending = pending.slice(at + 1);
      if (frame.action === "subscribe") {
        let subscribers = topics.get(frame.topic);
        if (subscribers === undefined) topics.set(frame.topic, subscribers = new Set());
        subscribers.add(socket);
      } else if (frame.action === "publish") {
        const delivery = JSON.stringify({ topic: frame.topic, message: frame.message }) + "\n";
        for (const subscriber of topics.get(frame.topic) ?? []) subscriber.write(delivery);
      }
    }
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => {
    for (const subscribers of topics.values()) subscribers.delete(socket);
  });
});

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as net.AddressInfo;
  console.log(`relay listening on 127.0.0.1:${port}`);
});
process.on("SIGTERM", () => process.exit(0));
