/**
 * What the publish scanner (`publish_scanner.ts`) reads and fills: the
 * bounds a scanned publish must stay within, and where the parts of a
 * scanned line are, which `client_line.ts` turns into a topic, an `id` and
 * the message's bytes. The message finder (`message_span.ts`) fills the
 * message's part of them for the lines the scanner leaves.
 *
 * @module
 */

/** Where a publish line's message is. */
export interface MessageSpan {
  /** The message value's first byte. */
  messageStart: number;
  /** Just past the message value's last byte. */
  messageEnd: number;
}

/** Where the parts of a scanned publish line are. */
export interface PublishSpans extends MessageSpan {
  /** The topic's first character (inside its quotes). */
  topicStart: number;
  /** Just past the topic's last character. */
  topicEnd: number;
  /** Whether the message is a string without escapes (its text is the value). */
  plainString: boolean;
  /** The `id` value's first byte, or -1 when there is none. */
  idStart: number;
  /** Just past the `id` value's last byte. */
  idEnd: number;
  /** Whether the `id` is a string (without escapes) rather than a number. */
  idIsString: boolean;
}

/** The bounds a scanned publish must stay within (the server's limits). */
export interface PublishBounds {
  /** The longest topic, in bytes. */
  maxTopicBytes: number;
  /** The most `/`-separated topic levels. */
  maxTopicLevels: number;
  /** The deepest message nesting (`[]` is depth 1). */
  maxNestingDepth: number;
}
