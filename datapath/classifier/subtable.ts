/**
 * One subtable: every rule whose match has one particular mask (OVS
 * `cls_subtable`), as an open-addressing hash table over typed arrays laid
 * out for a branch-free probe.
 *
 * Layout: one row of `stride = nWords + 1` int32s per slot in `rows`: the
 * priority of the slot's head rule (-1 when the slot is empty), then the
 * masked key words. `heads[slot]` is the head rule itself (the highest
 * priority with that match; lower ones hang off `rule.next`, OVS's chained
 * rules). Linear probing from `hash & capMask`, load at most 1/2, deletion by
 * backward shift (no tombstones: probe lengths never degrade under churn).
 *
 * Why this shape (measured; bench/README.md):
 *  - A multi-mask lookup misses in some subtables and hits in others, at
 *    random, so a branch on "hit or miss" is mispredicted often. Reading the
 *    home slot's row unconditionally lets the generated code compute
 *    "priority if all key words are equal, else -1" with xor/or arithmetic (an
 *    empty row has priority -1, so it needs no test either) and keep the best
 *    with a sign-mask select. The only data-dependent branch left is the
 *    continued probe when the home slot holds another key.
 *  - The row address depends on the hash alone, not on a loaded value, so
 *    the key-word loads of every subtable start as soon as its hash is known
 *    (an index array pointing at dense rows was measured slower: one more
 *    dependent load per subtable).
 *
 * Staged lookup (stages.ts, OVS lib/classifier.c): for every intermediate
 * stage of the mask a {@link StageFilter} holds the partial-key hashes of
 * the entries, so a lookup can leave the subtable at the first stage whose
 * partial key no entry has — and a lookup that reports wildcards then only
 * un-wildcards the stages it looked at.
 *
 * Growing replaces arrays, which bumps `arraysVersion` (generated code binds
 * the arrays and must be rebound).
 */
import type { CompiledMatch } from "./compiled-match.js";
import { HASH_MULT, hashFinish, hashValues } from "./hash.js";
import { TRIE_FIELDS, prefixLength } from "./prefix-trie.js";
import type { ClsRule } from "./rule.js";
import { StageFilter } from "./stage-filter.js";
import { stageBoundaries } from "./stages.js";

/**
 * Module-local aliases of the hash helpers: some TypeScript loaders (tsx,
 * vitest) compile imported bindings into getter calls, which costs a call per
 * access inside the lookup loop.
 */
const MULT = HASH_MULT;
const finish = hashFinish;

/** Offsets inside a row. */
export const ROW_PRIORITY = 0;
export const ROW_KEY = 1;
/** Priority of an empty row: lower than any rule's, so it never wins. */
const EMPTY = -1;

/** Capacity ≥ distinct matches << LOAD_SHIFT. */
const LOAD_SHIFT = 1;
const MIN_CAPACITY = 8;
/** Stage-filter buckets per slot (≥ 4 per entry at load ≤ 1/2). */
const FILTER_BUCKETS_PER_SLOT = 4;
/**
 * Slots per subtable are < 2^25 so that generated code can pack
 * (subtable number, slot) into one int32 (codegen.ts).
 */
export const MAX_CAPACITY = 1 << 25;

export class Subtable<P> {
  // ---- set at creation ----
  /** Creation sequence number: breaks ties between equal max priorities deterministically. */
  readonly id: number;
  readonly maskKey: string;
  readonly words: Int32Array;
  readonly masks: Int32Array;
  readonly nWords: number;
  /** Int32s per row in `rows`: head priority, key words. */
  readonly stride: number;
  /** Word counts of the partial keys of the intermediate stages (stages.ts), ascending. */
  readonly stageEnds: Int32Array;
  /**
   * Per trie field (prefix-trie.ts `TRIE_FIELDS`): the prefix length this
   * mask has on it, 0 when it does not match the field, -1 when its mask on
   * the field is not a CIDR prefix (no trie check possible).
   */
  readonly triePlens: Int32Array;
  /** Per trie field: the index in `words` of the field's word, -1 when absent. */
  readonly trieSlots: Int32Array;

