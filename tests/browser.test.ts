/**
 * The browser client in a real headless Chromium (Debian's, driven by
 * `playwright-core`, which downloads nothing): the demo page and the
 * bundled client come from a test HTTP server whose WebSocket route relays
 * to a TCP server. In the page the client subscribes, receives what a TCP
 * client publishes, publishes back, reconnects after the relay restarts,
 * and the page's screenshot is not blank.
 *
 * Without `/usr/bin/chromium` the test is skipped, unless `CI=true`, where
 * it fails (`apt-get install -y chromium`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { PubSubClient, type PubSubServer, startPubSubServer } from "../mod.ts";
import { demoPage } from "../src/demo/demo_page.ts";
import { buildBrowser } from "../scripts/build_browser.ts";
import { subscribed, take } from "./helpers.ts";
import { summarizePng } from "./_png.ts";
import { type Relay, startRelay } from "./websocket_relay.ts";
import { RUNTIMES, startCliServer, webSocketBanner } from "./cli_processes.ts";

const CHROMIUM = "/usr/bin/chromium";
const matrix = process.env.KN_SOCK_MATRIX === "1";
const present = existsSync(CHROMIUM);
const required = process.env.CI === "true";

/** The bundle, built fresh from `src/browser.ts`. */
function bundle(): string {
  const dir = mkdtempSync(join(tmpdir(), "browser-bundle-"));
  try {
    const out = join(dir, "pubsub.js");
    buildBrowser(out);
    return readFileSync(out, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the demo page in Chromium subscribes, receives, publishes back and reconnects", {
  skip: !present && !required ? `${CHROMIUM} is missing (apt-get install -y chromium)` : false,
}, async () => {
  assert.ok(present, `${CHROMIUM} is missing and CI=true: apt-get install -y chromium`);
  const { chromium } = await import("playwright-core");
  const script = bundle();
  const fetch = demoPage({ clientScript: () => script });
  const serve = (request: Request) => fetch(request) ?? new Response("Not Found", { status: 404 });
  let server: PubSubServer | undefined;
  let relay: Relay | undefined;
  let tcp: PubSubClient | undefined;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless", "--disable-dev-shm-usage"],
  });
  try {
    server = await startPubSubServer({ host: "127.0.0.1", port: 0 });
    relay = await startRelay(server.addr.port, { fetch: serve });
    tcp = await PubSubClient.connect("127.0.0.1", server.addr.port, { hello: true });
    await subscribed(tcp, "back/#");
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`http://127.0.0.1:${relay.port}/`);
    await page.waitForSelector("body[data-ready='true']");
    assert.equal(await page.textContent("#status"), "Connected");

    await tcp.publish("demo/greeting", "hello, browser");
    await page.waitForSelector("#log li:has-text('hello, browser')");

    await page.fill("#topic", "back/1");
    await page.fill("#message", '{"from":"chromium"}');
    await page.click("#publish button");
    const [reply] = await take(tcp, 1);
    assert.deepEqual(reply, { topic: "back/1", message: { from: "chromium" }, seq: reply.seq });

    // A page has no TCP: connecting by host and port says so.
    // (A string: a function would be compiled, and its import() rewritten, for Node.)
    const refusal = await page.evaluate<string>(`import("/pubsub.js")
      .then((client) => client.PubSubClient.connect("127.0.0.1", 1))
      .then(() => "connected", (error) => error.name + ": " + error.message)`);
    assert.match(refusal, /^TypeError: No TCP transport can be loaded here/);

    const png = await page.screenshot({ type: "png" });
    const summary = summarizePng(new Uint8Array(png));
    assert.deepEqual([summary.width, summary.height], [1000, 700]);
    assert.ok(summary.colours > 16, `${summary.colours} colours: the page is blank`);

    // The relay restarts: the page reconnects and resubscribes.
    const port = relay.port;
    await relay.close();
    await page.waitForSelector("#status:not([data-state='connected'])");
    relay = await startRelay(server.addr.port, { port, fetch: serve });
    await page.waitForSelector("#status[data-state='connected']");
    await tcp.publish("demo/again", "after the restart");
    await page.waitForSelector("#log li:has-text('after the restart')");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await tcp?.close();
    await relay?.close();
    await server?.close();
  }
});

test(
  "the demo page of `serve --ws-port` on Deno, Bun and Node works in Chromium, across a restart",
  {
    skip: !matrix
      ? "set KN_SOCK_MATRIX=1 (the README's test command does, once)"
      : !present && !required
      ? `${CHROMIUM} is missing (apt-get install -y chromium)`
      : false,
  },
  async () => {
    assert.ok(present, `${CHROMIUM} is missing and CI=true: apt-get install -y chromium`);
    assert.ok(existsSync("npm/browser/pubsub.js"), "run the npm build first (npm test does)");
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--headless", "--disable-dev-shm-usage"],
    });
    try {
      for (const runtime of RUNTIMES) {
        let server = await startCliServer(runtime, ["serve", "--port", "0", "--ws-port", "0"]);
        const wsPort = new URL(await webSocketBanner(server.child)).port;
        const tcpPort = String(server.port);
        let tcp: PubSubClient | undefined;
        const page = await browser.newPage();
        try {
          const errors: string[] = [];
          page.on("pageerror", (error: unknown) => errors.push(String(error)));
          await page.goto(`http://127.0.0.1:${wsPort}/`);
          await page.waitForSelector("#status[data-state='connected']");
          tcp = await PubSubClient.connect("127.0.0.1", server.port, { hello: true });
          await subscribed(tcp, "back/#");
          await tcp.publish("demo/greeting", `hello from TCP on ${runtime}`);
          await page.waitForSelector(`#log li:has-text('hello from TCP on ${runtime}')`);
          await page.fill("#topic", "back/1");
          await page.fill("#message", JSON.stringify({ from: "chromium", to: runtime }));
          await page.click("#publish button");
          const [reply] = await take(tcp, 1);
          assert.deepEqual(reply.message, { from: "chromium", to: runtime });
          const shot = summarizePng(new Uint8Array(await page.screenshot({ type: "png" })));
          assert.ok(shot.colours > 16, `${shot.colours} colours: the page on ${runtime} is blank`);

          // The server restarts on the same ports: the page reconnects and resubscribes.
          await tcp.close();
          tcp = undefined;
          await server.child.stop("SIGTERM");
          await page.waitForSelector("#status:not([data-state='connected'])");
          server = await startCliServer(runtime, ["serve", "--port", tcpPort, "--ws-port", wsPort]);
          await webSocketBanner(server.child);
          await page.waitForSelector("#status[data-state='connected']");
          tcp = await PubSubClient.connect("127.0.0.1", server.port);
          await tcp.publish("demo/again", `after the restart on ${runtime}`);
          await page.waitForSelector(`#log li:has-text('after the restart on ${runtime}')`);
          assert.deepEqual(errors, []);
        } finally {
          await page.close();
          await tcp?.close();
          await server.child.stop("SIGTERM");
        }
      }
    } finally {
      await browser.close();
    }
  },
);
