/**
 * Test helpers for the client: a fake server made of raw connections (to
 * see exactly what the client sends, and to misbehave on purpose), and
 * waiting for status events.
 */

import type { Conn, Listener, PubSubClientOptions, StatusEvent, Transport } from "../mod.ts";
import { PubSubClient } from "../mod.ts";
import { RawPeer } from "./helpers.ts";

/** A listener whose connections are handed out as `RawPeer`s, in order. */
export class FakeServer {
  readonly listener: Listener;
  readonly peers: RawPeer[] = [];
  readonly #accepted: AsyncIterator<Conn>;

  constructor(listener: Listener) {
    this.listener = listener;
    this.#accepted = listener[Symbol.asyncIterator]();
  }

  /** Listens on 127.0.0.1 and a free port (or `port`). */
  static async start(transport: Transport, port = 0): Promise<FakeServer> {
    return new FakeServer(await transport.listen({ hostname: "127.0.0.1", port }));
  }

  get port(): number {
    return this.listener.addr.port;
  }

  /** The next connection. */
  async accept(): Promise<RawPeer> {
    const next = await this.#accepted.next();
    if (next.done) throw new Error("Listener closed before a connection came");
    const peer = new RawPeer(next.value);
    this.peers.push(peer);
    return peer;
  }

  /** Stops listening and closes every connection it accepted. */
  async close(): Promise<void> {
    await this.listener.close();
    for (const peer of this.peers) peer.close();
  }
}

/** Reads a `hello` from `peer` and answers it as our server would; returns the frame. */
export async function answerHello(
  peer: RawPeer,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const hello = await peer.json();
  if (hello.action !== "hello") throw new Error(`Expected hello, got ${JSON.stringify(hello)}`);
  await peer.sendJson({
    action: "hello",
    version: 1,
    server_id: "fake",
    max_line: 1048576,
    max_payload: 1048576,
    ping_interval: 0,
    id: hello.id,
    ...extra,
  });
  return hello;
}

/** A fake server, the server side of one client's connection, and the client. */
export interface FakeLink {
  fake: FakeServer;
  peer: RawPeer;
  client: PubSubClient;
  /** The client's hello frame, when it said hello. */
  hello: Record<string, unknown> | null;
}

/**
 * Starts a fake server and connects a client to it with `options`; when the
 * client says hello (`hello` or `auth`), the fake answers it, with `extra`
 * fields, before `connect()` resolves.
 */
export async function connectToFake(
  transport: Transport,
  options: PubSubClientOptions = {},
  extra: Record<string, unknown> = {},
): Promise<FakeLink> {
  const fake = await FakeServer.start(transport);
  const accepted = fake.accept();
  const connecting = PubSubClient.connect("127.0.0.1", fake.port, { transport, ...options });
  const peer = await accepted;
  const says = (options.hello !== undefined && options.hello !== false) ||
    options.auth !== undefined;
  const hello = says ? await answerHello(peer, extra) : null;
  return { fake, peer, client: await connecting, hello };
}

/**
 * Reads status events until one of type `type` comes; returns it and the
 * events read before it. Fails if the iteration ends first.
 */
export async function nextStatus<T extends StatusEvent["type"]>(
  events: AsyncIterator<StatusEvent>,
  type: T,
): Promise<{ event: Extract<StatusEvent, { type: T }>; before: StatusEvent[] }> {
  const before: StatusEvent[] = [];
  while (true) {
    const next = await events.next();
    if (next.done) {
      throw new Error(`Status ended before "${type}"; got ${JSON.stringify(before)}`);
    }
    if (next.value.type === type) {
      return { event: next.value as Extract<StatusEvent, { type: T }>, before };
    }
    before.push(next.value);
  }
}
