/**
 * Reconciliation's fast diff (`diffFlows`: decoded instruction comparison
 * first, hashed match identity) against a straightforward reference written
 * here: flows keyed by a string of (table, priority, canonical match), a Map
 * of installed flows (the last one per key wins, in order of first
 * appearance), instructions equal when their encodings are equal or, failing
 * that, their ovs-ofctl text. Both must give the same add, modify and delete
 * lists, in the same order, on seeded random perturbations of real compiled
 * bridges: flows missing, re-instructed, re-cookied, re-prioritised,
 * re-matched, duplicated, re-ordered, decoded from the wire, plus learned
 * flows, foreign flows, stray flows of ours and unknown OXM entries.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeInstructions } from "../../codec/instructions.js";
import { canonicalMatch } from "../../codec/match.js";
import { decodeMessage, encodeMessage } from "../../codec/message.js";
import type { FlowStats } from "../../codec/messages/multipart-flow.js";
import type { Match } from "../../codec/oxm.js";
import { flowModMessage, formatInstructions, parseFlow } from "../../codec/text/index.js";
import { Writer } from "../../codec/writer.js";
import { diffFlows, flowIdentity, type FlowDiff } from "../../src/controller/reconcile.js";
import { toFlowMod, type DesiredFlow } from "../../src/dvr/flow.js";
import { COOKIE, isLearned, isOurs, learnedCookie } from "../../src/dvr/tables.js";
import { flowArb } from "../ovs/flow-arbitrary.js";
import { compileTopology, loadExample } from "../dvr/helpers.js";

const SEED = 20261201;
const RUNS = 120;

// ---------------------------------------------------------------------------
// The reference
// ---------------------------------------------------------------------------

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** (table, priority, canonical match): known fields by name, value and mask; unknown TLVs do not count. */
function referenceKey(tableId: number, priority: number, match: Match): string {
  const parts = [String(tableId), String(priority)];
  for (const e of canonicalMatch(match).entries) {
    if (e.field === undefined) continue;
    parts.push(`${e.field.name}=${hex(e.value)}${e.mask === undefined ? "" : `/${hex(e.mask)}`}`);
  }
  return parts.join("|");
}

function encoded(list: FlowStats["instructions"]): string {
  const w = new Writer(256);
  encodeInstructions(w, list);
  return hex(w.written());
}

function sameInstructionsReference(
  a: FlowStats["instructions"],
  b: FlowStats["instructions"],
): boolean {
  return encoded(a) === encoded(b) || formatInstructions(a) === formatInstructions(b);
}

function referenceDiff(
  desired: readonly DesiredFlow[],
  installed: readonly FlowStats[],
  prefix: number,
): FlowDiff {
  const present = new Map<string, FlowStats>();
  let learned = 0;
  let foreign = 0;
  for (const f of installed) {
    if (!isOurs(f.cookie, prefix)) foreign++;
    else if (isLearned(f.cookie, prefix)) learned++;
    else present.set(referenceKey(f.tableId, f.priority, f.match), f); // keeps first position
  }
  const wanted = new Set<string>();
  const add: DesiredFlow[] = [];
  const modify: DesiredFlow[] = [];
  let unchanged = 0;
  for (const d of desired) {
    const key = referenceKey(d.table.id, d.priority, d.match);
    const have = present.get(key);
    if (have === undefined) {
      add.push(d);
      continue;
    }
    wanted.add(key);
    if (have.cookie !== d.cookie || !sameInstructionsReference(have.instructions, d.instructions)) {
      modify.push(d);
    } else unchanged++;
  }
  const del = [...present].filter(([k]) => !wanted.has(k)).map(([, f]) => f);
  return { add, modify, delete: del, unchanged, ignored: { learned, foreign } };
}

// ---------------------------------------------------------------------------
// Flow sets and perturbations
// ---------------------------------------------------------------------------

function asInstalled(f: DesiredFlow): FlowStats {
  return {
    tableId: f.table.id,
    durationSec: 3,
    durationNsec: 0,
    priority: f.priority,
    idleTimeout: 0,
    hardTimeout: 0,
    flags: 0,
    cookie: f.cookie,
    packetCount: 1n,
    byteCount: 60n,
    match: f.match,
    instructions: f.instructions,
  };
}

/** The flow as a switch reports it: match and instructions decoded from the wire. */
function throughWire(f: FlowStats): FlowStats {
  const back = decodeMessage(
    encodeMessage({
      type: "flow_mod",
      xid: 0,
      cookie: f.cookie,
      cookieMask: 0n,
      tableId: f.tableId,
      command: 0,
      idleTimeout: 0,
      hardTimeout: 0,
      priority: f.priority,
      bufferId: 0xffff_ffff,
      outPort: 0xffff_ffff,
      outGroup: 0xffff_ffff,
      flags: 0,
      match: f.match,
      instructions: f.instructions,
    }),
    // Loose, as a dump is read: a perturbed flow may pair a match with
    // another flow's actions, which a strict FLOW_MOD decode refuses.
    { strict: false },
  );
  if (back.type !== "flow_mod") throw new Error("flow_mod expected");
  return { ...f, match: back.match, instructions: back.instructions };
}

