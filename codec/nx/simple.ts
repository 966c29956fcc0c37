/**
 * Small fixed-layout Nicira actions whose decode needs more than reading a
 * couple of integers: resubmit, output_reg(2), dec_ttl_cnt_ids, conjunction.
 * Layouts and checks from OVS `lib/ofp-actions.c` (`struct nx_action_*`).
 */
import { getU16, getU32 } from "../bytes.js";
import { OfpError } from "../errors.js";
import type { Writer } from "../writer.js";
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

export interface ResubmitAction {
  readonly type: "resubmit";
  readonly inPort: number;
  readonly table: number;
  readonly ct: boolean;
  readonly legacy?: boolean;
}

/** Table value meaning "the current table" in resubmit. */
export const RESUBMIT_CURRENT_TABLE = 0xff;
/** OF1.0 OFPP_IN_PORT, the 16-bit in_port value meaning "use the packet's in_port". */
export const OFPP10_IN_PORT = 0xfff8;

/**
 * struct nx_action_resubmit: in_port(2) table(1) pad(3). NXAST_RESUBMIT (1)
 * reads in_port only (OVS `NX1.0+(1): uint16_t`); the table forms reject
 * non-zero pad with OFPBAC_BAD_ARGUMENT.
 */
export function decodeResubmit(buf: Uint8Array, at: number, subtype: number): ResubmitAction {
  const inPort = getU16(buf, at + 10);
  if (subtype === NXAST.RESUBMIT) {
    return { type: "resubmit", inPort, table: RESUBMIT_CURRENT_TABLE, ct: false, legacy: true };
  }
  if (buf[at + 13] !== 0 || buf[at + 14] !== 0 || buf[at + 15] !== 0) {
    throw new OfpError("OFPBAC_BAD_ARGUMENT", "resubmit pad must be zero", { offset: at });
  }
  return {
    type: "resubmit",
    inPort,
    table: buf[at + 12]!,
    ct: subtype === NXAST.RESUBMIT_TABLE_CT,
  };
}

export function encodeResubmit(w: Writer, a: ResubmitAction): void {
  const legacy = a.legacy === true && !a.ct && a.table === RESUBMIT_CURRENT_TABLE;
  const subtype = legacy ? NXAST.RESUBMIT : a.ct ? NXAST.RESUBMIT_TABLE_CT : NXAST.RESUBMIT_TABLE;
  const tok = beginNx(w, subtype);
  w.u16(a.inPort);
  if (legacy) w.zeros(4);
  else w.u8(a.table).zeros(3);
  w.endLengthAt(tok, 2, "included");
}

export interface OutputRegAction {
  readonly type: "output_reg";
  readonly src: SubField;
  readonly maxLen: number;
  readonly wide: boolean;
}

/** struct nx_action_output_reg (24): ofs_nbits, src(4), max_len, zero[6] (non-zero → OFPBAC_BAD_ARGUMENT). */
export function decodeOutputReg(buf: Uint8Array, at: number): OutputRegAction {
  for (let i = at + 18; i < at + 24; i++) {
    if (buf[i] !== 0) {
      throw new OfpError("OFPBAC_BAD_ARGUMENT", "output_reg zero bytes are not zero", {
        offset: at,
      });
    }
  }
  const ofsNbits = getU16(buf, at + 10);
  const field = fieldFrom32(getU32(buf, at + 12), at);
  const src = { field, ofs: decodeOfs(ofsNbits), nBits: decodeNbits(ofsNbits) };
  checkSubField(src, "src", at);
  return { type: "output_reg", src, maxLen: getU16(buf, at + 16), wide: false };
}

/** struct nx_action_output_reg2: ofs_nbits, max_len, then a 4- or 8-byte header, zero pad (NXBRC_MUST_BE_ZERO). */
export function decodeOutputReg2(buf: Uint8Array, at: number, len: number): OutputRegAction {
  const ofsNbits = getU16(buf, at + 10);
  const maxLen = getU16(buf, at + 12);
  const field = pullFieldHeader(buf, at + 14, at + len);
  for (let i = at + 14 + headerSize(field); i < at + len; i++) {
    if (buf[i] !== 0) throw new OfpError("NXBRC_MUST_BE_ZERO", "output_reg2 pad", { offset: i });
  }
  const src = { field, ofs: decodeOfs(ofsNbits), nBits: decodeNbits(ofsNbits) };
  checkSubField(src, "src", at);
  return { type: "output_reg", src, maxLen, wide: true };
}

export function encodeOutputReg(w: Writer, a: OutputRegAction): void {
  // OVS uses OUTPUT_REG2 only when the source needs an experimenter header.
  const tok = beginNx(w, a.wide ? NXAST.OUTPUT_REG2 : NXAST.OUTPUT_REG);
  const ofsNbits = encodeOfsNbits(a.src.ofs, a.src.nBits);
  if (a.wide) {
    w.u16(ofsNbits).u16(a.maxLen);
    writeFieldHeader(w, a.src.field);
    w.padTo(8, tok);
    if (w.pos - tok < 24) w.zeros(24 - (w.pos - tok));
  } else {
    w.u16(ofsNbits).u32(fieldHeader32(a.src.field)).u16(a.maxLen).zeros(6);
  }
  w.endLengthAt(tok, 2, "included");
}

/**
 * struct nx_action_cnt_ids (16): n_controllers, zeros[4] (NXBRC_MUST_BE_ZERO),
 * then n_controllers 16-bit ids; too few bytes for them → OFPBAC_BAD_LEN.
 */
export function decodeDecTtlCntIds(
  buf: Uint8Array,
  at: number,
  len: number,
): { readonly type: "dec_ttl_cnt_ids"; readonly ids: readonly number[] } {
  const n = getU16(buf, at + 10);
  for (let i = at + 12; i < at + 16; i++) {
    if (buf[i] !== 0) throw new OfpError("NXBRC_MUST_BE_ZERO", "dec_ttl zeros", { offset: i });
  }
  if (len - 16 < n * 2) {
    throw new OfpError("OFPBAC_BAD_LEN", `dec_ttl_cnt_ids: no room for ${n} ids`, { offset: at });
  }
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(getU16(buf, at + 16 + 2 * i));
  return { type: "dec_ttl_cnt_ids", ids };
}

export function encodeDecTtlCntIds(w: Writer, ids: readonly number[]): void {
  const tok = beginNx(w, NXAST.DEC_TTL_CNT_IDS);
  w.u16(ids.length).zeros(4);
  for (const id of ids) w.u16(id);
  w.endLengthAt(tok, 2, "included");
}

/** struct nx_action_conjunction: clause, n_clauses, id; 2 ≤ n ≤ 64 and clause < n, else NXBAC_BAD_CONJUNCTION. */
export function decodeConjunction(
  buf: Uint8Array,
  at: number,
): {
  readonly type: "conjunction";
  readonly id: number;
  readonly clause: number;
  readonly nClauses: number;
} {
  const clause = buf[at + 10]!;
  const nClauses = buf[at + 11]!;
  if (nClauses < 2 || nClauses > 64 || clause >= nClauses) {
    throw new OfpError("NXBAC_BAD_CONJUNCTION", `conjunction clause ${clause} of ${nClauses}`, {
      offset: at,
    });
  }
  return { type: "conjunction", id: getU32(buf, at + 12), clause, nClauses };
}
