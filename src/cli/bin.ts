#!/usr/bin/env node
/**
 * The `kn-sock-pubsub` command. Run it with
 * `deno run --allow-net jsr:@kn-sock/pubsub/cli serve` (add `--allow-read`
 * for the `--tls-*` files), or `npx kn-sock-pubsub serve` from the npm
 * package.
 *
 * @module
 */

import process from "node:process";
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
