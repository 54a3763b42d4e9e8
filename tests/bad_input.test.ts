/**
 * Hostile and broken input: each gets a defined outcome, the server stays
 * up, and a well-behaved client on the same server never notices.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Fixture } from "./helpers.ts";
import { serverCases, startFixture, subscribed, take, until } from "./helpers.ts";

/** Proves the server still routes for well-behaved clients. */
async function stillServes(f: Fixture, tag: string): Promise<void> {
  const [sub, publisher] = await Promise.all([f.client(), f.client()]);
  await subscribed(sub, `healthy/${tag}`);
  await publisher.publish(`healthy/${tag}`, tag);
  assert.deepEqual(await sub.recv(), { topic: `healthy/${tag}`, message: tag });
}

for (const { name, make } of serverCases()) {
  test(`bad input (${name}): binary garbage gets error frames and the connection stays`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    await raw.send(new Uint8Array([0xff, 0x00, 0xfe, 0x0a, 0x00, 0x00, 0x0a, 0x80, 0x81, 0x0a]));
    const codes = [(await raw.json()).code, (await raw.json()).code, (await raw.json()).code];
    assert.deepEqual(codes, ["invalid_utf8", "invalid_json", "invalid_utf8"]);
    await raw.sendJson({ action: "subscribe", topic: "after/garbage" });
    await raw.sendJson({ action: "publish", topic: "after/garbage", message: "alive" });
    assert.deepEqual(await raw.json(), { topic: "after/garbage", message: "alive" });
    await stillServes(f, "garbage");
    await f.close();
  });

  test(`bad input (${name}): a line past 1 MiB is refused and only that connection closes`, async () => {
    const f = await startFixture(make());
    const [sub, publisher] = await Promise.all([f.client(), f.client()]);
    await subscribed(sub, "during/huge");
    const raw = await f.raw();
    const reply = raw.json();
    // 2 MiB without a newline, in 64 KiB writes, interleaved with good traffic.
    const block = new TextEncoder().encode("x".repeat(64 * 1024));
    let refused = false;
    for (let i = 0; i < 32 && !refused; i++) {
      await raw.send(block).catch(() => {
        refused = true; // the server may close before all of it is written
      });
      void publisher.publish("during/huge", i);
    }
    assert.equal((await reply).code, "line_too_long");
    assert.equal(await raw.line(), null);
    await publisher.flush();
    const got = await take(sub, 1);
    assert.equal(got[0].message, 0);
    await until(() => f.server.stats().connections === 2, "the huge-line connection to close");
    await stillServes(f, "huge");
    await f.close();
  });

  test(`bad input (${name}): a client that sends nothing is kept and closed on shutdown`, async () => {
    const f = await startFixture(make());
    const idle = await f.raw();
    await until(() => f.server.stats().connections === 1, "the idle connection");
    await stillServes(f, "idle");
    assert.equal(f.server.stats().connections, 3);
    const lines = idle.end();
    await f.server.close();
    assert.deepEqual((await lines).map((l) => JSON.parse(l).code), ["server_shutdown"]);
    await f.close();
  });

  test(`bad input (${name}): a disconnect mid-line drops only that line`, async () => {
    const f = await startFixture(make());
    const [sub] = await Promise.all([f.client()]);
    await subscribed(sub, "partial");
    const raw = await f.raw();
    await raw.send('{"action": "publish", "topic": "partial", "message": "complete"}\n');
    await raw.send('{"action": "publish", "topic": "partial", "mess');
    raw.close();
    assert.deepEqual(await sub.recv(), { topic: "partial", message: "complete" });
    await until(() => f.server.stats().partialLines === 1, "the partial line to be counted");
    assert.equal(await sub.recv({ timeout: 0 }), null);
    await stillServes(f, "partial");
    await f.close();
  });

  test(`bad input (${name}): a half-closed client still gets its queued deliveries`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    await raw.send(
      '{"action": "subscribe", "topic": "half"}\n' +
        '{"action": "publish", "topic": "half", "message": "before my end"}\n',
    );
    raw.conn.closeWrite();
    assert.deepEqual(await raw.end(), ['{"topic":"half","message":"before my end"}']);
    await until(() => f.server.stats().connections === 0, "the server to close it");
    await stillServes(f, "half");
    await f.close();
  });

  test(`bad input (${name}): a subscriber that resets mid-stream is dropped cleanly`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    await raw.sendJson({ action: "subscribe", topic: "reset" });
    await until(() => f.server.stats().subscriptions === 1, "the subscription");
    const payload = "y".repeat(10_000);
    for (let i = 0; i < 100; i++) f.server.publish("reset", payload);
    raw.close();
    for (let i = 0; i < 100; i++) f.server.publish("reset", payload);
    await until(() => f.server.stats().connections === 0, "the reset connection to go");
    assert.equal(f.server.stats().subscriptions, 0);
    await stillServes(f, "reset");
    await f.close();
  });

  test(`bad input (${name}): 10,000 tiny frames in one write are all handled`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    const frames = ['{"action":"subscribe","topic":"tiny"}\n'];
    for (let i = 0; i < 10_000; i++) {
      frames.push(`{"action":"publish","topic":"tiny","message":${i}}\n`);
    }
    await raw.send(frames.join(""));
    let last = -1;
    for (let i = 0; i < 10_000; i++) last = (await raw.json()).message as number;
    assert.equal(last, 9999);
    await stillServes(f, "tiny");
    await f.close();
  });

  test(`bad input (${name}): deeply nested JSON gets a clean answer`, async () => {
    const f = await startFixture(make());
    const raw = await f.raw();
    const depth = 200_000;
    await raw.sendJson({ action: "subscribe", topic: "deep" });
    await raw.send(
      `{"action":"publish","topic":"deep","message":${"[".repeat(depth)}${"]".repeat(depth)}}\n`,
    );
    const answer = await raw.json();
    // An engine may parse and re-encode it, or refuse it: never crash or hang.
    if ("action" in answer) {
      assert.equal(answer.action, "error");
      assert.ok(
        ["invalid_json", "invalid_frame"].includes(answer.code as string),
        String(answer.code),
      );
    } else {
      assert.equal(answer.topic, "deep");
    }
    await raw.sendJson({ action: "publish", topic: "deep", message: "after" });
    assert.deepEqual(await raw.json(), { topic: "deep", message: "after" });
    await stillServes(f, "deep");
    await f.close();
  });

  test(`bad input (${name}): NUL and lone surrogates pass through as JSON allows; out-of-range numbers are refused`, async () => {
    const f = await startFixture(make());
    try {
      const raw = await f.raw();
      await raw.sendJson({ action: "subscribe", topic: "odd" });
      // 1e400 parses as Infinity, which could only be forwarded as written or re-encoded as null.
      await raw.send('{"action":"publish","topic":"odd","message":1e400}\n');
      assert.deepEqual(await raw.json(), {
        action: "error",
        code: "invalid_frame",
        error: "Message holds a number out of range",
      });
      await raw.send('{"action":"publish","topic":"odd","message":"a\\u0000b\\ud800c"}\n');
      const line = await raw.line();
      assert.equal(line, '{"topic":"odd","message":"a\\u0000b\\ud800c"}');
    } finally {
      await f.close();
    }
  });
}

