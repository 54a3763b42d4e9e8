/** Paced publishing for the latency scenarios (`scripts/_bench_pacing.ts`). */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dueCount, stampedMessage, stampOf } from "../scripts/_bench_pacing.ts";
import { KNSOCK, NATS, REDIS } from "../scripts/_bench_protocols.ts";

const encoder = new TextEncoder();

describe("bench pacing", () => {
  it("dueCount() is the messages due by the elapsed time at the rate, at most the total", () => {
    assert.equal(dueCount(0, 100_000, 50_000), 0);
    assert.equal(dueCount(-5, 100_000, 50_000), 0);
    assert.equal(dueCount(1, 100_000, 50_000), 100);
    assert.equal(dueCount(1.5, 2_000, 50_000), 3);
    assert.equal(dueCount(0.4, 2_000, 50_000), 0);
    // A late tick (7 ms instead of 1) sends every message due, not one.
    assert.equal(dueCount(7, 100_000, 50_000) - dueCount(0, 100_000, 50_000), 700);
    assert.equal(dueCount(10_000, 100_000, 50_000), 50_000);
    assert.equal(dueCount(10, 0, 50_000), 0);
  });

  it("dueCount() holds 100,000/s whatever the tick lengths", () => {
    let elapsed = 0;
    let sent = 0;
    const ticks = [1, 1.2, 4, 0.3, 15, 1, 2.5];
    for (let i = 0; elapsed < 1000; i++) {
      elapsed += ticks[i % ticks.length];
      sent = dueCount(elapsed, 100_000, 100_000);
    }
    assert.equal(sent, 100_000);
  });

  it("stampedMessage() pads to the size, and stampOf() reads the stamp back", () => {
    const message = stampedMessage("t", 1234.5678);
    assert.equal(message.length, 128);
    assert.ok(message.startsWith("t=1234.5678|x"));
    assert.equal(stampOf(message), 1234.5678);
    assert.equal(stampOf(stampedMessage("w", 99)), undefined);
    assert.equal(stampedMessage("t", 1, 2), "t=1|");
  });

  it("stampOf() finds the stamp in a kn-sock line, a NATS and a Redis payload", () => {
    const message = stampedMessage("t", 42.25);
    const line = JSON.stringify({ topic: "latency", message });
    assert.equal(stampOf(line), 42.25);
    for (const dialect of [KNSOCK, NATS, REDIS]) {
      const seen: string[] = [];
      const reader = dialect.reader({ onDelivery: (d) => seen.push(d) });
      const bytes = dialect === NATS
        ? `MSG latency 1 ${message.length}\r\n${message}\r\n`
        : dialect === REDIS
        ? `*3\r\n$7\r\nmessage\r\n$7\r\nlatency\r\n$${message.length}\r\n${message}\r\n`
        : line + "\n";
      assert.equal(reader.read(encoder.encode(bytes)), 1, dialect.name);
      assert.equal(stampOf(seen[0]), 42.25, dialect.name);
    }
  });

  it("stampOf() gives undefined without a stamp", () => {
    assert.equal(stampOf("hello"), undefined);
    assert.equal(stampOf("t=|x"), undefined);
    assert.equal(stampOf("t=12"), undefined);
    assert.equal(stampOf("t=abc|"), undefined);
    assert.equal(stampOf('{"topic":"a","message":"at=5|"}'), undefined);
  });
});
