/**
 * Pattern validation and matching, table-driven, and the subscription index
 * checked against the reference matcher.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchTopic, patternProblem, SubscriptionIndex } from "../mod.ts";

const MATCHES: [pattern: string, topic: string, expected: boolean][] = [
  // exact
  ["news/sports", "news/sports", true],
  ["news/sports", "news/Sports", false],
  ["news/sports", "news/sports/", false],
  ["news", "news/sports", false],
  ["news/sports", "news", false],
  ["a//b", "a//b", true],
  ["/a", "/a", true],
  // +
  ["news/+", "news/sports", true],
  ["news/+", "news/", true],
  ["news/+", "news", false],
  ["news/+", "news/sports/tonight", false],
  ["+/sports", "news/sports", true],
  ["+/+", "news/sports", true],
  ["+/+", "news", false],
  ["+", "news", true],
  ["+", "/news", false],
  ["+/news", "/news", true],
  ["a/+/c", "a/b/c", true],
  ["a/+/c", "a//c", true],
  ["a/+/c", "a/b/d", false],
  ["a/+/c", "a/b/c/d", false],
  // #
  ["news/#", "news", true],
  ["news/#", "news/sports", true],
  ["news/#", "news/sports/tonight", true],
  ["news/#", "newsroom", false],
  ["news/#", "sports/news", false],
  ["#", "news", true],
  ["#", "news/sports/tonight", true],
  ["#", "/", true],
  ["a/+/#", "a/b", true],
  ["a/+/#", "a/b/c/d", true],
  ["a/+/#", "a", false],
  ["+/#", "a", true],
  ["news/sports/#", "news/sports", true],
  // $ topics
  ["#", "$SYS/uptime", false],
  ["+/uptime", "$SYS/uptime", false],
  ["+", "$SYS", false],
  ["$SYS/#", "$SYS/uptime", true],
  ["$SYS/+", "$SYS/uptime", true],
  ["$SYS/uptime", "$SYS/uptime", true],
  ["a/#", "a/$b", true],
  ["a/+", "a/$b", true],
  ["#", "x$", true],
];

for (const [pattern, topic, expected] of MATCHES) {
  test(`matchTopic() ${expected ? "matches" : "does not match"} '${topic}' with '${pattern}'`, () => {
    assert.equal(matchTopic(pattern, topic), expected);
    const index = new SubscriptionIndex<string>();
    index.add(pattern, "s");
    const found: string[] = [];
    index.match(topic, (s) => found.push(s));
    assert.deepEqual(found, expected ? ["s"] : [], "the index agrees");
  });
}

const PATTERNS: [string, string | null][] = [
  ["news/sports", null],
  ["news/+", null],
  ["news/#", null],
  ["#", null],
  ["+", null],
  ["+/+/#", null],
  ["a/#/b", "'#' may only stand as the last level"],
  ["#/a", "'#' may only stand as the last level"],
  ["a+/b", 'Wildcards must fill a whole level, got "a+"'],
  ["a/b#", 'Wildcards must fill a whole level, got "b#"'],
  ["a/++", 'Wildcards must fill a whole level, got "++"'],
  ["##", 'Wildcards must fill a whole level, got "##"'],
];

for (const [pattern, problem] of PATTERNS) {
  test(`patternProblem() ${problem ? "refuses" : "accepts"} '${pattern}'`, () => {
    assert.equal(patternProblem(pattern), problem);
  });
}

test("SubscriptionIndex agrees with matchTopic() on random patterns and topics", () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const words = ["a", "b", "c", "$s", ""];
  const patternLevels = [...words, "+"];
  const patterns = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const levels = Array.from(
      { length: 1 + random(4) },
      () => patternLevels[random(patternLevels.length)],
    );
    if (random(3) === 0) levels.push("#");
    patterns.add(levels.join("/"));
  }
  const index = new SubscriptionIndex<string>();
  for (const pattern of patterns) index.add(pattern, pattern);
  for (let i = 0; i < 500; i++) {
    const topic = Array.from({ length: 1 + random(4) }, () => words[random(words.length)]).join(
      "/",
    );
    if (topic === "") continue;
    const found: string[] = [];
    index.match(topic, (s) => found.push(s));
    const expected = [...patterns].filter((p) => matchTopic(p, topic));
    assert.deepEqual(found.sort(), expected.sort(), `topic '${topic}'`);
  }
  // Removing everything leaves an empty index.
  for (const pattern of patterns) assert.equal(index.remove(pattern, pattern), true);
  assert.equal(index.size, 0);
  assert.equal(index.topicCount, 0);
  assert.equal(index.hasMatch("a/b"), false);
});

test("SubscriptionIndex counts a repeated subscription once and forgets removed ones", () => {
  const index = new SubscriptionIndex<number>();
  assert.equal(index.add("a/+", 1), true);
  assert.equal(index.add("a/+", 1), false);
  assert.equal(index.add("a/+", 2), true);
  assert.equal(index.add("a/b", 1), true);
  assert.equal(index.size, 3);
  assert.equal(index.topicCount, 2);
  assert.equal(index.remove("a/+", 3), false);
  assert.equal(index.remove("a/+", 1), true);
  assert.equal(index.remove("a/+", 1), false);
  const found: number[] = [];
  index.match("a/b", (s) => found.push(s));
  assert.deepEqual(found.sort(), [1, 2]);
});
