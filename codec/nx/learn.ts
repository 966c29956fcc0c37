/**
 * NXAST_LEARN (16): add a flow from inside a flow. br-tun table 10 uses it for
 * MAC learning (dvr-pipeline.md T7/T8):
 * `learn(table=20,hard_timeout=300,priority=1,cookie=C,NXM_OF_VLAN_TCI[0..11],
 *  NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],
 *  load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[])`.
 *
 * Layout (OVS `struct nx_action_learn`, 32 bytes): subtype, idle_timeout,
 * hard_timeout, priority, cookie(8), flags, table_id, pad, fin_idle_timeout,
 * fin_hard_timeout; then flow_mod_spec elements until a zero header or the end,
 * then zero padding to 8.
 *
 * Spec header (16 bits): reserved(2) | src type(1: 0 field, 1 immediate) |
 * dst type(2: 0 match, 1 load, 2 output) | n_bits(11). A field source is a
 * 32-bit header + 16-bit offset; an immediate is 2*ceil(n_bits/16) bytes, the
 * value right-aligned. match/load then carry a destination header + offset.
 *
 * Checks (OVS `decode_LEARN_common`/`decode_LEARN_specs`): pad or table 255 or
 * unknown flags → OFPBAC_BAD_ARGUMENT; an invalid src/dst combination →
 * OFPBAC_BAD_ARGUMENT; a spec overrunning the action → OFPBAC_BAD_LEN; unknown
 * field header → OFPBAC_BAD_SET_TYPE; non-zero bytes after the specs →
 * OFPBAC_BAD_ARGUMENT.
 */
import { getU16, getU32, getU64 } from "../bytes.js";
import { OfpError } from "../errors.js";
import type { Writer } from "../writer.js";
import { NXAST, beginNx } from "./constants.js";
import { fieldFrom32, fieldHeader32, type SubField } from "./subfield.js";

export const NX_LEARN_FLAGS = {
  SEND_FLOW_REM: 1 << 0,
  DELETE_LEARNED: 1 << 1,
} as const;
const NX_LEARN_FLAGS_ALLOWED = NX_LEARN_FLAGS.SEND_FLOW_REM | NX_LEARN_FLAGS.DELETE_LEARNED;

const SRC_IMMEDIATE = 1 << 13;
const DST_SHIFT = 11;
const DST_MASK = 3 << DST_SHIFT;
const N_BITS_MASK = 0x7ff;
const LEARN_HEADER_SIZE = 32;

/** Where the learned flow puts the spec's bits. */
export type LearnDst = "match" | "load" | "output";
const DST_CODES: readonly LearnDst[] = ["match", "load", "output"];

export type LearnSrc =
  | { readonly kind: "field"; readonly field: SubField }
  /** 2 * ceil(nBits / 16) bytes as on the wire; the value is right-aligned. */
  | { readonly kind: "immediate"; readonly value: Uint8Array };

export interface LearnSpec {
  readonly dst: LearnDst;
  readonly nBits: number;
  readonly src: LearnSrc;
  /** Destination field for match/load; undefined for output. */
  readonly dstField: SubField | undefined;
}

export interface LearnAction {
  readonly type: "learn";
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly flags: number;
  readonly tableId: number;
  readonly finIdleTimeout: number;
  readonly finHardTimeout: number;
  readonly specs: readonly LearnSpec[];
}

/** Bytes an immediate of `nBits` takes on the wire. */
export function learnImmediateSize(nBits: number): number {
  return 2 * Math.ceil(nBits / 16);
}

