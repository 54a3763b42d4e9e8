import { test } from "node:test";
import assert from "node:assert/strict";
import { demoPage } from "../src/demo/demo_page.ts";

const at = (path: string, method = "GET") =>
  new Request(`http://127.0.0.1:8081${path}`, { method });

test("demoPage() serves the page, its script and the client; null for other paths", async () => {
  let loads = 0;
  const page = demoPage({
    webSocketPath: "/pubsub?x=1",
    clientScript: () => `// client ${++loads}`,
  });
  const html = await page(at("/"))!;
  assert.equal(html.status, 200);
  assert.equal(html.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(await html.text(), /<meta name="pubsub-path" content="\/pubsub\?x=1">/);
  assert.match(await (await page(at("/demo.js"))!).text(), /from "\.\/pubsub\.js"/);
  assert.equal(await (await page(at("/pubsub.js"))!).text(), "// client 1");
  assert.equal(await (await page(at("/pubsub.js"))!).text(), "// client 1", "loaded once");
  assert.equal(page(at("/healthz")), null);
  assert.equal(page(at("/ws")), null);
  assert.equal((await page(at("/", "POST"))!).status, 405);
});

test("demoPage() answers 503 when the client cannot be loaded, and tries again next time", async () => {
  let fail = true;
  const page = demoPage({
    clientScript: () => {
      if (fail) throw new Error("no bundle");
      return "// client";
    },
  });
  assert.equal((await page(at("/pubsub.js"))!).status, 503);
  fail = false;
  assert.equal(await (await page(at("/pubsub.js"))!).text(), "// client");
});

test("demoPage() escapes the path in the page and refuses one without a leading slash", async () => {
  const page = demoPage({ webSocketPath: '/"><script>', clientScript: () => "" });
  assert.doesNotMatch(await (await page(at("/"))!).text(), /"><script>/);
  assert.throws(() => demoPage({ webSocketPath: "ws", clientScript: () => "" }), TypeError);
  assert.throws(() => demoPage({} as never), TypeError);
});
