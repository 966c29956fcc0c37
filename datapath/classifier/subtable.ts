/**
 * One subtable: every rule whose match has one particular mask (OVS
 * `cls_subtable`), in an open-addressing hash table over typed arrays.
 *
 * Layout: one slot per distinct masked value.
 *  - `tags[slot]`: `hash | 1`, 0 = empty. A separate, small array: most
 *    probes of a multi-mask lookup are misses, and they touch only this (4
 *    bytes a slot, so the tags of many subtables stay in cache).
 *  - `data[slot * stride]` (stride = nWords + 1): the priority of the slot's
 *    head rule, so that a lookup can reject a worse match without touching
 *    the rule object; then `data[slot * stride + 1 + j]`, the masked value of
 *    the j-th word. Read only on a 31-bit tag match, and then one cache line
 *    usually holds all of it. Its address depends on the hash alone, so the
 *    CPU can fetch it speculatively while the tag is still being compared.
 *  - `heads[slot]`: the highest-priority rule with that match; lower ones hang
 *    off `rule.next` (same match, different priority, OVS's chained rules).
 * Linear probing from `(hash >>> 1) & capMask`; deletion shifts later entries
 * back (no tombstones, so probe lengths never degrade under churn); the table
 * doubles at load 1/4. The low load keeps the expected probe length of a miss
 * (the common case) near 1.4 instead of 2.5 at load 1/2; the untouched rows of
 * `data` cost address space, not cache. Growing replaces the arrays, which is
 * why the classifier rebinds its lookup function on `arraysVersion` changes.
 *
 * Key lanes: the masked words are stored and hashed as *lanes* of one int32.
 * Two words whose masks fit in 16 bits (eth_type, vlan_tci, the high half of
 * a MAC, nw_proto, nw_tos, L4 ports) share a lane, `(a << 16) | b`, so a
 * 17-word match costs 13 multiplies and 13 compares instead of 17, and its
 * rows are 22% smaller. Lanes never straddle a stage boundary, so the staged
 * hash stays a prefix of the full one.
 *
 * Staged lookup (stages.ts, OVS lib/classifier.c): for every intermediate
 * stage of the mask, a {@link StageFilter} holds the partial-key hashes of
 * the entries, so a lookup can leave the subtable at the first stage whose
 * partial key no entry has, and a lookup that reports wildcards then only
 * un-wildcards the stages it looked at. The filters are maintained only once
 * {@link Subtable.enableFilters} has been called (the classifier does so at
 * its first staged or wildcard lookup): until then inserts and removals
 * skip that work.
 *
 * Field grouping (style.md §2.5): mask description and counters are only
 * touched by writers; `tags`/`data`/`heads`/`capMask`/`maxPriority`/`filters`
 * are what a lookup reads.
 */
import type { CompiledMatch } from "./compiled-match.js";
import { HASH_MULT, hashFinish } from "./hash.js";
import { TRIE_FIELDS, prefixLength } from "./prefix-trie.js";
import type { ClsRule } from "./rule.js";
import { StageFilter } from "./stage-filter.js";
import { stageBoundaries, stageOf } from "./stages.js";

/**
 * Module-local aliases of the hash helpers: some TypeScript loaders (tsx,
 * vitest) compile imported bindings into getter calls, which costs a call per
 * access inside the lookup loop.
 */
const MULT = HASH_MULT;
const finish = hashFinish;

const MIN_CAPACITY = 8;
/** A word whose mask has none of these bits can share a lane (subtable.ts "Key lanes"). */
const WIDE_BITS = 0xffff0000 | 0;
/** Capacity ≥ distinct matches << LOAD_SHIFT (load ≤ 1/4). */
const LOAD_SHIFT = 2;
/** Stage-filter buckets per slot (≥ 8 per entry at load ≤ 1/4: ≤ 1/8 false positives). */
const FILTER_BUCKETS_PER_SLOT = 2;
/** Offsets inside a slot. */
export const SLOT_PRIORITY = 0;
export const SLOT_KEY = 1;

/**
 * Groups a mask's words into lanes: [word index, partner index or -1]. Two
 * narrow words (mask within the low 16 bits) of the same stage share a lane;
 * lanes keep the words' order, so each stage's lanes are contiguous.
 */
