/**
 * The one-line packet description ovs-ofctl prints under PACKET_IN and
 * PACKET_OUT (OVS `ofp_packet_to_string`: `flow_extract`, then `flow_format`
 * with the wildcards `flow_wildcards_init_for_packet` sets, then the L4
 * checksum), e.g.
 * `icmp,vlan_tci=0x0000,dl_src=..,nw_ttl=255,nw_frag=no,icmp_type=8,icmp_code=0 icmp_csum:208`.
 *
 * A small, self-contained header walk (Ethernet, 802.1Q, ARP, IPv4, IPv6
 * without extension headers, TCP/UDP/SCTP/ICMP/ICMPv6 incl. ND): this is
 * display code, not the switch's parser.
 */
import { bytesToBigint, ones } from "./addr.js";
import {
  ETH_TYPE,
  IP_PROTO,
  ND,
  PT_NS_ETHERTYPE,
  emptyFlowMatch,
  type FlowMatch,
} from "./flow-match.js";

/** FLOW_MAX_MPLS_LABELS. */
const MAX_MPLS_LABELS = 3;
/** The bottom-of-stack bit of an MPLS label stack entry. */
const MPLS_BOS = 0x100n;
import { formatFlowMatch } from "./match-format.js";

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function big(b: Uint8Array, at: number, n: number): bigint {
  return bytesToBigint(b.subarray(at, at + n));
}

function set(m: FlowMatch, slot: keyof FlowMatch["value"], value: bigint, bits: number): void {
  m.value[slot] = value;
  m.mask[slot] = ones(bits);
}

/**
 * The flow OVS extracts from a packet of type `packetType` (OpenFlow packet
 * type, `namespace << 16 | type`; 0 = Ethernet), with "exact" masks on what
 * `flow_wildcards_init_for_packet` marks. A packet type in the Ethertype
 * namespace (`(1,0x800)`) starts at L3 and has no Ethernet fields; any other
 * non-Ethernet type is not parsed at all.
 */
