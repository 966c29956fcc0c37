/**
 * OFPT_METER_MOD (OF1.3 §7.3.4.4) and `ofp_meter_band_*`, also used by the
 * OFPMP_METER_CONFIG reply.
 *
 *     ofp_header (8) | command (2) | flags (2) | meter_id (4) | band*   >= 16
 *     band: type (2) | len (2) | rate (4) | burst_size (4) | body
 *       DROP 1:          pad (4)                               len 16
 *       DSCP_REMARK 2:   prec_level (1) | pad (3)              len 16
 *       EXPERIMENTER 0xffff: experimenter (4) | data           len 16 + n
 *
 * A band's len covers the whole band. Decoder: a len under 16, past the
 * message, or other than 16 for drop/dscp_remark is OFPBRC_BAD_LEN; an unknown
 * band type is OFPMMFC_BAD_BAND. Experimenter bands are kept by structural
 * decode. Strict decode answers like OVS `ofputil_decode_meter_mod`: a
 * command other than add/modify/delete → OFPMMFC_BAD_COMMAND; for add/modify,
 * KBPS with PKTPS → OFPMMFC_BAD_FLAGS and an experimenter band →
 * OFPMMFC_BAD_BAND (OVS implements drop and dscp_remark only).
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { assertNever } from "./assert-never.js";
import { OFP_METER_BAND_DROP_SIZE } from "./sizes.js";

/** OF1.3 `enum ofp_meter_mod_command`. */
export const OFPMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
/** OF1.3 `enum ofp_meter_flags`. */
export const OFPMF = { KBPS: 1 << 0, PKTPS: 1 << 1, BURST: 1 << 2, STATS: 1 << 3 } as const;
/** OF1.3 `enum ofp_meter_band_type`. */
export const OFPMBT = { DROP: 1, DSCP_REMARK: 2, EXPERIMENTER: 0xffff } as const;

export type MeterBand =
  | { readonly kind: "drop"; readonly rate: number; readonly burstSize: number }
  | {
      readonly kind: "dscp_remark";
      readonly rate: number;
      readonly burstSize: number;
      readonly precLevel: number;
    }
  | {
      readonly kind: "experimenter";
      readonly rate: number;
      readonly burstSize: number;
      readonly experimenter: number;
      readonly data: Uint8Array;
    };

export interface MeterModMessage {
  readonly type: "meter_mod";
  readonly xid: number;
  readonly command: number;
  readonly flags: number;
  readonly meterId: number;
  readonly bands: readonly MeterBand[];
}

export function decodeMeterBand(r: Reader): MeterBand {
  const start = r.pos;
  const bandType = r.u16();
  const len = r.u16();
  if (len < OFP_METER_BAND_DROP_SIZE) {
    throw new OfpError("OFPBRC_BAD_LEN", `meter band len ${len} < 16`, { offset: start + 2 });
  }
  const body = r.sub(len - 4, "meter band");
  const rate = body.u32();
  const burstSize = body.u32();
  switch (bandType) {
    case OFPMBT.DROP:
    case OFPMBT.DSCP_REMARK: {
      if (len !== OFP_METER_BAND_DROP_SIZE) {
        throw new OfpError("OFPBRC_BAD_LEN", `meter band len ${len} != 16`, { offset: start + 2 });
      }
      if (bandType === OFPMBT.DROP) return { kind: "drop", rate, burstSize };
      return { kind: "dscp_remark", rate, burstSize, precLevel: body.u8() };
    }
    case OFPMBT.EXPERIMENTER:
      return { kind: "experimenter", rate, burstSize, experimenter: body.u32(), data: body.rest() };
    default:
      throw new OfpError("OFPMMFC_BAD_BAND", `unknown meter band type ${bandType}`, {
        offset: start,
      });
  }
}

export function encodeMeterBand(w: Writer, b: MeterBand): void {
  const token = w.beginLength(2);
  switch (b.kind) {
    case "drop":
      w.u16(OFPMBT.DROP).u16(0).u32(b.rate).u32(b.burstSize).zeros(4);
      break;
    case "dscp_remark":
      w.u16(OFPMBT.DSCP_REMARK).u16(0).u32(b.rate).u32(b.burstSize).u8(b.precLevel).zeros(3);
      break;
    case "experimenter":
      w.u16(OFPMBT.EXPERIMENTER).u16(0).u32(b.rate).u32(b.burstSize);
      w.u32(b.experimenter).bytes(b.data);
      break;
    default:
      return assertNever(b);
  }
  w.endLength(token, "none");
}

/** Bands until `r` is exhausted. */
export function decodeMeterBands(r: Reader): MeterBand[] {
  const bands: MeterBand[] = [];
  while (r.remaining > 0) bands.push(decodeMeterBand(r));
  return bands;
}

export function decodeMeterMod(r: Reader, xid: number, strict = true): MeterModMessage {
  const command = r.u16();
  const flags = r.u16();
  const meterId = r.u32();
  if (strict) {
    if (command !== OFPMC.ADD && command !== OFPMC.MODIFY && command !== OFPMC.DELETE) {
      throw new OfpError("OFPMMFC_BAD_COMMAND", `meter command ${command}`, { offset: 8 });
    }
    if (command !== OFPMC.DELETE && (flags & OFPMF.KBPS) !== 0 && (flags & OFPMF.PKTPS) !== 0) {
      throw new OfpError("OFPMMFC_BAD_FLAGS", "meter with both kbps and pktps", { offset: 10 });
    }
  }
  const bands = decodeMeterBands(r);
  if (strict && command !== OFPMC.DELETE) {
    for (const b of bands) {
      if (b.kind === "experimenter") {
        throw new OfpError("OFPMMFC_BAD_BAND", "experimenter meter band");
      }
    }
  }
  return { type: "meter_mod", xid, command, flags, meterId, bands };
}

export function encodeMeterMod(w: Writer, m: MeterModMessage): void {
  w.u16(m.command).u16(m.flags).u32(m.meterId);
  for (const b of m.bands) encodeMeterBand(w, b);
}
