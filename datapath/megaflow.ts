/**
 * The megaflow cache (OVS dpcls, performance.md §1.2): wildcarded datapath
 * flows, each "the input bits the walk consulted → what the walk did".
 *
 * A megaflow is installed after a cache miss from the walk's recording
 * (recorder.ts): its match is the packet's value on the consulted bits, its
 * program the walk's outputs and header changes (megaflow-program.ts), its
 * credits the flow, table and port counters the walk touched. Every packet
 * that agrees with it on those bits would take the same walk, so it gets
 * the same outputs and counters without touching a flow table.
 *
 * Lookup is tuple-space search over megaflow masks, as dpcls:
 *  - partitioned by in_port (always exact in a megaflow, as OVS keeps one
 *    dpcls per in_port) and by the parse status (always exact: a truncated
 *    header and a whole one never share a megaflow, since rewrites depend on
 *    which headers are really there);
 *  - inside a partition one subtable per distinct mask (on the DVR set: one
 *    per packet kind and port, ~3 per partition), an open-addressing hash
 *    table over typed arrays from masked key words to the megaflow;
 *  - megaflows do not need priorities: two that overlap were made by walks
 *    that consulted the same bits with the same values, so they agree on
 *    every packet in both. The first hit wins;
 *  - subtables are re-ranked by hit count (OVS DPCLS_OPTIMIZATION_INTERVAL),
 *    so the common mask is probed first.
 *
 * Invalidation is precise on flow changes (OVS revalidators re-check each
 * datapath flow; here the check is done at flow-mod time against the key
 * every lookup of the megaflow saw):
 *  - a flow added to table T invalidates the megaflows whose lookup in T could
 *    have matched it (its bits agree with every bit of the lookup key the
 *    megaflow determines: a consulted input bit or a bit written before the
 *    lookup) and whose hit there had a priority not above it;
 *  - a flow removed or modified invalidates the megaflows that hit it;
 *  - conjunctive (soft) flows, and changes of T's classifier probe order
 *    (a new or emptied subtable, a changed max priority: the order decides
 *    ties between overlapping flows of equal priority), invalidate every
 *    megaflow that looked up T.
 * Group, port and configuration changes flush everything (Datapath.version).
 *
 * Lookups allocate nothing; install and invalidation (the slow path) do.
 */
import { FK } from "../codec/packet/flow-key.js";
import type { Bridge } from "./bridge.js";
import type { FlowEntry } from "./flow-entry.js";
import type { FlowTable } from "./flow-table.js";
import type { Port } from "./ports.js";
import type { GenericOutput } from "./megaflow-program.js";

/** Parse statuses fit in 4 bits (codec PARSE_STATUS_COUNT is 12). */
const STATUS_BITS = 4;
/** in_port values below this use the partition array; others a Map. */
const PORT_ARRAY = 1024;
/** Default cap on installed megaflows (OVS flow-limit is 200,000; ours flushes when full). */
export const DEFAULT_MEGAFLOW_LIMIT = 1 << 16;
/** Lookups between re-rankings of the subtables by hit count. */
const RANK_INTERVAL = 1 << 16;
const MIN_CAPACITY = 8;

