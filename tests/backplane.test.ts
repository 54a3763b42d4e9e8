/**
 * The backplane's pure parts: the envelope codec and the per-origin
 * counters that find lost publishes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ControlKind,
  decodeControlEnvelope,
  decodePublishEnvelope,
  encodeControlEnvelope,
  encodePublishEnvelope,
} from "../src/backplane/envelope.ts";
import { Origins } from "../src/backplane/origins.ts";
import { ClusterGroups } from "../src/server/cluster_groups.ts";
import { ClusterInterest } from "../src/server/cluster_interest.ts";
import { clusterChannels, redisBackplane } from "../src/backplane/redis.ts";

test("a publish envelope round-trips, with and without its optional parts", () => {
  const plain = encodePublishEnvelope("n1", 5, 1, "news/eu", '{"a":[1,"\\u00e9"]}');
  assert.equal(plain, '{"o":"n1","e":5,"c":1,"t":"news/eu","m":{"a":[1,"\\u00e9"]}}');
  assert.deepEqual(decodePublishEnvelope(plain), {
    origin: "n1",
    epoch: 5,
    counter: 1,
    topic: "news/eu",
    message: { a: [1, "é"] },
  });
  const full = encodePublishEnvelope("n1", 5, 2, 'q"t', "null", { k: "v" }, "inbox/1", true);
  assert.deepEqual(decodePublishEnvelope(full), {
    origin: "n1",
    epoch: 5,
    counter: 2,
    topic: 'q"t',
    message: null,
    headers: { k: "v" },
    reply: "inbox/1",
    retain: true,
  });
});

test("decodePublishEnvelope() says why a text is not a publish envelope", () => {
  const cases: [string, RegExp][] = [
    ["{", /^not JSON/],
    ["[1]", /^not a JSON object$/],
    ['{"e":1,"c":1,"t":"t","m":1}', /^bad origin/],
    ['{"o":"n","e":-1,"c":1,"t":"t","m":1}', /^bad epoch or counter$/],
    ['{"o":"n","e":1,"c":0,"t":"t","m":1}', /^bad epoch or counter$/],
    ['{"o":"n","e":1,"c":1.5,"t":"t","m":1}', /^bad epoch or counter$/],
    ['{"o":"n","e":1,"c":1,"t":"","m":1}', /^bad topic/],
    ['{"o":"n","e":1,"c":1,"t":"t"}', /^no message$/],
    ['{"o":"n","e":1,"c":1,"t":"t","m":1,"h":{"k":1}}', /^bad headers$/],
    ['{"o":"n","e":1,"c":1,"t":"t","m":1,"r":""}', /^bad reply topic$/],
    ['{"o":"n","e":1,"c":1,"t":"t","m":1,"k":true}', /^bad retain flag$/],
  ];
  for (const [text, problem] of cases) {
    const decoded = decodePublishEnvelope(text);
    assert.equal(typeof decoded, "string", text);
    assert.match(decoded as string, problem, text);
  }
});

test("a control envelope round-trips, and a bad one is refused", () => {
  for (const kind of Object.values(ControlKind)) {
    // Those with a list are tested below.
    if (kind === ControlKind.Groups || kind === ControlKind.Interest) continue;
    if (kind === ControlKind.Watch || kind === ControlKind.Unwatch) continue;
    const envelope = { kind, origin: "n2", epoch: 7, counter: 0 };
    assert.deepEqual(decodeControlEnvelope(encodeControlEnvelope(envelope)), envelope);
  }
  assert.match(decodeControlEnvelope('{"a":"x","o":"n","e":1,"c":1}') as string, /^bad kind/);
  assert.match(decodeControlEnvelope('{"a":"hb","o":"","e":1,"c":1}') as string, /^bad origin/);
  assert.match(decodeControlEnvelope('{"a":"hb","o":"n","e":1}') as string, /^bad epoch/);
});

test("Origins counts the publishes missing from an origin's counter, and skips repeats", () => {
  const origins = new Origins(3000, 60_000);
  const steps: [origin: string, epoch: number, counter: number, expected: number][] = [
    ["a", 1, 4, 0], // first heard: nothing before it is counted
    ["a", 1, 5, 0],
    ["a", 1, 9, 3], // 6, 7, 8 never came
    ["a", 1, 9, -1], // a repeat is skipped
    ["a", 1, 2, -1], // so is an older one
    ["a", 0, 50, -1], // and one from an older epoch
    ["a", 2, 1, 0], // a restarted node starts over
    ["b", 1, 1, 0],
    ["a", 2, 3, 1],
  ];
  for (const [origin, epoch, counter, expected] of steps) {
    assert.equal(
      origins.publish(origin, epoch, counter, 0),
      expected,
      `${origin} ${epoch} ${counter}`,
    );
  }
  assert.equal(origins.live, 2);
});

test("Origins finds lost publishes from heartbeats, and expires silent nodes", () => {
  const origins = new Origins(3000, 60_000);
  const hb = ControlKind.Heartbeat;
  /** A control envelope from node `node` with counter `counter` at `now`: [lost, joined]. */
  const control = (kind: ControlKind, node: string, counter: number, now: number) => {
    const { lost, joined } = origins.control(kind, node, 1, counter, now);
    return [lost, joined];
  };
  assert.deepEqual(control(ControlKind.Join, "a", 0, 0), [0, true]);
  assert.equal(origins.publish("a", 1, 1, 100), 0);
  // The heartbeat says 4 were sent; 2 to 4 never came.
  assert.deepEqual(control(hb, "a", 4, 1000), [3, false]);
  assert.deepEqual(control(hb, "a", 4, 2000), [0, false]);
  assert.deepEqual(origins.expire(4000), []); // silent 2 s: its deadline (5000) is after the next check
  assert.deepEqual(origins.expire(4001), ["a"]); // its deadline falls before the next check
  assert.equal(origins.live, 0);
  // Back before it is forgotten: what it sent meanwhile is counted.
  assert.deepEqual(control(hb, "a", 6, 6000), [2, true]);
  assert.deepEqual(control(ControlKind.Leave, "a", 6, 6500), [0, false]);
  assert.equal(origins.live, 0);
  // Forgotten after the forget period: out of memory.
  control(ControlKind.Join, "b", 0, 0);
  origins.expire(4000);
  origins.expire(70_000);
  assert.deepEqual(control(hb, "b", 9, 70_001), [0, true]);
});

