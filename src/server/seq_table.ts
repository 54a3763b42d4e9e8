/**
 * The per-topic sequence numbers (`seq`) of deliveries, in a table bounded
 * in bytes (`maxSeqTableBytes`): when full it is emptied and every topic's
 * sequence starts again at 1, so a client that sees `seq` 1 again knows it
 * cannot count gaps across it.
 *
 * @module
 */

import { ENTRY_BYTES, stringBytes } from "../_memory_cost.ts";

/** What one entry costs beside its topic's text: its slot, and a boxed number. */
const SEQ_ENTRY_BYTES = ENTRY_BYTES + 16;

/** The last `seq` of each topic. */
export class SeqTable {
  readonly #seqs = new Map<string, number>();
  readonly #maxBytes: number;
  #bytes = 0;

  /** @param maxBytes The most memory the table may hold, counted with each entry's overhead. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The topic's last `seq`, 0 when it has none (yet, or since the table was emptied). */
  last(topic: string): number {
    return this.#seqs.get(topic) ?? 0;
  }

  /** Takes the topic's next `seq`. */
  next(topic: string): number {
    const last = this.#seqs.get(topic);
    if (last === undefined) {
      const bytes = SEQ_ENTRY_BYTES + stringBytes(topic);
      if (this.#bytes + bytes > this.#maxBytes) {
        this.#seqs.clear();
        this.#bytes = 0;
      }
      this.#bytes += bytes;
    }
    const seq = (last ?? 0) + 1;
    this.#seqs.set(topic, seq);
    return seq;
  }
}
