/**
 * NXAST_CONTROLLER2 (37): send to the controller with properties (OVS
 * `decode_NXAST_RAW_CONTROLLER2`). NXAST_CONTROLLER (20) is fixed-layout and
 * decoded inline in actions.ts.
 *
 * Properties are `ofp_prop_header` TLVs (type, len excluding pad, value,
 * pad to 8). OVS writes only non-default ones, in this order: MAX_LEN (if not
 * 65535), CONTROLLER_ID (if not 0), REASON (if not OFPR_ACTION), USERDATA,
 * PAUSE, METER_ID; 16-bit values as 4-byte payloads (`ofpprop_put_u16`). We
 * re-encode the same way, so OVS-produced bytes round-trip exactly.
 *
 * Property errors are OVS's generic ones (`ofpprop_pull`, checked with
 * ofp-print): a malformed property length or a value too short for its type
 * is OFPBPC_BAD_LEN, an unknown property type OFPBPC_BAD_TYPE (OF1.3 codes
 * (13, 3) and (13, 2)).
 */
import { getU16, getU32 } from "../bytes.js";
import { OfpError } from "../errors.js";
import type { Writer } from "../writer.js";
import { NXAST, beginNx } from "./constants.js";

export const NXAC2PT = {
  MAX_LEN: 0,
  CONTROLLER_ID: 1,
  REASON: 2,
  USERDATA: 3,
  PAUSE: 4,
  METER_ID: 5,
} as const;

/** OFPR_ACTION: the default reason. */
const OFPR_ACTION = 1;
/** NX_CTLR_NO_METER: the default meter id. */
const NO_METER = 0;

export interface Controller2Action {
  readonly type: "controller2";
  /** Default 65535 (OFPCML_NO_BUFFER). */
  readonly maxLen: number;
  readonly controllerId: number;
  /** Default 1 (OFPR_ACTION). */
  readonly reason: number;
  readonly userdata: Uint8Array | undefined;
  readonly pause: boolean;
  /** 0 = no meter. */
  readonly meterId: number;
}

export function decodeController2(buf: Uint8Array, at: number, len: number): Controller2Action {
  for (let i = at + 10; i < at + 16; i++) {
    if (buf[i] !== 0) throw new OfpError("NXBRC_MUST_BE_ZERO", "controller2 pad", { offset: i });
  }
  let maxLen = 0xffff;
  let controllerId = 0;
  let reason = OFPR_ACTION;
  let userdata: Uint8Array | undefined;
  let pause = false;
  let meterId = NO_METER;
  const end = at + len;
  let p = at + 16;
  while (p < end) {
    if (end - p < 4) throw new OfpError("OFPBPC_BAD_LEN", "truncated property", { offset: p });
    const type = getU16(buf, p);
    const plen = getU16(buf, p + 2);
    const padded = (plen + 7) & ~7;
    if (plen < 4 || padded > end - p) {
      throw new OfpError("OFPBPC_BAD_LEN", `property length ${plen}`, { offset: p });
    }
    const v = p + 4;
    const size = plen - 4;
    switch (type) {
      case NXAC2PT.MAX_LEN:
      case NXAC2PT.CONTROLLER_ID: {
        if (size < 2) throw new OfpError("OFPBPC_BAD_LEN", "16-bit property", { offset: p });
        const x = getU16(buf, v);
        if (type === NXAC2PT.MAX_LEN) maxLen = x;
        else controllerId = x;
        break;
      }
      case NXAC2PT.REASON:
        if (size < 1) throw new OfpError("OFPBPC_BAD_LEN", "reason property", { offset: p });
        reason = buf[v]!;
        break;
      case NXAC2PT.USERDATA:
        userdata = buf.slice(v, v + size);
        break;
      case NXAC2PT.PAUSE:
        pause = true;
        break;
      case NXAC2PT.METER_ID:
        if (size !== 4) throw new OfpError("OFPBPC_BAD_LEN", "meter_id property", { offset: p });
        meterId = getU32(buf, v);
        break;
      default:
        throw new OfpError("OFPBPC_BAD_TYPE", `controller2 property ${type}`, { offset: p });
    }
    p += padded;
  }
  return { type: "controller2", maxLen, controllerId, reason, userdata, pause, meterId };
}

function prop(w: Writer, type: number, write: () => void): void {
  const start = w.pos;
  w.u16(type).u16(0);
  write();
  w.setU16(start + 2, w.pos - start);
  w.padTo(8, start);
}

export function encodeController2(w: Writer, a: Controller2Action): void {
  const tok = beginNx(w, NXAST.CONTROLLER2);
  w.zeros(6);
  if (a.maxLen !== 0xffff) prop(w, NXAC2PT.MAX_LEN, () => w.u16(a.maxLen).u16(0));
  if (a.controllerId !== 0) prop(w, NXAC2PT.CONTROLLER_ID, () => w.u16(a.controllerId).u16(0));
  if (a.reason !== OFPR_ACTION) prop(w, NXAC2PT.REASON, () => w.u8(a.reason));
  if (a.userdata !== undefined) prop(w, NXAC2PT.USERDATA, () => w.bytes(a.userdata!));
  if (a.pause) prop(w, NXAC2PT.PAUSE, () => undefined);
  if (a.meterId !== NO_METER) prop(w, NXAC2PT.METER_ID, () => w.u32(a.meterId));
  w.endLengthAt(tok, 2, "included");
}
