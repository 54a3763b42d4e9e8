/**
 * `@kn-sock/pubsub`: topic-based publish/subscribe over TCP for Deno, Bun
 * and Node, wire-compatible with the Python library kn-sock.
 *
 * @example A server and a client
 * ```ts
 * import { PubSubClient, startPubSubServer } from "@kn-sock/pubsub";
 *
 * const server = await startPubSubServer({ port: 0 });
 * const client = await PubSubClient.connect("127.0.0.1", server.addr.port);
 * await client.subscribe("news/technology");
 * await client.publish("news/technology", "New AI breakthrough announced!");
 * console.log(await client.recv({ timeout: 1000 }));
 * // { topic: "news/technology", message: "New AI breakthrough announced!" }
 * await client.close();
 * await server.close();
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
} from "./src/errors.ts";
export {
  type ClientLimits,
  DEFAULT_CLIENT_LIMITS,
  DEFAULT_SERVER_LIMITS,
  DEFAULT_SLOW_CONSUMER_POLICY,
  resolveLimits,
  type ServerLimits,
  WEBSOCKET_SEND_BYTES,
} from "./src/limits.ts";
export { type LogFields, type Logger, silentLogger } from "./src/logger.ts";
export type {
  Addr,
  Conn,
  ConnectOptions,
  Listener,
  ListenOptions,
  TlsConnectOptions,
  TlsListenOptions,
  Transport,
} from "./src/transport/types.ts";
export { defaultTransport, detectRuntime, type RuntimeName } from "./src/transport/auto.ts";
export type {
  FetchHandler,
  HttpListener,
  HttpRequestInfo,
  HttpTransport,
  ServeHttpOptions,
  WebSocketInfo,
  WebSocketRoute,
} from "./src/transport/http_types.ts";
export { createMemoryTransport } from "./src/transport/memory.ts";
export { LineDecoder } from "./src/protocol/line_decoder.ts";
export {
  decodeClientFrame,
  decodeClientText,
  decodeServerFrame,
  encodeClientFrame,
  encodeDelivery,
  encodeErrorFrame,
  toAsciiJson,
} from "./src/protocol/codec.ts";
export {
  type BackplaneNotice,
  ClientAction,
  type ClientFrame,
  type Delivery,
  type ErrorFrame,
  type FrameId,
  type Headers,
  type HelloFrame,
  isSlowConsumerPolicy,
  type JsonValue,
  type PingFrame,
  type PongFrame,
  type PublishFrame,
  type ServerFrame,
  type ServerInfo,
  type SlowConsumerNotice,
  SlowConsumerPolicy,
  type SubscribeFrame,
  type UnsubscribeFrame,
} from "./src/protocol/frames.ts";
export { jsonValueProblem } from "./src/protocol/json_value.ts";
export { topicProblem } from "./src/topic/validate_topic.ts";
export { SubscriptionIndex } from "./src/topic/subscription_index.ts";
export { hasWildcard, matchLevels, matchTopic, patternProblem } from "./src/topic/pattern.ts";
export { patternCovers, patternsOverlap } from "./src/topic/pattern_relations.ts";
export { hashPassword, type HashPasswordOptions, verifyPassword } from "./src/auth/password.ts";
export { hashToken } from "./src/auth/token.ts";
export { type PermissionRule, type Permissions, PermissionSet } from "./src/auth/permissions.ts";
export {
  parseUsersConfig,
  type PasswordUser,
  type TokenUser,
  type UserEntry,
  type UsersConfig,
} from "./src/auth/users_config.ts";
export { Authenticator, type AuthResult, type Credentials } from "./src/auth/authenticator.ts";
export type {
  ConnectionTransport,
  PermissionChecker,
  ServerClient,
} from "./src/server/server_client.ts";
export type { ClusterStats, ConnectionsByTransport, ServerStats } from "./src/server/stats.ts";
export type {
  Backplane,
  BackplaneEvent,
  BackplaneHost,
  BackplaneState,
  BackplaneStats,
  GroupMembership,
  InboundPublish,
  OutboundPublish,
  RetainedMessage,
} from "./src/backplane/backplane.ts";
export { PubSubServer, startPubSubServer } from "./src/server/pubsub_server.ts";
export { WARM_UP_MESSAGES, warmUpPublishPath } from "./src/server/warm_up.ts";
export { SYS_BACKPLANE_TOPIC } from "./src/server/cluster_node.ts";
export {
  type DashboardAsset,
  DEFAULT_MONITOR_HOST,
  DEFAULT_MONITOR_PORT,
  type MonitorOptions,
} from "./src/server/monitor/monitor_options.ts";
export type {
  HttpRoute,
  PubSubHandler,
  PubSubServerOptions,
  ServerPublishOptions,
  WebSocketServerOptions,
} from "./src/server/server_options.ts";
export type { ServerAuthenticator } from "./src/server/handshake.ts";
export { PubSubClient } from "./src/client/pubsub_client.ts";
export type { Message } from "./src/client/message.ts";
export type {
  FlushOptions,
  HelloOptions,
  PublishOptions,
  PubSubClientOptions,
  RequestOptions,
  SubscribeOptions,
} from "./src/client/options.ts";
export { type ClientAuth, OfflineOverflow } from "./src/client/options.ts";
export type { RecvOptions } from "./src/client/inbox.ts";
export { Subscription, type SubscriptionHost } from "./src/client/subscription.ts";
export {
  backoffDelay,
  type BackoffOptions,
  DEFAULT_RECONNECT,
  type ReconnectOptions,
  type ReconnectPolicy,
  reconnectPolicy,
} from "./src/client/backoff.ts";
export type {
  BackplaneStatus,
  CloseStatus,
  ConnectStatus,
  DisconnectStatus,
  ErrorStatus,
  ReconnectStatus,
  SlowConsumerStatus,
  StatusEvent,
} from "./src/client/status.ts";
