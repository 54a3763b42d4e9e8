/**
 * Runs every `exchange` example of docs/PROTOCOL.md against a server, so the
 * protocol document is a set of fixtures that cannot drift from the code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createMemoryTransport, type ServerLimits } from "../mod.ts";
import { type RawPeer, startFixture, until } from "./helpers.ts";

interface Step {
  peer: string;
  kind: "send" | "receive" | "eof";
  bytes?: Uint8Array;
  json?: unknown;
  text: string;
}

interface Exchange {
  line: number;
  limits: Partial<ServerLimits>;
  steps: Step[];
}

const encoder = new TextEncoder();

function hexBytes(hex: string): Uint8Array {
  const digits = hex.replace(/\s+/g, "");
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function parseStep(text: string): Step {
  const match = /^([A-Z])(>hex|>crlf|>|<eof|<)(?: (.*))?$/.exec(text);
  if (match === null) throw new Error(`Unreadable exchange line: ${text}`);
  const [, peer, op, rest = ""] = match;
  switch (op) {
    case ">":
      return { peer, kind: "send", bytes: encoder.encode(rest + "\n"), text };
    case ">crlf":
      return { peer, kind: "send", bytes: encoder.encode(rest + "\r\n"), text };
    case ">hex":
      return { peer, kind: "send", bytes: new Uint8Array([...hexBytes(rest), 0x0a]), text };
    case "<eof":
      return { peer, kind: "eof", text };
    default:
      return { peer, kind: "receive", json: JSON.parse(rest), text };
  }
}

function parseLimits(info: string): Partial<ServerLimits> {
  const limits: Record<string, number> = {};
  for (const setting of info.split(/\s+/).slice(1)) {
    const [key, value] = setting.split("=");
    limits[key.replace(/^limits\./, "")] = Number(value);
  }
  return limits as Partial<ServerLimits>;
}

function exchanges(markdown: string): Exchange[] {
  const found: Exchange[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("```exchange")) continue;
    const exchange: Exchange = { line: i + 1, limits: parseLimits(lines[i]), steps: [] };
    for (i++; !lines[i].startsWith("```"); i++) exchange.steps.push(parseStep(lines[i]));
    found.push(exchange);
  }
  return found;
}

/** `expected` with every "<any>" value replaced by the actual one at that place. */
function withAny(expected: unknown, actual: unknown): unknown {
  if (expected === "<any>") return actual;
  if (
    typeof expected !== "object" || expected === null || typeof actual !== "object" ||
    actual === null
  ) {
    return expected;
  }
  const out: Record<string, unknown> = Array.isArray(expected)
    ? [] as unknown as Record<string, unknown>
    : {};
  for (const [key, value] of Object.entries(expected)) {
    out[key] = withAny(value, (actual as Record<string, unknown>)[key]);
  }
  return out;
}

const doc = readFileSync("docs/PROTOCOL.md", "utf8");
const all = exchanges(doc);

test("docs/PROTOCOL.md has exchange examples for every error code it lists", () => {
  const table = [...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  const sentCodes = table.filter((code) =>
    ![
      "connection_closed",
      "connection_refused",
      "connect_failed",
      "buffer_full",
      "protocol_error",
      "timeout",
      "backplane_unavailable", // raised by startPubSubServer(), tests/cluster.test.ts
    ]
      .includes(code)
  );
  const exemplified = new Set(
    all.flatMap((e) => e.steps).map((s) => (s.json as { code?: string } | undefined)?.code),
  );
  // Codes that need a misbehaving handler, a stalled reader, a shutdown, auth or a clock are
  // shown in plain blocks and tested in tests/server.test.ts.
  const elsewhere = [
    "handler_error",
    "slow_consumer", // tests/server.test.ts, tests/slow_consumer.test.ts
    "server_shutdown",
    "auth_required", // tests/server_auth.test.ts
    "auth_failed",
    "auth_timeout",
    "forbidden",
    "ping_timeout", // tests/keepalive.test.ts
    "input_budget", // tests/memory_budgets.test.ts: it needs an unfinished line
  ];
  for (const code of sentCodes) {
    if (elsewhere.includes(code)) continue;
    assert.ok(exemplified.has(code), `no exchange example for ${code}`);
  }
  assert.ok(all.length >= 6);
});

for (const exchange of all) {
  test(`docs/PROTOCOL.md exchange at line ${exchange.line} holds`, async () => {
    const f = await startFixture(createMemoryTransport(), { limits: exchange.limits });
    const peers = new Map<string, RawPeer>();
    const peer = async (name: string): Promise<RawPeer> => {
      let raw = peers.get(name);
      if (raw === undefined) {
        raw = await f.raw();
        peers.set(name, raw);
      }
      return raw;
    };
    let sent = 0;
    let lastSender = "";
    for (const step of exchange.steps) {
      const raw = await peer(step.peer);
      if (step.kind === "send") {
        // Another client's lines must be handled before this one is sent.
        if (lastSender !== step.peer) {
          await until(() => f.server.stats().linesIn >= sent, `lines before: ${step.text}`);
        }
        await raw.send(step.bytes!);
        sent++;
        lastSender = step.peer;
      } else if (step.kind === "receive") {
        const line = await raw.line();
        assert.notEqual(line, null, `stream ended before: ${step.text}`);
        assert.deepEqual(JSON.parse(line!), withAny(step.json, JSON.parse(line!)), step.text);
      } else {
        assert.equal(await raw.line(), null, step.text);
      }
    }
    await f.close();
  });
}
