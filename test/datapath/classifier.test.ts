/**
 * The tuple-space classifier against the linear reference (datapath/
 * reference-classifier.ts), OVS tests/test-classifier.c style: random rule
 * sets drawn from *small* value domains so that overlaps, shared masks,
 * same-match chains and priority ties are common, random keys from the same
 * domains, interleaved inserts, removals and re-inserts. Seeded, so a failure
 * reproduces.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FK, FlowKey } from "../../codec/packet/flow-key.js";
import { Classifier, ClsRule } from "../../datapath/classifier/classifier.js";
import {
  compiledMatchFromWords,
  formatCompiledMatch,
  matchesWords,
  type CompiledMatch,
} from "../../datapath/classifier/compiled-match.js";
import { ReferenceClassifier } from "../../datapath/reference-classifier.js";
import { matchOf, ruleSpecArb, type Slot } from "./slot-rules.js";

const ip = (a: number, b: number, c: number, d: number) =>
  ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

const SLOTS: readonly Slot[] = [
  { word: FK.IN_PORT, masks: [0xffffffff], values: [1, 2, 3] },
  { word: FK.ETH_TYPE, masks: [0xffff], values: [0x0800, 0x0806] },
  {
    word: FK.NW_SRC,
    masks: [0xffffffff, 0xffffff00, 0xffff0000, 0xff000000],
    values: [
      ip(10, 0, 0, 1),
      ip(10, 0, 0, 2),
      ip(10, 0, 1, 1),
      ip(10, 1, 0, 1),
      ip(192, 168, 0, 1),
    ],
  },
  {
    word: FK.NW_DST,
    masks: [0xffffffff, 0xffffff00, 0x80000000],
    values: [ip(10, 0, 0, 1), ip(200, 0, 0, 1), ip(10, 0, 0, 9)],
  },
  { word: FK.TP_DST, masks: [0xffff, 0xff00], values: [80, 81, 443, 0x1f50] },
  { word: FK.ETH_DST_HI, masks: [0xffff, 0x0100], values: [0x0100, 0xffff, 0x0002] },
  { word: FK.ETH_DST_LO, masks: [0xffffffff], values: [0x5e000001, 0xffffffff] },
  { word: FK.REG0 + 5, masks: [0xffffffff, 0xff, 0xf0], values: [0, 1, 0x10, 0x11] },
  // Sign-bit values: the int32 path must treat 0x8000_0000 like any other.
  { word: FK.METADATA_HI, masks: [0xffffffff, 0x80000000], values: [0, 0x80000000, 0xfedcba98] },
  { word: FK.TUN_ID_LO, masks: [0xffffffff], values: [0x80000001, 7] },
];

const PRIORITIES = [0, 1, 2, 5, 100, 0x8000, 0xffff];

const ruleSpecs = ruleSpecArb(SLOTS, PRIORITIES);

const keyArb: fc.Arbitrary<readonly number[]> = fc.tuple(
  ...SLOTS.map((s) => fc.nat(s.values.length)),
);

/** A key: value index per slot; index == values.length means "some other value". */
function keyOf(choice: readonly number[]): FlowKey {
  const k = new FlowKey();
  choice.forEach((c, i) => {
    const s = SLOTS[i]!;
    k.w[s.word] = c < s.values.length ? s.values[c]! : 0x0badf00d;
  });
  return k;
}

interface Engines {
  readonly ref: ReferenceClassifier<number>;
  readonly all: readonly { name: string; cls: Classifier<number> }[];
}

function engines(): Engines {
  return {
    ref: new ReferenceClassifier<number>(),
    all: [
      { name: "codegen", cls: new Classifier<number>() },
      { name: "generic", cls: new Classifier<number>({ codegen: false }) },
      { name: "codegen unroll=2", cls: new Classifier<number>({ unroll: 2 }) },
    ],
  };
}

let lookupsCompared = 0;
const BATCH_OFFSET = 3 * FK.SIZE + 5;
const batch = new Uint32Array(BATCH_OFFSET + FK.SIZE + 7);

