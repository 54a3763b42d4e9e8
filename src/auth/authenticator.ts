/**
 * Checks the credentials a client offers against a users file.
 *
 * @module
 */

import { timingSafeEqual, toBase64, toHex } from "./_bytes.ts";
import { parsePasswordHash, PASSWORD_SCHEME, verifyPassword } from "./password.ts";
import { PermissionSet } from "./permissions.ts";
import { parseTokenHash, sha256 } from "./token.ts";
import { parseUsersConfig, type UsersConfig } from "./users_config.ts";

/** The credentials of a `hello` frame: `user` with `pass`, or `token` alone. */
export interface Credentials {
  /** The user name, with `pass`. */
  user?: string;
  /** The password, with `user`. */
  pass?: string;
  /** The token, without `user` and `pass`. */
  token?: string;
}

/** Who a client is once authenticated, and what it may do. */
export interface AuthResult {
  /** The user name from the users file. */
  user: string;
  /** The user's permissions (shared by every connection of that user). */
  permissions: PermissionSet;
}

interface PasswordEntry {
  readonly stored: string;
  readonly result: AuthResult;
  /** A decoy that makes this user's check cost as much as the costliest one's. */
  padding: string | null;
}

interface TokenEntry {
  digest: Uint8Array;
  result: AuthResult;
}

/**
 * Authenticates clients against a users file (see `UsersConfig`).
 *
 * `authenticate()` resolves to `null` for any failure, without saying which
 * part was wrong. Timing does not tell either: an unknown user costs the
 * same PBKDF2 run as a known one (against a dummy hash with the iteration
 * count of the first password user; with no password user there is no
 * one to hide and no run), and hashes are compared in constant time.
 *
 * @example Password and token users
 * ```ts
 * import { Authenticator, hashPassword, hashToken } from "@kn-sock/pubsub";
 *
 * const auth = new Authenticator({
 *   users: [
 *     { user: "alice", password: await hashPassword("s3cret", { iterations: 1000 }) },
 *     {
 *       user: "ingest-bot",
 *       token: await hashToken("tok-8f14e45fceea167a5a36dedd4bea2543"),
 *       permissions: { publish: { allow: ["sensors/#"] } },
 *     },
 *   ],
 * });
 * const alice = await auth.authenticate({ user: "alice", pass: "s3cret" });
 * console.log(alice?.user); // "alice"
 * console.log(await auth.authenticate({ user: "alice", pass: "wrong" })); // null
 * const bot = await auth.authenticate({ token: "tok-8f14e45fceea167a5a36dedd4bea2543" });
 * console.log(bot?.permissions.canPublish("sensors/a")); // true
 * ```
 */
export class Authenticator {
  readonly #passwords = new Map<string, PasswordEntry>();
  readonly #tokens = new Map<string, TokenEntry>();
  /** What an unknown user's password is checked against: the most iterations of any user. */
  #dummy: string | null = null;

  /**
   * Validates the configuration and compiles every user's permissions.
   *
   * @param config A users file, as `parseUsersConfig()` returns it.
   * @throws {TypeError} When the configuration is invalid, as for `parseUsersConfig()`.
   */
  constructor(config: UsersConfig) {
    const checked = parseUsersConfig(config);
    const defaults = new PermissionSet(checked.default_permissions);
    for (const entry of checked.users) {
      const permissions = entry.permissions === undefined
        ? defaults
        : new PermissionSet(entry.permissions);
      const result: AuthResult = { user: entry.user, permissions };
      if ("password" in entry) {
        this.#passwords.set(entry.user, { stored: entry.password, result, padding: null });
      } else {
        const digest = parseTokenHash(entry.token) as Uint8Array;
        this.#tokens.set(toHex(digest), { digest, result });
      }
    }
    this.#equaliseWork();
  }

  /**
   * Makes every password check cost the most iterations of any user, so
   * that timing tells neither whether a user exists nor which one it is:
   * an unknown user is checked against a decoy hash of that count, a user
   * hashed with fewer iterations also checks a decoy of the difference.
   */
  #equaliseWork(): void {
    const counts = new Map<PasswordEntry, number>();
    for (const entry of this.#passwords.values()) {
      counts.set(entry, parsePasswordHash(entry.stored).iterations);
    }
    if (counts.size === 0) return;
    const most = Math.max(...counts.values());
    this.#dummy = dummyHash(most);
    for (const [entry, iterations] of counts) {
      if (iterations < most) entry.padding = dummyHash(most - iterations);
    }
  }

  /**
   * Checks credentials: `user` with `pass`, or `token` alone. Anything else,
   * including a mix of both kinds or an empty field, fails.
   *
   * @param credentials The fields of the client's `hello` frame.
   * @returns The user and their permissions, or `null` when the credentials
   * are missing or wrong.
   */
  async authenticate(credentials: Credentials): Promise<AuthResult | null> {
    const { user, pass, token } = credentials;
    if (token !== undefined) {
      if (user !== undefined || pass !== undefined) return null;
      return typeof token === "string" && token.length > 0 ? await this.#byToken(token) : null;
    }
    if (!isFilled(user) || !isFilled(pass)) return null;
    return await this.#byPassword(user, pass);
  }

  async #byPassword(user: string, pass: string): Promise<AuthResult | null> {
    const entry = this.#passwords.get(user);
    if (entry === undefined) {
      // Spend the same work as for a known user; the result is ignored.
      if (this.#dummy !== null) await verifyPassword(pass, this.#dummy);
      return null;
    }
    const valid = await verifyPassword(pass, entry.stored);
    // The decoy's result is ignored: it only spends the same work.
    if (entry.padding !== null) await verifyPassword(pass, entry.padding);
    return valid ? entry.result : null;
  }

  async #byToken(token: string): Promise<AuthResult | null> {
    const digest = await sha256(token);
    // The key is a SHA-256 digest, which a client cannot steer, so the map's
    // timing reveals nothing useful; the bytes are still compared in
    // constant time before the entry is trusted.
    const entry = this.#tokens.get(toHex(digest));
    if (entry === undefined || !timingSafeEqual(digest, entry.digest)) return null;
    return entry.result;
  }
}

function isFilled(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/** A well-formed hash that no password matches (its hash bytes are random). */
function dummyHash(iterations: number): string {
  const salt = toBase64(crypto.getRandomValues(new Uint8Array(16)));
  const hash = toBase64(crypto.getRandomValues(new Uint8Array(32)));
  return `${PASSWORD_SCHEME}$${iterations}$${salt}$${hash}`;
}