function packLanes(words: Int32Array, masks: Int32Array): [number, number][] {
  const lanes: [number, number][] = [];
  let open = -1; // lane holding one narrow word, waiting for a partner of the same stage
  for (let j = 0; j < words.length; j++) {
    if ((masks[j]! & WIDE_BITS) !== 0) {
      lanes.push([j, -1]);
      continue;
    }
    if (open >= 0 && stageOf(words[lanes[open]![0]]!) === stageOf(words[j]!)) {
      lanes[open]![1] = j;
      open = -1;
    } else {
      lanes.push([j, -1]);
      open = lanes.length - 1;
    }
  }
  return lanes;
}

export class Subtable<P> {
  // ---- set at creation (writers) ----
  /** Creation sequence number: breaks ties between equal max priorities deterministically. */
  readonly id: number;
  readonly maskKey: string;
  readonly words: Int32Array;
  readonly masks: Int32Array;
  readonly nWords: number;
  /** Int32s per slot in `data`: head priority, key lanes. */
  readonly stride: number;
  /** Lanes: lane l holds word `laneHi[l]` (an index into `words`), shifted up 16 when `laneLo[l] >= 0`. */
  readonly laneHi: Int32Array;
  /** Index into `words` of the word in a lane's low 16 bits, or -1 when the lane holds one word. */
  readonly laneLo: Int32Array;
  readonly nLanes: number;
  /** Word counts of the partial keys of the intermediate stages (stages.ts), ascending. */
  readonly stageEnds: Int32Array;
  /** Lane counts of the same partial keys. */
  readonly stageLaneEnds: Int32Array;
  /**
   * Per trie field (prefix-trie.ts `TRIE_FIELDS`): the prefix length this
   * mask has on it, 0 when it does not match the field, -1 when its mask on
   * the field is not a CIDR prefix (no trie check possible).
   */
  readonly triePlens: Int32Array;
  /** Per trie field: the index in `words` of the field's word, -1 when absent. */
  readonly trieSlots: Int32Array;

  // ---- read per lookup ----
  tags: Int32Array;
  data: Int32Array;
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
  /** Bumped whenever the arrays are replaced (generated code binds them). */
  arraysVersion = 0;
  /** Whether the stage filters (and `phash`) are maintained. */
  private filtersOn = false;
  /** Partial hash of each slot's key at each intermediate stage: `phash[slot * nStages + s]` (filters on). */
  private phash = new Int32Array(0);
  /** Scratch for the generic lookup's masked key words and lanes (no allocation per lookup). */
  private readonly scratch: Int32Array;
  private readonly laneScratch: Int32Array;

  constructor(id: number, m: CompiledMatch) {
    this.id = id;
    this.maskKey = m.maskKey;
    this.words = m.words.slice();
    this.masks = m.masks.slice();
    this.nWords = m.words.length;
    this.stageEnds = Int32Array.from(stageBoundaries(this.words));
    const lanes = packLanes(this.words, this.masks);
    this.laneHi = Int32Array.from(lanes.map((l) => l[0]));
    this.laneLo = Int32Array.from(lanes.map((l) => l[1]));
    this.nLanes = lanes.length;
    this.stride = this.nLanes + SLOT_KEY;
    this.stageLaneEnds = Int32Array.from(this.stageEnds, (end) => {
      let l = 0;
      while (l < this.nLanes && this.laneHi[l]! < end) l++;
      return l;
    });
    this.triePlens = new Int32Array(TRIE_FIELDS.length);
    this.trieSlots = new Int32Array(TRIE_FIELDS.length);
    for (let f = 0; f < TRIE_FIELDS.length; f++) {
      const j = this.words.indexOf(TRIE_FIELDS[f]!);
      this.trieSlots[f] = j;
      this.triePlens[f] = j < 0 ? 0 : prefixLength(this.masks[j]!);
    }
    this.scratch = new Int32Array(Math.max(1, this.nWords));
    this.laneScratch = new Int32Array(Math.max(1, this.nLanes));
    this.tags = new Int32Array(MIN_CAPACITY);
    this.data = new Int32Array(MIN_CAPACITY * this.stride);
    this.heads = new Array<ClsRule<P> | null>(MIN_CAPACITY).fill(null);
    this.capMask = MIN_CAPACITY - 1;
    this.filters = [];
    for (let s = 0; s < this.stageEnds.length; s++) {
      this.filters.push(new StageFilter(MIN_CAPACITY * FILTER_BUCKETS_PER_SLOT));
    }
  }

