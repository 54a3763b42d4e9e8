/**
 * Per-subscription slow-consumer policies come from the subscriptions that
 * matched a delivery, as the router found them: deciding a delivery's
 * policy must not cost anything per other subscription of the connection
 * (issue 18, finding 1: 9,999 policy patterns made every delivery to a full
 * queue run `matchTopic()` 10,000 times).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SERVER_LIMITS, type SlowConsumerPolicy } from "../mod.ts";
import type { Outlet } from "../src/server/route.ts";
import { Router } from "../src/server/router.ts";
import { createCounters } from "../src/server/stats.ts";
import { NO_EXTRAS } from "../src/server/routed_publish.ts";

/** An outlet that records each delivery's topic and policy. */
class RecordingOutlet implements Outlet {
  readonly open = true;
  readonly deliveries: [topic: string, policy: SlowConsumerPolicy | undefined][] = [];
  readonly used: SlowConsumerPolicy[] = [];
  deliver(_bytes: Uint8Array, topic: string, policy?: SlowConsumerPolicy): boolean {
    this.deliveries.push([topic, policy]);
    return true;
  }
  deliverJoined(): boolean {
    return false; // as a full queue would: the router then goes through deliver()
  }
  hasRoom(): boolean {
    return true;
  }
  sendError(code: string, text: string): void {
    throw new Error(`unexpected error frame ${code}: ${text}`);
  }
  usePolicy(policy: SlowConsumerPolicy): void {
    this.used.push(policy);
  }
  readonly behind = false;
  drained(): Promise<void> {
    return Promise.resolve();
  }
  holdFor(): void {
    throw new Error("no subscriber here falls behind");
  }
}

/**
 * A map of policies that counts its lookups: the router's only way to
 * learn a subscription's policy. The count proves the work per delivery.
 */
class CountingMap<K, V> extends Map<K, V> {
  lookups = 0;
  override get(key: K): V | undefined {
    this.lookups++;
    return super.get(key);
  }
}

function publish(router: Router, topic: string): number {
  return router.publish(topic, "m", null, null, NO_EXTRAS);
}

test("a delivery's policy is the strongest of the subscriptions that matched it, whatever else the connection has", () => {
  const router = new Router(DEFAULT_SERVER_LIMITS, createCounters());
  const outlet = new RecordingOutlet();
  const route = router.attach(outlet, 1);
  for (let i = 0; i < 9_997; i++) {
    assert.equal(router.subscribe(route, `x/${i}/+`, undefined, "drop-newest"), null);
  }
  assert.equal(router.subscribe(route, "a/+", undefined, "drop-newest"), null);
  assert.equal(router.subscribe(route, "#", undefined, "drop-oldest"), null);
  assert.equal(router.subscribe(route, "plain/+", undefined), null);
  const policies = new CountingMap(route.policies!);
  route.policies = policies;

  assert.equal(publish(router, "a/b"), 1); // "a/+" and "#": drop-oldest wins
  assert.equal(publish(router, "other"), 1); // "#" alone
  assert.equal(publish(router, "x/7/y"), 1); // "x/7/+" and "#"
  assert.deepEqual(outlet.deliveries, [
    ["a/b", "drop-oldest"],
    ["other", "drop-oldest"],
    ["x/7/y", "drop-oldest"],
  ]);
  // One lookup per matching subscription: 2, 1 and 2, never 10,000.
  assert.equal(policies.lookups, 5);
  assert.ok(outlet.used.includes("drop-oldest"), "the outlet was told to prepare drop-oldest");
});

test("a subscription without a policy of its own leaves the server's policy, and unsubscribing drops its policy", () => {
  const router = new Router(DEFAULT_SERVER_LIMITS, createCounters());
  const outlet = new RecordingOutlet();
  const route = router.attach(outlet, 1);
  router.subscribe(route, "a/+", undefined);
  router.subscribe(route, "a/b", undefined, "drop-newest");
  publish(router, "a/b");
  publish(router, "a/c");
  router.unsubscribe(route, "a/b", undefined);
  router.subscribe(route, "a/b", undefined); // again, without a policy
  publish(router, "a/b");
  router.subscribe(route, "a/+", undefined, "drop-oldest"); // a policy for an existing subscription
  publish(router, "a/b");
  assert.deepEqual(outlet.deliveries, [
    ["a/b", "drop-newest"],
    ["a/c", undefined],
    ["a/b", undefined],
    ["a/b", "drop-oldest"],
  ]);
});

test("a queue group member's delivery carries its own policy for the group's subscription", () => {
  const router = new Router(DEFAULT_SERVER_LIMITS, createCounters());
  const first = new RecordingOutlet();
  const second = new RecordingOutlet();
  router.subscribe(router.attach(first, 1), "jobs/+", "workers", "drop-newest");
  router.subscribe(router.attach(second, 2), "jobs/+", "workers");
  publish(router, "jobs/1");
  publish(router, "jobs/2");
  assert.deepEqual(first.deliveries, [["jobs/1", "drop-newest"]]);
  assert.deepEqual(second.deliveries, [["jobs/2", undefined]]);
});
