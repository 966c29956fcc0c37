/**
 * Connection tracking: NXAST_CT (35) with its nested actions, and NXAST_NAT
 * (36), which only appears inside ct. The OVS firewall driver uses e.g.
 * `ct(commit,zone=NXM_NX_REG6[0..15],table=72,exec(set_field:1->ct_mark))`.
 *
 * Layouts and checks from OVS `lib/ofp-actions.c` (`struct nx_action_conntrack`,
 * `struct nx_action_nat`, `decode_NXAST_RAW_CT`, `decode_NXAST_RAW_NAT`).
 */
import { getU16, getU32 } from "../bytes.js";
import { OfpError } from "../errors.js";
import type { Writer } from "../writer.js";
import type { Action, ActionDecodeContext, ActionNesting } from "../actions.js";
import { NXAST, beginNx } from "./constants.js";
import {
  checkSubField,
  decodeNbits,
  decodeOfs,
  encodeOfsNbits,
  fieldFrom32,
  fieldHeader32,
  type SubField,
} from "./subfield.js";

export const NX_CT_FLAGS = { COMMIT: 1 << 0, FORCE: 1 << 1 } as const;
/** recirc_table value meaning "do not recirculate". */
export const NX_CT_RECIRC_NONE = 0xff;
const CT_HEADER_SIZE = 24;

export interface CtAction {
  readonly type: "ct";
  readonly flags: number;
  /** Zone from a field (`zone=NXM_NX_REG6[0..15]`, always 16 bits), or undefined for an immediate. */
  readonly zoneSrc: SubField | undefined;
  /** Immediate zone (ignored, written as ofs_nbits, when zoneSrc is set). */
  readonly zone: number;
  readonly recircTable: number;
  readonly alg: number;
  readonly actions: readonly Action[];
}

export const NX_NAT_FLAGS = {
  SRC: 1 << 0,
  DST: 1 << 1,
  PERSISTENT: 1 << 2,
  PROTO_HASH: 1 << 3,
  PROTO_RANDOM: 1 << 4,
} as const;
const NX_NAT_FLAGS_MASK = 0x1f;

const NX_NAT_RANGE = {
  IPV4_MIN: 1 << 0,
  IPV4_MAX: 1 << 1,
  IPV6_MIN: 1 << 2,
  IPV6_MAX: 1 << 3,
  PROTO_MIN: 1 << 4,
  PROTO_MAX: 1 << 5,
} as const;

export interface NatAction {
  readonly type: "nat";
  readonly flags: number;
  /** 4 bytes (IPv4) or 16 (IPv6); undefined when no address range. */
  readonly ipMin: Uint8Array | undefined;
  readonly ipMax: Uint8Array | undefined;
  readonly protoMin: number | undefined;
  readonly protoMax: number | undefined;
}

type NestedDecoder = (
  buf: Uint8Array,
  start: number,
  end: number,
  ctx: ActionDecodeContext,
  depth: number,
  nesting: ActionNesting,
) => Action[];

type NestedEncoder = (w: Writer, actions: readonly Action[]) => void;

function badArg(message: string, offset: number): OfpError {
  return new OfpError("OFPBAC_BAD_ARGUMENT", message, { offset });
}

/**
 * struct nx_action_conntrack (24): flags, zone_src(32), zone_ofs_nbits|zone_imm,
 * recirc_table, pad[3], alg; then nested actions. FORCE without COMMIT, or
 * nested actions other than argument-less NAT without COMMIT →
 * OFPBAC_BAD_ARGUMENT; a zone field not exactly 16 bits → OFPBAC_BAD_SET_LEN.
 */
export function decodeCt(
  buf: Uint8Array,
  at: number,
  len: number,
  ctx: ActionDecodeContext,
  depth: number,
  decodeNested: NestedDecoder,
): CtAction {
  const flags = getU16(buf, at + 10);
  if (ctx.checks && (flags & NX_CT_FLAGS.FORCE) !== 0 && (flags & NX_CT_FLAGS.COMMIT) === 0) {
    throw badArg("ct(force) requires commit", at);
  }
  const zoneHeader = getU32(buf, at + 12);
  const zoneWord = getU16(buf, at + 16);
  let zoneSrc: SubField | undefined;
  let zone = zoneWord;
  if (zoneHeader !== 0) {
    const field = fieldFrom32(zoneHeader, at);
    zoneSrc = { field, ofs: decodeOfs(zoneWord), nBits: decodeNbits(zoneWord) };
    checkSubField(zoneSrc, "src", at);
    // OVS 3.1 takes the zone from exactly 16 bits; older ovs-ofctl wrote other
    // widths (Ryu's `ovs-ofctl-of13-action_ct` vector), kept by structural decode.
    if (ctx.checks && zoneSrc.nBits !== 16) {
      throw new OfpError("OFPBAC_BAD_SET_LEN", `ct zone of ${zoneSrc.nBits} bits`, {
        offset: at,
      });
    }
    zone = 0;
  }
  const recircTable = buf[at + 18]!;
  const alg = getU16(buf, at + 22);
  const actions = decodeNested(buf, at + CT_HEADER_SIZE, at + len, ctx, depth + 1, "ct");
  if (ctx.checks && actions.length > 0 && (flags & NX_CT_FLAGS.COMMIT) === 0) {
    for (const a of actions) {
      if (a.type !== "nat" || a.flags !== 0 || a.ipMin !== undefined) {
        throw badArg("ct actions other than plain nat require commit", at);
      }
    }
  }
  return { type: "ct", flags, zoneSrc, zone, recircTable, alg, actions };
}

