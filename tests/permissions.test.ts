/**
 * PermissionSet: what publish and subscribe allow, table-driven, and the
 * validation of its patterns.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PermissionSet } from "../mod.ts";
import type { Permissions } from "../src/auth/permissions.ts";

const ALERTS: Permissions = {
  publish: { allow: ["sensors/#", "status"], deny: ["sensors/secret/#", "sensors/x"] },
  subscribe: { allow: ["alerts/#", "public/+", "news"], deny: ["alerts/internal/#", "alerts/y"] },
};

const PUBLISH: [permissions: Permissions, topic: string, expected: boolean][] = [
  [{}, "anything/at/all", true],
  // Reserved ($) topics: publishing needs an allow pattern naming them; a deny reaches them.
  [{}, "$SYS/x", false],
  [{ publish: { allow: ["$SYS/#"] } }, "$SYS/x", true],
  [{ publish: { allow: ["$SYS/x"] } }, "$SYS/x", true],
  [{ publish: { allow: ["$SYS/#"], deny: ["#"] } }, "$SYS/x", false],
  [{ publish: { allow: ["$SYS/#"], deny: ["+/x"] } }, "$SYS/x", false],
  [{ publish: { allow: ["$SYS/#"], deny: ["$SYS/secret"] } }, "$SYS/secret", false],
  [{ publish: { allow: ["$SYS/#"], deny: ["$SYS/+"] } }, "$SYS/secret", false],
  [{ publish: { deny: ["#"] } }, "$SYS/x", false],
  [{ publish: { deny: ["#"] } }, "a", false],
  [{ publish: { allow: [] } }, "a", false],
  [{ publish: { deny: ["a/#"] } }, "b", true],
  [{ publish: { deny: ["a/#"] } }, "a", false],
  [{ publish: { deny: ["a/#"] } }, "a/b", false],
  [{ publish: { allow: ["#"] } }, "$SYS/x", false],
  [{ subscribe: { allow: [] } }, "a", true],
  [ALERTS, "sensors", true],
  [ALERTS, "sensors/kitchen/temp", true],
  [ALERTS, "status", true],
  [ALERTS, "status/x", false],
  [ALERTS, "sensors/secret", false],
  [ALERTS, "sensors/secret/key", false],
  [ALERTS, "sensors/x", false],
  [ALERTS, "sensors/x/y", true],
  [ALERTS, "alerts/fire", false],
  [ALERTS, "sensorsx", false],
  [ALERTS, "sensors/+", true],
];

for (const [permissions, topic, expected] of PUBLISH) {
  const name = JSON.stringify(permissions.publish ?? {});
  test(`PermissionSet.canPublish() ${expected ? "allows" : "refuses"} '${topic}' for ${name}`, () => {
    assert.equal(new PermissionSet(permissions).canPublish(topic), expected);
  });
}

const SUBSCRIBE: [permissions: Permissions, pattern: string, expected: boolean][] = [
  [{}, "#", true],
  [{ subscribe: { allow: [] } }, "a", false],
  [{ subscribe: { deny: ["a/b"] } }, "a/b", false],
  [{ subscribe: { deny: ["a/b"] } }, "a/+", false],
  [{ subscribe: { deny: ["a/b"] } }, "#", false],
  [{ subscribe: { deny: ["a/b"] } }, "a/c", true],
  [{ subscribe: { deny: ["$SYS/#"] } }, "#", true],
  [{ subscribe: { allow: ["#"] } }, "$SYS/#", false],
  [{}, "$SYS/#", true],
  [{}, "$SYS/stats", true],
  [{ subscribe: { deny: ["#"] } }, "$SYS/#", false],
  [{ subscribe: { deny: ["#"] } }, "$SYS/stats", false],
  [{ subscribe: { deny: ["+/stats"] } }, "$SYS/stats", false],
  [{ subscribe: { deny: ["+/stats"] } }, "$SYS/+", false],
  [{ subscribe: { deny: ["$SYS/#"] } }, "$SYS/+", false],
  [{ subscribe: { deny: ["a/#"] } }, "$SYS/#", true],
  [ALERTS, "alerts/fire", true],
  [ALERTS, "alerts/fire/+", true],
  [ALERTS, "alerts/fire/#", true],
  [ALERTS, "alerts", true],
  [ALERTS, "alerts/#", false],
  [ALERTS, "alerts/+", false],
  [ALERTS, "alerts/+/x", false],
  [ALERTS, "alerts/y", false],
  [ALERTS, "alerts/internal", false],
  [ALERTS, "alerts/internal/x", false],
  [ALERTS, "public/a", true],
  [ALERTS, "public/+", true],
  [ALERTS, "public/#", false],
  [ALERTS, "public/a/b", false],
  [ALERTS, "news", true],
  [ALERTS, "news/+", false],
  [ALERTS, "sensors/a", false],
  [ALERTS, "#", false],
  [{}, "a/#/b", false],
  [{}, "a+", false],
];

for (const [permissions, pattern, expected] of SUBSCRIBE) {
  const name = JSON.stringify(permissions.subscribe ?? {});
  test(`PermissionSet.canSubscribe() ${expected ? "allows" : "refuses"} '${pattern}' for ${name}`, () => {
    assert.equal(new PermissionSet(permissions).canSubscribe(pattern), expected);
  });
}

test("PermissionSet rejects an invalid pattern, naming it and its place", () => {
  assert.throws(
    () => new PermissionSet({ publish: { allow: ["a", "b/#/c"] } }),
    {
      name: "TypeError",
      message: 'permissions.publish.allow[1]: "b/#/c" is not a valid pattern: ' +
        "'#' may only stand as the last level",
    },
  );
  assert.throws(
    () => new PermissionSet({ subscribe: { deny: "a" } } as unknown as Permissions),
    {
      name: "TypeError",
      message: "permissions.subscribe.deny: must be an array of patterns, got string",
    },
  );
});
