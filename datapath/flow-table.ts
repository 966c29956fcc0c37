/**
 * One OpenFlow table: a {@link Classifier} of flow entries, the conjunctive
 * flows beside it, and the table counters.
 *
 * Conjunctive matches (OVS `conjunction(id, k/n)`, ovs-fields(7) "Conjunctive
 * Match Fields"; lib/classifier.c `classifier_lookup__`): a flow whose actions
 * are only conjunction() is "soft" — it never matches by itself. The classifier
 * holds only "hard" flows. A lookup first finds the best hard flow; then, if
 * soft flows of *higher* priority match, it checks, one priority level at a
 * time from the top, whether every clause 1..n of some conjunction id has a
 * matching soft flow. For each such id it looks again with `conj_id = id`: the
 * flows that match `conj_id=id` compete with the hard match and the best one
 * wins. If no conjunction completes, the hard match stands. Flows matching
 * `conj_id` are kept per id (conj_id is not a FlowKey word), so that search is
 * a scan of that id's few flows. Tables without conjunctive flows pay nothing.
 */
import { FK } from "../codec/packet/flow-key.js";
import { Classifier, ClsRule } from "./classifier/classifier.js";
import { matchEquals, matchesWords, type CompiledMatch } from "./classifier/compiled-match.js";
import type { FlowEntry } from "./flow-entry.js";

/** (word, mask) pairs of the nonzero words of a dense mask. */
function sparse(dense: Int32Array): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < dense.length; i++) if (dense[i] !== 0) out.push(i, dense[i]!);
  return Int32Array.from(out);
}

/** OVS's default table size: unlimited in practice; we cap at 1M flows per table. */
export const DEFAULT_MAX_ENTRIES = 1_000_000;

export class FlowTable {
  readonly id: number;
  name: string;
  maxEntries = DEFAULT_MAX_ENTRIES;
  private readonly cls = new Classifier<FlowEntry>();
  /** Soft (conjunctive) flows, by priority descending. */
  private soft: FlowEntry[] = [];
  /** Flows matching conj_id, by id. */
  private readonly conjTargets = new Map<number, FlowEntry[]>();
  private nEntries = 0;
  /** OFPMP_TABLE counters. */
  lookupCount = 0;
  matchedCount = 0;
  /** Bumped on every change, for caches in front of the table. */
  version = 0;
  /** Priority of the classifier's (hard) match in the last lookup, -1 for none (for {@link unwildcard}). */
  private lastHardPriority = -1;
  /** Cumulative subtable masks (sparse word, mask pairs) for {@link unwildcard}, valid for `wcVersion`. */
  private wcPriorities: Int32Array = new Int32Array(0);
  private wcPrefix: Int32Array[] = [];
  private wcSoft: Int32Array | null = null;
  private wcVersion = -1;

  constructor(id: number) {
    this.id = id;
    this.name = `table${id}`;
  }

  get size(): number {
    return this.nEntries;
  }

  /** The entry with exactly this match, conj_id and priority (OpenFlow strict identity), or null. */
  find(match: CompiledMatch, conjId: number, priority: number): FlowEntry | null {
    if (conjId >= 0) {
      for (const e of this.conjTargets.get(conjId) ?? []) {
        if (e.priority === priority && matchEquals(e.compiled, match)) return e;
      }
      return null;
    }
    const r = this.cls.find(match, priority);
    if (r !== null) return r.payload;
    for (const e of this.soft)
      if (e.priority === priority && matchEquals(e.compiled, match)) return e;
    return null;
  }

  /** Adds an entry; the caller has removed any entry with the same identity first. */
  insert(e: FlowEntry): void {
    if (e.conjId >= 0) {
      let list = this.conjTargets.get(e.conjId);
      if (list === undefined) this.conjTargets.set(e.conjId, (list = []));
      list.push(e);
    } else if (e.program.conjunctions !== null) {
      this.soft.push(e);
      this.soft.sort((a, b) => b.priority - a.priority);
    } else {
      const rule = new ClsRule<FlowEntry>(e.compiled, e.priority, e);
      e.rule = rule;
      this.cls.insert(rule);
    }
    this.nEntries++;
    this.version++;
  }

  remove(e: FlowEntry): boolean {
    let ok = false;
    if (e.rule !== null) {
      ok = this.cls.remove(e.rule);
      e.rule = null;
    } else if (e.conjId >= 0) {
      const list = this.conjTargets.get(e.conjId);
      const i = list?.indexOf(e) ?? -1;
      if (list !== undefined && i >= 0) {
        list.splice(i, 1);
        if (list.length === 0) this.conjTargets.delete(e.conjId);
        ok = true;
      }
    } else {
      const i = this.soft.indexOf(e);
      if (i >= 0) {
        this.soft.splice(i, 1);
        ok = true;
      }
    }
    if (ok) {
      this.nEntries--;
      this.version++;
      e.live = false;
    }
    return ok;
  }

  /** Every entry (order unspecified). */
  *entries(): Generator<FlowEntry> {
    for (const r of this.cls.rules()) yield r.payload;
    yield* this.soft;
    for (const list of this.conjTargets.values()) yield* list;
  }

  /** The entry a packet with key words `w` hits, or null (a table miss). Counts the lookup unless `count` is false. */
  lookup(w: Uint32Array, count = true): FlowEntry | null {
    const r = this.cls.lookupWords(w);
    this.lastHardPriority = r === null ? -1 : r.priority;
    let best = r === null ? null : r.payload;
    if (this.soft.length !== 0) best = this.conjunctive(w, best);
    if (count) {
      this.lookupCount++;
      if (best !== null) this.matchedCount++;
    }
    return best;
  }

