/**
 * The per-topic sequence numbers (`seq`) of deliveries, in a table bounded
 * in bytes (`maxSeqTableBytes`): when full it is emptied and every topic's
 * sequence starts again at 1, so a client that sees `seq` 1 again knows it
 * cannot count gaps across it.
 *
 * On a cluster node, loss between nodes is shown through `seq` too: after
 * each loss event the backplane detects ({@linkcode SeqTable.lossDetected}),
 * the next delivery of every topic the table holds (but node-local `$SYS/`
 * ones) skips one number, whichever topics the lost publishes were on
 * (nobody can know). It costs nothing per loss event: each entry remembers
 * the loss events it has seen, and catches up on its next delivery.
 *
 * @module
 */

import { isNodeLocal } from "../backplane/backplane.ts";
import { ENTRY_BYTES, OBJECT_BYTES, stringBytes } from "../_memory_cost.ts";

/** What one entry costs beside its topic's text: its slot, and its object. */
const SEQ_ENTRY_BYTES = ENTRY_BYTES + OBJECT_BYTES;

/** One topic's numbering. */
interface SeqEntry {
  /** The last `seq` it handed out. */
  seq: number;
  /** The loss events it has accounted for. */
  losses: number;
}

/** The last `seq` of each topic. */
export class SeqTable {
  readonly #seqs = new Map<string, SeqEntry>();
  readonly #maxBytes: number;
  #bytes = 0;
  /** Loss events detected so far. */
  #losses = 0;

  /** @param maxBytes The most memory the table may hold, counted with each entry's overhead. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** The topic's last `seq`, 0 when it has none (yet, or since the table was emptied). */
  last(topic: string): number {
    return this.#seqs.get(topic)?.seq ?? 0;
  }

  /**
   * Publishes may have been lost (the backplane found a gap, or went down):
   * the next `seq` of every topic held now but `$SYS/` ones skips one.
   */
  lossDetected(): void {
    this.#losses++;
  }

  /** Takes the topic's next `seq`. */
  next(topic: string): number {
    const entry = this.#seqs.get(topic);
    if (entry !== undefined) {
      if (entry.losses !== this.#losses) {
        entry.losses = this.#losses;
        if (!isNodeLocal(topic)) entry.seq++;
      }
      return ++entry.seq;
    }
    const bytes = SEQ_ENTRY_BYTES + stringBytes(topic);
    if (this.#bytes + bytes > this.#maxBytes) {
      this.#seqs.clear();
      this.#bytes = 0;
    }
    this.#bytes += bytes;
    this.#seqs.set(topic, { seq: 1, losses: this.#losses });
    return 1;
  }
}
