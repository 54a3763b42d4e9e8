/**
 * README.md's code examples run as written, on the runtimes they are for:
 * the TypeScript blocks on Deno and Bun (from the sources), the JavaScript
 * (Node) block on Node (the npm build) and Bun. `@kn-sock/pubsub` imports
 * point at this checkout, ports 8080 and 8081 at a test server on free
 * ports, and Redis's 6379 at a redis-server the test starts (a block that starts its own server gets port 0 and must print its
 * first line; every other block must exit 0). The npm package's README
 * (`npmReadme()`) holds no block that is not run here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { npmReadme } from "../scripts/build_npm.ts";
import { Child } from "./child_process.ts";
import { RedisServer } from "./redis_server.ts";

type Language = "ts" | "js";
type Runtime = "deno" | "bun" | "node";

/** The runtimes each kind of block is for. */
const RUNS_ON: Record<Language, Runtime[]> = { ts: ["deno", "bun"], js: ["node", "bun"] };

/** The fenced `ts` and `js` blocks of a Markdown text. */
function codeBlocks(markdown: string): { language: Language; code: string }[] {
  return [...markdown.matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)].map((match) => ({
    language: match[1] as Language,
    code: match[2],
  }));
}

const README = readFileSync("README.md", "utf8");
const EXPORTS = JSON.parse(readFileSync("deno.json", "utf8")).exports as Record<string, string>;

/** Where `@kn-sock/pubsub[/sub]` is for `runtime`: the sources, or the npm build on Node. */
function resolveImport(specifier: string, runtime: Runtime): string {
  const entry = EXPORTS["." + specifier.slice("@kn-sock/pubsub".length)];
  assert.ok(entry, `README imports ${specifier}, which deno.json does not export`);
  const path = runtime === "node" ? join("npm/esm", entry.replace(/\.ts$/, ".js")) : entry;
  return pathToFileURL(resolve(path)).href;
}

/** The block as it runs here: imports and ports rewritten. */
function prepare(
  code: string,
  runtime: Runtime,
  ports: { tcp: number; ws: number; redis: number },
): string {
  const ownServer = code.includes("startPubSubServer(");
  return code
    .replace(
      /"(@kn-sock\/pubsub(?:\/[a-z]+)?)"/g,
      (_, specifier: string) => JSON.stringify(resolveImport(specifier, runtime)),
    )
    .replaceAll("8080", ownServer ? "0" : String(ports.tcp))
    .replaceAll("8081", ownServer ? "0" : String(ports.ws))
    .replaceAll("6379", String(ports.redis));
}

function command(runtime: Runtime, file: string): [string, string[]] {
  switch (runtime) {
    case "deno":
      // The checkout's deno.json maps the bare imports of the sources (ioredis).
      return ["node_modules/.bin/deno", ["run", "-A", "--config", resolve("deno.json"), file]];
    case "bun":
      return ["node_modules/.bin/bun", [file]];
    case "node":
      return ["node", [file]];
  }
}

test("README's examples run on the runtimes they are for", async () => {
  assert.ok(existsSync("npm/esm/mod.js"), "run the npm build first (npm test does)");
  const blocks = codeBlocks(README);
  assert.ok(blocks.some((b) => b.language === "js"), "README has a JavaScript (Node) example");
  const server = await startPubSubServer({ port: 0, webSocket: { port: 0 } });
  const redis = await RedisServer.start();
  const dir = mkdtempSync(join(tmpdir(), "kn-sock-readme-"));
  try {
    // The subscriber examples read until a "stop": retained, it arrives as they subscribe.
    const publisher = await PubSubClient.connect("127.0.0.1", server.addr.port);
    await publisher.publish("news/stop", "stop", { retain: true });
    await publisher.publish("sensors/readme/temp", "stop", { retain: true });
    await publisher.flush();
    await publisher.close();
    const ports = { tcp: server.addr.port, ws: server.webSocketAddr!.port, redis: redis.port };
    let n = 0;
    for (const { language, code } of blocks) {
      for (const runtime of RUNS_ON[language]) {
        const file = join(dir, `example${n++}.${language === "ts" ? "ts" : "mjs"}`);
        writeFileSync(file, prepare(code, runtime, ports));
        const [cmd, args] = command(runtime, file);
        const child = new Child(cmd, args, { NO_COLOR: "1" });
        try {
          const what = `README block ${n} (${language}) on ${runtime}:\n${code}`;
          if (code.includes("startPubSubServer(") && !/^await server\.close\(\);$/m.test(code)) {
            // A server example runs until stopped: it says where it listens.
            let line = await child.line();
            while (line !== null && !/Listening on 127\.0\.0\.1:\d+/.test(line)) {
              line = await child.line();
            }
            assert.notEqual(line, null, `${what}\nstderr: ${child.stderr}`);
          } else {
            child.process.stdin!.end();
            while ((await child.line()) !== null) {
              // Its output is not checked; that it ends, with 0, is.
            }
            assert.equal(await child.exited, 0, `${what}\nstderr: ${child.stderr}`);
          }
        } finally {
          await child.stop();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.close();
    await redis.stop();
  }
});

test("the npm package's README has only examples that README's test runs", () => {
  const run = new Set(codeBlocks(README).map((block) => block.code));
  const npm = codeBlocks(npmReadme(README));
  assert.ok(npm.length > 0);
  for (const block of npm) assert.ok(run.has(block.code), `not run:\n${block.code}`);
  assert.doesNotMatch(npmReadme(README), /npm ci && npm start/);
});