  // ---- read per lookup ----
  rows: Int32Array;
  heads: (ClsRule<P> | null)[];
  capMask: number;
  /** One per intermediate stage, parallel to `stageEnds`. */
  readonly filters: StageFilter[];
  /** Highest priority of any rule here (-1 when empty). */
  maxPriority = -1;

  // ---- bookkeeping (writers) ----
  /** Distinct masked values (occupied slots). */
  nMatches = 0;
  /** Rules, counting chained ones. */
  nRules = 0;
  /** Rules at `maxPriority` (so removal knows when to rescan, OVS `max_count`). */
  private maxCount = 0;
  /** Bumped whenever a lookup-side array is replaced (generated code binds them). */
  arraysVersion = 0;
  /** Full hash of each slot's key (for rehashing and deletion). */
  private hashes: Int32Array;
  /** Partial hash of each slot's key at each intermediate stage: `phash[slot * nStages + s]`. */
  private phash: Int32Array;
  /** Scratch for the generic lookup's masked key (no allocation per lookup). */
  private readonly scratch: Int32Array;

  constructor(id: number, m: CompiledMatch) {
    this.id = id;
    this.maskKey = m.maskKey;
    this.words = m.words.slice();
    this.masks = m.masks.slice();
    this.nWords = m.words.length;
    this.stride = this.nWords + ROW_KEY;
    this.stageEnds = Int32Array.from(stageBoundaries(this.words));
    this.triePlens = new Int32Array(TRIE_FIELDS.length);
    this.trieSlots = new Int32Array(TRIE_FIELDS.length);
    for (let f = 0; f < TRIE_FIELDS.length; f++) {
      const j = this.words.indexOf(TRIE_FIELDS[f]!);
      this.trieSlots[f] = j;
      this.triePlens[f] = j < 0 ? 0 : prefixLength(this.masks[j]!);
    }
    this.scratch = new Int32Array(Math.max(1, this.nWords));
    this.rows = Subtable.emptyRows(MIN_CAPACITY, this.stride);
    this.heads = new Array<ClsRule<P> | null>(MIN_CAPACITY).fill(null);
    this.hashes = new Int32Array(MIN_CAPACITY);
    this.phash = new Int32Array(MIN_CAPACITY * this.stageEnds.length);
    this.capMask = MIN_CAPACITY - 1;
    this.filters = [];
    for (let s = 0; s < this.stageEnds.length; s++) {
      this.filters.push(new StageFilter(MIN_CAPACITY * FILTER_BUCKETS_PER_SLOT));
    }
  }

  private static emptyRows(capacity: number, stride: number): Int32Array {
    const rows = new Int32Array(capacity * stride);
    for (let i = 0; i < capacity; i++) rows[i * stride + ROW_PRIORITY] = EMPTY;
    return rows;
  }

  /** Slot holding exactly the masked values `kv[0..nWords)` (hash `h`), or -1. */
  private probe(kv: ArrayLike<number>, h: number): number {
    const n = this.nWords;
    const stride = this.stride;
    const rows = this.rows;
    const heads = this.heads;
    const cm = this.capMask;
    let i = h & cm;
    while (heads[i] !== null) {
      const b = i * stride + ROW_KEY;
      let j = 0;
      while (j < n && rows[b + j] === kv[j]) j++;
      if (j === n) return i;
      i = (i + 1) & cm;
    }
    return -1;
  }

  private findSlot(values: Int32Array): number {
    return this.probe(values, hashValues(this.words, values));
  }

  /** Hashes the masked words `[from, to)` of the key into `kv`, continuing the sum `h`. */
  private hashRange(w: Uint32Array, o: number, from: number, to: number, h: number): number {
    const words = this.words;
    const masks = this.masks;
    const kv = this.scratch;
    for (let j = from; j < to; j++) {
      const k = w[o + words[j]!]! & masks[j]!;
      kv[j] = k;
      h = (h + Math.imul(k, MULT[words[j]!]!)) | 0;
    }
    return h;
  }

  /**
   * Generic (data-driven) lookup of one key in this subtable: the head rule
   * (highest priority) whose match equals the masked key, or null.
   */
  lookup(w: Uint32Array, o: number): ClsRule<P> | null {
    const h = this.hashRange(w, o, 0, this.nWords, 0);
    const slot = this.probe(this.scratch, finish(h));
    return slot < 0 ? null : this.heads[slot]!;
  }