export function decodeLearn(buf: Uint8Array, at: number, len: number): LearnAction {
  if (buf[at + 27] !== 0) {
    throw new OfpError("OFPBAC_BAD_ARGUMENT", "learn pad must be zero", { offset: at });
  }
  const tableId = buf[at + 26]!;
  if (tableId === 0xff) {
    throw new OfpError("OFPBAC_BAD_ARGUMENT", "learn into table 255", { offset: at });
  }
  const flags = getU16(buf, at + 24);
  if ((flags & ~NX_LEARN_FLAGS_ALLOWED) !== 0) {
    throw new OfpError("OFPBAC_BAD_ARGUMENT", `learn flags 0x${flags.toString(16)}`, {
      offset: at,
    });
  }
  const end = at + len;
  let p = at + LEARN_HEADER_SIZE;
  const specs: LearnSpec[] = [];
  while (end - p >= 2) {
    const header = getU16(buf, p);
    if (header === 0) break;
    const specAt = p;
    p += 2;
    const immediate = (header & SRC_IMMEDIATE) !== 0;
    const dstCode = (header & DST_MASK) >>> DST_SHIFT;
    const nBits = header & N_BITS_MASK;
    const dst = DST_CODES[dstCode];
    // Valid: match, load, or output from a field. Reserved top bits make the combination invalid too.
    if ((header & 0xc000) !== 0 || dst === undefined || (dst === "output" && immediate)) {
      throw new OfpError("OFPBAC_BAD_ARGUMENT", `learn spec header 0x${header.toString(16)}`, {
        offset: specAt,
      });
    }
    const need = (immediate ? learnImmediateSize(nBits) : 6) + (dst === "output" ? 0 : 6);
    if (end - p < need) {
      throw new OfpError("OFPBAC_BAD_LEN", "learn spec overruns the action", { offset: specAt });
    }
    let src: LearnSrc;
    if (immediate) {
      const size = learnImmediateSize(nBits);
      src = { kind: "immediate", value: buf.subarray(p, p + size) };
      p += size;
    } else {
      const field = fieldFrom32(getU32(buf, p), p);
      src = { kind: "field", field: { field, ofs: getU16(buf, p + 4), nBits } };
      p += 6;
    }
    let dstField: SubField | undefined;
    if (dst !== "output") {
      const field = fieldFrom32(getU32(buf, p), p);
      dstField = { field, ofs: getU16(buf, p + 4), nBits };
      p += 6;
    }
    specs.push({ dst, nBits, src, dstField });
  }
  for (let i = p; i < end; i++) {
    if (buf[i] !== 0) {
      throw new OfpError("OFPBAC_BAD_ARGUMENT", "non-zero bytes after learn specs", {
        offset: i,
      });
    }
  }
  return {
    type: "learn",
    idleTimeout: getU16(buf, at + 10),
    hardTimeout: getU16(buf, at + 12),
    priority: getU16(buf, at + 14),
    cookie: getU64(buf, at + 16),
    flags,
    tableId,
    finIdleTimeout: getU16(buf, at + 28),
    finHardTimeout: getU16(buf, at + 30),
    specs,
  };
}

export function encodeLearn(w: Writer, a: LearnAction): void {
  const tok = beginNx(w, NXAST.LEARN);
  w.u16(a.idleTimeout).u16(a.hardTimeout).u16(a.priority).u64(a.cookie);
  w.u16(a.flags).u8(a.tableId).u8(0).u16(a.finIdleTimeout).u16(a.finHardTimeout);
  for (const s of a.specs) {
    const dstCode = DST_CODES.indexOf(s.dst);
    const immediate = s.src.kind === "immediate";
    w.u16((immediate ? SRC_IMMEDIATE : 0) | (dstCode << DST_SHIFT) | (s.nBits & N_BITS_MASK));
    if (s.src.kind === "immediate") {
      const size = learnImmediateSize(s.nBits);
      if (s.src.value.length !== size) {
        throw new RangeError(`learn immediate of ${s.nBits} bits must be ${size} bytes`);
      }
      w.bytes(s.src.value);
    } else {
      w.u32(fieldHeader32(s.src.field.field)).u16(s.src.field.ofs);
    }
    if (s.dst !== "output") {
      if (s.dstField === undefined) throw new RangeError(`learn ${s.dst} spec needs dstField`);
      w.u32(fieldHeader32(s.dstField.field)).u16(s.dstField.ofs);
    }
  }
  // The zero padding doubles as the terminating zero spec header.
  w.endLengthAt(tok, 2, "included");
}
