/**
 * `reply --exec CMD`: the answer to a request is what a shell command
 * prints when given the request's payload on standard input.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { JsonValue } from "../protocol/frames.ts";

/** The outcome of one run: its output (without one final newline), or why there is none. */
export type ExecResult = { ok: true; output: string } | { ok: false; why: string };

/**
 * Runs `command` with `sh -c`, the request on its standard input (a string
 * as it is, any other value as JSON); kills it after `timeoutMs`, and past
 * `maxBytes` of output.
 */
export function execResponse(
  command: string,
  request: JsonValue,
  options: { timeoutMs: number; maxBytes: number },
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], { stdio: ["pipe", "pipe", "inherit"] });
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    let failure: string | null = null;
    const stop = (why: string): void => {
      failure ??= why;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(
      () => stop(`timed out after ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    child.stdout!.on("data", (chunk: Uint8Array) => {
      bytes += chunk.byteLength;
      if (bytes > options.maxBytes) stop(`printed more than ${options.maxBytes} bytes`);
      else chunks.push(chunk);
    });
    child.stdin!.on("error", () => {
      // It exited without reading everything: its exit status tells.
    });
    child.stdin!.end(typeof request === "string" ? request : JSON.stringify(request));
    child.on("error", (error) => stop(error.message));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (failure === null && code !== 0) failure = `exited with ${code ?? signal}`;
      if (failure !== null) return resolve({ ok: false, why: failure });
      const output = new TextDecoder().decode(concat(chunks, bytes));
      resolve({ ok: true, output: output.replace(/\r?\n$/, "") });
    });
  });
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const all = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}
