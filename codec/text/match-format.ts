/**
 * `formatFlowMatch`: a match as ovs-ofctl prints it (OVS `match_format`,
 * lib/match.c): fields in OVS's fixed order, protocol shorthands (`ip`,
 * `tcp`, `arp`, ...) replacing dl_type/nw_proto, VLAN TCI shown as
 * `dl_vlan`/`dl_vlan_pcp` when it can be, comma-separated with no spaces.
 */
import {
  formatIpv4Masked,
  formatIpv6Masked,
  formatMacMasked,
  hexAlt,
  hexBytes,
  ones,
} from "./addr.js";
import { formatFlags, formatFlagsMasked } from "./flags.js";
import { ETH_TYPE, FRAG, IP_PROTO, PT_NS_ETHERTYPE, VLAN, type FlowMatch } from "./flow-match.js";
import { formatPacketType } from "./actions-format.js";
import { formatPort16 } from "./ports.js";
import type { Slot } from "./fields.js";

/** OpenFlow's default priority; `match_format` omits it. */
export const OFP_DEFAULT_PRIORITY = 0x8000;

/** Options: the priority to show (omitted when it is the default). */
export interface MatchFormatOptions {
  readonly priority?: number;
}

function u32Masked(out: string[], name: string, value: bigint, mask: bigint): void {
  if (mask === 0n) return;
  out.push(
    mask === 0xffffffffn ? `${name}=${hexAlt(value)}` : `${name}=${hexAlt(value)}/${hexAlt(mask)}`,
  );
}

function u64Masked(out: string[], name: string, value: bigint, mask: bigint): void {
  if (mask === 0n) return;
  out.push(
    mask === ones(64) ? `${name}=${hexAlt(value)}` : `${name}=${hexAlt(value)}/${hexAlt(mask)}`,
  );
}

function u16Masked(out: string[], name: string, value: bigint, mask: bigint): void {
  if (mask === 0n) return;
  out.push(
    mask === 0xffffn
      ? `${name}=${value}`
      : `${name}=0x${value.toString(16)}/0x${mask.toString(16)}`,
  );
}

function ipMasked(out: string[], name: string, value: bigint, mask: bigint): void {
  if (mask !== 0n) out.push(`${name}=${formatIpv4Masked(value, mask)}`);
}

function ipv6Masked(out: string[], name: string, value: bigint, mask: bigint): void {
  if (mask !== 0n) out.push(`${name}=${formatIpv6Masked(value, mask)}`);
}

function ethMasked(out: string[], name: string, value: bigint, mask: bigint): void {
  if (mask !== 0n) out.push(`${name}=${formatMacMasked(value, mask)}`);
}

/** The protocol shorthand for (dl_type, nw_proto), and whether it also covers nw_proto. */
function shorthand(m: FlowMatch, t: number): { text: string; coversProto: boolean } | undefined {
  if (m.mask.dl_type === 0n) return undefined;
  const proto = m.mask.nw_proto !== 0n ? Number(m.value.nw_proto) : undefined;
  if (t === ETH_TYPE.IP) {
    const names: Record<number, string> = {
      [IP_PROTO.ICMP]: "icmp",
      [IP_PROTO.TCP]: "tcp",
      [IP_PROTO.UDP]: "udp",
      [IP_PROTO.SCTP]: "sctp",
    };
    const n = proto === undefined ? undefined : names[proto];
    return n === undefined ? { text: "ip", coversProto: false } : { text: n, coversProto: true };
  }
  if (t === ETH_TYPE.IPV6) {
    const names: Record<number, string> = {
      [IP_PROTO.ICMPV6]: "icmp6",
      [IP_PROTO.TCP]: "tcp6",
      [IP_PROTO.UDP]: "udp6",
      [IP_PROTO.SCTP]: "sctp6",
    };
    const n = proto === undefined ? undefined : names[proto];
    return n === undefined ? { text: "ipv6", coversProto: false } : { text: n, coversProto: true };
  }
  const others: Record<number, string> = {
    [ETH_TYPE.ARP]: "arp",
    [ETH_TYPE.RARP]: "rarp",
    [ETH_TYPE.MPLS]: "mpls",
    [ETH_TYPE.MPLS_MCAST]: "mplsm",
  };
  const n = others[t];
  return n === undefined ? undefined : { text: n, coversProto: false };
}

