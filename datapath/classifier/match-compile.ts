/**
 * OpenFlow 1.3 match (OXM/NXM entries) → {@link CompiledMatch} over FlowKey words.
 *
 * Each logical field has one placement in {@link FIELD_PLACEMENT}, chosen so
 * that the masked comparison of key words is bit-for-bit what OVS's classifier
 * does with the same `struct match` (lib/meta-flow.c `mf_set_value` /
 * `mf_set`, lib/match.c):
 *
 * - `vlan_vid` (OF1.3) lands on bits 0x1fff of the key's OVS `vlan_tci`, whose
 *   CFI bit 0x1000 means "tag present" exactly like OFPVID_PRESENT
 *   (`match_set_vlan_vid_masked`). So `vlan_vid=0` (exact) is "untagged",
 *   `0x1000/0x1000` is "any tag", `0x1064` is "VID 100".
 * - `vlan_pcp` sets the PCP bits *and* the CFI bit (`match_set_dl_vlan_pcp`:
 *   mask 0xf000), so a PCP match never matches an untagged frame.
 * - `vlan_tci` (NXM) is the raw 16-bit TCI with its mask.
 * - `ip_dscp` is the top 6 bits of the TOS byte (`<< 2`, mask 0xfc), `nw_tos`
 *   (NXM_OF_IP_TOS) the same bits unshifted, `nw_ecn` the low 2 bits.
 * - 16-bit `NXM_OF_IN_PORT` values are OF1.0 port numbers, widened to the
 *   OF1.1+ numbering the key uses (`ofputil_port_to_ofp11`: ≥ 0xff00 →
 *   + 0xffff0000, so OFPP_LOCAL 0xfffe becomes 0xfffffffe).
 * - tcp/udp/sctp ports share TP_SRC/TP_DST, ICMPv4 and ICMPv6 type/code share
 *   ICMP_TYPE/ICMP_CODE (as in OVS). What keeps `udp_dst=80` from matching a TCP
 *   packet is the prerequisite (`eth_type`, `ip_proto`) which OpenFlow requires
 *   in the same match: OVS's classifier matches those words like any other.
 *   compileMatch checks every prerequisite against the *whole* compiled match
 *   (order-independent, OVS `mf_are_match_prereqs_ok`) and throws
 *   OFPBMC_BAD_PREREQ when one is missing, so no rule can match a port on the
 *   wrong protocol.
 * - xreg*n* is reg*2n* (high) : reg*2n+1* (low); xxreg*n* is reg*4n*..reg*4n+3*,
 *   most significant first (OVS `flow_get_xreg`/`flow_get_xxreg`).
 *
 * A field the FlowKey does not model (MPLS, PBB, conntrack tuple and labels,
 * tunnel metadata/flags/GBP/IPv6, dp_hash, recirc_id, conj_id, actset_output,
 * in_phy_port, ipv6_exthdr) or an unknown TLV is an OFPBMC_BAD_FIELD error
 * naming the field: never silently dropped, because a dropped field would make
 * the rule match more than the controller asked for.
 */
import { OfpError } from "../../codec/errors.js";
import { FK } from "../../codec/packet/flow-key.js";
import type { Match, MatchEntry, OxmEntry, Prereq } from "../../codec/oxm.js";
import { MatchBuilder, type CompiledMatch } from "./compiled-match.js";

/** Where a field's bits go in the key. */
type Placement =
  /**
   * The value, read as one big-endian integer, is split into 32-bit words
   * right-aligned over `count` consecutive key words from `first` (most
   * significant first): a MAC fills HI (16 bits) + LO, a 64-bit id HI + LO,
   * an IPv6 address four words.
   */
  | { readonly kind: "words"; readonly first: number; readonly count: number }
  /**
   * A small field inside one word: `(v << shift) & bits`; `forced` bits are
   * added to both value and mask (vlan_pcp implies the CFI bit).
   */
  | {
      readonly kind: "bits";
      readonly word: number;
      readonly shift: number;
      readonly bits: number;
      readonly forced: number;
    }
  /** in_port: 32-bit OXM as is, 16-bit NXM widened from OF1.0 numbering. */
  | { readonly kind: "in_port" };

const words = (first: number, count = 1): Placement => ({ kind: "words", first, count });
const bits = (word: number, shift: number, mask: number, forced = 0): Placement => ({
  kind: "bits",
  word,
  shift,
  bits: mask,
  forced,
});

const VLAN_CFI = 0x1000;
const VLAN_VID_CFI_BITS = 0x1fff;
const VLAN_PCP_SHIFT = 13;
const VLAN_PCP_BITS = 0xe000;
const IP_DSCP_SHIFT = 2;
const IP_DSCP_BITS = 0xfc;
const IP_ECN_BITS = 0x03;
const FLOW_NW_FRAG_MASK = 0x03;
/** OF1.0 → OF1.1 port numbering (OVS `OFPP11_OFFSET`, `OFPP_MAX`). */
const OFPP_MAX_16 = 0xff00;
const OFPP11_OFFSET = 0xffff0000;

