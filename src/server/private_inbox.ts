/**
 * Private inboxes: each connection's `_inbox/<connection id>`. With auth on,
 * the router delivers a topic under one to its owner only, the owner may
 * always subscribe under it, and a `reply` must lie under the publisher's own
 * (or be a topic it may publish to).
 *
 * @module
 */

/** The first level of every private inbox topic. */
const INBOX_LEVEL = "_inbox";

/** The private inbox prefix of connection `id`: `_inbox/<id>`. */
export function inboxPrefix(id: number): string {
  return `${INBOX_LEVEL}/${id}`;
}

/** The private inbox prefix `topic` is under (`_inbox/<id>`), or `null` when it is no inbox topic. */
export function inboxOf(topic: string): string | null {
  if (!topic.startsWith(`${INBOX_LEVEL}/`)) return null;
  const end = topic.indexOf("/", INBOX_LEVEL.length + 1);
  return end === -1 ? topic : topic.slice(0, end);
}

/** Whether the topic or pattern `topic` lies under the private inbox `prefix`. */
export function underInbox(topic: string, prefix: string): boolean {
  return topic === prefix || (topic.startsWith(prefix) && topic.charCodeAt(prefix.length) === 0x2f);
}
