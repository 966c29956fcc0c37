/**
 * The flow classifier: tuple-space search as in Open vSwitch lib/classifier.c.
 *
 * Design (OVS `lib/classifier.h`, "Basic Classifier Design"; performance.md §1.1):
 *
 * - A rule is a {@link CompiledMatch} — (word, mask, value) triples over the
 *   FlowKey's 32-bit words — plus a priority and an opaque payload.
 * - Rules are grouped by *mask* into subtables (one per distinct set of
 *   (word, mask) pairs). Inside a subtable every rule is an exact match on the
 *   masked key, so a subtable is a hash table from masked key words to rules
 *   (typed-array open addressing, subtable.ts). Finding the best rule for a
 *   packet means probing each subtable once: one hash and one probe per mask,
 *   whatever the number of rules. Insert and remove cost O(1) (one probe),
 *   which matters because controllers churn flows.
 * - Rules with the same match but different priorities share one hash entry,
 *   chained highest first; only the head can win a lookup.
 * - Subtables are probed in decreasing order of their highest priority, and
 *   the walk stops at the first subtable whose highest priority is ≤ the best
 *   match so far: nothing in it or after it can win.
 * - The walk is compiled: for the first {@link ClassifierOptions.unroll}
 *   subtables a JavaScript function is generated with the masks inlined and
 *   no data-dependent branch per subtable (codegen.ts); the rest, if any, use
 *   the data-driven loop. Compiled state is rebuilt lazily, at the first
 *   lookup after a change that alters it (a subtable created or destroyed, a
 *   subtable's max priority changed, a table resized); rule changes inside
 *   existing subtables do not regenerate.
 * - Staged lookup and prefix tries (OVS lib/classifier.c; stages.ts,
 *   stage-filter.ts, prefix-trie.ts) let a lookup leave a subtable at the
 *   first stage whose partial key no rule has, or skip it when the address
 *   trie shows that no rule of its prefix length can match.
 *   {@link Classifier.lookupWithWildcards} always uses both, because they are
 *   what keep the reported megaflow wildcards narrow (OVS `classifier_lookup`
 *   with `wc`). The plain lookups use them when {@link ClassifierOptions}
 *   says so: on OVS's benchmark they cost more than they save (bench/README.md).
 *
 * Ties. When several rules of the highest priority match, OpenFlow 1.3 says
 * the choice is undefined (§6.4 "Flow Table"), and OVS returns whichever it
 * meets first: subtables are walked in max-priority order and a later one must
 * be *strictly* better to win. We do the same, deterministically: subtables of
 * equal max priority are probed in creation order, so among equal-priority
 * matches in different subtables the one in the older subtable wins. (The
 * switch's overlap check, OFPFF_CHECK_OVERLAP, is where OpenFlow lets a
 * controller avoid such ties.)
 *
 * Lookups allocate nothing: no closures, no objects, no strings, no BigInt;
 * the masked key stays int32 throughout.
 */
import type { FlowKey } from "../../codec/packet/flow-key.js";
import type { CompiledMatch } from "./compiled-match.js";
import {
  generateLookup,
  generateWildcardLookup,
  type LookupFn,
  type TailFn,
  type WildcardLookupFn,
  type WildcardTailFn,
} from "./codegen.js";
import { PrefixTrie, TRIE_FIELDS, prefixMask } from "./prefix-trie.js";
import { ClsRule } from "./rule.js";
import { Subtable } from "./subtable.js";

export interface ClassifierOptions {
  /** Generate specialised lookup code (default true). False = the data-driven loop only. */
  readonly codegen?: boolean;
  /** How many subtables (in probe order) get generated code; the rest use the loop (default 64). */
  readonly unroll?: number;
  /**
   * Check the stage filters in the plain (generated) lookups too (default
   * false: measured slower on OVS's benchmark, where most partial keys are
   * present). {@link Classifier.lookupWithWildcards} always stages.
   */
  readonly staged?: boolean;
}

const DEFAULT_UNROLL = 64;

