/**
 * Hex helpers for test vectors.
 *
 * Vectors are written the way OVS's `tests/*.at` and our golden files write them:
 * hex bytes separated by any whitespace, with `#` comments to the end of a line,
 * so each field can carry its own note. `hex()` is strict about everything else
 * (odd digit counts, stray characters) because a typo in a vector must fail loudly,
 * not silently produce a different message.
 */

/** Parses hex text (whitespace and `#` comments allowed) into bytes. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/#[^\n]*/g, "").replace(/\s+/g, "");
  if (digits.length % 2 !== 0) throw new Error(`odd number of hex digits (${digits.length})`);
  if (!/^[0-9a-fA-F]*$/.test(digits))
    throw new Error(`not hex: ${JSON.stringify(digits.slice(0, 40))}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lower-case hex with no separators, the form `ovs-ofctl ofp-print HEX` accepts. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Concatenates byte arrays (test-side convenience, not a hot path). */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Big-endian integer of `width` bytes as bytes (width ≤ 8). */
export function be(value: number | bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let v = BigInt(value);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Byte-wise equality (Uint8Array subclasses, e.g. Buffer, compare equal to plain arrays). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** First differing offset of two byte strings, or -1 when equal (for readable failures). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** A compact description of where two byte strings differ, for assertion messages. */
export function describeDifference(actual: Uint8Array, expected: Uint8Array): string {
  const at = firstDifference(actual, expected);
  if (at < 0) return "identical";
  const window = (b: Uint8Array): string => toHex(b.subarray(Math.max(0, at - 8), at + 8));
  return (
    `differ at byte ${at} (lengths ${actual.length} vs ${expected.length}): ` +
    `actual …${window(actual)}… expected …${window(expected)}…`
  );
}
