/**
 * `bench`, like `nats bench`: publishers and subscribers against any
 * server, then the publish and delivery rates and the latency percentiles
 * (publishers and subscribers share this process's clock). A progress bar
 * on standard error when it is a terminal.
 *
 * @module
 */

import process from "node:process";
import { abortable, ignore } from "../_async.ts";
import type { PubSubClient } from "../client/pubsub_client.ts";
import { bounded, type CommandStop } from "./command_stop.ts";
import { connect, stoppable } from "./client_commands.ts";
import type { CliIo, Target } from "./commands.ts";
import { CliError } from "./arguments.ts";

/** What `bench` takes. */
export interface BenchCommand {
  /** The topic to publish to. */
  topic: string;
  /** Publishing clients (they share `count`). */
  publishers: number;
  /** Subscribing clients (each receives every message). */
  subscribers: number;
  /** Messages in all. */
  count: number;
  /** Bytes of each message's payload. */
  size: number;
  /** How long connecting may take, and how long a subscriber may wait for the next message. */
  timeoutMs: number;
}

/** `sendTime|padding`: the payload, `size` characters long (at least the time). */
function payload(size: number, padding: string): string {
  const time = performance.now().toFixed(3) + "|";
  return time + padding.slice(0, Math.max(0, size - time.length));
}

/** The value at quantile `q` of sorted `values`. */
function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  return values[Math.min(values.length - 1, Math.floor(q * values.length))];
}

function rate(messages: number, ms: number): string {
  return `${Math.round(messages / (ms / 1000)).toLocaleString("en-US")} msgs/s`;
}

/** A progress bar on standard error, redrawn at most every 100 ms, when it is a terminal. */
function progress(total: number): { update(done: number): void; end(): void } {
  if (process.stderr.isTTY !== true) return { update() {}, end() {} };
  let drawn = 0;
  const draw = (done: number): void => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(
      `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${
        Math.floor((done / total) * 100)
      }% received`,
    );
  };
  return {
    update(done) {
      const now = performance.now();
      if (now - drawn < 100) return;
      drawn = now;
      draw(done);
    },
    end() {
      process.stderr.write("\r" + " ".repeat(50) + "\r");
    },
  };
}

/** Opens `n` clients, all within the command's timeout. */
function clients(
  target: Target,
  n: number,
  stop: CommandStop,
  timeoutMs: number,
): Promise<PubSubClient[]> {
  return bounded(
    stop,
    timeoutMs,
    "Connecting",
    (signal) => Promise.all(Array.from({ length: n }, () => connect(target, signal))),
  );
}

/** Runs the benchmark and prints its results on standard output. */
export function bench(target: Target, command: BenchCommand, io: CliIo): Promise<number> {
  const { topic, publishers, subscribers, count, size, timeoutMs } = command;
  return stoppable(io, async (stop) => {
    const opened: PubSubClient[] = [];
    try {
      const subs = await clients(target, subscribers, stop, timeoutMs);
      opened.push(...subs);
      await bounded(
        stop,
        timeoutMs,
        "Subscribing",
        () => Promise.all(subs.map((sub) => sub.subscribe(topic, { ack: true }))),
      );
      const pubs = await clients(target, publishers, stop, timeoutMs);
      opened.push(...pubs);
      io.err(
        `Benchmarking ${count} messages of ${size} bytes on "${topic}": ` +
          `${publishers} publishers, ${subscribers} subscribers`,
      );
      const latencies = new Float64Array(count * subscribers);
      let received = 0;
      const bar = progress(count * subscribers);
      const started = performance.now();
      let lastReceipt = started;
      const receiving = Promise.all(subs.map(async (sub) => {
        for (let n = 0; n < count; n++) {
          const message = await sub.recv({ timeout: timeoutMs });
          if (message === null) {
            throw new CliError(
              `A subscriber got ${n} of ${count} messages, then none for ${timeoutMs} ms`,
            );
          }
          const now = performance.now();
          latencies[received++] = now - Number.parseFloat(String(message.message));
          lastReceipt = now;
          bar.update(received);
        }
      }));
      receiving.catch(ignore); // awaited below, once the publishers are done
      const padding = "x".repeat(size);
      const publishing = pubs.map(async (pub, index) => {
        const share = Math.floor(count / publishers) + (index < count % publishers ? 1 : 0);
        // Awaiting each write is the backpressure: it resolves once handed to the OS.
        for (let n = 0; n < share; n++) await pub.publish(topic, payload(size, padding));
        await pub.flush();
      });
      await abortable(Promise.all(publishing), stop.signal);
      const published = performance.now() - started;
      await abortable(receiving, stop.signal);
      bar.end();
      latencies.sort();
      const ms = (q: number) => quantile(latencies, q).toFixed(3);
      await io.out(`publish:  ${rate(count, published)} (${count} in ${published.toFixed(0)} ms)`);
      await io.out(
        `delivery: ${rate(received, lastReceipt - started)} ` +
          `(${received} to ${subscribers} subscribers in ${(lastReceipt - started).toFixed(0)} ms)`,
      );
      await io.out(
        `latency ms: p50 ${ms(0.5)}, p90 ${ms(0.9)}, p99 ${ms(0.99)}, p99.9 ${ms(0.999)}, max ${
          ms(1)
        }`,
      );
      return 0;
    } finally {
      await Promise.all(opened.map((client) => client.close()));
    }
  });
}
