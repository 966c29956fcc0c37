/**
 * Bit-level access to OpenFlow fields inside the FlowKey words, compiled once
 * per action so that executing set_field / reg_load / reg_move / learn reads
 * touches only int32 arithmetic (no BigInt, no objects per packet).
 *
 * A field's bits live where the classifier puts them (FIELD_PLACEMENT in
 * classifier/match-compile.ts): right-aligned over consecutive words, most
 * significant first (MACs: HI 16 bits + LO 32, IPv6: four words), or a bit
 * range inside one word (ip_dscp is bits 2..7 of NW_TOS). Field bit `b`
 * (0 = least significant) therefore maps to one (word, bit) pair, and a
 * sub-field `field[ofs..ofs+n)` to a few contiguous runs.
 *
 * - {@link fieldRuns}: the runs of a sub-field.
 * - {@link compileConstWrite}: "set these bits of the field to this value" as
 *   per-word (clear, set) pairs; used for set_field (optionally masked),
 *   reg_load and reg_load2.
 * - {@link compileMove}: src runs zipped with dst runs, for reg_move.
 * - {@link readBits}: a ≤ 32-bit sub-field as a number (output_reg).
 * - {@link readFieldBig}: any sub-field as a bigint (learn; slow path).
 */
import { OfpError } from "../../codec/errors.js";
import { FK } from "../../codec/packet/flow-key.js";
import type { OxmField } from "../../codec/oxm.js";
import { FIELD_PLACEMENT } from "../classifier/match-compile.js";

type Placement = (typeof FIELD_PLACEMENT)[string];

/** A run of `nBits` bits: field bits [valueShift, +nBits) ↔ key word `word` bits [shift, +nBits). */
export interface BitRun {
  readonly word: number;
  readonly shift: number;
  readonly nBits: number;
  readonly valueShift: number;
}

/** One masked word update: `w[word] = (w[word] & ~clear) | set`. */
export interface WordWrite {
  readonly word: number;
  readonly clear: number;
  readonly set: number;
}

/** One copy step of reg_move: `nBits` bits from (srcWord, srcShift) to (dstWord, dstShift). */
export interface MoveRun {
  readonly srcWord: number;
  readonly srcShift: number;
  readonly dstWord: number;
  readonly dstShift: number;
  readonly nBits: number;
}

/** The placement of a logical field, or an OFPBAC_BAD_SET_TYPE naming it. */
export function placementOf(field: OxmField): Placement {
  const p = FIELD_PLACEMENT[field.logical];
  if (p === undefined) {
    throw new OfpError(
      "OFPBAC_BAD_SET_TYPE",
      `field ${field.name} is not modelled by the dvrflow datapath`,
    );
  }
  return p;
}

/** Width of a field in bits as the datapath stores it. */
export function fieldWidth(field: OxmField): number {
  const p = placementOf(field);
  switch (p.kind) {
    case "words":
      // MAC: 48 of 64 bits; other word fields: the field's byte size.
      return Math.min(field.size * 8, p.count * 32);
    case "bits":
      // Field bit b is word bit shift+b (classifier: `(v << shift) & bits`).
      return 32 - Math.clz32(p.bits) - p.shift;
    case "in_port":
      return field.size * 8;
  }
}

/**
 * (word, bit) of field bit `b`, or null for a bit the datapath does not
 * store (the two ECN bits of `nw_tos`, which OVS also ignores there).
 */
function bitLocation(p: Placement, b: number): readonly [number, number] | null {
  switch (p.kind) {
    case "words":
      return [p.first + p.count - 1 - Math.floor(b / 32), b % 32];
    case "bits": {
      const bit = p.shift + b;
      return ((p.bits >>> bit) & 1) === 0 ? null : [p.word, bit];
    }
    case "in_port":
      return [FK.IN_PORT, b];
  }
}

function checkRange(field: OxmField, ofs: number, nBits: number): void {
  if (nBits <= 0 || ofs < 0 || ofs + nBits > fieldWidth(field)) {
    throw new OfpError("OFPBAC_BAD_SET_LEN", `${field.name}[${ofs}..${ofs + nBits - 1}]`);
  }
}

/** The contiguous runs of `field[ofs .. ofs+nBits)`. */
export function fieldRuns(field: OxmField, ofs: number, nBits: number): BitRun[] {
  const p = placementOf(field);
  checkRange(field, ofs, nBits);
  const runs: BitRun[] = [];
  let cur: { word: number; shift: number; nBits: number; valueShift: number } | null = null;
  for (let i = 0; i < nBits; i++) {
    const loc = bitLocation(p, ofs + i);
    if (loc === null) continue;
    const [word, bit] = loc;
    if (
      cur !== null &&
      cur.word === word &&
      cur.shift + cur.nBits === bit &&
      cur.valueShift + cur.nBits === i
    ) {
      cur.nBits++;
    } else {
      if (cur !== null) runs.push(cur);
      cur = { word, shift: bit, nBits: 1, valueShift: i };
    }
  }
  if (cur !== null) runs.push(cur);
  return runs;
}

