/**
 * The bundled browser client that `serve --ws-port` hands to the demo page
 * at `/pubsub.js`: read from the npm package (`browser/pubsub.js`) or, in a
 * checkout, from the build output (`npm/browser/pubsub.js`, which
 * `npm start` and `npm run build` make).
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** Where the bundle may be, relative to this module: the npm layout, then a checkout's. */
const CANDIDATES: readonly string[] = ["../../../browser/pubsub.js", "../../npm/browser/pubsub.js"];

/**
 * Reads the bundled browser client.
 *
 * @returns The bundle's text.
 * @throws {Error} When it is built nowhere, saying how to build it.
 */
export async function loadClientScript(): Promise<string> {
  for (const candidate of CANDIDATES) {
    try {
      return await readFile(fileURLToPath(new URL(candidate, import.meta.url).href), "utf8");
    } catch {
      // Not in this layout: try the next one.
    }
  }
  throw new Error(
    "The browser client is not built: run `npm run build` (or " +
      "`deno run -A scripts/build_browser.ts`) in the checkout",
  );
}
