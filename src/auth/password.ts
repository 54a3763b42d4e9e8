/**
 * Password hashing with PBKDF2-HMAC-SHA256 over Web Crypto, stored as one
 * self-describing string: `pbkdf2-sha256$<iterations>$<salt>$<hash>`, salt
 * and hash in standard base64 (with padding).
 *
 * @module
 */

import { fromBase64, timingSafeEqual, toBase64 } from "./_bytes.ts";

/** The prefix, and the algorithm, of a stored password hash. */
export const PASSWORD_SCHEME = "pbkdf2-sha256";
/** The default PBKDF2 iteration count: OWASP's 2023 advice for PBKDF2-HMAC-SHA256. */
export const DEFAULT_ITERATIONS = 600_000;
/** The most iterations a stored hash may ask for (the Web Crypto limit). */
const MAX_ITERATIONS = 0xffff_ffff;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

/** Options of {@linkcode hashPassword}. */
export interface HashPasswordOptions {
  /**
   * The PBKDF2 iteration count, a positive integer. Defaults to 600000; use
   * a low count only in tests.
   */
  iterations?: number;
}

/** A stored password hash, parsed. */
export interface ParsedPasswordHash {
  /** The PBKDF2 iteration count. */
  iterations: number;
  /** The salt. */
  salt: Uint8Array<ArrayBuffer>;
  /** The derived key. */
  hash: Uint8Array<ArrayBuffer>;
}

/**
 * Hashes a password with PBKDF2-HMAC-SHA256 and a random 16-byte salt, for
 * the `password` field of a users file.
 *
 * @example Hashing and verifying
 * ```ts
 * import { hashPassword, verifyPassword } from "@kn-sock/pubsub";
 *
 * const stored = await hashPassword("correct horse", { iterations: 1000 });
 * console.log(stored.startsWith("pbkdf2-sha256$1000$")); // true
 * console.log(await verifyPassword("correct horse", stored)); // true
 * ```
 *
 * @param password The password, hashed as its UTF-8 bytes; not empty.
 * @param options The iteration count.
 * @returns `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`.
 */
export async function hashPassword(
  password: string,
  options: HashPasswordOptions = {},
): Promise<string> {
  if (typeof password !== "string" || password.length === 0) {
    throw new TypeError("Password must be a non-empty string");
  }
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new RangeError(
      `Iterations must be an integer from 1 to ${MAX_ITERATIONS}, got ${iterations}`,
    );
  }
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await pbkdf2(password, salt, iterations, HASH_BYTES);
  return `${PASSWORD_SCHEME}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

/**
 * Whether `password` is the one `stored` was made from. The comparison takes
 * the same time wherever the bytes differ.
 *
 * @example Rejecting a wrong password
 * ```ts
 * import { hashPassword, verifyPassword } from "@kn-sock/pubsub";
 *
 * const stored = await hashPassword("s3cret", { iterations: 1000 });
 * console.log(await verifyPassword("guess", stored)); // false
 * ```
 *
 * @param password The password offered.
 * @param stored A string made by {@linkcode hashPassword}.
 * @returns `true` for the right password, `false` for any other.
 * @throws {TypeError} When `stored` is not a well-formed `pbkdf2-sha256$...` string.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (typeof password !== "string") return false;
  const hash = await pbkdf2(password, parsed.salt, parsed.iterations, parsed.hash.length);
  return timingSafeEqual(hash, parsed.hash);
}

/**
 * Parses a stored password hash. The message says which part is wrong and
 * never repeats the value, which may be a password pasted by mistake.
 *
 * @param stored The stored string.
 * @returns Its iteration count, salt and hash.
 * @throws {TypeError} When it is not a well-formed `pbkdf2-sha256$...` string.
 */
export function parsePasswordHash(stored: string): ParsedPasswordHash {
  const problem = (what: string) => new TypeError(`Stored password hash is malformed: ${what}`);
  if (typeof stored !== "string") throw problem("not a string");
  const parts = stored.split("$");
  if (parts.length !== 4 || parts[0] !== PASSWORD_SCHEME) {
    throw problem(`expected "${PASSWORD_SCHEME}$<iterations>$<salt>$<hash>"`);
  }
  const [, iterationText, saltText, hashText] = parts;
  const iterations = Number(iterationText);
  if (!/^[1-9][0-9]{0,9}$/.test(iterationText) || iterations > MAX_ITERATIONS) {
    throw problem(`iterations must be an integer from 1 to ${MAX_ITERATIONS}`);
  }
  const salt = fromBase64(saltText);
  if (salt === null || salt.length < 8) throw problem("salt must be at least 8 bytes of base64");
  const hash = fromBase64(hashText);
  if (hash === null || hash.length < 16 || hash.length > 64) {
    throw problem("hash must be 16 to 64 bytes of base64");
  }
  return { iterations, salt, hash };
}

async function pbkdf2(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
  bytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    bytes * 8,
  );
  return new Uint8Array(bits);
}
