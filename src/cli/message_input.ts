/**
 * Where `pub` takes its messages from: the argument, standard input
 * (`pub t -` or `--stdin`), or a file (`--file F`, for payloads past the
 * argument-size limit); the whole input as one message, or one message per
 * line (`--lines`, streamed: `tail -f log | pub t --lines`); repeated
 * `--count` times. Input is read within a byte bound.
 *
 * @module
 */

import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import process from "node:process";
import type { JsonValue } from "../protocol/frames.ts";
import { CliError } from "./arguments.ts";

/** The input of a command: standard input, or a file. */
export type InputSource = { kind: "stdin" } | { kind: "file"; path: string };

/** `source`'s chunks; a file that cannot be read is a {@linkcode CliError}. */
async function* chunks(source: InputSource): AsyncGenerator<Uint8Array | string> {
  if (source.kind === "stdin") {
    yield* process.stdin as AsyncIterable<Uint8Array | string>;
    return;
  }
  try {
    yield* createReadStream(source.path) as AsyncIterable<Uint8Array>;
  } catch (error) {
    throw new CliError(`Cannot read --file "${source.path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Fails with a {@linkcode CliError} now (before connecting) when the file cannot be read. */
export async function checkReadable(source: InputSource | undefined): Promise<void> {
  if (source?.kind !== "file") return;
  try {
    await (await open(source.path, "r")).close(); // access() needs --allow-sys on Deno
  } catch (error) {
    throw new CliError(`Cannot read --file "${source.path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function what(source: InputSource): string {
  return source.kind === "stdin" ? "Standard input" : `--file "${source.path}"`;
}

/** The text of `source`'s chunks, piece by piece, failing past `maxBytes` bytes without a newline. */
async function* pieces(
  source: InputSource,
  maxBytes: number,
  lines: boolean,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = 0;
  for await (const chunk of chunks(source)) {
    const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    const bytes = typeof chunk === "string" ? text.length : chunk.byteLength;
    const newline = lines ? text.lastIndexOf("\n") : -1;
    pending = newline === -1 ? pending + bytes : text.length - newline - 1;
    if (pending > maxBytes) {
      throw new CliError(
        `${what(source)} holds ${lines ? "a line" : "more"} than ${maxBytes} bytes`,
      );
    }
    yield text;
  }
  yield decoder.decode();
}

/** The whole of `source` as text, without one final line ending, within `maxBytes`. */
export async function readWhole(source: InputSource, maxBytes: number): Promise<string> {
  let text = "";
  for await (const piece of pieces(source, maxBytes, false)) text += piece;
  return text.replace(/\r?\n$/, "");
}

/** The lines of `source` as they come (without `\n` or `\r\n`), each within `maxBytes`. */
export async function* readLines(source: InputSource, maxBytes: number): AsyncGenerator<string> {
  let buffer = "";
  for await (const piece of pieces(source, maxBytes, true)) {
    buffer += piece;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer !== "") yield buffer.replace(/\r$/, "");
}

/** What `pub` publishes. */
export interface MessageInput {
  /** The message given as an argument, or `undefined` to read `source`. */
  argument?: string;
  /** Where to read when there is no argument. */
  source?: InputSource;
  /** One message per line of `source` (empty lines are skipped). */
  lines: boolean;
  /** How many times to publish each message. */
  count: number;
  /** Parse each message as JSON. */
  json: boolean;
  /** The most bytes one message may have. */
  maxBytes: number;
}

/** Parses `text` as the message (as JSON with `json`); `where` names it in the error. */
function parse(text: string, json: boolean, where: string): JsonValue {
  if (!json) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new CliError(`--json given but ${where} is not valid JSON: ${text.slice(0, 64)}`);
  }
}

/** The messages to publish, in order. */
export async function* messages(input: MessageInput): AsyncGenerator<JsonValue> {
  const { argument, source, lines, count, json, maxBytes } = input;
  if (argument !== undefined || !lines) {
    const text = argument ?? await readWhole(source!, maxBytes);
    const message = parse(text, json, argument !== undefined ? "the message" : what(source!));
    for (let n = 0; n < count; n++) yield message;
    return;
  }
  let number = 0;
  for await (const line of readLines(source!, maxBytes)) {
    number++;
    if (line === "") continue;
    yield parse(line, json, `line ${number}`);
  }
}
