/**
 * Reconnecting: the backoff policy, a server restarted on the same port,
 * publishes held while disconnected, a server process killed mid-stream,
 * and the old behaviour with `reconnect: false`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  backoffDelay,
  type ClientFrame,
  ConnectionClosedError,
  createMemoryTransport,
  DEFAULT_RECONNECT,
  PubSubClient,
  PubSubError,
  type PubSubServer,
  reconnectPolicy,
  ServerError,
  startPubSubServer,
  type StatusEvent,
  type Transport,
} from "../mod.ts";
import { Child } from "./child_process.ts";
import { answerHello, FakeServer, nextStatus } from "./client_fakes.ts";
import { serverCases } from "./helpers.ts";

/** Quick reconnects for tests. */
const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

test("backoffDelay() grows by the multiplier from initialDelayMs up to maxDelayMs", () => {
  const exact = { random: () => 0 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 9].map((attempt) => backoffDelay(attempt, exact)),
    [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000],
  );
  assert.equal(backoffDelay(5000, exact), 10000, "a long outage does not overflow");
  const custom = { initialDelayMs: 10, multiplier: 3, maxDelayMs: 50, random: () => 0 };
  assert.deepEqual([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, custom)), [10, 30, 50, 50]);
  assert.equal(backoffDelay(4, { multiplier: 1, random: () => 0 }), 100);
});

test("backoffDelay() takes off at random up to `jitter` of the delay", () => {
  const cases: [attempt: number, jitter: number, random: number, expected: number][] = [
    [1, 0.5, 0, 100],
    [1, 0.5, 0.5, 75],
    [1, 0.5, 0.999, 50],
    [3, 1, 0.5, 200],
    [3, 1, 0.999, 0],
    [3, 0, 0.9, 400],
    [20, 0.5, 0.5, 7500],
  ];
  for (const [attempt, jitter, random, expected] of cases) {
    assert.equal(backoffDelay(attempt, { jitter, random: () => random }), expected);
  }
  // The default jitter keeps every delay within [delay / 2, delay].
  for (let i = 0; i < 100; i++) {
    const delay = backoffDelay(2);
    assert.ok(delay >= 100 && delay <= 200, String(delay));
  }
});

test("backoffDelay() refuses an attempt that is not a positive integer", () => {
  for (const attempt of [0, -1, 1.5, NaN]) {
    assert.throws(() => backoffDelay(attempt), RangeError);
  }
});

test("reconnectPolicy() resolves the option and refuses values out of range", () => {
  assert.equal(reconnectPolicy(false), null);
  assert.equal(reconnectPolicy(true), DEFAULT_RECONNECT);
  assert.equal(reconnectPolicy(undefined), DEFAULT_RECONNECT);
  assert.deepEqual({ ...DEFAULT_RECONNECT }, {
    initialDelayMs: 100,
    maxDelayMs: 10000,
    multiplier: 2,
    jitter: 0.5,
    maxAttempts: Infinity,
  });
  assert.deepEqual({ ...reconnectPolicy({ maxAttempts: 3, jitter: 1 }) }, {
    ...DEFAULT_RECONNECT,
    maxAttempts: 3,
    jitter: 1,
  });
  const bad = [
    { initialDelayMs: -1 },
    { initialDelayMs: 500, maxDelayMs: 100 },
    { maxDelayMs: Infinity },
    { multiplier: 0.5 },
    { jitter: 1.5 },
    { jitter: -0.1 },
    { maxAttempts: 0 },
    { maxAttempts: 2.5 },
  ];
  for (const option of bad) assert.throws(() => reconnectPolicy(option), RangeError);
  assert.throws(() => reconnectPolicy({ delay: 5 } as never), TypeError);
});

/**
 * Starts a server on `port` again, holding the publisher's `hello` until the
 * subscriber has reconnected: every publish the server then acknowledges
 * has a subscription to go to.
 */
async function restartForSubscriberFirst(
  port: number,
  transport: Transport,
  subscriberEvents: AsyncIterableIterator<StatusEvent>,
): Promise<PubSubServer> {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  const server = await startPubSubServer({
    port,
    transport,
    handler: async (data) => {
      if (data.action === "hello" && data.name === "publisher") await opened;
    },
  });
  await nextStatus(subscriberEvents, "connect");
  open();
  return server;
}

