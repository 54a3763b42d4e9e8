/**
 * The monitoring dashboard in a real headless Chromium (Debian's, driven by
 * `playwright-core`): the page loads its script and uPlot from the
 * monitor, its charts move while a client publishes, its figures are the
 * ones `/varz` gives, the tables list connections and topics, and its
 * screenshot is not blank. With a token the page takes it from its URL's
 * fragment.
 * (`scripts/dashboard_screenshot.ts` makes the README's screenshot.)
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
import type { DashboardAsset } from "../src/server/monitor/monitor_options.ts";
import { buildDashboardAssets } from "../scripts/build_browser.ts";
import { subscribed } from "./helpers.ts";
import { summarizePng } from "./_png.ts";

const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
const required = process.env.CI === "true";
const skip = !present && !required ? `${CHROMIUM} is missing (apt-get install -y chromium)` : false;

/** uPlot as the build makes it, built fresh. */
function chartAssets(): Record<DashboardAsset, string> {
  const dir = mkdtempSync(join(tmpdir(), "dashboard-assets-"));
  try {
    buildDashboardAssets(dir);
    return {
      "uplot.js": readFileSync(join(dir, "uplot.js"), "utf8"),
      "uplot.css": readFileSync(join(dir, "uplot.css"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function launch() {
  assert.ok(present, `${CHROMIUM} is missing and CI=true: apt-get install -y chromium`);
  const { chromium } = await import("playwright-core");
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--headless", "--disable-dev-shm-usage"],
  });
}

test("the dashboard in Chromium charts live traffic and shows the figures of /varz", {
  skip,
}, async () => {
  const assets = chartAssets();
  const browser = await launch();
  let server: PubSubServer | undefined;
  const clients: PubSubClient[] = [];
  try {
    server = await startPubSubServer({
      port: 0,
      monitor: { port: 0, assets: (name) => assets[name] },
    });
    const connect = async (name: string) => {
      const client = await PubSubClient.connect("127.0.0.1", server!.addr.port, {
        hello: { name },
      });
      clients.push(client);
      return client;
    };
    const publisher = await connect("publisher");
    await subscribed(await connect("all-sensors"), "sensors/#");
    await subscribed(await connect("kitchen"), "sensors/kitchen/+");
    await subscribed(await connect("alerts"), "alerts/#");

    const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`${server.monitorUrl}/`);
    await page.waitForSelector("body[data-ready='true']");
    assert.equal(await page.locator(".chart canvas").count() >= 3, true, "uPlot drew no chart");
    assert.equal(await page.getAttribute("#fig-connections", "data-value"), "4");

    // Publish a batch per snapshot until the rate chart has plotted traffic.
    let published = 0;
    const snapshots = async () => Number(await page.getAttribute("body", "data-snapshots") ?? 0);
    const pointsBefore = Number(await page.getAttribute("#chart-rates", "data-points") ?? 0);
    for (let round = 0; round < 30; round++) {
      const seen = await snapshots();
      for (let i = 0; i < 200; i++) {
        await publisher.publish(`sensors/kitchen/t${i % 4}`, { reading: round * 200 + i });
        published++;
      }
      await publisher.flush();
      // The next snapshot (a selector: the page's CSP forbids evaluating strings).
      await page.waitForSelector(`body[data-snapshots]:not([data-snapshots='${seen}'])`);
      if (Number(await page.getAttribute("#chart-rates", "data-max-in")) > 0) break;
    }
    assert.ok(
      Number(await page.getAttribute("#chart-rates", "data-max-in")) > 0,
      "no rate plotted",
    );
    const pointsAfter = Number(await page.getAttribute("#chart-rates", "data-points"));
    assert.ok(
      pointsAfter > pointsBefore,
      `the chart did not move: ${pointsBefore} → ${pointsAfter}`,
    );

    // Quiet now: the next snapshots carry the final counts, the ones /varz gives.
    await page.waitForSelector(`#fig-messages-in[data-value='${published}']`);
    const varz = await (await fetch(`${server.monitorUrl}/varz`)).json();
    assert.equal(varz.messages.in, published);
    const figures: [string, number][] = [
      ["#fig-messages-in", varz.messages.in],
      ["#fig-messages-out", varz.messages.out],
      ["#fig-connections", varz.connections.current],
      ["#fig-subscriptions", varz.subscriptions],
      ["#fig-slow-consumers", varz.slowConsumers.disconnected],
      ["#fig-dropped", varz.dropped.total],
    ];
    await page.waitForSelector(`#fig-messages-out[data-value='${varz.messages.out}']`);
    for (const [selector, value] of figures) {
      assert.equal(await page.textContent(selector), value.toLocaleString("en-US"), selector);
    }
    assert.equal(varz.messages.out, published * 2); // sensors/# and sensors/kitchen/+

    await page.waitForSelector("#connections tbody tr:has-text('all-sensors')");
    assert.equal(await page.locator("#connections tbody tr").count(), 4);
    await page.waitForSelector("#topics tbody tr:has-text('sensors/kitchen/+')");

    const png = await page.screenshot({ type: "png", fullPage: true });
    const summary = summarizePng(new Uint8Array(png));
    assert.equal(summary.width, 1200);
    assert.ok(summary.colours > 32, `${summary.colours} colours: the page is blank`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await Promise.all(clients.map((client) => client.close()));
    await server?.close();
  }
});

test("the dashboard takes its token from the URL's fragment, and asks for one without", {
  skip,
}, async () => {
  const browser = await launch();
  const server = await startPubSubServer({ port: 0, monitor: { port: 0, token: "open-sesame" } });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`${server.monitorUrl}/`);
    await page.waitForSelector("body[data-auth='needed'] #token-form");
    assert.equal(await page.getAttribute("#status", "data-state"), "error");

    await page.goto(`${server.monitorUrl}/dashboard#token=open-sesame`);
    await page.waitForSelector("body[data-ready='true']");
    await page.waitForSelector("#status[data-state='live']");
    // Without the chart library the figures still come, and the page says why.
    assert.equal(await page.getAttribute("#fig-connections", "data-value"), "0");
    assert.match(await page.textContent("#note") ?? "", /Charts are off/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
