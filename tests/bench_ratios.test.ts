/** The benchmark's run order and peer ratios (`scripts/_bench_ratios.ts`). */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ratios, roundOrder } from "../scripts/_bench_ratios.ts";

describe("bench ratios", () => {
  it("roundOrder() alternates ours and the peers and rotates by round", () => {
    const ours = ["deno", "bun", "node"];
    const peers = ["nats", "redis"];
    assert.deepEqual(roundOrder(ours, peers, 0), ["deno", "nats", "bun", "redis", "node"]);
    assert.deepEqual(roundOrder(ours, peers, 1), ["nats", "bun", "redis", "node", "deno"]);
    assert.deepEqual(roundOrder(ours, peers, 5), roundOrder(ours, peers, 0));
    assert.deepEqual(roundOrder(["deno"], peers, 0), ["deno", "nats", "redis"]);
    assert.deepEqual(roundOrder(ours, [], 1), ["bun", "node", "deno"]);
    assert.deepEqual(roundOrder([], [], 3), []);
  });

  it("ratios() divides each figure by each peer's of the same scenario", () => {
    const got = ratios([
      { scenario: "fanout1", runtime: "deno", cpuUsPerDelivery: 0.75 },
      { scenario: "fanout1", runtime: "nats", cpuUsPerDelivery: 0.25 },
      { scenario: "fanout1", runtime: "redis", cpuUsPerDelivery: 0.5 },
      { scenario: "latency", runtime: "deno", p50Us: 50, p99Us: 300 },
      { scenario: "latency", runtime: "nats", p50Us: 100, p99Us: 200 },
      { scenario: "slow", runtime: "deno", peakRssMiB: 70 }, // no peer: no ratio
    ], ["nats", "redis"]);
    const table = got.map((r) => [r.scenario, r.figure, r.runtime, r.vs]);
    assert.deepEqual(table, [
      ["fanout1", "server µs/deliv", "deno", { nats: 3, redis: 1.5 }],
      ["fanout1", "server µs/deliv", "nats", { nats: 1, redis: 0.5 }],
      ["fanout1", "server µs/deliv", "redis", { nats: 2, redis: 1 }],
      ["latency", "p50 µs", "deno", { nats: 0.5 }],
      ["latency", "p50 µs", "nats", { nats: 1 }],
      ["latency", "p99 µs", "deno", { nats: 1.5 }],
      ["latency", "p99 µs", "nats", { nats: 1 }],
    ]);
  });
});