for (const { name, make } of serverCases()) {
  test(`reconnect (${name}): after a restart on the same port the client says hello again and resubscribes`, async () => {
    const transport = make();
    let server = await startPubSubServer({ port: 0, transport });
    const port = server.addr.port;
    const client = await PubSubClient.connect("127.0.0.1", port, {
      transport,
      hello: { name: "phoenix" },
      reconnect: FAST,
    });
    const events = client.status();
    const news = await client.subscribe("news/#");
    const jobs = await client.subscribe("jobs", { group: "workers", policy: "drop-oldest" });
    await client.subscribe("gone");
    await server.close();
    const { event: lost } = await nextStatus(events, "disconnect");
    assert.ok(lost.error instanceof ServerError);
    assert.equal(lost.error.code, "server_shutdown");
    assert.equal(client.connected, false);
    // While disconnected, subscribing only changes the client's own list.
    const late = await client.subscribe("late/+");
    await client.unsubscribe("gone");
    const flushed = client.flush(); // waits for the next connection
    const frames: ClientFrame[] = [];
    server = await startPubSubServer({
      port,
      transport,
      handler: (data) => void frames.push(structuredClone(data)),
    });
    const { event: back, before } = await nextStatus(events, "connect");
    assert.ok(before.length > 0 && before.every((event) => event.type === "reconnect"));
    assert.deepEqual(
      before.map((event) => (event as { attempt: number }).attempt),
      [
        ...before.keys(),
      ].map((i) => i + 1),
    );
    assert.equal(back.attempt, before.length);
    assert.equal(back.addr.port, port);
    assert.equal(client.connected, true);
    await flushed;
    assert.deepEqual(
      frames.filter((f) => f.action === "hello").map((f) => (f as { name?: string }).name),
      ["phoenix"],
    );
    const resubscribed = frames
      .filter((f) => f.action === "subscribe" && !f.topic.startsWith("_"))
      .map(({ id: _, ...frame }) => frame);
    assert.deepEqual(resubscribed, [
      { action: "subscribe", topic: "news/#" },
      { action: "subscribe", topic: "jobs", group: "workers", policy: "drop-oldest" },
      { action: "subscribe", topic: "late/+" },
    ]);
    const publisher = await PubSubClient.connect("127.0.0.1", port, { transport });
    await publisher.publish("news/today", 1);
    await publisher.publish("jobs", 2);
    await publisher.publish("late/news", 3);
    await publisher.publish("gone", 4);
    assert.equal((await news.next())?.message, 1);
    assert.equal((await jobs.next())?.message, 2);
    assert.equal((await late.next())?.message, 3);
    await publisher.flush();
    await client.flush();
    assert.equal(await client.recv({ timeout: 0 }), null, "nothing for the unsubscribed topic");
    await publisher.close();
    await client.close();
    const { event: closed } = await nextStatus(events, "close");
    assert.equal(closed.error, null);
    assert.equal((await events.next()).done, true);
    await server.close();
  });

  test(`reconnect (${name}): a publish made while disconnected is delivered after reconnecting or refused with buffer_full`, async () => {
    const transport = make();
    let server = await startPubSubServer({ port: 0, transport });
    const port = server.addr.port;
    const options = { transport, reconnect: FAST };
    const subscriber = await PubSubClient.connect("127.0.0.1", port, {
      ...options,
      hello: { name: "subscriber" },
    });
    const publisher = await PubSubClient.connect("127.0.0.1", port, {
      ...options,
      hello: { name: "publisher" },
      limits: { maxOfflineBytes: 1000 },
    });
    const subscriberEvents = subscriber.status();
    const publisherEvents = publisher.status();
    const orders = await subscriber.subscribe("orders");
    for (let i = 0; i < 5; i++) await publisher.publish("orders", i); // acked
    for (let i = 0; i < 5; i++) assert.equal((await orders.next())?.message, i);
    await server.close();
    await nextStatus(publisherEvents, "disconnect");
    const outcomes = Array.from(
      { length: 50 },
      (_, k) => publisher.publish("orders", 5 + k).then(() => "sent" as const, (e: unknown) => e),
    );
    assert.ok(publisher.offlineBytes > 0 && publisher.offlineBytes <= 1000);
    // The publisher's hello waits until the subscriber is subscribed again,
    // so every publish the server acknowledges has somewhere to go.
    server = await restartForSubscriberFirst(port, transport, subscriberEvents);
    const results = await Promise.all(outcomes);
    const sent = results.flatMap((result, k) => result === "sent" ? [5 + k] : []);
    const refused = results.filter((result) => result !== "sent");
    assert.ok(sent.length > 0 && refused.length > 0, `${sent.length} sent`);
    for (const error of refused) {
      assert.ok(error instanceof PubSubError && error.code === "buffer_full", String(error));
    }
    for (const n of sent) assert.equal((await orders.next())?.message, n);
    assert.equal(publisher.offlineBytes, 0);
    await Promise.all([publisher.close(), subscriber.close()]);
    await server.close();
  });

  test(`reconnect (${name}): with offlineOverflow "count", a publish that does not fit is dropped, counted and reported`, async () => {
    const transport = make();
    let server = await startPubSubServer({ port: 0, transport });
    const port = server.addr.port;
    const subscriber = await PubSubClient.connect("127.0.0.1", port, {
      transport,
      hello: { name: "subscriber" },
      reconnect: FAST,
    });
    const publisher = await PubSubClient.connect("127.0.0.1", port, {
      transport,
      hello: { name: "publisher" },
      reconnect: FAST,
      offlineOverflow: "count",
      limits: { maxOfflineBytes: 1000 },
    });
    const subscriberEvents = subscriber.status();
    const publisherEvents = publisher.status();
    const orders = await subscriber.subscribe("orders");
    await server.close();
    await nextStatus(publisherEvents, "disconnect");
    const published = Array.from({ length: 50 }, (_, k) => publisher.publish("orders", k));
    const dropped = publisher.droppedPublishes;
    assert.ok(dropped > 0 && dropped < 50, `${dropped} dropped`);
    server = await restartForSubscriberFirst(port, transport, subscriberEvents);
    await Promise.all(published); // none rejects
    const { before } = await nextStatus(publisherEvents, "connect");
    const reports = before.filter((event) => event.type === "error");
    assert.equal(reports.length, dropped);
    for (const report of reports) {
      assert.ok(report.type === "error" && report.error.code === "buffer_full");
    }
    await publisher.publish("orders", "end");
    const received: unknown[] = [];
    for (let m = await orders.next(); m?.message !== "end"; m = await orders.next()) {
      received.push(m?.message);
    }
    // Every publish is either received or counted, and those sent kept their order.
    assert.equal(received.length + dropped, 50);
    assert.deepEqual(received, [...received].sort((a, b) => Number(a) - Number(b)));
    await Promise.all([publisher.close(), subscriber.close()]);
    await server.close();
  });
}