  /**
   * Starts maintaining the stage filters, built from the current entries.
   * Staged and wildcard lookups need them; the classifier calls this before
   * it generates such code.
   */
  enableFilters(): void {
    if (this.filtersOn) return;
    this.filtersOn = true;
    this.phash = new Int32Array((this.capMask + 1) * this.stageEnds.length);
    const ns = this.stageEnds.length;
    for (let i = 0; i <= this.capMask; i++) {
      if (this.tags[i] === 0) continue;
      const row = this.data.subarray(i * this.stride + SLOT_KEY, (i + 1) * this.stride);
      for (let s = 0; s < ns; s++) this.phash[i * ns + s] = this.partialHash(row, s);
    }
    this.rebuildFilters();
  }

  /** Partial hash of stage `s` from a slot's lanes: a prefix of the full lane sum (incremental hashing). */
  private partialHash(lanes: Int32Array, s: number): number {
    return finish(this.sumLanes(lanes, 0, this.stageLaneEnds[s]!, 0));
  }

  private rebuildFilters(): void {
    const ns = this.stageEnds.length;
    const capacity = this.capMask + 1;
    for (let s = 0; s < ns; s++) {
      const ph: number[] = [];
      for (let i = 0; i < capacity; i++) if (this.tags[i] !== 0) ph.push(this.phash[i * ns + s]!);
      this.filters[s]!.rebuild(capacity * FILTER_BUCKETS_PER_SLOT, ph);
    }
    this.arraysVersion++;
  }

  /** Slot holding exactly the lanes `kv[0..nLanes)` (hash `h`), or -1. */
  private probe(kv: ArrayLike<number>, h: number): number {
    const n = this.nLanes;
    const stride = this.stride;
    const tags = this.tags;
    const data = this.data;
    const cm = this.capMask;
    const tag = h | 1;
    let i = (h >>> 1) & cm;
    let t: number;
    while ((t = tags[i]!) !== 0) {
      if (t === tag) {
        const b = i * stride + SLOT_KEY;
        let j = 0;
        while (j < n && data[b + j] === kv[j]) j++;
        if (j === n) return i;
      }
      i = (i + 1) & cm;
    }
    return -1;
  }

  /** The lanes of the masked values `values[0..nWords)`, into `out`. */
  private lanesOf(values: ArrayLike<number>, out: Int32Array): Int32Array {
    for (let l = 0; l < this.nLanes; l++) {
      const lo = this.laneLo[l]!;
      const hi = values[this.laneHi[l]!]!;
      out[l] = lo < 0 ? hi : (hi << 16) | values[lo]!;
    }
    return out;
  }

  /** Hash sum of lanes `[from, to)` of `lanes`, continuing `h` (hash.ts; one multiplier per lane's first word). */
  private sumLanes(lanes: Int32Array, from: number, to: number, h: number): number {
    for (let l = from; l < to; l++) {
      h = (h + Math.imul(lanes[l]!, MULT[this.words[this.laneHi[l]!]!]!)) | 0;
    }
    return h;
  }

  /** Full hash of a match's masked values (what insert, remove and find probe with). */
  private hashOf(values: Int32Array): number {
    const lanes = this.lanesOf(values, this.laneScratch);
    return finish(this.sumLanes(lanes, 0, this.nLanes, 0));
  }

  private findSlot(values: Int32Array): number {
    const h = this.hashOf(values);
    return this.probe(this.laneScratch, h);
  }

  /** Masks the key words of lanes `[from, to)` into the scratch lanes and adds them to the hash sum `h`. */
  private hashRange(w: Uint32Array, o: number, from: number, to: number, h: number): number {
    const words = this.words;
    const masks = this.masks;
    const kv = this.scratch;
    const lanes = this.laneScratch;
    for (let l = from; l < to; l++) {
      const a = this.laneHi[l]!;
      const b = this.laneLo[l]!;
      kv[a] = w[o + words[a]!]! & masks[a]!;
      if (b >= 0) kv[b] = w[o + words[b]!]! & masks[b]!;
      lanes[l] = b < 0 ? kv[a]! : (kv[a]! << 16) | kv[b]!;
    }
    return this.sumLanes(lanes, from, to, h);
  }

  /**
   * Generic (data-driven) lookup of one key in this subtable: the head rule
   * (highest priority) whose match equals the masked key, or null.
   */
  lookup(w: Uint32Array, o: number): ClsRule<P> | null {
    const slot = this.probe(this.laneScratch, finish(this.hashRange(w, o, 0, this.nLanes, 0)));
    return slot < 0 ? null : this.heads[slot]!;
  }