/** When `origins` takes out node "a", last heard at 0, checked every second from `phase` on. */
function takenOutAt(origins: Origins, phase: number, heard: (now: number) => boolean): number {
  for (let now = phase; now < 10_000; now += 1000) {
    if (heard(now)) origins.control(ControlKind.Heartbeat, "a", 1, 0, now);
    if (origins.expire(now).includes("a")) return now;
  }
  return Infinity;
}

test("Origins takes a silent node out within the expiry of its last heartbeat, whatever the check's phase", () => {
  for (let phase = 0; phase < 1000; phase += 37) {
    const origins = new Origins(3000, 60_000);
    origins.control(ControlKind.Join, "a", 1, 0, 0);
    const out = takenOutAt(origins, phase, () => false);
    // Never later than 3 heartbeats after it was last heard, never before 2.
    assert.ok(out > 2000 && out <= 3000, `checked from ${phase}: out at ${out}`);
  }
  // A finer check narrows the window: checked every 250 ms, out between 2750 and 3000.
  const fine = new Origins(3000, 60_000, 250);
  fine.control(ControlKind.Join, "a", 1, 0, 0);
  let out = Infinity;
  for (let now = 130; out === Infinity; now += 250) if (fine.expire(now).length > 0) out = now;
  assert.equal(out, 2880);
});

test("Origins keeps a node whose heartbeats come late but within two periods of each other", () => {
  for (let phase = 0; phase < 1000; phase += 37) {
    const origins = new Origins(3000, 60_000);
    origins.control(ControlKind.Join, "a", 1, 0, 0);
    // Heartbeat k is due at k s; every odd one arrives 900 ms late (1.9 s after the one before).
    const arrivals = Array.from({ length: 20 }, (_, k) => k * 1000 + (k % 2 === 1 ? 900 : 0));
    for (let now = phase; now < 20_000; now += 1000) {
      while (arrivals.length > 0 && arrivals[0] <= now) {
        origins.control(ControlKind.Heartbeat, "a", 1, 0, arrivals.shift()!);
      }
      assert.deepEqual(origins.expire(now), [], `checked from ${phase}, at ${now}`);
    }
    assert.equal(origins.live, 1);
  }
});

test("Origins takes nobody out on a check that came late (its own event loop was held up)", () => {
  const origins = new Origins(3000, 60_000);
  origins.control(ControlKind.Join, "a", 1, 0, 0);
  assert.deepEqual(origins.expire(1000), []);
  // This node was stalled for 5 s: a's heartbeats wait unread; the late check decides nothing.
  assert.deepEqual(origins.expire(6000), []);
  origins.control(ControlKind.Heartbeat, "a", 1, 0, 6001);
  assert.deepEqual(origins.expire(7000), []);
  assert.equal(origins.live, 1);
  // On time, with a still silent: out.
  assert.deepEqual(origins.expire(8000), []);
  assert.deepEqual(origins.expire(9000), ["a"]);
  // A node whose checks are always late still takes a silent node out, at the second late check.
  origins.control(ControlKind.Heartbeat, "b", 1, 0, 9000);
  assert.deepEqual(origins.expire(12_000), []);
  assert.deepEqual(origins.expire(15_000), ["b"]);
});