/** Compares every engine with the reference on `keys`; returns a failure description or null. */
function compare(e: Engines, keys: readonly FlowKey[]): string | null {
  for (const key of keys) {
    const want = e.ref.lookup(key);
    const tied = e.ref.lookupAll(key.w);
    let first: number | null | undefined;
    for (const { name, cls } of e.all) {
      const got = cls.lookup(key);
      lookupsCompared++;
      // The same key inside a shared buffer, at an odd offset, gives the same rule.
      batch.set(key.w, BATCH_OFFSET);
      if (cls.lookupAt(batch, BATCH_OFFSET) !== got)
        return `${name}: lookupAt disagrees with lookup`;
      if ((got === null) !== (want === null)) {
        return `${name}: got ${got ? formatCompiledMatch(got.match) : "null"} want ${want ? formatCompiledMatch(want.match) : "null"}`;
      }
      if (got !== null) {
        if (got.priority !== want!.priority)
          return `${name}: priority ${got.priority} want ${want!.priority}`;
        if (!matchesWords(got.match, key.w)) return `${name}: returned a rule that does not match`;
        // Engines hold copies of the reference's rules: identify rules by payload (the rule index).
        if (!tied.some((r) => r.payload === got.payload))
          return `${name}: returned a rule the reference does not hold`;
      }
      // All engines walk the same subtable order, so they break ties identically.
      const payload = got === null ? null : got.payload;
      if (first === undefined) first = payload;
      else if (payload !== first) return `${name}: disagrees with ${e.all[0]!.name} on a tie`;
    }
  }
  return null;
}

describe("classifier vs reference (property, seeded)", () => {
  it("random rules, keys, removals and re-inserts: ≥ 10,000 lookups agree", () => {
    lookupsCompared = 0;
    fc.assert(
      fc.property(
        fc.array(ruleSpecs, { minLength: 1, maxLength: 80 }),
        fc.array(keyArb, { minLength: 40, maxLength: 120 }),
        fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }),
        (specs, keyChoices, removeMask) => {
          const e = engines();
          const keys = keyChoices.map(keyOf);
          const rules = specs.map((s, i) => new ClsRule(matchOf(SLOTS, s), s.priority, i));
          // Each engine holds its own rule objects (a rule lives in one classifier).
          const copies = e.all.map(() =>
            rules.map((r) => new ClsRule(r.match, r.priority, r.payload)),
          );
          const refRules = rules;
          const insertAll = (which: (i: number) => boolean) => {
            for (let i = 0; i < rules.length; i++) {
              if (!which(i)) continue;
              const replacedRef = e.ref.insert(refRules[i]!);
              e.all.forEach(({ cls }, j) => {
                const replaced = cls.insert(copies[j]![i]!);
                expect(replaced === null ? null : replaced.payload).toBe(
                  replacedRef === null ? null : replacedRef.payload,
                );
              });
            }
          };
          const removeWhere = (which: (i: number) => boolean) => {
            for (let i = 0; i < rules.length; i++) {
              if (!which(i)) continue;
              const okRef = e.ref.remove(refRules[i]!);
              e.all.forEach(({ cls }, j) => expect(cls.remove(copies[j]![i]!)).toBe(okRef));
            }
          };
          insertAll(() => true);
          for (const { cls } of e.all) expect(cls.size).toBe(e.ref.size);
          const f1 = compare(e, keys);
          if (f1 !== null) throw new Error(`after insert: ${f1}`);
          removeWhere((i) => removeMask[i % removeMask.length]!);
          for (const { cls } of e.all) expect(cls.size).toBe(e.ref.size);
          const f2 = compare(e, keys);
          if (f2 !== null) throw new Error(`after remove: ${f2}`);
          // Re-insert the removed ones that are not already replaced-out (ref decides which are absent).
          insertAll(
            (i) =>
              removeMask[i % removeMask.length]! &&
              e.ref.rules().indexOf(refRules[i]!) < 0 &&
              i % 2 === 0,
          );
          const f3 = compare(e, keys);
          if (f3 !== null) throw new Error(`after re-insert: ${f3}`);
        },
      ),
      { seed: 0x5eed, numRuns: 40 },
    );
    expect(lookupsCompared).toBeGreaterThanOrEqual(10_000);
  });

  it("a fully random key space (random masks and values) agrees too", () => {
    lookupsCompared = 0;
    const wordArb = fc.constantFrom(
      FK.IN_PORT,
      FK.NW_SRC,
      FK.NW_DST,
      FK.TP_SRC,
      FK.REG0,
      FK.ETH_SRC_LO,
    );
    const narrowArb = fc.nat(3).map((v) => (v * 0x40000001) >>> 0);
    const triple = fc.tuple(
      wordArb,
      fc.oneof(fc.constant(0xffffffff), narrowArb, fc.integer({ min: 0, max: 0xffffffff })),
      narrowArb,
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(triple, { maxLength: 4 }), fc.nat(4)), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.array(fc.array(narrowArb, { minLength: 6, maxLength: 6 }), {
          minLength: 50,
          maxLength: 50,
        }),
        (ruleDefs, keyDefs) => {
          const e = engines();
          ruleDefs.forEach(([triples, prio], i) => {
            const m = compiledMatchFromWords(
              triples.map((t) => t[0]),
              triples.map((t) => t[1]),
              triples.map((t) => t[2]),
            );
            e.ref.insert(new ClsRule(m, prio, i));
            for (const { cls } of e.all) cls.insert(new ClsRule(m, prio, i));
          });
          const keys = keyDefs.map((vals) => {
            const k = new FlowKey();
            [FK.IN_PORT, FK.NW_SRC, FK.NW_DST, FK.TP_SRC, FK.REG0, FK.ETH_SRC_LO].forEach(
              (w, j) => (k.w[w] = vals[j]!),
            );
            return k;
          });
          // Tie identity across engines holds only for identical rule objects; compare by payload here.
          for (const key of keys) {
            const want = e.ref.lookup(key);
            const tiedPayloads = e.ref.lookupAll(key.w).map((r) => r.payload);
            for (const { name, cls } of e.all) {
              const got = cls.lookup(key);
              lookupsCompared++;
              if ((got === null) !== (want === null)) throw new Error(`${name}: null mismatch`);
              if (
                got !== null &&
                (got.priority !== want!.priority || !tiedPayloads.includes(got.payload))
              ) {
                throw new Error(`${name}: wrong rule`);
              }
            }
          }
        },
      ),
      { seed: 0xc1a55, numRuns: 80 },
    );
    expect(lookupsCompared).toBeGreaterThanOrEqual(10_000);
  });
});

