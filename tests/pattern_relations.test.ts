/**
 * patternCovers() and patternsOverlap(): tables, then a brute-force check
 * that both agree with matchTopic() on every pattern and topic built from a
 * small alphabet of levels.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchTopic, patternCovers, patternProblem, patternsOverlap } from "../mod.ts";

const COVERS: [outer: string, inner: string, expected: boolean][] = [
  // exact
  ["a/b", "a/b", true],
  ["a/b", "a/c", false],
  ["a/b", "a", false],
  ["a", "a/b", false],
  ["a/b", "a/+", false],
  ["a/b", "a/#", false],
  // +
  ["a/+", "a/b", true],
  ["a/+", "a/+", true],
  ["a/+", "a/#", false],
  ["a/+", "a", false],
  ["a/+", "a/b/c", false],
  ["+/b", "a/b", true],
  ["+/+", "a/+", true],
  ["+/+", "+/b", true],
  ["a/+", "+/b", false],
  ["a/+/c", "a//c", true],
  ["+", "", true],
  // #
  ["#", "a", true],
  ["#", "a/b/c", true],
  ["#", "+/#", true],
  ["#", "#", true],
  ["a/#", "a", true],
  ["a/#", "a/#", true],
  ["a/#", "a/+/c", true],
  ["a/#", "#", false],
  ["a/#", "+", false],
  ["a/#", "ab", false],
  ["a/b/#", "a/#", false],
  ["a/b/#", "a/b", true],
  ["a/+/#", "a/b", true],
  ["a/+/#", "a/#", false],
  ["+/#", "a", true],
  ["+/#", "#", true],
  ["+/+/#", "#", false],
  ["+/+/#", "+/#", false],
  ["+/+/#", "+/+", true],
  // $ topics
  ["#", "$SYS/uptime", false],
  ["#", "$SYS/#", false],
  ["+/#", "$SYS", false],
  ["+/uptime", "$SYS/uptime", false],
  ["$SYS/#", "$SYS/uptime", true],
  ["$SYS/#", "$SYS/#", true],
  ["$SYS/+", "$SYS/uptime", true],
  ["$SYS/#", "#", false],
  ["$SYS/#", "+/uptime", false],
  ["a/#", "a/$b", true],
  ["a/+", "a/$b", true],
  ["#", "x$", true],
];

for (const [outer, inner, expected] of COVERS) {
  test(`patternCovers() says '${outer}' ${expected ? "covers" : "does not cover"} '${inner}'`, () => {
    assert.equal(patternCovers(outer, inner), expected);
  });
}

const OVERLAPS: [a: string, b: string, expected: boolean][] = [
  ["a/b", "a/b", true],
  ["a/b", "a/c", false],
  ["a/b", "a", false],
  ["a/+", "a/b", true],
  ["a/+", "+/b", true],
  ["a/+", "b/+", false],
  ["a/+", "a/b/c", false],
  ["a/+", "a", false],
  ["a/#", "a", true],
  ["a/#", "a/b/c", true],
  ["a/#", "+/b/#", true],
  ["a/#", "b/#", false],
  ["alerts/+", "alerts/internal/#", true],
  ["alerts/+/x", "alerts/internal/y", false],
  ["alerts/#", "alerts/internal/#", true],
  ["#", "a/b", true],
  ["#", "+", true],
  ["+", "a/b", false],
  ["+/+", "+/+/+", false],
  ["+/+", "+/#", true],
  ["+/+/#", "+", false],
  ["", "+", true],
  // $ topics
  ["#", "$SYS/uptime", false],
  ["#", "$SYS/#", false],
  ["+/uptime", "$SYS/#", false],
  ["+", "$SYS", false],
  ["$SYS/#", "$SYS/+", true],
  ["$SYS/+", "$SYS/uptime", true],
  ["a/+", "a/$b", true],
  ["#", "+/$b", true],
];

for (const [a, b, expected] of OVERLAPS) {
  test(`patternsOverlap() says '${a}' and '${b}' ${expected ? "overlap" : "do not overlap"}`, () => {
    assert.equal(patternsOverlap(a, b), expected);
    assert.equal(patternsOverlap(b, a), expected, "the relation is symmetric");
  });
}

/** Every `/`-join of 1 to `maxLevels` levels drawn from `alphabet`. */
function joins(alphabet: readonly string[], maxLevels: number): string[][] {
  const out: string[][] = [];
  let layer: string[][] = [[]];
  for (let n = 1; n <= maxLevels; n++) {
    layer = layer.flatMap((prefix) => alphabet.map((level) => [...prefix, level]));
    out.push(...layer);
  }
  return out;
}

// Patterns use `a`, `$s`, the empty level and both wildcards; topics also use
// `b`, a level no pattern names, and have one level more than any pattern,
// so every way two patterns can differ shows up in some topic.
const PATTERNS = joins(["a", "$s", "", "+", "#"], 3)
  .map((levels) => levels.join("/"))
  .filter((pattern) => patternProblem(pattern) === null);
const TOPICS = joins(["a", "b", "$s", ""], 4).map((levels) => levels.join("/"));
const MATCHED = PATTERNS.map((pattern) => TOPICS.map((topic) => matchTopic(pattern, topic)));

test("patternCovers() agrees with matchTopic() on every pattern pair of a small alphabet", () => {
  assert.ok(PATTERNS.length > 100 && TOPICS.length > 300, "the alphabet is not trivial");
  const wrong: string[] = [];
  PATTERNS.forEach((outer, o) => {
    PATTERNS.forEach((inner, i) => {
      const expected = MATCHED[i].every((matched, t) => !matched || MATCHED[o][t]);
      if (patternCovers(outer, inner) !== expected) wrong.push(`'${outer}' ⊇ '${inner}'`);
    });
  });
  assert.deepEqual(wrong, []);
});

test("patternsOverlap() agrees with matchTopic() on every pattern pair of a small alphabet", () => {
  const wrong: string[] = [];
  PATTERNS.forEach((a, p) => {
    PATTERNS.forEach((b, q) => {
      const expected = MATCHED[p].some((matched, t) => matched && MATCHED[q][t]);
      if (patternsOverlap(a, b) !== expected) wrong.push(`'${a}' ∩ '${b}'`);
    });
  });
  assert.deepEqual(wrong, []);
});
