/**
 * Client keepalive: answering the server's pings, and pinging a quiet server
 * until it is declared dead with ping_timeout (against fake servers).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PubSubClient, PubSubError } from "../mod.ts";
import { answerHello, connectToFake, FakeServer, nextStatus } from "./client_fakes.ts";
import { serverCases } from "./helpers.ts";

for (const { name, make } of serverCases()) {
  test(`ping (${name}): a server that stops answering is dropped with ping_timeout and the client reconnects`, async () => {
    const transport = make();
    const fake = await FakeServer.start(transport);
    const accepted = fake.accept();
    const connecting = PubSubClient.connect("127.0.0.1", fake.port, {
      transport,
      hello: true,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      limits: { pingIntervalMs: 10, maxPingsOutstanding: 2 },
    });
    const mute = await accepted;
    await answerHello(mute); // then never answers
    const client = await connecting;
    const events = client.status();
    const next = fake.accept();
    const { event: lost, before } = await nextStatus(events, "disconnect");
    assert.deepEqual(before, []);
    assert.ok(lost.error instanceof PubSubError);
    assert.equal(lost.error.code, "ping_timeout");
    // It sent exactly maxPingsOutstanding pings, then hung up.
    assert.deepEqual(await mute.end(), ['{"action":"ping"}', '{"action":"ping"}']);
    const { event: attempt } = await nextStatus(events, "reconnect");
    assert.equal(attempt.attempt, 1);
    assert.equal(attempt.error, lost.error);
    const again = await next;
    await answerHello(again);
    await nextStatus(events, "connect");
    await client.close();
    await fake.close();
  });

  test(`ping (${name}): any line from the server counts as an answer`, async () => {
    const { fake, peer, client } = await connectToFake(make(), {
      hello: true,
      // 11 quiet ticks (220 ms) to time out: a stalled event loop cannot.
      limits: { pingIntervalMs: 20, maxPingsOutstanding: 10 },
    });
    const events = client.status();
    // Answer each ping with a delivery instead of a pong, more times than
    // maxPingsOutstanding: were deliveries not answers, the client would
    // have hung up before the last ping.
    for (let i = 0; i < 12; i++) {
      assert.deepEqual(await peer.json(), { action: "ping" });
      await peer.sendJson({ topic: "t", message: i });
    }
    assert.equal(client.connected, true);
    await client.close();
    assert.deepEqual((await events.next()).value, { type: "close", error: null });
    await fake.close();
  });

  test(`ping (${name}): the client answers the server's pings, with their id`, async () => {
    // No hello: kn-sock style, pings are still answered.
    const { fake, peer, client } = await connectToFake(make());
    await peer.sendJson({ action: "ping", id: 7 });
    assert.deepEqual(await peer.json(), { action: "pong", id: 7 });
    await peer.sendJson({ action: "ping" });
    assert.deepEqual(await peer.json(), { action: "pong" });
    assert.equal(await client.recv({ timeout: 0 }), null, "pings are not messages");
    await client.close();
    await fake.close();
  });
}

test("ping: the client pings at the server's ping_interval when it is shorter", async () => {
  const [{ make }] = serverCases();
  const { fake, peer, client } = await connectToFake(make(), {
    hello: true,
    limits: { pingIntervalMs: 3_600_000, maxPingsOutstanding: 100 },
  }, { ping_interval: 10 });
  assert.equal(client.server?.pingInterval, 10);
  assert.deepEqual(await peer.json(), { action: "ping" }); // an hour would time the test out
  await client.close();
  await fake.close();
});
