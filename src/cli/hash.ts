/**
 * `hash-password` and `hash-token`: turn a secret read from standard input
 * into the string a users file stores.
 *
 * @module
 */

import { hashPassword } from "../auth/password.ts";
import { hashToken } from "../auth/token.ts";
import type { CliIo } from "./commands.ts";
import { UsageError } from "./arguments.ts";
import { readWhole } from "./message_input.ts";

/** The longest secret read (a password or token is far shorter). */
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * Reads the secret from standard input (so it stays out of the shell
 * history and the process list) and prints its hash.
 */
export async function hashSecret(
  command: "hash-password" | "hash-token",
  iterationsText: string | undefined,
  io: CliIo,
): Promise<number> {
  let iterations: number | undefined;
  if (iterationsText !== undefined) {
    iterations = /^\d+$/.test(iterationsText) ? Number(iterationsText) : NaN;
    if (command !== "hash-password" || !(iterations >= 1000)) {
      throw new UsageError(
        command === "hash-password"
          ? `Invalid --iterations "${iterationsText}": expected an integer of at least 1000`
          : "--iterations applies to hash-password only",
        command,
      );
    }
  }
  const secret = await readWhole({ kind: "stdin" }, MAX_SECRET_BYTES);
  if (secret.length === 0) throw new UsageError("Standard input holds no secret", command);
  io.out(
    command === "hash-password"
      ? await hashPassword(secret, iterations === undefined ? {} : { iterations })
      : await hashToken(secret),
  );
  return 0;
}
