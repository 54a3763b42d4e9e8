/**
 * `@kn-sock/pubsub/browser`: the pub/sub client for web pages. The same
 * {@linkcode PubSubClient} as the main entry, over WebSocket: connect with
 * a `ws://` or `wss://` URL (or pass `transport: webSocketTransport()`).
 * Nothing reachable from here names a runtime API, so it bundles for the
 * browser as it is; `npm run build` emits it as one ES module,
 * `npm/browser/pubsub.js`, which a page can load with
 * `<script type="module">`.
 *
 * @example Subscribing from a page
 * ```ts ignore
 * import { PubSubClient } from "@kn-sock/pubsub/browser";
 *
 * const client = await PubSubClient.connect(`ws://${location.host}/ws`, { hello: true });
 * await client.subscribe("news/#");
 * for await (const { topic, message } of client) {
 *   document.body.append(`${topic}: ${JSON.stringify(message)}\n`);
 * }
 * ```
 *
 * @module
 */

export {
  ConnectError,
  ConnectionClosedError,
  ErrorCode,
  FrameError,
  PubSubError,
  ServerError,
} from "./errors.ts";
export { type ClientLimits, DEFAULT_CLIENT_LIMITS } from "./limits.ts";
export { type LogFields, type Logger, silentLogger } from "./logger.ts";
export type { Addr, Conn, ConnectOptions, Transport } from "./transport/types.ts";
export {
  type WebSocketConstructor,
  type WebSocketEventLike,
  type WebSocketLike,
  webSocketTransport,
  type WebSocketTransportOptions,
} from "./transport/websocket.ts";
export type {
  Delivery,
  Headers,
  JsonValue,
  ServerInfo,
  SlowConsumerPolicy,
} from "./protocol/frames.ts";
export { matchTopic } from "./topic/pattern.ts";
export { PubSubClient } from "./client/pubsub_client.ts";
export type { Message } from "./client/message.ts";
export {
  type ClientAuth,
  type HelloOptions,
  OfflineOverflow,
  type PublishOptions,
  type PubSubClientOptions,
  type RequestOptions,
  type SubscribeOptions,
} from "./client/options.ts";
export type { RecvOptions } from "./client/inbox.ts";
export type { Subscription } from "./client/subscription.ts";
export type { ReconnectOptions } from "./client/backoff.ts";
export type {
  BackplaneStatus,
  CloseStatus,
  ConnectStatus,
  DisconnectStatus,
  ErrorStatus,
  ReconnectStatus,
  SlowConsumerStatus,
  StatusEvent,
} from "./client/status.ts";
