/**
 * `WebSocketConn` against a fake socket: the close paths, the limits and
 * flow control, without a network.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionClosedError } from "../mod.ts";
import { deferred } from "../src/_async.ts";
import {
  UNPAUSABLE_UNREAD_BYTES,
  WebSocketConn,
  type WsSocket,
} from "../src/transport/_ws_conn.ts";

interface Fake extends WsSocket {
  calls: string[];
  sends: { bytes: Uint8Array; done: ReturnType<typeof deferred<void>> }[];
}

function fakeSocket(pausable: boolean): Fake {
  const fake: Fake = {
    calls: [],
    sends: [],
    send(bytes) {
      const done = deferred<void>();
      fake.sends.push({ bytes, done });
      return done.promise;
    },
    close: (code, reason) => void fake.calls.push(`close ${code} ${reason}`),
    terminate: () => void fake.calls.push("terminate"),
  };
  if (pausable) {
    fake.pause = () => void fake.calls.push("pause");
    fake.resume = () => void fake.calls.push("resume");
  }
  return fake;
}

function connOver(socket: WsSocket, maxMessageBytes = 1024): WebSocketConn {
  const addr = { hostname: "", port: 0 };
  return new WebSocketConn(socket, { localAddr: addr, remoteAddr: addr, maxMessageBytes });
}

test("WebSocketConn: closeWrite() during a write sends the close once the write is done", async () => {
  const socket = fakeSocket(true);
  const conn = connOver(socket);
  const writing = conn.write(new Uint8Array(10));
  conn.closeWrite();
  assert.deepEqual(socket.calls, []);
  socket.sends[0].done.resolve();
  await writing;
  assert.deepEqual(socket.calls, ["close 1000 "]);
  await assert.rejects(conn.write(new Uint8Array(1)), ConnectionClosedError);
  conn.onClose();
  await conn.closed;
});

test("WebSocketConn: close() rejects the write in flight and is idempotent", async () => {
  const socket = fakeSocket(true);
  const conn = connOver(socket);
  const writing = conn.write(new Uint8Array(10));
  conn.close();
  conn.close();
  await assert.rejects(writing, ConnectionClosedError);
  await conn.closed;
  assert.deepEqual(socket.calls, ["terminate"]);
});

test("WebSocketConn: a failed send rejects with ConnectionClosedError and closes", async () => {
  const socket = fakeSocket(true);
  const conn = connOver(socket);
  const writing = conn.write(new Uint8Array(10));
  socket.sends[0].done.reject(new Error("dropped"));
  await assert.rejects(writing, ConnectionClosedError);
  await conn.closed;
  assert.deepEqual(socket.calls, ["terminate"]);
});

test("WebSocketConn: a message over the limit closes with 1009, keeping what came before", async () => {
  const socket = fakeSocket(true);
  const conn = connOver(socket, 4);
  conn.receive(new Uint8Array([1, 2, 3, 4]).buffer);
  conn.receive("hello"); // 5 UTF-8 bytes
  assert.deepEqual(socket.calls, ["close 1009 Message too big"]);
  const chunks: Uint8Array[] = [];
  for await (const chunk of conn) chunks.push(chunk);
  assert.deepEqual(chunks, [new Uint8Array([1, 2, 3, 4])]);
});

test("WebSocketConn: a pausable socket is paused past 64 KiB unread and resumed once read", async () => {
  const socket = fakeSocket(true);
  const conn = connOver(socket, 1024 * 1024);
  conn.receive(new Uint8Array(64 * 1024));
  conn.receive(new Uint8Array(1));
  assert.deepEqual(socket.calls, ["pause"]);
  const iterator = conn[Symbol.asyncIterator]();
  await iterator.next();
  assert.deepEqual(socket.calls, ["pause", "resume"]);
  conn.close();
});

test("WebSocketConn: an unpausable socket past its unread bound closes with 1008", async () => {
  const socket = fakeSocket(false);
  const conn = connOver(socket, UNPAUSABLE_UNREAD_BYTES);
  const block = new Uint8Array(1024 * 1024);
  for (let i = 0; i < UNPAUSABLE_UNREAD_BYTES / block.byteLength; i++) conn.receive(block);
  assert.deepEqual(socket.calls, ["close 1008 Too many unread bytes"]);
  await conn.closed;
  assert.equal((await conn[Symbol.asyncIterator]().next()).done, true);
});

test("WebSocketConn: the peer's close ends iteration after what was received", async () => {
  const socket = fakeSocket(true);
  const conn = connOver(socket);
  conn.receive("a\nb");
  conn.onClose();
  const chunks: string[] = [];
  for await (const chunk of conn) chunks.push(new TextDecoder().decode(chunk));
  assert.deepEqual(chunks, ["a\nb"]);
  await conn.closed;
  await assert.rejects(conn.write(new Uint8Array(1)), ConnectionClosedError);
});

test("WebSocketConn: a write past maxWriteBytes goes out as messages cut after line ends", async () => {
  const parts: string[] = [];
  const socket: WsSocket = {
    send(bytes) {
      parts.push(new TextDecoder().decode(bytes));
      return Promise.resolve();
    },
    close() {},
    terminate() {},
  };
  const conn = connOver(socket);
  assert.equal(conn.maxWriteBytes, Infinity);
  await conn.write(new TextEncoder().encode("ab\ncdef\nghijklmnopq\nr\n"));
  assert.deepEqual(parts, ["ab\ncdef\nghijklmnopq\nr\n"], "no bound: one message");
  parts.length = 0;
  conn.maxWriteBytes = 8;
  await conn.write(new TextEncoder().encode("ab\ncdef\nghijklmnopq\nr\n"));
  // Cut after the last line end that fits; a line longer than the bound is cut at it.
  assert.deepEqual(parts, ["ab\ncdef\n", "ghijklmn", "opq\nr\n"]);
  assert.throws(() => conn.maxWriteBytes = 0, RangeError);
  assert.throws(() => conn.maxWriteBytes = 1.5, RangeError);
  conn.close();
});
