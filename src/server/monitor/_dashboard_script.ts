/**
 * The dashboard page's script, as text: plain JavaScript for the browser.
 * It reads `/varz` once, then the `/events` stream (with `fetch`, so that a
 * token can travel in the `Authorization` header), draws the charts with
 * uPlot when `./uplot.js` loads, and fills the figures and tables.
 *
 * @module
 */

/** The dashboard's script. */
export const DASHBOARD_SCRIPT: string = `
const $ = (id) => document.getElementById(id);
const status = $("status");
const format = (n) => Number(n).toLocaleString("en-US");
const bytes = (n) => n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB"
  : (n / 1048576).toFixed(1) + " MiB";

function tokenFromPage() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) sessionStorage.setItem("kn-sock-monitor-token", decodeURIComponent(match[1]));
  return sessionStorage.getItem("kn-sock-monitor-token");
}
let token = tokenFromPage();
const headers = () => token ? { authorization: "Bearer " + token } : {};

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function setFigure(id, value, text) {
  const el = $(id);
  el.dataset.value = String(value);
  el.textContent = text ?? format(value);
}

function showVarz(v) {
  $("server").textContent = "v" + v.version + " on " + v.runtime.name + " " + v.runtime.version +
    ", " + v.listeners.tcp + ", up " + v.uptimeSeconds + " s";
  setFigure("fig-connections", v.connections.current);
  setFigure("fig-in-rate", v.rates.messagesIn);
  setFigure("fig-out-rate", v.rates.messagesOut);
  setFigure("fig-messages-in", v.messages.in);
  setFigure("fig-messages-out", v.messages.out);
  setFigure("fig-subscriptions", v.subscriptions);
  setFigure("fig-slow-consumers", v.slowConsumers.disconnected);
  setFigure("fig-dropped", v.dropped.total);
  document.body.dataset.messagesIn = String(v.messages.in);
}

function cell(text, numeric) {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "n";
  return td;
}

function fillTable(id, rows, columns) {
  const body = $(id).tBodies[0];
  body.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    tr.append(...columns.map(([get, numeric]) => cell(get(row), numeric)));
    return tr;
  }));
}

function showConnections(rows) {
  fillTable("connections", rows, [
    [(r) => String(r.id), true], [(r) => r.remote], [(r) => r.transport + (r.tls ? "+tls" : "")],
    [(r) => r.name ?? ""], [(r) => r.user ?? ""], [(r) => format(r.subscriptions), true],
    [(r) => bytes(r.bytesIn), true], [(r) => bytes(r.bytesOut), true],
    [(r) => bytes(r.pendingBytes), true], [(r) => (r.idleMs / 1000).toFixed(0), true],
  ]);
}

function showTopics(rows) {
  fillTable("topics", rows, [[(r) => r.pattern], [(r) => format(r.subscribers), true]]);
}

// The charts' data: time in seconds, then the series.
const LIMIT = 300;
const series = { t: [], in: [], out: [], connections: [], slow: [], dropped: [] };
const charts = [];

function addPoint(p) {
  series.t.push(p.t / 1000);
  series.in.push(p.in);
  series.out.push(p.out);
  series.connections.push(p.connections);
  series.slow.push(p.slowConsumers);
  series.dropped.push(p.dropped);
  if (series.t.length > LIMIT) for (const list of Object.values(series)) list.shift();
}

function redraw() {
  for (const chart of charts) chart.plot.setData(chart.data());
  const box = $("chart-rates");
  box.dataset.points = String(series.t.length);
  box.dataset.lastIn = String(series.in.at(-1) ?? 0);
  box.dataset.maxIn = String(Math.max(0, ...series.in));
}

async function makeCharts() {
  let uPlot;
  try {
    uPlot = (await import("./uplot.js")).default;
  } catch {
    $("note").textContent = "Charts are off: the chart library (uplot.js) is not served here.";
    return;
  }
  const make = (id, names, colours, data) => {
    const box = $(id);
    const width = Math.max(260, box.clientWidth - 16);
    const plot = new uPlot({
      width,
      height: 170,
      scales: { x: { time: true } },
      series: [{}, ...names.map((label, i) => ({ label, stroke: colours[i], width: 2 }))],
      axes: [{}, { size: 60 }],
      legend: { live: false },
    }, data(), box);
    charts.push({ plot, data });
  };
  make("chart-rates", ["in/s", "out/s"], ["#2563eb", "#059669"],
    () => [series.t, series.in, series.out]);
  make("chart-connections", ["connections"], ["#7c3aed"],
    () => [series.t, series.connections]);
  make("chart-slow", ["slow consumers", "dropped"], ["#d97706", "#dc2626"],
    () => [series.t, series.slow, series.dropped]);
}

function onEvent(name, data) {
  if (name === "history") {
    for (const p of data.points) addPoint(p);
  } else if (name === "snapshot") {
    addPoint(data.point);
    showVarz(data.varz);
    showConnections(data.connections);
    if (data.topics) showTopics(data.topics);
    document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots ?? 0) + 1);
  }
  redraw();
}

async function readEvents() {
  const response = await fetch("./events", { headers: headers() });
  if (!response.ok) throw new Error("/events answered " + response.status);
  setStatus("live", "Live");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    let end;
    while ((end = text.indexOf("\\n\\n")) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      let name = "message";
      let data = "";
      for (const line of block.split("\\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data !== "") onEvent(name, JSON.parse(data));
    }
  }
}

async function start() {
  const response = await fetch("./varz", { headers: headers() });
  if (response.status === 401) {
    document.body.dataset.auth = "needed";
    setStatus("error", "Token needed");
    return;
  }
  document.body.dataset.auth = "ok";
  showVarz(await response.json());
  await makeCharts();
  document.body.dataset.ready = "true";
  for (;;) {
    try {
      await readEvents();
      setStatus("connecting", "Stream ended, reconnecting…");
    } catch (error) {
      setStatus("error", "Disconnected: " + error.message);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value;
  sessionStorage.setItem("kn-sock-monitor-token", token);
  location.reload();
});

start().catch((error) => setStatus("error", String(error)));
`;