  /**
   * Staged lookup of one key (OVS `find_match_wc`): checks the stage filters
   * in order and leaves at the first stage whose partial key no entry has.
   * Sets `out.rule` to the head rule or null, and returns how many of the
   * mask's words the answer depends on: those of the stages looked at, all
   * of them when the whole key was probed. (A key equal to this one on those
   * words gets the same answer.)
   */
  lookupStaged(w: Uint32Array, o: number, out: { rule: ClsRule<P> | null }): number {
    const ends = this.stageLaneEnds;
    let h = 0;
    let from = 0;
    for (let s = 0; this.filtersOn && s < ends.length; s++) {
      const end = ends[s]!;
      h = this.hashRange(w, o, from, end, h);
      from = end;
      if (!this.filters[s]!.has(finish(h))) {
        out.rule = null;
        return this.stageEnds[s]!;
      }
    }
    h = this.hashRange(w, o, from, this.nLanes, h);
    const slot = this.probe(this.laneScratch, finish(h));
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
    let slot = this.findSlot(values);
    if (slot < 0) {
      if ((this.nMatches + 1) << LOAD_SHIFT > this.capMask + 1) this.resize((this.capMask + 1) * 2);
      slot = this.claimSlot(values);
      rule.next = null;
      this.setHead(slot, rule);
      this.nMatches++;
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
    this.data[slot * this.stride + SLOT_PRIORITY] = rule.priority;
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

  /** Writes `values` into the first free slot of its probe sequence (the value must be absent). */
  private claimSlot(values: Int32Array): number {
    const stride = this.stride;
    const h = this.hashOf(values);
    const lanes = this.laneScratch;
    const cm = this.capMask;
    let i = (h >>> 1) & cm;
    while (this.tags[i] !== 0) i = (i + 1) & cm;
    this.tags[i] = h | 1;
    this.data.set(lanes.subarray(0, this.nLanes), i * stride + SLOT_KEY);
    if (this.filtersOn) {
      const ns = this.stageEnds.length;
      for (let s = 0; s < ns; s++) {
        const ph = this.partialHash(lanes, s);
        this.phash[i * ns + s] = ph;
        this.filters[s]!.add(ph);
      }
    }
    return i;
  }

  /** Empties `slot` and shifts later members of the cluster back (linear-probing deletion). */
  private releaseSlot(slot: number): void {
    const stride = this.stride;
    const ns = this.stageEnds.length;
    const tags = this.tags;
    const data = this.data;
    const heads = this.heads;
    const phash = this.phash;
    const on = this.filtersOn;
    if (on) for (let s = 0; s < ns; s++) this.filters[s]!.remove(phash[slot * ns + s]!);
    const cm = this.capMask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & cm;
      const t = tags[j]!;
      if (t === 0) break;
      const home = (t >>> 1) & cm;
      // Entry j may move into the hole when its home is not cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      tags[hole] = t;
      data.copyWithin(hole * stride, j * stride, j * stride + stride);
      heads[hole] = heads[j]!;
      if (on) phash.copyWithin(hole * ns, j * ns, j * ns + ns);
      hole = j;
    }
    tags[hole] = 0;
    data.fill(0, hole * stride, hole * stride + stride);
    heads[hole] = null;
    this.nMatches--;
  }

  private resize(capacity: number): void {
    const stride = this.stride;
    const ns = this.stageEnds.length;
    const oldTags = this.tags;
    const old = this.data;
    const oldHeads = this.heads;
    const oldPhash = this.phash;
    const cm = capacity - 1;
    const tags = new Int32Array(capacity);
    const data = new Int32Array(capacity * stride);
    const heads = new Array<ClsRule<P> | null>(capacity).fill(null);
    const on = this.filtersOn;
    const phash = new Int32Array(on ? capacity * ns : 0);
    for (let s = 0; s < oldHeads.length; s++) {
      const t = oldTags[s]!;
      if (t === 0) continue;
      let i = (t >>> 1) & cm;
      while (tags[i] !== 0) i = (i + 1) & cm;
      tags[i] = t;
      data.set(old.subarray(s * stride, s * stride + stride), i * stride);
      heads[i] = oldHeads[s]!;
      if (on) phash.set(oldPhash.subarray(s * ns, s * ns + ns), i * ns);
    }
    this.tags = tags;
    this.data = data;
    this.heads = heads;
    this.phash = phash;
    this.capMask = cm;
    if (on) this.rebuildFilters();
    this.arraysVersion++;
  }
}
