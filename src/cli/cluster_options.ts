/**
 * `serve`'s cluster options: `--redis URL` makes the server one node of a
 * cluster on that Redis, `--cluster-name NAME` names the cluster. The Redis
 * backplane (and `ioredis`) is loaded only when `--redis` is given.
 *
 * @module
 */

import type { Backplane } from "../backplane/backplane.ts";
import { CliError, UsageError, type Values } from "./arguments.ts";
import type { HelpTopic } from "./help.ts";

/** `serve`'s cluster options. */
export const CLUSTER_SERVER_OPTIONS = {
  redis: { type: "string" },
  "cluster-name": { type: "string" },
} as const;

/** `--redis` and `--cluster-name`: the server's `backplane`; `undefined` without `--redis`. */
export async function clusterSetup(
  values: Values,
  topic: HelpTopic,
): Promise<Backplane | undefined> {
  const url = values.redis as string | undefined;
  const cluster = values["cluster-name"] as string | undefined;
  if (url === undefined) {
    if (cluster !== undefined) throw new UsageError("--cluster-name needs --redis", topic);
    return undefined;
  }
  let redisBackplane: typeof import("../backplane/redis.ts").redisBackplane;
  try {
    ({ redisBackplane } = await import("../backplane/redis.ts"));
  } catch (error) {
    throw new CliError(
      `Cannot load the Redis backplane: ${(error as Error).message} (it needs the ioredis ` +
        "package; on Deno, run with --allow-env too)",
      { cause: error },
    );
  }
  try {
    return redisBackplane({ url, cluster });
  } catch (error) {
    throw new UsageError((error as Error).message, topic);
  }
}