/** Multiplier per FlowKey word (odd, splitmix-spread; independent products pipeline well). */
const MULT: Int32Array = (() => {
  const out = new Int32Array(FK.SIZE);
  let s = 0x2545f491;
  for (let i = 0; i < FK.SIZE; i++) {
    s = (s + 0x9e3779b9) | 0;
    let z = Math.imul(s ^ (s >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    out[i] = (z ^ (z >>> 16)) | 1;
  }
  return out;
})();

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  return h ^ (h >>> 16);
}

/**
 * What a megaflow does, shared by every megaflow whose walk did the same:
 * the compiled program, the counters to credit and the lookups made (OVS
 * keeps one `dp_netdev_actions` per flow; here walks that differ only in
 * the packet bits they consulted share one plan, so a megaflow is just its
 * match and a reference, and 50,000 of them stay small).
 */
export class MegaflowPlan {
  /** Identity: hash and the numbers and objects it was computed from. */
  readonly hash: number;
  readonly sigInts: Int32Array;
  readonly sigRefs: readonly object[];

  // ---- program (megaflow-program.ts) ----
  /** Flat program run in place on the frame, or null when the generic replay is needed. */
  readonly fast: Int32Array | null;
  /** Output ports of the fast program, by operand index, and their bridges. */
  readonly outPorts: readonly Port[];
  readonly outBridges: readonly Bridge[];
  /** True when the fast program changes the frame (else outputs can send the input bytes). */
  readonly modifies: boolean;
  /** Outputs for the generic replay (key writes + header syncs), when `fast` is null. */
  readonly generic: readonly GenericOutput[] | null;

  // ---- counters the walk touched (credited in bulk by Datapath.flushStats) ----
  readonly hits: readonly FlowEntry[];
  readonly hitLenDelta: Int32Array;
  /** Every table lookup: the table, whether it matched, the entry hit and the written key bits it saw. */
  readonly tables: readonly FlowTable[];
  readonly tableMatched: Uint8Array;
  readonly visitEntries: readonly (FlowEntry | null)[];
  readonly visitWrites: readonly Int32Array[];
  /** Ports whose tx counters the replay does not count itself (fast outputs, patch ports). */
  readonly txPorts: readonly Port[];
  readonly txLenDelta: Int32Array;
  /** Patch peers (rx counters). */
  readonly rxPorts: readonly Port[];
  readonly rxLenDelta: Int32Array;

  /** The megaflows using this plan. */
  readonly flows = new Set<Megaflow>();

  constructor(init: Omit<MegaflowPlan, "flows">) {
    this.hash = init.hash;
    this.sigInts = init.sigInts;
    this.sigRefs = init.sigRefs;
    this.fast = init.fast;
    this.outPorts = init.outPorts;
    this.outBridges = init.outBridges;
    this.modifies = init.modifies;
    this.generic = init.generic;
    this.hits = init.hits;
    this.hitLenDelta = init.hitLenDelta;
    this.tables = init.tables;
    this.tableMatched = init.tableMatched;
    this.visitEntries = init.visitEntries;
    this.visitWrites = init.visitWrites;
    this.txPorts = init.txPorts;
    this.txLenDelta = init.txLenDelta;
    this.rxPorts = init.rxPorts;
    this.rxLenDelta = init.rxLenDelta;
  }
}

/** One installed datapath flow: a match (in its subtable) and a plan. */
export class Megaflow {
  readonly plan: MegaflowPlan;
  /** Masked key values, in the subtable's word order. */
  readonly vals: Int32Array;
  readonly inPort: number;
  readonly status: number;
  /** Where it lives (its mask). */
  readonly subtable: MfSubtable;
  valid = true;
  /** Packets and bytes since the last flush, and the time of the last one. */
  packets = 0;
  bytes = 0;
  usedMs = 0;
  dirty = false;

  constructor(
    plan: MegaflowPlan,
    subtable: MfSubtable,
    vals: Int32Array,
    inPort: number,
    status: number,
  ) {
    this.plan = plan;
    this.subtable = subtable;
    this.vals = vals;
    this.inPort = inPort;
    this.status = status;
  }

  /** The consulted mask and value of key word `word` (diagnostics, invalidation). */
  maskOf(word: number): number {
    if (word === FK.IN_PORT) return -1;
    const st = this.subtable;
    for (let j = 0; j < st.n; j++) if (st.words[j] === word) return st.masks[j]!;
    return 0;
  }

  valueOf(word: number): number {
    if (word === FK.IN_PORT) return this.inPort;
    const st = this.subtable;
    for (let j = 0; j < st.n; j++) if (st.words[j] === word) return this.vals[j]!;
    return 0;
  }
}

/** The megaflows of one partition with one mask: open addressing over typed arrays. */
export class MfSubtable {
  readonly maskKey: string;
  /** Masked words (in_port excluded: the partition fixes it) and their masks and multipliers. */
  readonly words: Int32Array;
  readonly masks: Int32Array;
  readonly mults: Int32Array;
  readonly n: number;
  tags: Int32Array;
  /** Masked values, `n` per slot. */
  data: Int32Array;
  flows: (Megaflow | null)[];
  capMask: number;
  count = 0;
  /** Hits since the last re-ranking. */
  hits = 0;

  constructor(maskKey: string, words: Int32Array, masks: Int32Array) {
    this.maskKey = maskKey;
    this.words = words;
    this.masks = masks;
    this.n = words.length;
    this.mults = new Int32Array(this.n);
    for (let j = 0; j < this.n; j++) this.mults[j] = MULT[words[j]!]!;
    this.tags = new Int32Array(MIN_CAPACITY);
    this.data = new Int32Array(MIN_CAPACITY * Math.max(1, this.n));
    this.flows = new Array<Megaflow | null>(MIN_CAPACITY).fill(null);
    this.capMask = MIN_CAPACITY - 1;
  }

  /** The megaflow matching the key at `w[o ..]`, or null. */
  lookup(w: Int32Array, o: number): Megaflow | null {
    const words = this.words;
    const masks = this.masks;
    const mults = this.mults;
    const n = this.n;
    let h = 0;
    for (let j = 0; j < n; j++) h = (h + Math.imul(w[o + words[j]!]! & masks[j]!, mults[j]!)) | 0;
    h = finish(h);
    const tag = h | 1;
    const tags = this.tags;
    const data = this.data;
    const cm = this.capMask;
    let i = (h >>> 1) & cm;
    let t: number;
    while ((t = tags[i]!) !== 0) {
      if (t === tag) {
        const b = i * n;
        let j = 0;
        while (j < n && data[b + j] === (w[o + words[j]!]! & masks[j]!)) j++;
        if (j === n) {
          this.hits++;
          return this.flows[i]!;
        }
      }
      i = (i + 1) & cm;
    }
    return null;
  }

  private hashOf(vals: Int32Array): number {
    let h = 0;
    for (let j = 0; j < this.n; j++) h = (h + Math.imul(vals[j]!, this.mults[j]!)) | 0;
    return finish(h);
  }

  /** True when this subtable's mask is the dense mask `m` (in_port aside). */
  hasMask(m: Int32Array): boolean {
    let k = 0;
    for (let i = 0; i < FK.SIZE; i++) {
      const b = m[i]!;
      if (b === 0 || i === FK.IN_PORT) continue;
      if (k >= this.n || this.words[k] !== i || this.masks[k] !== b) return false;
      k++;
    }
    return k === this.n;
  }

  private slotOf(vals: Int32Array, h: number): number {
    const n = this.n;
    const tag = h | 1;
    let i = (h >>> 1) & this.capMask;
    let t: number;
    while ((t = this.tags[i]!) !== 0) {
      if (t === tag) {
        let j = 0;
        while (j < n && this.data[i * n + j] === vals[j]) j++;
        if (j === n) return i;
      }
      i = (i + 1) & this.capMask;
    }
    return -1;
  }

  /** Adds `mf`; an existing megaflow with the same match is replaced (and returned). */
  insert(mf: Megaflow): Megaflow | null {
    const vals = mf.vals;
    const h = this.hashOf(vals);
    const at = this.slotOf(vals, h);
    if (at >= 0) {
      const old = this.flows[at]!;
      this.flows[at] = mf;
      return old;
    }
    if ((this.count + 1) * 2 > this.capMask + 1) this.resize((this.capMask + 1) * 2);
    const cm = this.capMask;
    let i = (h >>> 1) & cm;
    while (this.tags[i] !== 0) i = (i + 1) & cm;
    this.tags[i] = h | 1;
    this.data.set(vals, i * this.n);
    this.flows[i] = mf;
    this.count++;
    return null;
  }

  /** Removes `mf` (by identity); false when absent. Backward-shift deletion, no tombstones. */
  remove(mf: Megaflow): boolean {
    const vals = mf.vals;
    const slot = this.slotOf(vals, this.hashOf(vals));
    if (slot < 0 || this.flows[slot] !== mf) return false;
    const n = this.n;
    const tags = this.tags;
    const cm = this.capMask;
    let hole = slot;
    let j = slot;
    for (;;) {
      j = (j + 1) & cm;
      const t = tags[j]!;
      if (t === 0) break;
      const home = (t >>> 1) & cm;
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (inRange) continue;
      tags[hole] = t;
      this.data.copyWithin(hole * n, j * n, j * n + n);
      this.flows[hole] = this.flows[j]!;
      hole = j;
    }
    tags[hole] = 0;
    this.flows[hole] = null;
    this.count--;
    return true;
  }

  private resize(capacity: number): void {
    const n = this.n;
    const oldTags = this.tags;
    const oldData = this.data;
    const oldFlows = this.flows;
    const cm = capacity - 1;
    const tags = new Int32Array(capacity);
    const data = new Int32Array(capacity * Math.max(1, n));
    const flows = new Array<Megaflow | null>(capacity).fill(null);
    for (let s = 0; s < oldFlows.length; s++) {
      const t = oldTags[s]!;
      if (t === 0) continue;
      let i = (t >>> 1) & cm;
      while (tags[i] !== 0) i = (i + 1) & cm;
      tags[i] = t;
      data.set(oldData.subarray(s * n, s * n + n), i * n);
      flows[i] = oldFlows[s]!;
    }
    this.tags = tags;
    this.data = data;
    this.flows = flows;
    this.capMask = cm;
  }
}

type ProbeFn = (w: Int32Array, o: number) => Megaflow | null;
type ProbeFactory = (...args: unknown[]) => ProbeFn;

/** Generated probe source → compiled factory (masks come from flow tables, so the set is small). */
const factories = new Map<string, ProbeFactory>();
const FACTORY_LIMIT = 1024;

/**
 * The probe of a partition, generated: its subtables unrolled in rank order,
 * word indexes, masks and multipliers as literals, the arrays bound as
 * closure parameters (as the classifier's codegen.ts does: 2–3× over the
 * data-driven loop). Rebuilt when a subtable appears, grows or is re-ranked.
 */
function probeSource(subs: readonly MfSubtable[]): string {
  const used = new Set<number>();
  for (const st of subs) for (const w of st.words) used.add(w);
  const out: string[] = ['"use strict";', "return function megaflowProbe(w, o) {"];
  for (const w of [...used].sort((a, b) => a - b)) out.push(`  const w${w} = w[o + ${w}];`);
  out.push("  let h = 0, i = 0, t = 0, b = 0, tag = 0;");
  subs.forEach((st, k) => {
    const n = st.n;
    out.push(`  // subtable ${k}: ${st.maskKey || "(in_port only)"}`);
    out.push("  {");
    const terms: string[] = [];
    for (let j = 0; j < n; j++) {
      const m = st.masks[j]! | 0;
      out.push(`    const k${j} = ${m === -1 ? `w${st.words[j]!}` : `w${st.words[j]!} & ${m}`};`);
      terms.push(`Math.imul(k${j}, ${st.mults[j]! | 0})`);
    }
    out.push(n === 0 ? "    h = 0;" : `    h = (${terms.join(" + ")}) | 0;`);
    out.push("    h ^= h >>> 16;", "    h = Math.imul(h, 73244475);", "    h ^= h >>> 16;");
    out.push("    tag = h | 1;", `    i = (h >>> 1) & C${k};`);
    out.push(`    while ((t = T${k}[i]) !== 0) {`);
    out.push("      if (t === tag) {");
    out.push(`        b = i * ${Math.max(1, n)};`);
    const cmp: string[] = [];
    for (let j = 0; j < n; j++) cmp.push(`D${k}[b + ${j}] === k${j}`);
    out.push(
      `        if (${cmp.length === 0 ? "true" : cmp.join(" && ")}) { S${k}.hits++; return F${k}[i]; }`,
    );
    out.push("      }", `      i = (i + 1) & C${k};`, "    }", "  }");
  });
  out.push("  return null;", "};");
  return out.join("\n");
}

function generateProbe(subs: readonly MfSubtable[]): ProbeFn {
  const source = probeSource(subs);
  let f = factories.get(source);
  if (f === undefined) {
    const params: string[] = [];
    subs.forEach((_, k) => params.push(`S${k}`, `T${k}`, `D${k}`, `F${k}`, `C${k}`));
    f = new Function(...params, source) as ProbeFactory;
    if (factories.size >= FACTORY_LIMIT) factories.clear();
    factories.set(source, f);
  }
  const args: unknown[] = [];
  for (const st of subs) args.push(st, st.tags, st.data, st.flows, st.capMask);
  return f(...args);
}

/** Subtables beyond this many in one partition are probed by the data-driven loop. */
const UNROLL = 16;

/** The subtables of one (in_port, parse status). */
class Partition {
  subs: MfSubtable[] = [];
  /** Subtables by a hash of their mask. */
  readonly byMask = new Map<number, MfSubtable[]>();
  /** The generated probe, or null when it must be rebuilt. */
  probe: ProbeFn | null = null;
  /** Index in the partition array, or -1 when it lives in the Map. */
  constructor(readonly slot: number) {}

  lookup(w: Int32Array, o: number): Megaflow | null {
    const subs = this.subs;
    if (subs.length <= UNROLL) {
      let probe = this.probe;
      if (probe === null) this.probe = probe = generateProbe(subs);
      return probe(w, o);
    }
    for (let s = 0; s < subs.length; s++) {
      const mf = subs[s]!.lookup(w, o);
      if (mf !== null) return mf;
    }
    return null;
  }
}

/** Hash of a dense mask (in_port aside). */
function maskHash(m: Int32Array): number {
  let h = 0x2c1b3c6d;
  for (let i = 0; i < FK.SIZE; i++) {
    const b = m[i]!;
    if (b !== 0 && i !== FK.IN_PORT) h = Math.imul(h ^ (i + Math.imul(b, 0x27d4eb2f)), 0x165667b1);
  }
  return finish(h);
}

/** Hash of a plan signature. */
function sigHash(ints: Int32Array): number {
  let h = ints.length;
  for (let i = 0; i < ints.length; i++) h = Math.imul(h ^ ints[i]!, 0x01000193);
  return finish(h);
}

function sameSig(p: MegaflowPlan, ints: Int32Array, refs: readonly object[]): boolean {
  const a = p.sigInts;
  if (a.length !== ints.length || p.sigRefs.length !== refs.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== ints[i]) return false;
  for (let i = 0; i < refs.length; i++) if (p.sigRefs[i] !== refs[i]) return false;
  return true;
}

export class MegaflowCache {
  private readonly small: (Partition | undefined)[] = new Array<Partition | undefined>(
    PORT_ARRAY << STATUS_BITS,
  );
  private readonly large = new Map<number, Partition>();
  private readonly partitions: Partition[] = [];
  /** Plans by signature hash. */
  private readonly plans = new Map<number, MegaflowPlan[]>();
  /** Plans that looked up each table (for precise invalidation). */
  private readonly byTable = new Map<FlowTable, Set<MegaflowPlan>>();
  /** The Datapath.version the cache was built under; a different one flushes it. */
  version = 0;
  readonly limit: number;
  count = 0;
  /** Packets handled from a megaflow, and packets that walked (counted by the Datapath). */
  hits = 0;
  misses = 0;
  inserts = 0;
  invalidations = 0;
  flushes = 0;
  private sinceRank = 0;

  constructor(limit = DEFAULT_MEGAFLOW_LIMIT) {
    this.limit = limit;
  }

  private partition(inPort: number, status: number, create: boolean): Partition | undefined {
    let p: Partition | undefined;
    if (inPort >= 0 && inPort < PORT_ARRAY) {
      const k = (inPort << STATUS_BITS) | status;
      p = this.small[k];
      if (p === undefined && create) {
        p = new Partition(k);
        this.small[k] = p;
        this.partitions.push(p);
      }
    } else {
      const k = inPort * 16 + status;
      p = this.large.get(k);
      if (p === undefined && create) {
        p = new Partition(-1);
        this.large.set(k, p);
        this.partitions.push(p);
      }
    }
    return p;
  }

  /** The megaflow for the key at `w[o ..]` with this in_port and parse status, or null. */
  lookup(w: Int32Array, o: number, inPort: number, status: number): Megaflow | null {
    const p =
      inPort >= 0 && inPort < PORT_ARRAY
        ? this.small[(inPort << STATUS_BITS) | status]
        : this.large.get(inPort * 16 + status);
    this.sinceRank++;
    return p === undefined ? null : p.lookup(w, o);
  }

  /**
   * The plan with this signature (`ints`: every number the walk's effects
   * depend on; `refs`: the objects, compared by identity), made by `make`
   * (given copies of both) when there is none yet.
   */
  plan(
    ints: Int32Array,
    refs: readonly object[],
    make: (hash: number, ints: Int32Array, refs: readonly object[]) => MegaflowPlan,
  ): MegaflowPlan {
    const h = sigHash(ints);
    let list = this.plans.get(h);
    if (list !== undefined) {
      for (const p of list) if (sameSig(p, ints, refs)) return p;
    } else {
      this.plans.set(h, (list = []));
    }
    // `ints` and `refs` may be the caller's scratch: the plan keeps copies.
    const p = make(h, ints.slice(), [...refs]);
    list.push(p);
    for (const t of p.tables) {
      let set = this.byTable.get(t);
      if (set === undefined) this.byTable.set(t, (set = new Set()));
      set.add(p);
    }
    return p;
  }

  /**
   * Installs the megaflow matching `input` on the bits of `mask` (dense, per
   * FlowKey word), with `plan`; flushes everything first when the cache is full.
   */
  insert(mask: Int32Array, input: Uint32Array, status: number, plan: MegaflowPlan): Megaflow {
    if (this.count >= this.limit) this.clear(this.version);
    const inPort = input[FK.IN_PORT]! | 0;
    const p = this.partition(inPort, status, true)!;
    const mh = maskHash(mask);
    let list = p.byMask.get(mh);
    let st: MfSubtable | undefined;
    if (list !== undefined) {
      for (const x of list) if (x.hasMask(mask)) st = x;
    } else {
      p.byMask.set(mh, (list = []));
    }
    if (st === undefined) {
      const words: number[] = [];
      const masks: number[] = [];
      const parts: string[] = [];
      for (let i = 0; i < FK.SIZE; i++) {
        const m = mask[i]!;
        if (m === 0 || i === FK.IN_PORT) continue;
        words.push(i);
        masks.push(m);
        parts.push(`${i}:${(m >>> 0).toString(16)}`);
      }
      st = new MfSubtable(parts.join(","), Int32Array.from(words), Int32Array.from(masks));
      list.push(st);
      p.subs.push(st);
    }
    const vals = new Int32Array(st.n);
    for (let j = 0; j < st.n; j++) vals[j] = input[st.words[j]!]! & st.masks[j]!;
    const mf = new Megaflow(plan, st, vals, inPort, status);
    const cap = st.capMask;
    const old = st.insert(mf);
    if (st.capMask !== cap || st.count === 1) p.probe = null;
    if (old !== null) this.forget(old);
    else this.count++;
    plan.flows.add(mf);
    // The probe order these lookups saw is the baseline for later flow-mods (cheap when current).
    for (const t of plan.tables) t.noteShape();
    this.inserts++;
    return mf;
  }

  /** Marks `mf` gone and drops its plan when no megaflow uses it any more. */
  private forget(mf: Megaflow): void {
    mf.valid = false;
    const plan = mf.plan;
    plan.flows.delete(mf);
    if (plan.flows.size !== 0) return;
    const list = this.plans.get(plan.hash);
    if (list !== undefined) {
      const i = list.indexOf(plan);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.plans.delete(plan.hash);
    }
    for (const t of plan.tables) this.byTable.get(t)?.delete(plan);
  }

  /** Removes one megaflow. */
  remove(mf: Megaflow): void {
    if (!mf.valid) return;
    if (mf.subtable.remove(mf)) this.count--;
    this.forget(mf);
    this.invalidations++;
  }

  /** Removes every megaflow; `version` is the Datapath.version they will be checked against. */
  clear(version: number): void {
    for (const p of this.partitions) {
      for (const st of p.subs) for (const mf of st.flows) if (mf !== null) mf.valid = false;
      if (p.slot >= 0) this.small[p.slot] = undefined;
    }
    this.large.clear();
    this.partitions.length = 0;
    this.plans.clear();
    this.byTable.clear();
    this.count = 0;
    this.version = version;
    this.flushes++;
  }

  /** Puts each partition's busiest subtables first (OVS re-ranks dpcls subtables every second). */
  maybeRerank(): void {
    if (this.sinceRank < RANK_INTERVAL) return;
    this.sinceRank = 0;
    for (const p of this.partitions) {
      if (p.subs.length > 1) p.subs.sort((a, b) => b.hits - a.hits);
      let live = 0;
      for (const st of p.subs) {
        st.hits = 0;
        if (st.count > 0) p.subs[live++] = st;
      }
      if (live !== p.subs.length) {
        p.subs.length = live;
        p.byMask.clear();
        for (const st of p.subs) {
          const m = new Int32Array(FK.SIZE);
          for (let j = 0; j < st.n; j++) m[st.words[j]!] = st.masks[j]!;
          const h = maskHash(m);
          const list = p.byMask.get(h);
          if (list === undefined) p.byMask.set(h, [st]);
          else list.push(st);
        }
      }
      p.probe = null;
    }
  }

  /** Megaflows installed (diagnostics, tests). */
  *megaflows(): Generator<Megaflow> {
    for (const p of this.partitions) {
      for (const st of p.subs) for (const mf of st.flows) if (mf !== null) yield mf;
    }
  }

  /** Number of subtables in all partitions (diagnostics). */
  get subtableCount(): number {
    let n = 0;
    for (const p of this.partitions) n += p.subs.length;
    return n;
  }

  /** Number of distinct plans (diagnostics). */
  get planCount(): number {
    let n = 0;
    for (const list of this.plans.values()) n += list.length;
    return n;
  }

  // ---------------------------------------------------------------- invalidation

  /** `e` was added to its table. */
  flowAdded(table: FlowTable, e: FlowEntry): void {
    const plans = this.byTable.get(table);
    if (plans === undefined || plans.size === 0) return;
    const all = e.program.conjunctions !== null || e.conjId >= 0 || table.shapeChanged();
    for (const plan of [...plans]) {
      const t = plan.tables;
      for (let v = 0; v < t.length; v++) {
        if (t[v] !== table) continue;
        if (all) {
          this.removeAll(plan);
          break;
        }
        const hit = plan.visitEntries[v]!;
        if (hit !== null && e.priority < hit.priority) continue;
        const writes = plan.visitWrites[v]!;
        for (const mf of [...plan.flows]) if (mayMatch(e, mf, writes)) this.remove(mf);
      }
    }
  }

  /** `e` left its table, or its instructions changed. */
  flowRemoved(table: FlowTable, e: FlowEntry): void {
    const plans = this.byTable.get(table);
    if (plans === undefined || plans.size === 0) return;
    const all = e.program.conjunctions !== null || e.conjId >= 0 || table.shapeChanged();
    for (const plan of [...plans]) {
      if (all || plan.visitEntries.includes(e)) this.removeAll(plan);
    }
  }

  private removeAll(plan: MegaflowPlan): void {
    for (const mf of [...plan.flows]) this.remove(mf);
  }
}

/**
 * Could rule `e` match the key a lookup of `mf` saw? That key is, bit by bit,
 * a written constant (`writes`: word, mask, value triples) or a consulted
 * input bit (the megaflow's value); other bits are unknown and may match.
 */
export function mayMatch(e: FlowEntry, mf: Megaflow, writes: Int32Array): boolean {
  const c = e.compiled;
  const words = c.words;
  for (let j = 0; j < words.length; j++) {
    const word = words[j]!;
    const rm = c.masks[j]!;
    const rv = c.values[j]!;
    let wm = 0;
    let wv = 0;
    for (let k = 0; k < writes.length; k += 3) {
      if (writes[k] === word) {
        wm = writes[k + 1]!;
        wv = writes[k + 2]!;
        break;
      }
    }
    if (((rv ^ wv) & rm & wm) !== 0) return false;
    const im = mf.maskOf(word) & ~wm;
    if (((rv ^ mf.valueOf(word)) & rm & im) !== 0) return false;
  }
  return true;
}
