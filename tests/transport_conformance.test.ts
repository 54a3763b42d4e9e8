/**
 * One conformance suite, run against every transport this runtime supports,
 * against each TCP one over TLS, and against WebSocket (served by this
 * runtime's HTTP transport) with each WebSocket client this runtime has,
 * skipping what WebSocket cannot do.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectError, ConnectionClosedError } from "../mod.ts";
import type { Conn, Listener, Transport } from "../mod.ts";
import { readAll, readPattern, writePattern } from "./byte_streams.ts";
import { transportCases } from "./helpers.ts";
import { makeTestCerts, tlsCases } from "./tls_cert.ts";
import { type Lack, webSocketCases } from "./websocket_helpers.ts";

const certs = await makeTestCerts();
await certs.remove(); // the PEM texts are all the TLS cases need

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function pair(
  transport: Transport,
): Promise<{ listener: Listener; client: Conn; server: Conn }> {
  const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const accepted = listener[Symbol.asyncIterator]().next();
    const client = await transport.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const next = await accepted;
    assert.equal(next.done, false);
    return { listener, client, server: next.value as Conn };
  } catch (error) {
    await listener.close(); // an open listener would keep the test process alive
    throw error;
  }
}

/**
 * Runs `body` with a connected pair, then closes both ends and the listener
 * (each close is idempotent), even when `body` fails: an open listener or
 * connection would keep the test process alive.
 */
async function withPair(
  transport: Transport,
  body: (pair: { listener: Listener; client: Conn; server: Conn }) => Promise<void>,
): Promise<void> {
  const connected = await pair(transport);
  try {
    await body(connected);
  } finally {
    connected.client.close();
    connected.server.close();
    await connected.listener.close();
  }
}

const cases: { name: string; make(): Transport; lacks?: readonly Lack[] }[] = [
  ...transportCases(),
  ...tlsCases(transportCases(), certs),
  ...await webSocketCases(),
];

for (const { name, make, lacks = [] } of cases) {
  /** `test`, or `test.skip` when the transport lacks `lack`. */
  const unless = (lack: Lack): (name: string, fn: () => Promise<void>) => unknown =>
    lacks.includes(lack) ? test.skip : test;

  unless("half-close")(`${name} transport echoes bytes`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      const echo = (async () => {
        for await (const chunk of server) await server.write(chunk);
        server.close();
      })();
      await client.write(encoder.encode("hello\n"));
      client.closeWrite();
      assert.equal(decoder.decode(await readAll(client)), "hello\n");
      await echo;
      client.close();
      await listener.close();
    });
  });

  unless("local-address")(`${name} transport reports addresses`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      assert.ok(listener.addr.port > 0);
      assert.equal(client.remoteAddr.port, listener.addr.port);
      assert.equal(server.localAddr.port, listener.addr.port);
      assert.equal(server.remoteAddr.port, client.localAddr.port);
      client.close();
      server.close();
      await listener.close();
    });
  });

  test(`${name} transport delivers 16 MiB intact and in order to a slower reader`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      const total = 16 * 1024 * 1024;
      const reader = readPattern(server);
      await writePattern(client, total);
      client.closeWrite();
      assert.deepEqual(await reader, { received: total, mismatches: 0 });
      client.close();
      server.close();
      await listener.close();
    });
  });

  test(`${name} transport ends the peer's stream when the client closes`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      await client.write(encoder.encode("last words"));
      client.close();
      client.close(); // idempotent
      await client.closed;
      assert.equal(decoder.decode(await readAll(server)), "last words");
      server.close();
      await server.closed;
      await listener.close();
    });
  });

  test(`${name} transport ends the peer's stream when the server closes`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      server.close();
      assert.equal((await readAll(client)).byteLength, 0);
      client.close();
      await Promise.all([client.closed, server.closed]);
      await listener.close();
    });
  });

  test(`${name} transport delivers what was written before close()`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      const total = 2 * 1024 * 1024;
      const reading = readAll(server);
      for (let sent = 0; sent < total; sent += 64 * 1024) {
        await client.write(new Uint8Array(64 * 1024));
      }
      client.close();
      assert.equal((await reading).byteLength, total);
      server.close();
      await listener.close();
    });
  });

  test(`${name} transport rejects a write after close with ConnectionClosedError`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      client.close();
      await assert.rejects(client.write(encoder.encode("x")), ConnectionClosedError);
      server.close();
      await listener.close();
    });
  });

  test(`${name} transport rejects a write the peer never read when it closes`, async () => {
    await withPair(make(), async ({ client }) => {
      // The server reads nothing, so 32 MiB cannot all reach the kernel: the
      // write is still pending when the connection closes, and must not hang.
      const writing = client.write(new Uint8Array(32 * 1024 * 1024));
      client.close();
      await assert.rejects(writing, ConnectionClosedError);
    });
  });

  test(`${name} transport ends a read in progress on close`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      const reading = readAll(client);
      client.close();
      assert.equal((await reading).byteLength, 0);
      server.close();
      await listener.close();
    });
  });

  unless("half-close")(`${name} transport keeps reading after the peer half-closes`, async () => {
    await withPair(make(), async ({ listener, client, server }) => {
      client.closeWrite();
      assert.equal((await readAll(server)).byteLength, 0);
      await server.write(encoder.encode("reply"));
      server.close();
      assert.equal(decoder.decode(await readAll(client)), "reply");
      client.close();
      await listener.close();
    });
  });

  unless("refused-code")(
    `${name} transport refuses a connection with code connection_refused`,
    async () => {
      const transport = make();
      const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
      const port = listener.addr.port;
      await listener.close();
      await assert.rejects(
        transport.connect({ hostname: "127.0.0.1", port }),
        (error: unknown) => error instanceof ConnectError && error.code === "connection_refused",
      );
    },
  );

  test(`${name} transport fails an aborted connect with code connect_failed`, async () => {
    const transport = make();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(
      transport.connect({ hostname: "127.0.0.1", port: 9, signal: controller.signal }),
      (error: unknown) => error instanceof ConnectError && error.code === "connect_failed",
    );
  });

  test(`${name} transport frees the port when the listener closes`, async () => {
    const transport = make();
    const first = await transport.listen({ hostname: "127.0.0.1", port: 0 });
    const port = first.addr.port;
    const iterating = (async () => {
      for await (const conn of first) conn.close();
    })();
    await first.close();
    await first.close(); // idempotent
    await iterating; // the iteration ended
    const second = await transport.listen({ hostname: "127.0.0.1", port });
    assert.equal(second.addr.port, port);
    await second.close();
  });

  unless("keeps-conns")(
    `${name} transport keeps accepted connections open when the listener closes`,
    async () => {
      await withPair(make(), async ({ listener, client, server }) => {
        await listener.close();
        await client.write(encoder.encode("still here"));
        client.closeWrite();
        assert.equal(decoder.decode(await readAll(server)), "still here");
        server.close();
        client.close();
      });
    },
  );
}
