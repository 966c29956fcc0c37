/**
 * Open vSwitch's own classifier benchmark workload (`ovstest test-classifier
 * benchmark`, OVS v3.1.0 tests/test-classifier.c), rebuilt for our classifier
 * so that both can be compared on the same rules and the same lookups
 * (performance.md §4 and §7; rule streams in shared/ovs-classifier-bench/).
 *
 * - 13 fields with two values each; a rule matches field k unless bit k of its
 *   `wcf` is set (the "corrected" generator) or always (the stock generator,
 *   whose `make_rule()` ignores `wcf`). Field k takes value index bit k of
 *   `value_pat`. Priority is 0 when `wcf` is 0.
 * - The rule stream is read from the `.rules` file (OVS's hash tables draw
 *   from the same PRNG while growing, so it cannot be regenerated).
 * - The 8,192 lookup flows are regenerated here with xorshift32 from seed 1,
 *   after the draws OVS makes first (distinct masks, priority shuffle).
 * - The lookup stream restarts at seed 1: lookup n uses flow `next() % 8192`.
 *
 * The field values (192.168.0.1 and so on) are only data for a classifier;
 * nothing here touches a network.
 */
import { FK, FlowKey } from "../../codec/packet/flow-key.js";
import { MatchBuilder, type CompiledMatch } from "./compiled-match.js";

/** OVS tests/test-classifier.c `N_FLOW_VALUES`-style constant: lookup flows generated. */
export const N_LOOKUP_FLOWS = 8192;
/** Lookups OVS's benchmark times (and the `.rules` oracle counts). */
export const N_BENCH_LOOKUPS = 10_000_000;

