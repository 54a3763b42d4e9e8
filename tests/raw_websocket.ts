/**
 * A WebSocket client written over a raw TCP connection, for what the
 * WebSocket APIs never do: send a text message that is not UTF-8, stop
 * reading, vanish without a close frame, send any header.
 */

import type { Conn, Transport } from "../mod.ts";
import { nodeTransport } from "../src/transport/node.ts";
import { upgradeRequest } from "./websocket_helpers.ts";

/** The frame opcodes these tests use. */
export const Opcode = { Text: 1, Binary: 2, Close: 8 } as const;

/** One frame from the server (servers do not mask). */
export interface RawFrame {
  opcode: number;
  payload: Uint8Array;
}

const encoder = new TextEncoder();
const MASK = [0x12, 0x34, 0x56, 0x78];

/** A masked client frame, `fin` set. */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.byteLength;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + extra + 4 + length);
  out[0] = 0x80 | opcode;
  const view = new DataView(out.buffer);
  if (extra === 0) out[1] = 0x80 | length;
  else if (extra === 2) {
    out[1] = 0x80 | 126;
    view.setUint16(2, length);
  } else {
    out[1] = 0x80 | 127;
    view.setUint32(2, Math.floor(length / 2 ** 32));
    view.setUint32(6, length >>> 0);
  }
  const at = 2 + extra;
  out.set(MASK, at);
  for (let i = 0; i < length; i++) out[at + 4 + i] = payload[i] ^ MASK[i & 3];
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function headEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.byteLength; i++) {
    if (bytes[i - 3] === 13 && bytes[i - 2] === 10 && bytes[i - 1] === 13 && bytes[i] === 10) {
      return i + 1;
    }
  }
  return -1;
}

/** A WebSocket client over a raw TCP connection. */
export class RawWebSocket {
  readonly conn: Conn;
  #iterator: AsyncIterator<Uint8Array>;
  #buffer: Uint8Array;

  private constructor(conn: Conn, iterator: AsyncIterator<Uint8Array>, rest: Uint8Array) {
    this.conn = conn;
    this.#iterator = iterator;
    this.#buffer = rest;
  }

  /**
   * Upgrades a TCP connection to `/ws` on `port` (`headers`: extra header
   * lines); rejects, closing it, unless the answer is `101`.
   */
  static async open(
    port: number,
    headers: string[] = [],
    transport: Transport = nodeTransport,
  ): Promise<RawWebSocket> {
    const conn = await transport.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(encoder.encode(`${upgradeRequest(...headers)}\r\nHost: 127.0.0.1\r\n\r\n`));
      const iterator = conn[Symbol.asyncIterator]();
      let bytes: Uint8Array = new Uint8Array(0);
      let end = -1;
      while (end === -1) {
        const next = await iterator.next();
        if (next.done) throw new Error("Connection ended during the handshake");
        bytes = concat(bytes, next.value);
        end = headEnd(bytes);
      }
      const head = new TextDecoder().decode(bytes.subarray(0, end));
      if (!head.startsWith("HTTP/1.1 101")) throw new Error(`Upgrade refused: ${head}`);
      return new RawWebSocket(conn, iterator, bytes.slice(end));
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /** Sends one message. */
  send(opcode: number, payload: Uint8Array | string): Promise<void> {
    const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
    return this.conn.write(encodeFrame(opcode, bytes));
  }

  /** The next frame from the server, or `null` when the stream ends first. */
  async frame(): Promise<RawFrame | null> {
    for (;;) {
      const frame = this.#parse();
      if (frame !== null) return frame;
      const next = await this.#iterator.next();
      if (next.done) return null;
      this.#buffer = concat(this.#buffer, next.value);
    }
  }

  /** Reads frames until a close frame and returns its code; `null` if the stream ends first. */
  async closeCode(): Promise<number | null> {
    for (let frame = await this.frame(); frame !== null; frame = await this.frame()) {
      if (frame.opcode === Opcode.Close) {
        return frame.payload.byteLength >= 2 ? (frame.payload[0] << 8) | frame.payload[1] : 1005;
      }
    }
    return null;
  }

  /** Closes the TCP connection at once: no close frame. */
  close(): void {
    this.conn.close();
  }

  #parse(): RawFrame | null {
    const buffer = this.#buffer;
    if (buffer.byteLength < 2) return null;
    let length = buffer[1] & 0x7f;
    let at = 2;
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    if (length === 126) {
      if (buffer.byteLength < 4) return null;
      length = view.getUint16(2);
      at = 4;
    } else if (length === 127) {
      if (buffer.byteLength < 10) return null;
      length = view.getUint32(2) * 2 ** 32 + view.getUint32(6);
      at = 10;
    }
    if (buffer.byteLength < at + length) return null;
    const frame = { opcode: buffer[0] & 0x0f, payload: buffer.slice(at, at + length) };
    this.#buffer = buffer.slice(at + length);
    return frame;
  }
}
