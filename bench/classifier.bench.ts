/**
 * Classifier speed against Open vSwitch's own classifier benchmark
 * (shared/docs/performance.md §3.3, §4, §7; issue 4 §6, goal C1: ≥ 2× OVS
 * `classifier_lookup` at 1–10 masks, ≥ 1.5× at 20).
 *
 * Run: `node --import tsx bench/classifier.bench.ts [--quick] [--no-benny] [file-filter...]`
 *
 * Four parts:
 *  1. Calibration probe (§3.5): 1k-entry Int32Array open-addressing probe over
 *     a 1M-packet batch, 95% hits. Results are also given as a ratio to it so
 *     runs on different machines compare.
 *  2. Side by side with OVS (§4): for each `.rules` file, the exact OVS loop —
 *     10,000,000 lookups of `flow[xorshift32() % 8192]` — with four engines:
 *     generated matchers (the default), generated with the stage filters
 *     checked (`staged: true`), the data-driven loop, and the megaflow path
 *     (`lookupWithWildcards`, a cleared wildcard buffer per lookup). The
 *     hit/miss count is checked against the file's oracle on every run;
 *     ns/lookup is the median of the runs (wall clock and process CPU time;
 *     CPU time is the steadier figure on a shared 2-core box). OVS's figure is
 *     the file header's "without wildcards" lookups/s ("with wildcards" for
 *     the megaflow path), measured on the project machine type. The run ends
 *     with the C1 verdict per rule file.
 *  3. The same lookups under benny (a batch of 8,192 lookups per benny op).
 *  4. (Run first, on a clean process.) Memory and update rate: RSS for
 *     100,000 flows in one table (target well under 200 MB), and flow churn
 *     (removes and inserts/s, with the compiled state kept current).
 */
import b from "benny";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { FK, FlowKey } from "../codec/packet/flow-key.js";
import { Classifier, ClsRule } from "../datapath/classifier/classifier.js";
import { compiledMatchFromWords } from "../datapath/classifier/compiled-match.js";
import {
  N_BENCH_LOOKUPS,
  N_LOOKUP_FLOWS,
  benchFlowBuffer,
  benchLookupFlows,
  benchRules,
  parseRulesFile,
  runBenchLookups,
  runBenchLookupsWithWildcards,
} from "../datapath/classifier/ovs-bench-workload.js";
import type { ClassifierOptions } from "../datapath/classifier/classifier.js";
import { SHARED } from "../test/shared-path.js";
import { calibrationProbe, median, timeIt } from "./timing.js";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const BENNY = !args.includes("--no-benny");
const filters = args.filter((a) => !a.startsWith("-"));
const RUNS = QUICK ? 3 : 5;
const LOOKUPS = QUICK ? 2_000_000 : N_BENCH_LOOKUPS;
const BENCH_DIR = join(SHARED, "ovs-classifier-bench");

// 1. The calibration probe (performance.md §3.5) is calibrationProbe() in ./timing.ts.

// ---------------------------------------------------------------------------
// 2. Side by side with OVS
// ---------------------------------------------------------------------------

interface Workload {
  readonly name: string;
  readonly file: ReturnType<typeof parseRulesFile>;
  readonly rules: ReturnType<typeof benchRules>;
  readonly flows: FlowKey[];
  readonly buf: Uint32Array;
}

function loadWorkloads(): Workload[] {
  const names = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(".rules"))
    .map((f) => f.slice(0, -".rules".length))
    .filter((n) => filters.length === 0 || filters.some((f) => n.includes(f)))
    .sort((a, b) =>
      a.startsWith("stock") === b.startsWith("stock")
        ? a.localeCompare(b, "en", { numeric: true })
        : a.startsWith("stock")
          ? -1
          : 1,
    );
  return names.map((name) => {
    const file = parseRulesFile(readFileSync(join(BENCH_DIR, `${name}.rules`), "utf8"));
    const flows = benchLookupFlows(file.nTables, file.nPriorities);
    return { name, file, rules: benchRules(file), flows, buf: benchFlowBuffer(flows) };
  });
}

/** The engines of part 2 (the first is the default classifier, the one goal C1 is about). */
const ENGINES: readonly { name: string; opts: ClassifierOptions; wildcards: boolean }[] = [
  { name: "generated", opts: {}, wildcards: false },
  { name: "gen. staged", opts: { staged: true }, wildcards: false },
  { name: "data-driven", opts: { codegen: false }, wildcards: false },
  { name: "wildcards", opts: {}, wildcards: true },
];