const m = (pairs: [number, number, number][]): CompiledMatch =>
  compiledMatchFromWords(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
    pairs.map((p) => p[2]),
  );

function key(set: [number, number][]): FlowKey {
  const k = new FlowKey();
  for (const [w, v] of set) k.w[w] = v;
  return k;
}

describe("classifier semantics", () => {
  it("same match and priority replaces; same match, other priority chains", () => {
    const c = new Classifier<string>();
    const match = m([[FK.IN_PORT, -1, 1]]);
    const a = new ClsRule(match, 10, "a");
    const b = new ClsRule(match, 10, "b");
    const lo = new ClsRule(match, 5, "lo");
    const hi = new ClsRule(match, 20, "hi");
    expect(c.insert(a)).toBeNull();
    expect(c.insert(lo)).toBeNull();
    expect(c.insert(b)).toBe(a);
    expect(c.size).toBe(2);
    expect(c.remove(a)).toBe(false);
    expect(c.insert(hi)).toBeNull();
    const k = key([[FK.IN_PORT, 1]]);
    expect(c.lookup(k)?.payload).toBe("hi");
    expect(c.remove(hi)).toBe(true);
    expect(c.lookup(k)?.payload).toBe("b");
    expect(c.remove(b)).toBe(true);
    expect(c.lookup(k)?.payload).toBe("lo");
    expect(c.find(match, 5)).toBe(lo);
    expect(c.find(match, 10)).toBeNull();
    expect(c.remove(lo)).toBe(true);
    expect(c.lookup(k)).toBeNull();
    expect(c.subtableCount).toBe(0);
  });

  it("a rule can be in only one classifier at a time", () => {
    const r = new ClsRule(m([]), 0, 0);
    const c1 = new Classifier<number>();
    const c2 = new Classifier<number>();
    c1.insert(r);
    expect(() => c2.insert(r)).toThrow();
    expect(c2.remove(r)).toBe(false);
    c1.remove(r);
    expect(c2.insert(r)).toBeNull();
  });

  it("the catch-all rule and priority 0 work", () => {
    const c = new Classifier<string>();
    c.insert(new ClsRule(m([]), 0, "miss"));
    c.insert(new ClsRule(m([[FK.ETH_TYPE, 0xffff, 0x0806]]), 0, "arp0"));
    expect(c.lookup(key([[FK.ETH_TYPE, 0x0800]]))?.payload).toBe("miss");
    expect(["miss", "arp0"]).toContain(c.lookup(key([[FK.ETH_TYPE, 0x0806]]))?.payload);
  });

  it("higher priority in a later subtable beats an earlier match", () => {
    const c = new Classifier<string>();
    c.insert(new ClsRule(m([[FK.IN_PORT, -1, 1]]), 10, "port"));
    c.insert(new ClsRule(m([[FK.NW_DST, 0xffffff00, 0x0a000000]]), 50, "net"));
    c.insert(new ClsRule(m([[FK.NW_DST, -1, 0x0a000001]]), 40, "host"));
    const k = key([
      [FK.IN_PORT, 1],
      [FK.NW_DST, 0x0a000001],
    ]);
    expect(c.lookup(k)?.payload).toBe("net");
    k.w[FK.NW_DST] = 0x0b000001;
    expect(c.lookup(k)?.payload).toBe("port");
  });

  it("iteration yields every rule once", () => {
    const c = new Classifier<number>();
    for (let i = 0; i < 100; i++) c.insert(new ClsRule(m([[FK.REG0 + (i % 3), -1, i]]), i % 7, i));
    const seen = [...c].map((r) => r.payload).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(c.subtableCount).toBe(3);
    c.clear();
    expect(c.size).toBe(0);
    expect([...c]).toEqual([]);
  });

  it("heavy churn in one subtable (backward-shift deletion) keeps every rule findable", () => {
    const c = new Classifier<number>();
    const ref = new ReferenceClassifier<number>();
    const rules: ClsRule<number>[] = [];
    const refRules: ClsRule<number>[] = [];
    let x = 12345;
    const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 4000; i++) {
      const match = m([
        [FK.NW_SRC, -1, rnd() & 0x3fff],
        [FK.TP_DST, 0xffff, i & 3],
      ]);
      rules.push(new ClsRule(match, i & 7, i));
      refRules.push(new ClsRule(match, i & 7, i));
    }
    for (let round = 0; round < 3; round++) {
      rules.forEach((r, i) => {
        if ((i + round) % 3 !== 0 && r.owner === null) {
          c.insert(r);
          ref.insert(refRules[i]!);
        }
      });
      rules.forEach((r, i) => {
        if ((i * 7 + round) % 5 === 0 && r.owner !== null) {
          c.remove(r);
          ref.remove(refRules[i]!);
        }
      });
      expect(c.size).toBe(ref.size);
      for (let i = 0; i < 4000; i++) {
        const k = key([
          [FK.NW_SRC, i & 0x3fff],
          [FK.TP_DST, i & 3],
        ]);
        const got = c.lookup(k);
        const want = ref.lookup(k);
        expect(got?.priority ?? -1).toBe(want?.priority ?? -1);
      }
      for (const r of rules) if (r.owner !== null) expect(c.find(r.match, r.priority)).toBe(r);
    }
  });
});

