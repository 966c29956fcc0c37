/**
 * parseFrame: Ethernet frame → {@link FlowKey}, with OVS flow-extraction semantics.
 *
 * Follows Open vSwitch `miniflow_extract()` (lib/flow.c) field for field, so a
 * key built here classifies a packet the way OVS would:
 *  - A frame shorter than 14 bytes yields an all-zero packet section.
 *  - 802.1Q/802.1ad tags (TPID 0x8100 or 0x88a8) are consumed up to `vlanLimit`
 *    (ovs-vswitchd's `other_config:vlan-limit`, default 1). The outermost tag is
 *    OVS `vlan_tci` with the CFI bit (0x1000) set to mean "present", which is the
 *    OF1.3 `vlan_vid`/`OFPVID_PRESENT` encoding. A tag beyond the limit is payload,
 *    so a QinQ frame under limit 1 has eth_type 0x8100. A tag needs 6 bytes (tag +
 *    next type) left or it is not consumed.
 *  - EtherType < 0x600 is an 802.3 length: an LLC/SNAP header (AA AA 03 00 00 00)
 *    supplies the type, anything else gives `ETH_TYPE.NONE` (0x05ff).
 *  - IPv4 needs 20 bytes, IHL ≥ 5, the IHL bytes present, IHL*4 ≤ total length ≤
 *    bytes present; otherwise every L3/L4 field stays 0 (only eth_type is set).
 *    The version nibble is not checked (neither does OVS). Ethernet padding after
 *    total length is never parsed (`l2PadSize`).
 *  - IPv6 needs 40 bytes and payload length ≤ bytes present. Hop-by-hop,
 *    routing, destination options, AH and fragment headers are walked (each must
 *    have 8 bytes and its full length present, else only the addresses are kept).
 *  - Fragments: `NW_FRAG.ANY` for every fragment, plus `NW_FRAG.LATER` when the
 *    offset is nonzero; later fragments have no L4 fields (and IPv6 ones report
 *    nw_proto 44, as OVS does).
 *  - L4 fields are filled only when the whole L4 header is present: TCP 20 bytes
 *    and its data offset ≥ 5 and within the datagram; UDP 8; SCTP 12; ICMP 8;
 *    ICMPv6 8; IGMP 8 (type/code go to tp_src/tp_dst, as in OVS). Otherwise
 *    they stay 0.
 *  - ARP/RARP fields only for Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6,
 *    plen 4) with all 28 bytes present; an opcode above 0xff leaves arp_op 0.
 *  - ND (ICMPv6 code 0, type 135/136): target, then 8-byte SLL/TLL options. An
 *    option of length 0 or running past the datagram stops option parsing (what
 *    was read is kept). A second SLL (or TLL) when one is already nonzero makes
 *    the packet invalid: target, SLL and TLL are zeroed (nd_options_type is kept,
 *    exactly as OVS `parse_icmpv6()` behaves).
 *
 * Never throws for any input bytes: the status says how far parsing got, and the
 * key holds what was parsed up to there. No allocation per call.
 */
import { FK, macHi, macLo } from "./flow-key.js";
import type { FlowKey } from "./flow-key.js";
import {
  ARP,
  ETH_TYPE,
  HDR,
  ICMPV6_TYPE,
  IP_PROTO,
  IPV4_FRAG,
  ND_OPT,
  NW_FRAG,
  VLAN,
} from "./constants.js";