export function packetFlow(
  input: Uint8Array,
  packetType = 0,
): { flow: FlowMatch; l4: number; l4Proto: number; size: number } {
  // Narrowed to the IP datagram once its length is known (OVS trims L2 padding).
  let frame = input;
  const m = emptyFlowMatch();
  let l4 = -1;
  let l4Proto = -1;
  let p = 0;
  let type: number;
  if (packetType !== 0) {
    set(m, "packet_type", BigInt(packetType), 32);
    if (packetType >>> 16 !== PT_NS_ETHERTYPE) return { flow: m, l4, l4Proto, size: frame.length };
    type = packetType & 0xffff;
    m.value.dl_type = BigInt(type);
  } else {
    if (frame.length < 14) {
      // flow_extract on a runt: the Ethernet fields are still "exact", all zero.
      for (const s of ["dl_dst", "dl_src"] as const) m.mask[s] = ones(48);
      m.mask.dl_type = 0xffffn;
      m.mask.vlan_tci = 0xffffn;
      return { flow: m, l4, l4Proto, size: frame.length };
    }
    set(m, "dl_dst", big(frame, 0, 6), 48);
    set(m, "dl_src", big(frame, 6, 6), 48);
    p = 12;
    type = u16(frame, p);
    m.mask.vlan_tci = 0xffffn;
    if ((type === 0x8100 || type === 0x88a8) && frame.length >= p + 6) {
      m.value.vlan_tci = BigInt(u16(frame, p + 2) | 0x1000);
      p += 4;
      type = u16(frame, p);
      // flow_wildcards_init_for_packet masks the next VLAN slot too (0 unless QinQ).
      m.meta.vlanTci1 = 0n;
      if ((type === 0x8100 || type === 0x88a8) && frame.length >= p + 6) {
        m.meta.vlanTci1 = BigInt(u16(frame, p + 2) | 0x1000);
        p += 4;
        type = u16(frame, p);
      }
    }
    p += 2;
    if (type < 0x600) type = 0x5ff;
    set(m, "dl_type", BigInt(type), 16);
  }
  if (type === ETH_TYPE.ARP || type === ETH_TYPE.RARP) {
    if (
      frame.length >= p + 28 &&
      u16(frame, p) === 1 &&
      u16(frame, p + 2) === 0x0800 &&
      frame[p + 4] === 6 &&
      frame[p + 5] === 4
    ) {
      set(m, "nw_proto", BigInt(u16(frame, p + 6) & 0xff), 8);
      set(m, "arp_sha", big(frame, p + 8, 6), 48);
      set(m, "nw_src", big(frame, p + 14, 4), 32);
      set(m, "arp_tha", big(frame, p + 18, 6), 48);
      set(m, "nw_dst", big(frame, p + 24, 4), 32);
    } else {
      for (const s of ["nw_proto", "nw_src", "nw_dst"] as const)
        m.mask[s] = ones(s === "nw_proto" ? 8 : 32);
      m.mask.arp_sha = ones(48);
      m.mask.arp_tha = ones(48);
    }
    return { flow: m, l4, l4Proto, size: frame.length };
  }
  if (type === ETH_TYPE.MPLS || type === ETH_TYPE.MPLS_MCAST) {
    // parse_mpls: up to FLOW_MAX_MPLS_LABELS label stack entries, to the
    // bottom of stack; the wildcards cover each one read (or zero) up to it.
    const lses: bigint[] = [];
    for (let i = 0; i < MAX_MPLS_LABELS; i++) {
      const lse = frame.length >= p + 4 * (i + 1) ? big(frame, p + 4 * i, 4) : 0n;
      lses.push(lse);
      if ((lse & MPLS_BOS) !== 0n) break;
    }
    set(m, "mpls_lse", lses[0]!, 32);
    if (lses.length > 1) m.meta.mplsLse = lses.slice(1);
    return { flow: m, l4, l4Proto, size: frame.length };
  }
  if (type === ETH_TYPE.IP || type === ETH_TYPE.IPV6) {
    // The IP fields are "exact" even when the header is too short to read.
    for (const s of ["nw_proto", "nw_tos", "nw_ttl"] as const) m.mask[s] = 0xffn;
    m.mask.nw_frag = 3n;
  }
  let proto = -1;
  let later = false;
  if (type === ETH_TYPE.IP) {
    m.mask.nw_src = ones(32);
    m.mask.nw_dst = ones(32);
    // ipv4_sanity_check: a whole header, IHL >= 5, total length within the data.
    const size = frame.length - p;
    const ihl = size >= 20 ? (frame[p]! & 0xf) * 4 : 0;
    const totLen = size >= 20 ? u16(frame, p + 2) : 0;
    if (size < 20 || ihl < 20 || size < ihl || totLen > size || ihl > totLen) {
      return { flow: m, l4, l4Proto, size: frame.length };
    }
    frame = frame.subarray(0, p + totLen);
    m.value.nw_src = big(frame, p + 12, 4);
    m.value.nw_dst = big(frame, p + 16, 4);
    set(m, "nw_tos", BigInt(frame[p + 1]!), 8);
    set(m, "nw_ttl", BigInt(frame[p + 8]!), 8);
    proto = frame[p + 9]!;
    set(m, "nw_proto", BigInt(proto), 8);
    const frag = u16(frame, p + 6);
    let nwFrag = 0;
    if ((frag & 0x3fff) !== 0) {
      nwFrag = 1;
      if ((frag & 0x1fff) !== 0) nwFrag |= 2;
    }
    set(m, "nw_frag", BigInt(nwFrag), 2);
    later = (nwFrag & 2) !== 0;
    p += ihl;
  } else if (type === ETH_TYPE.IPV6) {
    m.mask.ipv6_src = ones(128);
    m.mask.ipv6_dst = ones(128);
    m.mask.ipv6_label = 0xffffffffn;
    // ipv6_sanity_check: a whole header and the payload length within the data.
    if (frame.length < p + 40 || u16(frame, p + 4) + 40 > frame.length - p) {
      return { flow: m, l4, l4Proto, size: frame.length };
    }
    frame = frame.subarray(0, p + 40 + u16(frame, p + 4));
    const vtc =
      ((frame[p]! << 24) | (frame[p + 1]! << 16) | (frame[p + 2]! << 8) | frame[p + 3]!) >>> 0;
    m.value.ipv6_label = BigInt(vtc & 0xfffff);
    set(m, "nw_tos", BigInt((vtc >>> 20) & 0xff), 8);
    proto = frame[p + 6]!;
    set(m, "nw_proto", BigInt(proto), 8);
    set(m, "nw_ttl", BigInt(frame[p + 7]!), 8);
    m.value.ipv6_src = big(frame, p + 8, 16);
    m.value.ipv6_dst = big(frame, p + 24, 16);
    set(m, "nw_frag", 0n, 2);
    p += 40;
  } else {
    return { flow: m, l4, l4Proto, size: frame.length };
  }
  l4 = p;
  l4Proto = proto;
  // A later fragment has no L4 header fields, but OVS still points l4 at its payload.
  if (later) return { flow: m, l4, l4Proto, size: frame.length };
  if (proto === IP_PROTO.TCP || proto === IP_PROTO.UDP || proto === IP_PROTO.SCTP) {
    m.mask.tp_src = 0xffffn;
    m.mask.tp_dst = 0xffffn;
    if (proto === IP_PROTO.TCP) m.mask.tcp_flags = 0xffffn;
    // miniflow_extract: TCP needs a sane data offset, UDP/SCTP their fixed headers.
    const size = frame.length - p;
    const tcpLen = size >= 20 ? (frame[p + 12]! >> 4) * 4 : 0;
    const ok =
      proto === IP_PROTO.TCP
        ? tcpLen >= 20 && size >= tcpLen
        : proto === IP_PROTO.UDP
          ? size >= 8
          : size >= 12;
    if (ok) {
      m.value.tp_src = BigInt(u16(frame, p));
      m.value.tp_dst = BigInt(u16(frame, p + 2));
      if (proto === IP_PROTO.TCP) m.value.tcp_flags = BigInt(u16(frame, p + 12) & 0x0fff);
    }
  } else if (proto === IP_PROTO.ICMP || proto === IP_PROTO.ICMPV6) {
    m.mask.tp_src = 0xffffn;
    m.mask.tp_dst = 0xffffn;
    if (frame.length >= p + 2) {
      m.value.tp_src = BigInt(frame[p]!);
      m.value.tp_dst = BigInt(frame[p + 1]!);
    }
    const t = Number(m.value.tp_src);
    if (
      proto === IP_PROTO.ICMPV6 &&
      m.value.tp_dst === 0n &&
      (t === ND.SOLICIT || t === ND.ADVERT)
    ) {
      m.mask.nd_target = ones(128);
      m.mask.arp_sha = ones(48);
      m.mask.arp_tha = ones(48);
      if (frame.length >= p + 24) m.value.nd_target = big(frame, p + 8, 16);
      for (let o = p + 24; o + 8 <= frame.length;) {
        const optType = frame[o]!;
        const optLen = frame[o + 1]! * 8;
        if (optLen === 0) break;
        if (optLen === 8 && optType === 1 && t === ND.SOLICIT)
          m.value.arp_sha = big(frame, o + 2, 6);
        if (optLen === 8 && optType === 2 && t === ND.ADVERT)
          m.value.arp_tha = big(frame, o + 2, 6);
        o += optLen;
      }
    }
  }
  return { flow: m, l4, l4Proto, size: frame.length };
}

