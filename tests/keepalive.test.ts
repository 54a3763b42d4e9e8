/**
 * Server keepalive: pings to quiet clients that said hello, ping_timeout for
 * dead ones, none for kn-sock clients; payload limits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { serverCases, startFixture, until } from "./helpers.ts";

for (const { name, make } of serverCases()) {
  test(`keepalive (${name}): a quiet client is pinged, stays while it answers, and is closed when it stops`, async () => {
    const f = await startFixture(make(), {
      limits: { pingIntervalMs: 20, maxPingsOutstanding: 2 },
    });
    const peer = await f.raw();
    await peer.sendJson({ action: "hello" });
    assert.equal((await peer.json()).ping_interval, 20);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await peer.json(), { action: "ping" });
      await peer.sendJson({ action: "pong" });
    }
    // Now it stops answering: two more pings, then the close.
    assert.deepEqual(await peer.json(), { action: "ping" });
    assert.deepEqual(await peer.json(), { action: "ping" });
    assert.deepEqual(await peer.json(), {
      action: "error",
      code: "ping_timeout",
      error: "No answer to 2 pings",
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
