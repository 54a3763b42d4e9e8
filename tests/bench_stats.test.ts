/** The benchmark's statistics: percentiles, and the median and spread over repeats (`scripts/_bench_stats.ts`). */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { percentile, spreadOf, summarize } from "../scripts/_bench_stats.ts";

describe("bench statistics", () => {
  it("percentile() takes the sample at floor(q × n), the last for q = 1", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    assert.equal(percentile(sorted, 0.5), 51);
    assert.equal(percentile(sorted, 0.99), 100);
    assert.equal(percentile(sorted, 0), 1);
    assert.equal(percentile(sorted, 1), 100);
    assert.equal(percentile([7], 0.99), 7);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it("spreadOf() gives min, median (the higher middle of an even count) and max", () => {
    assert.deepEqual(spreadOf([3, 1, 2]), { min: 1, median: 2, max: 3, runs: 3 });
    assert.deepEqual(spreadOf([4, 1, 3, 2]), { min: 1, median: 3, max: 4, runs: 4 });
    assert.deepEqual(spreadOf([5, undefined, NaN, Infinity]), {
      min: 5,
      median: 5,
      max: 5,
      runs: 1,
    });
    assert.equal(spreadOf([undefined, NaN]), undefined);
  });

  it("summarize() takes each figure's own median and keeps its spread", () => {
    const row = summarize([
      { scenario: "fanout1", runtime: "deno", cpuUsPerDelivery: 0.5, deliveredPerSec: 300 },
      { scenario: "fanout1", runtime: "deno", cpuUsPerDelivery: 0.4, deliveredPerSec: 100 },
      { scenario: "fanout1", runtime: "deno", cpuUsPerDelivery: 0.6, deliveredPerSec: 200 },
    ]);
    assert.equal(row.cpuUsPerDelivery, 0.5);
    assert.equal(row.deliveredPerSec, 200);
    assert.deepEqual(row.spread?.cpuUsPerDelivery, { min: 0.4, median: 0.5, max: 0.6, runs: 3 });
    assert.deepEqual(row.spread?.deliveredPerSec, { min: 100, median: 200, max: 300, runs: 3 });
    assert.equal(row.spread?.p99Us, undefined);
    assert.equal(row.note, "median of 3");
  });

  it("summarize() of one run is that run, without a spread; notes are kept once", () => {
    const one = { scenario: "latency1@2k", runtime: "nats", p99Us: 300, note: "target" } as const;
    assert.deepEqual(summarize([one]), one);
    const row = summarize([{ ...one, p99Us: 100 }, { ...one, p99Us: 200 }]);
    assert.equal(row.p99Us, 200);
    assert.equal(row.note, "target; median of 2");
    assert.throws(() => summarize([]), RangeError);
  });

  it("summarize() keeps each part of the runs' notes once", () => {
    const row = summarize([
      { scenario: "connections", runtime: "deno", note: "10 connections" },
      { scenario: "connections", runtime: "deno", note: "10 connections; 3 slow consumer(s)" },
      { scenario: "connections", runtime: "deno", note: "10 connections" },
    ]);
    assert.equal(row.note, "10 connections; 3 slow consumer(s); median of 3");
  });
});
