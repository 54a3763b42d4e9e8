/**
 * Checks that a browser entry point reaches no runtime code: walks its
 * import graph (static imports and re-exports, side-effect imports and
 * dynamic `import()`s; type-only ones are erased and skipped) and reports
 * every file on it that names `Deno`, `Bun`, `process` or `Buffer` (the
 * patterns of `check_boundaries.ts`), and every import of `node:*` or of a
 * package (the bundle has no dependencies).
 *
 * One edge is left out on purpose: the client loads the runtime's TCP
 * transport lazily (`src/client/dial.ts` → `src/transport/auto.ts`), only
 * when asked to connect by host and port without a transport, which a
 * page cannot do. {@linkcode LAZY_RUNTIME_EDGES} lists it; the bundler
 * marks its target external (`scripts/build_browser.ts`).
 *
 * Run: `deno run --allow-read scripts/check_browser_graph.ts [entry]`
 * (default `src/browser.ts`; exit 1 on a problem).
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import process from "node:process";
import { RUNTIME_NAMES, stripComments } from "./check_boundaries.ts";

/** The browser entry point of the package. */
export const BROWSER_ENTRY = "src/browser.ts";

/** Dynamic imports of runtime code a page never takes: `from` loads `to` lazily. */
export const LAZY_RUNTIME_EDGES: readonly { from: string; to: string }[] = [
  { from: "src/client/dial.ts", to: "src/transport/auto.ts" },
];

/** `import … from`, `export … from` (group 1: `type`), group 2 the specifier. */
const FROM = /\b(?:import|export)\s+(type\s+)?[\w\s{},*$]*?\bfrom\s*["']([^"']+)["']/g;
/** `import "x"`: a side-effect import. */
const BARE = /\bimport\s*["']([^"']+)["']/g;
/** `import("x")`, but not `typeof import("x")` (a type). */
const DYNAMIC = /(?<!typeof\s+)\bimport\(\s*["']([^"']+)["']\s*\)/g;

interface Edge {
  specifier: string;
  line: number;
  lazy: boolean;
}

function lineAt(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

function edgesOf(source: string): Edge[] {
  const edges: Edge[] = [];
  for (const match of source.matchAll(FROM)) {
    if (match[1] === undefined) {
      edges.push({ specifier: match[2], line: lineAt(source, match.index), lazy: false });
    }
  }
  for (const match of source.matchAll(BARE)) {
    edges.push({ specifier: match[1], line: lineAt(source, match.index), lazy: false });
  }
  for (const match of source.matchAll(DYNAMIC)) {
    edges.push({ specifier: match[1], line: lineAt(source, match.index), lazy: true });
  }
  return edges;
}

function isLazyRuntimeEdge(from: string, to: string): boolean {
  return LAZY_RUNTIME_EDGES.some((edge) => edge.from === from && edge.to === to);
}

/**
 * Returns one line per problem on the graph of `entry` (a path relative to
 * `root`), empty when it reaches no runtime code.
 *
 * @param root The repository root.
 * @param entry The entry point, relative to `root`.
 */
export function browserGraphProblems(root: string, entry: string = BROWSER_ENTRY): string[] {
  const problems: string[] = [];
  const start = normalize(entry).replaceAll("\\", "/");
  const via = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  const chain = (path: string): string => {
    const steps: string[] = [];
    for (let at: string | null = path; at !== null; at = via.get(at) ?? null) steps.push(at);
    return steps.reverse().join(" > ");
  };
  while (queue.length > 0) {
    const path = queue.shift()!;
    const file = join(root, path);
    if (!existsSync(file)) {
      problems.push(`${chain(path)}: file not found`);
      continue;
    }
    const source = stripComments(readFileSync(file, "utf8"));
    source.split("\n").forEach((line, index) => {
      for (const { pattern, what } of RUNTIME_NAMES) {
        if (pattern.test(line)) {
          problems.push(`${path}:${index + 1}: names ${what} (${chain(path)})`);
        }
      }
    });
    for (const edge of edgesOf(source)) {
      if (!edge.specifier.startsWith(".")) {
        if (!edge.specifier.startsWith("node:")) {
          problems.push(`${path}:${edge.line}: imports package ${edge.specifier} (${chain(path)})`);
        } // node:* is reported by the runtime-name patterns above
        continue;
      }
      const target = relative(root, join(root, dirname(path), edge.specifier)).replaceAll(
        "\\",
        "/",
      );
      if (edge.lazy && isLazyRuntimeEdge(path, target)) continue;
      if (via.has(target)) continue;
      via.set(target, path);
      queue.push(target);
    }
  }
  return problems;
}

if (import.meta.main) {
  const entry = process.argv[2] ?? BROWSER_ENTRY;
  const problems = browserGraphProblems(process.cwd(), entry);
  for (const problem of problems) console.error(problem);
  console.log(`check_browser_graph: ${entry}: ${problems.length} problem(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