/** How far `parseFrame` got. Numeric so that it can index a counter array. */
export const PARSE_STATUS = {
  OK: 0,
  /** Frame shorter than an Ethernet header: nothing was parsed. */
  ETH_TRUNCATED: 1,
  /** A VLAN TPID with fewer than 6 bytes after it: the tag was left unparsed (eth_type = TPID). */
  VLAN_TRUNCATED: 2,
  /** Fewer than 20 bytes, or fewer than IHL*4 bytes, of IPv4 header. */
  IPV4_TRUNCATED: 3,
  /** IHL < 5, or total length < header length, or total length > bytes present. */
  IPV4_BAD_LENGTH: 4,
  /** Fewer than 40 bytes of IPv6 header. */
  IPV6_TRUNCATED: 5,
  /** Payload length > bytes present. */
  IPV6_BAD_LENGTH: 6,
  /** An IPv6 extension header runs past the datagram (only the addresses were kept). */
  IPV6_EXT_TRUNCATED: 7,
  /** ARP/RARP with fewer than 28 bytes. */
  ARP_TRUNCATED: 8,
  /** L4 header shorter than its fixed part, or TCP data offset < 5 or past the datagram. */
  L4_TRUNCATED: 9,
  /** ND target missing, or an ND option with length 0 or running past the datagram. */
  ND_TRUNCATED: 10,
  /** Duplicate ND source/target link-layer option: ND fields zeroed. */
  ND_BAD_OPTION: 11,
} as const;
export type ParseStatus = (typeof PARSE_STATUS)[keyof typeof PARSE_STATUS];
export const PARSE_STATUS_COUNT = 12;

/** Status names by number, for logs and counters (`PARSE_STATUS_NAME[s]`). */
export const PARSE_STATUS_NAME: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, v] of Object.entries(PARSE_STATUS)) names[v] = name.toLowerCase();
  return names;
})();

/** Per-status counts, like OVS's `miniflow_extract_*` coverage counters. */
export class ParseCounters {
  /** Indexed by {@link ParseStatus}. */
  readonly counts = new Float64Array(PARSE_STATUS_COUNT);
  total(): number {
    let t = 0;
    for (let i = 0; i < PARSE_STATUS_COUNT; i++) t += this.counts[i]!;
    return t;
  }
  reset(): void {
    this.counts.fill(0);
  }
}

export interface ParseOptions {
  /**
   * How many VLAN tags to parse: 1 (ovs-vswitchd's default `vlan-limit`) or 2
   * (the datapath maximum; 0 means the same, as in OVS). Default 1.
   */
  readonly vlanLimit?: number;
  /** Counted into when given. */
  readonly counters?: ParseCounters | undefined;
}

/** The default options object (create your own once and reuse it; do not build one per packet). */
export const DEFAULT_PARSE_OPTIONS: ParseOptions = Object.freeze({ vlanLimit: 1 });

function rd16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function rd32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Parses `frame` (starting at index 0 of the view) into the packet section of
 * `key`; the key's metadata section is left as the caller set it.
 */
export function parseFrame(
  frame: Uint8Array,
  key: FlowKey,
  options: ParseOptions = DEFAULT_PARSE_OPTIONS,
): ParseStatus {
  const limit = options.vlanLimit === 1 || options.vlanLimit === undefined ? 1 : 2;
  const status = extract(frame, key, limit);
  const counters = options.counters;
  if (counters !== undefined) counters.counts[status]!++;
  return status;
}

