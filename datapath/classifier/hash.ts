/**
 * The hash of a masked key, shared by the subtable code (insert/remove) and
 * the generated lookup functions, which inline the same constants.
 *
 * Shape (performance.md §3.3): a *sum* of independent `Math.imul` products,
 * one odd multiplier per FlowKey word index, then a short
 * xor-shift/multiply finaliser. The products do not depend on each other, so
 * the CPU pipelines them; a serial murmur-style chain measured 63 → 50 ns
 * against this form. Everything stays int32 (`| 0`, no `>>> 0`).
 *
 * The multiplier belongs to the key *word*, not to its position in a
 * subtable, so `Math.imul(w[31] & 0xffff, C31)` is the same product in every
 * subtable that matches eth_type exactly: the generated lookup computes such
 * shared products once for all subtables.
 *
 * A hash of 0 marks an empty slot, so the stored tag is `h | 1`; the probe
 * start is `h & capMask` (bit 0 still counts there).
 */

/** Multiplier for FlowKey word `i` (odd, well spread). */
export const HASH_MULT: Int32Array = (() => {
  const n = 128;
  const out = new Int32Array(n);
  // splitmix32-style sequence from a fixed seed: deterministic across runs.
  let s = 0x9e3779b9 | 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    out[i] = z | 1;
  }
  return out;
})();

/** Second multiplier of the finaliser. */
export const HASH_FINAL_MULT = 0x45d9f3b;

/** Finaliser: folds high bits down so that `& capMask` sees all of them. */
export function hashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, HASH_FINAL_MULT);
  h ^= h >>> 16;
  return h;
}

/** Hash of the masked values `vals[j]` of key words `words[j]`. */
export function hashValues(words: Int32Array, vals: Int32Array): number {
  let h = 0;
  for (let j = 0; j < words.length; j++) h = (h + Math.imul(vals[j]!, HASH_MULT[words[j]!]!)) | 0;
  return hashFinish(h);
}
