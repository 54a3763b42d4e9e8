/** The benchmark's scenario names, groups and options (`scripts/_bench_plan.ts`, `_bench_fds.ts`). */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_SCENARIOS,
  expandScenarios,
  parseCount,
  SCENARIO_NAMES,
  SERVER_SCENARIOS,
} from "../scripts/_bench_plan.ts";
import { SCENARIOS } from "../scripts/_bench_scenarios.ts";
import { PEER_SCENARIOS } from "../scripts/_bench_peers.ts";
import { parsePrlimit } from "../scripts/_bench_fds.ts";

describe("bench plan", () => {
  it("every server scenario name has a scenario, and every scenario a name", () => {
    assert.deepEqual([...SERVER_SCENARIOS].sort(), Object.keys(SCENARIOS).sort());
    for (const name of PEER_SCENARIOS) assert.ok(SERVER_SCENARIOS.includes(name), name);
    for (const name of DEFAULT_SCENARIOS) assert.ok(PEER_SCENARIOS.has(name), name);
  });

  it("expandScenarios() expands groups, keeps the order given, and names each once", () => {
    assert.deepEqual(expandScenarios("cold"), ["cold1", "cold10"]);
    assert.deepEqual(expandScenarios("latency,fanout1"), ["latency1", "latency10", "fanout1"]);
    assert.deepEqual(expandScenarios("fanout1, fanout,cold1,cold"), [
      "fanout1",
      "fanout10",
      "fanout100",
      "cold1",
      "cold10",
    ]);
    assert.deepEqual(expandScenarios("scale"), ["connections", "subscriptions"]);
    assert.deepEqual(expandScenarios("all"), [...SCENARIO_NAMES]);
    assert.deepEqual(expandScenarios(DEFAULT_SCENARIOS.join(",")), [...DEFAULT_SCENARIOS]);
    assert.deepEqual(expandScenarios(""), []);
  });

  it("expandScenarios() refuses an unknown name, naming it", () => {
    assert.throws(() => expandScenarios("fanout1,latency2k"), /Unknown scenario "latency2k"/);
    assert.throws(() => expandScenarios("cold2"), RangeError);
  });

  it("parseCount() takes whole numbers of at least the minimum", () => {
    assert.equal(parseCount("--repeat", "3"), 3);
    assert.equal(parseCount("--repeat", " 12 "), 12);
    for (const text of ["0", "-1", "1.5", "x", "", "3x", "1e3"]) {
      assert.throws(() => parseCount("--repeat", text), /Invalid --repeat/, text);
    }
    assert.equal(parseCount("--n", "0", 0), 0);
  });

  it("parsePrlimit() reads prlimit's SOFT,HARD output", () => {
    assert.deepEqual(parsePrlimit("     1024    524288\n"), { soft: 1024, hard: 524288 });
    assert.deepEqual(parsePrlimit("20000 20000"), { soft: 20000, hard: 20000 });
    assert.deepEqual(parsePrlimit("unlimited unlimited"), { soft: Infinity, hard: Infinity });
    assert.deepEqual(parsePrlimit("1024 unlimited"), { soft: 1024, hard: Infinity });
    assert.equal(parsePrlimit(""), null);
    assert.equal(parsePrlimit("a b"), null);
    assert.equal(parsePrlimit("2048 1024"), null);
    assert.equal(parsePrlimit("1 2 3"), null);
  });
});
