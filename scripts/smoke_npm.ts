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
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
    writeFileSync(
      join(scratch, "package.json"),
      JSON.stringify({ name: "smoke", private: true, type: "module" }),
    );
    writeFileSync(join(scratch, "smoke.js"), SMOKE);
    check(
      "the packed tarball installs",
      () => sh("npm", ["install", "--no-audit", "--no-fund", "--offline", `./${tarball}`], scratch),
    );
    check("it imports and serves on Node", () => sh("node", ["smoke.js"], scratch));
    check(
      "it imports and serves on Bun",
      () => sh(resolve(root, "node_modules/.bin/bun"), ["smoke.js"], scratch),
    );
    check("its kn-sock-pubsub bin runs on Node", () => {
      const version = sh("node_modules/.bin/kn-sock-pubsub", ["--version"], scratch).trim();
      if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`printed "${version}"`);
      return `kn-sock-pubsub --version: ${version}`;
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = main();
