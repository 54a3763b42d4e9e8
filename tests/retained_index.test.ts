/**
 * Retained messages are indexed by topic level (issue 18, finding 9): a
 * wildcard subscribe visits the trie nodes its pattern can reach, not every
 * retained message, and finds exactly what `matchTopic()` would, oldest
 * topic first.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchTopic } from "../mod.ts";
import { RetainedStore } from "../src/server/retained_store.ts";

test("RetainedStore.matching() visits only the trie nodes a pattern reaches", () => {
  const store = new RetainedStore(100_000, 64 * 1024 * 1024);
  for (let i = 0; i < 10_000; i++) store.set(`other/${i}`, i, undefined, 1);
  store.set("x/1", "a", undefined, 1);
  store.set("x/2/3", "b", undefined, 1);
  const cases: [pattern: string, topics: string[], mostVisits: number][] = [
    ["x/+", ["x/1"], 5],
    ["x/#", ["x/1", "x/2/3"], 5],
    ["+/1", ["other/1", "x/1"], 6],
    ["x/+/3", ["x/2/3"], 6],
    ["nothing/#", [], 1],
  ];
  for (const [pattern, topics, mostVisits] of cases) {
    assert.deepEqual(store.matching(pattern).map((r) => r.topic), topics, pattern);
    assert.ok(store.visited <= mostVisits, `${pattern} visited ${store.visited} nodes`);
  }
  assert.equal(store.matching("#").length, 10_002);
});

test("RetainedStore.matching() agrees with matchTopic(), oldest topic first, and forgets cleared topics", () => {
  const store = new RetainedStore(1000, 1024 * 1024);
  const topics = ["a", "a/b", "a/b/c", "a//c", "$SYS/x", "$SYS", "b/b", "a/c", "/a", "a/"];
  for (const topic of topics) store.set(topic, topic, undefined, 1);
  store.set("a/b", "again", undefined, 2); // replacing keeps the topic's place
  const patterns = ["#", "+", "a/#", "a/+", "+/b", "+/+/c", "$SYS/#", "+/#", "a/+/c", "/+", "a/"];
  for (const pattern of patterns) {
    const expected = topics.filter((topic) => matchTopic(pattern, topic));
    assert.deepEqual(store.matching(pattern).map((r) => r.topic), expected, pattern);
  }
  store.set("a/b/c", null, undefined, 3); // clears
  store.set("a//c", "", undefined, 3); // clears
  assert.deepEqual(store.matching("a/#").map((r) => r.topic), ["a", "a/b", "a/c", "a/"]);
  assert.equal(store.size, topics.length - 2);
  for (const topic of topics) store.set(topic, null, undefined, 4);
  assert.equal(store.size, 0);
  assert.deepEqual(store.matching("#"), []);
  assert.equal(store.visited, 1, "cleared topics leave no nodes behind");
});
