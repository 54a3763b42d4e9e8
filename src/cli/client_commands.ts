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

import { abortable, grace, ignore } from "../_async.ts";
import { backoffDelay } from "../client/backoff.ts";
import type { Message } from "../client/message.ts";
import { PubSubError } from "../errors.ts";
import type { MessageFormat } from "./message_format.ts";
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
  /** The messages, in order (one, or read from standard input or a file). */
  messages: AsyncIterable<JsonValue>;
  /** Keep it as the retained message (says hello). */
  retain?: boolean;
  /** Headers (says hello). */
  headers?: Headers;
  /** How long to wait for the server: to connect, and for each answer. */
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
  /** Reconnect when the server goes away, and retry the first connect. */
  reconnect: boolean;
  /** How long connecting and subscribing may take. */
  timeoutMs: number;
  /** Stop (exit 0, or 1 when `count` was not reached) after this long without a message. */
  idleMs?: number;
  /** The server is kn-sock's: confirm the subscriptions with a marker round trip. */
  knSock: boolean;
  /** How to print a message; the default is kn-sock's JSON line. */
  format?: MessageFormat;
  /** Say hello (to receive `seq`, `headers`, `reply`, `retained`). */
  hello?: boolean;
  /** Skip the retained messages sent on subscribing (says hello). */
  noRetained?: boolean;
}

/** Whether a subscribing command says hello (to get extended deliveries, or to skip retained ones). */
function saysHello(command: SubscribeCommand): boolean {
  return command.hello === true || command.noRetained === true;
}

