/**
 * The wire protocols the benchmark's load generator speaks: kn-sock (this
 * package), and, to measure the peers in the same run, NATS (`CONNECT`,
 * `SUB`, `PUB`, `MSG`, `PING`/`PONG`) and Redis (RESP2 `SUBSCRIBE`,
 * `PUBLISH`, `message` pushes). Each encodes what a publisher and a
 * subscriber send and reads what a connection receives, counting
 * deliveries with as little work as it can. Bytes in, counts out: no I/O.
 *
 * @module
 */

import { Buffer } from "node:buffer";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a {@linkcode Reader} calls. */
export interface ReaderOptions {
  /**
   * Called with each delivery as the protocol frames it, when given (decoding costs): kn-sock's
   * whole line, a NATS or Redis payload. {@linkcode Dialect.message} takes the message out.
   */
  onDelivery?: (delivery: string) => void;
  /** Sends bytes back to the server (NATS: `PONG` for its `PING`). */
  reply?: (text: string) => void;
}

/** Reads one connection's incoming bytes. */
export interface Reader {
  /** Reads the next chunk, whatever way the stream is cut; returns the deliveries it completed. */
  read(chunk: Uint8Array): number;
}

/** A wire protocol, as the load generator speaks it. */
export interface Dialect {
  readonly name: "kn-sock" | "nats" | "redis";
  /** What a connection sends before anything else (NATS: `CONNECT`); may be empty. */
  readonly hello: string;
  /** Subscribes to `topic`; `sid` numbers a connection's subscriptions from 1 (NATS). */
  subscribe(topic: string, sid: number): string;
  /** Publishes `message` on `topic`. */
  publish(topic: string, message: string): string;
  /** The message of a delivery `onDelivery` was given, if it is a string. */
  message(delivery: string): string | undefined;
  /** A reader for one connection. */
  reader(options?: ReaderOptions): Reader;
}

/** The longest line a reader holds while waiting for its end: the servers are trusted, not unbounded. */
const MAX_LINE = 64 * 1024;

