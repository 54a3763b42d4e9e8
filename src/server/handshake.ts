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

/** What the handshake needs from the server. */
export interface HandshakeContext {
  readonly limits: ServerLimits;
  readonly logger: Logger;
  readonly counters: ServerCounters;
  readonly serverId: string;
}

/**
 * Authenticates `frame`'s credentials. On success the session gets its user
 * and permissions and the credentials are removed from the frame (the
 * handler never sees a password); on failure the client is told
 * `auth_failed` and closed.
 *
 * @returns Whether the client is now authenticated.
 */
export async function authenticate(
  auth: ServerAuthenticator,
  session: Session,
  frame: HelloFrame,
  context: HandshakeContext,
): Promise<boolean> {
  const credentials: Credentials = {};
  if (frame.user !== undefined) credentials.user = frame.user;
  if (frame.pass !== undefined) credentials.pass = frame.pass;
  if (frame.token !== undefined) credentials.token = frame.token;
  delete frame.pass;
  delete frame.token;
  let result: Awaited<ReturnType<ServerAuthenticator["authenticate"]>> = null;
  try {
    result = await auth.authenticate(credentials);
  } catch (error) {
    context.logger.error("Authentication failed with an error", { id: session.id, error });
  }
  if (!session.open) return false;
  if (result === null) {
    context.counters.authFailures++;
    context.logger.warn("Authentication failed", { id: session.id, user: credentials.user });
    void session.close({ code: ErrorCode.AuthFailed, text: "Invalid credentials" });
    return false;
  }
  session.user = result.user;
  session.permissions = result.permissions;
  context.logger.info("Client authenticated", { id: session.id, user: result.user });
  return true;
}

/** Records the client's `hello` on its session and queues the server's answer. */
export function answerHello(session: Session, frame: HelloFrame, context: HandshakeContext): void {
  session.hello = true;
  session.echo = frame.echo !== false;
  session.name = frame.name ?? "";
  const { limits } = context;
  const answer: Record<string, unknown> = {
    action: "hello",
    version: PROTOCOL_VERSION,
    server_id: context.serverId,
    max_line: limits.maxLineBytes,
    max_payload: Math.min(limits.maxPayloadBytes, limits.maxLineBytes),
    ping_interval: limits.pingIntervalMs,
  };
  if (session.user !== null) answer.user = session.user;
  if (frame.id !== undefined) answer.id = frame.id;
  session.send(answer);
}
