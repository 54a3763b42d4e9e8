/**
 * The write deadline counts progress in bytes, not in coalesced batches: a
 * reader that drains a multi-megabyte backlog steadily is not cut, and a
 * reader that is cut gets the `slow_consumer` frame right after the line it
 * was reading, not after the rest of the backlog (issue 18, finding 8).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createMemoryTransport } from "../mod.ts";
import { serverCases, startFixture } from "./helpers.ts";

const BODY = "x".repeat(990);

// Over TCP: the socket hands the reader the backlog a piece at a time, as a
// real reader gets it (the memory pipe would hand over a write whole).
const native = serverCases()[1];

test(`a reader draining a multi-megabyte backlog steadily is not cut by the write deadline (${native.name})`, async () => {
  const f = await startFixture(native.make(), {
    limits: { writeDeadlineMs: 300, maxOutboundBytes: 32 * 1024 * 1024 },
  });
  try {
    const peer = await f.raw();
    await peer.sendJson({ action: "subscribe", topic: "backlog", id: 1 });
    assert.deepEqual(await peer.json(), { action: "ok", id: 1 });
    const count = 16_000; // ~16 MB, published in one tick: one coalesced batch
    for (let i = 0; i < count; i++) f.server.publish("backlog", `${i}:${BODY}`);
    // The reader takes one chunk (at most 64 KiB or so), then lets a few ms
    // pass: the whole backlog takes far longer than the deadline, each piece far less.
    let lines = 0;
    let tail = "";
    const decoder = new TextDecoder();
    for await (const chunk of peer.conn) {
      const parts = (tail + decoder.decode(chunk, { stream: true })).split("\n");
      tail = parts.pop()!;
      for (const line of parts) {
        assert.equal(JSON.parse(line).message, `${lines}:${BODY}`, "deliveries whole and in order");
        lines++;
      }
      if (lines === count) break;
      await new Promise((resolve) => setTimeout(resolve, 5)); // a slow reader, not a wait for an event
    }
    assert.equal(lines, count);
    assert.equal(f.server.stats().slowConsumers, 0);
  } finally {
    await f.close();
  }
});

test("a subscriber cut with a large write in flight gets the slow_consumer frame after the line it was reading", async () => {
  const f = await startFixture(createMemoryTransport(), {
    limits: { maxOutboundBytes: 1024 * 1024 },
  });
  try {
    const peer = await f.raw(); // reads nothing until it is cut
    await peer.sendJson({ action: "subscribe", topic: "backlog", id: 1 });
    assert.deepEqual(await peer.json(), { action: "ok", id: 1 });
    const batch = 600; // ~600 KB in one tick: one batch, in flight while the peer does not read
    for (let i = 0; i < batch; i++) f.server.publish("backlog", `${i}:${BODY}`);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the batch's first write started
    for (let i = batch; f.server.stats().slowConsumers === 0; i++) {
      f.server.publish("backlog", `${i}:${BODY}`);
    }
    const lines = await peer.end();
    const last = JSON.parse(lines.pop()!);
    assert.equal(last.code, "slow_consumer");
    // Whole deliveries in order from the first, then the notice: the batch in
    // flight was cut after the line being written (at most two 64 KiB writes
    // and a line: one in the pipe, one being written), not written out whole.
    lines.forEach((line, i) => assert.equal(JSON.parse(line).message, `${i}:${BODY}`));
    assert.ok(
      lines.length < 200,
      `${lines.length} deliveries of the cut batch came before the notice`,
    );
  } finally {
    await f.close();
  }
});
