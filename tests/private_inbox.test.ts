/**
 * Request/reply under auth (issue 18, finding 6): each connection has a
 * private inbox, `_inbox/<connection id>`, that only it may read (whatever
 * anyone's subscriptions), and a `reply` topic is checked against the
 * publisher's own publish permissions. With auth off nothing changes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Authenticator, hashToken, parseUsersConfig, PubSubClient, ServerError } from "../mod.ts";
import { type Fixture, type RawPeer, serverCases, startFixture, subscribed } from "./helpers.ts";

/** The users of docs/AUTH.md's request/reply recipe, plus a snoop allowed to read everything. */
async function recipeAuth(): Promise<Authenticator> {
  return new Authenticator(parseUsersConfig({
    users: [
      {
        user: "requester",
        token: await hashToken("req-token"),
        permissions: { publish: { allow: ["svc/#"] }, subscribe: { allow: [] } },
      },
      {
        user: "responder",
        token: await hashToken("resp-token"),
        permissions: { publish: { allow: ["_inbox/#"] }, subscribe: { allow: ["svc/#"] } },
      },
      {
        user: "snoop",
        token: await hashToken("snoop-token"),
        permissions: { publish: { allow: ["svc/#", "marker"] } },
      },
    ],
  }));
}

function connect(f: Fixture, token: string): Promise<PubSubClient> {
  return PubSubClient.connect("127.0.0.1", f.server.addr.port, {
    transport: f.transport,
    auth: { token },
  });
}

/** A raw peer authenticated with `token`; returns the server's hello answer. */
async function rawHello(peer: RawPeer, token: string): Promise<Record<string, unknown>> {
  await peer.sendJson({ action: "hello", token, id: 0 });
  const answer = await peer.json();
  assert.equal(answer.action, "hello");
  return answer;
}

