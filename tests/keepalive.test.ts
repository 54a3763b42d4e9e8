/**
 * Server keepalive: pings to quiet clients that said hello, ping_timeout for
 * dead ones, none for kn-sock clients; payload limits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { serverCases, startFixture, until } from "./helpers.ts";

/**
 * Pings the server sends a silent client before closing it. The watchdog and
 * the test share one event loop, so a stall of the loop (a loaded machine)
 * delays a pong's reading while the watchdog's rounds go on: with 20 ms
 * intervals, 10 pings outstanding give a client that answers over 200 ms.
 */
const MAX_PINGS = 10;

for (const { name, make } of serverCases()) {
  test(`keepalive (${name}): a quiet client is pinged, stays while it answers, and is closed when it stops`, async () => {
    const f = await startFixture(make(), {
      limits: { pingIntervalMs: 20, maxPingsOutstanding: MAX_PINGS },
    });
    const peer = await f.raw();
    await peer.sendJson({ action: "hello" });
    assert.equal((await peer.json()).ping_interval, 20);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await peer.json(), { action: "ping" });
      await peer.sendJson({ action: "pong" });
    }
    // Now it stops answering: pings (the last one answered may have crossed
    // one already on its way), then the close.
    let pings = 0;
    let frame = await peer.json();
    while (frame.action === "ping") {
      assert.deepEqual(frame, { action: "ping" });
      pings++;
      frame = await peer.json();
    }
    assert.ok(pings >= MAX_PINGS, `${pings} pings before the close`);
    assert.deepEqual(frame, {
      action: "error",
      code: "ping_timeout",
      error: `No answer to ${MAX_PINGS} pings`,
    });
    assert.deepEqual(await peer.end(), []);
    await until(() => f.server.stats().connections === 0, "the close");
    assert.equal(f.server.stats().pingTimeouts, 1);
    await f.close();
  });

  test(`keepalive (${name}): a kn-sock client that never said hello is never pinged`, async () => {
    const f = await startFixture(make(), {
      limits: { pingIntervalMs: 10, maxPingsOutstanding: 1 },
    });
    const knsock = await f.raw();
    await knsock.sendJson({ action: "subscribe", topic: "news" });
    await until(() => f.server.stats().subscriptions === 1, "the kn-sock subscription");
    const modern = await f.raw();
    await modern.sendJson({ action: "hello" });
    await modern.json();
    // The hello client is closed after silent intervals: by then the kn-sock one would have been pinged.
    const lines = await modern.end();
    assert.equal(JSON.parse(lines[lines.length - 1]).code, "ping_timeout");
    f.server.publish("news", "still here");
    assert.deepEqual(await knsock.json(), { topic: "news", message: "still here" });
    await f.close();
  });

  test(`keepalive (${name}): a client's ping is answered with a pong carrying its id`, async () => {
    const f = await startFixture(make());
    const peer = await f.raw();
    await peer.sendJson({ action: "ping", id: 5 });
    assert.deepEqual(await peer.json(), { action: "pong", id: 5 });
    await peer.sendJson({ action: "ping" });
    assert.deepEqual(await peer.json(), { action: "pong" });
    await f.close();
  });
}
