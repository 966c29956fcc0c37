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
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface ExperimenterMessage {
  readonly type: "experimenter";
  readonly xid: number;
  readonly experimenter: number;
  readonly expType: number;
  readonly data: Uint8Array;
}

export function decodeExperimenter(r: Reader, xid: number): ExperimenterMessage {
  const experimenter = r.u32();
  const expType = r.u32();
  return { type: "experimenter", xid, experimenter, expType, data: r.rest() };
}

export function encodeExperimenter(w: Writer, m: ExperimenterMessage): void {
  w.u32(m.experimenter).u32(m.expType).bytes(m.data);
}
