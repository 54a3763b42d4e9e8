/**
 * A server-wide memory budget shared by many holders (the unfinished lines
 * of every connection): each holder moves its own share, and a share that
 * would take the total past the budget is refused.
 *
 * @module
 */

/** Bytes held against one server-wide limit. */
export class SharedBudget {
  /** The most bytes all holders may hold together. */
  readonly max: number;
  /** Bytes held now, by all holders. */
  used = 0;

  /** @param max The most bytes all holders may hold together. */
  constructor(max: number) {
    this.max = max;
  }

  /**
   * Moves one holder's share from `from` to `to` bytes. A share that grows
   * past what is left is refused: `false`, and nothing changes. Shrinking is
   * never refused.
   */
  move(from: number, to: number): boolean {
    if (to > from && this.used - from + to > this.max) return false;
    this.used += to - from;
    return true;
  }
}
