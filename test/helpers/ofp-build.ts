/**
 * Raw OpenFlow 1.3 byte builders for hand-made test inputs.
 *
 * These deliberately do NOT use the codec: malformed cases and fuzz seeds must
 * be able to say things the encoder never would (a length of 0, a match type
 * of 2, an OXM whose length byte disagrees with its field). Every builder takes
 * explicit overrides for the length fields, and computes them correctly when
 * none is given. Layouts follow the OF1.3.5 spec structures cited per function.
 */
import { be, concat } from "./hex.js";

export const V13 = 0x04;

/** ofp_header + body. `length` overrides the header length field (default: actual size). */
export function msg(
  type: number,
  body: Uint8Array = new Uint8Array(0),
  opts: { length?: number; version?: number; xid?: number } = {},
): Uint8Array {
  const length = opts.length ?? 8 + body.length;
  return concat(
    new Uint8Array([opts.version ?? V13, type]),
    be(length, 2),
    be(opts.xid ?? 0, 4),
    body,
  );
}

/** Zero bytes. */
export function zeros(n: number): Uint8Array {
  return new Uint8Array(n);
}

/** Pads to a multiple of 8 with zeros. */
export function pad8(b: Uint8Array): Uint8Array {
  const rem = b.length % 8;
  return rem === 0 ? b : concat(b, zeros(8 - rem));
}

// ---------------------------------------------------------------- OXM / match

export const OXM_CLASS = {
  NXM0: 0x0000,
  NXM1: 0x0001,
  BASIC: 0x8000,
  EXPERIMENTER: 0xffff,
} as const;

/** One OXM TLV (OF1.3 §7.2.3.2): class(16) field(7) hasmask(1) length(8) payload. */
export function oxm(
  cls: number,
  field: number,
  value: Uint8Array,
  mask?: Uint8Array,
  opts: { length?: number; hasmask?: boolean; experimenter?: number } = {},
): Uint8Array {
  const exp = opts.experimenter === undefined ? new Uint8Array(0) : be(opts.experimenter, 4);
  const payload = concat(exp, value, mask ?? new Uint8Array(0));
  const hasmask = opts.hasmask ?? mask !== undefined;
  const length = opts.length ?? payload.length;
  return concat(
    be(cls, 2),
    new Uint8Array([(field << 1) | (hasmask ? 1 : 0), length & 0xff]),
    payload,
  );
}

/** OpenFlow-basic OXM with a big-endian integer value of `width` bytes. */
export function ofb(
  field: number,
  width: number,
  value: number | bigint,
  mask?: number | bigint,
): Uint8Array {
  return oxm(
    OXM_CLASS.BASIC,
    field,
    be(value, width),
    mask === undefined ? undefined : be(mask, width),
  );
}

/** OXM basic field numbers used by the cases (OF1.3 §7.2.3.7). */
export const OFB = {
  IN_PORT: 0,
  IN_PHY_PORT: 1,
  METADATA: 2,
  ETH_DST: 3,
  ETH_SRC: 4,
  ETH_TYPE: 5,
  VLAN_VID: 6,
  VLAN_PCP: 7,
  IP_DSCP: 8,
  IP_ECN: 9,
  IP_PROTO: 10,
  IPV4_SRC: 11,
  IPV4_DST: 12,
  TCP_SRC: 13,
  TCP_DST: 14,
  UDP_SRC: 15,
  UDP_DST: 16,
  SCTP_SRC: 17,
  SCTP_DST: 18,
  ICMPV4_TYPE: 19,
  ICMPV4_CODE: 20,
  ARP_OP: 21,
  ARP_SPA: 22,
  ARP_TPA: 23,
  ARP_SHA: 24,
  ARP_THA: 25,
  IPV6_SRC: 26,
  IPV6_DST: 27,
  IPV6_FLABEL: 28,
  ICMPV6_TYPE: 29,
  ICMPV6_CODE: 30,
  IPV6_ND_TARGET: 31,
  IPV6_ND_SLL: 32,
  IPV6_ND_TLL: 33,
  MPLS_LABEL: 34,
  MPLS_TC: 35,
  MPLS_BOS: 36,
  PBB_ISID: 37,
  TUNNEL_ID: 38,
  IPV6_EXTHDR: 39,
} as const;

