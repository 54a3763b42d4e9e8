/**
 * Builds the browser client: `src/browser.ts` bundled into one ES module,
 * `npm/browser/pubsub.js`, that a page loads with `<script type="module">`
 * (no CDN, no dependencies). Three steps:
 *
 * 1. The import graph of `src/browser.ts` reaches no runtime code
 *    (`check_browser_graph.ts`).
 * 2. `deno bundle --platform browser --format esm --minify`, with the one lazy edge
 *    to the runtime's TCP transport marked external (a page never takes it:
 *    connecting by host and port there fails with a clear `TypeError`).
 * 3. The bundle names no runtime API and imports nothing but that edge.
 *
 * `scripts/build_npm.ts` calls it, so `npm run build` emits it. Beside it,
 * `buildDashboardAssets()` writes the monitoring dashboard's chart library
 * (`uplot.js`, `uplot.css`). Run alone:
 * `deno run -A scripts/build_browser.ts [out-file]` (both, in one folder).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import process from "node:process";
import { BROWSER_ENTRY, browserGraphProblems, LAZY_RUNTIME_EDGES } from "./check_browser_graph.ts";
import { RUNTIME_NAMES } from "./check_boundaries.ts";

/** Where `npm run build` puts the bundle. */
export const BROWSER_BUNDLE = "npm/browser/pubsub.js";
/** Where `npm run build` puts the dashboard's chart library (uPlot, minified, and its style). */
export const DASHBOARD_ASSETS = { js: "npm/browser/uplot.js", css: "npm/browser/uplot.css" };

const UPLOT = "node_modules/uplot";

const DENO = "node_modules/.bin/deno";

/**
 * The lazy edges' specifiers as the source writes them: marked external,
 * the bundle keeps them as they are (no local path).
 */
const LAZY_SPECIFIERS: readonly string[] = LAZY_RUNTIME_EDGES.map((edge) =>
  relative(dirname(edge.from), edge.to).replaceAll("\\", "/")
);

/** Problems in the text of a bundle: runtime names, imports other than the lazy edge. */
export function bundleProblems(text: string): string[] {
  const problems: string[] = [];
  for (const { pattern, what } of RUNTIME_NAMES) {
    if (pattern.test(text)) problems.push(`the bundle names ${what}`);
  }
  for (
    const match of text.matchAll(/\bimport\s*\(?\s*["']([^"']+)["']|\bfrom\s*["']([^"']+)["']/g)
  ) {
    const specifier = match[1] ?? match[2];
    if (!LAZY_SPECIFIERS.includes(specifier)) {
      problems.push(`the bundle imports ${specifier}`);
    }
  }
  return problems;
}

/**
 * Checks the graph, bundles `src/browser.ts` into `out` and checks the
 * bundle. Throws with the problems found.
 *
 * @param out The file to write, relative to the repository root.
 * @returns The bundle's size in bytes.
 */
export function buildBrowser(out: string = BROWSER_BUNDLE): number {
  const graph = browserGraphProblems(process.cwd(), BROWSER_ENTRY);
  if (graph.length > 0) {
    throw new Error(`${BROWSER_ENTRY} reaches runtime code:\n${graph.join("\n")}`);
  }
  bundle(BROWSER_ENTRY, out, LAZY_SPECIFIERS);
  return checkBundle(out, readFileSync(out, "utf8"));
}

/** `deno bundle` for browsers: `entry` into one minified ES module, `out`. */
function bundle(entry: string, out: string, external: readonly string[] = []): void {
  mkdirSync(dirname(out), { recursive: true });
  execFileSync(DENO, [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    "esm",
    "--minify",
    ...external.flatMap((specifier) => ["--external", specifier]),
    "--output",
    out,
    entry,
  ], { stdio: "inherit" });
}

/** Throws with the problems of the bundle `text` (written at `out`); returns its size. */
function checkBundle(out: string, text: string): number {
  const problems = bundleProblems(text);
  if (problems.length > 0) throw new Error(`${out}:\n${problems.join("\n")}`);
  return text.length;
}

/**
 * Bundles the dashboard's chart library, uPlot (a pinned devDependency),
 * into one minified ES module beside its style, with its licence notice
 * kept. The monitor serves both at `/uplot.js` and `/uplot.css` (no CDN).
 *
 * @param dir The folder to write, relative to the repository root.
 * @returns The module's size in bytes.
 */
export function buildDashboardAssets(dir: string = dirname(DASHBOARD_ASSETS.js)): number {
  const js = `${dir}/uplot.js`;
  bundle(`${UPLOT}/dist/uPlot.esm.js`, js);
  const { version, license } = JSON.parse(readFileSync(`${UPLOT}/package.json`, "utf8"));
  const notice = `/*! uPlot ${version} (c) Leon Sorokin, ${license} licence, ` +
    `https://github.com/leeoniya/uPlot */\n`;
  const text = notice + readFileSync(js, "utf8");
  writeFileSync(js, text);
  copyFileSync(`${UPLOT}/dist/uPlot.min.css`, `${dir}/uplot.css`);
  return checkBundle(js, text);
}

if (import.meta.main) {
  const out = process.argv[2] ?? BROWSER_BUNDLE;
  const size = buildBrowser(out);
  const assets = buildDashboardAssets(dirname(out));
  console.log(`build_browser: ${out} (${size} bytes), ${dirname(out)}/uplot.js (${assets} bytes)`);
}
