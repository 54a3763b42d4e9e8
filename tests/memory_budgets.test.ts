/**
 * The server's memory is bounded server-wide, not only per connection
 * (issue 18, finding 3): the subscription budget, the partial-line budget,
 * the line and idle timeouts, the `hello` name limit, and the `seq` table
 * and delivery-prefix cache sized in bytes. Each budget is small here, set
 * by the test, and exceeded by behaviour the server must answer with its
 * stable code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { SubscriptionIndex } from "../mod.ts";
import { DeliveryEncoder } from "../src/protocol/delivery_encoder.ts";
import { type RawPeer, serverCases, startFixture, until } from "./helpers.ts";

/** A 32-level wildcard pattern whose first level is its own: all its trie nodes are new. */
function deepPattern(i: number): string {
  const levels = [`p${i}`];
  for (let k = 1; k < 32; k++) levels.push(k % 2 === 1 ? "+" : `l${k}`);
  return levels.join("/");
}

test("SubscriptionIndex.bytes grows with the trie and returns to 0 once every pattern is removed", () => {
  const index = new SubscriptionIndex<string>();
  const patterns = ["a/b", "a/+", "a/#", "#", "+/+/c", deepPattern(1), deepPattern(2), "a/b/c"];
  let last = 0;
  for (const subscriber of ["x", "y"]) {
    for (const pattern of patterns) {
      index.add(pattern, subscriber);
      assert.ok(index.bytes > last, `adding ${pattern} for ${subscriber} costs something`);
      last = index.bytes;
    }
  }
  // A deep pattern down a new branch costs at least a node per level.
  const before = index.bytes;
  index.add(deepPattern(3), "x");
  assert.ok(index.bytes - before >= 32 * 64);
  index.remove(deepPattern(3), "x");
  assert.equal(index.bytes, before);
  for (const subscriber of ["y", "x"]) {
    for (const pattern of [...patterns].reverse()) index.remove(pattern, subscriber);
  }
  assert.equal(index.size, 0);
  assert.equal(index.bytes, 0);
});

test("DeliveryEncoder keeps its prefix cache within its byte budget", () => {
  const encoder = new DeliveryEncoder(16 * 1024);
  const first = encoder.prefix("a");
  assert.equal(encoder.prefix("a"), first, "a cached prefix is reused");
  // Ten topics of 1,000 control characters: each prefix is ~6 KB, past the budget together.
  for (let i = 0; i < 10; i++) encoder.prefix(String(i) + "\u0001".repeat(1000));
  assert.notEqual(encoder.prefix("a"), first, "the cache was emptied when full");
  // A prefix larger than the whole budget is never kept.
  const huge = "\u0001".repeat(4000);
  assert.notEqual(encoder.prefix(huge), encoder.prefix(huge));
});