/** Common prerequisite TLVs. */
export const ETH_TYPE_IPV4 = ofb(OFB.ETH_TYPE, 2, 0x0800);
export const ETH_TYPE_ARP = ofb(OFB.ETH_TYPE, 2, 0x0806);
export const ETH_TYPE_IPV6 = ofb(OFB.ETH_TYPE, 2, 0x86dd);
export const ETH_TYPE_MPLS = ofb(OFB.ETH_TYPE, 2, 0x8847);
export const IP_PROTO_TCP = ofb(OFB.IP_PROTO, 1, 6);
export const IP_PROTO_UDP = ofb(OFB.IP_PROTO, 1, 17);
export const IP_PROTO_ICMPV6 = ofb(OFB.IP_PROTO, 1, 58);

/**
 * ofp_match (OF1.3 §7.2.3.1): type, length (header + TLVs, excluding pad),
 * TLVs, zero pad to 8. `length`/`type` override the fields; `pad` overrides the pad size.
 */
export function match(
  tlvs: readonly Uint8Array[] = [],
  opts: { type?: number; length?: number; pad?: number } = {},
): Uint8Array {
  const body = concat(...tlvs);
  const length = opts.length ?? 4 + body.length;
  const natural = (8 - ((4 + body.length) % 8)) % 8;
  return concat(be(opts.type ?? 1, 2), be(length, 2), body, zeros(opts.pad ?? natural));
}

// ---------------------------------------------------------------- actions

export const OFPAT = {
  OUTPUT: 0,
  COPY_TTL_OUT: 11,
  COPY_TTL_IN: 12,
  SET_MPLS_TTL: 15,
  DEC_MPLS_TTL: 16,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  PUSH_MPLS: 19,
  POP_MPLS: 20,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  PUSH_PBB: 26,
  POP_PBB: 27,
  EXPERIMENTER: 0xffff,
} as const;

/** Generic action: type, len (default: 4 + body), body (not padded unless the caller pads). */
export function action(type: number, body: Uint8Array, opts: { length?: number } = {}): Uint8Array {
  return concat(be(type, 2), be(opts.length ?? 4 + body.length, 2), body);
}

/** OFPAT_OUTPUT (16 bytes): port, max_len, pad 6. */
export function output(port: number, maxLen = 0, opts: { length?: number } = {}): Uint8Array {
  return action(OFPAT.OUTPUT, concat(be(port, 4), be(maxLen, 2), zeros(6)), opts);
}

/** OFPAT_SET_FIELD: the OXM TLV then zero pad so the action is a multiple of 8. */
export function setField(
  tlv: Uint8Array,
  opts: { length?: number; pad?: number } = {},
): Uint8Array {
  const natural = (8 - ((4 + tlv.length) % 8)) % 8;
  return action(OFPAT.SET_FIELD, concat(tlv, zeros(opts.pad ?? natural)), opts);
}

/** 8-byte actions carrying a 16-bit argument then pad 2 (push_vlan/push_mpls/pop_mpls/push_pbb). */
export function action16(type: number, arg: number): Uint8Array {
  return action(type, concat(be(arg, 2), zeros(2)));
}

/** 8-byte actions with only pad (copy_ttl_*, dec_*, pop_vlan, pop_pbb). */
export function action0(type: number): Uint8Array {
  return action(type, zeros(4));
}

export const NX_VENDOR = 0x00002320;
export const ONF_VENDOR = 0x4f4e4600;

/** Experimenter action: type 0xffff, len, experimenter id, body. */
export function experimenterAction(
  experimenter: number,
  body: Uint8Array,
  opts: { length?: number } = {},
): Uint8Array {
  return action(OFPAT.EXPERIMENTER, concat(be(experimenter, 4), body), opts);
}

/** Nicira action: experimenter 0x2320, subtype (16 bits), body. */
export function nxAction(
  subtype: number,
  body: Uint8Array,
  opts: { length?: number } = {},
): Uint8Array {
  return experimenterAction(NX_VENDOR, concat(be(subtype, 2), body), opts);
}