/** An unknown experimenter OXM entry appended to a match (not part of the identity). */
function withUnknownOxm(m: Match): Match {
  return {
    entries: [
      ...m.entries,
      {
        field: undefined,
        header: (0xffff << 16) | (0x7f << 9) | 8,
        experimenter: 0x00abcdef,
        payload: new Uint8Array([1, 2, 3, 4]),
      },
    ],
  };
}

const OPS = [
  "drop",
  "instructions",
  "noInstructions",
  "cookie",
  "priority",
  "match",
  "mask",
  "duplicate",
  "wire",
  "unknownOxm",
  "learned",
  "foreign",
  "stray",
  "swap",
] as const;
type Op = (typeof OPS)[number];

interface Step {
  readonly op: Op;
  readonly i: number;
  readonly j: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom(...OPS),
  i: fc.nat({ max: 1 << 20 }),
  j: fc.nat({ max: 1 << 20 }),
});

/** Applies `steps` to the installed copy of `desired` (and may add random flows of ours to `desired`). */
function perturb(
  desired: readonly DesiredFlow[],
  steps: readonly Step[],
  strays: readonly FlowStats[],
  prefix: number,
): { desired: DesiredFlow[]; installed: FlowStats[] } {
  const want = [...desired];
  const inst: FlowStats[] = desired.map(asInstalled);
  const pick = (n: number): number => n % Math.max(inst.length, 1);
  for (const { op, i, j } of steps) {
    if (inst.length === 0) break;
    const a = pick(i);
    const f = inst[a]!;
    const other = inst[pick(j)]!;
    switch (op) {
      case "drop":
        inst.splice(a, 1);
        break;
      case "instructions":
        inst[a] = { ...f, instructions: other.instructions };
        break;
      case "noInstructions":
        inst[a] = { ...f, instructions: [] };
        break;
      case "cookie":
        // Still ours, another object: a modify.
        inst[a] = { ...f, cookie: f.cookie ^ (BigInt(j & 0xff) + 1n) };
        break;
      case "priority":
        inst[a] = { ...f, priority: (f.priority + 1 + (j % 3)) & 0xffff };
        break;
      case "match":
        inst[a] = { ...f, match: other.match };
        break;
      case "mask": {
        // One mask bit flipped (the value kept within the mask): another identity.
        const k = f.match.entries.findIndex((e) => e.field !== undefined && e.mask !== undefined);
        const e = f.match.entries[k];
        if (e === undefined || e.field === undefined || e.mask === undefined) break;
        const mask = e.mask.slice();
        const value = e.value.slice();
        const at = j % mask.length;
        mask[at] = mask[at]! ^ (1 << (i % 8));
        value[at] = value[at]! & mask[at]!;
        const entries = [...f.match.entries];
        entries[k] = { field: e.field, value, mask };
        inst[a] = { ...f, match: { entries } };
        break;
      }
      case "duplicate":
        // The same identity again, later and with other instructions: the last one counts.
        inst.splice(Math.min(a + 1 + (j % 5), inst.length), 0, {
          ...f,
          instructions: other.instructions,
        });
        break;
      case "wire":
        inst[a] = throughWire(f);
        break;
      case "unknownOxm":
        inst[a] = { ...f, match: withUnknownOxm(f.match) };
        break;
      case "learned":
        inst.splice(a, 0, {
          ...f,
          cookie: learnedCookie(prefix) | BigInt(j & 0xffff),
          instructions: other.instructions,
        });
        break;
      case "foreign":
        inst.splice(a, 0, {
          ...f,
          cookie: (f.cookie & ~COOKIE.ownerMask) | ((BigInt(prefix + 1) & 0xffn) << 56n),
          instructions: other.instructions,
        });
        break;
      case "stray": {
        const s = strays[j % strays.length]!;
        inst.splice(a, 0, { ...s, cookie: f.cookie });
        // Sometimes we want it too, under a table of ours.
        if (j % 2 === 0) {
          const table = { ...want[i % want.length]!.table, id: s.tableId };
          want.push({
            ...want[i % want.length]!,
            table,
            priority: s.priority,
            match: s.match,
            instructions: (j % 4 === 0 ? s : other).instructions,
            key: flowIdentity(s.tableId, s.priority, s.match),
          });
        }
        break;
      }
      case "swap": {
        const b = pick(j);
        inst[a] = inst[b]!;
        inst[b] = f;
        break;
      }
      default: {
        const never: never = op;
        throw new Error(`op ${String(never)}`);
      }
    }
  }
  return { desired: want, installed: inst };
}

/** Random flows in add-flow syntax (test/ovs/flow-arbitrary.ts), as installed flows. */
function strayFlows(): FlowStats[] {
  const out: FlowStats[] = [];
  for (const g of fc.sample(flowArb(), { seed: SEED, numRuns: 200 })) {
    try {
      const m = toStats(flowModMessage(parseFlow(g.text)));
      out.push(m);
    } catch {
      continue;
    }
  }
  return out;
}

