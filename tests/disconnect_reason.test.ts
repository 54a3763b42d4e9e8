/**
 * The server's "Client disconnected" log line says why: the client closed,
 * a line too long, bad credentials, the server shutting down (and any
 * other error code it sent before closing).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Authenticator, createMemoryTransport, hashToken, silentLogger } from "../mod.ts";
import type { LogFields, Logger } from "../mod.ts";
import { startFixture } from "./helpers.ts";

/** A logger that hands each "Client disconnected" line's reason to whoever waits for it. */
class Disconnects {
  readonly reasons: string[] = [];
  #wake: (() => void) | null = null;
  readonly logger: Logger = {
    ...silentLogger,
    info: (message: string, fields?: LogFields) => {
      if (message !== "Client disconnected") return;
      this.reasons.push(String(fields?.reason));
      this.#wake?.();
    },
  };

  /** The next reason logged. */
  async next(): Promise<string> {
    while (this.reasons.length === 0) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return this.reasons.shift()!;
  }
}

test("server logs the reason of every disconnect", async () => {
  const disconnects = new Disconnects();
  const auth = new Authenticator({ users: [{ user: "bot", token: await hashToken("t0ken") }] });
  const fixture = await startFixture(createMemoryTransport(), {
    logger: disconnects.logger,
    limits: { maxLineBytes: 64 },
    auth,
  });
  try {
    const closer = await fixture.raw();
    closer.close();
    assert.equal(await disconnects.next(), "client_closed");

    const long = await fixture.raw();
    await long.send("x".repeat(100));
    assert.equal(await disconnects.next(), "line_too_long");
    long.close();

    const wrong = await fixture.raw();
    await wrong.sendJson({ action: "hello", token: "guess" });
    assert.equal(await disconnects.next(), "auth_failed");
    wrong.close();

    const staying = await fixture.raw();
    await staying.sendJson({ action: "hello", token: "t0ken", id: 1 });
    assert.equal((await staying.json()).action, "hello");
    await fixture.server.close();
    assert.equal(await disconnects.next(), "server_shutdown");
  } finally {
    await fixture.close();
  }
});
