/**
 * Makes the README's screenshot of the monitoring dashboard,
 * `docs/images/dashboard.png`: a server with the monitor on, about forty
 * seconds of traffic whose rate rises and falls, subscribers on a few
 * patterns, a subscriber that never reads (its messages are dropped, then it
 * is disconnected as a slow consumer), and the page in headless Chromium.
 *
 * Run: `node_modules/.bin/deno run -A scripts/dashboard_screenshot.ts [out.png]`
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { buildDashboardAssets } from "./build_browser.ts";

const out = process.argv[2] ?? "docs/images/dashboard.png";
const SECONDS = 40;

const dir = mkdtempSync(join(tmpdir(), "dashboard-shot-"));
buildDashboardAssets(dir);
const assets = {
  "uplot.js": readFileSync(join(dir, "uplot.js"), "utf8"),
  "uplot.css": readFileSync(join(dir, "uplot.css"), "utf8"),
};
rmSync(dir, { recursive: true, force: true });

const server = await startPubSubServer({
  port: 0,
  limits: { maxOutboundBytes: 256 * 1024 },
  monitor: { port: 0, assets: (name) => assets[name] },
});
const port = server.addr.port;
const clients: PubSubClient[] = [];
async function client(name: string, ...patterns: string[]): Promise<PubSubClient> {
  const c = await PubSubClient.connect("127.0.0.1", port, { hello: { name } });
  for (const pattern of patterns) await c.subscribe(pattern);
  await c.flush();
  clients.push(c);
  return c;
}
const publisher = await client("sensor-gateway");
const alerts = await client("alerting");
await client("dashboard-feed", "sensors/#");
await client("kitchen-display", "sensors/kitchen/+");
await client("archiver", "sensors/#", "alerts/#");
await client("alert-pager", "alerts/#");
for (let i = 0; i < 3; i++) {
  const worker = await PubSubClient.connect("127.0.0.1", port, { hello: { name: `worker-${i}` } });
  await worker.subscribe("jobs/+", { group: "workers" });
  clients.push(worker);
}

// Subscribers that never read: one whose deliveries are dropped, one disconnected.
const stalled = [];
for (const policy of ["drop-newest", "disconnect"]) {
  const socket = connect(port, "127.0.0.1");
  socket.pause();
  socket.write(JSON.stringify({ action: "subscribe", topic: "bulk/#", policy }) + "\n");
  stalled.push(socket);
}

const page = `${server.monitorUrl}/`;
const { chromium } = await import("playwright-core");
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--headless", "--disable-dev-shm-usage"],
});
const tab = await browser.newPage({ viewport: { width: 1200, height: 820 } });
await tab.goto(page);
await tab.waitForSelector("body[data-ready='true']");

const bulk = "x".repeat(4096);
for (let second = 0; second < SECONDS; second++) {
  const rate = Math.round(300 + 250 * Math.sin(second / 5) + (second > 25 ? 400 : 0));
  const started = Date.now();
  for (let i = 0; i < rate; i++) {
    void publisher.publish(`sensors/${i % 3 === 0 ? "kitchen" : "garage"}/t${i % 5}`, { v: i });
    if (i % 10 === 0) void publisher.publish(`jobs/${i % 4}`, { job: i });
    if (second > 10 && i % 4 === 0) void publisher.publish("bulk/data", bulk);
  }
  if (second % 7 === 0) void alerts.publish("alerts/temperature", { level: "warn", second });
  await publisher.flush();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
}
await tab.waitForSelector("#topics tbody tr");
writeFileSync(out, await tab.screenshot({ type: "png", fullPage: true }));
console.log(`dashboard_screenshot: ${out}`);
await browser.close();
for (const socket of stalled) socket.destroy();
await Promise.all(clients.map((c) => c.close()));
await server.close();
