/**
 * The dashboard page's HTML and style, as text (the script is in
 * `_dashboard_script.ts`). Plain HTML that loads `./dashboard.js`, and the
 * chart library from `./uplot.js` and `./uplot.css` on the same server.
 *
 * @module
 */

const STYLE = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6478; --line: #d9deea; --bg: #f5f7fb;
  --card: #fff; --in: #2563eb; --out: #059669; --warn: #d97706; --bad: #dc2626; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1.5rem; padding: .8rem 1.2rem;
  background: #1d2433; color: #fff; }
header h1 { font-size: 1.15rem; margin: 0; }
header h1 span { font-weight: normal; color: #aab3c5; }
#server { color: #cdd4e3; margin: 0; }
#status { margin: 0 0 0 auto; padding: .1rem .6rem; border-radius: 1rem; background: #3b4357; }
#status[data-state="live"] { background: var(--out); }
#status[data-state="error"] { background: var(--bad); }
main { padding: 1rem 1.2rem; display: grid; gap: 1rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr)); gap: .6rem; }
.figure { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .5rem .7rem; }
.figure b { display: block; font-size: 1.35rem; font-variant-numeric: tabular-nums; }
.figure span { color: var(--muted); font-size: .8rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: .6rem; }
.chart { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .5rem;
  min-height: 12rem; }
.chart h2, .table h2 { font-size: .9rem; margin: 0 0 .3rem; color: var(--muted); }
.tables { display: grid; grid-template-columns: 2fr 1fr; gap: .6rem; }
.table { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .5rem;
  overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.n, th.n { text-align: right; }
#token-form { display: none; gap: .5rem; align-items: center; }
body[data-auth="needed"] #token-form { display: flex; }
.note { color: var(--muted); }
`;

/** The dashboard page. */
export const DASHBOARD_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kn-sock pub/sub: monitor</title>
<link rel="stylesheet" href="./uplot.css">
<style>${STYLE}</style>
<script type="module" src="./dashboard.js"></script>
</head>
<body>
<header>
  <h1>kn-sock pub/sub <span>monitor</span></h1>
  <p id="server">…</p>
  <p id="status" role="status" data-state="connecting">Connecting…</p>
</header>
<main>
  <form id="token-form">
    <label for="token">This monitor needs a token:</label>
    <input id="token" type="password" autocomplete="off" required>
    <button type="submit">Open</button>
  </form>
  <section class="figures" aria-label="Figures">
    <div class="figure"><b id="fig-connections">–</b><span>connections</span></div>
    <div class="figure"><b id="fig-in-rate">–</b><span>messages in / s</span></div>
    <div class="figure"><b id="fig-out-rate">–</b><span>deliveries out / s</span></div>
    <div class="figure"><b id="fig-messages-in">–</b><span>messages in</span></div>
    <div class="figure"><b id="fig-messages-out">–</b><span>deliveries out</span></div>
    <div class="figure"><b id="fig-subscriptions">–</b><span>subscriptions</span></div>
    <div class="figure"><b id="fig-slow-consumers">–</b><span>slow consumers</span></div>
    <div class="figure"><b id="fig-dropped">–</b><span>messages dropped</span></div>
  </section>
  <section class="charts" aria-label="Charts">
    <div class="chart" id="chart-rates"><h2>Messages per second (in, out)</h2></div>
    <div class="chart" id="chart-connections"><h2>Connections</h2></div>
    <div class="chart" id="chart-slow"><h2>Slow consumers and drops (since start)</h2></div>
  </section>
  <section class="tables">
    <div class="table">
      <h2>Busiest connections (by bytes out)</h2>
      <table id="connections">
        <thead><tr><th class="n">id</th><th>remote</th><th>via</th><th>name</th><th>user</th>
        <th class="n">subs</th><th class="n">bytes in</th><th class="n">bytes out</th>
        <th class="n">pending</th><th class="n">idle s</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <div class="table">
      <h2>Topics with the most subscribers</h2>
      <table id="topics">
        <thead><tr><th>pattern</th><th class="n">subscribers</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <p class="note" id="note"></p>
</main>
</body>
</html>
`;
