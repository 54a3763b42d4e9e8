/**
 * `reply`: the responder that `req` talks to. It answers each request on a
 * pattern with a fixed response, or with what a command prints
 * (`--exec`); with `--group`, several responders share the requests.
 *
 * @module
 */

import type { JsonValue } from "../protocol/frames.ts";
import type { PubSubClient } from "../client/pubsub_client.ts";
import { withSubscription } from "./client_commands.ts";
import type { CliIo, Target } from "./commands.ts";
import { execResponse } from "./exec_response.ts";

/** What `reply` takes. */
export interface ReplyCommand {
  /** The topic or pattern requests come on. */
  pattern: string;
  /** The fixed response, or `undefined` with `exec`. */
  response?: JsonValue;
  /** A shell command whose output is the response (the request on its standard input). */
  exec?: string;
  /** Parse `exec`'s output as JSON. */
  json: boolean;
  /** A queue group shared with other responders. */
  group?: string;
  /** Exit after answering this many requests. */
  count: number;
  /** How long connecting and subscribing, and each `exec`, may take. */
  timeoutMs: number;
  /** The most bytes of one response. */
  maxBytes: number;
}

/** Answers requests until `count` of them, SIGINT or SIGTERM (exit 0). */
export function reply(target: Target, command: ReplyCommand, io: CliIo): Promise<number> {
  const { pattern, group, count, timeoutMs } = command;
  return withSubscription(
    target,
    { patterns: [pattern], group, count, reconnect: false, timeoutMs, knSock: false, hello: true },
    io,
    (client) => {
      io.err(`Answering requests on ${pattern}${group === undefined ? "" : ` in group ${group}`}`);
      return answer(client, command, io);
    },
  );
}

/** Prints each request as a JSON line and answers it. */
async function answer(client: PubSubClient, command: ReplyCommand, io: CliIo): Promise<number> {
  let answered = 0;
  while (answered < command.count) {
    const request = (await client.recv())!;
    await io.out(JSON.stringify({ topic: request.topic, message: request.message }));
    if (request.respond === undefined) {
      io.err(`A message on "${request.topic}" has no reply topic: not answered`);
      continue;
    }
    const response = await respondWith(command, request.message, io);
    if (response === undefined) continue;
    await request.respond(response);
    answered++;
  }
  return 0;
}

/** The response to `request`: the fixed one, or `exec`'s output; `undefined` when `exec` failed. */
async function respondWith(
  command: ReplyCommand,
  request: JsonValue,
  io: CliIo,
): Promise<JsonValue | undefined> {
  if (command.exec === undefined) return command.response;
  const result = await execResponse(command.exec, request, command);
  if (!result.ok) {
    io.err(`--exec ${result.why}: not answered`);
    return undefined;
  }
  if (!command.json) return result.output;
  try {
    return JSON.parse(result.output) as JsonValue;
  } catch {
    io.err(`--exec printed no JSON value: not answered`);
    return undefined;
  }
}