test("bad input: an error frame repeats at most 64 characters of a client's text", async () => {
  const f = await startFixture(serverCases()[0].make());
  const raw = await f.raw();
  // A 1 MB non-ASCII action (3 MB of \uXXXX escapes if repeated whole) and a long policy.
  const action = "\u00e9".repeat(300_000);
  await raw.sendJson({ action });
  const unknown = await raw.json();
  assert.equal(unknown.code, "unknown_action");
  assert.equal(unknown.error, `Unknown action "${"\u00e9".repeat(64)}…"`);
  await raw.sendJson({ action: "subscribe", topic: "t", policy: "p".repeat(100_000) });
  const policy = await raw.json();
  assert.equal(policy.code, "invalid_frame");
  assert.equal(
    policy.error,
    `Policy must be "disconnect", "drop-oldest" or "drop-newest", got "${"p".repeat(64)}…"`,
  );
  await stillServes(f, "echo");
  await f.close();
});

test("bad input: a line that starts with a byte-order mark is answered invalid_json", async () => {
  const f = await startFixture(serverCases()[0].make());
  const raw = await f.raw();
  const line = new TextEncoder().encode('\ufeff{"action":"subscribe","topic":"t"}\n');
  assert.deepEqual([...line.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  await raw.send(line);
  assert.deepEqual(await raw.json(), {
    action: "error",
    code: "invalid_json",
    error: "Line is not valid JSON",
  });
  await stillServes(f, "bom");
  await f.close();
});

test("bad input: a chunk mixing ASCII, non-ASCII and invalid lines is handled line by line", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport());
  const raw = await f.raw();
  const encoder = new TextEncoder();
  const parts = [
    encoder.encode(
      '{"action":"subscribe","topic":"mix"}\n{"action":"publish","topic":"mix","message":"ascii"}\n',
    ),
    new Uint8Array([0xc3, 0x28, 0x0a]), // invalid UTF-8
    encoder.encode('{"action":"publish","topic":"mix","message":"ünï"}\n'),
  ];
  const chunk = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    chunk.set(part, at);
    at += part.byteLength;
  }
  await raw.send(chunk);
  assert.deepEqual(await raw.json(), { topic: "mix", message: "ascii" });
  assert.equal((await raw.json()).code, "invalid_utf8");
  assert.equal(
    await raw.line(),
    '{"topic":"mix","message":"\\u00fcn\\u00ef"}',
  );
  await f.close();
});

test("bad input: a client that sends bad lines and never reads is a slow consumer", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const limit = 64 * 1024;
  const f = await startFixture(createMemoryTransport(), { limits: { maxOutboundBytes: limit } });
  const raw = await f.raw(); // never reads
  const garbage = new TextEncoder().encode("x\n".repeat(32 * 1024));
  let maxPending = 0;
  for (let i = 0; i < 64 && f.server.stats().slowConsumers === 0; i++) {
    await raw.send(garbage).catch(() => {});
    maxPending = Math.max(maxPending, f.server.stats().pendingBytes);
  }
  await until(() => f.server.stats().slowConsumers === 1, "the flooder to be cut off");
  assert.ok(maxPending <= limit + 200, `pending ${maxPending}`);
  await stillServes(f, "flood");
  await f.close();
});

test("bad input: a publish with 60,000 keys before its message is handled", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport());
  const raw = await f.raw();
  await raw.sendJson({ action: "subscribe", topic: "keys" });
  const keys = Array.from({ length: 60_000 }, (_, i) => `"k${i}":0`).join(",");
  await raw.send(`{"action":"publish",${keys},"message":[1],"topic":"keys"}\n`);
  assert.deepEqual(await raw.json(), { topic: "keys", message: [1] });
  await f.close();
});

test("bad input: a non-ASCII message near the line limit reaches a PubSubClient", async () => {
  const { createMemoryTransport } = await import("../mod.ts");
  const f = await startFixture(createMemoryTransport());
  const sub = await f.client();
  await subscribed(sub, "wide");
  const raw = await f.raw();
  const text = "é".repeat(500_000); // 1,000,000 bytes as UTF-8, 3,000,000 escaped
  await raw.sendJson({ action: "publish", topic: "wide", message: text });
  assert.equal((await sub.recv())?.message, text);
  await f.close();
});