function lowMask(n: number): number {
  return n >= 32 ? -1 : (1 << n) - 1;
}

/**
 * Per-word updates that set `field[ofs..ofs+nBits)` to `value` where `mask`
 * has ones (mask defaults to all ones).
 */
export function compileConstWrite(
  field: OxmField,
  ofs: number,
  nBits: number,
  value: bigint,
  mask?: bigint,
): WordWrite[] {
  const byWord = new Map<number, { clear: number; set: number }>();
  for (const r of fieldRuns(field, ofs, nBits)) {
    const chunk = Number((value >> BigInt(r.valueShift)) & 0xffffffffn) & lowMask(r.nBits);
    const m =
      mask === undefined
        ? lowMask(r.nBits)
        : Number((mask >> BigInt(r.valueShift)) & 0xffffffffn) & lowMask(r.nBits);
    const e = byWord.get(r.word) ?? { clear: 0, set: 0 };
    e.clear |= m << r.shift;
    e.set |= (chunk & m) << r.shift;
    byWord.set(r.word, e);
  }
  return [...byWord].map(([word, e]) => ({ word, clear: e.clear, set: e.set }));
}

/** Applies compiled writes to the key words. */
export function applyWrites(w: Uint32Array, writes: readonly WordWrite[]): void {
  for (let i = 0; i < writes.length; i++) {
    const x = writes[i]!;
    w[x.word] = (w[x.word]! & ~x.clear) | x.set;
  }
}

/** reg_move: zips the runs of src and dst into copy steps (widths must be equal). */
export function compileMove(
  src: OxmField,
  srcOfs: number,
  dst: OxmField,
  dstOfs: number,
  nBits: number,
): MoveRun[] {
  const ps = placementOf(src);
  const pd = placementOf(dst);
  checkRange(src, srcOfs, nBits);
  checkRange(dst, dstOfs, nBits);
  const runs: MoveRun[] = [];
  let cur: {
    srcWord: number;
    srcShift: number;
    dstWord: number;
    dstShift: number;
    nBits: number;
  } | null = null;
  for (let i = 0; i < nBits; i++) {
    const sl = bitLocation(ps, srcOfs + i);
    const dl = bitLocation(pd, dstOfs + i);
    if (sl === null || dl === null) continue;
    const [sw, sb] = sl;
    const [dw, db] = dl;
    if (
      cur !== null &&
      cur.srcWord === sw &&
      cur.dstWord === dw &&
      cur.srcShift + cur.nBits === sb &&
      cur.dstShift + cur.nBits === db
    ) {
      cur.nBits++;
    } else {
      if (cur !== null) runs.push(cur);
      cur = { srcWord: sw, srcShift: sb, dstWord: dw, dstShift: db, nBits: 1 };
    }
  }
  if (cur !== null) runs.push(cur);
  return runs;
}

/**
 * Executes a move. Reads every source run first, so that overlapping src and
 * dst behave as a copy through a temporary (OVS `mf_subfield_copy` reads the
 * whole source value before writing). At most 4 runs per 128 bits plus
 * splits, so a small fixed scratch array suffices.
 */
const moveScratch = new Int32Array(16);
export function applyMove(w: Uint32Array, runs: readonly MoveRun[]): void {
  const n = runs.length;
  const tmp = n <= moveScratch.length ? moveScratch : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = runs[i]!;
    tmp[i] = (w[r.srcWord]! >>> r.srcShift) & lowMask(r.nBits);
  }
  for (let i = 0; i < n; i++) {
    const r = runs[i]!;
    const m = lowMask(r.nBits) << r.dstShift;
    w[r.dstWord] = (w[r.dstWord]! & ~m) | ((tmp[i]! << r.dstShift) & m);
  }
}

/** A sub-field of at most 32 bits as an unsigned number. */
export function readBits(w: Uint32Array, runs: readonly BitRun[]): number {
  let v = 0;
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i]!;
    v |= ((w[r.word]! >>> r.shift) & lowMask(r.nBits)) << r.valueShift;
  }
  return v >>> 0;
}

/** Any sub-field as a bigint (allocates; learn and traces only). */
export function readFieldBig(w: Uint32Array, field: OxmField, ofs: number, nBits: number): bigint {
  let v = 0n;
  for (const r of fieldRuns(field, ofs, nBits)) {
    const chunk = (w[r.word]! >>> r.shift) & lowMask(r.nBits);
    v |= BigInt(chunk >>> 0) << BigInt(r.valueShift);
  }
  return v;
}
