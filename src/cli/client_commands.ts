/**
 * The command line's client commands: publish, subscribe, request. Each
 * reports only what the server confirmed: a publish or subscribe is sent
 * with an `id`, which our server answers (`ok`, or an error such as
 * `invalid_topic`, `payload_too_large`, `auth_required`), with or without
 * `hello`. A kn-sock server answers nothing: `--kn-sock` then sends plain
 * kn-sock frames and says what it cannot confirm. Every wait is bounded by
 * a timeout and by Ctrl-C (see `command_stop.ts`).
 *
 * @module
 */

import { abortable } from "../_async.ts";
import { PubSubClient } from "../client/pubsub_client.ts";
import type { PubSubClientOptions } from "../client/options.ts";
import type { WebSocketConstructor } from "../transport/websocket.ts";
import { CliError } from "./arguments.ts";
import type { Headers, JsonValue } from "../protocol/frames.ts";
import { bounded, type CommandStop, commandStop, Stopped } from "./command_stop.ts";
import type { CliIo, Target } from "./commands.ts";

/** A hint for a server that never answers. */
const KN_SOCK_HINT = " (a kn-sock server answers nothing: add --kn-sock)";

/** What `pub` takes. */
export interface PublishCommand {
  /** The topic. */
  topic: string;
  /** The message. */
  message: JsonValue;
  /** Keep it as the retained message (says hello). */
  retain?: boolean;
  /** Headers (says hello). */
  headers?: Headers;
  /** How long to wait for the server, connecting included. */
  timeoutMs: number;
  /** The server is kn-sock's: send plain frames and wait for no answer. */
  knSock: boolean;
}

/** What `sub` takes. */
export interface SubscribeCommand {
  /** Topics or patterns. */
  patterns: string[];
  /** Exit after this many messages. */
  count: number;
  /** A queue group. */
  group?: string;
  /** Reconnect when the server goes away. */
  reconnect: boolean;
  /** How long connecting and subscribing may take. */
  timeoutMs: number;
  /** The server is kn-sock's: confirm the subscriptions with a marker round trip. */
  knSock: boolean;
}

/** Connects for a client command, aborting with `signal`. */
async function connect(
  target: Target,
  signal: AbortSignal,
  options: { hello?: boolean; reconnect?: boolean } = {},
): Promise<PubSubClient> {
  const settings: PubSubClientOptions = {
    hello: options.hello,
    tls: target.tls,
    auth: target.auth,
    reconnect: options.reconnect ?? false,
    signal,
  };
  if (target.url === undefined) return PubSubClient.connect(target.host, target.port, settings);
  return PubSubClient.connect(target.url, { ...settings, WebSocket: await webSocketClass() });
}

/** The `WebSocket` class: the runtime's, or on Node 20 (which has none) the `ws` package's. */
async function webSocketClass(): Promise<WebSocketConstructor | undefined> {
  if ((globalThis as { WebSocket?: unknown }).WebSocket !== undefined) return undefined;
  try {
    return (await import("ws")).WebSocket as unknown as WebSocketConstructor;
  } catch (error) {
    throw new CliError(
      'A ws:// server on this Node needs the "ws" package (npm install ws), or Node 22+',
      { cause: error },
    );
  }
}

/** Runs `command` with a stop for SIGINT, SIGTERM and a closed standard output. */
async function stoppable(
  io: CliIo,
  command: (stop: CommandStop) => Promise<number>,
): Promise<number> {
  const stop = commandStop(io.outClosed);
  try {
    return await command(stop);
  } finally {
    stop.dispose();
  }
}

/**
 * Publishes one message and exits 0 once the server has routed it (its
 * `ok`); a refusal is an error. With `knSock`, once it is written.
 */
export function publish(target: Target, command: PublishCommand, io: CliIo): Promise<number> {
  const { topic, message, retain, headers, timeoutMs, knSock } = command;
  const extended = retain === true || headers !== undefined;
  return stoppable(io, (stop) =>
    bounded(stop, timeoutMs, "Publishing", async (signal) => {
      const client = await connect(target, signal, { hello: extended ? true : undefined });
      try {
        await client.publish(topic, message, { retain, headers, ack: !knSock });
      } finally {
        await client.close();
      }
      return 0;
    }, knSock ? "" : KN_SOCK_HINT));
}

/**
 * Subscribes and prints messages as JSON lines until `count` messages,
 * SIGINT or SIGTERM (exit 0), or standard output closes (exit 0).
 */
export function subscribe(target: Target, command: SubscribeCommand, io: CliIo): Promise<number> {
  const { patterns, count, group, reconnect, timeoutMs, knSock } = command;
  return stoppable(io, async (stop) => {
    let client: PubSubClient | null = null;
    try {
      client = await bounded(stop, timeoutMs, "Subscribing", async (signal) => {
        const opened = await connect(target, signal, { reconnect });
        try {
          // With an id, our server confirms each one (or refuses it: auth_required, forbidden).
          for (const pattern of patterns) await opened.subscribe(pattern, { group, ack: !knSock });
          if (knSock) await opened.flush({ viaTopic: true, signal });
        } catch (error) {
          await opened.close();
          throw error;
        }
        return opened;
      }, knSock ? "" : KN_SOCK_HINT);
      io.err(`Subscribed to ${patterns.join(", ")}`);
      await abortable(print(client, count, io), stop.signal);
      return 0;
    } catch (error) {
      if (error instanceof Stopped && error.exitCode !== 0 && client !== null) return 0;
      throw error;
    } finally {
      await client?.close();
    }
  });
}

/** Prints messages until `count` of them, or the client closes. */
async function print(client: PubSubClient, count: number, io: CliIo): Promise<void> {
  let received = 0;
  for await (const message of client) {
    await io.out(JSON.stringify({ topic: message.topic, message: message.message }));
    if (++received === count) return;
  }
}

/** Sends a request and prints the reply as one JSON line. */
export function request(
  target: Target,
  topic: string,
  message: JsonValue,
  timeoutMs: number,
  io: CliIo,
): Promise<number> {
  return stoppable(io, (stop) =>
    bounded(stop, timeoutMs, "The request", async (signal) => {
      const client = await connect(target, signal, { hello: true });
      try {
        const reply = await client.request(topic, message, { timeout: timeoutMs, signal });
        await io.out(JSON.stringify({ topic: reply.topic, message: reply.message }));
        return 0;
      } finally {
        await client.close();
      }
    }));
}