export class Classifier<P = unknown> {
  private readonly bySignature = new Map<string, Subtable<P>>();
  /** Subtables in probe order; valid when `dirty` is false. */
  private sorted: Subtable<P>[] = [];
  private dirty = true;
  private nextSubtableId = 0;
  private nRules = 0;
  private readonly useCodegen: boolean;
  private readonly unroll: number;
  private readonly staged: boolean;
  private fn: LookupFn<P>;
  private source: string | null = null;
  private readonly generic: LookupFn<P>;
  private readonly tail: TailFn<P>;
  /** The megaflow lookup, compiled at its first use after a rebuild (null until then). */
  private wcFn: WildcardLookupFn<P> | null = null;
  private readonly wcGeneric: WildcardLookupFn<P>;
  private readonly wcTail: WildcardTailFn<P>;
  /** One prefix trie per {@link TRIE_FIELDS} entry, over every rule with a CIDR prefix on the field. */
  private readonly tries: PrefixTrie[] = TRIE_FIELDS.map(() => new PrefixTrie());
  /**
   * Whether stage filters and tries are maintained: from the first staged or
   * wildcard lookup on (or from the start with `staged`). A classifier that
   * never reports wildcards does not pay for them on insert and remove.
   */
  private tracking = false;
  /** Per-lookup trie results (lookupWithWildcards): plens, maskbits, and whether computed. */
  private readonly triePlens = new Int32Array(TRIE_FIELDS.length);
  private readonly trieBits = new Int32Array(TRIE_FIELDS.length);
  private readonly stagedOut: { rule: ClsRule<P> | null } = { rule: null };
  /** Number of compiled-state rebuilds (regenerations), for tests and metrics. */
  rebuilds = 0;

  constructor(options: ClassifierOptions = {}) {
    this.useCodegen = options.codegen ?? true;
    this.unroll = Math.max(0, options.unroll ?? DEFAULT_UNROLL);
    this.staged = options.staged ?? false;
    this.tracking = this.staged;
    this.generic = (w, o) => this.walkFrom(w, o, 0, null);
    this.tail = (w, o, best) => this.walkFrom(w, o, this.unroll, best);
    this.wcGeneric = (w, o, wc) => this.walkWildcards(w, o, wc, 0, null);
    this.wcTail = (w, o, wc, best) => this.walkWildcards(w, o, wc, this.unroll, best);
    this.fn = this.generic;
  }

  /** Number of rules. */
  get size(): number {
    return this.nRules;
  }

  /** Number of subtables (distinct masks). */
  get subtableCount(): number {
    return this.bySignature.size;
  }

  /**
   * Adds `rule`. If a rule with the same match and priority is present it is
   * replaced and returned (OVS `classifier_replace`); otherwise null.
   */
  insert(rule: ClsRule<P>): ClsRule<P> | null {
    if (rule.owner !== null) throw new Error("rule is already in a classifier");
    const m = rule.match;
    let st = this.bySignature.get(m.maskKey);
    if (st === undefined) {
      st = new Subtable<P>(this.nextSubtableId++, m);
      if (this.tracking) st.enableFilters();
      this.bySignature.set(m.maskKey, st);
      this.dirty = true;
    }
    const maxBefore = st.maxPriority;
    const arraysBefore = st.arraysVersion;
    const replaced = st.insert(rule);
    rule.owner = this;
    if (replaced !== null) replaced.owner = null;
    else {
      this.nRules++;
      if (this.tracking) this.trackPrefixes(st, rule, true);
    }
    if (st.maxPriority !== maxBefore || st.arraysVersion !== arraysBefore) this.dirty = true;
    return replaced;
  }

  /** Removes `rule` (the inserted object). Returns false when it is not in this classifier. */
  remove(rule: ClsRule<P>): boolean {
    if (rule.owner !== this) return false;
    const st = this.bySignature.get(rule.match.maskKey);
    if (st === undefined) return false;
    const maxBefore = st.maxPriority;
    const arraysBefore = st.arraysVersion;
    if (!st.remove(rule)) return false;
    rule.owner = null;
    this.nRules--;
    if (this.tracking) this.trackPrefixes(st, rule, false);
    if (st.nRules === 0) {
      this.bySignature.delete(st.maskKey);
      this.dirty = true;
    } else if (st.maxPriority !== maxBefore || st.arraysVersion !== arraysBefore) {
      this.dirty = true;
    }
    return true;
  }

