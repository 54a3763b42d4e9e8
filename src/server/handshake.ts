/**
 * The `hello` handshake on the server: authentication when the server
 * requires it, and the answer that tells the client the server's limits.
 *
 * @module
 */

import { ErrorCode } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { ServerLimits } from "../limits.ts";
import type { HelloFrame } from "../protocol/frames.ts";
import type { Credentials } from "../auth/authenticator.ts";
import type { PermissionChecker } from "./server_client.ts";
import type { Session } from "./session.ts";
import type { ServerCounters } from "./stats.ts";
import { typeName } from "../topic/validate_topic.ts";
import { utf8Length } from "../_utf8.ts";

/** The protocol version this server speaks in `hello`. */
export const PROTOCOL_VERSION = 1;

/**
 * Checks credentials for the server. `Authenticator` (built from a users
 * file) is one; any object with this method will do.
 */
export interface ServerAuthenticator {
  /** Resolves with the user and what it may do, or `null` for bad credentials. */
  authenticate(
    credentials: Credentials,
  ): Promise<{ user: string; permissions: PermissionChecker } | null>;
}

/** Who an authenticated client is, and what it may do. */
export interface Identity {
  /** The user name. */
  readonly user: string;
  /** What the user may do. */
  readonly permissions: PermissionChecker;
}

/** What a client said in `hello`. */
export interface Greeting {
  /** Whether its own publishes come back to it (`echo: false` turns it off). */
  readonly echo: boolean;
  /** The client's name, `""` when it gave none. */
  readonly name: string;
}

/** What the handshake needs from the server. */
export interface HandshakeContext {
  readonly limits: ServerLimits;
  readonly logger: Logger;
  readonly counters: ServerCounters;
  readonly serverId: string;
}

/** Whether a `hello` carries a secret: `pass` or `token`. */
export function hasCredentials(frame: HelloFrame): boolean {
  return frame.pass !== undefined || frame.token !== undefined;
}

/** Why `frame`'s `user`, `pass` or `token` is not a string, or `null` when none is wrong. */
export function credentialsProblem(frame: HelloFrame): string | null {
  for (const field of ["user", "pass", "token"] as const) {
    const value: unknown = frame[field];
    if (value !== undefined && typeof value !== "string") {
      return `${field[0].toUpperCase()}${field.slice(1)} must be a string, got ${typeName(value)}`;
    }
  }
  return null;
}

/** Why `frame`'s `name` is refused (past `maxNameBytes`), or `null`. */
export function nameProblem(frame: HelloFrame, limits: ServerLimits): string | null {
  const name = frame.name;
  // A UTF-8 byte is at least a third of a UTF-16 unit: most names need no count.
  if (name === undefined || name.length * 3 <= limits.maxNameBytes) return null;
  return utf8Length(name) > limits.maxNameBytes
    ? `Name exceeds ${limits.maxNameBytes} bytes`
    : null;
}

/** Closes `session` with `auth_failed` (counted and logged): `reason` goes to the log only. */
export function refuseCredentials(
  session: Session,
  context: HandshakeContext,
  reason: string,
  user?: unknown,
): void {
  context.counters.authFailures++;
  context.logger.warn("Authentication failed", { id: session.id, reason, user });
  void session.close({ code: ErrorCode.AuthFailed, text: "Invalid credentials" });
}

/**
 * Authenticates `frame`'s credentials. The credentials are removed from the
 * frame (the handler never sees a password); on failure the client is told
 * `auth_failed` and closed.
 *
 * @returns Who the client is, or `null` when it is not authenticated.
 */
export async function authenticate(
  auth: ServerAuthenticator,
  session: Session,
  frame: HelloFrame,
  context: HandshakeContext,
): Promise<Identity | null> {
  const problem = credentialsProblem(frame);
  const credentials: Credentials = {};
  if (frame.user !== undefined) credentials.user = frame.user;
  if (frame.pass !== undefined) credentials.pass = frame.pass;
  if (frame.token !== undefined) credentials.token = frame.token;
  delete frame.pass;
  delete frame.token;
  if (problem !== null) {
    refuseCredentials(session, context, problem);
    return null;
  }
  let result: Awaited<ReturnType<ServerAuthenticator["authenticate"]>> = null;
  try {
    result = await auth.authenticate(credentials);
  } catch (error) {
    context.logger.error("Authentication failed with an error", { id: session.id, error });
  }
  if (!session.open) return null;
  if (result === null) {
    refuseCredentials(session, context, "Credentials refused", credentials.user);
    return null;
  }
  context.logger.info("Client authenticated", { id: session.id, user: result.user });
  return { user: result.user, permissions: result.permissions };
}

/**
 * Queues the server's answer to the client's `hello` (`user`: the
 * authenticated user, if any; `inbox`: the connection's private inbox
 * prefix, when inboxes are private) and returns what the client said.
 */
export function answerHello(
  session: Session,
  frame: HelloFrame,
  context: HandshakeContext,
  user: string | null,
  inbox: string | null,
): Greeting {
  const { limits } = context;
  const answer: Record<string, unknown> = {
    action: "hello",
    version: PROTOCOL_VERSION,
    server_id: context.serverId,
    max_line: limits.maxLineBytes,
    max_payload: Math.min(limits.maxPayloadBytes, limits.maxLineBytes),
    ping_interval: limits.pingIntervalMs,
  };
  if (user !== null) answer.user = user;
  if (inbox !== null) answer.inbox = inbox;
  if (frame.id !== undefined) answer.id = frame.id;
  session.send(answer);
  return { echo: frame.echo !== false, name: frame.name ?? "" };
}
