/**
 * Byte helpers for `src/auth/`: a constant-time comparison, base64 and hex,
 * without `Buffer` so they run the same on every runtime.
 *
 * @module
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-f]{2})*$/;

/**
 * Whether two byte arrays are equal, in a time that depends on their lengths
 * only: every byte pair is XORed into one accumulator, with no early exit.
 * Arrays of different lengths are unequal at once (lengths are not secret
 * here: every hash compared has a fixed length).
 *
 * @param a One array.
 * @param b The other array.
 * @returns `true` when both hold the same bytes.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Standard base64, with padding. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/** Decodes non-empty, standard, padded base64; `null` when `text` is not that. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length === 0 || !BASE64.test(text)) return null;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += bytes[i].toString(16).padStart(2, "0");
  return hex;
}

/** Decodes lowercase hex; `null` when `text` is not that. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> | null {
  if (!HEX.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
