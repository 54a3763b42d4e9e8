/**
 * A storm of connections reset before they are accepted does not stall the
 * listener: each TCP transport serves the next client at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { grace } from "../src/_async.ts";
import { transportCases } from "./helpers.ts";

const RESETS = 300;
/**
 * Far above the few milliseconds the storm takes, far below what a pause
 * per reset costs (Deno's adapter paused 50 ms for each: 15 s).
 */
const STALL_BOUND_MS = 5_000;

/** Connects and resets (RST) the connection as soon as it is established. */
function connectAndReset(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: "127.0.0.1", port }, () => {
      socket.resetAndDestroy();
      resolve();
    });
    socket.on("error", () => resolve());
  });
}

for (const { name, make } of transportCases().filter((c) => c.name !== "memory")) {
  test(`accept (${name}): ${RESETS} connections reset before accept do not stall the next client`, async () => {
    const transport = make();
    const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
    const iterator = listener[Symbol.asyncIterator]();
    try {
      // Nothing is accepted yet: every reset connection waits in the backlog.
      for (let i = 0; i < RESETS; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, () => connectAndReset(listener.addr.port)),
        );
      }
      const client = await transport.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      try {
        await client.write(new TextEncoder().encode("hello\n"));
        const bound = grace(STALL_BOUND_MS);
        const served = (async () => {
          // Accepted connections are either reset ones (their reads end at
          // once) or the client's, which carries the line.
          for (;;) {
            const next = await iterator.next();
            assert.equal(next.done, false, "the listener ended");
            const conn = next.value;
            const first = await conn[Symbol.asyncIterator]().next().catch(() => ({ done: true }));
            conn.close();
            if (first.done !== true) return "served";
          }
        })();
        const outcome = await Promise.race([served, bound.elapsed.then(() => "stalled")]);
        bound.clear();
        assert.equal(outcome, "served");
      } finally {
        client.close();
      }
    } finally {
      await listener.close();
      await iterator.return?.();
    }
  });
}