for (const { name, make } of serverCases()) {
  test(`private inbox (${name}): a reply reaches its requester only, not a subscriber of _inbox/# or #`, async () => {
    const f = await startFixture(make(), { auth: await recipeAuth() });
    const clients: PubSubClient[] = [];
    try {
      const responder = await connect(f, "resp-token");
      const requester = await connect(f, "req-token");
      clients.push(responder, requester);
      const sub = await responder.subscribe("svc/echo");
      const served = (async () => {
        for await (const request of sub) await request.respond?.({ echo: request.message });
      })().catch(() => {});
      await responder.flush();
      const snoop = await f.raw();
      await rawHello(snoop, "snoop-token");
      for (const [i, pattern] of ["_inbox/#", "#", "_inbox/+/+/+"].entries()) {
        assert.deepEqual(await snoop.ask({ action: "subscribe", topic: pattern, id: i + 1 }), {
          action: "ok",
          id: i + 1,
        });
      }
      const reply = await requester.request("svc/echo", "ping", { timeout: 30_000 });
      assert.deepEqual(reply.message, { echo: "ping" });
      assert.match(reply.topic, /^_inbox\/\d+\/[0-9a-f]{16}\/0$/);
      // A marker after the reply: the snoop has seen everything before it once it sees it.
      await snoop.sendJson({ action: "publish", topic: "marker", message: "end" });
      const seen: string[] = [];
      for (let line = await snoop.json(); line.topic !== "marker"; line = await snoop.json()) {
        seen.push(String(line.topic));
      }
      assert.deepEqual(seen, ["svc/echo"], "the snoop saw the request, never the reply");
      await Promise.all(clients.map((client) => client.close()));
      await served;
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await f.close();
    }
  });

  test(`private inbox (${name}): its own inbox is every connection's to read; another's is not`, async () => {
    const f = await startFixture(make(), { auth: await recipeAuth() });
    try {
      const [a, b] = await Promise.all([f.raw(), f.raw()]);
      const inboxA = String((await rawHello(a, "req-token")).inbox);
      const inboxB = String((await rawHello(b, "req-token")).inbox);
      assert.match(inboxA, /^_inbox\/\d+$/);
      assert.notEqual(inboxA, inboxB);
      // The requester may subscribe to nothing, except under its own inbox.
      for (const [i, pattern] of [inboxA, `${inboxA}/x/+`, `${inboxA}/#`].entries()) {
        assert.deepEqual(await a.ask({ action: "subscribe", topic: pattern, id: i }), {
          action: "ok",
          id: i,
        });
      }
      for (const pattern of [`${inboxB}/+`, "_inbox/#", `${inboxA}x/+`]) {
        const answer = await a.ask({ action: "subscribe", topic: pattern, id: 9 });
        assert.equal(answer.code, "forbidden", pattern);
      }
    } finally {
      await f.close();
    }
  });

  test(`private inbox (${name}): a reply topic must be the publisher's own inbox or a topic it may publish to`, async () => {
    const f = await startFixture(make(), { auth: await recipeAuth() });
    try {
      const [requester, responder] = await Promise.all([f.raw(), f.raw()]);
      const inbox = String((await rawHello(requester, "req-token")).inbox);
      const responderInbox = String((await rawHello(responder, "resp-token")).inbox);
      assert.deepEqual(await responder.ask({ action: "subscribe", topic: "svc/#", id: 1 }), {
        action: "ok",
        id: 1,
      });
      // The requester may not publish to alerts/fire, nor into another's inbox: nor may it
      // get a responder to do it with `reply`.
      for (const reply of ["alerts/fire", `${responderInbox}/x`]) {
        const publish = { action: "publish", topic: "svc/a", message: 1, reply, id: 2 };
        assert.deepEqual(await requester.ask(publish), {
          action: "error",
          code: "forbidden",
          error: `Reply topic "${reply}" is not allowed`,
          id: 2,
        });
      }
      // Its own inbox, or a topic it may publish to, is a reply topic.
      for (const [i, reply] of [`${inbox}/r/1`, "svc/replies"].entries()) {
        const publish = { action: "publish", topic: "svc/a", message: i, reply, id: 3 };
        assert.deepEqual(await requester.ask(publish), { action: "ok", id: 3 });
        const delivery = await responder.json();
        assert.equal(delivery.reply, reply);
      }
      // The responder's reply is checked against its own permissions.
      const forbidden = { action: "publish", topic: "svc/replies", message: 0, id: 4 };
      assert.equal((await responder.ask(forbidden)).code, "forbidden");
    } finally {
      await f.close();
    }
  });

  test(`private inbox (${name}): with auth off, inboxes are not private and hello gives none`, async () => {
    const f = await startFixture(make());
    try {
      const responder = await PubSubClient.connect("127.0.0.1", f.server.addr.port, {
        transport: f.transport,
        hello: { name: "responder" },
      });
      const sub = await responder.subscribe("svc/echo");
      const served = (async () => {
        for await (const request of sub) await request.respond?.(request.message);
      })().catch(() => {});
      await responder.flush();
      const watcher = await f.client();
      await subscribed(watcher, "_inbox/#");
      const requester = await f.client();
      const reply = await requester.request("svc/echo", "hi", { timeout: 30_000 });
      assert.equal(reply.message, "hi");
      assert.match(reply.topic, /^_inbox\/[0-9a-f]{16}\/0$/);
      const seen = await watcher.recv();
      assert.equal(seen?.topic, reply.topic, "with auth off a subscriber of _inbox/# sees it");
      const raw = await f.raw();
      const hello = await raw.ask({ action: "hello", id: 1 });
      assert.equal(hello.inbox, undefined);
      await responder.close();
      await served;
    } finally {
      await f.close();
    }
  });
}

test("private inbox: a request refused by the server rejects with its error", async () => {
  const f = await startFixture(serverCases()[0].make(), { auth: await recipeAuth() });
  try {
    const snoop = await connect(f, "snoop-token");
    await assert.rejects(
      snoop.request("alerts/x", 1),
      (error: unknown) => error instanceof ServerError && error.code === "forbidden",
    );
    await snoop.close();
  } finally {
    await f.close();
  }
});
