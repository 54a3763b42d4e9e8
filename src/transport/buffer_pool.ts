/**
 * A process-wide pool of write buffers, bounded in bytes and in buffers per
 * size. A write queue takes a buffer when it has bytes to hold and gives it
 * back once it has written them all, so an idle connection holds no buffer,
 * and a burst on one connection does not leave its buffer behind for the
 * connection's life. {@linkcode trimBufferPool} (the server calls it on
 * every watchdog round) lets go of the buffers that no one took since the
 * last trim.
 *
 * @module
 */

/** The smallest buffer handed out. */
export const MIN_POOLED_BYTES: number = 512;
/** Buffers up to this size are pooled; larger ones are dropped when given back. */
export const MAX_POOLED_BUFFER_BYTES: number = 1024 * 1024;
/** The most bytes the pool holds, all sizes together. */
export const MAX_POOL_BYTES: number = 64 * 1024 * 1024;
/** The most buffers the pool holds of one size. */
export const MAX_POOLED_PER_SIZE: number = 256;

/** Free buffers by size class: class k holds buffers of MIN_POOLED_BYTES << k. */
const free: Uint8Array[][] = [];
/** Per class, the fewest free buffers since the last trim: that many went unused. */
const lowWater: number[] = [];
for (let size = MIN_POOLED_BYTES; size <= MAX_POOLED_BUFFER_BYTES; size *= 2) {
  free.push([]);
  lowWater.push(0);
}
let pooledBytes = 0;

/** The size class of a buffer of at least `bytes`. */
function classOf(bytes: number): number {
  let k = 0;
  while ((MIN_POOLED_BYTES << k) < bytes) k++;
  return k;
}

/**
 * A buffer of at least `bytes` (a power of two from 512 bytes up, or
 * exactly `bytes` past {@linkcode MAX_POOLED_BUFFER_BYTES}); its contents
 * are undefined.
 *
 * @example
 * ```ts ignore
 * const buffer = takeBuffer(1000); // 1024 bytes
 * giveBuffer(buffer);
 * ```
 */
export function takeBuffer(bytes: number): Uint8Array {
  if (bytes > MAX_POOLED_BUFFER_BYTES) return new Uint8Array(bytes);
  const k = classOf(bytes);
  const list = free[k];
  const buffer = list.pop();
  if (buffer === undefined) return new Uint8Array(MIN_POOLED_BYTES << k);
  if (list.length < lowWater[k]) lowWater[k] = list.length;
  pooledBytes -= buffer.byteLength;
  return buffer;
}

/**
 * Gives a buffer from {@linkcode takeBuffer} back; it is dropped when the
 * pool is full or it is not a pooled size. The caller must not use it again.
 */
export function giveBuffer(buffer: Uint8Array): void {
  const size = buffer.byteLength;
  if (size < MIN_POOLED_BYTES || size > MAX_POOLED_BUFFER_BYTES) return;
  if (pooledBytes + size > MAX_POOL_BYTES) return;
  const k = classOf(size);
  if ((MIN_POOLED_BYTES << k) !== size || free[k].length >= MAX_POOLED_PER_SIZE) return;
  free[k].push(buffer);
  pooledBytes += size;
}

/**
 * Lets go of the buffers that stayed in the pool since the last trim (the
 * oldest first): a pool filled by a burst empties within two trims once
 * the burst is over.
 */
export function trimBufferPool(): void {
  for (let k = 0; k < free.length; k++) {
    const list = free[k];
    const unused = lowWater[k];
    if (unused > 0) {
      pooledBytes -= unused * (MIN_POOLED_BYTES << k);
      list.splice(0, unused);
    }
    lowWater[k] = list.length;
  }
}

/** Bytes held by the pool. */
export function pooledBufferBytes(): number {
  return pooledBytes;
}
