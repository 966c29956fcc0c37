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
import type { RecordedVisit } from "./recorder.js";
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

/** One installed datapath flow. */
export class Megaflow {
  // ---- match ----
  /** Dense consulted mask and masked value per FlowKey word (invalidation checks). */
  readonly mask: Int32Array;
  readonly value: Int32Array;
  readonly inPort: number;
  readonly status: number;

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
  readonly tables: readonly FlowTable[];
  readonly tableMatched: Uint8Array;
  /** Ports whose tx counters the replay does not count itself (fast outputs, patch ports). */
  readonly txPorts: readonly Port[];
  readonly txLenDelta: Int32Array;
  /** Patch peers (rx counters). */
  readonly rxPorts: readonly Port[];
  readonly rxLenDelta: Int32Array;
  /** The lookups of the walk, for precise invalidation. */
  readonly visits: readonly RecordedVisit[];

  // ---- state ----
  valid = true;
  /** Packets and bytes since the last flush, and the time of the last one. */
  packets = 0;
  bytes = 0;
  usedMs = 0;
  dirty = false;
  /** Where it lives (for removal). */
  subtable: MfSubtable | null = null;

  constructor(init: {
    mask: Int32Array;
    value: Int32Array;
    inPort: number;
    status: number;
    fast: Int32Array | null;
    outPorts: readonly Port[];
    outBridges: readonly Bridge[];
    modifies: boolean;
    generic: readonly GenericOutput[] | null;
    hits: readonly FlowEntry[];
    hitLenDelta: Int32Array;
    tables: readonly FlowTable[];
    tableMatched: Uint8Array;
    txPorts: readonly Port[];
    txLenDelta: Int32Array;
    rxPorts: readonly Port[];
    rxLenDelta: Int32Array;
    visits: readonly RecordedVisit[];
  }) {
    this.mask = init.mask;
    this.value = init.value;
    this.inPort = init.inPort;
    this.status = init.status;
    this.fast = init.fast;
    this.outPorts = init.outPorts;
    this.outBridges = init.outBridges;
    this.modifies = init.modifies;
    this.generic = init.generic;
    this.hits = init.hits;
    this.hitLenDelta = init.hitLenDelta;
    this.tables = init.tables;
    this.tableMatched = init.tableMatched;
    this.txPorts = init.txPorts;
    this.txLenDelta = init.txLenDelta;
    this.rxPorts = init.rxPorts;
    this.rxLenDelta = init.rxLenDelta;
    this.visits = init.visits;
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

  /** Masked values of `mf` in this subtable's word order. */
  valuesOf(mf: Megaflow): Int32Array {
    const v = new Int32Array(this.n);
    for (let j = 0; j < this.n; j++) v[j] = mf.value[this.words[j]!]!;
    return v;
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
    const vals = this.valuesOf(mf);
    const h = this.hashOf(vals);
    const at = this.slotOf(vals, h);
    if (at >= 0) {
      const old = this.flows[at]!;
      this.flows[at] = mf;
      mf.subtable = this;
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
    mf.subtable = this;
    return null;
  }

  /** Removes `mf` (by identity); false when absent. Backward-shift deletion, no tombstones. */
  remove(mf: Megaflow): boolean {
    const vals = this.valuesOf(mf);
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
    mf.subtable = null;
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
    out.push(`        if (${cmp.length === 0 ? "true" : cmp.join(" && ")}) { S${k}.hits++; return F${k}[i]; }`);
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
  readonly byMask = new Map<string, MfSubtable>();
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

export class MegaflowCache {
  private readonly small: (Partition | undefined)[] = new Array<Partition | undefined>(
    PORT_ARRAY << STATUS_BITS,
  );
  private readonly large = new Map<number, Partition>();
  private readonly partitions: Partition[] = [];
  /** Megaflows that looked up each table (for precise invalidation). */
  private readonly byTable = new Map<FlowTable, Set<Megaflow>>();
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

  /** Installs `mf` (flushing everything first when the cache is full). */
  insert(mf: Megaflow): void {
    if (this.count >= this.limit) this.clear(this.version);
    const words: number[] = [];
    const masks: number[] = [];
    const parts: string[] = [];
    for (let i = 0; i < FK.SIZE; i++) {
      const m = mf.mask[i]!;
      if (m === 0 || i === FK.IN_PORT) continue;
      words.push(i);
      masks.push(m);
      parts.push(`${i}:${(m >>> 0).toString(16)}`);
    }
    const maskKey = parts.join(",");
    const p = this.partition(mf.inPort, mf.status, true)!;
    let st = p.byMask.get(maskKey);
    if (st === undefined) {
      st = new MfSubtable(maskKey, Int32Array.from(words), Int32Array.from(masks));
      p.byMask.set(maskKey, st);
      p.subs.push(st);
    }
    const cap = st.capMask;
    const old = st.insert(mf);
    if (st.capMask !== cap || st.count === 1) p.probe = null;
    if (old !== null) this.forget(old);
    else this.count++;
    for (const v of mf.visits) {
      v.table.noteShape();
      let set = this.byTable.get(v.table);
      if (set === undefined) this.byTable.set(v.table, (set = new Set()));
      set.add(mf);
    }
    this.inserts++;
  }

  /** Drops `mf` from the index of tables (it has left its subtable). */
  private forget(mf: Megaflow): void {
    mf.valid = false;
    for (const v of mf.visits) this.byTable.get(v.table)?.delete(mf);
  }

  /** Removes one megaflow. */
  remove(mf: Megaflow): void {
    const st = mf.subtable;
    if (st !== null && st.remove(mf)) this.count--;
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
        else p.byMask.delete(st.maskKey);
      }
      p.subs.length = live;
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

  // ---------------------------------------------------------------- invalidation

  /** `e` was added to its table. */
  flowAdded(table: FlowTable, e: FlowEntry): void {
    const set = this.byTable.get(table);
    if (set === undefined || set.size === 0) return;
    const soft = e.program.conjunctions !== null || e.conjId >= 0 || table.shapeChanged();
    for (const mf of [...set]) {
      for (const v of mf.visits) {
        if (v.table !== table) continue;
        if (
          soft ||
          ((v.entry === null || e.priority >= v.entry.priority) && mayMatch(e, mf, v.writes))
        ) {
          this.remove(mf);
          break;
        }
      }
    }
  }

  /** `e` left its table, or its instructions changed. */
  flowRemoved(table: FlowTable, e: FlowEntry): void {
    const set = this.byTable.get(table);
    if (set === undefined || set.size === 0) return;
    const soft = e.program.conjunctions !== null || e.conjId >= 0 || table.shapeChanged();
    for (const mf of [...set]) {
      for (const v of mf.visits) {
        if (v.table === table && (soft || v.entry === e)) {
          this.remove(mf);
          break;
        }
      }
    }
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
    const im = mf.mask[word]! & ~wm;
    if (((rv ^ mf.value[word]!) & rm & im) !== 0) return false;
  }
  return true;
}
