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
import { Classifier, ClsRule } from "./classifier/classifier.js";
import { matchEquals, matchesWords, type CompiledMatch } from "./classifier/compiled-match.js";
import type { FlowEntry } from "./flow-entry.js";

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
    let best = r === null ? null : r.payload;
    if (this.soft.length !== 0) best = this.conjunctive(w, best);
    if (count) {
      this.lookupCount++;
      if (best !== null) this.matchedCount++;
    }
    return best;
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
