/**
 * Big-endian reads straight from a Uint8Array, for the hot decode paths.
 *
 * Why not a DataView: creating one costs about as much as decoding a small
 * TLV, and every message arrives in a fresh buffer (the framer copies it
 * out of the stream), so a per-message DataView is pure overhead. Byte reads
 * need no object and V8 compiles them to a few instructions. Callers bound
 * every offset first (the decoders check lengths before reading), so these
 * do no checking of their own.
 */

/** Unsigned 16-bit big-endian at `at`. */
export function getU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** Unsigned 32-bit big-endian at `at`. */
export function getU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Unsigned 64-bit big-endian at `at`, as a bigint (cookie, metadata, counters). */
export function getU64(b: Uint8Array, at: number): bigint {
  const hi = getU32(b, at);
  const lo = getU32(b, at + 4);
  // The most common 64-bit values on a hot path are 0 (cookies, cookie masks,
  // counters) and all-ones (masks, "any" cookies): shared constants, no
  // allocation. Otherwise stay in the float-exact range when possible.
  if (hi === 0) return lo === 0 ? 0n : BigInt(lo);
  if (hi === 0xffffffff && lo === 0xffffffff) return U64_MAX;
  if (hi < 0x200000) return BigInt(hi * 0x1_0000_0000 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

let lastBuf: Uint8Array | undefined;
let lastView: DataView | undefined;

/**
 * A DataView over exactly `buf`, reused while the same buffer is decoded (the
 * cold decoders that still read through a DataView share one per message).
 */
export function viewOf(buf: Uint8Array): DataView {
  if (buf !== lastBuf || lastView === undefined) {
    lastView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    lastBuf = buf;
  }
  return lastView;
}
