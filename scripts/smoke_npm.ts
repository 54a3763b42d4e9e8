/**
 * Installs the packed npm build into a scratch project and uses it as a
 * user would: import it on Node and on Bun, serve, subscribe, publish,
 * receive; and run its `kn-sock-pubsub` bin. Needs `scripts/build_npm.ts`
 * first. Prints one line per check and `N passed, N failed` at the end.
 *
 * Run: `deno run -A scripts/smoke_npm.ts`.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";

const SMOKE = `
import { PubSubClient, startPubSubServer } from "@kn-sock/pubsub";
import { nodeTransport } from "@kn-sock/pubsub/node";

const runtime = typeof Bun !== "undefined" ? "bun" : "node";
for (const transport of [undefined, nodeTransport]) {
  const server = await startPubSubServer({ port: 0, transport });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port, { transport });
  await client.subscribe("smoke/test");
  await client.flush();
  await client.publish("smoke/test", { ok: true });
  const message = await client.recv({ timeout: 10000 });
  if (message?.topic !== "smoke/test" || message.message?.ok !== true) {
    throw new Error("unexpected message " + JSON.stringify(message));
  }
  await client.close();
  await server.close();
  console.log("smoke: " + runtime + " served and delivered with transport " + server.transportName);
}
`;

/** The README's one JavaScript (Node) example. */
function nodeExample(readme: string): string {
  const blocks = [...readFileSync(readme, "utf8").matchAll(/^```js\n([\s\S]*?)^```$/gm)];
  if (blocks.length !== 1) {
    throw new Error(`expected one js block in ${readme}, found ${blocks.length}`);
  }
  return blocks[0][1];
}

function sh(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
}

function main(): number {
  const root = process.cwd();
  const scratch = mkdtempSync(join(tmpdir(), "kn-sock-pubsub-smoke-"));
  let passed = 0;
  let failed = 0;
  const check = (name: string, body: () => string): void => {
    try {
      const output = body().trim();
      console.log(`ok - ${name}${output ? `\n${output}` : ""}`);
      passed++;
    } catch (error) {
      console.log(`not ok - ${name}: ${(error as Error).message}`);
      failed++;
    }
  };
  try {
    const tarball = sh(
      "npm",
      ["pack", resolve(root, "npm"), "--pack-destination", scratch],
      scratch,
    )
      .trim().split("\n").pop()!;
    // What `npm init -y` writes: a CommonJS project, where ESM files need `.mjs`.
    writeFileSync(
      join(scratch, "package.json"),
      JSON.stringify({ name: "smoke", version: "1.0.0", type: "commonjs", private: true }),
    );
    writeFileSync(join(scratch, "smoke.mjs"), SMOKE);
    writeFileSync(join(scratch, "example.mjs"), nodeExample(resolve(root, "npm/README.md")));
    check(
      "the packed tarball installs",
      () => sh("npm", ["install", "--no-audit", "--no-fund", "--offline", `./${tarball}`], scratch),
    );
    check("it imports and serves on Node", () => sh("node", ["smoke.mjs"], scratch));
    check(
      "it imports and serves on Bun",
      () => sh(resolve(root, "node_modules/.bin/bun"), ["smoke.mjs"], scratch),
    );
    check("the npm README's Node example runs as example.mjs in a CommonJS project", () => {
      const printed = sh("node", ["example.mjs"], scratch);
      if (!printed.includes("hello from Node")) throw new Error(`printed "${printed}"`);
      return printed;
    });
    check("its kn-sock-pubsub bin runs on Node", () => {
      const version = sh("node_modules/.bin/kn-sock-pubsub", ["--version"], scratch).trim();
      if (!/^\d+\.\d+\.\d+ \(node /.test(version)) throw new Error(`printed "${version}"`);
      return `kn-sock-pubsub --version: ${version}`;
    });
    check("npx @kn-sock/pubsub runs the bin", () => {
      const version = sh("npx", ["--offline", "@kn-sock/pubsub", "--version"], scratch).trim();
      if (!/^\d+\.\d+\.\d+ \(node /.test(version)) throw new Error(`printed "${version}"`);
      return `npx @kn-sock/pubsub --version: ${version}`;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = main();