  /** The rule with exactly this match and priority (OpenFlow "strict" identity), or null. */
  find(match: CompiledMatch, priority: number): ClsRule<P> | null {
    const st = this.bySignature.get(match.maskKey);
    return st === undefined ? null : st.find(match, priority);
  }

  /** Removes every rule. */
  clear(): void {
    for (const r of this.rules()) r.owner = null;
    this.bySignature.clear();
    for (let f = 0; f < this.tries.length; f++) this.tries[f] = new PrefixTrie();
    this.tracking = this.staged;
    this.nRules = 0;
    this.dirty = true;
  }

  /** Highest-priority rule matching `key` (ties: see the file comment), or null. */
  lookup(key: FlowKey): ClsRule<P> | null {
    if (this.dirty) this.rebuild();
    return this.fn(key.w, 0);
  }

  /** {@link lookup} on raw FlowKey words. */
  lookupWords(w: Uint32Array): ClsRule<P> | null {
    if (this.dirty) this.rebuild();
    return this.fn(w, 0);
  }

  /**
   * {@link lookup} on a key stored at `words[offset .. offset + FK.SIZE)`,
   * for batches of keys kept in one buffer (structure of arrays): no typed
   * array object per key, so no dependent load before the key words.
   */
  lookupAt(words: Uint32Array, offset: number): ClsRule<P> | null {
    if (this.dirty) this.rebuild();
    return this.fn(words, offset);
  }

  /**
   * {@link lookup}, also reporting the key bits the answer depends on (OVS
   * `classifier_lookup` with a `struct flow_wildcards`, the megaflow mask):
   * for every FlowKey word, the bits this lookup consulted are OR-ed into
   * `wcOut[word]` (so a caller walking several tables zeroes `wcOut` once and
   * accumulates). Any key equal to `key` on every bit set in `wcOut` gets the
   * same rule from this classifier, until the rules change.
   *
   * The bits are the union of the masks of the subtables probed, narrowed as
   * OVS narrows them: a subtable left at a stage contributes only the words
   * of the stages it looked at, and a subtable skipped by a prefix trie only
   * the address bits the trie walk examined. Subtables after the priority
   * early exit contribute nothing. Returns the same rule as {@link lookup}.
   */
  lookupWithWildcards(key: FlowKey, wcOut: Uint32Array): ClsRule<P> | null {
    return this.lookupWordsWithWildcards(key.w, wcOut, 0);
  }

  /** {@link lookupWithWildcards} on raw FlowKey words at `offset`. */
  lookupWordsWithWildcards(w: Uint32Array, wcOut: Uint32Array, offset = 0): ClsRule<P> | null {
    if (!this.tracking) this.startTracking();
    if (this.dirty) this.rebuild();
    if (this.wcFn === null) this.wcFn = this.compileWildcards();
    return this.wcFn(w, offset, wcOut);
  }

  /** Every rule (subtable by subtable; order unspecified). */
  *rules(): Generator<ClsRule<P>> {
    for (const st of this.bySignature.values()) yield* st.rules();
  }

  [Symbol.iterator](): Generator<ClsRule<P>> {
    return this.rules();
  }

  /** The generated lookup source currently in use (null with codegen off or before the first lookup). */
  generatedSource(): string | null {
    if (this.dirty) this.rebuild();
    return this.source;
  }

  /** Subtable masks in probe order with their max priority and rule count (diagnostics). */
  describeSubtables(): { maskKey: string; maxPriority: number; rules: number; matches: number }[] {
    if (this.dirty) this.rebuild();
    return this.sorted.map((s) => ({
      maskKey: s.maskKey,
      maxPriority: s.maxPriority,
      rules: s.nRules,
      matches: s.nMatches,
    }));
  }

  // ---- compiled state ----

  /** Builds the stage filters and tries from the current rules, and keeps them from now on. */
  private startTracking(): void {
    this.tracking = true;
    for (const st of this.bySignature.values()) {
      st.enableFilters();
      for (const r of st.rules()) this.trackPrefixes(st, r, true);
    }
    this.dirty = true;
  }

