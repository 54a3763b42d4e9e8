/**
 * Holds docs/MONITORING.md to the code: its endpoint table is
 * `MONITOR_ENDPOINTS`, its metric table is `METRIC_FAMILIES` (name, type,
 * labels, help), and its `/varz` and `/connz` tables name exactly the
 * fields a live server answers with.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { PubSubClient, startPubSubServer } from "../mod.ts";
import { METRIC_FAMILIES } from "../src/server/monitor/metrics.ts";
import { MONITOR_ENDPOINTS } from "../src/server/monitor/monitor.ts";

// Read from the working directory, the repository root (see tests/operations_doc.test.ts).
const doc = readFileSync("docs/MONITORING.md", "utf8");

/** The cells of the table under `heading`, after its header and rule. */
function table(heading: string): string[][] {
  const lines = doc.split("\n");
  const start = lines.indexOf(heading);
  assert.notEqual(start, -1, `docs/MONITORING.md has no "${heading}"`);
  const end = lines.findIndex((line, i) => i > start && /^#{1,3} /.test(line));
  const rows = lines.slice(start + 1, end === -1 ? undefined : end)
    .filter((line) => line.startsWith("|"));
  assert.ok(rows.length > 2, `no table under "${heading}"`);
  return rows.slice(2).map((row) => row.split("|").slice(1, -1).map((cell) => cell.trim()));
}

const code = (cell: string): string => /^`([^`]+)`$/.exec(cell)?.[1] ?? `unquoted: ${cell}`;

test("docs/MONITORING.md lists every endpoint, whether it needs the token, and what it is", () => {
  assert.deepEqual(
    table("## Endpoints").map(([path, token, what]) => ({
      path: code(path),
      token: token === "yes",
      what,
    })),
    MONITOR_ENDPOINTS.map((e) => ({ ...e })),
  );
});

test("docs/MONITORING.md lists every metric with its type, labels and help", () => {
  assert.deepEqual(
    table("### `/metrics`").map(([name, type, labels, help]) => ({
      name: code(name),
      type,
      labels: labels === "" ? [] : labels.split(", ").map(code),
      help,
    })),
    METRIC_FAMILIES.map(({ name, type, labels, help }) => ({ name, type, labels, help })),
  );
});

test("docs/MONITORING.md names every field of /varz and of a /connz row", async () => {
  const server = await startPubSubServer({ port: 0, monitor: { port: 0 } });
  const client = await PubSubClient.connect("127.0.0.1", server.addr.port);
  try {
    await client.flush();
    const varz = await (await fetch(`${server.monitorUrl}/varz`)).json();
    assert.deepEqual(table("### `/varz`").map(([field]) => code(field)), Object.keys(varz));
    const connz = await (await fetch(`${server.monitorUrl}/connz`)).json();
    assert.deepEqual(
      table("### `/connz?limit=&offset=&sort=`").map(([field]) => code(field)),
      Object.keys(connz.connections[0]),
    );
  } finally {
    await client.close();
    await server.close();
  }
});