/** The match as ovs-ofctl prints it; empty string for a catch-all match at default priority. */
export function formatFlowMatch(m: FlowMatch, options: MatchFormatOptions = {}): string {
  const out: string[] = [];
  const v = m.value;
  const k = m.mask;
  const priority = options.priority ?? OFP_DEFAULT_PRIORITY;
  if (priority !== OFP_DEFAULT_PRIORITY) out.push(`priority=${priority}`);

  u32Masked(out, "pkt_mark", v.pkt_mark, k.pkt_mark);
  u32Masked(out, "recirc_id", v.recirc_id, k.recirc_id);
  if (k.conj_id !== 0n) out.push(`conj_id=${v.conj_id}`);
  if (k.actset_output !== 0n) out.push(`actset_output=${formatPort16(Number(v.actset_output))}`);

  // OVS keeps ct_state in 8 bits (struct flow), so the 32-bit wire mask folds to 0xff.
  const ctMask = Number(k.ct_state & 0xffn);
  const ctVal = Number(v.ct_state & 0xffn);
  if (ctMask !== 0) {
    if (ctMask === 0xff)
      out.push(`ct_state=${ctVal === 0 ? "0" : formatFlags("ct_state", ctVal, "|")}`);
    else out.push(`ct_state=${formatFlagsMasked("ct_state", ctVal, ctMask, 0xff)}`);
  }
  if (k.ct_zone !== 0n) u16Masked(out, "ct_zone", v.ct_zone, k.ct_zone);
  if (k.ct_mark !== 0n) u32Masked(out, "ct_mark", v.ct_mark, k.ct_mark);
  if (k.ct_label !== 0n) {
    out.push(
      k.ct_label === ones(128)
        ? `ct_label=${hexBytes(v.ct_label)}`
        : `ct_label=${hexBytes(v.ct_label)}/${hexBytes(k.ct_label)}`,
    );
  }
  ipMasked(out, "ct_nw_src", v.ct_nw_src, k.ct_nw_src);
  ipv6Masked(out, "ct_ipv6_src", v.ct_ipv6_src, k.ct_ipv6_src);
  ipMasked(out, "ct_nw_dst", v.ct_nw_dst, k.ct_nw_dst);
  ipv6Masked(out, "ct_ipv6_dst", v.ct_ipv6_dst, k.ct_ipv6_dst);
  if (k.ct_nw_proto !== 0n) {
    out.push(`ct_nw_proto=${v.ct_nw_proto}`);
    u16Masked(out, "ct_tp_src", v.ct_tp_src, k.ct_tp_src);
    u16Masked(out, "ct_tp_dst", v.ct_tp_dst, k.ct_tp_dst);
  }

  // match_format: the packet type when it is not plain Ethernet (or, as OVS
  // does for megaflows, whenever recirc_id is matched); an Ethertype-space
  // packet type names the L3 fields below as eth_type would.
  let t = Number(v.dl_type);
  if (k.packet_type !== 0n && (v.packet_type !== 0n || k.recirc_id !== 0n)) {
    const pt = formatPacketType(v.packet_type, k.packet_type);
    out.push(pt === "eth" ? pt : `packet_type=${pt}`);
    if (Number(v.packet_type) >>> 16 === PT_NS_ETHERTYPE) t = Number(v.packet_type) & 0xffff;
  }

  const sh = shorthand(m, t);
  if (sh !== undefined) out.push(sh.text);
  const skipProto = sh?.coversProto ?? false;

  for (let i = 0; i < 16; i++) {
    const s = `reg${i}` as Slot;
    u32Masked(out, s, v[s], k[s]);
  }

  u64Masked(out, "tun_id", v.tun_id, k.tun_id);
  ipMasked(out, "tun_src", v.tun_src, k.tun_src);
  ipMasked(out, "tun_dst", v.tun_dst, k.tun_dst);
  ipv6Masked(out, "tun_ipv6_src", v.tun_ipv6_src, k.tun_ipv6_src);
  ipv6Masked(out, "tun_ipv6_dst", v.tun_ipv6_dst, k.tun_ipv6_dst);
  if (k.tun_gbp_id !== 0n) u16Masked(out, "tun_gbp_id", v.tun_gbp_id, k.tun_gbp_id);
  if (k.tun_gbp_flags !== 0n) out.push(`tun_gbp_flags=${hexAlt(v.tun_gbp_flags)}`);
  if ((k.tun_flags & 1n) !== 0n) {
    out.push(
      // OVS 3.1 formats against a 16-bit maximal mask, so even an exact
      // match on the one public flag prints as +oam / -oam.
      `tun_flags=${formatFlagsMasked("tun_flags", Number(v.tun_flags & 1n), Number(k.tun_flags & 1n), 0xffff)}`,
    );
  }

  // tun_metadata_match_format: bare name for an all-zero mask, else value[/mask].
  (m.meta.tunMetadata ?? []).forEach((t, i) => {
    if (t === undefined) return;
    const name = `tun_metadata${i}`;
    const full = ones(t.len * 8);
    if (t.masked && t.mask === 0n) out.push(name);
    else out.push(`${name}=${hexBytes(t.value)}${t.mask === full ? "" : `/${hexBytes(t.mask)}`}`);
  });

  u64Masked(out, "metadata", v.metadata, k.metadata);
  if (k.in_port !== 0n) out.push(`in_port=${formatPort16(Number(v.in_port))}`);

  formatVlan(out, v.vlan_tci, k.vlan_tci, "");
  if (m.meta.vlanTci1 !== undefined && k.vlan_tci !== 0n)
    formatVlan(out, m.meta.vlanTci1, 0xffffn, "1");

  ethMasked(out, "dl_src", v.dl_src, k.dl_src);
  ethMasked(out, "dl_dst", v.dl_dst, k.dl_dst);
  if (sh === undefined && k.dl_type !== 0n)
    out.push(`dl_type=0x${v.dl_type.toString(16).padStart(4, "0")}`);

  const arpLike = t === ETH_TYPE.ARP || t === ETH_TYPE.RARP;
  if (t === ETH_TYPE.IPV6) {
    ipv6Masked(out, "ipv6_src", v.ipv6_src, k.ipv6_src);
    ipv6Masked(out, "ipv6_dst", v.ipv6_dst, k.ipv6_dst);
    if (k.ipv6_label !== 0n) {
      const hex5 = (x: bigint): string => `0x${x.toString(16).padStart(5, "0")}`;
      out.push(
        k.ipv6_label === 0xffffffffn
          ? `ipv6_label=${hex5(v.ipv6_label)}`
          : `ipv6_label=${hex5(v.ipv6_label)}/${hex5(k.ipv6_label)}`,
      );
    }
  } else if (arpLike) {
    ipMasked(out, "arp_spa", v.nw_src, k.nw_src);
    ipMasked(out, "arp_tpa", v.nw_dst, k.nw_dst);
  } else {
    ipMasked(out, "nw_src", v.nw_src, k.nw_src);
    ipMasked(out, "nw_dst", v.nw_dst, k.nw_dst);
  }
  if (!skipProto && k.nw_proto !== 0n) out.push(`${arpLike ? "arp_op" : "nw_proto"}=${v.nw_proto}`);
  if (arpLike) {
    ethMasked(out, "arp_sha", v.arp_sha, k.arp_sha);
    ethMasked(out, "arp_tha", v.arp_tha, k.arp_tha);
  }
  if ((k.nw_tos & 0xfcn) !== 0n) out.push(`nw_tos=${v.nw_tos & 0xfcn}`);
  if ((k.nw_tos & 0x03n) !== 0n) out.push(`nw_ecn=${v.nw_tos & 0x03n}`);
  if (k.nw_ttl !== 0n) out.push(`nw_ttl=${v.nw_ttl}`);
  const lse = v.mpls_lse;
  const lm = k.mpls_lse;
  if ((lm & 0xfffff000n) !== 0n) out.push(`mpls_label=${lse >> 12n}`);
  if ((lm & 0xe00n) !== 0n) out.push(`mpls_tc=${(lse >> 9n) & 7n}`);
  if ((lm & 0xffn) !== 0n) out.push(`mpls_ttl=${lse & 0xffn}`);
  if ((lm & 0x100n) !== 0n) out.push(`mpls_bos=${(lse >> 8n) & 1n}`);
  (m.meta.mplsLse ?? []).forEach((x, i) => out.push(`mpls_lse${i + 1}=${x}`));

  const fragMask = Number(k.nw_frag) & FRAG.MASK;
  const frag = Number(v.nw_frag);
  if (fragMask === FRAG.MASK) {
    const any = (frag & FRAG.ANY) !== 0;
    const later = (frag & FRAG.LATER) !== 0;
    out.push(`nw_frag=${any ? (later ? "later" : "first") : later ? "<error>" : "no"}`);
  } else if (fragMask === FRAG.ANY) {
    out.push(`nw_frag=${(frag & FRAG.ANY) !== 0 ? "yes" : "no"}`);
  } else if (fragMask === FRAG.LATER) {
    out.push(`nw_frag=${(frag & FRAG.LATER) !== 0 ? "later" : "not_later"}`);
  }

  const proto = Number(v.nw_proto);
  if (t === ETH_TYPE.IP && proto === IP_PROTO.ICMP) {
    u16Masked(out, "icmp_type", v.tp_src, k.tp_src);
    u16Masked(out, "icmp_code", v.tp_dst, k.tp_dst);
  } else if (t === ETH_TYPE.IPV6 && proto === IP_PROTO.ICMPV6) {
    u16Masked(out, "icmp_type", v.tp_src, k.tp_src);
    u16Masked(out, "icmp_code", v.tp_dst, k.tp_dst);
    ipv6Masked(out, "nd_target", v.nd_target, k.nd_target);
    ethMasked(out, "nd_sll", v.arp_sha, k.arp_sha);
    ethMasked(out, "nd_tll", v.arp_tha, k.arp_tha);
  } else {
    u16Masked(out, "tp_src", v.tp_src, k.tp_src);
    u16Masked(out, "tp_dst", v.tp_dst, k.tp_dst);
  }
  if (
    (t === ETH_TYPE.IP || t === ETH_TYPE.IPV6) &&
    proto === IP_PROTO.TCP &&
    (k.tcp_flags & 0xfffn) !== 0n
  ) {
    out.push(
      `tcp_flags=${formatFlagsMasked("tcp_flags", Number(v.tcp_flags & 0xfffn), Number(k.tcp_flags & 0xfffn), 0xfff)}`,
    );
  }
  return out.join(",");
}