/** xorshift32 as OVS's `random_uint32()` (lib/random.c), seeded with 1. */
export class Xorshift32 {
  private x: number;
  constructor(seed = 1) {
    this.x = seed >>> 0;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  /** OVS `random_range(n)`: `random_uint32() % n`. */
  range(n: number): number {
    return this.next() % n;
  }
}

/** One field of the benchmark: key words, and the two values per word. */
interface BenchField {
  readonly name: string;
  readonly words: readonly number[];
  readonly masks: readonly number[];
  /** values[v] = per-word values for value index v (0 or 1). */
  readonly values: readonly (readonly number[])[];
}

const mac = (hi: number, lo: number): number[] => [hi, lo];

/** The 13 fields in rule bit order (bit k of `wcf`/`value_pat`), OVS `cls_fields`. */
export const BENCH_FIELDS: readonly BenchField[] = [
  {
    name: "tun_id",
    words: [FK.TUN_ID_HI, FK.TUN_ID_LO],
    masks: [-1, -1],
    values: [
      [0, 0],
      [0xfedcba98, 0x76543210],
    ],
  },
  {
    name: "metadata",
    words: [FK.METADATA_HI, FK.METADATA_LO],
    masks: [-1, -1],
    values: [
      [0, 0],
      [0xfedcba98, 0x76543210],
    ],
  },
  { name: "nw_src", words: [FK.NW_SRC], masks: [-1], values: [[0xc0a80001], [0xc0a04455]] }, // 192.168.0.1, 192.160.68.85
  { name: "nw_dst", words: [FK.NW_DST], masks: [-1], values: [[0xc0a80002], [0xc0a04455]] }, // 192.168.0.2, 192.160.68.85
  { name: "in_port", words: [FK.IN_PORT], masks: [-1], values: [[1], [0xfffe]] },
  { name: "vlan_tci", words: [FK.VLAN_TCI], masks: [0xffff], values: [[101], [0]] },
  { name: "dl_type", words: [FK.ETH_TYPE], masks: [0xffff], values: [[0x0800], [0x0806]] },
  { name: "tp_src", words: [FK.TP_SRC], masks: [0xffff], values: [[49362], [80]] },
  { name: "tp_dst", words: [FK.TP_DST], masks: [0xffff], values: [[6667], [22]] },
  {
    name: "dl_src",
    words: [FK.ETH_SRC_HI, FK.ETH_SRC_LO],
    masks: [0xffff, -1],
    values: [mac(0x0002, 0xe30f80a4), mac(0x5e33, 0x7f5f1e99)],
  },
  {
    name: "dl_dst",
    words: [FK.ETH_DST_HI, FK.ETH_DST_LO],
    masks: [0xffff, -1],
    values: [mac(0x4a27, 0x71ae64c1), mac(0xffff, 0xffffffff)],
  },
  { name: "nw_proto", words: [FK.NW_PROTO], masks: [0xff], values: [[6], [1]] },
  // DSCP {48, 0} stored in nw_tos, matched with IP_DSCP_MASK 0xfc.
  { name: "nw_dscp", words: [FK.NW_TOS], masks: [0xfc], values: [[48], [0]] },
];
const F = Object.fromEntries(BENCH_FIELDS.map((f, i) => [f.name, i])) as Record<string, number>;

/** Order in which OVS's benchmark assigns lookup-flow fields from the bits of `x` (DSCP last, always index 0). */
const FLOW_FIELD_ORDER = [
  "nw_src",
  "nw_dst",
  "tun_id",
  "metadata",
  "in_port",
  "vlan_tci",
  "dl_type",
  "tp_src",
  "tp_dst",
  "dl_src",
  "dl_dst",
  "nw_proto",
] as const;

export interface RuleLine {
  readonly wcf: number;
  readonly priority: number;
  readonly valuePat: number;
}

export interface RulesFile {
  readonly mode: "stock" | "wc";
  readonly nRules: number;
  readonly nPriorities: number;
  readonly nTables: number;
  /** Oracle for {@link N_BENCH_LOOKUPS} lookups. */
  readonly hits: number;
  readonly misses: number;
  /** OVS's measured lookups/s on the project machine type. */
  readonly ovsLookupsPerSec: number;
  readonly ovsLookupsPerSecWithWildcards: number;
  readonly lines: readonly RuleLine[];
}

/** Parses a `.rules` file (format in shared/ovs-classifier-bench/README.md). */
export function parseRulesFile(text: string): RulesFile {
  const bench = /benchmark (\d+) (\d+) (\d+) 1 (\d+)/.exec(text);
  const oracle = /hits (\d+) misses (\d+)/.exec(text);
  const speed = /(\d+) lookups\/s without wildcards, (\d+) lookups\/s with wildcards/.exec(text);
  const mode = /^# mode: (stock|corrected)/m.exec(text);
  if (!bench || !oracle || !speed || !mode) throw new Error("not an OVS classifier rule stream");
  const lines: RuleLine[] = [];
  for (const line of text.split("\n")) {
    const m = /^R (\d+) (\d+) (\d+)$/.exec(line.trim());
    if (m) lines.push({ wcf: Number(m[1]), priority: Number(m[2]), valuePat: Number(m[3]) });
  }
  return {
    mode: mode[1] === "stock" ? "stock" : "wc",
    nRules: Number(bench[1]),
    nPriorities: Number(bench[2]),
    nTables: Number(bench[3]),
    hits: Number(oracle[1]),
    misses: Number(oracle[2]),
    ovsLookupsPerSec: Number(speed[1]),
    ovsLookupsPerSecWithWildcards: Number(speed[2]),
    lines,
  };
}

const builder = new MatchBuilder();

/** The match of one rule line (OVS `make_rule`). */
export function benchRuleMatch(mode: "stock" | "wc", wcf: number, valuePat: number): CompiledMatch {
  for (let k = 0; k < BENCH_FIELDS.length; k++) {
    if (mode === "wc" && (wcf & (1 << k)) !== 0) continue;
    const f = BENCH_FIELDS[k]!;
    const vi = (valuePat >>> k) & 1;
    for (let j = 0; j < f.words.length; j++)
      builder.set(f.words[j]!, f.values[vi]![j]!, f.masks[j]!);
  }
  return builder.finish();
}

export interface BenchRule {
  readonly match: CompiledMatch;
  readonly priority: number;
  /** Index of the line in the stream. */
  readonly line: number;
}

/**
 * The rules in insertion order, duplicates (same match and priority as an
 * earlier rule) skipped, as the benchmark does.
 */
export function benchRules(file: RulesFile): BenchRule[] {
  const seen = new Set<string>();
  const out: BenchRule[] = [];
  file.lines.forEach((l, line) => {
    const priority = l.wcf === 0 ? 0 : l.priority;
    const match = benchRuleMatch(file.mode, l.wcf, l.valuePat);
    const id = `${match.maskKey}|${match.values.join(",")}|${priority}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ match, priority, line });
  });
  return out;
}

/**
 * The 8,192 lookup flows, regenerated as OVS does: the PRNG first draws
 * `nTables` distinct masks and shuffles `nPriorities` priorities, then each
 * flow takes `x = range(4096)` and spends one bit of x per field.
 */
export function benchLookupFlows(nTables: number, nPriorities: number): FlowKey[] {
  const rng = new Xorshift32(1);
  const wcfs: number[] = [];
  for (let i = 0; i < nTables; i++) {
    let w: number;
    do w = rng.next() & 0x1fff;
    while (wcfs.includes(w));
    wcfs.push(w);
  }
  const priorities: number[] = [];
  for (let i = 0; i < nPriorities; i++) priorities.push(i * 129);
  for (let p = 0, n = nPriorities; n > 1; n--, p++) {
    const q = p + rng.range(n);
    const tmp = priorities[p]!;
    priorities[p] = priorities[q]!;
    priorities[q] = tmp;
  }
  const flows: FlowKey[] = [];
  for (let i = 0; i < N_LOOKUP_FLOWS; i++) {
    const key = new FlowKey();
    let x = rng.range(1 << FLOW_FIELD_ORDER.length);
    for (const name of FLOW_FIELD_ORDER) {
      setField(key, F[name]!, x & 1);
      x >>>= 1;
    }
    setField(key, F["nw_dscp"]!, 0);
    flows.push(key);
  }
  return flows;
}

function setField(key: FlowKey, k: number, vi: number): void {
  const f = BENCH_FIELDS[k]!;
  for (let j = 0; j < f.words.length; j++) key.w[f.words[j]!] = f.values[vi]![j]!;
}

/** Per-flow best priority summed over the flows (−1 for a flow nothing matches), and how many matched. */
export function bestPriorityChecksum(
  flows: readonly FlowKey[],
  best: (key: FlowKey) => { priority: number } | null,
): { checksum: number; matched: number } {
  let checksum = 0;
  let matched = 0;
  for (const f of flows) {
    const r = best(f);
    if (r === null) checksum -= 1;
    else {
      checksum += r.priority;
      matched++;
    }
  }
  return { checksum, matched };
}

/** Words per flow in {@link benchFlowBuffer} (FK.SIZE rounded up to a multiple of 8). */
export const BENCH_FLOW_STRIDE = (FK.SIZE + 7) & ~7;

/**
 * The flows copied into one contiguous buffer, flow i at word
 * `i * BENCH_FLOW_STRIDE`, for `Classifier.lookupAt`. This is the layout of
 * OVS's benchmark, whose `lookup_flows` is one array of `struct flow`.
 */
export function benchFlowBuffer(flows: readonly FlowKey[]): Uint32Array {
  const buf = new Uint32Array(flows.length * BENCH_FLOW_STRIDE);
  flows.forEach((f, i) => buf.set(f.w, i * BENCH_FLOW_STRIDE));
  return buf;
}

/**
 * OVS's lookup loop: `n` lookups of `flow[next() % 8192]` from a fresh
 * xorshift32 seeded with 1; returns the hits. `cls.lookupAt` is called with
 * the flow's offset in `buf` (a method call on one class: monomorphic). The xorshift state is kept in int32 (the `% 8192`
 * of a uint32 equals `& 8191`), so the loop itself allocates nothing.
 */
export function runBenchLookups(
  n: number,
  buf: Uint32Array,
  cls: { lookupAt(words: Uint32Array, offset: number): unknown },
): number {
  let x = 1;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (cls.lookupAt(buf, (x & (N_LOOKUP_FLOWS - 1)) * BENCH_FLOW_STRIDE) !== null) hits++;
  }
  return hits;
}

/**
 * {@link runBenchLookups} through the megaflow path (OVS's "with wildcards"
 * line): each lookup starts from an all-wildcard `wc` (FK.SIZE words,
 * cleared every time, as OVS initialises its `flow_wildcards` per lookup) and
 * reports the consulted bits into it.
 */
export function runBenchLookupsWithWildcards(
  n: number,
  buf: Uint32Array,
  cls: { lookupWordsWithWildcards(w: Uint32Array, wc: Uint32Array, offset: number): unknown },
  wc: Uint32Array,
): number {
  let x = 1;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    wc.fill(0);
    if (
      cls.lookupWordsWithWildcards(buf, wc, (x & (N_LOOKUP_FLOWS - 1)) * BENCH_FLOW_STRIDE) !== null
    )
      hits++;
  }
  return hits;
}