  /**
   * ORs into `wc` the key bits the last {@link lookup} consulted, minus the
   * bits in `written` (OVS un-wildcarding, lib/classifier.c with `wc`): the
   * classifier probes subtables in decreasing max-priority order and stops at
   * the first whose max priority is ≤ the best match so far, so it probed
   * every subtable whose max priority is above the match's (all of them on a
   * miss), and possibly some equal to it; we take every subtable whose max
   * priority is ≥ the match's, a superset, which keeps the megaflow exact.
   * Tables with conjunctive flows add every soft and conj_id flow's mask.
   */
  unwildcard(wc: Int32Array, written: Uint32Array): void {
    if (this.wcVersion !== this.version) this.buildWildcards();
    const pri = this.lastHardPriority;
    const pris = this.wcPriorities;
    let k = 0;
    while (k < pris.length && pris[k]! >= pri) k++;
    // Sparse (word, mask) pairs: a few words per table, not the whole key.
    const m = this.wcPrefix[k]!;
    for (let j = 0; j < m.length; j += 2) {
      const i = m[j]!;
      wc[i] = wc[i]! | (m[j + 1]! & ~written[i]!);
    }
    const soft = this.wcSoft;
    if (soft !== null) {
      for (let j = 0; j < soft.length; j += 2) {
        const i = soft[j]!;
        wc[i] = wc[i]! | (soft[j + 1]! & ~written[i]!);
      }
    }
  }

  /**
   * True when the classifier's probe order (its subtables and their max
   * priorities) differs from the last time this was asked (or it never was).
   * Among overlapping flows of equal priority the classifier returns the one
   * in the subtable it probes first (OpenFlow leaves the choice undefined),
   * so an order change can change a lookup's result even for packets no
   * added or removed flow matches: megaflows that looked this table up must
   * then go (megaflow.ts).
   */
  shapeChanged(): boolean {
    const sig = this.shape();
    const changed = sig !== this.lastShape;
    this.lastShape = sig;
    this.shapeVersion = this.version;
    return changed;
  }

  /** Records the probe order as the baseline for {@link shapeChanged} (once per table version). */
  noteShape(): void {
    if (this.shapeVersion === this.version) return;
    this.lastShape = this.shape();
    this.shapeVersion = this.version;
  }

  private shape(): string {
    let sig = "";
    for (const s of this.cls.describeSubtables()) sig += `${s.maskKey}@${s.maxPriority};`;
    return sig;
  }
  private lastShape: string | null = null;
  private shapeVersion = -1;

  /** Cumulative subtable masks in probe order (from the classifier's description). */
  private buildWildcards(): void {
    const subs = this.cls.describeSubtables();
    const pris = new Int32Array(subs.length);
    const dense = new Int32Array(FK.SIZE);
    const prefix: Int32Array[] = [sparse(dense)];
    for (let s = 0; s < subs.length; s++) {
      const sub = subs[s]!;
      pris[s] = sub.maxPriority;
      if (sub.maskKey !== "") {
        for (const part of sub.maskKey.split(",")) {
          const [word, mask] = part.split(":");
          dense[Number(word)] = dense[Number(word)]! | (parseInt(mask!, 16) | 0);
        }
      }
      prefix.push(sparse(dense));
    }
    let soft: Int32Array | null = null;
    if (this.soft.length !== 0 || this.conjTargets.size !== 0) {
      const d = new Int32Array(FK.SIZE);
      const add = (e: FlowEntry): void => {
        const c = e.compiled;
        for (let j = 0; j < c.words.length; j++) d[c.words[j]!] = d[c.words[j]!]! | c.masks[j]!;
      };
      for (const e of this.soft) add(e);
      for (const list of this.conjTargets.values()) for (const e of list) add(e);
      soft = sparse(d);
    }
    this.wcPriorities = pris;
    this.wcPrefix = prefix;
    this.wcSoft = soft;
    this.wcVersion = this.version;
  }

  /** Scratch for clause bitmaps (conj id → bits of matched clauses). */
  private readonly clauseBits = new Map<number, number>();

  private conjunctive(w: Uint32Array, hard: FlowEntry | null): FlowEntry | null {
    const floor = hard === null ? -1 : hard.priority;
    const soft = this.soft;
    let i = 0;
    while (i < soft.length && soft[i]!.priority > floor) {
      const pri = soft[i]!.priority;
      const bits = this.clauseBits;
      bits.clear();
      const needed = new Map<number, number>();
      for (; i < soft.length && soft[i]!.priority === pri; i++) {
        const e = soft[i]!;
        if (!matchesWords(e.compiled, w)) continue;
        for (const c of e.program.conjunctions!) {
          bits.set(c.id, (bits.get(c.id) ?? 0) | (2 ** c.clause));
          needed.set(c.id, c.nClauses);
        }
      }
      let winner: FlowEntry | null = null;
      for (const [id, got] of bits) {
        const n = needed.get(id)!;
        if (got !== 2 ** n - 1) continue;
        for (const t of this.conjTargets.get(id) ?? []) {
          if (!matchesWords(t.compiled, w)) continue;
          if (winner === null || t.priority > winner.priority) winner = t;
        }
      }
      if (winner !== null) return hard !== null && hard.priority > winner.priority ? hard : winner;
    }
    return hard;
  }
}
