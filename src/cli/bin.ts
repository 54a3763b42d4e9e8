#!/usr/bin/env node
/**
 * The `kn-sock-pubsub` command of the npm package (`npx @kn-sock/pubsub`,
 * or `kn-sock-pubsub` once installed). It runs on the runtime that starts
 * it: the shebang picks Node, `bunx --bun @kn-sock/pubsub` runs it on Bun,
 * `deno run --allow-net npm:@kn-sock/pubsub/...` on Deno. The program
 * itself is `main()` in `main.ts`, which `@kn-sock/pubsub/cli` exports.
 *
 * @module
 */

import process from "node:process";
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
