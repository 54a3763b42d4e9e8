/**
 * `client.flush()`: a `ping` with an `id` that routes nothing, so no
 * subscriber to `#`, handler route or statistic sees it; it completes
 * against a handler that stops every frame, reports `auth_required`, and
 * against a server that never answers it stops when its signal aborts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createMemoryTransport } from "../mod.ts";
import type { ClientFrame } from "../mod.ts";
import { connectToFake } from "./client_fakes.ts";
import { startFixture, subscribed, take } from "./helpers.ts";

test("flush() routes nothing: a '#' subscriber, the handler and the stats see only user publishes", async () => {
  const seen: string[] = [];
  const fixture = await startFixture(createMemoryTransport(), {
    handler(data: ClientFrame) {
      seen.push(data.action === "publish" ? `publish ${data.topic}` : data.action);
    },
  });
  try {
    const watcher = await fixture.client();
    await subscribed(watcher, "#");
    const publisher = await fixture.client(); // no hello: a kn-sock client's flush
    await publisher.flush();
    await publisher.publish("news/a", "real");
    await publisher.flush();
    assert.deepEqual(await take(watcher, 1), [{ topic: "news/a", message: "real" }]);
    await watcher.flush();
    assert.equal(await watcher.recv({ timeout: 0 }), null);
    assert.deepEqual(seen.filter((s) => s.startsWith("publish")), ["publish news/a"]);
    assert.equal(fixture.server.stats().messagesIn, 1);
  } finally {
    await fixture.close();
  }
});

test("flush() completes when the server's handler stops every frame (an allow-list that allows nothing)", async () => {
  const fixture = await startFixture(createMemoryTransport(), { handler: () => false });
  try {
    const client = await fixture.client();
    await client.subscribe("t");
    await client.flush();
  } finally {
    await fixture.close();
  }
});

test("flush() stops at its signal against a server that never answers (kn-sock)", async () => {
  const { fake, peer, client } = await connectToFake(createMemoryTransport(), {
    reconnect: false,
  });
  try {
    const controller = new AbortController();
    const flushing = client.flush({ signal: controller.signal });
    const ping = await peer.json();
    assert.equal(ping.action, "ping");
    assert.equal(typeof ping.id, "number");
    controller.abort(new Error("gave up"));
    await assert.rejects(flushing, /gave up/);
    // The marker round trip works there: the fake routes the publish back.
    const viaTopic = client.flush({ viaTopic: true });
    const subscribe = await peer.json();
    const publish = await peer.json();
    assert.equal(subscribe.action, "subscribe");
    assert.equal(publish.action, "publish");
    await peer.sendJson({ topic: publish.topic, message: null });
    await viaTopic;
    assert.equal(client.droppedMessages, 0);
  } finally {
    await client.close();
    await fake.close();
  }
});
