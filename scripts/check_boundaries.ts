/**
 * Checks the architecture's two rules over `src/`:
 *
 * 1. Only the runtime adapters (`src/transport/{deno,bun,node}.ts` and
 *    `src/transport/{deno,bun,node}_http.ts`) and the
 *    CLI (`src/cli/`) may name `Deno`, `Bun`, `process` or `Buffer`, or
 *    import `node:*`.
 * 2. Layers import only from layers before them: transport, topic, protocol,
 *    auth, then server, client and demo (server and client never import
 *    each other), then cli. The leaf modules directly in `src/` may be imported by any layer,
 *    and import only each other.
 *    `src/browser.ts` is an entry point (like `mod.ts`), not a leaf.
 * 3. A file whose name starts with `_` is private to its folder: only files
 *    in that folder (or below it) may import it. `src/_async.ts` is thus
 *    open to all of `src/`, `src/transport/_connect_errors.ts` only to
 *    `src/transport/`.
 * 4. An optional library (a peer dependency of the npm package) is imported
 *    only by the files of the one adapter that needs it, which has its own
 *    entry point: `ioredis` only by `src/backplane/redis.ts` and its
 *    `src/backplane/redis_*.ts` files, and those files only by each other,
 *    so that nothing else loads ioredis.
 *
 * Run: `deno run --allow-read scripts/check_boundaries.ts` (exit 1 on a
 * violation). `tests/boundaries.test.ts` runs it on every runtime.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import process from "node:process";

const RUNTIME_FILES = new Set([
  "src/transport/deno.ts",
  "src/transport/bun.ts",
  "src/transport/node.ts",
  "src/transport/deno_http.ts",
  "src/transport/bun_http.ts",
  "src/transport/node_http.ts",
  "src/transport/runtime_info.ts",
]);

/** Entry points that live in `src/` beside the leaves, and import any layer. */
const ENTRY_FILES = new Set(["src/browser.ts"]);

/** An adapter over an optional library: its entry point, and the files that may import the library. */
interface OptionalAdapter {
  /** Its entry point: the one of its files that others may import. */
  entry: string;
  /** The files (its entry point and its `<entry>_*.ts` files), as `files` says them. */
  files: RegExp;
  /** The same, for messages. */
  says: string;
}

/** The optional libraries, and the adapter that alone may import each. */
const OPTIONAL_LIBRARIES: Record<string, OptionalAdapter> = {
  ioredis: {
    entry: "src/backplane/redis.ts",
    files: /^src\/backplane\/redis(_[a-z0-9_]+)?\.ts$/,
    says: "src/backplane/redis.ts and src/backplane/redis_*.ts",
  },
};

/** The adapter `path` belongs to, if it is one of an optional library's. */
function adapterOf(path: string): OptionalAdapter | undefined {
  return Object.values(OPTIONAL_LIBRARIES).find((adapter) => adapter.files.test(path));
}

/** What only the runtime adapters and the CLI may name, and how it is found. */
export const RUNTIME_NAMES: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /\bDeno\./, what: "Deno" },
  { pattern: /\bBun\./, what: "Bun" },
  { pattern: /\bprocess\./, what: "process" },
  { pattern: /\bBuffer\b/, what: "Buffer" },
  { pattern: /from\s+["']node:|import\(\s*["']node:/, what: "node:*" },
];

const LAYERS: Record<string, number> = {
  transport: 0,
  topic: 1,
  protocol: 2,
  auth: 3,
  backplane: 4, // the seam between nodes, and its adapters over libraries
  server: 5,
  client: 5,
  demo: 5, // the demo page: web-standard, for the CLI to serve
  cli: 6,
};

function layerOf(path: string): string | null {
  const match = /^src\/([^/]+)\//.exec(path);
  return match ? match[1] : null;
}

/** Whether `path` is a leaf: a file directly in `src/`. */
function isLeaf(path: string): boolean {
  return /^src\/[^/]+$/.test(path) && !ENTRY_FILES.has(path);
}

/** The folder that may import `path` when it is `_`-private, else `null`. */
function privateTo(path: string): string | null {
  const slash = path.lastIndexOf("/");
  return path.slice(slash + 1).startsWith("_") ? path.slice(0, slash + 1) : null;
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (path.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** `source` without comments; a block comment keeps its line breaks. */
export function stripComments(source: string): string {
  // A block comment keeps its line breaks, so that line numbers stay right.
  return source.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ""))
    .replace(/^\s*\/\/.*$/gm, "");
}

/**
 * Returns one line per violation, empty when the tree follows the rules.
 *
 * @param root The repository root.
 */
export function checkBoundaries(root: string): string[] {
  const violations: string[] = [];
  for (const file of files(join(root, "src"))) {
    const path = relative(root, file).replaceAll("\\", "/");
    const source = stripComments(readFileSync(file, "utf8"));
    const lines = source.split("\n");
    const layer = layerOf(path);
    const runtimeAllowed = RUNTIME_FILES.has(path) || layer === "cli";
    lines.forEach((line, index) => {
      if (!runtimeAllowed) {
        for (const { pattern, what } of RUNTIME_NAMES) {
          if (pattern.test(line)) violations.push(`${path}:${index + 1}: names ${what}`);
        }
      }
      for (const match of line.matchAll(/(?:from|import\(?)\s*["']([^."'][^"']*)["']/g)) {
        const only = OPTIONAL_LIBRARIES[match[1].replace(/^npm:/, "").replace(/@[^/]*$/, "")];
        if (only !== undefined && !only.files.test(path)) {
          violations.push(`${path}:${index + 1}: imports ${match[1]}, which only ${only.says} may`);
        }
      }
      for (const match of line.matchAll(/(?:from|import\(?)\s*["'](\.[^"']+)["']/g)) {
        const target = normalize(join(dirname(path), match[1])).replaceAll("\\", "/");
        const at = `${path}:${index + 1}`;
        const owner = privateTo(target);
        if (owner !== null && !path.startsWith(owner)) {
          violations.push(`${at}: imports ${target}, private to ${owner} (${match[1]})`);
        }
        // An adapter's own files load its library: only its files import them.
        const adapter = adapterOf(target);
        if (adapter !== undefined && target !== adapter.entry && adapter !== adapterOf(path)) {
          violations.push(`${at}: imports ${target}, internal to ${adapter.says}`);
        }
        const targetLayer = layerOf(target);
        if (isLeaf(path)) {
          if (!isLeaf(target)) violations.push(`${at}: leaf imports a non-leaf (${match[1]})`);
          continue;
        }
        if (layer === null || targetLayer === null || targetLayer === layer) continue;
        const crossed = (layer === "server" && targetLayer === "client") ||
          (layer === "client" && targetLayer === "server");
        if (crossed || LAYERS[targetLayer] > LAYERS[layer]) {
          violations.push(`${at}: ${layer}/ imports ${targetLayer}/ (${match[1]})`);
        }
      }
    });
  }
  return violations;
}

if (import.meta.main) {
  const violations = checkBoundaries(process.cwd());
  for (const violation of violations) console.error(violation);
  console.log(`check_boundaries: ${violations.length} violation(s)`);
  process.exitCode = violations.length === 0 ? 0 : 1;
}
