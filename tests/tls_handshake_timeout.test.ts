/**
 * A TLS handshake that never completes is not held for ever (issue 18,
 * finding 9): a peer that sends part of a ClientHello and then nothing is
 * closed after `tlsHandshakeTimeoutMs`, on every TCP transport.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startPubSubServer } from "../mod.ts";
import { transportCases, until } from "./helpers.ts";
import { makeTestCerts } from "./tls_cert.ts";

const certs = await makeTestCerts();
await certs.remove();

/** The first bytes of a TLS 1.2 ClientHello record: the header promises 200 bytes, 4 come. */
const TRUNCATED_CLIENT_HELLO = new Uint8Array([
  0x16,
  0x03,
  0x01,
  0x00,
  0xc8,
  0x01,
  0x00,
  0x00,
  0xc4,
]);

for (const { name, make } of transportCases().filter((c) => c.name !== "memory")) {
  test(`${name} TLS: a truncated ClientHello is closed after tlsHandshakeTimeoutMs`, {
    timeout: 60_000,
  }, async () => {
    const transport = make();
    const server = await startPubSubServer({
      port: 0,
      transport,
      tls: { cert: certs.cert, key: certs.key },
      limits: { tlsHandshakeTimeoutMs: 100 },
    });
    try {
      // Plain TCP to the TLS port: the handshake starts and is never finished.
      const conn = await transport.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await until(() => server.stats().connections === 1, "the accept");
      await conn.write(TRUNCATED_CLIENT_HELLO);
      if (name === "deno") {
        // Deno.listenTls's connection, closed during its handshake, keeps its TCP socket
        // until the peer sends more or hangs up (a Deno limitation, see docs/SECURITY.md):
        // the server lets go of it, and nothing of it counts against the server any more.
        await until(() => server.stats().connections === 0, "the server's close");
        conn.close();
        return;
      }
      let bytes = 0;
      for await (const chunk of conn) bytes += chunk.byteLength; // ends when the server closes
      conn.close();
      assert.equal(bytes, 0, "nothing is sent before a handshake");
      await until(() => server.stats().connections === 0, "the server's side of the close");
    } finally {
      await server.close();
    }
  });
}
