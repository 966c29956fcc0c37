/**
 * A presence filter over the partial-key hashes of one lookup stage of one
 * subtable (OVS keeps a `ccmap` of partial hashes per stage index; this is
 * the lookup-side equivalent, smaller and branch-light): a counting Bloom
 * filter with one hash function.
 *
 *  - `bits`: one bit per bucket, bucket = the low bits of the partial hash
 *    (`bits[(h >>> 5) & wordMask] >>> h & 1`; JavaScript shifts use the low 5
 *    bits of the count, so `>>> h` is `>>> (h & 31)`). A lookup reads one
 *    int32: when the bit is clear, no entry of the subtable has this partial
 *    key, so nothing in the subtable can match. When it is set, the entry may
 *    exist (false positives are allowed and only cost the rest of the probe).
 *  - `counts`: entries per bucket, so that removal knows when to clear a bit.
 *    Only writers touch it. 16 bits a bucket; a count that reaches the top
 *    sticks there and its bit stays set for good (a false positive, never a
 *    false negative) — a rebuild recounts.
 *
 * The bits array is replaced on rebuild; its owner bumps its arrays version
 * so generated code rebinds it.
 */

const MIN_BUCKETS = 64;
/** A count that has overflowed: never decremented again. */
const STUCK = 0xffff;

export class StageFilter {
  /** One bit per bucket, read by lookups. */
  bits: Int32Array;
  /** `bits.length - 1` (a power of two minus one). */
  wordMask: number;
  private bucketMask: number;
  private counts: Uint16Array;

  constructor(buckets = MIN_BUCKETS) {
    const n = Math.max(MIN_BUCKETS, buckets);
    this.bits = new Int32Array(n >>> 5);
    this.wordMask = this.bits.length - 1;
    this.bucketMask = n - 1;
    this.counts = new Uint16Array(n);
  }

  /** Number of buckets (bits). */
  get buckets(): number {
    return this.bucketMask + 1;
  }

  /** May an entry with partial hash `h` be present? (False: certainly not.) */
  has(h: number): boolean {
    return ((this.bits[(h >>> 5) & this.wordMask]! >>> h) & 1) !== 0;
  }

  add(h: number): void {
    const b = h & this.bucketMask;
    const c = this.counts[b]!;
    if (c === 0) this.bits[b >>> 5]! |= 1 << b;
    if (c !== STUCK) this.counts[b] = c + 1;
  }

  remove(h: number): void {
    const b = h & this.bucketMask;
    const c = this.counts[b]!;
    if (c === STUCK || c === 0) return;
    this.counts[b] = c - 1;
    if (c === 1) this.bits[b >>> 5]! &= ~(1 << b);
  }

  /** Rebuilds with `buckets` buckets from the partial hashes of every entry. */
  rebuild(buckets: number, hashes: Iterable<number>): void {
    const n = Math.max(MIN_BUCKETS, buckets);
    this.bits = new Int32Array(n >>> 5);
    this.wordMask = this.bits.length - 1;
    this.bucketMask = n - 1;
    this.counts = new Uint16Array(n);
    for (const h of hashes) this.add(h);
  }
}
