/**
 * The users file: who may connect, with which password or token, and with
 * which permissions. `docs/AUTH.md` documents it with an example.
 *
 * @module
 */

import { typeName } from "../topic/validate_topic.ts";
import { parsePasswordHash, PASSWORD_SCHEME } from "./password.ts";
import { expectObject, type Permissions, validatePermissions } from "./permissions.ts";
import { parseTokenHash, TOKEN_SCHEME } from "./token.ts";

/** A user who authenticates with a name and a password. */
export interface PasswordUser {
  /** The user name, unique in the file. */
  user: string;
  /** The password hash made by `hashPassword()`: `pbkdf2-sha256$<iterations>$<salt>$<hash>`. */
  password: string;
  /** The user's permissions; `default_permissions` when absent. */
  permissions?: Permissions;
}

/** A user (often a service) who authenticates with a token. */
export interface TokenUser {
  /** The user name, unique in the file; authenticated clients are known by it. */
  user: string;
  /** The token hash made by `hashToken()`: `sha256$<64 lowercase hex digits>`. */
  token: string;
  /** The user's permissions; `default_permissions` when absent. */
  permissions?: Permissions;
}

/** One entry of `users`: a password user or a token user. */
export type UserEntry = PasswordUser | TokenUser;

/**
 * A validated users file. The schema, in JSON:
 *
 * ```json
 * {
 *   "users": [
 *     { "user": "alice", "password": "pbkdf2-sha256$600000$<salt>$<hash>",
 *       "permissions": { "publish": { "allow": ["sensors/#"] },
 *                        "subscribe": { "allow": ["alerts/#"], "deny": ["alerts/internal/#"] } } },
 *     { "user": "ingest-bot", "token": "sha256$<64 hex digits>",
 *       "permissions": { "publish": { "allow": ["#"] } } }
 *   ],
 *   "default_permissions": { "subscribe": { "allow": ["public/#"] } }
 * }
 * ```
 *
 * - `users` (required): an array of entries. Each has `user` (a non-empty
 *   string, unique), exactly one of `password` (from `hashPassword()`) or
 *   `token` (from `hashToken()`), and optionally `permissions`. No other
 *   field is allowed. Token hashes are unique too.
 * - `default_permissions` (optional): the permissions of every user without
 *   a `permissions` field of their own (it replaces them whole, it is not
 *   merged). Without it, such users may publish and subscribe to anything.
 * - A permissions object has optional `publish` and `subscribe` rules; a
 *   rule has optional `allow` and `deny` arrays of valid topic patterns.
 *   See `PermissionSet` for what they mean.
 */
export interface UsersConfig {
  /** The users who may connect. */
  users: UserEntry[];
  /** The permissions of users without their own; everything when absent. */
  default_permissions?: Permissions;
}

const ROOT = "users file";
const TOP_FIELDS = ["users", "default_permissions"] as const;
const USER_FIELDS = ["user", "password", "token", "permissions"] as const;

/**
 * Parses and validates a users file, given as JSON text or as the value
 * `JSON.parse` made of it. Errors name the bad field, such as
 * `users[2].password: must be a "pbkdf2-sha256$..." string`, and never
 * repeat a password or token value.
 *
 * @example Parsing a users file
 * ```ts
 * import { parseUsersConfig } from "@kn-sock/pubsub";
 *
 * const config = parseUsersConfig(`{
 *   "users": [{
 *     "user": "ingest-bot",
 *     "token": "sha256$${"0".repeat(64)}",
 *     "permissions": { "publish": { "allow": ["sensors/#"] } }
 *   }]
 * }`);
 * console.log(config.users[0].user); // "ingest-bot"
 * ```
 *
 * @example A bad field
 * ```ts
 * import { parseUsersConfig } from "@kn-sock/pubsub";
 *
 * try {
 *   parseUsersConfig({ users: [{ user: "alice", password: "hunter2" }] });
 * } catch (error) {
 *   console.log((error as TypeError).message);
 *   // 'users[0].password: must be a "pbkdf2-sha256$..." string'
 * }
 * ```
 *
 * @param input The file's text, or its parsed JSON value.
 * @returns A copy of the configuration, holding only the known fields.
 * @throws {SyntaxError} When `input` is text that is not JSON.
 * @throws {TypeError} When a field is missing, unknown or invalid.
 */
export function parseUsersConfig(input: unknown): UsersConfig {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new SyntaxError(`Users file is not valid JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const root = expectObject(value, ROOT, TOP_FIELDS);
  if (root.users === undefined) throw new TypeError(`${ROOT}: missing field "users"`);
  if (!Array.isArray(root.users)) {
    throw new TypeError(`users: must be an array, got ${typeName(root.users)}`);
  }
  const names = new Map<string, number>();
  const tokens = new Map<string, number>();
  const users = root.users.map((entry: unknown, index): UserEntry => {
    const user = parseUser(entry, `users[${index}]`);
    const previous = names.get(user.user);
    if (previous !== undefined) {
      throw new TypeError(
        `users[${index}].user: "${user.user}" is already used by users[${previous}]`,
      );
    }
    names.set(user.user, index);
    if ("token" in user) {
      const same = tokens.get(user.token);
      if (same !== undefined) {
        throw new TypeError(`users[${index}].token: same token as users[${same}]`);
      }
      tokens.set(user.token, index);
    }
    return user;
  });
  const config: UsersConfig = { users };
  if (root.default_permissions !== undefined) {
    config.default_permissions = validatePermissions(
      root.default_permissions,
      "default_permissions",
    );
  }
  return config;
}

function parseUser(value: unknown, path: string): UserEntry {
  const entry = expectObject(value, path, USER_FIELDS);
  if (typeof entry.user !== "string" || entry.user.length === 0) {
    const got = entry.user === undefined ? "missing" : `got ${typeName(entry.user)}`;
    throw new TypeError(`${path}.user: must be a non-empty string, ${got}`);
  }
  if ((entry.password === undefined) === (entry.token === undefined)) {
    throw new TypeError(`${path}: must have exactly one of "password" and "token"`);
  }
  let user: UserEntry;
  if (entry.password !== undefined) {
    try {
      parsePasswordHash(entry.password as string);
    } catch (error) {
      throw new TypeError(`${path}.password: must be a "${PASSWORD_SCHEME}$..." string`, {
        cause: error,
      });
    }
    user = { user: entry.user, password: entry.password as string };
  } else {
    if (parseTokenHash(entry.token) === null) {
      throw new TypeError(`${path}.token: must be a "${TOKEN_SCHEME}$<64 lowercase hex>" string`);
    }
    user = { user: entry.user, token: entry.token as string };
  }
  if (entry.permissions !== undefined) {
    user.permissions = validatePermissions(entry.permissions, `${path}.permissions`);
  }
  return user;
}