test("reconnect: recv() and iterators waiting across a reconnect get the next message", async () => {
  const transport = createMemoryTransport();
  let server = await startPubSubServer({ port: 0, transport });
  const port = server.addr.port;
  const options = { transport, hello: true, reconnect: FAST };
  const [iterating, receiving] = await Promise.all([
    PubSubClient.connect("127.0.0.1", port, options),
    PubSubClient.connect("127.0.0.1", port, options),
  ]);
  const events = [iterating.status(), receiving.status()];
  const sub = await iterating.subscribe("after");
  await receiving.subscribe("after");
  const fromIterator = sub[Symbol.asyncIterator]().next();
  const fromClientIterator = iterating[Symbol.asyncIterator]().next();
  const fromRecv = receiving.recv();
  await server.close();
  await Promise.all(events.map((e) => nextStatus(e, "disconnect")));
  server = await startPubSubServer({ port, transport });
  await Promise.all(events.map((e) => nextStatus(e, "connect")));
  server.publish("after", "first");
  server.publish("after", "second");
  assert.equal((await fromIterator).value?.message, "first");
  assert.equal((await fromClientIterator).value?.message, "second");
  assert.equal((await fromRecv)?.message, "first");
  await Promise.all([iterating.close(), receiving.close()]);
  await server.close();
});

test("reconnect: publishes waiting for their ack when the connection drops reject with ConnectionClosedError", async () => {
  const transport = createMemoryTransport();
  const fake = await FakeServer.start(transport);
  const accepted = fake.accept();
  const connecting = PubSubClient.connect("127.0.0.1", fake.port, {
    transport,
    hello: true,
    reconnect: FAST,
  });
  const first = await accepted;
  await answerHello(first);
  const client = await connecting;
  const events = client.status();
  const waiting = client.publish("t", 1); // acked: waits for an ok that never comes
  assert.equal((await first.json()).action, "publish");
  const second = fake.accept();
  first.close();
  await assert.rejects(waiting, ConnectionClosedError);
  await nextStatus(events, "disconnect");
  await answerHello(await second);
  await nextStatus(events, "connect");
  await client.close();
  await fake.close();
});

test("reconnect: reconnect: false closes the client when the connection is lost, as before", async () => {
  const transport = createMemoryTransport();
  const server = await startPubSubServer({ port: 0, transport });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, {
    transport,
    reconnect: false,
  });
  const events = client.status();
  await server.close();
  await client.closed;
  const error = await client.recv().catch((e: unknown) => e);
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal((error.cause as ServerError).code, "server_shutdown");
  await assert.rejects(client.publish("t", 1), ConnectionClosedError);
  const seen: StatusEvent[] = [];
  for await (const event of events) seen.push(event);
  assert.deepEqual(seen.map((event) => event.type), ["disconnect", "close"]);
  const close = seen[1] as { error: ConnectionClosedError | null };
  assert.ok(close.error instanceof ConnectionClosedError);
  assert.equal(client.offlineBytes, 0);
});