test("redisBackplane() checks its options before connecting", () => {
  assert.throws(() => redisBackplane({ url: "http://x" }), TypeError);
  assert.throws(() => redisBackplane({ cluster: "a b" }), TypeError);
  assert.throws(() => redisBackplane({ cluster: "" }), TypeError);
  assert.throws(() => redisBackplane({ heartbeatMs: 5 }), RangeError);
  assert.throws(() => redisBackplane({ connectTimeoutMs: 1.5 }), RangeError);
  assert.deepEqual(
    { all: clusterChannels("c").all, control: clusterChannels("c").control },
    { all: "knsock:c:all", control: "knsock:c:control" },
  );
  assert.equal(clusterChannels("c").node("n1"), "knsock:c:node:n1");
});

test("ClusterGroups picks the nodes of each matching group in turn, and forgets a node taken out", () => {
  const groups = new ClusterGroups();
  groups.set("a", [["workers", "jobs/#"], ["audit", "jobs/+"]]);
  groups.set("b", [["workers", "jobs/#"]]);
  const workers = "g7:workers:jobs/#";
  const audit = "g5:audit:jobs/+";
  assert.deepEqual(groups.pick("jobs/1"), { [workers]: "a", [audit]: "a" });
  assert.deepEqual(groups.pick("jobs/1"), { [workers]: "b", [audit]: "a" });
  assert.deepEqual(groups.pick("jobs/1/deep"), { [workers]: "a" });
  assert.equal(groups.pick("other"), null);
  assert.equal(groups.pick("$jobs/1"), null, "the '$' rule holds for groups too");
  assert.equal(groups.nodeCount, 2);
  groups.set("a", [["audit", "jobs/+"]]);
  assert.deepEqual(groups.pick("jobs/1"), { [workers]: "b", [audit]: "a" });
  groups.remove("b");
  assert.deepEqual(groups.pick("jobs/1"), { [audit]: "a" });
  groups.remove("a");
  assert.equal(groups.pick("jobs/1"), null);
  assert.equal(groups.nodeCount, 0);
});

test("a publish envelope carries queue group picks; a groups envelope its list", () => {
  const picks = { "g7:workers:jobs/#": "b" };
  const text = encodePublishEnvelope("a", 1, 3, "jobs/1", "1", undefined, undefined, false, picks);
  assert.deepEqual((decodePublishEnvelope(text) as { picks?: unknown }).picks, picks);
  const envelope = {
    kind: ControlKind.Groups,
    origin: "a",
    epoch: 1,
    counter: 3,
    groups: [["workers", "jobs/#"]] as const,
  };
  assert.deepEqual(decodeControlEnvelope(encodeControlEnvelope(envelope)), envelope);
  assert.equal(
    decodeControlEnvelope('{"a":"groups","o":"a","e":1,"c":0,"g":[["w"]]}'),
    "bad group list",
  );
  assert.equal(
    decodePublishEnvelope('{"o":"a","e":1,"c":1,"t":"t","m":1,"q":{"k":2}}'),
    "bad queue group picks",
  );
});

test("ClusterInterest announces a pattern at its first subscription and its last, and matches others'", () => {
  const interest = new ClusterInterest();
  assert.equal(interest.local("svc/+", 1), true);
  assert.equal(interest.local("svc/+", 1), false);
  assert.equal(interest.local("svc/+", -1), false);
  assert.deepEqual(interest.mine(), ["svc/+"]);
  assert.equal(interest.local("svc/+", -1), true);
  assert.deepEqual(interest.mine(), []);

  interest.update("b", ["time/now", "jobs/#"], "all");
  assert.equal(interest.hasRemote("time/now"), true);
  assert.equal(interest.hasRemote("jobs/1/2"), true);
  assert.equal(interest.hasRemote("$jobs/1"), false, "the '$' rule");
  interest.update("b", ["time/now"], "remove");
  assert.equal(interest.hasRemote("time/now"), false);
  interest.update("b", ["time/+"], "add");
  assert.equal(interest.hasRemote("time/now"), true);
  interest.update("b", ["x"], "all"); // a full list replaces what was known
  assert.equal(interest.hasRemote("time/now"), false);
  assert.equal(interest.remoteCount, 1);
  interest.remove("b");
  assert.equal(interest.hasRemote("x"), false);
  assert.equal(interest.remoteCount, 0);
});

test("interest, watch and unwatch envelopes carry patterns", () => {
  for (const kind of [ControlKind.Interest, ControlKind.Watch, ControlKind.Unwatch]) {
    const envelope = { kind, origin: "a", epoch: 1, counter: 0, patterns: ["a/+", "b"] };
    assert.deepEqual(decodeControlEnvelope(encodeControlEnvelope(envelope)), envelope);
  }
  assert.equal(
    decodeControlEnvelope('{"a":"watch","o":"a","e":1,"c":0,"p":[""]}'),
    "bad pattern list",
  );
  assert.equal(decodeControlEnvelope('{"a":"interest","o":"a","e":1,"c":0}'), "bad pattern list");
});