export function encodeCt(w: Writer, a: CtAction, encodeNested: NestedEncoder): void {
  const tok = beginNx(w, NXAST.CT);
  w.u16(a.flags);
  if (a.zoneSrc !== undefined) {
    w.u32(fieldHeader32(a.zoneSrc.field)).u16(encodeOfsNbits(a.zoneSrc.ofs, a.zoneSrc.nBits));
  } else {
    w.u32(0).u16(a.zone);
  }
  w.u8(a.recircTable).zeros(3).u16(a.alg);
  encodeNested(w, a.actions);
  w.endLengthAt(tok, 2, "included");
}

/**
 * struct nx_action_nat (16): pad[2], flags, range_present, then the present
 * options in order (ipv4/ipv6 min, max, proto min, max). Bad or inconsistent
 * flags/ranges → OFPBAC_BAD_ARGUMENT, as OVS `decode_NXAST_RAW_NAT`.
 */
export function decodeNat(buf: Uint8Array, at: number, len: number): NatAction {
  const flags = getU16(buf, at + 12);
  const present = getU16(buf, at + 14);
  if (
    (flags & ~NX_NAT_FLAGS_MASK) !== 0 ||
    ((flags & NX_NAT_FLAGS.SRC) !== 0 && (flags & NX_NAT_FLAGS.DST) !== 0) ||
    ((flags & NX_NAT_FLAGS.PROTO_HASH) !== 0 && (flags & NX_NAT_FLAGS.PROTO_RANDOM) !== 0)
  ) {
    throw badArg(`nat flags 0x${flags.toString(16)}`, at);
  }
  const end = at + len;
  let p = at + 16;
  const take = (size: number): Uint8Array => {
    if (end - p < size) throw badArg("nat option overruns the action", at);
    const out = buf.slice(p, p + size);
    p += size;
    return out;
  };
  let ipMin: Uint8Array | undefined;
  let ipMax: Uint8Array | undefined;
  const R = NX_NAT_RANGE;
  if (present & R.IPV4_MIN) {
    if (present & (R.IPV6_MIN | R.IPV6_MAX)) throw badArg("nat with both IPv4 and IPv6", at);
    ipMin = take(4);
    if (ipMin.every((b) => b === 0)) throw badArg("nat IPv4 min is 0.0.0.0", at);
    if (present & R.IPV4_MAX) {
      ipMax = take(4);
      if (compareBytes(ipMax, ipMin) < 0) throw badArg("nat IPv4 max < min", at);
    }
  } else if (present & R.IPV4_MAX) {
    throw badArg("nat IPv4 max without min", at);
  } else if (present & R.IPV6_MIN) {
    ipMin = take(16);
    if (ipMin.every((b) => b === 0)) throw badArg("nat IPv6 min is ::", at);
    if (present & R.IPV6_MAX) {
      ipMax = take(16);
      if (compareBytes(ipMax, ipMin) < 0) throw badArg("nat IPv6 max < min", at);
    }
  } else if (present & R.IPV6_MAX) {
    throw badArg("nat IPv6 max without min", at);
  }
  let protoMin: number | undefined;
  let protoMax: number | undefined;
  if (present & R.PROTO_MIN) {
    if (ipMin === undefined) throw badArg("nat port range without address range", at);
    const v = take(2);
    protoMin = (v[0]! << 8) | v[1]!;
    if (protoMin === 0) throw badArg("nat port min is 0", at);
    if (present & R.PROTO_MAX) {
      const m = take(2);
      protoMax = (m[0]! << 8) | m[1]!;
      if (protoMax < protoMin) throw badArg("nat port max < min", at);
    }
  } else if (present & R.PROTO_MAX) {
    throw badArg("nat port max without min", at);
  }
  return { type: "nat", flags, ipMin, ipMax, protoMin, protoMax };
}

export function encodeNat(w: Writer, a: NatAction): void {
  const tok = beginNx(w, NXAST.NAT);
  const v6 = a.ipMin !== undefined && a.ipMin.length === 16;
  let present = 0;
  if (a.ipMin !== undefined) present |= v6 ? NX_NAT_RANGE.IPV6_MIN : NX_NAT_RANGE.IPV4_MIN;
  if (a.ipMax !== undefined) present |= v6 ? NX_NAT_RANGE.IPV6_MAX : NX_NAT_RANGE.IPV4_MAX;
  if (a.protoMin !== undefined) present |= NX_NAT_RANGE.PROTO_MIN;
  if (a.protoMax !== undefined) present |= NX_NAT_RANGE.PROTO_MAX;
  w.u16(0).u16(a.flags).u16(present);
  if (a.ipMin !== undefined) w.bytes(a.ipMin);
  if (a.ipMax !== undefined) w.bytes(a.ipMax);
  if (a.protoMin !== undefined) w.u16(a.protoMin);
  if (a.protoMax !== undefined) w.u16(a.protoMax);
  w.endLengthAt(tok, 2, "included");
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}