  private compileWildcards(): WildcardLookupFn<P> {
    if (!this.useCodegen || this.sorted.length === 0 || this.unroll === 0) return this.wcGeneric;
    return generateWildcardLookup(this.sorted, this.unroll, this.wcTail, this.tries).fn;
  }

  /**
   * The data-driven megaflow walk from subtable `start`, continuing from
   * `best` (the generated one does the same with everything inlined):
   * priority early exit, prefix tries (OVS `check_tries`: no hashing when a
   * trie rules the subtable out), then the staged probe.
   */
  private walkWildcards(
    w: Uint32Array,
    o: number,
    wcOut: Uint32Array,
    start: number,
    best: ClsRule<P> | null,
  ): ClsRule<P> | null {
    const subs = this.sorted;
    const tries = this.tries;
    const nTries = tries.length;
    const plens = this.triePlens;
    const maskbits = this.trieBits;
    const out = this.stagedOut;
    let looked = 0;
    let bestPri = best === null ? -1 : best.priority;
    for (let s = start; s < subs.length; s++) {
      const st = subs[s]!;
      if (st.maxPriority <= bestPri) break;
      let skipped = false;
      for (let f = 0; f < nTries; f++) {
        const len = st.triePlens[f]!;
        if (len <= 0) continue;
        if ((looked & (1 << f)) === 0) {
          const trie = tries[f]!;
          trie.lookup(w[o + TRIE_FIELDS[f]!]!);
          plens[f] = trie.plens;
          maskbits[f] = trie.maskbits;
          looked |= 1 << f;
        }
        if ((plens[f]! & (1 << (len - 1))) === 0) {
          // Whether a /len prefix matches depends on the first len bits; the walk looked at maskbits.
          const field = TRIE_FIELDS[f]!;
          wcOut[field] = wcOut[field]! | prefixMask(Math.min(len, maskbits[f]!));
          skipped = true;
          break;
        }
      }
      if (skipped) continue;
      const nUsed = st.lookupStaged(w, o, out);
      const words = st.words;
      const masks = st.masks;
      for (let j = 0; j < nUsed; j++) wcOut[words[j]!] = wcOut[words[j]!]! | masks[j]!;
      const r = out.rule;
      if (r !== null && r.priority > bestPri) {
        best = r;
        bestPri = r.priority;
      }
    }
    out.rule = null;
    return best;
  }

  /** Adds (or removes) the rule's prefixes on the trie fields. */
  private trackPrefixes(st: Subtable<P>, rule: ClsRule<P>, add: boolean): void {
    for (let f = 0; f < TRIE_FIELDS.length; f++) {
      const len = st.triePlens[f]!;
      if (len <= 0) continue;
      const v = rule.match.values[st.trieSlots[f]!]!;
      if (add) this.tries[f]!.insert(v, len);
      else this.tries[f]!.remove(v, len);
    }
  }

  private rebuild(): void {
    const subs = [...this.bySignature.values()];
    subs.sort((a, b) => b.maxPriority - a.maxPriority || a.id - b.id);
    this.sorted = subs;
    if (this.useCodegen && subs.length > 0 && this.unroll > 0) {
      const g = generateLookup(subs, this.unroll, this.tail, this.staged);
      this.fn = g.fn;
      this.source = g.source;
    } else {
      this.fn = this.generic;
      this.source = null;
    }
    this.wcFn = null;
    this.dirty = false;
    this.rebuilds++;
  }

  /** The data-driven walk from subtable `start`, continuing from `best`. */
  private walkFrom(
    w: Uint32Array,
    o: number,
    start: number,
    best: ClsRule<P> | null,
  ): ClsRule<P> | null {
    const subs = this.sorted;
    let bestPri = best === null ? -1 : best.priority;
    for (let s = start; s < subs.length; s++) {
      const st = subs[s]!;
      if (st.maxPriority <= bestPri) break;
      const r = st.lookup(w, o);
      if (r !== null && r.priority > bestPri) {
        best = r;
        bestPri = r.priority;
      }
    }
    return best;
  }
}

export { ClsRule };