function extract(b: Uint8Array, key: FlowKey, vlanLimit: number): ParseStatus {
  key.resetPacket();
  const w = key.w;
  const size = b.length;
  if (size < HDR.ETH) return PARSE_STATUS.ETH_TRUNCATED;

  w[FK.ETH_DST_HI] = macHi(b, 0);
  w[FK.ETH_DST_LO] = macLo(b, 0);
  w[FK.ETH_SRC_HI] = macHi(b, 6);
  w[FK.ETH_SRC_LO] = macLo(b, 6);

  // VLAN tags (OVS parse_vlan): each needs the 4-byte tag plus the next type.
  let p = 12;
  let t = rd16(b, p);
  let status: ParseStatus = PARSE_STATUS.OK;
  for (let n = 0; n < vlanLimit && (t === ETH_TYPE.VLAN || t === ETH_TYPE.VLAN_8021AD); n++) {
    if (size - p < HDR.VLAN_TAG + 2) {
      status = PARSE_STATUS.VLAN_TRUNCATED;
      break;
    }
    const tci = rd16(b, p + 2) | VLAN.CFI;
    if (n === 0) {
      w[FK.VLAN_TPID] = t;
      w[FK.VLAN_TCI] = tci;
      key.vlanOfs = p;
    } else {
      w[FK.VLAN_TPID2] = t;
      w[FK.VLAN_TCI2] = tci;
    }
    p += HDR.VLAN_TAG;
    t = rd16(b, p);
  }

  // EtherType, or 802.3 length + LLC/SNAP (OVS parse_ethertype).
  p += 2;
  let dlType: number = t;
  if (t < ETH_TYPE.MIN) {
    dlType = ETH_TYPE.NONE;
    if (
      size - p >= HDR.LLC_SNAP &&
      b[p] === 0xaa &&
      b[p + 1] === 0xaa &&
      b[p + 2] === 0x03 &&
      b[p + 3] === 0 &&
      b[p + 4] === 0 &&
      b[p + 5] === 0
    ) {
      const snapType = rd16(b, p + 6);
      p += HDR.LLC_SNAP;
      if (snapType >= ETH_TYPE.MIN) dlType = snapType;
    }
  }
  w[FK.ETH_TYPE] = dlType;
  key.l3Ofs = p;

  let end: number;
  let proto: number;
  let frag = 0;
  if (dlType === ETH_TYPE.IPV4) {
    const rem = size - p;
    if (rem < HDR.IPV4_MIN) return PARSE_STATUS.IPV4_TRUNCATED;
    const ihl = (b[p]! & 0x0f) * 4;
    if (ihl < HDR.IPV4_MIN) return PARSE_STATUS.IPV4_BAD_LENGTH;
    if (rem < ihl) return PARSE_STATUS.IPV4_TRUNCATED;
    const totLen = rd16(b, p + 2);
    if (totLen > rem || ihl > totLen || rem - totLen > 0xffff) {
      return PARSE_STATUS.IPV4_BAD_LENGTH;
    }
    end = p + totLen;
    key.l3End = end;
    key.l2PadSize = rem - totLen;
    w[FK.NW_SRC] = rd32(b, p + 12);
    w[FK.NW_DST] = rd32(b, p + 16);
    w[FK.NW_TOS] = b[p + 1]!;
    w[FK.NW_TTL] = b[p + 8]!;
    proto = b[p + 9]!;
    w[FK.NW_PROTO] = proto;
    const fragOff = rd16(b, p + 6);
    if ((fragOff & (IPV4_FRAG.MF | IPV4_FRAG.OFFSET_MASK)) !== 0) {
      frag = NW_FRAG.ANY;
      if ((fragOff & IPV4_FRAG.OFFSET_MASK) !== 0) frag |= NW_FRAG.LATER;
      w[FK.NW_FRAG] = frag;
    }
    p += ihl;
  } else if (dlType === ETH_TYPE.IPV6) {
    const rem = size - p;
    if (rem < HDR.IPV6) return PARSE_STATUS.IPV6_TRUNCATED;
    const plen = rd16(b, p + 4);
    if (plen + HDR.IPV6 > rem || rem - (plen + HDR.IPV6) > 0xffff) {
      return PARSE_STATUS.IPV6_BAD_LENGTH;
    }
    for (let i = 0; i < 4; i++) {
      w[FK.IPV6_SRC0 + i] = rd32(b, p + 8 + 4 * i);
      w[FK.IPV6_DST0 + i] = rd32(b, p + 24 + 4 * i);
    }
    end = p + HDR.IPV6 + plen;
    key.l3End = end;
    key.l2PadSize = rem - HDR.IPV6 - plen;
    const tcFlow = rd32(b, p);
    const ttl = b[p + 7]!;
    proto = b[p + 6]!;
    p += HDR.IPV6;

    // Extension headers (OVS parse_ipv6_ext_hdrs__). Every iteration consumes ≥ 8 bytes.
    for (;;) {
      if (
        proto !== IP_PROTO.HOPOPTS &&
        proto !== IP_PROTO.ROUTING &&
        proto !== IP_PROTO.DSTOPTS &&
        proto !== IP_PROTO.AH &&
        proto !== IP_PROTO.FRAGMENT
      ) {
        break;
      }
      if (end - p < HDR.IPV6_EXT_MIN) return PARSE_STATUS.IPV6_EXT_TRUNCATED;
      if (proto === IP_PROTO.FRAGMENT) {
        const offlg = rd16(b, p + 2);
        proto = b[p]!;
        p += HDR.IPV6_FRAG;
        if (offlg !== 0) {
          frag = NW_FRAG.ANY;
          // RFC 8200 §4.5: the offset is the top 13 bits (mask 0xfff8).
          if ((offlg & 0xfff8) !== 0) {
            frag |= NW_FRAG.LATER;
            proto = IP_PROTO.FRAGMENT;
            break;
          }
        }
      } else {
        // AH counts its length in 4-byte units minus 2 (RFC 4302 §2.2); the others in 8-byte units minus 1.
        const len = proto === IP_PROTO.AH ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
        proto = b[p]!;
        if (end - p < len) return PARSE_STATUS.IPV6_EXT_TRUNCATED;
        p += len;
      }
    }
    w[FK.NW_TOS] = (tcFlow >>> 20) & 0xff;
    w[FK.NW_TTL] = ttl;
    w[FK.NW_PROTO] = proto;
    w[FK.NW_FRAG] = frag;
    w[FK.IPV6_LABEL] = tcFlow & 0xfffff;
  } else {
    if (dlType === ETH_TYPE.ARP || dlType === ETH_TYPE.RARP) {
      if (size - p < HDR.ARP_ETH_IPV4) return PARSE_STATUS.ARP_TRUNCATED;
      if (
        rd16(b, p) === ARP.HTYPE_ETHERNET &&
        rd16(b, p + 2) === ETH_TYPE.IPV4 &&
        b[p + 4] === 6 &&
        b[p + 5] === 4
      ) {
        const op = rd16(b, p + 6);
        // OVS keeps only opcodes that fit in 8 bits (they share nw_proto there).
        if (op <= 0xff) w[FK.ARP_OP] = op;
        w[FK.ARP_SHA_HI] = macHi(b, p + 8);
        w[FK.ARP_SHA_LO] = macLo(b, p + 8);
        w[FK.ARP_SPA] = rd32(b, p + 14);
        w[FK.ARP_THA_HI] = macHi(b, p + 18);
        w[FK.ARP_THA_LO] = macLo(b, p + 18);
        w[FK.ARP_TPA] = rd32(b, p + 24);
      }
    }
    return status;
  }

  key.l4Ofs = p;
  if ((frag & NW_FRAG.LATER) !== 0) return status;
  const rem = end - p;
  switch (proto) {
    case IP_PROTO.TCP: {
      if (rem < HDR.TCP_MIN) return PARSE_STATUS.L4_TRUNCATED;
      const ctl = rd16(b, p + 12);
      const hdrLen = (ctl >>> 12) * 4;
      if (hdrLen < HDR.TCP_MIN || rem < hdrLen) return PARSE_STATUS.L4_TRUNCATED;
      w[FK.TP_SRC] = rd16(b, p);
      w[FK.TP_DST] = rd16(b, p + 2);
      w[FK.TCP_FLAGS] = ctl & 0x0fff;
      key.l7Ofs = p + hdrLen;
      return status;
    }
    case IP_PROTO.UDP:
      if (rem < HDR.UDP) return PARSE_STATUS.L4_TRUNCATED;
      w[FK.TP_SRC] = rd16(b, p);
      w[FK.TP_DST] = rd16(b, p + 2);
      key.l7Ofs = p + HDR.UDP;
      return status;
    case IP_PROTO.SCTP:
      if (rem < HDR.SCTP) return PARSE_STATUS.L4_TRUNCATED;
      w[FK.TP_SRC] = rd16(b, p);
      w[FK.TP_DST] = rd16(b, p + 2);
      key.l7Ofs = p + HDR.SCTP;
      return status;
    case IP_PROTO.ICMP:
      // Like OVS, keyed on nw_proto alone: ICMP inside IPv6 is still extracted.
      if (rem < HDR.ICMP) return PARSE_STATUS.L4_TRUNCATED;
      w[FK.ICMP_TYPE] = b[p]!;
      w[FK.ICMP_CODE] = b[p + 1]!;
      key.l7Ofs = p + HDR.ICMP;
      return status;
    case IP_PROTO.IGMP:
      // OVS keeps the IGMP type/code in tp_src/tp_dst (there is no OpenFlow IGMP field).
      if (rem < HDR.IGMP) return PARSE_STATUS.L4_TRUNCATED;
      w[FK.TP_SRC] = b[p]!;
      w[FK.TP_DST] = b[p + 1]!;
      key.l7Ofs = p + HDR.IGMP;
      return status;
    case IP_PROTO.ICMPV6: {
      if (rem < HDR.ICMPV6) return PARSE_STATUS.L4_TRUNCATED;
      const type = b[p]!;
      const code = b[p + 1]!;
      w[FK.ICMP_TYPE] = type;
      w[FK.ICMP_CODE] = code;
      key.l7Ofs = p + HDR.ICMPV6;
      if (
        code === 0 &&
        (type === ICMPV6_TYPE.NEIGHBOR_SOLICIT || type === ICMPV6_TYPE.NEIGHBOR_ADVERT)
      ) {
        return parseNd(b, p, end, w, status);
      }
      return status;
    }
    default:
      return status;
  }
}