/** Logical field name (OxmField.logical) → placement in the key. */
export const FIELD_PLACEMENT: Readonly<Record<string, Placement>> = (() => {
  const t: Record<string, Placement> = {
    in_port: { kind: "in_port" },
    eth_src: words(FK.ETH_SRC_HI, 2),
    eth_dst: words(FK.ETH_DST_HI, 2),
    eth_type: words(FK.ETH_TYPE),
    vlan_vid: bits(FK.VLAN_TCI, 0, VLAN_VID_CFI_BITS),
    vlan_pcp: bits(FK.VLAN_TCI, VLAN_PCP_SHIFT, VLAN_PCP_BITS, VLAN_CFI),
    vlan_tci: words(FK.VLAN_TCI),
    ip_src: words(FK.NW_SRC),
    ip_dst: words(FK.NW_DST),
    ipv6_src: words(FK.IPV6_SRC0, 4),
    ipv6_dst: words(FK.IPV6_DST0, 4),
    ip_frag: bits(FK.NW_FRAG, 0, FLOW_NW_FRAG_MASK),
    ip_dscp: bits(FK.NW_TOS, IP_DSCP_SHIFT, IP_DSCP_BITS),
    nw_tos: bits(FK.NW_TOS, 0, IP_DSCP_BITS),
    nw_ecn: bits(FK.NW_TOS, 0, IP_ECN_BITS),
    nw_ttl: words(FK.NW_TTL),
    ipv6_label: words(FK.IPV6_LABEL),
    nw_proto: words(FK.NW_PROTO),
    tcp_src: words(FK.TP_SRC),
    tcp_dst: words(FK.TP_DST),
    udp_src: words(FK.TP_SRC),
    udp_dst: words(FK.TP_DST),
    sctp_src: words(FK.TP_SRC),
    sctp_dst: words(FK.TP_DST),
    tcp_flags: words(FK.TCP_FLAGS),
    icmp_type: words(FK.ICMP_TYPE),
    icmp_code: words(FK.ICMP_CODE),
    icmpv6_type: words(FK.ICMP_TYPE),
    icmpv6_code: words(FK.ICMP_CODE),
    nd_target: words(FK.ND_TARGET0, 4),
    nd_sll: words(FK.ND_SLL_HI, 2),
    nd_tll: words(FK.ND_TLL_HI, 2),
    arp_op: words(FK.ARP_OP),
    arp_spa: words(FK.ARP_SPA),
    arp_tpa: words(FK.ARP_TPA),
    arp_sha: words(FK.ARP_SHA_HI, 2),
    arp_tha: words(FK.ARP_THA_HI, 2),
    tun_id: words(FK.TUN_ID_HI, 2),
    tun_src: words(FK.TUN_SRC),
    tun_dst: words(FK.TUN_DST),
    pkt_mark: words(FK.PKT_MARK),
    ct_state: words(FK.CT_STATE),
    ct_zone: words(FK.CT_ZONE),
    ct_mark: words(FK.CT_MARK),
    metadata: words(FK.METADATA_HI, 2),
  };
  for (let i = 0; i < 16; i++) t[`reg${i}`] = words(FK.REG0 + i);
  for (let i = 0; i < 8; i++) t[`xreg${i}`] = words(FK.REG0 + 2 * i, 2);
  for (let i = 0; i < 4; i++) t[`xxreg${i}`] = words(FK.REG0 + 4 * i, 4);
  return t;
})();

/** Whether the datapath can match on a logical field. */
export function isFieldModelled(logical: string): boolean {
  return Object.hasOwn(FIELD_PLACEMENT, logical);
}

/** Big-endian bytes `b[start..start+len)` (len ≤ 4) as an unsigned number. */
function be(b: Uint8Array, start: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[start + i]!;
  return v;
}

