/**
 * OFPT_EXPERIMENTER (OF1.3 §7.5.4).
 *
 *     ofp_header (8) | experimenter (4) | exp_type (4) | data   >= 16
 *
 * Experimenter messages the codec does not model (Nicira NXT_*, ONF flow
 * monitor, role status, ...) are carried opaque and re-encoded byte for byte.
 * The ONF bundle messages (EXT-230) are modelled in bundle.ts; message.ts
 * dispatches on (experimenter, exp_type) before falling back to this arm.
 */
import { NX_VENDOR_ID, ONF_VENDOR_ID, OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface ExperimenterMessage {
  readonly type: "experimenter";
  readonly xid: number;
  readonly experimenter: number;
  readonly expType: number;
  readonly data: Uint8Array;
}

/**
 * Strict decode refuses an experimenter OVS does not know (only Nicira and
 * ONF) with OFPBRC_BAD_VENDOR, as OVS's `ofpraw_decode` does; subtypes of
 * those two stay opaque, since OVS knows more of them than we model.
 */
export function decodeExperimenter(r: Reader, xid: number, strict = true): ExperimenterMessage {
  const experimenter = r.u32();
  if (strict) checkVendor(experimenter, r.pos - 4);
  const expType = r.u32();
  return { type: "experimenter", xid, experimenter, expType, data: r.rest() };
}

/** OVS knows Nicira and ONF experimenter messages only (`ofpraw_decode`). */
export function checkVendor(experimenter: number, offset: number): void {
  if (experimenter !== NX_VENDOR_ID && experimenter !== ONF_VENDOR_ID) {
    throw new OfpError("OFPBRC_BAD_VENDOR", `experimenter 0x${experimenter.toString(16)}`, {
      offset,
    });
  }
}

export function encodeExperimenter(w: Writer, m: ExperimenterMessage): void {
  w.u32(m.experimenter).u32(m.expType).bytes(m.data);
}
