/**
 * Builds the npm distribution in `npm/` from the same sources JSR gets,
 * doing what dnt would (dnt and JSR are out of reach from our machines):
 *
 * 1. `tsc -p tsconfig.build.json`: ESM JavaScript and `.d.ts` in `npm/esm/`,
 *    relative `.ts` specifiers rewritten to `.js` in the JavaScript.
 * 2. The same rewrite in the `.d.ts` files, which tsc leaves alone.
 * 3. `npm/package.json` generated from `deno.json` (name, version, licence,
 *    exports with `types` and `default`, `bin`, `engines`, `files`).
 * 4. The user README generated from README.md (`npmReadme()`: without the
 *    checkout's developer sections), LICENSE, CHANGELOG, CONTRIBUTING and
 *    `docs/` copied, so that every link of the README works in the tarball.
 * 5. The browser client bundled into one ES module, `npm/browser/pubsub.js`
 *    (`build_browser.ts`), for pages to load as it is; beside it the
 *    monitoring dashboard's chart library, `uplot.js` and `uplot.css`.
 * 6. With `--check`: `publint` and `attw --profile esm-only` on the result.
 *
 * Run: `deno run -A scripts/build_npm.ts [--check]`.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { BROWSER_BUNDLE, buildBrowser, buildDashboardAssets } from "./build_browser.ts";

const OUT = "npm";
/** The source of the npm package's `kn-sock-pubsub` command. */
const BIN_ENTRY = "./src/cli/bin.ts";
const BIN = "node_modules/.bin";

const DESCRIPTION =
  "Topic-based publish/subscribe server and client for Deno, Bun and Node, wire-compatible with kn-sock";

interface DenoConfig {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
}

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: "inherit" });
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** `./x.ts` → `./x.js` in import and export specifiers of declaration files. */
export function rewriteDeclarationSpecifiers(source: string): string {
  return source.replace(
    /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g,
    "$1$2.js$3",
  );
}

/** The JavaScript and declaration paths of a source entry point. */
function built(entry: string): { types: string; default: string } {
  const base = "./esm/" + entry.replace(/^\.\//, "").replace(/\.ts$/, "");
  return { types: `${base}.d.ts`, default: `${base}.js` };
}

/** README.md's sections that are about working in the checkout, not about using the package. */
const DEVELOPER_SECTIONS: readonly string[] = ["## Quick start", "## How this is built"];

/**
 * The npm package's README: README.md without {@linkcode DEVELOPER_SECTIONS}.
 * Its links (`docs/*.md`, `CHANGELOG.md`, ...) are shipped in the tarball.
 */
export function npmReadme(readme: string): string {
  const sections = readme.split(/^(?=## )/m);
  return sections.filter((section) =>
    !DEVELOPER_SECTIONS.some((heading) => section.startsWith(heading + "\n"))
  ).join("");
}

/** The files the README links to, shipped beside it. */
const SHIPPED_DOCS: readonly string[] = ["LICENSE", "CHANGELOG.md", "CONTRIBUTING.md"];

/** `npm/package.json`, from `deno.json`. */
export function packageJson(config: DenoConfig): Record<string, unknown> {
  const exports: Record<string, { types: string; default: string }> = {};
  for (const [subpath, entry] of Object.entries(config.exports)) exports[subpath] = built(entry);
  // The command: `./cli` exports `main()` without running it; this file runs it.
  const bin = built(BIN_ENTRY).default;
  return {
    name: config.name,
    version: config.version,
    description: DESCRIPTION,
    license: config.license,
    type: "module",
    exports,
    // One bin, so `npx @kn-sock/pubsub` runs it too.
    bin: { "kn-sock-pubsub": bin },
    files: ["esm/", "browser/", "docs/", "README.md", ...SHIPPED_DOCS],
    engines: { node: ">=20" },
    // The HTTP transport loads "ws" on Node only when a WebSocket route is asked for;
    // "ioredis" is for the "./redis" entry point (the Redis backplane) alone.
    peerDependencies: { ws: "^8.18.0", ioredis: "^6.1.0" },
    peerDependenciesMeta: { ws: { optional: true }, ioredis: { optional: true } },
    sideEffects: [bin],
    keywords: ["pubsub", "publish-subscribe", "kn-sock", "tcp", "deno", "bun", "node"],
  };
}

function build(): void {
  const config = JSON.parse(readFileSync("deno.json", "utf8")) as DenoConfig;
  rmSync(OUT, { recursive: true, force: true });
  run(`${BIN}/tsc`, ["-p", "tsconfig.build.json"]);
  let rewritten = 0;
  for (const file of walk(join(OUT, "esm"))) {
    if (!file.endsWith(".d.ts")) continue;
    const source = readFileSync(file, "utf8");
    const fixed = rewriteDeclarationSpecifiers(source);
    if (fixed !== source) {
      writeFileSync(file, fixed);
      rewritten++;
    }
  }
  const pkg = packageJson(config);
  writeFileSync(join(OUT, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  writeFileSync(join(OUT, "README.md"), npmReadme(readFileSync("README.md", "utf8")));
  for (const file of SHIPPED_DOCS) copyFileSync(file, join(OUT, file));
  cpSync("docs", join(OUT, "docs"), { recursive: true });
  chmodSync(join(OUT, (pkg.bin as Record<string, string>)["kn-sock-pubsub"]), 0o755);
  const bundled = buildBrowser(BROWSER_BUNDLE);
  const charts = buildDashboardAssets();
  console.log(
    `build_npm: ${config.name}@${config.version} in ${OUT}/ (${rewritten} .d.ts rewritten, ` +
      `${BROWSER_BUNDLE}: ${bundled} bytes, dashboard charts: ${charts} bytes)`,
  );
}

if (import.meta.main) {
  build();
  if (process.argv.includes("--check")) {
    run(`${BIN}/publint`, [OUT]);
    run(`${BIN}/attw`, ["--pack", OUT, "--profile", "esm-only"]);
  }
}
