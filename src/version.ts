/**
 * The package version. `deno.json` is the source of truth; a test fails
 * when the two differ.
 *
 * @module
 */

/** The version of `@kn-sock/pubsub`. */
export const VERSION = "0.1.0";
