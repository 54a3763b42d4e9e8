/**
 * What a client does with each frame the server sends: deliveries to their
 * subscription's queue (or a waiting flush or request), answers to whoever
 * waits for them, pings answered, notices and stray errors reported.
 *
 * @module
 */

import { ignore } from "../_async.ts";
import { ErrorCode, ServerError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { JsonValue, ServerFrame } from "../protocol/frames.ts";
import type { Answers } from "./answers.ts";
import type { Connection } from "./connection.ts";
import type { Inbox } from "./inbox.ts";
import type { LocalSubscriptions } from "./local_subscriptions.ts";
import type { RoundTrips } from "./round_trips.ts";
import type { StatusEvents } from "./status.ts";

/** The client's counters, shown by its getters. */
export interface ClientCounters {
  /** Messages for subscriptions that had ended. */
  droppedMessages: number;
  /** Publishes the full offline buffer dropped (`offlineOverflow: "count"`). */
  droppedPublishes: number;
  /** Messages the server dropped for this client (its `slow_consumer` notices). */
  droppedByServer: number;
  /** The last `error` frame about no frame with an `id`. */
  lastServerError: ServerError | null;
}

/** What dispatching needs from its client. */
export interface DispatchHost {
  /** Pending answers. */
  readonly answers: Answers;
  /** Pending flushes and requests. */
  readonly trips: RoundTrips;
  /** Which subscription a message belongs to. */
  readonly local: LocalSubscriptions;
  /** Where messages wait to be taken. */
  readonly inbox: Inbox;
  /** Status events. */
  readonly status: StatusEvents;
  /** The client's counters. */
  readonly counters: ClientCounters;
  /** The client's logger. */
  readonly logger: Logger;
  /** Publishes, for `message.respond()`. */
  publish(topic: string, message: JsonValue): Promise<void>;
}

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

/** Handles one frame that arrived on `link`; `size` is its line's length in bytes. */
export function dispatchFrame(
  host: DispatchHost,
  frame: ServerFrame,
  size: number,
  link: Connection,
): void {
  switch (frame.kind) {
    case "message": {
      const { kind: _, ...message } = frame;
      if (host.trips.take(message)) return;
      if (message.reply !== undefined) {
        const reply = message.reply;
        message.respond = (answer: JsonValue) => host.publish(reply, answer);
      }
      const queue = host.local.route(message.topic);
      if (queue === undefined) {
        // In flight when its subscription ended: nobody asked for it any more.
        host.counters.droppedMessages++;
        host.logger.debug("Dropped a message for an ended subscription", {
          topic: message.topic,
        });
        return;
      }
      host.inbox.push(queue, message, size);
      return;
    }
    case "ok":
      return host.answers.ok(frame.id);
    case "hello": {
      const { kind: _, id: _id, ...info } = frame;
      return host.answers.hello(info);
    }
    case "error": {
      const error = new ServerError(frame.code, frame.error);
      if (host.answers.error(frame.id, error)) return;
      link.serverError = error;
      host.counters.lastServerError = error;
      host.logger.warn("Server sent an error", { code: frame.code, error: frame.error });
      if (!CLOSING_CODES.has(frame.code)) host.status.emit({ type: "error", error });
      return;
    }
    case "ping":
      link.send(frame.id === undefined ? PONG : { action: "pong", id: frame.id }, true)
        .catch(ignore);
      return;
    case "pong":
      // Any line is a sign of life (the connection counted it); a pong with
      // an id answers a flush().
      if (frame.id !== undefined) host.answers.ok(frame.id);
      return;
    case "slow_consumer": {
      host.counters.droppedByServer += frame.dropped;
      host.logger.warn("Server dropped messages for this client", {
        policy: frame.policy,
        dropped: frame.dropped,
      });
      const { policy, dropped, topics } = frame;
      host.status.emit({ type: "slowConsumer", policy, dropped, topics });
      return;
    }
    default:
      host.logger.debug("Ignored a frame", { action: frame.action });
  }
}