/** Connects for a client command, aborting with `signal`. */
export async function connect(
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
export async function stoppable(
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

/** How many publishes may wait for their `ok` at once. */
const ACK_WINDOW = 256;

/**
 * Publishes each message and exits 0 once the server has routed them all
 * (its `ok` to each); a refusal is an error. With `knSock`, once written.
 */
export function publish(target: Target, command: PublishCommand, io: CliIo): Promise<number> {
  const { topic, messages, retain, headers, timeoutMs, knSock } = command;
  const extended = retain === true || headers !== undefined;
  const hint = knSock ? "" : KN_SOCK_HINT;
  return stoppable(io, async (stop) => {
    const client = await bounded(
      stop,
      timeoutMs,
      "Connecting",
      (signal) => connect(target, signal, { hello: extended ? true : undefined }),
      extended ? hint : "", // only hello waits for an answer while connecting
    );
    try {
      let waiting: Promise<void>[] = [];
      const answered = (): Promise<unknown> => {
        const all = Promise.all(waiting);
        waiting = [];
        return bounded(stop, timeoutMs, "Publishing", () => all, hint);
      };
      const input = messages[Symbol.asyncIterator]();
      while (true) {
        // Reading the input (a pipe that stays open) also stops at Ctrl-C.
        const next = await abortable(input.next(), stop.signal);
        if (next.done === true) break;
        const sent = client.publish(topic, next.value, { retain, headers, ack: !knSock });
        sent.catch(ignore); // awaited below, with the others
        waiting.push(sent);
        if (waiting.length >= ACK_WINDOW) await answered();
      }
      await answered();
      return 0;
    } finally {
      await client.close();
    }
  });
}

/**
 * Subscribes and prints messages (as JSON lines by default) until `count`
 * messages, SIGINT or SIGTERM (exit 0), standard output closes (exit 0),
 * or `idleMs` passes without a message.
 */
export function subscribe(target: Target, command: SubscribeCommand, io: CliIo): Promise<number> {
  return withSubscription(target, command, io, (client) => {
    io.err(`Subscribed to ${command.patterns.join(", ")}`);
    return print(client, command, io);
  });
}

/**
 * Subscribes as `command` says, then runs `body` with the client until it
 * returns, or SIGINT/SIGTERM (exit 0 once subscribed) or a closed standard
 * output stops it; closes the client either way.
 */
export function withSubscription(
  target: Target,
  command: SubscribeCommand,
  io: CliIo,
  body: (client: PubSubClient, stop: CommandStop) => Promise<number>,
): Promise<number> {
  return stoppable(io, async (stop) => {
    let client: PubSubClient | null = null;
    try {
      client = command.reconnect
        ? await retrying(stop, io, () => subscribed(target, command, stop))
        : await subscribed(target, command, stop);
      // A client that said hello hears of its server's cluster going down and coming back.
      if (command.reconnect || saysHello(command)) void reportStatus(client, io);
      return await abortable(body(client, stop), stop.signal);
    } catch (error) {
      if (error instanceof Stopped && error.exitCode !== 0 && client !== null) return 0;
      throw error;
    } finally {
      await client?.close();
    }
  });
}

/** Connects and subscribes, within `command.timeoutMs`; the client, once the server confirmed. */
function subscribed(
  target: Target,
  command: SubscribeCommand,
  stop: CommandStop,
): Promise<PubSubClient> {
  const { patterns, group, reconnect, timeoutMs, knSock } = command;
  const hello = saysHello(command);
  return bounded(stop, timeoutMs, "Subscribing", async (signal) => {
    const client = await connect(target, signal, { reconnect, hello: hello ? true : undefined });
    try {
      // With an id, our server confirms each one (or refuses it: auth_required, forbidden).
      for (const pattern of patterns) await client.subscribe(pattern, { group, ack: !knSock });
      if (knSock) await client.flush({ viaTopic: true, signal });
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }, knSock ? "" : KN_SOCK_HINT);
}

/**
 * `--reconnect` retries the first connect too: until it works, the server
 * refuses the credentials, or the command is stopped.
 */
async function retrying<T>(stop: CommandStop, io: CliIo, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1;; n++) {
    try {
      return await attempt();
    } catch (error) {
      const code = error instanceof PubSubError ? error.code : undefined;
      const retry = code === "connection_refused" || code === "connect_failed" ||
        error instanceof CliError; // a timeout
      if (!retry || stop.signal.aborted) throw error;
      const delay = backoffDelay(n);
      io.err(`${(error as Error).message}; retrying in ${delay} ms`);
      const wait = grace(delay);
      try {
        await abortable(wait.elapsed, stop.signal);
      } finally {
        wait.clear();
      }
    }
  }
}

/**
 * Says on standard error when the connection is lost and when it is back,
 * and when the server is cut off from its cluster and back (after hello).
 */
async function reportStatus(client: PubSubClient, io: CliIo): Promise<void> {
  for await (const event of client.status()) {
    if (event.type === "disconnect") {
      io.err(`Connection lost (${event.error.message}); reconnecting...`);
    } else if (event.type === "connect") {
      io.err(`Reconnected to ${event.addr.hostname}:${event.addr.port}`);
    } else if (event.type === "backplane") {
      const counts = `${event.unsent} unsent, ${event.lost} lost, ${event.outages} outages`;
      io.err(
        event.state === "down"
          ? `Server cut off from its cluster (${event.reason ?? "no reason given"}): ${counts}`
          : `Server back in its cluster: ${counts}`,
      );
    }
  }
}

/** Prints messages until `count` of them, the client closes, or `idleMs` passes without one. */
async function print(client: PubSubClient, command: SubscribeCommand, io: CliIo): Promise<number> {
  const { count, idleMs, noRetained } = command;
  const format = command.format ??
    ((m: Message) => JSON.stringify({ topic: m.topic, message: m.message }));
  let received = 0;
  while (received < count) {
    // The server going away (without --reconnect) rejects: exit 1 with its reason.
    const message = await client.recv(idleMs === undefined ? undefined : { timeout: idleMs });
    if (message === null) {
      io.err(`No message within ${idleMs} ms`);
      return count === Infinity ? 0 : 1;
    }
    if (noRetained === true && message.retained === true) continue;
    await io.out(format(message));
    received++;
  }
  return 0;
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