function toStats(m: ReturnType<typeof flowModMessage>): FlowStats {
  return {
    tableId: m.tableId,
    durationSec: 0,
    durationNsec: 0,
    priority: m.priority,
    idleTimeout: m.idleTimeout,
    hardTimeout: m.hardTimeout,
    flags: m.flags,
    cookie: m.cookie,
    packetCount: 0n,
    byteCount: 0n,
    match: m.match,
    instructions: m.instructions,
  };
}

function expectSameDiff(got: FlowDiff, want: FlowDiff): void {
  // Element identity: the same desired/installed objects, in the same order.
  expect(got.add.length).toBe(want.add.length);
  expect(got.modify.length).toBe(want.modify.length);
  expect(got.delete.length).toBe(want.delete.length);
  got.add.forEach((d, k) => expect(d).toBe(want.add[k]));
  got.modify.forEach((d, k) => expect(d).toBe(want.modify[k]));
  got.delete.forEach((f, k) => expect(f).toBe(want.delete[k]));
  expect(got.unchanged).toBe(want.unchanged);
  expect(got.ignored).toEqual(want.ignored);
}

describe("diffFlows agrees with a straightforward reference diff", async () => {
  const hosts = await compileTopology(loadExample("two-hosts.yaml"));
  const bridges = hosts.flatMap((h) => [h.bridges["br-int"], h.bridges["br-tun"]]);
  const prefix = Number(bridges[0]![0]!.cookie >> COOKIE.prefixShift);
  const strays = strayFlows();

  it("has real flow sets to perturb", () => {
    expect(bridges.every((b) => b.length > 20)).toBe(true);
    expect(strays.length).toBeGreaterThan(150);
    // The compiled flows are ours and not learned, so the reference sees them.
    expect(bridges.flat().every((f) => isOurs(f.cookie, prefix))).toBe(true);
  });

  it("on an unchanged bridge, an empty bridge and a bridge of strangers", () => {
    for (const desired of bridges) {
      const same = desired.map(asInstalled);
      expectSameDiff(diffFlows(desired, same, prefix), referenceDiff(desired, same, prefix));
      expect(diffFlows(desired, same, prefix).unchanged).toBe(desired.length);
      expectSameDiff(diffFlows(desired, [], prefix), referenceDiff(desired, [], prefix));
      const wire = same.map(throughWire);
      expectSameDiff(diffFlows(desired, wire, prefix), referenceDiff(desired, wire, prefix));
      expect(diffFlows(desired, wire, prefix).unchanged).toBe(desired.length);
      const strangers = strays.map((s) => ({ ...s, cookie: desired[0]!.cookie }));
      expectSameDiff(
        diffFlows(desired, strangers, prefix),
        referenceDiff(desired, strangers, prefix),
      );
    }
  });

  it("on seeded random perturbations of compiled bridges", () => {
    let changes = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: bridges.length - 1 }),
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        (b, steps) => {
          const { desired, installed } = perturb(bridges[b]!, steps, strays, prefix);
          const got = diffFlows(desired, installed, prefix);
          const want = referenceDiff(desired, installed, prefix);
          expectSameDiff(got, want);
          changes += want.add.length + want.modify.length + want.delete.length;
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    // The perturbations did produce work for the diff, of every kind.
    expect(changes).toBeGreaterThan(RUNS);
  });

  it("the perturbations reach adds, modifies, deletes, and both kinds of ignored flow", () => {
    const kinds = { add: 0, modify: 0, delete: 0, learned: 0, foreign: 0 };
    for (const [b, steps] of fc.sample(
      fc.tuple(
        fc.nat({ max: bridges.length - 1 }),
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
      ),
      { seed: SEED, numRuns: RUNS },
    )) {
      const { desired, installed } = perturb(bridges[b]!, steps, strays, prefix);
      const d = diffFlows(desired, installed, prefix);
      kinds.add += d.add.length;
      kinds.modify += d.modify.length;
      kinds.delete += d.delete.length;
      kinds.learned += d.ignored.learned;
      kinds.foreign += d.ignored.foreign;
    }
    for (const [k, n] of Object.entries(kinds)) expect(n, k).toBeGreaterThan(10);
  });
});

// A desired flow that differs from its installed twin only by a field the
// identity ignores must still be compared on instructions: a check that the
// reference itself can tell a modify from an unchanged flow.
describe("the reference diff", () => {
  it("finds a modify when only the instructions differ, and nothing when only an unknown OXM does", async () => {
    const [c1] = await compileTopology(loadExample("two-hosts.yaml"));
    const desired = c1!.bridges["br-int"];
    const prefix = Number(desired[0]!.cookie >> COOKIE.prefixShift);
    const withActions = desired.findIndex((d) => d.instructions.length > 0);
    const installed = desired.map(asInstalled);
    installed[withActions] = { ...installed[withActions]!, instructions: [] };
    installed[0] = { ...installed[0]!, match: withUnknownOxm(installed[0]!.match) };
    const r = referenceDiff(desired, installed, prefix);
    expect(r.modify).toEqual([desired[withActions]]);
    expect(r.add).toEqual([]);
    expect(r.delete).toEqual([]);
    expect(toFlowMod(desired[withActions]!).instructions.length).toBeGreaterThan(0);
  });
});
