/**
 * Which scenarios a benchmark run makes: the names `--scenarios` takes, the
 * groups that stand for several (`cold`, `latency`, `fanout`, `all`), and
 * the default full set of `npm run bench`.
 *
 * @module
 */

/**
 * The full set `npm run bench` runs by default: fan-out 1, 10 and 100 (warm),
 * the cold start at fan-out 1 and 10, many topics, latency under load at
 * fan-out 1 and 10, and connections and subscriptions at scale.
 */
export const DEFAULT_SCENARIOS: readonly string[] = [
  "fanout1",
  "fanout10",
  "fanout100",
  "cold1",
  "cold10",
  "topics",
  "latency1",
  "latency10",
  "connections",
  "subscriptions",
];

/** Every scenario run against a server, in the order a full run makes them. */
export const SERVER_SCENARIOS: readonly string[] = [
  ...DEFAULT_SCENARIOS,
  "fanin",
  "slow",
  "wsfanout1",
  "wsfanout10",
  "wsfanout100",
  "wspub10",
];

/** Every name `--scenarios` takes one scenario by: the server scenarios and `match` (in process). */
export const SCENARIO_NAMES: readonly string[] = [...SERVER_SCENARIOS, "match"];

/** Names that stand for several scenarios. */
export const SCENARIO_GROUPS: Readonly<Record<string, readonly string[]>> = {
  fanout: ["fanout1", "fanout10", "fanout100"],
  cold: ["cold1", "cold10"],
  latency: ["latency1", "latency10"],
  scale: ["connections", "subscriptions"],
  ws: ["wsfanout1", "wsfanout10", "wsfanout100", "wspub10"],
  all: SCENARIO_NAMES,
};

/**
 * The scenarios a `--scenarios` list names, groups expanded, in the order
 * given, each once. Throws a `RangeError` on an unknown name.
 */
export function expandScenarios(list: string): string[] {
  const out: string[] = [];
  for (const name of list.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const names = Object.hasOwn(SCENARIO_GROUPS, name) ? SCENARIO_GROUPS[name] : [name];
    for (const one of names) {
      if (!SCENARIO_NAMES.includes(one)) {
        throw new RangeError(
          `Unknown scenario "${one}": --scenarios takes ${SCENARIO_NAMES.join(",")} ` +
            `or a group (${Object.keys(SCENARIO_GROUPS).join(",")})`,
        );
      }
      if (!out.includes(one)) out.push(one);
    }
  }
  return out;
}

/** A whole number of at least `min` from an option's text, or a `RangeError` naming the option. */
export function parseCount(option: string, text: string, min = 1): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`Invalid ${option} "${text}": a whole number of at least ${min}`);
  }
  return value;
}
