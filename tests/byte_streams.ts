/**
 * Byte-stream helpers for transport tests: read a connection to its end,
 * and write or check a long, position-dependent byte pattern.
 */
import type { Conn } from "../mod.ts";

/** Reads `conn` to its end and returns the bytes. */
export async function readAll(conn: Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** The pattern's byte at position `i`: a misplaced or repeated block shows. */
function patternByte(i: number): number {
  return (i * 31 + (i >>> 13)) & 0xff;
}

/** Writes `total` bytes of the pattern to `conn` in 256 KiB writes. */
export async function writePattern(conn: Conn, total: number): Promise<void> {
  const block = 256 * 1024;
  for (let offset = 0; offset < total; offset += block) {
    const chunk = new Uint8Array(block);
    for (let i = 0; i < block; i++) chunk[i] = patternByte(offset + i);
    await conn.write(chunk);
  }
}

/**
 * Reads `conn` to its end slowly (yielding to the event loop every eight
 * chunks, so the writer runs ahead) and counts the bytes and those that
 * differ from the pattern.
 */
export async function readPattern(conn: Conn): Promise<{ received: number; mismatches: number }> {
  let received = 0;
  let mismatches = 0;
  let chunks = 0;
  for await (const chunk of conn) {
    for (let i = 0; i < chunk.byteLength; i++) {
      if (chunk[i] !== patternByte(received + i)) mismatches++;
    }
    received += chunk.byteLength;
    if (++chunks % 8 === 0) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  return { received, mismatches };
}
