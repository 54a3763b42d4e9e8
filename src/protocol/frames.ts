/**
 * The frames of the kn-sock wire protocol, as TypeScript types. Each frame
 * is one JSON object on one `\n`-terminated line; `docs/PROTOCOL.md` has
 * examples of every frame.
 *
 * @module
 */

/** Any value JSON can carry. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The actions a client may send (kn-sock's three). */
export const ClientAction = {
  /** Start receiving a topic's messages. */
  Subscribe: "subscribe",
  /** Stop receiving a topic's messages. */
  Unsubscribe: "unsubscribe",
  /** Send a message to a topic's subscribers. */
  Publish: "publish",
} as const;

/** One of the values of {@linkcode ClientAction}. */
export type ClientAction = typeof ClientAction[keyof typeof ClientAction];

/** `{"action": "subscribe", "topic": T}` */
export interface SubscribeFrame {
  /** The action. */
  action: "subscribe";
  /** The topic, for example `news/sports`. */
  topic: string;
}

/** `{"action": "unsubscribe", "topic": T}` */
export interface UnsubscribeFrame {
  /** The action. */
  action: "unsubscribe";
  /** The topic. */
  topic: string;
}

/** `{"action": "publish", "topic": T, "message": M}`; a missing `message` reads as `null`. */
export interface PublishFrame {
  /** The action. */
  action: "publish";
  /** The topic. */
  topic: string;
  /** The payload; kn-sock sends strings, any JSON value is passed through. */
  message: JsonValue;
}

/** A frame sent by a client. Fields this version does not know are kept, unread. */
export type ClientFrame = SubscribeFrame | UnsubscribeFrame | PublishFrame;

/** A message delivered to a subscriber: `{"topic": T, "message": M}`. */
export interface Message {
  /** The topic it was published to. */
  topic: string;
  /** The payload, as published. */
  message: JsonValue;
}

/** `{"action": "error", "code": C, "error": text}`, sent by the server. */
export interface ErrorFrame {
  /** The action. */
  action: "error";
  /** A stable code; `docs/PROTOCOL.md` lists them all. */
  code: string;
  /** A human-readable sentence. */
  error: string;
}

/** A frame sent by the server: a delivery, or a control frame with an `action`. */
export type ServerFrame =
  | ({ kind: "message" } & Message)
  | ({ kind: "error" } & ErrorFrame)
  | { kind: "unknown"; action: string };