function build(w: Workload, opts: ClassifierOptions): Classifier<number> {
  const c = new Classifier<number>(opts);
  for (const r of w.rules) c.insert(new ClsRule(r.match, r.priority, r.line));
  c.lookup(w.flows[0]!); // compile now, outside the timed loop
  return c;
}

const wcBuffer = new Uint32Array(FK.SIZE);

interface Row {
  name: string;
  engine: string;
  masks: number;
  wall: number;
  cpu: number;
  ovs: number;
  ok: boolean;
}

function sideBySide(workloads: readonly Workload[]): Row[] {
  const rows: Row[] = [];
  for (const w of workloads) {
    for (const engine of ENGINES) {
      const c = build(w, engine.opts);
      const run = (n: number) =>
        engine.wildcards
          ? runBenchLookupsWithWildcards(n, w.buf, c, wcBuffer)
          : runBenchLookups(n, w.buf, c);
      const walls: number[] = [];
      const cpus: number[] = [];
      let ok = true;
      run(LOOKUPS / 10); // warm-up
      for (let r = 0; r < RUNS; r++) {
        const t = timeIt(LOOKUPS, () => run(LOOKUPS));
        // The oracle counts exactly 10M lookups; --quick runs fewer and cannot check it.
        if (LOOKUPS === N_BENCH_LOOKUPS && t.result !== w.file.hits) ok = false;
        walls.push(t.wall);
        cpus.push(t.cpu);
      }
      const row: Row = {
        name: w.name,
        engine: engine.name,
        masks: c.subtableCount,
        wall: median(walls),
        cpu: median(cpus),
        ovs:
          1e9 / (engine.wildcards ? w.file.ovsLookupsPerSecWithWildcards : w.file.ovsLookupsPerSec),
        ok,
      };
      rows.push(row);
      console.log(
        `${row.name.padEnd(22)} ${row.engine.padEnd(11)} ${row.cpu.toFixed(1).padStart(6)} ns cpu ${row.wall.toFixed(1).padStart(6)} ns wall  OVS ${row.ovs.toFixed(1)} ns  ×${(row.ovs / row.cpu).toFixed(2)}  hits ${LOOKUPS === N_BENCH_LOOKUPS ? (ok ? "= oracle" : "≠ ORACLE") : "(quick: not checked)"}`,
      );
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------
// 3. benny
// ---------------------------------------------------------------------------

async function bennySuite(workloads: readonly Workload[]): Promise<void> {
  const cases = workloads.flatMap((w) =>
    [true, false].map((codegen) => {
      const c = build(w, { codegen });
      return b.add(
        `${w.name} ${codegen ? "generated" : "data-driven"} (${N_LOOKUP_FLOWS} lookups/op)`,
        () => {
          runBenchLookups(N_LOOKUP_FLOWS, w.buf, c);
        },
      );
    }),
  );
  await b.suite(
    "classifier",
    ...cases,
    b.cycle(),
    b.complete((summary) => {
      console.log("\n| benny case | ops/s | lookups/s | ns/lookup |\n|---|---|---|---|");
      for (const r of summary.results) {
        const lps = r.ops * N_LOOKUP_FLOWS;
        console.log(
          `| ${r.name} | ${Math.round(r.ops).toLocaleString("en")} | ${Math.round(lps).toLocaleString("en")} | ${(1e9 / lps).toFixed(1)} |`,
        );
      }
    }),
  );
}

// ---------------------------------------------------------------------------
// 4. Memory and update rate
// ---------------------------------------------------------------------------

/**
 * 100,000 flows shaped like a DVR table: eth_type + ipv4 dst (/32 or /24) +
 * metadata (network id) + reg6, with an in_port on a third of them — 6 masks.
 */
function dvrLikeRules(n: number): ClsRule<number>[] {
  const rules: ClsRule<number>[] = [];
  for (let i = 0; i < n; i++) {
    const words = [FK.ETH_TYPE, FK.NW_DST, FK.METADATA_LO, FK.REG0 + 6];
    const masks = [0xffff, i % 5 === 0 ? 0xffffff00 : 0xffffffff, 0xffffffff, 0xffffffff];
    const values = [0x0800, (0x0a000000 + i * 7) >>> 0, i % 1000, i % 3];
    if (i % 3 === 0) {
      words.push(FK.IN_PORT);
      masks.push(0xffffffff);
      values.push(1 + (i % 48));
    }
    rules.push(new ClsRule(compiledMatchFromWords(words, masks, values), 100 + (i % 50), i));
  }
  return rules;
}

function memoryAndUpdates(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const N = 100_000;
  gc?.();
  const before = process.memoryUsage();
  const rules = dvrLikeRules(N);
  const c = new Classifier<number>();
  const ins = timeIt(N, () => {
    for (const r of rules) c.insert(r);
    return c.size;
  });
  const key = new FlowKey();
  key.w[FK.ETH_TYPE] = 0x0800;
  c.lookup(key);
  gc?.();
  const after = process.memoryUsage();
  const mb = (x: number) => (x / 2 ** 20).toFixed(0);
  console.log(
    `100,000 flows in one table (${c.subtableCount} masks): RSS ${mb(after.rss)} MB for the whole process ` +
      `(${mb(before.rss)} MB before the flows: node + tsx), heap +${mb(after.heapUsed - before.heapUsed)} MB, ` +
      `array buffers +${mb(after.arrayBuffers - before.arrayBuffers)} MB${gc ? "" : " [run with --expose-gc for steadier figures]"}`,
  );
  console.log(
    `  first insert of 100,000 flows (cold JIT): ${Math.round(1e9 / ins.wall).toLocaleString("en")} inserts/s`,
  );
  // Churn: remove and re-insert every 10th flow, a lookup after each change so the
  // compiled state is kept current; the last of 4 rounds (warm JIT) is reported.
  const churn = rules.filter((_, i) => i % 10 === 0);
  let last = { wall: 0, cpu: 0, result: 0 };
  const rebuildsBefore = c.rebuilds;
  for (let round = 0; round < 4; round++) {
    last = timeIt(churn.length * 2, () => {
      for (const r of churn) {
        c.remove(r);
        c.lookup(key);
      }
      for (const r of churn) {
        c.insert(r);
        c.lookup(key);
      }
      return c.size;
    });
  }
  console.log(
    `  flow churn (remove or insert, then a lookup): ${Math.round(1e9 / last.wall).toLocaleString("en")} changes/s, ` +
      `${c.rebuilds - rebuildsBefore} regenerations for ${churn.length * 8} changes\n`,
  );
  c.clear();
}

// ---------------------------------------------------------------------------

console.log(
  `node ${process.version}, ${RUNS} runs of ${LOOKUPS.toLocaleString("en")} lookups per case${QUICK ? " (quick)" : ""}`,
);
// Memory first, while the process holds nothing else.
memoryAndUpdates();
const calib = calibrationProbe();
console.log(
  `calibration probe (§3.5, 1k entries, Int32Array open addressing): ${calib.toFixed(2)} ns/probe (doc: 9.8 ns)\n`,
);
const workloads = loadWorkloads();
const rows = sideBySide(workloads);
console.log(
  "\n| rule file | masks | engine | ns/lookup (cpu) | ns/lookup (wall) | M lookups/s | ÷ calib | OVS ns | speed-up vs OVS | hits = OVS oracle |\n|---|---|---|---|---|---|---|---|---|---|",
);
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.masks} | ${r.engine} | ${r.cpu.toFixed(1)} | ${r.wall.toFixed(1)} | ${(1e3 / r.cpu).toFixed(1)} | ${(r.cpu / calib).toFixed(1)} | ${r.ovs.toFixed(1)} | ${(r.ovs / r.cpu).toFixed(2)}× | ${LOOKUPS === N_BENCH_LOOKUPS ? (r.ok ? "yes" : "NO") : "n/a (quick)"} |`,
  );
}
console.log("");
// Goal C1 (performance.md §5): the default engine ≥ 2× OVS without wildcards at 1–10 masks, ≥ 1.5× at 20.
for (const r of rows) {
  if (r.engine !== ENGINES[0]!.name) continue;
  const need = r.masks <= 10 ? 2 : 1.5;
  const got = r.ovs / r.cpu;
  console.log(
    `C1 ${r.name} (${r.masks} mask${r.masks === 1 ? "" : "s"}): ×${got.toFixed(2)} vs OVS, need ×${need.toFixed(1)}: ${got >= need ? "met" : "NOT met"}`,
  );
}
console.log("");
if (BENNY) await bennySuite(workloads);
