/**
 * The errors every adapter's `connect()` rejects with, worded once.
 *
 * @module
 */

import { ConnectError, ErrorCode } from "../errors.ts";

/** `connection_refused`: nothing listens at the address. */
export function connectionRefused(hostname: string, port: number, cause?: unknown): ConnectError {
  return new ConnectError(
    ErrorCode.ConnectionRefused,
    `Connection refused by ${hostname}:${port}`,
    { cause },
  );
}

/** `connect_failed`: any other failure, an abort or a timeout. */
export function connectFailed(hostname: string, port: number, cause?: unknown): ConnectError {
  return new ConnectError(
    ErrorCode.ConnectFailed,
    `Could not connect to ${hostname}:${port}`,
    { cause },
  );
}