/** A decimal integer in `bytes[start, end)` (a leading `-` allowed); `NaN` when there is none. */
export function parseInteger(bytes: Uint8Array, start: number, end: number): number {
  let negative = false;
  if (start < end && bytes[start] === 45) {
    negative = true;
    start++;
  }
  if (start >= end) return NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = bytes[i] - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** The pieces as one array (copied only when there are several). */
function join(pieces: Uint8Array[]): Uint8Array {
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
}

/**
 * Splits a byte stream into lines (ending in `\n`, a `\r` before it
 * dropped), any of which may announce a blob of N bytes plus CRLF that
 * follows it: the shape of NATS (`MSG ... N`) and RESP (`$N`). Scans each
 * byte once; a line cut across chunks is joined once.
 */
export class LineBlobScanner {
  readonly #onLine: (line: Uint8Array, start: number, end: number) => number;
  readonly #onBlob: (blob: Uint8Array) => void;
  #partial: Uint8Array[] = [];
  #partialBytes = 0;
  /** Bytes of the current blob and its CRLF still to come; 0 while reading lines. */
  #blobLeft = 0;
  #blob: Uint8Array[] = [];

  /**
   * @param onLine Called with each line (`line[start, end)`); returns the length of the blob
   *   that follows it, or -1 for none.
   * @param onBlob Called with each blob, without its CRLF.
   */
  constructor(
    onLine: (line: Uint8Array, start: number, end: number) => number,
    onBlob: (blob: Uint8Array) => void,
  ) {
    this.#onLine = onLine;
    this.#onBlob = onBlob;
  }

  /** Reads the next chunk. */
  feed(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#blobLeft > 0) {
        const take = Math.min(this.#blobLeft, chunk.byteLength - at);
        this.#blob.push(chunk.subarray(at, at + take));
        this.#blobLeft -= take;
        at += take;
        if (this.#blobLeft === 0) {
          const blob = join(this.#blob);
          this.#blob = [];
          this.#onBlob(blob.subarray(0, blob.byteLength - 2));
        }
        continue;
      }
      const newline = chunk.indexOf(10, at);
      if (newline === -1) {
        this.#partialBytes += chunk.byteLength - at;
        if (this.#partialBytes > MAX_LINE) {
          throw new RangeError(`A line is longer than ${MAX_LINE} bytes`);
        }
        this.#partial.push(chunk.slice(at));
        return;
      }
      let line = chunk;
      let start = at;
      let end = newline;
      if (this.#partial.length > 0) {
        line = join([...this.#partial, chunk.subarray(at, newline)]);
        start = 0;
        end = line.byteLength;
        this.#partial = [];
        this.#partialBytes = 0;
      }
      at = newline + 1;
      if (end > start && line[end - 1] === 13) end--;
      const blob = this.#onLine(line, start, end);
      if (blob >= 0) this.#blobLeft = blob + 2;
    }
  }
}

/** kn-sock: JSON lines; every line a subscriber receives is a delivery. */
export const KNSOCK: Dialect = {
  name: "kn-sock",
  hello: "",
  subscribe: (topic) => JSON.stringify({ action: "subscribe", topic }) + "\n",
  publish: (topic, message) => JSON.stringify({ action: "publish", topic, message }) + "\n",
  message(line) {
    const message = JSON.parse(line).message;
    return typeof message === "string" ? message : undefined;
  },
  reader(options = {}) {
    const { onDelivery } = options;
    if (onDelivery === undefined) {
      return {
        read(chunk) {
          let count = 0;
          let at = chunk.indexOf(10);
          while (at !== -1) {
            count++;
            at = chunk.indexOf(10, at + 1);
          }
          return count;
        },
      };
    }
    let tail = "";
    return {
      read(chunk) {
        const lines = (tail + decoder.decode(chunk)).split("\n");
        tail = lines.pop()!;
        for (const line of lines) onDelivery(line);
        return lines.length;
      },
    };
  },
};

const MSG = [77, 83, 71, 32]; // "MSG "
const PING = [80, 73, 78, 71]; // "PING"

function startsWith(line: Uint8Array, start: number, end: number, prefix: number[]): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (line[start + i] !== prefix[i]) return false;
  return true;
}

/** Bytes of `text` in UTF-8. */
function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * NATS: `MSG <subject> <sid> [reply-to] <bytes>` then the payload is a
 * delivery; `PING` is answered with `PONG`; `INFO`, `+OK`, `PONG` and `-ERR`
 * are read past (an error closes the connection, which the load sees).
 */
export const NATS: Dialect = {
  name: "nats",
  hello: 'CONNECT {"verbose":false,"pedantic":false}\r\n',
  subscribe: (topic, sid) => `SUB ${topic} ${sid}\r\n`,
  publish: (topic, message) => `PUB ${topic} ${byteLength(message)}\r\n${message}\r\n`,
  message: (payload) => payload,
  reader(options = {}) {
    const { onDelivery, reply } = options;
    let count = 0;
    const scanner = new LineBlobScanner((line, start, end) => {
      if (startsWith(line, start, end, MSG)) {
        return parseInteger(line, line.lastIndexOf(32, end - 1) + 1, end);
      }
      if (startsWith(line, start, end, PING)) reply?.("PONG\r\n");
      return -1;
    }, (payload) => {
      count++;
      onDelivery?.(decoder.decode(payload));
    });
    return {
      read(chunk) {
        count = 0;
        scanner.feed(chunk);
        return count;
      },
    };
  },
};

function bulk(text: string): string {
  return `$${byteLength(text)}\r\n${text}\r\n`;
}

const MESSAGE = encoder.encode("message");

function isMessage(kind: Uint8Array | null): boolean {
  if (kind === null || kind.byteLength !== MESSAGE.byteLength) return false;
  for (let i = 0; i < MESSAGE.byteLength; i++) if (kind[i] !== MESSAGE[i]) return false;
  return true;
}

/**
 * Redis, RESP2: a `*3` array whose first element is `message` is a
 * delivery (its third, the message); `subscribe` confirmations and the
 * `:N` replies a publisher gets are read past. Arrays are not nested in
 * RESP2 pub/sub, so the reader does not nest them.
 */
export const REDIS: Dialect = {
  name: "redis",
  hello: "",
  subscribe: (topic) => `*2\r\n${bulk("SUBSCRIBE")}${bulk(topic)}`,
  publish: (topic, message) => `*3\r\n${bulk("PUBLISH")}${bulk(topic)}${bulk(message)}`,
  message: (payload) => payload,
  reader(options = {}) {
    const { onDelivery } = options;
    let count = 0;
    /** Elements of the current array still to come; 0 outside an array. */
    let left = 0;
    let index = 0;
    let kind: Uint8Array | null = null;
    let payload: Uint8Array | null = null;
    const element = (value: Uint8Array | null): void => {
      if (left === 0) return; // a reply outside an array (":1" to PUBLISH)
      if (index === 0) kind = value;
      else if (index === 2) payload = value;
      index++;
      left--;
      if (left === 0 && index === 3 && isMessage(kind)) {
        count++;
        if (onDelivery !== undefined && payload !== null) onDelivery(decoder.decode(payload));
      }
    };
    const scanner = new LineBlobScanner((line, start, end) => {
      const type = line[start];
      const n = parseInteger(line, start + 1, end);
      if (type === 42 /* * */) {
        left = n > 0 ? n : 0;
        index = 0;
        kind = null;
        payload = null;
      } else if (type === 36 /* $ */) {
        if (n >= 0) return n;
        element(null);
      } else {
        element(null); // ":N", "+OK", "-ERR ..."
      }
      return -1;
    }, element);
    return {
      read(chunk) {
        count = 0;
        scanner.feed(chunk);
        return count;
      },
    };
  },
};