  /**
   * Staged lookup of one key (OVS `find_match_wc`): checks the stage filters
   * in order and leaves at the first stage whose partial key no entry has.
   * Sets `out.rule` to the head rule or null, and returns the number of mask
   * words the answer depends on: the partial key of the failing stage, or
   * all of them. (A key equal to this one on those words gets the same answer.)
   */
  lookupStaged(w: Uint32Array, o: number, out: { rule: ClsRule<P> | null }): number {
    const ends = this.stageEnds;
    let h = 0;
    let from = 0;
    for (let s = 0; s < ends.length; s++) {
      const end = ends[s]!;
      h = this.hashRange(w, o, from, end, h);
      from = end;
      if (!this.filters[s]!.has(finish(h))) {
        out.rule = null;
        return end;
      }
    }
    h = this.hashRange(w, o, from, this.nWords, h);
    const slot = this.probe(this.scratch, finish(h));
    out.rule = slot < 0 ? null : this.heads[slot]!;
    return this.nWords;
  }

  /** The rule with exactly this match and priority, or null. */
  find(m: CompiledMatch, priority: number): ClsRule<P> | null {
    const slot = this.findSlot(m.values);
    if (slot < 0) return null;
    for (let r: ClsRule<P> | null = this.heads[slot]!; r !== null; r = r.next) {
      if (r.priority === priority) return r;
      if (r.priority < priority) break;
    }
    return null;
  }

  /**
   * Adds `rule`. A rule with the same match and priority is replaced and
   * returned (OVS `classifier_replace`); otherwise returns null.
   */
  insert(rule: ClsRule<P>): ClsRule<P> | null {
    const values = rule.match.values;
    const h = hashValues(this.words, values);
    let slot = this.probe(values, h);
    if (slot < 0) {
      if ((this.nMatches + 1) << LOAD_SHIFT > this.capMask + 1) {
        if (this.capMask + 1 >= MAX_CAPACITY) {
          throw new RangeError(`more than ${MAX_CAPACITY >> LOAD_SHIFT} distinct matches in one mask`);
        }
        this.resize((this.capMask + 1) * 2);
      }
      slot = this.claimSlot(values, h);
      rule.next = null;
      this.setHead(slot, rule);
      this.countIn(rule.priority);
      return null;
    }
    // Same match: keep the chain sorted by priority, highest first.
    let prev: ClsRule<P> | null = null;
    let cur: ClsRule<P> | null = this.heads[slot]!;
    while (cur !== null && cur.priority > rule.priority) {
      prev = cur;
      cur = cur.next;
    }
    let replaced: ClsRule<P> | null = null;
    if (cur !== null && cur.priority === rule.priority) {
      replaced = cur;
      rule.next = cur.next;
      cur.next = null;
    } else {
      rule.next = cur;
    }
    if (prev === null) this.setHead(slot, rule);
    else prev.next = rule;
    if (replaced === null) this.countIn(rule.priority);
    return replaced;
  }

  /** Removes `rule` (by identity). Returns false when it is not here. */
  remove(rule: ClsRule<P>): boolean {
    const slot = this.findSlot(rule.match.values);
    if (slot < 0) return false;
    let prev: ClsRule<P> | null = null;
    let cur: ClsRule<P> | null = this.heads[slot]!;
    while (cur !== null && cur !== rule) {
      prev = cur;
      cur = cur.next;
    }
    if (cur === null) return false;
    if (prev !== null) prev.next = rule.next;
    else if (rule.next !== null) this.setHead(slot, rule.next);
    else this.releaseSlot(slot);
    rule.next = null;
    this.countOut(rule.priority);
    return true;
  }

  /** Every rule, heads and chains. */
  *rules(): Generator<ClsRule<P>> {
    const heads = this.heads;
    for (let i = 0; i < heads.length; i++) {
      for (let r: ClsRule<P> | null = heads[i]!; r !== null; r = r.next) yield r;
    }
  }

  // ---- internals ----

  private setHead(slot: number, rule: ClsRule<P>): void {
    this.heads[slot] = rule;
    this.rows[slot * this.stride + ROW_PRIORITY] = rule.priority;
  }