function place(
  builder: MatchBuilder,
  p: Placement,
  value: Uint8Array,
  mask: Uint8Array | undefined,
): void {
  const n = value.length;
  switch (p.kind) {
    case "words": {
      if (n > 4 * p.count)
        throw new RangeError(`value of ${n} bytes does not fit ${p.count} words`);
      // Word k (from the right) takes bytes [n-4(k+1), n-4k).
      for (let k = 0; k < p.count; k++) {
        const end = n - 4 * k;
        const start = Math.max(0, end - 4);
        const len = end - start;
        const word = p.first + p.count - 1 - k;
        if (len <= 0) continue;
        const v = be(value, start, len);
        const m = mask === undefined ? 2 ** (8 * len) - 1 : be(mask, start, len);
        builder.set(word, v, m);
      }
      return;
    }
    case "bits": {
      const v = be(value, 0, n);
      const m = mask === undefined ? 2 ** (8 * n) - 1 : be(mask, 0, n);
      builder.set(
        p.word,
        ((v << p.shift) & p.bits) | p.forced,
        ((m << p.shift) & p.bits) | p.forced,
      );
      return;
    }
    case "in_port": {
      let v = be(value, 0, n);
      if (n === 2 && v >= OFPP_MAX_16) v = v + OFPP11_OFFSET;
      // in_port is not maskable in OF1.3 (the decoder enforces it); an all-zero mask wildcards it.
      const m = mask === undefined ? 0xffffffff : be(mask, 0, n) === 0 ? 0 : 0xffffffff;
      builder.set(FK.IN_PORT, v, m);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Prerequisites, checked on the compiled words (unset words read 0, as OVS
// checks `match->flow`, whose unset fields are 0).
// ---------------------------------------------------------------------------

const ETH = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MCAST: 0x8848,
  PBB: 0x88e7,
} as const;
const PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;
const ND = { SOLICIT: 135, ADVERT: 136 } as const;
const FLOW_NW_FRAG_LATER = 0x02;
/** ct_state bits meaning "a valid conntrack entry" (OVS `is_ct_valid`): new est rel rpl snat dnat. */
const CS_VALID_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80;
const CS_INVALID = 0x10;
const CS_TRACKED = 0x20;

function prereqMet(p: Prereq, b: MatchBuilder): boolean {
  const ethType = b.valueOf(FK.ETH_TYPE);
  const proto = b.valueOf(FK.NW_PROTO);
  const ipAny = ethType === ETH.IPV4 || ethType === ETH.IPV6;
  const notLater = (b.valueOf(FK.NW_FRAG) & FLOW_NW_FRAG_LATER) === 0;
  const nd =
    ethType === ETH.IPV6 &&
    proto === PROTO.ICMPV6 &&
    b.valueOf(FK.ICMP_CODE) === 0 &&
    (b.valueOf(FK.ICMP_TYPE) === ND.SOLICIT || b.valueOf(FK.ICMP_TYPE) === ND.ADVERT);
  switch (p) {
    case "none":
      return true;
    case "in_port":
      return b.maskOf(FK.IN_PORT) !== 0;
    case "vlan_vid":
      return (b.valueOf(FK.VLAN_TCI) & VLAN_CFI) !== 0;
    case "mpls":
      return ethType === ETH.MPLS || ethType === ETH.MPLS_MCAST;
    case "pbb":
      return ethType === ETH.PBB;
    case "ipv4":
      return ethType === ETH.IPV4;
    case "ipv6":
      return ethType === ETH.IPV6;
    case "ip_any":
      return ipAny;
    case "arp":
      return ethType === ETH.ARP || ethType === ETH.RARP;
    case "tcp":
      return ipAny && proto === PROTO.TCP && notLater;
    case "udp":
      return ipAny && proto === PROTO.UDP && notLater;
    case "sctp":
      return ipAny && proto === PROTO.SCTP && notLater;
    case "icmpv4":
      return ethType === ETH.IPV4 && proto === PROTO.ICMP;
    case "icmpv6":
      return ethType === ETH.IPV6 && proto === PROTO.ICMPV6;
    case "nd":
      return nd;
    case "nd_solicit":
      return nd && b.valueOf(FK.ICMP_TYPE) === ND.SOLICIT;
    case "nd_advert":
      return nd && b.valueOf(FK.ICMP_TYPE) === ND.ADVERT;
    case "ct_valid": {
      const st = b.valueOf(FK.CT_STATE);
      return (
        (st & CS_VALID_BITS) !== 0 ||
        ((st & CS_TRACKED) !== 0 &&
          (b.maskOf(FK.CT_STATE) & CS_INVALID) !== 0 &&
          (st & CS_INVALID) === 0)
      );
    }
  }
}

const builder = new MatchBuilder();

/**
 * Compiles the entries of an OpenFlow match. Throws OfpError OFPBMC_BAD_FIELD
 * for unknown TLVs and fields the datapath does not model, OFPBMC_BAD_PREREQ
 * when a field's prerequisite is not part of the match.
 */
export function compileMatch(match: Match): CompiledMatch {
  return compileEntries(match.entries);
}

export function compileEntries(entries: readonly MatchEntry[]): CompiledMatch {
  try {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.field === undefined) {
        throw new OfpError(
          "OFPBMC_BAD_FIELD",
          `unknown OXM header 0x${(e.header >>> 0).toString(16).padStart(8, "0")} cannot be matched`,
        );
      }
      const p = FIELD_PLACEMENT[e.field.logical];
      if (p === undefined) {
        throw new OfpError(
          "OFPBMC_BAD_FIELD",
          `field ${e.field.name} is not modelled by the dvrflow datapath`,
        );
      }
      place(builder, p, e.value, e.mask);
    }
    for (let i = 0; i < entries.length; i++) {
      const f = (entries[i] as OxmEntry).field;
      if (!prereqMet(f.prereq, builder)) {
        throw new OfpError(
          "OFPBMC_BAD_PREREQ",
          `${f.name} needs its prerequisite (${f.prereq}) in the match`,
        );
      }
    }
    return builder.finish();
  } catch (err) {
    builder.finish(); // reset the shared builder
    throw err;
  }
}
