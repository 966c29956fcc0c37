/**
 * Nicira extension action numbering (experimenter 0x00002320, a 16-bit
 * subtype after the experimenter id). Numbers from OVS `lib/ofp-actions.c`
 * (`NX1.0+(N)` annotations); only the OF1.3-valid ones are listed.
 */
import { NX_VENDOR_ID } from "../errors.js";
import { putU16, putU32, type Writer } from "../writer.js";

export { NX_VENDOR_ID, ONF_VENDOR_ID } from "../errors.js";

export const NXAST = {
  RESUBMIT: 1,
  SET_TUNNEL: 2,
  POP_QUEUE: 5,
  REG_MOVE: 6,
  REG_LOAD: 7,
  NOTE: 8,
  SET_TUNNEL64: 9,
  RESUBMIT_TABLE: 14,
  OUTPUT_REG: 15,
  LEARN: 16,
  EXIT: 17,
  FIN_TIMEOUT: 19,
  CONTROLLER: 20,
  DEC_TTL_CNT_IDS: 21,
  OUTPUT_REG2: 32,
  REG_LOAD2: 33,
  CONJUNCTION: 34,
  CT: 35,
  NAT: 36,
  CONTROLLER2: 37,
  CT_CLEAR: 43,
  RESUBMIT_TABLE_CT: 44,
} as const;
export type NxastSubtype = (typeof NXAST)[keyof typeof NXAST];

/**
 * Every Nicira action subtype OVS 3.1 decodes in OpenFlow 1.3 (`enum
 * ofp_raw_action_type`, entries marked NX1.0+, NX1.0-1.4 or NX1.3+), modelled
 * here or not. The strict decoder keeps the ones we do not model opaque (OVS
 * would accept them) and refuses all others with OFPBAC_BAD_VENDOR_TYPE, as
 * OVS does; NX1.0-only subtypes such as 18 (dec_ttl, OF1.1+'s OFPAT_DEC_NW_TTL)
 * are unknown to OVS in OF1.3.
 */
export const OVS_NX_SUBTYPES_OF13: ReadonlySet<number> = new Set([
  1, 2, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 27, 28, 29, 32, 33, 34, 35, 36,
  37, 38, 39, 41, 42, 43, 44, 45, 46, 47, 48, 254, 255,
]);

/** ONF experimenter actions OVS decodes in OF1.3: ONFACT_RAW13_COPY_FIELD. */
export const OVS_ONF_SUBTYPES_OF13: ReadonlySet<number> = new Set([3200]);

/** Size of the common Nicira action header: type, len, vendor, subtype (+ 6 pad in ext_action_header). */
export const NX_ACTION_HEADER_SIZE = 10;
/** `struct ext_action_header` / the smallest NX action. */
export const NX_MIN_ACTION_SIZE = 16;

/** OFPAT_EXPERIMENTER / OFPAT_VENDOR. */
const OFPAT_EXPERIMENTER = 0xffff;

/**
 * Starts a Nicira action: type, a length placeholder, vendor id and subtype.
 * Returns where it starts; the caller writes the body and finishes with
 * `w.endLengthAt(start, 2, "included")` (action lengths include their pad to
 * 8, codec.md §3).
 */
export function beginNx(w: Writer, subtype: number): number {
  const start = w.pos;
  const b = w.reserve(NX_ACTION_PREFIX_SIZE);
  putU16(b, start, OFPAT_EXPERIMENTER);
  putU16(b, start + 2, 0);
  putU32(b, start + 4, NX_VENDOR_ID);
  putU16(b, start + 8, subtype);
  w.pos = start + NX_ACTION_PREFIX_SIZE;
  return start;
}

/** type, len, vendor, subtype: what {@link beginNx} writes. */
const NX_ACTION_PREFIX_SIZE = 10;
