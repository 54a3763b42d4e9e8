/**
 * Where `PubSubClient.connect()` dials, and over which transport. The
 * address is a host and a port, or a URL: `ws://` and `wss://` bring their
 * own transport (`webSocketTransport()` with the URL's path), `tcp://` is
 * a host and port in URL form. Otherwise the `transport` option is used,
 * or the runtime's own TCP transport, loaded on first use: the one lazy
 * edge from the client to runtime code, which a browser never takes (and
 * the browser bundle leaves out).
 *
 * @module
 */

import type { Transport } from "../transport/types.ts";
import { webSocketTransport } from "../transport/websocket.ts";
import type { DialTarget } from "./connection.ts";
import { checkAddress, type PubSubClientOptions } from "./options.ts";

/** What `connect()` dials: where, and with which transport. */
export interface Dial {
  /** The host, port and TLS options; a reconnect dials the same. */
  readonly target: DialTarget;
  /** The transport, for the first connection and every reconnect. */
  readonly transport: Transport;
}

/** The port of each URL scheme when the URL has none (`tcp:` needs one). */
const SCHEMES: Readonly<Record<string, number | null>> = {
  "ws:": 80,
  "wss:": 443,
  "tcp:": null,
};

/**
 * The runtime's own TCP transport (Deno, Bun or `node:net`), loaded on
 * first use, so that nothing runtime-specific is loaded (or bundled) for a
 * client that connects over WebSocket.
 *
 * @throws {TypeError} Where no TCP transport can be loaded (a browser).
 */
export async function runtimeTransport(): Promise<Transport> {
  let auto: typeof import("../transport/auto.ts");
  try {
    auto = await import("../transport/auto.ts");
  } catch (error) {
    throw new TypeError(
      "No TCP transport can be loaded here (a browser has none): " +
        'connect with a "ws://" or "wss://" URL, or pass the transport option',
      { cause: error },
    );
  }
  return await auto.defaultTransport();
}

/**
 * Sorts out `connect()`'s arguments, `(url, options?)` or
 * `(host, port, options?)`: the options, and how to dial.
 *
 * @throws {TypeError} For a URL with a port argument, or options that are not an object.
 * @throws {RangeError} For a host without a valid port.
 */
export function connectArguments(
  address: string,
  second: unknown,
  third: unknown,
): { options: PubSubClientOptions; dial(): Promise<Dial> } {
  const byUrl = typeof address === "string" && address.includes("://");
  if (byUrl && (typeof second === "number" || third !== undefined)) {
    throw new TypeError("A URL carries its port: pass the options second");
  }
  if (!byUrl) checkAddress(address, second);
  const options = (byUrl ? second : third) ?? {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Options must be an object, got ${String(options)}`);
  }
  return {
    options,
    dial: () => byUrl ? dialUrl(address, options) : dialHost(address, second as number, options),
  };
}

/**
 * Parses `url` and picks its transport.
 *
 * @throws {TypeError} For a malformed URL, another scheme, a `tcp:` URL
 *   without a port, credentials or a fragment in the URL, or options that
 *   contradict it (`transport` or `tls` with `ws:`, `transport` with `wss:`).
 */
export async function dialUrl(url: string, options: PubSubClientOptions): Promise<Dial> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`URL must be a valid ws://, wss:// or tcp:// URL, got "${url}"`);
  }
  const scheme = parsed.protocol;
  if (!Object.hasOwn(SCHEMES, scheme)) {
    throw new TypeError(`URL scheme must be "ws:", "wss:" or "tcp:", got "${scheme}"`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new TypeError("URL must not hold credentials: pass them in the auth option");
  }
  if (parsed.hash !== "") throw new TypeError(`URL must not have a fragment, got "${url}"`);
  // An IPv6 address comes in brackets.
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (hostname === "") throw new TypeError(`URL must name a host, got "${url}"`);
  const port = parsed.port === "" ? SCHEMES[scheme] : Number(parsed.port);
  if (port === null) throw new TypeError(`A tcp:// URL must have a port, got "${url}"`);
  const target: DialTarget = { hostname, port, tls: options.tls };
  if (scheme === "tcp:") {
    if ((parsed.pathname !== "" && parsed.pathname !== "/") || parsed.search !== "") {
      throw new TypeError(`A tcp:// URL has no path or query, got "${url}"`);
    }
    checkNoWebSocket(options);
    return { target, transport: options.transport ?? await runtimeTransport() };
  }
  if (options.transport !== undefined) {
    throw new TypeError(
      `A ${scheme}// URL uses the WebSocket transport: leave out the transport option`,
    );
  }
  if (scheme === "ws:" && options.tls !== undefined) {
    throw new TypeError('The tls option needs a "wss://" URL, got "ws://"');
  }
  const transport = webSocketTransport({
    path: parsed.pathname + parsed.search,
    secure: scheme === "wss:",
    WebSocket: options.WebSocket,
  });
  return { target, transport };
}

/** A host and a port, with the `transport` option or the runtime's TCP transport. */
export async function dialHost(
  host: string,
  port: number,
  options: PubSubClientOptions,
): Promise<Dial> {
  checkNoWebSocket(options);
  return {
    target: { hostname: host, port, tls: options.tls },
    transport: options.transport ?? await runtimeTransport(),
  };
}

function checkNoWebSocket(options: PubSubClientOptions): void {
  if (options.WebSocket !== undefined) {
    throw new TypeError('The WebSocket option needs a "ws://" or "wss://" URL');
  }
}
