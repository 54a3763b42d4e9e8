/**
 * The stalled-subscriber soak: on Deno, Bun and Node (the npm build), a
 * server process gets 1 GiB published to a topic with one healthy
 * subscriber and one that never reads, once per slow-consumer policy. It
 * prints the server's peak RSS (VmHWM from `/proc/<pid>/status`), what the
 * healthy subscriber got, and what the stalled one was dropped. Bounded by
 * bytes and by a 120 s deadline per run; stops by itself.
 *
 * Run: `npm run soak` (`bun scripts/soak.ts`), with options
 * `--runtimes deno,bun,node`, `--policies drop-oldest,drop-newest,disconnect`
 * and `--mib N` (default 1024). The Node server needs the npm build.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a script reports to its console

import process from "node:process";
import { parseArgs } from "node:util";
import { connect, frame, Progress, Subscriber, waitFor, write } from "./_bench_load.ts";
import { type Runtime, Server } from "./_bench_server.ts";

const PAYLOAD_BYTES = 16 * 1024;
/** Messages the publisher may be ahead of the healthy subscriber. */
const WINDOW = 256;
const BATCH = 32;

interface SoakResult {
  runtime: Runtime;
  policy: string;
  publishedMiB: number;
  seconds: number;
  healthyGot: number;
  published: number;
  stalledGot: number;
  stalledDropped: number;
  /** The error code it was disconnected with, or "". */
  stalledCode: string;
  baseRssMiB: number;
  peakRssMiB: number;
}

async function soak(runtime: Runtime, policy: string, mib: number): Promise<SoakResult> {
  const server = new Server(runtime);
  await server.started();
  try {
    const progress = new Progress();
    const healthy = new Subscriber(await connect(server.port), progress);
    const told = { dropped: 0, delivered: 0, code: "" };
    const stalled = new Subscriber(await connect(server.port), progress, (text) => {
      const value = JSON.parse(text);
      if (value.action === "slow_consumer") told.dropped += value.dropped;
      else if (value.action === "error") told.code = value.code;
      else if (value.action === undefined) told.delivered++;
    });
    await write(healthy.socket, frame({ action: "subscribe", topic: "soak", id: 1 }));
    await write(stalled.socket, frame({ action: "subscribe", topic: "soak", policy, id: 1 }));
    // Each gets its "ok" once subscribed.
    await waitFor(() => healthy.count === 1 && stalled.count === 1, progress, Date.now() + 10_000);
    stalled.socket.pause(); // never reads again
    const publisher = await connect(server.port);
    const line = frame({ action: "publish", topic: "soak", message: "x".repeat(PAYLOAD_BYTES) });
    const batch = new Uint8Array(line.byteLength * BATCH);
    for (let i = 0; i < BATCH; i++) batch.set(line, i * line.byteLength);
    const total = Math.ceil((mib * 1024 * 1024) / line.byteLength / BATCH) * BATCH;
    const baseRss = server.memKiB("VmRSS");
    const deadline = Date.now() + 120_000;
    const t0 = performance.now();
    let sent = 0;
    const base = healthy.count;
    while (sent < total && Date.now() < deadline) {
      await write(publisher, batch);
      sent += BATCH;
      await waitFor(() => sent - (healthy.count - base) <= WINDOW, progress, deadline);
    }
    await waitFor(() => healthy.count - base >= sent, progress, deadline);
    const seconds = (performance.now() - t0) / 1000;
    const peakRss = server.memKiB("VmHWM");
    // Now the stalled subscriber reads what it was sent: deliveries, then the
    // notice of what was dropped, or the error frame it was disconnected with.
    stalled.socket.resume();
    await waitFor(
      () => stalled.closed || told.delivered + told.dropped >= sent,
      progress,
      Date.now() + 30_000,
    );
    const result: SoakResult = {
      runtime,
      policy,
      publishedMiB: (sent * line.byteLength) / 1024 / 1024,
      seconds,
      healthyGot: healthy.count - base,
      published: sent,
      stalledGot: told.delivered,
      stalledDropped: told.dropped,
      // With its socket full, the disconnected one may get no room for the error frame.
      stalledCode: told.code !== "" ? told.code : stalled.closed ? "closed" : "",
      baseRssMiB: baseRss / 1024,
      peakRssMiB: peakRss / 1024,
    };
    healthy.socket.destroy();
    stalled.socket.destroy();
    publisher.destroy();
    return result;
  } finally {
    await server.stop();
  }
}

const { values } = parseArgs({
  options: {
    runtimes: { type: "string", default: "deno,bun,node" },
    policies: { type: "string", default: "drop-oldest,drop-newest,disconnect" },
    mib: { type: "string", default: "1024" },
  },
});
const results: SoakResult[] = [];
for (const runtime of values.runtimes.split(",") as Runtime[]) {
  for (const policy of values.policies.split(",")) {
    const result = await soak(runtime, policy, Number(values.mib));
    results.push(result);
    console.log(
      `${runtime.padEnd(5)} ${policy.padEnd(12)} published ${result.publishedMiB.toFixed(0)} MiB ` +
        `in ${
          result.seconds.toFixed(1)
        } s; healthy got ${result.healthyGot}/${result.published}; ` +
        `stalled got ${result.stalledGot}, ` +
        (result.stalledCode === ""
          ? `told ${result.stalledDropped} dropped; `
          : `then ${result.stalledCode}; `) +
        `server RSS ${result.baseRssMiB.toFixed(1)} MiB before, peak ${
          result.peakRssMiB.toFixed(1)
        } MiB`,
    );
  }
}
const lost = results.filter((r) => r.healthyGot < r.published);
// A drop policy must account for every message: delivered or told dropped.
const unaccounted = results.filter((r) =>
  r.stalledCode === "" && r.stalledGot + r.stalledDropped !== r.published
);
if (unaccounted.length > 0) {
  console.log(`The stalled subscriber was not told of every drop in ${unaccounted.length} run(s)`);
  process.exitCode = 1;
}
if (lost.length > 0) {
  console.log(`The healthy subscriber missed messages in ${lost.length} run(s)`);
  process.exitCode = 1;
}