for (const { name, make } of serverCases()) {
  test(`budgets (${name}): subscriptions past maxSubscriptionBytes get subscription_budget, server-wide`, async () => {
    const max = 64 * 1024;
    const f = await startFixture(make(), { limits: { maxSubscriptionBytes: max } });
    try {
      const [a, b] = await Promise.all([f.raw(), f.raw()]);
      let accepted = 0;
      for (let i = 0; i < 1000; i++) {
        const answer = await a.ask({ action: "subscribe", topic: deepPattern(i), id: i });
        if (answer.action === "error") {
          assert.equal(answer.code, "subscription_budget");
          assert.equal(answer.id, i);
          break;
        }
        assert.deepEqual(answer, { action: "ok", id: i });
        accepted++;
        assert.ok(f.server.stats().subscriptionBytes <= max);
      }
      assert.ok(accepted > 0 && accepted < 1000, `refused after ${accepted} subscriptions`);
      assert.equal(f.server.stats().subscriptions, accepted);
      // The budget is the server's: another connection is refused as well.
      const other = await b.ask({ action: "subscribe", topic: deepPattern(5000), id: "b1" });
      assert.equal(other.code, "subscription_budget");
      // An unsubscribe gives its bytes back.
      const left = await a.ask({ action: "unsubscribe", topic: deepPattern(0), id: "u" });
      assert.deepEqual(left, { action: "ok", id: "u" });
      const again = await b.ask({ action: "subscribe", topic: deepPattern(5000), id: "b2" });
      assert.deepEqual(again, { action: "ok", id: "b2" });
      a.close();
      b.close();
      await until(() => f.server.stats().connections === 0, "both closes");
      assert.equal(f.server.stats().subscriptionBytes, 0);
    } finally {
      await f.close();
    }
  });

  test(`budgets (${name}): unfinished lines past maxPartialLineBytes close the connection that passes it with input_budget`, async () => {
    const max = 64 * 1024;
    const f = await startFixture(make(), { limits: { maxPartialLineBytes: max } });
    try {
      const partial = `{"action":"publish","topic":"t","message":"${"x".repeat(20_000)}`;
      const holders: RawPeer[] = [];
      let refused: RawPeer | null = null;
      for (let i = 0; i < 10 && refused === null; i++) {
        const peer = await f.raw();
        await until(() => f.server.stats().connections === holders.length + 1, "the accept");
        const before = f.server.stats().partialLineBytes;
        await peer.send(partial);
        await until(
          () => {
            const stats = f.server.stats();
            return stats.partialLineBytes >= before + partial.length ||
              stats.connections === holders.length;
          },
          "the partial line held, or the close",
          20_000,
        );
        assert.ok(f.server.stats().partialLineBytes <= max);
        if (f.server.stats().connections === holders.length) refused = peer;
        else holders.push(peer);
      }
      assert.ok(refused !== null, "a connection passed the budget");
      assert.ok(holders.length >= 1);
      const notice = await refused.json();
      assert.equal(notice.code, "input_budget");
      assert.deepEqual(await refused.end(), []);
      // Completing a line gives its bytes back; the holders were not harmed.
      const held = f.server.stats().partialLineBytes;
      await holders[0].send('"}\n');
      await until(() => f.server.stats().partialLineBytes < held, "the release");
      assert.deepEqual(await holders[0].ask({ action: "ping", id: 1 }), {
        action: "pong",
        id: 1,
      });
      for (const peer of holders) peer.close();
      await until(() => f.server.stats().connections === 0, "the closes");
      assert.equal(f.server.stats().partialLineBytes, 0);
    } finally {
      await f.close();
    }
  });

  test(`budgets (${name}): a line left unfinished past lineTimeoutMs gets idle_timeout`, {
    timeout: 60_000,
  }, async () => {
    const f = await startFixture(make(), { limits: { lineTimeoutMs: 40 } });
    try {
      const slow = await f.raw();
      await slow.send('{"action":"subscribe","topic":"a"}\n{"action":');
      assert.deepEqual(await slow.json(), {
        action: "error",
        code: "idle_timeout",
        error: "A line stayed unfinished for 40 ms",
      });
      assert.deepEqual(await slow.end(), []);
    } finally {
      await f.close();
    }
  });

  test(
    `budgets (${name}): with auth off, a connection that sends no frame within idleTimeoutMs gets idle_timeout`,
    {
      timeout: 60_000,
    },
    async () => {
      const f = await startFixture(make(), { limits: { idleTimeoutMs: 50 } });
      try {
        const active = await f.raw();
        assert.deepEqual(await active.ask({ action: "subscribe", topic: "a", id: 1 }), {
          action: "ok",
          id: 1,
        });
        // Opened after `active`: its deadline comes after active's has passed.
        const silent = await f.raw();
        assert.deepEqual(await silent.json(), {
          action: "error",
          code: "idle_timeout",
          error: "No frame within 50 ms",
        });
        assert.deepEqual(await silent.end(), []);
        assert.deepEqual(await active.ask({ action: "ping", id: 2 }), { action: "pong", id: 2 });
      } finally {
        await f.close();
      }
    },
  );

  test(`budgets (${name}): a hello name longer than maxNameBytes is refused with invalid_frame`, async () => {
    const f = await startFixture(make(), { limits: { maxNameBytes: 256 } });
    try {
      const peer = await f.raw();
      for (const name of ["n".repeat(257), "é".repeat(129)]) {
        assert.deepEqual(await peer.ask({ action: "hello", name, id: 1 }), {
          action: "error",
          code: "invalid_frame",
          error: "Name exceeds 256 bytes",
          id: 1,
        });
      }
      const answer = await peer.ask({ action: "hello", name: "é".repeat(128), id: 2 });
      assert.equal(answer.action, "hello");
    } finally {
      await f.close();
    }
  });

  test(`budgets (${name}): the seq table is bounded in bytes: past maxSeqTableBytes, sequence numbers restart`, async () => {
    const f = await startFixture(make(), { limits: { maxSeqTableBytes: 4096 } });
    try {
      const sub = await f.raw();
      assert.equal((await sub.ask({ action: "hello", id: 0 })).action, "hello");
      assert.deepEqual(await sub.ask({ action: "subscribe", topic: "#", id: 1 }), {
        action: "ok",
        id: 1,
      });
      const seqOf = async (topic: string): Promise<unknown> => {
        f.server.publish(topic, 1);
        const delivery = await sub.json();
        assert.equal(delivery.topic, topic);
        return delivery.seq;
      };
      assert.equal(await seqOf("a"), 1);
      assert.equal(await seqOf("a"), 2);
      // 100 short topics: far fewer characters than any character budget, but more than
      // 4 KiB of table entries once each entry's overhead is counted.
      for (let i = 0; i < 100; i++) await seqOf(`t${i}`);
      assert.equal(await seqOf("a"), 1, "the table was emptied, so the sequence restarted");
    } finally {
      await f.close();
    }
  });
}