/**
 * `ofp_packet_to_string`: flow text, L4 checksum, newline. `packetType` is
 * the packet's OpenFlow packet type (a PACKET_IN's match may carry one).
 */
export function packetSummary(frame: Uint8Array, packetType = 0): string {
  const { flow, l4, l4Proto, size } = packetFlow(frame, packetType);
  let s = formatFlowMatch(flow);
  const l4Size = l4 < 0 ? 0 : size - l4;
  if (l4Proto === IP_PROTO.TCP && l4Size >= 20)
    s += ` tcp_csum:${u16(frame, l4 + 16).toString(16)}`;
  else if (l4Proto === IP_PROTO.UDP && l4Size >= 8)
    s += ` udp_csum:${u16(frame, l4 + 6).toString(16)}`;
  else if (l4Proto === IP_PROTO.SCTP && l4Size >= 12)
    s += ` sctp_csum:${((u16(frame, l4 + 8) * 0x10000 + u16(frame, l4 + 10)) >>> 0).toString(16)}`;
  else if (l4Proto === IP_PROTO.ICMP && l4Size >= 4)
    s += ` icmp_csum:${u16(frame, l4 + 2).toString(16)}`;
  else if (l4Proto === IP_PROTO.ICMPV6 && l4Size >= 4)
    s += ` icmp6_csum:${u16(frame, l4 + 2).toString(16)}`;
  return `${s}\n`;
}