/** RFC 4861 §4.3/§4.4 NS/NA body at `p` (the ICMPv6 header), as OVS `parse_icmpv6()`. */
function parseNd(
  b: Uint8Array,
  p: number,
  end: number,
  w: Uint32Array,
  status: ParseStatus,
): ParseStatus {
  w[FK.ND_RESERVED] = rd32(b, p + 4);
  let q = p + HDR.ICMPV6;
  if (end - q < HDR.ND_TARGET) return PARSE_STATUS.ND_TRUNCATED;
  for (let i = 0; i < 4; i++) w[FK.ND_TARGET0 + i] = rd32(b, q + 4 * i);
  q += HDR.ND_TARGET;
  let optType = 0;
  while (end - q >= HDR.ND_LLA_OPT) {
    const type = b[q]!;
    const len = b[q + 1]! * 8;
    if (len === 0 || len > end - q) {
      status = PARSE_STATUS.ND_TRUNCATED;
      break;
    }
    if (
      len === HDR.ND_LLA_OPT &&
      (type === ND_OPT.SOURCE_LINKADDR || type === ND_OPT.TARGET_LINKADDR)
    ) {
      const hiWord = type === ND_OPT.SOURCE_LINKADDR ? FK.ND_SLL_HI : FK.ND_TLL_HI;
      // "It is considered an error if the same link layer option is specified
      // twice" (OVS): a second one when the first was nonzero invalidates ND.
      if (w[hiWord] !== 0 || w[hiWord + 1] !== 0) {
        w[FK.ND_OPTIONS_TYPE] = optType;
        for (let i = 0; i < 4; i++) w[FK.ND_TARGET0 + i] = 0;
        w[FK.ND_SLL_HI] = 0;
        w[FK.ND_SLL_LO] = 0;
        w[FK.ND_TLL_HI] = 0;
        w[FK.ND_TLL_LO] = 0;
        return PARSE_STATUS.ND_BAD_OPTION;
      }
      w[hiWord] = macHi(b, q + 2);
      w[hiWord + 1] = macLo(b, q + 2);
      if (optType === 0) optType = type;
    }
    q += len;
  }
  w[FK.ND_OPTIONS_TYPE] = optType;
  return status;
}
