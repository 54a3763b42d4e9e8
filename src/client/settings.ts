/**
 * The client's options, checked and resolved once.
 *
 * @module
 */

import { type ReconnectPolicy, reconnectPolicy } from "./backoff.ts";
import { checkAuth } from "./handshake.ts";
import type { ClientAuth, HelloOptions, OfflineOverflow, PubSubClientOptions } from "./options.ts";

/** {@linkcode PubSubClientOptions} resolved: what the client reads. */
export interface ClientSettings {
  /** The `hello` to say on every connection, or `null` for none. */
  readonly hello: HelloOptions | null;
  /** Credentials sent in `hello`. */
  readonly auth: ClientAuth | undefined;
  /** The reconnect policy, or `null` when reconnecting is off. */
  readonly reconnect: ReconnectPolicy | null;
  /** What a publish the offline buffer has no room for does. */
  readonly overflow: OfflineOverflow;
}

/**
 * Checks and resolves the options (limits are resolved apart).
 *
 * @throws {TypeError} For `auth` with `hello: false`, malformed `auth`, or
 *   an unknown `offlineOverflow`.
 * @throws {RangeError} For reconnect options out of range.
 */
export function resolveSettings(options: PubSubClientOptions): ClientSettings {
  const auth = checkAuth(options.auth);
  if (auth !== undefined && options.hello === false) {
    throw new TypeError("Auth is sent in hello: it cannot be used with hello: false");
  }
  const hello = options.hello === undefined || options.hello === false
    ? (auth === undefined ? null : {})
    : options.hello === true
    ? {}
    : options.hello;
  const overflow = options.offlineOverflow ?? "error";
  if (overflow !== "error" && overflow !== "count") {
    throw new TypeError(`Offline overflow must be "error" or "count", got ${String(overflow)}`);
  }
  return { hello, auth, reconnect: reconnectPolicy(options.reconnect), overflow };
}