test("reconnect: the client gives up after maxAttempts and closes with the last failure", async () => {
  const transport = createMemoryTransport();
  const server = await startPubSubServer({ port: 0, transport });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, {
    transport,
    reconnect: { ...FAST, maxAttempts: 3 },
  });
  const events = client.status();
  const waiting = client.recv();
  const held = client.publish("t", "held while reconnecting");
  await server.close();
  const seen: StatusEvent[] = [];
  for await (const event of events) seen.push(event);
  assert.deepEqual(seen.map((event) => event.type), [
    "disconnect",
    "reconnect",
    "reconnect",
    "reconnect",
    "close",
  ]);
  const close = seen[4] as { error: ConnectionClosedError };
  assert.match(close.error.message, /Gave up reconnecting after 3 attempts/);
  assert.equal((close.error.cause as PubSubError).code, "connection_refused");
  await client.closed;
  await assert.rejects(waiting, ConnectionClosedError);
  // The publish was queued on the open connection before the server closed:
  // it was handed to the socket, so it resolves (the documented outcome).
  assert.equal(await held, undefined);
});

// ---- a server process killed mid-stream ---------------------------------------

async function startCliServer(port: number): Promise<{ child: Child; port: number }> {
  const child = new Child(
    "node_modules/.bin/deno",
    ["run", "--allow-net", "src/cli/bin.ts", "serve", "--port", String(port)],
    { NO_COLOR: "1" },
  );
  const banner = await child.line();
  const match = /listening on 127\.0\.0\.1:(\d+)/.exec(banner ?? "");
  assert.ok(match, `no banner: ${banner}\n${child.stderr}`);
  return { child, port: Number(match[1]) };
}

test("reconnect: clients recover when the server process is killed with SIGKILL mid-stream", async () => {
  const first = await startCliServer(0);
  const port = first.port;
  let second: { child: Child } | null = null;
  const subscriber = await PubSubClient.connect("127.0.0.1", port, {
    hello: true,
    reconnect: FAST,
  });
  const publisher = await PubSubClient.connect("127.0.0.1", port, {
    hello: true,
    reconnect: FAST,
  });
  try {
    const subscriberEvents = subscriber.status();
    const publisherEvents = publisher.status();
    const stream = await subscriber.subscribe("stream");
    // Publish in batches of 10 until told to stop, recording each publish's fate.
    const fates: string[] = [];
    let next = 0;
    let stop = false;
    const publishing = (async () => {
      while (!stop) {
        const batch: Promise<void>[] = [];
        for (let k = 0; k < 10; k++) {
          const n = next++;
          batch.push(
            publisher.publish("stream", n).then(
              () => void (fates[n] = "sent"),
              (error: PubSubError) => void (fates[n] = error.code),
            ),
          );
        }
        await Promise.all(batch);
      }
    })();
    const received = new Set<number>();
    while (received.size < 30) received.add((await stream.next())!.message as number);
    first.child.process.kill("SIGKILL");
    await first.child.exited;
    const lost = await Promise.all([
      nextStatus(subscriberEvents, "disconnect"),
      nextStatus(publisherEvents, "disconnect"),
    ]);
    for (const { event } of lost) assert.equal(event.error.code, "connection_closed");
    const killedAt = next;
    second = await startCliServer(port);
    const [{ event: back, before }] = await Promise.all([
      nextStatus(subscriberEvents, "connect"),
      nextStatus(publisherEvents, "connect"),
    ]);
    // Both are back: what is published from now on reaches the subscriber.
    const resumedAt = next;
    let last = -1;
    while (last < resumedAt) {
      last = (await stream.next())!.message as number;
      received.add(last);
    }
    stop = true;
    await publishing;
    await publisher.publish("stream", "end");
    for (let m = await stream.next(); m?.message !== "end"; m = await stream.next()) {
      received.add(m?.message as number);
    }
    const sent = fates.filter((fate) => fate === "sent").length;
    assert.equal(fates.filter((fate) => fate !== undefined).length, next, "every publish settled");
    for (const fate of fates) assert.ok(["sent", "connection_closed"].includes(fate), fate);
    // Acknowledged after both were back: every one of them arrived.
    const unseen = fates.flatMap((fate, n) => fate === "sent" && !received.has(n) ? [n] : []);
    assert.deepEqual(unseen.filter((n) => n >= resumedAt), []);
    if (process.env.KN_SOCK_VERBOSE === "1") {
      const report = {
        published: next,
        killedAt,
        resumedAt,
        attempts: back.attempt,
        reconnectEvents: before.length,
        sent,
        refused: next - sent,
        refusedAt: fates.flatMap((fate, n) => fate === "sent" ? [] : [n]),
        received: received.size,
        sentButNeverReceived: unseen,
      };
      process.stderr.write(`KILL-9 REPORT ${JSON.stringify(report)}\n`);
    }
  } finally {
    await Promise.all([subscriber.close(), publisher.close()]);
    await first.child.stop("SIGKILL");
    await second?.child.stop("SIGTERM");
  }
});
