/**
 * What a client does with each frame the server sends: deliveries to their
 * subscription's queue (or a waiting flush or request), answers to whoever
 * waits for them, pings answered, notices and stray errors reported.
 *
 * @module
 */

import { ignore } from "../_async.ts";
import { ErrorCode, ServerError } from "../errors.ts";
import type { JsonValue, ServerFrame } from "../protocol/frames.ts";
import type { Message } from "./message.ts";
import type { ClientSession } from "./client_session.ts";
import type { Connection } from "./connection.ts";

/**
 * Error codes whose frame announces that the server closes the connection:
 * the `disconnect` status event reports them, not an `error` event.
 */
const CLOSING_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCode.LineTooLong,
  ErrorCode.SlowConsumer,
  ErrorCode.TooManyConnections,
  ErrorCode.AuthFailed,
  ErrorCode.AuthTimeout,
  ErrorCode.PingTimeout,
  ErrorCode.ServerShutdown,
]);

const PONG = { action: "pong" } as const;

/**
 * Handles one frame that arrived on `link` for `session`; `size` is its
 * line's length in bytes.
 */
export function receiveFrame(
  session: ClientSession,
  frame: ServerFrame,
  size: number,
  link: Connection,
): void {
  const { answers, counters, inbox, settings: { logger }, status, subscriptions } = session;
  switch (frame.kind) {
    case "message": {
      const { kind: _, ...message }: Message & { kind: "message" } = frame;
      if (answers.take(message)) return;
      if (message.reply !== undefined) {
        const reply = message.reply;
        message.respond = (answer: JsonValue) => session.publish(reply, answer);
      }
      const queue = subscriptions.route(message.topic);
      if (queue === undefined) {
        // In flight when its subscription ended: nobody asked for it any more.
        counters.droppedMessages++;
        logger.debug("Dropped a message for an ended subscription", { topic: message.topic });
        return;
      }
      inbox.push(queue, message, size);
      return;
    }
    case "ok":
      return answers.ok(frame.id);
    case "hello": {
      const { kind: _, id: _id, ...info } = frame;
      return answers.hello(info);
    }
    case "error": {
      const error = new ServerError(frame.code, frame.error);
      if (answers.error(frame.id, error)) return;
      link.serverError = error;
      counters.lastServerError = error;
      logger.warn("Server sent an error", { code: frame.code, error: frame.error });
      if (!CLOSING_CODES.has(frame.code)) status.emit({ type: "error", error });
      return;
    }
    case "ping":
      link.send(frame.id === undefined ? PONG : { action: "pong", id: frame.id }, true)
        .catch(ignore);
      return;
    case "pong":
      // Any line is a sign of life (the connection counted it); a pong with
      // an id answers a flush().
      if (frame.id !== undefined) answers.ok(frame.id);
      return;
    case "slow_consumer": {
      const { policy, dropped, topics } = frame;
      counters.droppedByServer += dropped;
      logger.warn("Server dropped messages for this client", { policy, dropped });
      status.emit({ type: "slowConsumer", policy, dropped, topics });
      return;
    }
    case "backplane": {
      const { kind: _, ...notice } = frame;
      if (notice.state === "down") logger.warn("Server cut off from its cluster", { ...notice });
      else logger.info("Server back in its cluster", { ...notice });
      status.emit({ type: "backplane", ...notice });
      return;
    }
    default:
      logger.debug("Ignored a frame", { action: frame.action });
  }
}