  private countIn(priority: number): void {
    this.nRules++;
    if (priority > this.maxPriority) {
      this.maxPriority = priority;
      this.maxCount = 1;
    } else if (priority === this.maxPriority) {
      this.maxCount++;
    }
  }

  private countOut(priority: number): void {
    this.nRules--;
    if (priority === this.maxPriority && --this.maxCount === 0) {
      // Rescan the chain heads: each is the highest priority of its chain.
      let max = -1;
      let count = 0;
      for (let i = 0; i < this.heads.length; i++) {
        const r = this.heads[i];
        if (r === null || r === undefined) continue;
        if (r.priority > max) {
          max = r.priority;
          count = 1;
        } else if (r.priority === max) {
          count++;
        }
      }
      this.maxPriority = max;
      this.maxCount = count;
    }
  }

  /** Partial hash of stage `s` of `values` (a prefix of the full hash sum). */
  private partialHash(values: Int32Array, s: number): number {
    const end = this.stageEnds[s]!;
    let h = 0;
    for (let j = 0; j < end; j++) h = (h + Math.imul(values[j]!, MULT[this.words[j]!]!)) | 0;
    return finish(h);
  }

  /** Writes `values` (absent, hash `h`) into the first free slot of its probe sequence. */
  private claimSlot(values: Int32Array, h: number): number {
    const cm = this.capMask;
    let i = h & cm;
    while (this.heads[i] !== null) i = (i + 1) & cm;
    this.rows.set(values.subarray(0, this.nWords), i * this.stride + ROW_KEY);
    this.hashes[i] = h;
    const ns = this.stageEnds.length;
    for (let s = 0; s < ns; s++) {
      const ph = this.partialHash(values, s);
      this.phash[i * ns + s] = ph;
      this.filters[s]!.add(ph);
    }
    this.nMatches++;
    return i;
  }

  /** Empties `slot` and shifts later members of the cluster back (linear-probing deletion). */
  private releaseSlot(slot: number): void {
    const stride = this.stride;
    const ns = this.stageEnds.length;
    const rows = this.rows;
    const heads = this.heads;
    const hashes = this.hashes;
    const phash = this.phash;
    for (let s = 0; s < ns; s++) this.filters[s]!.remove(phash[slot * ns + s]!);
    const cm = this.capMask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & cm;
      if (heads[j] === null) break;
      const home = hashes[j]! & cm;
      // Entry j may move into the hole when its home is not cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      rows.copyWithin(hole * stride, j * stride, j * stride + stride);
      heads[hole] = heads[j]!;
      hashes[hole] = hashes[j]!;
      phash.copyWithin(hole * ns, j * ns, j * ns + ns);
      hole = j;
    }
    rows.fill(0, hole * stride, hole * stride + stride);
    rows[hole * stride + ROW_PRIORITY] = EMPTY;
    heads[hole] = null;
    this.nMatches--;
  }

  private resize(capacity: number): void {
    const stride = this.stride;
    const ns = this.stageEnds.length;
    const oldRows = this.rows;
    const oldHeads = this.heads;
    const oldHashes = this.hashes;
    const oldPhash = this.phash;
    const cm = capacity - 1;
    const rows = Subtable.emptyRows(capacity, stride);
    const heads = new Array<ClsRule<P> | null>(capacity).fill(null);
    const hashes = new Int32Array(capacity);
    const phash = new Int32Array(capacity * ns);
    for (let s = 0; s < oldHeads.length; s++) {
      const r = oldHeads[s]!;
      if (r === null) continue;
      const h = oldHashes[s]!;
      let i = h & cm;
      while (heads[i] !== null) i = (i + 1) & cm;
      rows.set(oldRows.subarray(s * stride, s * stride + stride), i * stride);
      heads[i] = r;
      hashes[i] = h;
      phash.set(oldPhash.subarray(s * ns, s * ns + ns), i * ns);
    }
    this.rows = rows;
    this.heads = heads;
    this.hashes = hashes;
    this.phash = phash;
    this.capMask = cm;
    for (let s = 0; s < ns; s++) {
      const ph: number[] = [];
      for (let i = 0; i < capacity; i++) if (heads[i] !== null) ph.push(phash[i * ns + s]!);
      this.filters[s]!.rebuild(capacity * FILTER_BUCKETS_PER_SLOT, ph);
    }
    this.arraysVersion++;
  }
}
