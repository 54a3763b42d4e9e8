/**
 * The browser files that `serve` hands out: the bundled browser client
 * (`pubsub.js`, for the demo page at `/pubsub.js`) and the monitoring
 * dashboard's chart library (`uplot.js`, `uplot.css`). They are read from
 * the npm package (`browser/`) or, in a checkout, from the build output
 * (`npm/browser/`, which `npm start` and `npm run build` make).
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** Where the files may be, relative to this module: the npm layout, then a checkout's. */
const CANDIDATES: readonly string[] = ["../../../browser/", "../../npm/browser/"];

/**
 * Reads one built browser file.
 *
 * @param name The file's name in `browser/`, for example `"pubsub.js"`.
 * @returns Its text.
 * @throws {Error} When it is built nowhere, saying how to build it.
 */
export async function loadBrowserFile(name: string): Promise<string> {
  for (const candidate of CANDIDATES) {
    try {
      return await readFile(fileURLToPath(new URL(candidate + name, import.meta.url).href), "utf8");
    } catch {
      // Not in this layout: try the next one.
    }
  }
  throw new Error(
    `The browser file ${name} is not built: run \`npm run build\` (or ` +
      "`deno run -A scripts/build_browser.ts`) in the checkout",
  );
}

/**
 * Reads the bundled browser client.
 *
 * @returns The bundle's text.
 * @throws {Error} When it is built nowhere, saying how to build it.
 */
export function loadClientScript(): Promise<string> {
  return loadBrowserFile("pubsub.js");
}
