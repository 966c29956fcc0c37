/**
 * Sub-field references (`NXM_NX_REG6[0..15]`) as Nicira actions carry them:
 * a bare OXM/NXM header (4 bytes, or 8 for class 0xffff) plus a bit offset and
 * width, the latter often packed as `ofs_nbits = ofs << 6 | (n_bits - 1)`.
 *
 * Checks follow OVS `mf_check_src`/`mf_check_dst` (`lib/meta-flow.c`): zero
 * width or a range past the field's width → OFPBAC_BAD_SET_LEN, a read-only
 * destination → OFPBAC_BAD_SET_ARGUMENT.
 */
import { getU32 } from "../bytes.js";
import { OfpError } from "../errors.js";
import { OXM_CLASS, OXM_HASMASK, fieldByHeader, type OxmField } from "../oxm.js";
import type { Writer } from "../writer.js";

/** `field[ofs .. ofs+nBits-1]`. */
export interface SubField {
  readonly field: OxmField;
  readonly ofs: number;
  readonly nBits: number;
}

/** The whole field as a sub-field (`NXM_NX_REG6[]`). */
export function wholeField(field: OxmField): SubField {
  return { field, ofs: 0, nBits: field.bits };
}

export function encodeOfsNbits(ofs: number, nBits: number): number {
  return ((ofs << 6) | (nBits - 1)) & 0xffff;
}

export function decodeOfs(ofsNbits: number): number {
  return ofsNbits >>> 6;
}

export function decodeNbits(ofsNbits: number): number {
  return (ofsNbits & 0x3f) + 1;
}

/**
 * The field for a 32-bit header stored at a fixed place (reg_load, output_reg,
 * ct zone, learn specs). Unknown → OFPBAC_BAD_SET_TYPE, as OVS
 * `mf_vl_mff_mf_from_nxm_header`. The length byte must match the field.
 */
export function fieldFrom32(header: number, offset: number): OxmField {
  const f = header >>> 16 === OXM_CLASS.EXPERIMENTER ? undefined : fieldByHeader(header);
  if (f === undefined || (header & 0xff) !== f.size || (header & OXM_HASMASK) !== 0) {
    throw new OfpError(
      "OFPBAC_BAD_SET_TYPE",
      `unknown field header 0x${(header >>> 0).toString(16)}`,
      { offset },
    );
  }
  return f;
}

/**
 * Pulls a bare header (4 or 8 bytes) at `at` within `[at, end)` as OVS
 * `nx_pull_header` does for reg_move/output_reg2: short → OFPBMC_BAD_LEN,
 * unknown or wrong length → OFPBMC_BAD_FIELD, hasmask → OFPBMC_BAD_MASK.
 * Returns the field; the header size is `headerSize(field)`.
 */
export function pullFieldHeader(buf: Uint8Array, at: number, end: number): OxmField {
  if (end - at < 4) throw new OfpError("OFPBMC_BAD_LEN", "truncated field header", { offset: at });
  const header = getU32(buf, at);
  let experimenter: number | undefined;
  if (header >>> 16 === OXM_CLASS.EXPERIMENTER) {
    if (end - at < 8) {
      throw new OfpError("OFPBMC_BAD_LEN", "truncated experimenter field header", { offset: at });
    }
    if ((header & 0xff) < 4) {
      throw new OfpError("OFPBMC_BAD_LEN", "experimenter header length < 4", { offset: at });
    }
    experimenter = getU32(buf, at + 4);
  }
  const masked = (header & OXM_HASMASK) !== 0;
  const f = fieldByHeader(header, experimenter);
  const payload = (header & 0xff) - (experimenter === undefined ? 0 : 4);
  if (f === undefined || (masked ? payload >>> 1 : payload) !== f.size) {
    throw new OfpError("OFPBMC_BAD_FIELD", `unknown field header 0x${header.toString(16)}`, {
      offset: at,
    });
  }
  if (masked) throw new OfpError("OFPBMC_BAD_MASK", "masked field reference", { offset: at });
  return f;
}

/** Bytes a bare header of `f` takes (4, or 8 for experimenter fields). */
export function headerSize(f: OxmField): number {
  return f.experimenter === undefined ? 4 : 8;
}

/** Writes a bare header of `f` (length byte = value width, no mask). */
export function writeFieldHeader(w: Writer, f: OxmField): void {
  w.u32((f.header | (f.size + (f.experimenter === undefined ? 0 : 4))) >>> 0);
  if (f.experimenter !== undefined) w.u32(f.experimenter);
}

/** The 32-bit header of `f`, for actions with a fixed 32-bit slot. */
export function fieldHeader32(f: OxmField): number {
  if (f.experimenter !== undefined) {
    throw new RangeError(`${f.name} has an experimenter header; it cannot go in a 32-bit slot`);
  }
  return (f.header | f.size) >>> 0;
}

/** OVS `mf_check_src` / `mf_check_dst` on a decoded sub-field. */
export function checkSubField(sf: SubField, role: "src" | "dst", offset: number): void {
  if (sf.nBits === 0 || sf.ofs >= sf.field.bits || sf.ofs + sf.nBits > sf.field.bits) {
    throw new OfpError(
      "OFPBAC_BAD_SET_LEN",
      `${role} ${sf.field.name}[${sf.ofs}..+${sf.nBits}] exceeds its ${sf.field.bits}-bit width`,
      { offset },
    );
  }
  if (role === "dst" && !sf.field.writable) {
    throw new OfpError("OFPBAC_BAD_SET_ARGUMENT", `${sf.field.name} is not writable`, { offset });
  }
}