describe("compiled lookup", () => {
  it("regenerates lazily, and not for rule changes inside existing subtables", () => {
    const c = new Classifier<number>();
    const k = key([[FK.IN_PORT, 1]]);
    c.insert(new ClsRule(m([[FK.IN_PORT, -1, 1]]), 10, 0));
    c.insert(new ClsRule(m([[FK.ETH_TYPE, 0xffff, 0x800]]), 5, 1));
    expect(c.rebuilds).toBe(0);
    c.lookup(k);
    expect(c.rebuilds).toBe(1);
    // New rules in existing subtables at or below their max priority, no resize: no regeneration.
    c.insert(new ClsRule(m([[FK.IN_PORT, -1, 2]]), 10, 2));
    c.insert(new ClsRule(m([[FK.ETH_TYPE, 0xffff, 0x806]]), 1, 3));
    c.lookup(k);
    expect(c.rebuilds).toBe(1);
    // A new mask does regenerate.
    c.insert(new ClsRule(m([[FK.TP_DST, 0xffff, 80]]), 1, 4));
    c.lookup(k);
    expect(c.rebuilds).toBe(2);
  });

  it("generated source is readable, names the fields and is shared by equal mask sets", () => {
    const build = () => {
      const c = new Classifier<number>();
      c.insert(
        new ClsRule(
          m([
            [FK.NW_SRC, 0xffffff00, 0x0a000000],
            [FK.ETH_TYPE, 0xffff, 0x800],
          ]),
          7,
          0,
        ),
      );
      c.insert(new ClsRule(m([[FK.IN_PORT, -1, 3]]), 9, 1));
      return c;
    };
    const src = build().generatedSource()!;
    expect(src).toContain("// subtable 0: IN_PORT");
    expect(src).toContain("// subtable 1: ETH_TYPE/0xffff NW_SRC/0xffffff00");
    expect(src).toContain(`const w${FK.NW_SRC} = w[o + ${FK.NW_SRC}] | 0; // NW_SRC`);
    expect(src).toContain(`w${FK.NW_SRC} & -256`);
    expect(build().generatedSource()).toBe(src);
    expect(new Classifier({ codegen: false }).generatedSource()).toBeNull();
  });
});
