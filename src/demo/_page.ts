/**
 * The demo page's HTML, style and script, as text. The script is plain
 * JavaScript run by the browser; it imports the client from `./pubsub.js`.
 *
 * @module
 */

/** Escapes text for an HTML attribute or element. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page, connecting to `webSocketPath` on its own host. */
export function pageHtml(webSocketPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="pubsub-path" content="${escapeHtml(webSocketPath)}">
<title>kn-sock pub/sub: live demo</title>
<style>${STYLE}</style>
<script type="module" src="./demo.js"></script>
</head>
<body>
<header>
  <h1>kn-sock pub/sub <span>live demo</span></h1>
  <p id="status" role="status" data-state="connecting">Connecting…</p>
</header>
<main>
  <section aria-labelledby="sub-title">
    <h2 id="sub-title">Subscribe</h2>
    <form id="subscribe">
      <label for="pattern">Topic pattern (<code>+</code> one level, <code>#</code> the rest)</label>
      <div class="row">
        <input id="pattern" name="pattern" value="demo/#" required autocomplete="off">
        <button type="submit">Subscribe</button>
      </div>
    </form>
    <ul id="subscriptions" aria-label="Subscriptions"></ul>
  </section>
  <section aria-labelledby="pub-title">
    <h2 id="pub-title">Publish</h2>
    <form id="publish">
      <label for="topic">Topic</label>
      <input id="topic" name="topic" value="demo/hello" required autocomplete="off">
      <label for="message">Message</label>
      <div class="row">
        <input id="message" name="message" value="Hello from the browser" autocomplete="off">
        <button type="submit">Publish</button>
      </div>
    </form>
  </section>
  <section class="wide" aria-labelledby="log-title">
    <h2 id="log-title">Messages</h2>
    <ol id="log" aria-live="polite"></ol>
    <p id="empty">No messages yet: publish one, or from a terminal run
      <code>kn-sock-pubsub pub demo/hello hi</code>.</p>
  </section>
</main>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light dark; --accent: #2563eb; --muted: #6b7280; --line: #d1d5db;
  font: 16px/1.5 system-ui, sans-serif; }
body { margin: 0 auto; max-width: 60rem; padding: 1.5rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h1 span { color: var(--muted); font-weight: normal; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
main { display: grid; gap: 1rem; grid-template-columns: 1fr 1fr; }
@media (max-width: 40rem) { main { grid-template-columns: 1fr; } }
section { border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; }
.wide { grid-column: 1 / -1; }
label { display: block; font-size: .9rem; margin: .5rem 0 .25rem; }
.row { display: flex; gap: .5rem; }
input { flex: 1; font: inherit; padding: .4rem .6rem; border: 1px solid var(--line);
  border-radius: .35rem; min-width: 0; width: 100%; box-sizing: border-box; }
button { font: inherit; padding: .4rem .9rem; border: 0; border-radius: .35rem;
  background: var(--accent); color: white; cursor: pointer; }
button:focus-visible, input:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button.link { background: none; color: var(--accent); padding: 0 .25rem; }
#status { margin: 0; padding: .2rem .7rem; border-radius: 1rem; font-size: .9rem;
  background: #fef3c7; color: #92400e; }
#status[data-state="connected"] { background: #dcfce7; color: #166534; }
#status[data-state="failed"] { background: #fee2e2; color: #991b1b; }
ul { list-style: none; padding: 0; margin: .75rem 0 0; }
#subscriptions { display: flex; flex-wrap: wrap; gap: .5rem; }
#subscriptions li { display: inline-flex; align-items: center;
  padding: .1rem .2rem .1rem .6rem; border: 1px solid var(--line); border-radius: 1rem; }
ol { list-style: none; padding: 0; margin: 0; max-height: 24rem; overflow-y: auto; }
#log li { display: grid; grid-template-columns: auto auto 1fr; gap: .75rem; padding: .35rem 0;
  border-top: 1px solid var(--line); font-family: ui-monospace, monospace; font-size: .9rem; }
#log time { color: var(--muted); }
#log .topic { color: var(--accent); }
#log .message { overflow-wrap: anywhere; }
#empty { color: var(--muted); margin: 0; }
#log:not(:empty) + #empty { display: none; }
`;

/** The page's script: connect, show the status, subscribe, publish, list what arrives. */
export const DEMO_SCRIPT = `import { PubSubClient } from "./pubsub.js";

const $ = (id) => document.getElementById(id);
const status = $("status");
const path = document.querySelector('meta[name="pubsub-path"]').content;
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
const MAX_LOG = 200;

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON: send it as a string
  }
}

function log({ topic, message }) {
  const item = document.createElement("li");
  const time = document.createElement("time");
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  const name = document.createElement("span");
  name.className = "topic";
  name.textContent = topic;
  const body = document.createElement("span");
  body.className = "message";
  body.textContent = typeof message === "string" ? message : JSON.stringify(message);
  item.append(time, name, body);
  const list = $("log");
  list.prepend(item);
  while (list.children.length > MAX_LOG) list.lastElementChild.remove();
}

function listSubscription(client, pattern) {
  const item = document.createElement("li");
  item.dataset.pattern = pattern;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "link";
  remove.textContent = "×";
  remove.setAttribute("aria-label", "Unsubscribe from " + pattern);
  remove.addEventListener("click", async () => {
    await client.unsubscribe(pattern);
    item.remove();
  });
  item.append(pattern, remove);
  $("subscriptions").append(item);
}

async function watch(client) {
  for await (const event of client.status()) {
    if (event.type === "connect") show("connected", "Connected");
    else if (event.type === "disconnect") show("connecting", "Connection lost");
    else if (event.type === "reconnect") show("connecting", "Reconnecting (attempt " + event.attempt + ")…");
    else if (event.type === "close") show("failed", "Closed");
  }
}

async function main() {
  let client;
  try {
    client = await PubSubClient.connect(url, { hello: { name: "demo page" } });
  } catch (error) {
    show("failed", "Could not connect to " + url + ": " + error.message);
    return;
  }
  show("connected", "Connected");
  window.demoClient = client;
  void watch(client);
  $("subscribe").addEventListener("submit", async (event) => {
    event.preventDefault();
    const pattern = $("pattern").value.trim();
    if (client.subscriptions.has(pattern)) return;
    try {
      await client.subscribe(pattern);
      listSubscription(client, pattern);
    } catch (error) {
      show(status.dataset.state, error.message);
    }
  });
  $("publish").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await client.publish($("topic").value.trim(), parse($("message").value));
    } catch (error) {
      show(status.dataset.state, error.message);
    }
  });
  await client.subscribe("demo/#");
  listSubscription(client, "demo/#");
  document.body.dataset.ready = "true";
  for await (const message of client) log(message);
}

void main();
`;