/** NXAST_RESUBMIT_TABLE (subtype 14, 16 bytes): in_port u16, table u8, pad 3. */
export function nxResubmitTable(inPort: number, table: number): Uint8Array {
  return nxAction(14, concat(be(inPort, 2), new Uint8Array([table]), zeros(3)));
}

/** NXAST_REG_LOAD (subtype 7, 24 bytes): ofs_nbits, dst header, value u64. */
export function nxRegLoad(
  ofs: number,
  nBits: number,
  dstHeader: number,
  value: bigint,
): Uint8Array {
  return nxAction(7, concat(be((ofs << 6) | (nBits - 1), 2), be(dstHeader, 4), be(value, 8)));
}

/** NXAST_REG_MOVE (subtype 6, 24 bytes): n_bits, src_ofs, dst_ofs, src, dst headers. */
export function nxRegMove(
  nBits: number,
  srcOfs: number,
  dstOfs: number,
  src: number,
  dst: number,
): Uint8Array {
  return nxAction(6, concat(be(nBits, 2), be(srcOfs, 2), be(dstOfs, 2), be(src, 4), be(dst, 4)));
}

// ---------------------------------------------------------------- instructions

export const OFPIT = {
  GOTO_TABLE: 1,
  WRITE_METADATA: 2,
  WRITE_ACTIONS: 3,
  APPLY_ACTIONS: 4,
  CLEAR_ACTIONS: 5,
  METER: 6,
  EXPERIMENTER: 0xffff,
} as const;

/** Generic instruction: type, len (default: 4 + body), body. */
export function instruction(
  type: number,
  body: Uint8Array,
  opts: { length?: number } = {},
): Uint8Array {
  return concat(be(type, 2), be(opts.length ?? 4 + body.length, 2), body);
}

export function gotoTable(table: number, opts: { length?: number } = {}): Uint8Array {
  return instruction(OFPIT.GOTO_TABLE, concat(new Uint8Array([table]), zeros(3)), opts);
}

export function writeMetadata(
  metadata: bigint,
  mask: bigint,
  opts: { length?: number } = {},
): Uint8Array {
  return instruction(OFPIT.WRITE_METADATA, concat(zeros(4), be(metadata, 8), be(mask, 8)), opts);
}

/** apply/write actions: type, len, pad 4, actions. */
export function actionsInstruction(
  type: number,
  actions: readonly Uint8Array[],
  opts: { length?: number } = {},
): Uint8Array {
  return instruction(type, concat(zeros(4), ...actions), opts);
}

export function applyActions(
  actions: readonly Uint8Array[],
  opts: { length?: number } = {},
): Uint8Array {
  return actionsInstruction(OFPIT.APPLY_ACTIONS, actions, opts);
}

export function writeActions(
  actions: readonly Uint8Array[],
  opts: { length?: number } = {},
): Uint8Array {
  return actionsInstruction(OFPIT.WRITE_ACTIONS, actions, opts);
}

export function clearActions(opts: { length?: number } = {}): Uint8Array {
  return instruction(OFPIT.CLEAR_ACTIONS, zeros(4), opts);
}

export function meterInstruction(meterId: number, opts: { length?: number } = {}): Uint8Array {
  return instruction(OFPIT.METER, be(meterId, 4), opts);
}

// ---------------------------------------------------------------- messages

export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  QUEUE_GET_CONFIG_REPLY: 23,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
  SET_ASYNC: 28,
  METER_MOD: 29,
} as const;

