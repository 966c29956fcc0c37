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
 *  - `counts`: entries per non-empty bucket, so that removal knows when to
 *    clear a bit. Only writers touch it; a Map keeps memory proportional to
 *    the distinct partial keys, which for early stages are few.
 *
 * The bits array is replaced on resize; its owner bumps its arrays version
 * so generated code rebinds it.
 */

const MIN_BUCKETS = 64;

export class StageFilter {
  /** One bit per bucket, read by lookups. */
  bits: Int32Array;
  /** `bits.length - 1` (a power of two minus one). */
  wordMask: number;
  private bucketMask: number;
  private readonly counts = new Map<number, number>();

  constructor(buckets = MIN_BUCKETS) {
    const n = Math.max(MIN_BUCKETS, buckets);
    this.bits = new Int32Array(n >>> 5);
    this.wordMask = this.bits.length - 1;
    this.bucketMask = n - 1;
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
    const c = this.counts.get(b) ?? 0;
    this.counts.set(b, c + 1);
    if (c === 0) this.bits[b >>> 5]! |= 1 << b;
  }

  remove(h: number): void {
    const b = h & this.bucketMask;
    const c = this.counts.get(b) ?? 0;
    if (c <= 1) {
      this.counts.delete(b);
      this.bits[b >>> 5]! &= ~(1 << b);
    } else {
      this.counts.set(b, c - 1);
    }
  }

  /** Rebuilds with `buckets` buckets from the partial hashes of every entry. */
  rebuild(buckets: number, hashes: Iterable<number>): void {
    const n = Math.max(MIN_BUCKETS, buckets);
    this.bits = new Int32Array(n >>> 5);
    this.wordMask = this.bits.length - 1;
    this.bucketMask = n - 1;
    this.counts.clear();
    for (const h of hashes) this.add(h);
  }
}
