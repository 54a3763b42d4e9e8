/**
 * Token hashing: a token is stored as `sha256$<hex of SHA-256(token)>`.
 * Tokens are long random secrets, so a fast unsalted hash is enough: it
 * keeps the users file from holding usable secrets, and nothing can be
 * guessed from it.
 *
 * @module
 */

import { fromHex, toHex } from "./_bytes.ts";

/** The prefix, and the algorithm, of a stored token hash. */
export const TOKEN_SCHEME = "sha256";
const STORED_TOKEN = /^sha256\$[0-9a-f]{64}$/;

/**
 * Hashes a token for the `token` field of a users file. Generate tokens
 * with at least 128 bits of randomness, such as 32 random bytes in hex.
 *
 * @example Making a token and its stored hash
 * ```ts
 * import { hashToken } from "@kn-sock/pubsub";
 *
 * const bytes = crypto.getRandomValues(new Uint8Array(32));
 * const token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
 * const stored = await hashToken(token); // put this in the users file
 * console.log(stored.length); // 71: "sha256$" and 64 hex digits
 * ```
 *
 * @param token The token, hashed as its UTF-8 bytes; not empty.
 * @returns `sha256$<64 lowercase hex digits>`.
 */
export async function hashToken(token: string): Promise<string> {
  if (typeof token !== "string" || token.length === 0) {
    throw new TypeError("Token must be a non-empty string");
  }
  return `${TOKEN_SCHEME}$${toHex(await sha256(token))}`;
}

/**
 * The digest held by a stored token hash, or `null` when `stored` is not a
 * `sha256$<64 lowercase hex digits>` string.
 *
 * @param stored The stored string.
 * @returns The 32-byte digest, or `null`.
 */
export function parseTokenHash(stored: unknown): Uint8Array<ArrayBuffer> | null {
  if (typeof stored !== "string" || !STORED_TOKEN.test(stored)) return null;
  return fromHex(stored.slice(TOKEN_SCHEME.length + 1));
}

/**
 * The SHA-256 digest of the UTF-8 bytes of `text`.
 *
 * @param text The text to hash.
 * @returns The 32-byte digest.
 */
export async function sha256(text: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}
