/**
 * Staged lookup, prefix tries and the megaflow wildcards of
 * `Classifier.lookupWithWildcards` (OVS `classifier_lookup` with `wc`):
 *
 *  - the building blocks against brute force (prefix trie, stage filter,
 *    stage boundaries);
 *  - every lookup path (generated with and without stage filters, data-driven,
 *    with wildcards) against the linear reference classifier, under random
 *    inserts and removals (OVS tests/test-classifier.c style, small value
 *    domains so that masks, overlaps and ties are common);
 *  - soundness of the reported wildcards: a key equal to the looked-up key on
 *    every reported bit, and anything at all elsewhere, gets the same rule;
 *  - narrowness where OVS narrows: a subtable left at a stage, or skipped by a
 *    trie, un-wildcards only what was looked at.
 * Seeded, so a failure reproduces.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
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
import {
  benchLookupFlows,
  benchRules,
  bestPriorityChecksum,
  parseRulesFile,
} from "../../datapath/classifier/ovs-bench-workload.js";
import { PrefixTrie, prefixLength, prefixMask } from "../../datapath/classifier/prefix-trie.js";
import { StageFilter } from "../../datapath/classifier/stage-filter.js";
import { STAGE_ENDS, stageBoundaries, stageOf } from "../../datapath/classifier/stages.js";
import { ReferenceClassifier } from "../../datapath/reference-classifier.js";
import { matchOf, ruleSpecArb, type Slot } from "./slot-rules.js";

const u32 = (v: number) => v >>> 0;

describe("prefix lengths and masks", () => {
  it("recognises CIDR masks and nothing else", () => {
    expect(prefixLength(0)).toBe(0);
    expect(prefixLength(0xffffffff)).toBe(32);
    expect(prefixLength(0xffffff00)).toBe(24);
    expect(prefixLength(0x80000000)).toBe(1);
    expect(prefixLength(0xfffffffe)).toBe(31);
    expect(prefixLength(0x80000001)).toBe(-1);
    expect(prefixLength(0x00ffffff)).toBe(-1);
    expect(prefixLength(0xff00ff00)).toBe(-1);
    for (let l = 0; l <= 32; l++) expect(prefixLength(prefixMask(l))).toBe(l);
    expect(u32(prefixMask(8))).toBe(0xff000000);
  });
});

describe("prefix trie", () => {
  /** Brute force: lengths L with some held /L prefix equal to addr's first L bits. */
  const brutePlens = (held: Map<string, number>, addr: number): number => {
    let plens = 0;
    for (const [k, n] of held) {
      if (n === 0) continue;
      const [v, l] = k.split("/").map(Number) as [number, number];
      if (((addr ^ v) & prefixMask(l)) === 0) plens |= 1 << (l - 1);
    }
    return plens;
  };
  // Addresses from a few /8s and /16s, so that prefixes share long paths.
  const addrArb = fc
    .tuple(fc.constantFrom(10, 11, 192, 200), fc.constantFrom(0, 1, 168), fc.nat(3), fc.nat(255))
    .map(([a, b, c, d]) => u32((a << 24) | (b << 16) | (c << 8) | d));
  const lenArb = fc.constantFrom(1, 2, 7, 8, 9, 16, 23, 24, 31, 32);

  it("plens equals brute force under inserts and removes; maskbits decides it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(addrArb, lenArb, fc.boolean()), { minLength: 1, maxLength: 60 }),
        fc.array(addrArb, { minLength: 20, maxLength: 20 }),
        fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
        (ops, addrs, noise) => {
          const trie = new PrefixTrie();
          const held = new Map<string, number>();
          for (const [a, l, add] of ops) {
            const v = a & prefixMask(l);
            const k = `${v}/${l}`;
            const n = held.get(k) ?? 0;
            if (add || n === 0) {
              trie.insert(a, l);
              held.set(k, n + 1);
            } else {
              expect(trie.remove(a, l)).toBe(true);
              held.set(k, n - 1);
            }
          }
          expect(trie.size).toBe([...held.values()].reduce((x, y) => x + y, 0));
          addrs.forEach((addr, i) => {
            trie.lookup(addr);
            const { plens, maskbits } = trie;
            expect(plens).toBe(brutePlens(held, addr));
            // Every matched length lies within the examined bits...
            if (plens !== 0) expect(32 - Math.clz32(plens)).toBeLessThanOrEqual(maskbits);
            // ...and an address equal on those bits, anything after, walks the same way.
            const other = u32((addr & prefixMask(maskbits)) | (noise[i]! & ~prefixMask(maskbits)));
            expect(brutePlens(held, other)).toBe(plens);
          });
        },
      ),
      { seed: 0x7e1e, numRuns: 150 },
    );
  });

  it("removing an absent prefix fails and leaves the trie alone", () => {
    const t = new PrefixTrie();
    t.insert(0x0a000000, 8);
    expect(t.remove(0x0a000000, 16)).toBe(false);
    expect(t.remove(0x0b000000, 8)).toBe(false);
    expect(t.size).toBe(1);
    t.lookup(0x0a010203);
    expect(t.plens).toBe(1 << 7);
    expect(t.remove(0x0a000000, 8)).toBe(true);
    t.lookup(0x0a010203);
    expect([t.plens, t.maskbits]).toEqual([0, 0]);
  });
});

