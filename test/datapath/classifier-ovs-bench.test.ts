/**
 * OVS classifier benchmark equivalence (performance.md §4, §7): on the rule
 * streams recorded from OVS v3.1.0's own `ovstest test-classifier benchmark`,
 * with the 8,192 lookup flows regenerated exactly as OVS does, our classifier
 * gives
 *  - the per-flow best-priority checksum and matched-flow count of §7, and
 *  - OVS's hit and miss counts for the full 10,000,000-lookup stream (the
 *    oracle in each file's header).
 * No timing here: speed is bench/classifier.bench.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Classifier, ClsRule } from "../../datapath/classifier/classifier.js";
import {
  N_BENCH_LOOKUPS,
  benchFlowBuffer,
  benchLookupFlows,
  benchRules,
  bestPriorityChecksum,
  parseRulesFile,
  runBenchLookups,
} from "../../datapath/classifier/ovs-bench-workload.js";
import { ReferenceClassifier } from "../../datapath/reference-classifier.js";

const DIR = join(import.meta.dirname, "..", "..", "..", "shared", "ovs-classifier-bench");

/** performance.md §7: sum over the 8,192 flows of the best matching priority (−1 if none), and flows matched. */
const CHECKSUMS: readonly [file: string, checksum: number, matched: number][] = [
  ["stock-r1000-p10-t10", 624_304, 1_041],
  ["stock-r10000-p10-t10", 4_122_244, 5_661],
  ["wc-r1000-p10-t4", 8_677_830, 8_192],
  ["wc-r1000-p10-t10", 9_023_808, 8_192],
  ["wc-r1000-p10-t20", 9_130_878, 8_192],
];

function load(name: string) {
  const file = parseRulesFile(readFileSync(join(DIR, `${name}.rules`), "utf8"));
  const rules = benchRules(file);
  const flows = benchLookupFlows(file.nTables, file.nPriorities);
  return { file, rules, flows };
}

function classifier(rules: ReturnType<typeof benchRules>, codegen: boolean): Classifier<number> {
  const c = new Classifier<number>({ codegen });
  for (const r of rules) expect(c.insert(new ClsRule(r.match, r.priority, r.line))).toBeNull();
  return c;
}

describe("OVS classifier benchmark equivalence", () => {
  for (const [name, checksum, matched] of CHECKSUMS) {
    describe(name, () => {
      const { file, rules, flows } = load(name);

      it("the rule stream parses with the benchmark's parameters", () => {
        expect(file.lines.length).toBe(file.nRules);
        expect(file.hits + file.misses).toBe(N_BENCH_LOOKUPS);
        // Duplicates (same match and priority) are skipped, so fewer rules than lines, never more.
        expect(rules.length).toBeLessThanOrEqual(file.nRules);
        expect(rules.length).toBeGreaterThan(file.nRules * 0.8);
      });

      it(`per-flow best-priority checksum ${checksum} over ${matched} matched flows`, () => {
        for (const codegen of [true, false]) {
          const c = classifier(rules, codegen);
          expect(c.subtableCount).toBe(file.mode === "stock" ? 1 : file.nTables);
          expect(
            bestPriorityChecksum(flows, (k) => c.lookup(k)),
            `codegen=${codegen}`,
          ).toEqual({ checksum, matched });
        }
        if (rules.length <= 1000) {
          const ref = new ReferenceClassifier<number>();
          for (const r of rules) ref.insert(new ClsRule(r.match, r.priority, r.line));
          expect(bestPriorityChecksum(flows, (k) => ref.lookup(k))).toEqual({ checksum, matched });
        }
      });

      it(`10,000,000 lookups: hits ${file.hits}, misses ${file.misses} (OVS's counts)`, () => {
        const c = classifier(rules, true);
        const hits = runBenchLookups(N_BENCH_LOOKUPS, benchFlowBuffer(flows), c);
        expect({ hits, misses: N_BENCH_LOOKUPS - hits }).toEqual({
          hits: file.hits,
          misses: file.misses,
        });
      });
    });
  }
});
