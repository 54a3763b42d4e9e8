/**
 * The errors every adapter's `connect()` rejects with. They are worded once,
 * in `src/errors.ts`, where the client finds them too.
 *
 * @module
 */

export { connectFailed, connectionRefused } from "../errors.ts";
