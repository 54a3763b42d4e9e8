/**
 * What every TCP adapter sets on its sockets, worded once: the keepalive
 * idle time, and the checks and shapes of the TLS options.
 *
 * @module
 */

import type { TlsConnectOptions, TlsListenOptions } from "./types.ts";

/**
 * TCP keepalive idle time: after this long without traffic the operating
 * system starts probing the peer, so a peer that vanished is found.
 */
export const KEEPALIVE_DELAY_MS = 60_000;

function checkPem(value: unknown, name: string): void {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`TLS ${name} must be non-empty PEM text, got ${typeof value}`);
  }
}

/** Throws a `TypeError` unless `tls` holds a PEM certificate and key. */
export function checkTlsListenOptions(tls: TlsListenOptions): void {
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError(`TLS options must be an object, got ${String(tls)}`);
  }
  checkPem(tls.cert, "cert");
  checkPem(tls.key, "key");
}

/**
 * The CA certificates to trust, as a list; `undefined` (the runtime's
 * default roots) when none are given. Throws a `TypeError` for a bad shape.
 */
export function trustedCas(tls: TlsConnectOptions): string[] | undefined {
  if (typeof tls !== "object" || tls === null) {
    throw new TypeError(`TLS options must be an object, got ${String(tls)}`);
  }
  if (tls.serverName !== undefined && (typeof tls.serverName !== "string" || !tls.serverName)) {
    throw new TypeError(`TLS serverName must be a non-empty string, got "${tls.serverName}"`);
  }
  const { ca } = tls;
  if (ca === undefined) return undefined;
  const list = typeof ca === "string" ? [ca] : ca;
  if (!Array.isArray(list)) throw new TypeError(`TLS ca must be PEM text or a list of them`);
  for (const pem of list) checkPem(pem, "ca");
  return list.length === 0 ? undefined : list;
}

/** The `TypeError` of a listen whose certificate or key the runtime refused. */
export function invalidTlsCredentials(cause: unknown): TypeError {
  const detail = cause instanceof Error ? `: ${cause.message}` : "";
  return new TypeError(`Invalid TLS certificate or key${detail}`, { cause });
}

/** The error a TLS connect fails with when the runtime did not give one. */
export function handshakeFailed(): Error {
  return new Error("TLS handshake failed");
}
