/**
 * Routing beyond kn-sock: wildcards, queue groups, request/reply, acks,
 * retained messages, hello, headers and sequence numbers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  type Message,
  PubSubClient,
  PubSubError,
  ServerError,
} from "../mod.ts";
import { serverCases, startFixture, subscribed, take, until } from "./helpers.ts";
import type { Fixture } from "./helpers.ts";

async function helloClient(f: Fixture, echo = true): Promise<PubSubClient> {
  const client = await PubSubClient.connect("127.0.0.1", f.server.addr.port, {
    transport: f.transport,
    hello: { name: "test", echo },
  });
  const close = f.close;
  f.close = async () => {
    await client.close();
    await close();
  };
  return client;
}

for (const { name, make } of serverCases()) {
  test(`routing (${name}): wildcard subscriptions get matching publishes once`, async () => {
    const f = await startFixture(make());
    const [sub, publisher] = await Promise.all([f.client(), f.client()]);
    await subscribed(sub, "news/#", "news/+", "+/sports");
    await publisher.publish("news/sports", 1); // matches all three: delivered once
    await publisher.publish("news", 2); // news/# matches its parent
    await publisher.publish("weather/today", 3); // nothing
    await publisher.publish("news/a/b", 4); // news/# only
    await publisher.publish("$SYS/sports", 5); // not matched by a leading +
    await publisher.publish("news/sports", 6);
    assert.deepEqual((await take(sub, 4)).map((m) => m.message), [1, 2, 4, 6]);
    assert.equal(await sub.recv({ timeout: 0 }), null);
    await f.close();
  });

  test(`routing (${name}): wildcards are refused in publishes and misplaced in patterns`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    await raw.sendJson({ action: "publish", topic: "news/+", message: "x" });
    assert.equal((await raw.json()).code, "invalid_topic");
    for (const topic of ["a/#/b", "a+/b", "#/x"]) {
      await raw.sendJson({ action: "subscribe", topic, id: topic });
      const answer = await raw.json();
      assert.equal(answer.code, "invalid_pattern");
      assert.equal(answer.id, topic);
    }
    assert.equal(f.server.stats().subscriptions, 0);
    await f.close();
  });

  test(`routing (${name}): a queue group gets each message once, fairly, plain subscribers all`, async () => {
    const f = await startFixture(make());
    const members = await Promise.all([f.client(), f.client(), f.client()]);
    const plain = await f.client();
    for (const member of members) await member.subscribe("jobs/+", { group: "workers" });
    await subscribed(plain, "jobs/+");
    for (const member of members) await member.flush();
    const publisher = await f.client();
    const total = 10_000;
    for (let i = 0; i < total; i++) void publisher.publish(`jobs/${i % 7}`, i);
    await publisher.flush();
    const seen = new Set<number>();
    const counts: number[] = [];
    for (const member of members) {
      let count = 0;
      for (
        let m = await member.recv({ timeout: 0 });
        m !== null;
        m = await member.recv({ timeout: 0 })
      ) {
        assert.ok(!seen.has(m.message as number), `message ${m.message} twice`);
        seen.add(m.message as number);
        count++;
      }
      counts.push(count);
    }
    // Every member's messages were queued before the publisher's flush returned.
    assert.equal(seen.size, total, `counts ${counts}`);
    for (const count of counts) {
      assert.ok(Math.abs(count - total / 3) <= total / 30, `counts ${counts}`);
    }
    assert.equal((await take(plain, total)).length, total);
    await f.close();
  });

  test(`routing (${name}): one publish reaches plain and hello subscribers, each in its own shape`, async () => {
    const f = await startFixture(make());
    const [first, second] = await Promise.all([f.raw(), f.raw()]);
    const extended = await helloClient(f);
    for (const raw of [first, second]) await raw.sendJson({ action: "subscribe", topic: "mix" });
    await subscribed(extended, "mix");
    await until(() => f.server.stats().subscriptions === 3, "the raw subscriptions");
    // The message's own bytes (its spacing) are copied into the kn-sock deliveries.
    const publisher = await f.raw();
    const message = '{ "n": 1,  "list": [true, null] }';
    for (let i = 0; i < 3; i++) {
      await publisher.send(`{"action": "publish", "topic": "mix", "message": ${message}}\n`);
    }
    for (const raw of [first, second]) {
      for (let i = 0; i < 3; i++) {
        assert.equal(await raw.line(), `{"topic":"mix","message":${message}}`);
      }
    }
    const got = await take(extended, 3);
    assert.deepEqual(got.map((m) => m.message), Array(3).fill({ n: 1, list: [true, null] }));
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3]);
    await f.close();
  });

  test(`routing (${name}): request/reply gets the first reply`, async () => {
    const f = await startFixture(make());
    const responder = await helloClient(f); // replies need the extended deliveries
    const sub = await responder.subscribe("svc/echo");
    // The responder's last ack may be cut short by the close at the end.
    const served = (async () => {
      for await (const request of sub) await request.respond?.({ echo: request.message });
    })().then(() => null, (error: unknown) => error);
    await responder.flush();
    const requester = await f.client();
    const reply = await requester.request("svc/echo", "ping", { timeout: 30_000 });
    assert.deepEqual(reply.message, { echo: "ping" });
    await f.close();
    const ended = await served;
    assert.ok(ended === null || ended instanceof ConnectionClosedError, String(ended));
  });

  test(`routing (${name}): request rejects with no_responders, timeout and abort`, async () => {
    const f = await startFixture(make());
    const requester = await helloClient(f);
    await assert.rejects(
      requester.request("svc/none", 1),
      (error: unknown) => error instanceof ServerError && error.code === "no_responders",
    );
    const silent = await f.client();
    await subscribed(silent, "svc/silent");
    await assert.rejects(
      requester.request("svc/silent", 1, { timeout: 1 }),
      (error: unknown) => error instanceof PubSubError && error.code === "timeout",
    );
    const controller = new AbortController();
    const pending = requester.request("svc/silent", 1, { signal: controller.signal });
    controller.abort(new Error("stop waiting"));
    await assert.rejects(pending, { message: "stop waiting" });
    await f.close();
  });

  test(`routing (${name}): frames with an id are answered with ok or error`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    await raw.sendJson({ action: "subscribe", topic: "acks", id: 1 });
    assert.deepEqual(await raw.json(), { action: "ok", id: 1 });
    await raw.sendJson({ action: "publish", topic: "acks", message: "m", id: "two" });
    const [first, second] = [await raw.json(), await raw.json()];
    assert.deepEqual([first, second], [{ topic: "acks", message: "m" }, {
      action: "ok",
      id: "two",
    }]);
    await raw.sendJson({ action: "subscribe", topic: "", id: 3 });
    assert.deepEqual(await raw.json(), {
      action: "error",
      code: "invalid_topic",
      error: "Topic must not be empty",
      id: 3,
    });
    // Without an id: kn-sock behaviour, no answer.
    await raw.sendJson({ action: "unsubscribe", topic: "acks" });
    await raw.sendJson({ action: "unsubscribe", topic: "acks", id: 4 });
    assert.deepEqual(await raw.json(), { action: "ok", id: 4 });
    await f.close();
  });

  test(`routing (${name}): a client after hello waits for acks and sees refusals`, async () => {
    const f = await startFixture(make());
    const client = await helloClient(f);
    const sub = await client.subscribe("acked/#");
    await client.publish("acked/x", 1); // resolves on the server's ok
    await assert.rejects(
      client.publish("acked/+", 2),
      (error: unknown) => error instanceof ServerError && error.code === "invalid_topic",
    );
    assert.equal((await sub.next())?.message, 1);
    await client.publish("acked/y", 3, { ack: false }); // fire and forget
    assert.equal((await sub.next())?.message, 3);
    await f.close();
  });

  test(`routing (${name}): hello is answered and echo: false skips own publishes`, async () => {
    const f = await startFixture(make());
    const client = await helloClient(f, false);
    assert.equal(client.server?.version, 1);
    assert.equal(client.server?.serverId, f.server.serverId);
    assert.equal(client.server?.maxLine, 1048576);
    const other = await f.client();
    await subscribed(other, "echo");
    await client.subscribe("echo");
    await client.publish("echo", "mine");
    await other.publish("echo", "theirs");
    await other.flush();
    assert.deepEqual((await take(other, 2)).map((m) => m.message), ["mine", "theirs"]);
    const got = await client.recv();
    assert.equal(got?.message, "theirs");
    assert.equal(await client.recv({ timeout: 0 }), null);
    await f.close();
  });

  test(`routing (${name}): headers, reply and seq reach clients after hello only`, async () => {
    const f = await startFixture(make());
    const extended = await helloClient(f);
    const plain = await f.client();
    await extended.subscribe("h/#");
    await subscribed(plain, "h/#");
    const headers = { "content-type": "application/json", trace: "abc" };
    await extended.publish("h/a", 1, { headers, reply: "h/replies" });
    await extended.publish("h/b", 2);
    await extended.publish("h/a", 3);
    const got = await take(extended, 3);
    assert.deepEqual(got.map((m) => [m.topic, m.seq]), [["h/a", 1], ["h/b", 1], ["h/a", 2]]);
    assert.deepEqual(got[0].headers, headers);
    assert.equal(got[0].reply, "h/replies");
    assert.equal(typeof got[0].respond, "function");
    assert.deepEqual(await take(plain, 3), [
      { topic: "h/a", message: 1 },
      { topic: "h/b", message: 2 },
      { topic: "h/a", message: 3 },
    ]);
    await f.close();
  });

  test(`routing (${name}): retained messages are set, replaced, cleared and sent on subscribe`, async () => {
    const f = await startFixture(make());
    const publisher = await helloClient(f);
    await publisher.publish("status/a", "a1", { retain: true });
    await publisher.publish("status/a", "a2", { retain: true }); // replaces
    await publisher.publish("status/b", "b1", { retain: true });
    await publisher.publish("status/c", "c1", { retain: true });
    await publisher.publish("status/c", "", { retain: true }); // clears
    await publisher.publish("other/x", "x1", { retain: true });
    assert.equal(f.server.stats().retained, 3);
    const late = await helloClient(f);
    const sub = await late.subscribe("status/+");
    const got = [await sub.next(), await sub.next()] as Message[];
    assert.deepEqual(
      got.map((m) => [m.topic, m.message, m.retained]).sort(),
      [["status/a", "a2", true], ["status/b", "b1", true]],
    );
    const plain = await f.client();
    await plain.subscribe("other/x");
    assert.deepEqual(await plain.recv(), { topic: "other/x", message: "x1" }); // kn-sock shape
    await publisher.publish("status/a", "live");
    const live = await sub.next();
    assert.equal(live?.message, "live");
    assert.equal(live?.retained, undefined);
    await f.close();
  });

  test(`routing (${name}): retained messages are bounded`, async () => {
    const f = await startFixture(make(), {
      // Each message counts its text and its objects: "r/1" with "x" is 943 bytes.
      limits: { maxRetainedMessages: 2, maxRetainedBytes: 2000 },
    });
    const client = await helloClient(f);
    await client.publish("r/1", "x", { retain: true });
    await client.publish("r/2", "y", { retain: true });
    await assert.rejects(
      client.publish("r/3", "z", { retain: true }),
      (error: unknown) => error instanceof ServerError && error.code === "retained_limit",
    );
    await client.publish("r/2", "", { retain: true });
    await assert.rejects(
      client.publish("r/3", "w".repeat(1000), { retain: true }),
      (error: unknown) => error instanceof ServerError && error.code === "retained_limit",
    );
    assert.equal(f.server.stats().retained, 1);
    await f.close();
  });

  test(`routing (${name}): subscriptions split messages; recv() takes what none iterates`, async () => {
    const f = await startFixture(make());
    const client = await f.client();
    const sports = await client.subscribe("news/sports");
    const all = await client.subscribe("news/#");
    await client.flush();
    await client.publish("news/sports", "s1");
    await client.publish("news/tech", "t1");
    assert.equal((await sports.next())?.message, "s1"); // the older subscription wins
    assert.equal((await all.next())?.message, "t1");
    await client.publish("news/tech", "t2");
    assert.equal((await client.recv())?.message, "t2"); // recv() takes any queue
    const iterating = (async () => {
      const seen: unknown[] = [];
      for await (const m of sports) seen.push(m.message);
      return seen;
    })();
    await client.publish("news/sports", "s2");
    await until(() => true, "a turn");
    await client.flush();
    await sports.unsubscribe();
    assert.deepEqual(await iterating, ["s2"]);
    assert.equal(sports.active, false);
    await f.close();
  });
}

test("routing: a queue group skips a member whose queue is full", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport(), { limits: { maxOutboundBytes: 4096 } });
  const stalled = await f.raw(); // a member that does not read for now
  await stalled.sendJson({ action: "subscribe", topic: "work", group: "g" });
  const reader = await f.client();
  await reader.subscribe("work", { group: "g" });
  await reader.flush();
  const publisher = await f.client();
  const seen = new Set<string>();
  const total = 3000;
  // Rounds of 20 (one tick's burst stays under the limit), the reading member
  // draining each: the stalled one fills up (its pipe, then its queue) and
  // from then on every message goes to the reader.
  for (let round = 0; round < total / 20; round++) {
    for (let i = 0; i < 20; i++) {
      void publisher.publish("work", `${round * 20 + i}:${"x".repeat(100)}`);
    }
    await publisher.flush();
    for (
      let m = await reader.recv({ timeout: 0 });
      m !== null;
      m = await reader.recv({ timeout: 0 })
    ) {
      seen.add(String(m.message));
    }
  }
  const toReader = seen.size;
  while (seen.size < total) {
    const line = await stalled.line();
    assert.notEqual(line, null, `stalled member ended after ${seen.size} messages`);
    const message = String(JSON.parse(line!).message);
    assert.ok(!seen.has(message), `${message} twice`);
    seen.add(message);
  }
  assert.equal(f.server.stats().slowConsumers, 0);
  assert.ok(toReader > total / 2, `the reading member got ${toReader} of ${total}`);
  await f.close();
});

test("routing: a group member that also has a plain subscription does not starve the group", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport());
  const [a, b, publisher] = await Promise.all([f.client(), f.client(), f.client()]);
  const plain = await a.subscribe("jobs/#");
  const aGroup = await a.subscribe("jobs/+", { group: "workers" });
  const bGroup = await b.subscribe("jobs/+", { group: "workers" });
  await a.flush();
  await b.flush();
  for (let i = 0; i < 6; i++) await publisher.publish("jobs/x", i);
  await publisher.flush();
  const toB: unknown[] = [];
  for (
    let m = await bGroup.next({ timeout: 0 });
    m !== null;
    m = await bGroup.next({ timeout: 0 })
  ) {
    toB.push(m.message);
  }
  assert.deepEqual(toB, [0, 1, 2, 3, 4, 5], "b is the group member that gets each job");
  assert.equal((await take(a, 6)).length, 6); // a's plain subscription still gets everything
  assert.equal(await aGroup.next({ timeout: 0 }), null);
  void plain;
  await f.close();
});

test("routing: group and pattern pairs cannot collide", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport());
  const raw = await f.raw();
  await raw.sendJson({ action: "subscribe", topic: "b\u0000c", group: "a", id: 1 });
  assert.deepEqual(await raw.json(), { action: "ok", id: 1 });
  await raw.sendJson({ action: "publish", topic: "c", message: "x", reply: "r", id: 2 });
  assert.equal((await raw.json()).code, "no_responders");
  await f.close();
});

test("routing: a handler's filtered or failed frame still answers its id", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport(), {
    handler(data) {
      if (data.action !== "publish") return;
      if (data.topic === "filtered") return false;
      if (data.topic === "broken") throw new Error("broken");
    },
  });
  const client = await PubSubClient.connect("memory", f.server.addr.port, {
    transport: f.transport,
    hello: true,
  });
  await client.publish("filtered", 1); // ok, though not routed
  await assert.rejects(
    client.publish("broken", 2),
    (error: unknown) => error instanceof ServerError && error.code === "handler_error",
  );
  await client.close();
  await f.close();
});

test("routing: retained messages past the outbound room are skipped with a notice", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport(), {
    limits: { maxOutboundBytes: 64 * 1024 },
  });
  for (let i = 0; i < 10; i++) f.server.publish(`big/${i}`, "b".repeat(20_000), { retain: true });
  const raw = await f.raw();
  await raw.sendJson({ action: "subscribe", topic: "big/+", id: 1 });
  const lines: Record<string, unknown>[] = [];
  for (let line = await raw.json();; line = await raw.json()) {
    lines.push(line);
    if (line.action === "ok") break;
  }
  const notice = lines.find((l) => l.code === "retained_limit");
  assert.ok(notice, JSON.stringify(lines.map((l) => l.action ?? l.topic)));
  assert.ok(lines.filter((l) => "topic" in l).length >= 2);
  assert.equal(f.server.stats().slowConsumers, 0);
  await f.close();
});

test("routing: topics and patterns are limited in levels", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport(), { limits: { maxTopicLevels: 4 } });
  const raw = await f.raw();
  await raw.sendJson({ action: "subscribe", topic: "a/b/c/#" });
  await raw.sendJson({ action: "subscribe", topic: "a/b/c/d/#", id: 1 });
  assert.deepEqual(await raw.json(), {
    action: "error",
    code: "invalid_topic",
    error: "Topic exceeds 4 levels",
    id: 1,
  });
  assert.equal(f.server.stats().subscriptions, 1);
  await f.close();
});

test("routing: request() rejects with ConnectionClosedError when the client closes", async () => {
  const { createMemoryTransport, ConnectionClosedError } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport());
  const silent = await f.client();
  await subscribed(silent, "svc/slow");
  const requester = await f.client();
  const pending = requester.request("svc/slow", 1, { timeout: Infinity });
  const settled = pending.then(() => null, (error: unknown) => error);
  await silent.recv(); // the request arrived: the requester is waiting
  await requester.close();
  assert.ok((await settled) instanceof ConnectionClosedError);
  await f.close();
});

test("routing: unsubscribe() drops what its subscription had not handed out", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport());
  const client = await f.client();
  const a = await client.subscribe("a");
  const b = await client.subscribe("b");
  await client.flush();
  await client.publish("a", 1);
  await client.publish("b", 2);
  await client.publish("a", 3);
  await client.flush();
  await a.unsubscribe();
  assert.equal(client.droppedMessages, 2);
  assert.equal((await client.recv())?.message, 2);
  assert.equal(await b.next({ timeout: 0 }), null);
  await f.close();
});

test("routing: raw tabs and CRs spacing a message never reach a subscriber; the message is re-encoded compactly", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport());
  try {
    const subscriber = await f.raw();
    await subscriber.sendJson({ action: "subscribe", topic: "t", id: 1 });
    assert.deepEqual(await subscriber.json(), { action: "ok", id: 1 });
    const publisher = await f.raw();
    const lines = [
      // kn-sock's shape: the publish scanner's path
      '{"action":"publish","topic":"t","message":{"a":\r1,\t"b":[2,\r\t3]}}\n',
      // another member order: the full decoder's path
      '{"message":[\r"x"\t],"topic":"t","action":"publish"}\n',
      // retained: the decoder's path, kept and sent again
      '{"action":"publish","topic":"t","message":{\r"k"\r:\r"v"\r},"retain":true}\n',
    ];
    for (const line of lines) await publisher.send(line);
    const expected = [
      '{"topic":"t","message":{"a":1,"b":[2,3]}}',
      '{"topic":"t","message":["x"]}',
      '{"topic":"t","message":{"k":"v"}}',
    ];
    for (const line of expected) assert.equal(await subscriber.line(), line);
    const late = await f.raw();
    await late.sendJson({ action: "subscribe", topic: "t" });
    assert.equal(await late.line(), expected[2]);
  } finally {
    await f.close();
  }
});