/** The 802.1Q part of `match_format`. */
function formatVlan(out: string[], tci: bigint, mask: bigint, index: "" | "1"): void {
  if (mask === 0n) return;
  const vidMask = mask & BigInt(VLAN.VID_MASK);
  const pcpMask = mask & BigInt(VLAN.PCP_MASK);
  const cfi = (mask & BigInt(VLAN.CFI)) !== 0n;
  if (
    cfi &&
    (tci & BigInt(VLAN.CFI)) !== 0n &&
    (vidMask === 0n || vidMask === BigInt(VLAN.VID_MASK)) &&
    (pcpMask === 0n || pcpMask === BigInt(VLAN.PCP_MASK)) &&
    (vidMask !== 0n || pcpMask !== 0n)
  ) {
    if (vidMask !== 0n) out.push(`dl_vlan${index}=${tci & BigInt(VLAN.VID_MASK)}`);
    if (pcpMask !== 0n) out.push(`dl_vlan_pcp${index}=${(tci >> 13n) & 7n}`);
  } else if (mask === 0xffffn) {
    out.push(`vlan_tci${index}=0x${tci.toString(16).padStart(4, "0")}`);
  } else {
    out.push(
      `vlan_tci${index}=0x${tci.toString(16).padStart(4, "0")}/0x${mask.toString(16).padStart(4, "0")}`,
    );
  }
}
