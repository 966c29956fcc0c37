/**
 * Register moves and loads: NXAST_REG_MOVE (6), NXAST_REG_LOAD (7),
 * NXAST_REG_LOAD2 (33). Layouts and checks from OVS `lib/ofp-actions.c`
 * (`decode_NXAST_RAW_REG_MOVE`, `_REG_LOAD`, `_REG_LOAD2`).
 *
 * reg_move is how Neutron's ARP responder swaps addresses
 * (`move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]`); reg_load writes sub-fields
 * (`load:0x2->NXM_NX_REG6[]`), which OF1.3 set_field cannot.
 */
import { getU16, getU32, getU64 } from "../bytes.js";
import { OfpError } from "../errors.js";
import type { OxmEntry } from "../oxm.js";
import type { Writer } from "../writer.js";
import { decodeActionOxm } from "./action-oxm.js";
import { NXAST, beginNx } from "./constants.js";
import {
  checkSubField,
  decodeNbits,
  decodeOfs,
  encodeOfsNbits,
  fieldFrom32,
  fieldHeader32,
  headerSize,
  pullFieldHeader,
  writeFieldHeader,
  type SubField,
} from "./subfield.js";

export interface RegMoveAction {
  readonly type: "reg_move";
  readonly src: SubField;
  readonly dst: SubField;
}

export interface RegLoadAction {
  readonly type: "reg_load";
  readonly dst: SubField;
  readonly value: bigint;
}

/**
 * struct nx_action_reg_move (16): n_bits, src_ofs, dst_ofs, then the src and
 * dst headers (4 or 8 bytes each) and zero pad (non-zero → NXBRC_MUST_BE_ZERO).
 */
export function decodeRegMove(buf: Uint8Array, at: number, len: number): RegMoveAction {
  const nBits = getU16(buf, at + 10);
  const srcOfs = getU16(buf, at + 12);
  const dstOfs = getU16(buf, at + 14);
  const end = at + len;
  let p = at + 16;
  const srcField = pullFieldHeader(buf, p, end);
  p += headerSize(srcField);
  const dstField = pullFieldHeader(buf, p, end);
  p += headerSize(dstField);
  for (; p < end; p++) {
    if (buf[p] !== 0) throw new OfpError("NXBRC_MUST_BE_ZERO", "reg_move pad", { offset: p });
  }
  const src = { field: srcField, ofs: srcOfs, nBits };
  const dst = { field: dstField, ofs: dstOfs, nBits };
  checkSubField(src, "src", at);
  checkSubField(dst, "dst", at);
  return { type: "reg_move", src, dst };
}

export function encodeRegMove(w: Writer, a: RegMoveAction): void {
  if (a.src.nBits !== a.dst.nBits) {
    throw new RangeError(`reg_move widths differ: ${a.src.nBits} vs ${a.dst.nBits}`);
  }
  const tok = beginNx(w, NXAST.REG_MOVE);
  w.u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs);
  writeFieldHeader(w, a.src.field);
  writeFieldHeader(w, a.dst.field);
  w.endLengthAt(tok, 2, "included");
}

/**
 * struct nx_action_reg_load (24): ofs_nbits, dst (32-bit header), value (64).
 * Value bits at or above n_bits → OFPBAC_BAD_ARGUMENT.
 */
export function decodeRegLoad(buf: Uint8Array, at: number): RegLoadAction {
  const ofsNbits = getU16(buf, at + 10);
  const field = fieldFrom32(getU32(buf, at + 12), at);
  const dst = { field, ofs: decodeOfs(ofsNbits), nBits: decodeNbits(ofsNbits) };
  checkSubField(dst, "dst", at);
  const value = getU64(buf, at + 16);
  if (dst.nBits < 64 && value >> BigInt(dst.nBits) !== 0n) {
    throw new OfpError("OFPBAC_BAD_ARGUMENT", `reg_load value wider than ${dst.nBits} bits`, {
      offset: at,
    });
  }
  return { type: "reg_load", dst, value };
}

export function encodeRegLoad(w: Writer, a: RegLoadAction): void {
  const tok = beginNx(w, NXAST.REG_LOAD);
  w.u16(encodeOfsNbits(a.dst.ofs, a.dst.nBits)).u32(fieldHeader32(a.dst.field)).u64(a.value);
  w.endLengthAt(tok, 2, "included");
}

/** NXAST_REG_LOAD2: ext_action_header then an OXM TLV (mask allowed) at offset 10. */
export function decodeRegLoad2(buf: Uint8Array, at: number, len: number): OxmEntry {
  // Always checked: in structural decode a failure here keeps the whole action opaque.
  return decodeActionOxm(buf, at + 10, at + len, true, true) as OxmEntry;
}
