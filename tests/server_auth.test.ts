/**
 * The server with auth on: hello with credentials, auth_required before it,
 * auth_failed and auth_timeout closes, per-user permissions (forbidden).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Authenticator,
  type ClientFrame,
  hashPassword,
  hashToken,
  parseUsersConfig,
  type PubSubServerOptions,
} from "../mod.ts";
import { type Fixture, serverCases, startFixture, until } from "./helpers.ts";

async function authenticator(): Promise<Authenticator> {
  const config = parseUsersConfig({
    users: [
      {
        user: "alice",
        password: await hashPassword("s3cret", { iterations: 1000 }),
        permissions: {
          publish: { allow: ["sensors/#"], deny: ["sensors/secret"] },
          subscribe: { allow: ["alerts/#"], deny: ["alerts/internal/#"] },
        },
      },
      { user: "bot", token: await hashToken("t0ken-abc") },
    ],
  });
  return new Authenticator(config);
}

async function fixture(
  make: () => import("../mod.ts").Transport,
  options: PubSubServerOptions = {},
): Promise<{ f: Fixture; seen: ClientFrame[] }> {
  const seen: ClientFrame[] = [];
  const f = await startFixture(make(), {
    auth: await authenticator(),
    handler(data) {
      seen.push(structuredClone(data));
    },
    ...options,
  });
  return { f, seen };
}

for (const { name, make } of serverCases()) {
  test(`auth (${name}): frames before an authenticated hello get auth_required and are not handled`, async () => {
    const { f, seen } = await fixture(make);
    const peer = await f.raw();
    await peer.sendJson({ action: "subscribe", topic: "alerts/a", id: 1 });
    assert.deepEqual(await peer.json(), {
      action: "error",
      code: "auth_required",
      error: "Authenticate first: hello with user and pass, or token",
      id: 1,
    });
    await peer.sendJson({ action: "publish", topic: "sensors/t", message: 1 });
    assert.equal((await peer.json()).code, "auth_required");
    assert.deepEqual(seen, []);
    assert.equal(f.server.stats().subscriptions, 0);
    await f.close();
  });

  test(`auth (${name}): wrong credentials get auth_failed and a close`, async () => {
    const { f, seen } = await fixture(make);
    for (
      const hello of [
        { action: "hello", user: "alice", pass: "wrong" },
        { action: "hello", user: "mallory", pass: "s3cret" },
        { action: "hello", token: "guess" },
        { action: "hello" },
      ]
    ) {
      const peer = await f.raw();
      await peer.sendJson(hello);
      assert.deepEqual(await peer.json(), {
        action: "error",
        code: "auth_failed",
        error: "Invalid credentials",
      });
      assert.deepEqual(await peer.end(), []);
    }
    assert.deepEqual(seen, []);
    assert.equal(f.server.stats().authFailures, 4);
    await f.close();
  });

  test(`auth (${name}): a user gets its permissions; the handler never sees the password`, async () => {
    const { f, seen } = await fixture(make);
    const alice = await f.raw();
    await alice.sendJson({ action: "hello", user: "alice", pass: "s3cret", id: 1 });
    const answer = await alice.json();
    assert.equal(answer.action, "hello");
    assert.equal(answer.user, "alice");
    assert.equal(answer.id, 1);
    assert.deepEqual(seen[0], { action: "hello", user: "alice", id: 1 });

    const frames: [Record<string, unknown>, string][] = [
      [{ action: "subscribe", topic: "alerts/fire/+", id: 2 }, "ok"],
      [{ action: "subscribe", topic: "alerts/#", id: 8 }, "forbidden"], // overlaps the deny
      [{ action: "subscribe", topic: "#", id: 3 }, "forbidden"], // wider than allowed
      [{ action: "subscribe", topic: "alerts/+/x", id: 4 }, "forbidden"], // overlaps the deny
      [{ action: "publish", topic: "sensors/t1", message: 1, id: 5 }, "ok"],
      [{ action: "publish", topic: "sensors/secret", message: 1, id: 6 }, "forbidden"],
      [{ action: "publish", topic: "alerts/fire", message: 1, id: 7 }, "forbidden"],
    ];
    for (const [frame, expected] of frames) {
      await alice.sendJson(frame);
      const reply = await alice.json();
      assert.equal(reply.id, frame.id);
      assert.equal(reply.action === "ok" ? "ok" : reply.code, expected, JSON.stringify(frame));
    }
    await f.close();
  });

  test(`auth (${name}): a token user without permissions may do anything`, async () => {
    const { f } = await fixture(make);
    const bot = await f.raw();
    await bot.sendJson({ action: "hello", token: "t0ken-abc", id: 1 });
    assert.equal((await bot.json()).user, "bot");
    await bot.sendJson({ action: "subscribe", topic: "#", id: 2 });
    assert.deepEqual(await bot.json(), { action: "ok", id: 2 });
    await bot.sendJson({ action: "publish", topic: "anything", message: "x" });
    const delivery = await bot.json();
    assert.equal(delivery.topic, "anything");
    assert.equal(delivery.message, "x");
    await f.close();
  });

  test(`auth (${name}): a connection that does not authenticate in time is closed`, async () => {
    const { f } = await fixture(make, { limits: { authTimeoutMs: 30 } });
    const silent = await f.raw();
    assert.deepEqual(await silent.json(), {
      action: "error",
      code: "auth_timeout",
      error: "No authenticated hello within 30 ms",
    });
    assert.deepEqual(await silent.end(), []);
    await until(() => f.server.stats().connections === 0, "the close");
    assert.equal(f.server.stats().authFailures, 1);
    await f.close();
  });
}

test("reserved topics: clients may not publish to $ topics unless a user's permissions name them; the server may", async () => {
  const auth = new Authenticator(parseUsersConfig({
    users: [
      {
        user: "ops",
        token: await hashToken("ops-token"),
        permissions: { publish: { allow: ["$SYS/#"] } },
      },
      {
        user: "any",
        token: await hashToken("any-token"),
        permissions: { publish: { deny: ["#"] } },
      },
      { user: "open", token: await hashToken("open-token") },
    ],
  }));
  for (const withAuth of [false, true]) {
    const f = await startFixture(serverCases()[0].make(), withAuth ? { auth } : {});
    try {
      const watcher = await f.raw();
      if (withAuth) {
        await watcher.sendJson({ action: "hello", token: "open-token", id: 0 });
        assert.equal((await watcher.json()).action, "hello");
      }
      await watcher.sendJson({ action: "subscribe", topic: "$SYS/#", id: 1 });
      assert.deepEqual(await watcher.json(), { action: "ok", id: 1 });
      const refused = withAuth ? ["any-token", "open-token"] : [null];
      for (const token of refused) {
        const peer = await f.raw();
        if (token !== null) {
          await peer.sendJson({ action: "hello", token, id: 0 });
          assert.equal((await peer.json()).action, "hello");
        }
        await peer.sendJson({ action: "publish", topic: "$SYS/stats", message: "spoof", id: 2 });
        assert.deepEqual(await peer.json(), {
          action: "error",
          code: "forbidden",
          error: 'Publishing to "$SYS/stats" is not allowed',
          id: 2,
        });
      }
      if (withAuth) {
        const ops = await f.raw();
        await ops.sendJson({ action: "hello", token: "ops-token", id: 0 });
        assert.equal((await ops.json()).action, "hello");
        await ops.sendJson({ action: "publish", topic: "$SYS/ops", message: "allowed", id: 3 });
        assert.deepEqual(await ops.json(), { action: "ok", id: 3 });
        assert.equal((await watcher.json()).message, "allowed");
      }
      f.server.publish("$SYS/stats", { connections: 1 });
      const delivery = await watcher.json();
      assert.equal(delivery.topic, "$SYS/stats");
      assert.deepEqual(delivery.message, { connections: 1 });
    } finally {
      await f.close();
    }
  }
});
