/**
 * `serve --config FILE`: one JSON file for the server, as nats-server and
 * mosquitto have: the users (`users`, `default_permissions`, see
 * docs/AUTH.md), `limits` (by the names of `DEFAULT_SERVER_LIMITS`) and
 * `slow_consumer_policy`. Every field is checked; an error names the line
 * and column of bad JSON, or the field.
 *
 * @module
 */

import { DEFAULT_SERVER_LIMITS, resolveLimits, type ServerLimits } from "../limits.ts";
import { isSlowConsumerPolicy, type SlowConsumerPolicy } from "../protocol/frames.ts";
import { POLICY_CHOICES } from "../protocol/policy_problem.ts";
import { typeName } from "../topic/validate_topic.ts";
import { jsonErrorLocation } from "./json_location.ts";

/** What a server configuration file holds. */
export interface ServerConfig {
  /** The users part (`users`, `default_permissions`) for `parseUsersConfig()`, when given. */
  users?: Record<string, unknown>;
  /** Limits to change. */
  limits?: Partial<ServerLimits>;
  /** The slow-consumer policy. */
  slowConsumerPolicy?: SlowConsumerPolicy;
}

const USERS_FIELDS = ["users", "default_permissions"];
const FIELDS = [...USERS_FIELDS, "limits", "slow_consumer_policy"];

/**
 * Reads a server configuration file's text.
 *
 * @throws {SyntaxError} For text that is not JSON, saying where.
 * @throws {TypeError} For a field that is unknown or invalid, naming it.
 */
export function parseServerConfig(text: string): ServerConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = jsonErrorLocation(text);
    const where = at === null ? "" : `line ${at.line}, column ${at.column}: `;
    throw new SyntaxError(`${where}not valid JSON (${(error as Error).message.split("\n")[0]})`, {
      cause: error,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`The file must hold a JSON object, got ${typeName(value)}`);
  }
  const root = value as Record<string, unknown>;
  const unknown = Object.keys(root).find((key) => !FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new TypeError(`Unknown field "${unknown}": expected ${FIELDS.join(", ")}`);
  }
  const config: ServerConfig = {};
  if (USERS_FIELDS.some((field) => root[field] !== undefined)) {
    config.users = Object.fromEntries(USERS_FIELDS.map((field) => [field, root[field]]));
  }
  if (root.limits !== undefined) config.limits = parseLimitsField(root.limits);
  const policy = root.slow_consumer_policy;
  if (policy !== undefined) {
    if (!isSlowConsumerPolicy(policy)) {
      throw new TypeError(
        `slow_consumer_policy: expected ${POLICY_CHOICES}, got ${JSON.stringify(policy)}`,
      );
    }
    config.slowConsumerPolicy = policy;
  }
  return config;
}

function parseLimitsField(value: unknown): Partial<ServerLimits> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`limits: must be an object, got ${typeName(value)}`);
  }
  for (const name of Object.keys(value)) {
    if (!Object.hasOwn(DEFAULT_SERVER_LIMITS, name)) {
      throw new TypeError(
        `limits.${name}: unknown limit; expected one of ${
          Object.keys(DEFAULT_SERVER_LIMITS).join(", ")
        }`,
      );
    }
  }
  const limits = value as Partial<ServerLimits>;
  try {
    resolveLimits(DEFAULT_SERVER_LIMITS, limits);
  } catch (error) {
    throw new TypeError(`limits: ${(error as Error).message}`, { cause: error });
  }
  return { ...limits };
}
