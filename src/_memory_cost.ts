/**
 * Conservative estimates of what JavaScript values cost in memory, for the
 * server's byte budgets: a string, a map or set entry or an object costs
 * more than its text. The figures are upper bounds for V8 and JavaScriptCore
 * on 64-bit machines (measured with `scripts/measure_memory.ts`), so a
 * budget counted with them is not passed in fact.
 *
 * @module
 */

/** An object with a few fields: header, shape pointer, fields, alignment. */
export const OBJECT_BYTES = 80;
/** An empty `Map` or `Set` with its first hash table. */
export const COLLECTION_BYTES = 192;
/** One entry of a `Map` or `Set`: its slot, its bucket, and the table's slack. */
export const ENTRY_BYTES = 80;

/** A string: its header, and two bytes per UTF-16 unit (one-byte strings cost less). */
export function stringBytes(text: string): number {
  return 32 + 2 * text.length;
}