describe("stage filter", () => {
  it("never forgets a present hash (counting), through removals and rebuilds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.boolean()), { maxLength: 200 }),
        (ops) => {
          const f = new StageFilter();
          const held = new Map<number, number>();
          for (const [x, add] of ops) {
            const h = Math.imul(x, 0x9e3779b1); // spread, and negative hashes too
            const n = held.get(h) ?? 0;
            if (add) {
              f.add(h);
              held.set(h, n + 1);
            } else if (n > 0) {
              f.remove(h);
              held.set(h, n - 1);
            }
            for (const [k, c] of held) if (c > 0) expect(f.has(k)).toBe(true);
          }
          const all: number[] = [];
          for (const [k, c] of held) for (let i = 0; i < c; i++) all.push(k);
          f.rebuild(1024, all);
          for (const [k, c] of held) if (c > 0) expect(f.has(k)).toBe(true);
        },
      ),
      { seed: 0xf117, numRuns: 100 },
    );
  });

  it("an empty filter holds nothing", () => {
    const f = new StageFilter();
    for (let h = -100; h < 100; h++) expect(f.has(h)).toBe(false);
    f.add(7);
    f.remove(7);
    expect(f.has(7)).toBe(false);
  });
});

describe("stages", () => {
  it("follow OVS's segments: metadata, L2, L3, L4", () => {
    expect([FK.IN_PORT, FK.METADATA_LO, FK.REG0].map(stageOf)).toEqual([0, 0, 0]);
    expect([FK.ETH_DST_HI, FK.ETH_TYPE, FK.VLAN_TCI].map(stageOf)).toEqual([1, 1, 1]);
    expect([FK.NW_SRC, FK.NW_DST, FK.NW_PROTO, FK.NW_TOS].map(stageOf)).toEqual([2, 2, 2, 2]);
    expect([FK.TP_SRC, FK.TP_DST].map(stageOf)).toEqual([3, 3]);
    expect(STAGE_ENDS[STAGE_ENDS.length - 1]).toBe(FK.SIZE);
  });

  it("boundaries: one per non-empty stage that is followed by another", () => {
    expect(stageBoundaries([FK.IN_PORT, FK.ETH_TYPE, FK.NW_DST, FK.TP_DST])).toEqual([1, 2, 3]);
    expect(stageBoundaries([FK.IN_PORT, FK.METADATA_LO, FK.NW_DST])).toEqual([2]);
    expect(stageBoundaries([FK.NW_SRC, FK.NW_DST])).toEqual([]);
    expect(stageBoundaries([FK.ETH_TYPE, FK.TP_SRC, FK.TP_DST])).toEqual([1]);
    expect(stageBoundaries([])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Lookup paths against the reference, and wildcard soundness
// ---------------------------------------------------------------------------

const ip = (a: number, b: number, c: number, d: number) =>
  u32((a << 24) | (b << 16) | (c << 8) | d);

/** Every stage is represented, and both trie fields with CIDR and non-CIDR masks. */
const SLOTS: readonly Slot[] = [
  { word: FK.IN_PORT, masks: [0xffffffff], values: [1, 2, 3] },
  { word: FK.METADATA_LO, masks: [0xffffffff, 0xff], values: [0, 7, 0x107] },
  { word: FK.ETH_TYPE, masks: [0xffff], values: [0x0800, 0x0806] },
  { word: FK.VLAN_TCI, masks: [0x1fff, 0x1000], values: [0x1064, 0x1065, 0] },
  { word: FK.ETH_DST_HI, masks: [0xffff, 0x0100], values: [0x0100, 0xfa16] },
  {
    word: FK.NW_SRC,
    masks: [0xffffffff, 0xffffff00, 0xffff0000, 0xff000000],
    values: [ip(10, 0, 0, 1), ip(10, 0, 1, 1), ip(10, 1, 0, 1), ip(192, 168, 0, 1)],
  },
  {
    word: FK.NW_DST,
    masks: [0xffffffff, 0xffffff00, 0xff000000, 0x80000000, 0xff0000ff],
    values: [ip(10, 0, 0, 1), ip(10, 0, 0, 9), ip(200, 0, 0, 1), ip(10, 2, 0, 1)],
  },
  { word: FK.NW_PROTO, masks: [0xff], values: [6, 17] },
  { word: FK.TP_DST, masks: [0xffff, 0xff00], values: [80, 443, 0x1f50] },
  { word: FK.TP_SRC, masks: [0xffff], values: [1000, 2000] },
];

const PRIORITIES = [0, 1, 5, 100, 0x8000, 0xffff];

const ruleSpecs = ruleSpecArb(SLOTS, PRIORITIES);

/** A key: per slot a value index, or (== values.length) a random word. */
const keyArb: fc.Arbitrary<FlowKey> = fc
  .tuple(...SLOTS.map((s) => fc.tuple(fc.nat(s.values.length), fc.nat())))
  .map((choice) => {
    const k = new FlowKey();
    choice.forEach(([c, r], i) => {
      const s = SLOTS[i]!;
      k.w[s.word] = c < s.values.length ? s.values[c]! : r;
    });
    return k;
  });

/** `other` with every bit of `wc` taken from `key`. */
function agreeOn(key: FlowKey, other: FlowKey, wc: Uint32Array): FlowKey {
  const k = new FlowKey();
  for (let i = 0; i < FK.SIZE; i++) k.w[i] = (other.w[i]! & ~wc[i]!) | (key.w[i]! & wc[i]!);
  return k;
}

const ENGINES = [
  { name: "generated", opts: {} },
  { name: "generated, staged", opts: { staged: true } },
  { name: "generated, unroll=1, staged", opts: { unroll: 1, staged: true } },
  { name: "data-driven", opts: { codegen: false } },
] as const;

describe("lookup paths and wildcards vs the reference (property, seeded)", () => {
  it("every path agrees with the reference; reported wildcards are sound", () => {
    let compared = 0;
    let perturbed = 0;
    fc.assert(
      fc.property(
        fc.array(ruleSpecs, { minLength: 1, maxLength: 70 }),
        fc.array(fc.tuple(keyArb, keyArb), { minLength: 30, maxLength: 60 }),
        fc.array(fc.boolean(), { minLength: 70, maxLength: 70 }),
        (specs, keys, removeMask) => {
          const ref = new ReferenceClassifier<number>();
          const engines = ENGINES.map((e) => ({ ...e, cls: new Classifier<number>(e.opts) }));
          const rules = specs.map((s, i) => new ClsRule(matchOf(SLOTS, s), s.priority, i));
          const copies = engines.map(() =>
            rules.map((r) => new ClsRule(r.match, r.priority, r.payload)),
          );
          const check = (phase: string) => {
            for (const [key, other] of keys) {
              const tied = ref.lookupAll(key.w).map((r) => r.payload);
              const want = ref.lookup(key);
              let first: ClsRule<number> | null | undefined;
              for (const { name, cls } of engines) {
                const got = cls.lookup(key);
                const wc = new Uint32Array(FK.SIZE);
                const gotWc = cls.lookupWithWildcards(key, wc);
                compared++;
                const where = `${phase}, ${name}`;
                // Same rule with and without wildcards, and the reference's answer.
                expect(gotWc, where).toBe(got);
                expect(got?.priority ?? -1, where).toBe(want?.priority ?? -1);
                if (got !== null) {
                  expect(tied, where).toContain(got.payload);
                  expect(matchesWords(got.match, key.w), where).toBe(true);
                }
                // Engines built identically break ties identically.
                if (first === undefined) first = got;
                else expect(got?.payload, where).toBe(first?.payload);
                // Soundness: agree on the reported bits, anything elsewhere → same rule.
                const k2 = agreeOn(key, other, wc);
                const again = cls.lookup(k2);
                if (again !== got) {
                  throw new Error(
                    `${where}: wildcards unsound: ${got ? formatCompiledMatch(got.match) : "miss"} became ${again ? formatCompiledMatch(again.match) : "miss"}`,
                  );
                }
                perturbed++;
                // The reported bits are a superset of the winner's mask (it must stay matched).
                if (got !== null) {
                  const m = got.match;
                  for (let j = 0; j < m.words.length; j++) {
                    expect(u32(wc[m.words[j]!]! & m.masks[j]!), where).toBe(u32(m.masks[j]!));
                  }
                }
              }
            }
          };
          // Half the cases start tracking (filters, tries) on an empty classifier, so that
          // inserts maintain them; the others build them from the full rule set at the first check.
          if (specs.length % 2 === 0) {
            for (const { cls } of engines)
              cls.lookupWithWildcards(new FlowKey(), new Uint32Array(FK.SIZE));
          }
          rules.forEach((r, i) => {
            ref.insert(r);
            engines.forEach(({ cls }, j) => cls.insert(copies[j]![i]!));
          });
          check("after insert");
          rules.forEach((r, i) => {
            if (!removeMask[i % removeMask.length]) return;
            const ok = ref.remove(r);
            engines.forEach(({ cls }, j) => expect(cls.remove(copies[j]![i]!)).toBe(ok));
          });
          check("after remove");
        },
      ),
      { seed: 0x57a9ed, numRuns: 60 },
    );
    expect(compared).toBeGreaterThanOrEqual(10_000);
    expect(perturbed).toBe(compared);
  });
});

// ---------------------------------------------------------------------------
// Narrowness: what OVS leaves wildcarded
// ---------------------------------------------------------------------------

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

/** The FlowKey words with a nonzero wildcard mask, as [word, mask] (uint32). */
const consulted = (wc: Uint32Array): [number, number][] =>
  [...wc].flatMap((v, i) => (v === 0 ? [] : [[i, v] as [number, number]]));

describe("wildcards are as narrow as OVS makes them", () => {
  it("a subtable left at its metadata stage un-wildcards only that stage", () => {
    const c = new Classifier<string>();
    c.insert(
      new ClsRule(
        m([
          [FK.IN_PORT, -1, 1],
          [FK.ETH_TYPE, 0xffff, 0x0800],
          [FK.TP_DST, 0xffff, 80],
        ]),
        10,
        "web",
      ),
    );
    const wc = new Uint32Array(FK.SIZE);
    const k = key([
      [FK.IN_PORT, 2],
      [FK.ETH_TYPE, 0x0800],
      [FK.TP_DST, 80],
    ]);
    expect(c.lookupWithWildcards(k, wc)).toBeNull();
    expect(consulted(wc)).toEqual([[FK.IN_PORT, 0xffffffff]]);
    // The matching packet needs the whole mask.
    wc.fill(0);
    k.w[FK.IN_PORT] = 1;
    expect(c.lookupWithWildcards(k, wc)?.payload).toBe("web");
    expect(consulted(wc)).toEqual([
      [FK.IN_PORT, 0xffffffff],
      [FK.ETH_TYPE, 0xffff],
      [FK.TP_DST, 0xffff],
    ]);
  });

  it("a subtable ruled out by the nw_dst trie costs only the address bits the trie examined", () => {
    const c = new Classifier<string>();
    c.insert(new ClsRule(m([[FK.NW_DST, 0xff000000, ip(10, 0, 0, 0)]]), 20, "10/8"));
    c.insert(new ClsRule(m([[FK.NW_DST, 0xffff0000, ip(10, 1, 0, 0)]]), 30, "10.1/16"));
    c.insert(new ClsRule(m([[FK.ETH_TYPE, 0xffff, 0x0800]]), 1, "ip"));
    const wc = new Uint32Array(FK.SIZE);
    // 192.x differs from 10.x in the first bit: one bit decides both subtables.
    expect(
      c.lookupWithWildcards(
        key([
          [FK.NW_DST, ip(192, 168, 0, 1)],
          [FK.ETH_TYPE, 0x0800],
        ]),
        wc,
      )?.payload,
    ).toBe("ip");
    expect(consulted(wc)).toEqual([
      [FK.ETH_TYPE, 0xffff],
      [FK.NW_DST, 0x80000000],
    ]);
    // 10.2.x matches the /8 but not the /16, and differs from 10.1 in bit 14:
    // 15 bits rule the /16 out (then the /8 wins and "ip" is never probed).
    wc.fill(0);
    expect(c.lookupWithWildcards(key([[FK.NW_DST, ip(10, 2, 0, 1)]]), wc)?.payload).toBe("10/8");
    expect(consulted(wc)).toEqual([[FK.NW_DST, 0xfffe0000]]);
  });

  it("subtables after the priority early exit add nothing", () => {
    const c = new Classifier<string>();
    c.insert(new ClsRule(m([[FK.IN_PORT, -1, 1]]), 100, "port"));
    c.insert(new ClsRule(m([[FK.TP_SRC, 0xffff, 7]]), 50, "tp"));
    const wc = new Uint32Array(FK.SIZE);
    expect(c.lookupWithWildcards(key([[FK.IN_PORT, 1]]), wc)?.payload).toBe("port");
    expect(consulted(wc)).toEqual([[FK.IN_PORT, 0xffffffff]]);
    // wcOut accumulates: a second table's bits are OR-ed in.
    const c2 = new Classifier<string>();
    c2.insert(new ClsRule(m([[FK.METADATA_LO, 0xff, 3]]), 1, "meta"));
    c2.lookupWithWildcards(key([[FK.METADATA_LO, 3]]), wc);
    expect(consulted(wc)).toEqual([
      [FK.IN_PORT, 0xffffffff],
      [FK.METADATA_LO, 0xff],
    ]);
  });
});

// ---------------------------------------------------------------------------
// OVS's benchmark through the wildcard path
// ---------------------------------------------------------------------------

describe("OVS classifier benchmark through lookupWithWildcards", () => {
  const DIR = join(import.meta.dirname, "..", "..", "..", "shared", "ovs-classifier-bench");
  for (const [name, checksum, matched] of [
    ["wc-r1000-p10-t10", 9_023_808, 8_192],
    ["stock-r1000-p10-t10", 624_304, 1_041],
  ] as const) {
    it(`${name}: the §7 checksum, and sound wildcards on every flow`, () => {
      const file = parseRulesFile(readFileSync(join(DIR, `${name}.rules`), "utf8"));
      const flows = benchLookupFlows(file.nTables, file.nPriorities);
      const c = new Classifier<number>();
      for (const r of benchRules(file)) c.insert(new ClsRule(r.match, r.priority, r.line));
      const wc = new Uint32Array(FK.SIZE);
      expect(
        bestPriorityChecksum(flows, (k) => {
          wc.fill(0);
          return c.lookupWithWildcards(k, wc);
        }),
      ).toEqual({ checksum, matched });
      // Perturb each flow outside its wildcards with the other flows' values.
      let x = 1;
      for (const f of flows) {
        wc.fill(0);
        const got = c.lookupWithWildcards(f, wc);
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        const other = flows[x % flows.length]!;
        expect(c.lookup(agreeOn(f, other, wc))).toBe(got);
      }
    });
  }
});
