import { test } from "node:test";
import assert from "node:assert/strict";
import { warmUpPublishPath } from "../src/server/warm_up.ts";

test("warmUpPublishPath() routes every publish to every subscriber of its topic, then lets go", async () => {
  // Publishes alternate between "warm/one" (one subscriber) and "warm/ten/a"
  // (that subscriber, nine other plain ones and a hello one): the first gets
  // every publish, the ten others half of them.
  assert.equal(await warmUpPublishPath(1_000), 1_000 + 500 * 10);
  // A count that is not a multiple of the batch, and an odd one.
  assert.equal(await warmUpPublishPath(1_001), 1_001 + 500 * 10);
});