export const OFPP = {
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

export interface FlowModFields {
  cookie?: bigint;
  cookieMask?: bigint;
  tableId?: number;
  command?: number;
  idleTimeout?: number;
  hardTimeout?: number;
  priority?: number;
  bufferId?: number;
  outPort?: number;
  outGroup?: number;
  flags?: number;
  /** Raw ofp_match bytes (default: empty match). */
  match?: Uint8Array;
  instructions?: readonly Uint8Array[];
  /** Overrides the header length. */
  length?: number;
}

/** OFPT_FLOW_MOD (OF1.3 §7.3.4.1): 40 bytes of fields, ofp_match, instructions. */
export function flowMod(f: FlowModFields = {}): Uint8Array {
  const body = concat(
    be(f.cookie ?? 0n, 8),
    be(f.cookieMask ?? 0n, 8),
    new Uint8Array([f.tableId ?? 0, f.command ?? 0]),
    be(f.idleTimeout ?? 0, 2),
    be(f.hardTimeout ?? 0, 2),
    be(f.priority ?? 0x8000, 2),
    be(f.bufferId ?? 0xffffffff, 4),
    be(f.outPort ?? OFPP.ANY, 4),
    be(f.outGroup ?? 0xffffffff, 4),
    be(f.flags ?? 0, 2),
    zeros(2),
    f.match ?? match(),
    ...(f.instructions ?? []),
  );
  return msg(OFPT.FLOW_MOD, body, f.length === undefined ? {} : { length: f.length });
}

/** A FLOW_MOD whose only instruction applies `actions` (the usual action-case carrier). */
export function flowModApplying(
  actions: readonly Uint8Array[],
  matchTlvs: readonly Uint8Array[] = [],
): Uint8Array {
  return flowMod({ match: match(matchTlvs), instructions: [applyActions(actions)] });
}

/** OFPT_PACKET_OUT (OF1.3 §7.3.7): buffer_id, in_port, actions_len, pad 6, actions, data. */
export function packetOut(
  actions: readonly Uint8Array[],
  data: Uint8Array = new Uint8Array(0),
  opts: { actionsLen?: number; bufferId?: number; inPort?: number } = {},
): Uint8Array {
  const acts = concat(...actions);
  return msg(
    OFPT.PACKET_OUT,
    concat(
      be(opts.bufferId ?? 0xffffffff, 4),
      be(opts.inPort ?? OFPP.CONTROLLER, 4),
      be(opts.actionsLen ?? acts.length, 2),
      zeros(6),
      acts,
      data,
    ),
  );
}

/** Multipart request/reply header (16 bytes incl. ofp_header): type, flags, pad 4, body. */
export function multipart(
  request: boolean,
  mpType: number,
  body: Uint8Array = new Uint8Array(0),
  flags = 0,
): Uint8Array {
  return msg(
    request ? OFPT.MULTIPART_REQUEST : OFPT.MULTIPART_REPLY,
    concat(be(mpType, 2), be(flags, 2), zeros(4), body),
  );
}

export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  AGGREGATE: 2,
  TABLE: 3,
  PORT_STATS: 4,
  QUEUE: 5,
  GROUP: 6,
  GROUP_DESC: 7,
  GROUP_FEATURES: 8,
  METER: 9,
  METER_CONFIG: 10,
  METER_FEATURES: 11,
  TABLE_FEATURES: 12,
  PORT_DESC: 13,
  EXPERIMENTER: 0xffff,
} as const;

/** ofp_flow_stats_request / aggregate request body (OF1.3 §7.3.5.2): 32 bytes + match. */
export function flowStatsRequestBody(m: Uint8Array = match(), tableId = 0xff): Uint8Array {
  return concat(
    new Uint8Array([tableId]),
    zeros(3),
    be(OFPP.ANY, 4),
    be(0xffffffff, 4),
    zeros(4),
    be(0n, 8),
    be(0n, 8),
    m,
  );
}

/** ofp_port (OF1.3 §7.2.1, 64 bytes). */
export function port(portNo = 1, name = "p1"): Uint8Array {
  const nameBytes = new Uint8Array(16);
  for (let i = 0; i < name.length && i < 15; i++) nameBytes[i] = name.charCodeAt(i);
  return concat(
    be(portNo, 4),
    zeros(4),
    new Uint8Array([2, 0, 0, 0, 0, 1]),
    zeros(2),
    nameBytes,
    zeros(32),
  );
}

/** Replaces `length` bytes... helper: returns a copy of `b` with a big-endian u16 written at `at`. */
export function withU16(b: Uint8Array, at: number, value: number): Uint8Array {
  const out = b.slice();
  out[at] = (value >> 8) & 0xff;
  out[at + 1] = value & 0xff;
  return out;
}

/** A copy of `b` with byte `at` set to `value`. */
export function withU8(b: Uint8Array, at: number, value: number): Uint8Array {
  const out = b.slice();
  out[at] = value & 0xff;
  return out;
}
