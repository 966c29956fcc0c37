/**
 * The OXM/NXM field registry and the single-TLV codec.
 *
 * One row per wire header, keyed by (class, field[, experimenter]) — never by
 * field number alone (codec.md point 2: libfluid decoded `tun_ipv4_src`
 * 0x0001/31 as `ipv6_nd_target` 0x8000/31). Several rows can describe one
 * logical field (`tun_id` is OXM 0x8000/38 *and* NXM 0x0001/16); they share
 * `logical`, `group` (duplicate detection) and `order` (canonical encode
 * position), and exactly one of them is `preferred`: the header OVS 3.1 itself
 * writes in an OF1.3 message (OXM when the field has an OXM since OF1.3, else
 * NXM — `mf_oxm_header()` in OVS `lib/nx-match.c`).
 *
 * Facts per field (width, maskability, prerequisites, valid-value bits,
 * writability) follow OVS's `include/openvswitch/meta-flow.h` and
 * `mf_is_value_valid()` in `lib/meta-flow.c`; `order` follows OVS's
 * `nx_put_raw()` so prerequisites are always emitted before their dependants.
 *
 * Deviation from the contract sketch: `Match`, `OxmEntry`, `UnknownOxm` and
 * `MatchEntry` live here (match.ts re-exports them), and the TLV codec
 * (`decodeOxmTlv`/`encodeOxmTlv`) lives here too so actions.ts can use it
 * without importing match.ts.
 */
import { getU32 } from "./bytes.js";
import { OfpError } from "./errors.js";
import type { Reader } from "./reader.js";
import { putU32, type Writer } from "./writer.js";

/** OXM classes (OF1.3 §7.2.3.2, OVS `nx-match.c`). */
export const OXM_CLASS = {
  NXM_0: 0x0000,
  NXM_1: 0x0001,
  OPENFLOW_BASIC: 0x8000,
  PACKET_REGS: 0x8001,
  EXPERIMENTER: 0xffff,
} as const;

/** Experimenter ids used in class-0xffff OXM headers. */
export const OXM_EXPERIMENTER = {
  ONF: 0x4f4e4600,
  NICIRA: 0x00002320,
} as const;

/** Bits of the 32-bit OXM header. */
export const OXM_HASMASK = 0x100;
const OXM_LENGTH_MASK = 0xff;
const OXM_HEADER_KEY_MASK = 0xfffffe00; // class + field, without hasmask/length

/**
 * Prerequisite of a field (OVS `enum mf_prereqs`, plus `in_port` and `pbb`
 * for the OF1.3 basic fields OVS does not implement). Checked in order, so a
 * field whose prerequisite comes later in the match is rejected.
 */
export type Prereq =
  | "none"
  | "in_port" // in_phy_port (OF1.3 spec: requires IN_PORT)
  | "vlan_vid" // vlan_pcp: a VLAN tag must be matched (OFPVID_PRESENT set)
  | "mpls" // eth_type 0x8847 / 0x8848
  | "pbb" // eth_type 0x88e7
  | "ipv4" // eth_type 0x0800
  | "ipv6" // eth_type 0x86dd
  | "ip_any" // eth_type 0x0800 or 0x86dd
  | "arp" // eth_type 0x0806 (or RARP 0x8035, as OVS allows)
  | "tcp" // ip_any + ip_proto 6, not a later fragment
  | "udp" // ip_any + ip_proto 17, not a later fragment
  | "sctp" // ip_any + ip_proto 132, not a later fragment
  | "icmpv4" // eth_type 0x0800 + ip_proto 1
  | "icmpv6" // eth_type 0x86dd + ip_proto 58
  | "nd" // icmpv6 + icmpv6_type 135/136 (code 0)
  | "nd_solicit" // icmpv6_type 135
  | "nd_advert" // icmpv6_type 136
  | "ct_valid"; // ct_nw_*/ct_tp_*: ct_state says "tracked and valid"

/** One registry row: one wire header of one logical field. */
export interface OxmField {
  /** OVS meta-flow name as ovs-ofctl prints it ("in_port", "eth_src", "tun_id", "reg6", "ip_src"). */
  readonly name: string;
  /** OXM class: 0x8000 basic, 0x0000 NXM0, 0x0001 NXM1, 0x8001 packet regs, 0xffff experimenter. */
  readonly oxmClass: number;
  /** 7-bit field number. */
  readonly oxmField: number;
  /** Experimenter id for class 0xffff, else undefined. */
  readonly experimenter: number | undefined;
  /** Value width in bytes (a mask, when present, has the same width). */
  readonly size: number;
  /** Whether an arbitrary bitwise mask is allowed (OVS `MFM_FULLY`). */
  readonly maskable: boolean;
  readonly prereq: Prereq;
  /** Header name as used in `load:`/`move:`/learn text: "NXM_OF_ETH_SRC", "NXM_NX_REG6", "OXM_OF_IN_PORT". */
  readonly nxmName: string;
  /** class << 16 | field << 9, as an unsigned 32-bit number (hasmask and length zero). */
  readonly header: number;
  /** Logical field shared by all aliases ("tun_id" for OXM_OF_TUNNEL_ID and NXM_NX_TUN_ID). */
  readonly logical: string;
  /** Duplicate-detection group: rows writing the same flow storage share it (OVS `mf_is_all_wild`). */
  readonly group: number;
  /** Canonical encode rank (OVS `nx_put_raw` order); aliases share it. */
  readonly order: number;
  /** True for the header OVS writes for this logical field in OpenFlow 1.3. */
  readonly preferred: boolean;
  /** For fields of ≤ 4 bytes: bits a value may have; others → OFPBMC_BAD_VALUE. */
  readonly validMask: number | undefined;
  /** Value must be a valid OpenFlow 1.1+ port number (OVS `ofputil_port_from_ofp11`). */
  readonly ofPort: boolean;
  /** May be the destination of set_field / reg_load (OVS "Access: read/write"). */
  readonly writable: boolean;
  /**
   * Variable-length field (tun_metadata0..63, OVS `variable_len`): a value may
   * be 1..`size` bytes; value and mask then have the received width.
   */
  readonly variable: boolean;
  /** Width in bits for sub-field references (`[ofs..]` in move/load/learn): OVS `mf_field.n_bits`. */
  readonly bits: number;
}

/** A known field with its value (and optional mask), each `field.size` bytes, big-endian. */
export interface OxmEntry {
  readonly field: OxmField;
  readonly value: Uint8Array;
  readonly mask: Uint8Array | undefined;
}

/**
 * A TLV the registry does not know (kept by loose decode). `header` is the
 * wire header as received; on encode its length byte is recomputed from
 * `payload` (which excludes the experimenter id).
 */
export interface UnknownOxm {
  readonly field: undefined;
  readonly header: number;
  readonly experimenter: number | undefined;
  readonly payload: Uint8Array;
}

export type MatchEntry = OxmEntry | UnknownOxm;

/** An OXM `ofp_match` (type 1): the TLVs in wire order. */
export interface Match {
  readonly entries: readonly MatchEntry[];
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

/** One wire header of a logical field: [class, field, header name, experimenter?]. */
type HeaderSpec = readonly [cls: number, field: number, nxmName: string, experimenter?: number];

interface FieldSpec {
  /** OVS name. */
  readonly name: string;
  readonly size: number;
  readonly maskable: boolean;
  readonly prereq: Prereq;
  /** Headers; the first is the one OVS writes in OF1.3 (preferred). */
  readonly headers: readonly HeaderSpec[];
  /** Extra names accepted by fieldByName (OVS aka names, OF spec names). */
  readonly aliases?: readonly string[];
  readonly validMask?: number;
  readonly ofPort?: boolean;
  readonly readOnly?: boolean;
  /** Storage group shared with another logical field (e.g. nw_tos with ip_dscp). */
  readonly group?: string;
  /** Variable-length (see OxmField.variable). */
  readonly variable?: boolean;
  /** Meaningful bits when fewer than size*8 (OVS "be16 (low 12 bits)"). */
  readonly bits?: number;
  /** An alias spec of another spec's name (NXM_OF_IN_PORT): never preferred, name not registered. */
  readonly secondary?: boolean;
}

const B = OXM_CLASS.OPENFLOW_BASIC;
const N0 = OXM_CLASS.NXM_0;
const N1 = OXM_CLASS.NXM_1;
const PR = OXM_CLASS.PACKET_REGS;
const EXP = OXM_CLASS.EXPERIMENTER;
const ONF = OXM_EXPERIMENTER.ONF;

function spec(
  name: string,
  size: number,
  maskable: boolean,
  prereq: Prereq,
  headers: readonly HeaderSpec[],
  extra: Omit<FieldSpec, "name" | "size" | "maskable" | "prereq" | "headers"> = {},
): FieldSpec {
  return { name, size, maskable, prereq, headers, ...extra };
}

const regSpecs: FieldSpec[] = [];
for (let i = 0; i < 16; i++) {
  regSpecs.push(spec(`reg${i}`, 4, true, "none", [[N1, i, `NXM_NX_REG${i}`]]));
}
const xregSpecs: FieldSpec[] = [];
for (let i = 0; i < 8; i++) {
  xregSpecs.push(spec(`xreg${i}`, 8, true, "none", [[PR, i, `OXM_OF_PKT_REG${i}`]]));
}
const xxregSpecs: FieldSpec[] = [];
for (let i = 0; i < 4; i++) {
  xxregSpecs.push(spec(`xxreg${i}`, 16, true, "none", [[N1, 111 + i, `NXM_NX_XXREG${i}`]]));
}
// tun_metadata0..63: NXM1 40..103, variable length up to 124 bytes (OVS sizes
// them from the switch's TLV map; `tun_metadata0=0x5` goes out as 1 byte).
const TUN_METADATA_MAX = 124;
const tunMetadataSpecs: FieldSpec[] = [];
for (let i = 0; i < 64; i++) {
  tunMetadataSpecs.push(
    spec(
      `tun_metadata${i}`,
      TUN_METADATA_MAX,
      true,
      "none",
      [[N1, 40 + i, `NXM_NX_TUN_METADATA${i}`]],
      {
        variable: true,
      },
    ),
  );
}

/**
 * Logical fields in OVS's canonical encode order (`nx_put_raw`): metadata,
 * in_port, Ethernet, VLAN, MPLS, L3, L4, ARP, tunnel, registers, pkt_mark,
 * conntrack, OpenFlow metadata. Basic fields OVS does not implement
 * (in_phy_port, pbb_isid, ipv6_exthdr) sit next to their relatives.
 */
const SPECS: readonly FieldSpec[] = [
  // OXM_OF_PACKET_TYPE (OF1.5, 0x8000/44): OVS 3.1 writes it even in OF1.3,
  // always first (`nx_put_raw`: "Must be first"), either for a non-Ethernet
  // packet type or as `packet_type=eth` (0) when a match implies Ethernet
  // but carries no Ethernet-dependent field. Value: namespace << 16 | type.
  spec("packet_type", 4, false, "none", [[B, 44, "OXM_OF_PACKET_TYPE"]], { readOnly: true }),
  spec("dp_hash", 4, true, "none", [[N1, 35, "NXM_NX_DP_HASH"]], { readOnly: true }),
  spec("recirc_id", 4, false, "none", [[N1, 36, "NXM_NX_RECIRC_ID"]], { readOnly: true }),
  spec("conj_id", 4, false, "none", [[N1, 37, "NXM_NX_CONJ_ID"]], { readOnly: true }),
  spec("in_port", 4, false, "none", [[B, 0, "OXM_OF_IN_PORT"]], {
    aliases: ["in_port_oxm"],
    ofPort: true,
    group: "in_port",
  }),
  // NXM_OF_IN_PORT is 16 bits (OF1.0 port numbers); same storage as in_port.
  spec("in_port", 2, false, "none", [[N0, 0, "NXM_OF_IN_PORT"]], {
    group: "in_port",
    secondary: true,
  }),
  spec("in_phy_port", 4, false, "in_port", [[B, 1, "OXM_OF_IN_PHY_PORT"]]),
  spec("actset_output", 4, false, "none", [[EXP, 43, "ONFOXM_ET_ACTSET_OUTPUT", ONF]], {
    ofPort: true,
    readOnly: true,
  }),
  spec(
    "eth_src",
    6,
    true,
    "none",
    [
      [B, 4, "OXM_OF_ETH_SRC"],
      [N0, 2, "NXM_OF_ETH_SRC"],
    ],
    { aliases: ["dl_src"] },
  ),
  spec(
    "eth_dst",
    6,
    true,
    "none",
    [
      [B, 3, "OXM_OF_ETH_DST"],
      [N0, 1, "NXM_OF_ETH_DST"],
    ],
    { aliases: ["dl_dst"] },
  ),
  spec(
    "eth_type",
    2,
    false,
    "none",
    [
      [B, 5, "OXM_OF_ETH_TYPE"],
      [N0, 3, "NXM_OF_ETH_TYPE"],
    ],
    { aliases: ["dl_type"], readOnly: true },
  ),
  // OF1.3 vlan_vid: 12-bit VID plus OFPVID_PRESENT (0x1000); > 0x1fff is BAD_VALUE.
  spec("vlan_vid", 2, true, "none", [[B, 6, "OXM_OF_VLAN_VID"]], {
    validMask: 0x1fff,
    bits: 12,
    group: "vlan",
  }),
  spec("vlan_pcp", 1, false, "vlan_vid", [[B, 7, "OXM_OF_VLAN_PCP"]], { validMask: 0x07, bits: 3 }),
  spec("vlan_tci", 2, true, "none", [[N0, 4, "NXM_OF_VLAN_TCI"]], { group: "vlan" }),
  spec("mpls_tc", 1, false, "mpls", [[B, 35, "OXM_OF_MPLS_TC"]], { validMask: 0x07, bits: 3 }),
  spec("mpls_bos", 1, false, "mpls", [[B, 36, "OXM_OF_MPLS_BOS"]], {
    validMask: 0x01,
    bits: 1,
    readOnly: true,
  }),
  spec("mpls_ttl", 1, false, "mpls", [[N1, 30, "NXM_NX_MPLS_TTL"]]),
  spec("mpls_label", 4, false, "mpls", [[B, 34, "OXM_OF_MPLS_LABEL"]], {
    validMask: 0xfffff,
    bits: 20,
  }),
  spec("pbb_isid", 3, true, "pbb", [[B, 37, "OXM_OF_PBB_ISID"]]),
  spec(
    "ip_src",
    4,
    true,
    "ipv4",
    [
      [B, 11, "OXM_OF_IPV4_SRC"],
      [N0, 7, "NXM_OF_IP_SRC"],
    ],
    { aliases: ["nw_src", "ipv4_src"] },
  ),
  spec(
    "ip_dst",
    4,
    true,
    "ipv4",
    [
      [B, 12, "OXM_OF_IPV4_DST"],
      [N0, 8, "NXM_OF_IP_DST"],
    ],
    { aliases: ["nw_dst", "ipv4_dst"] },
  ),
  spec("ipv6_src", 16, true, "ipv6", [
    [B, 26, "OXM_OF_IPV6_SRC"],
    [N1, 19, "NXM_NX_IPV6_SRC"],
  ]),
  spec("ipv6_dst", 16, true, "ipv6", [
    [B, 27, "OXM_OF_IPV6_DST"],
    [N1, 20, "NXM_NX_IPV6_DST"],
  ]),
  spec("ip_frag", 1, true, "ip_any", [[N1, 26, "NXM_NX_IP_FRAG"]], {
    aliases: ["nw_frag"],
    validMask: 0x03,
    bits: 2,
    readOnly: true,
  }),
  // OXM ip_dscp is the 6-bit DSCP; NXM_OF_IP_TOS carries it in the upper 6 bits of the TOS byte.
  spec("ip_dscp", 1, false, "ip_any", [[B, 8, "OXM_OF_IP_DSCP"]], {
    validMask: 0x3f,
    bits: 6,
    group: "ip_dscp",
  }),
  spec("nw_tos", 1, false, "ip_any", [[N0, 5, "NXM_OF_IP_TOS"]], {
    validMask: 0xfc,
    group: "ip_dscp",
  }),
  spec(
    "nw_ecn",
    1,
    false,
    "ip_any",
    [
      [B, 9, "OXM_OF_IP_ECN"],
      [N1, 28, "NXM_NX_IP_ECN"],
    ],
    { aliases: ["ip_ecn"], validMask: 0x03, bits: 2 },
  ),
  spec("nw_ttl", 1, false, "ip_any", [[N1, 29, "NXM_NX_IP_TTL"]], { aliases: ["ip_ttl"] }),
  spec(
    "ipv6_label",
    4,
    true,
    "ipv6",
    [
      [B, 28, "OXM_OF_IPV6_FLABEL"],
      [N1, 27, "NXM_NX_IPV6_LABEL"],
    ],
    { aliases: ["ipv6_flabel"], validMask: 0xfffff, bits: 20 },
  ),
  spec("ipv6_exthdr", 2, true, "ipv6", [[B, 39, "OXM_OF_IPV6_EXTHDR"]], {
    validMask: 0x1ff,
    bits: 9,
  }),
  spec(
    "nw_proto",
    1,
    false,
    "ip_any",
    [
      [B, 10, "OXM_OF_IP_PROTO"],
      [N0, 6, "NXM_OF_IP_PROTO"],
    ],
    { aliases: ["ip_proto"], readOnly: true },
  ),
  spec(
    "tcp_src",
    2,
    true,
    "tcp",
    [
      [B, 13, "OXM_OF_TCP_SRC"],
      [N0, 9, "NXM_OF_TCP_SRC"],
    ],
    { aliases: ["tp_src"], group: "tp_src" },
  ),
  spec(
    "tcp_dst",
    2,
    true,
    "tcp",
    [
      [B, 14, "OXM_OF_TCP_DST"],
      [N0, 10, "NXM_OF_TCP_DST"],
    ],
    { aliases: ["tp_dst"], group: "tp_dst" },
  ),
  spec(
    "tcp_flags",
    2,
    true,
    "tcp",
    [
      [EXP, 42, "ONFOXM_ET_TCP_FLAGS", ONF],
      [N1, 34, "NXM_NX_TCP_FLAGS"],
    ],
    { validMask: 0x0fff, bits: 12, readOnly: true },
  ),
  spec(
    "udp_src",
    2,
    true,
    "udp",
    [
      [B, 15, "OXM_OF_UDP_SRC"],
      [N0, 11, "NXM_OF_UDP_SRC"],
    ],
    { group: "tp_src" },
  ),
  spec(
    "udp_dst",
    2,
    true,
    "udp",
    [
      [B, 16, "OXM_OF_UDP_DST"],
      [N0, 12, "NXM_OF_UDP_DST"],
    ],
    { group: "tp_dst" },
  ),
  spec("sctp_src", 2, true, "sctp", [[B, 17, "OXM_OF_SCTP_SRC"]], { group: "tp_src" }),
  spec("sctp_dst", 2, true, "sctp", [[B, 18, "OXM_OF_SCTP_DST"]], { group: "tp_dst" }),
  spec(
    "icmp_type",
    1,
    false,
    "icmpv4",
    [
      [B, 19, "OXM_OF_ICMPV4_TYPE"],
      [N0, 13, "NXM_OF_ICMP_TYPE"],
    ],
    { aliases: ["icmpv4_type"], group: "tp_src" },
  ),
  spec(
    "icmp_code",
    1,
    false,
    "icmpv4",
    [
      [B, 20, "OXM_OF_ICMPV4_CODE"],
      [N0, 14, "NXM_OF_ICMP_CODE"],
    ],
    { aliases: ["icmpv4_code"], group: "tp_dst" },
  ),
  spec(
    "icmpv6_type",
    1,
    false,
    "icmpv6",
    [
      [B, 29, "OXM_OF_ICMPV6_TYPE"],
      [N1, 21, "NXM_NX_ICMPV6_TYPE"],
    ],
    { group: "tp_src" },
  ),
  spec(
    "icmpv6_code",
    1,
    false,
    "icmpv6",
    [
      [B, 30, "OXM_OF_ICMPV6_CODE"],
      [N1, 22, "NXM_NX_ICMPV6_CODE"],
    ],
    { group: "tp_dst" },
  ),
  spec(
    "nd_target",
    16,
    true,
    "nd",
    [
      [B, 31, "OXM_OF_IPV6_ND_TARGET"],
      [N1, 23, "NXM_NX_ND_TARGET"],
    ],
    { aliases: ["ipv6_nd_target"] },
  ),
  spec(
    "nd_sll",
    6,
    true,
    "nd_solicit",
    [
      [B, 32, "OXM_OF_IPV6_ND_SLL"],
      [N1, 24, "NXM_NX_ND_SLL"],
    ],
    { aliases: ["ipv6_nd_sll"] },
  ),
  spec(
    "nd_tll",
    6,
    true,
    "nd_advert",
    [
      [B, 33, "OXM_OF_IPV6_ND_TLL"],
      [N1, 25, "NXM_NX_ND_TLL"],
    ],
    { aliases: ["ipv6_nd_tll"] },
  ),
  spec(
    "arp_op",
    2,
    false,
    "arp",
    [
      [B, 21, "OXM_OF_ARP_OP"],
      [N0, 15, "NXM_OF_ARP_OP"],
    ],
    { validMask: 0x00ff },
  ),
  spec("arp_spa", 4, true, "arp", [
    [B, 22, "OXM_OF_ARP_SPA"],
    [N0, 16, "NXM_OF_ARP_SPA"],
  ]),
  spec("arp_tpa", 4, true, "arp", [
    [B, 23, "OXM_OF_ARP_TPA"],
    [N0, 17, "NXM_OF_ARP_TPA"],
  ]),
  spec("arp_sha", 6, true, "arp", [
    [B, 24, "OXM_OF_ARP_SHA"],
    [N1, 17, "NXM_NX_ARP_SHA"],
  ]),
  spec("arp_tha", 6, true, "arp", [
    [B, 25, "OXM_OF_ARP_THA"],
    [N1, 18, "NXM_NX_ARP_THA"],
  ]),
  spec(
    "tun_id",
    8,
    true,
    "none",
    [
      [B, 38, "OXM_OF_TUNNEL_ID"],
      [N1, 16, "NXM_NX_TUN_ID"],
    ],
    { aliases: ["tunnel_id"] },
  ),
  spec("tun_flags", 2, true, "none", [[N1, 104, "NXM_NX_TUN_FLAGS"]], {
    validMask: 0x0001,
    bits: 1,
  }),
  spec("tun_src", 4, true, "none", [[N1, 31, "NXM_NX_TUN_IPV4_SRC"]], {
    aliases: ["tun_ipv4_src"],
  }),
  spec("tun_dst", 4, true, "none", [[N1, 32, "NXM_NX_TUN_IPV4_DST"]], {
    aliases: ["tun_ipv4_dst"],
  }),
  spec("tun_ipv6_src", 16, true, "none", [[N1, 109, "NXM_NX_TUN_IPV6_SRC"]]),
  spec("tun_ipv6_dst", 16, true, "none", [[N1, 110, "NXM_NX_TUN_IPV6_DST"]]),
  spec("tun_gbp_id", 2, true, "none", [[N1, 38, "NXM_NX_TUN_GBP_ID"]]),
  spec("tun_gbp_flags", 1, true, "none", [[N1, 39, "NXM_NX_TUN_GBP_FLAGS"]]),
  ...tunMetadataSpecs,
  ...regSpecs,
  ...xregSpecs,
  ...xxregSpecs,
  spec("pkt_mark", 4, true, "none", [[N1, 33, "NXM_NX_PKT_MARK"]]),
  // ct_state bits: new est rel rpl inv trk snat dnat (OVS CS_SUPPORTED_MASK = 0xff).
  spec("ct_state", 4, true, "none", [[N1, 105, "NXM_NX_CT_STATE"]], {
    validMask: 0xff,
    readOnly: true,
  }),
  spec("ct_zone", 2, false, "none", [[N1, 106, "NXM_NX_CT_ZONE"]], { readOnly: true }),
  spec("ct_mark", 4, true, "none", [[N1, 107, "NXM_NX_CT_MARK"]]),
  spec("ct_label", 16, true, "none", [[N1, 108, "NXM_NX_CT_LABEL"]]),
  spec("ct_nw_src", 4, true, "ct_valid", [[N1, 120, "NXM_NX_CT_NW_SRC"]], { readOnly: true }),
  spec("ct_ipv6_src", 16, true, "ct_valid", [[N1, 122, "NXM_NX_CT_IPV6_SRC"]], {
    readOnly: true,
  }),
  spec("ct_nw_dst", 4, true, "ct_valid", [[N1, 121, "NXM_NX_CT_NW_DST"]], { readOnly: true }),
  spec("ct_ipv6_dst", 16, true, "ct_valid", [[N1, 123, "NXM_NX_CT_IPV6_DST"]], {
    readOnly: true,
  }),
  spec("ct_nw_proto", 1, false, "ct_valid", [[N1, 119, "NXM_NX_CT_NW_PROTO"]], {
    readOnly: true,
  }),
  spec("ct_tp_src", 2, true, "ct_valid", [[N1, 124, "NXM_NX_CT_TP_SRC"]], { readOnly: true }),
  spec("ct_tp_dst", 2, true, "ct_valid", [[N1, 125, "NXM_NX_CT_TP_DST"]], { readOnly: true }),
  spec("metadata", 8, true, "none", [[B, 2, "OXM_OF_METADATA"]]),
];

function headerOf(cls: number, field: number): number {
  return ((cls << 16) | (field << 9)) >>> 0;
}

/** Map key for a header: the 23 class+field bits, or (for class 0xffff) folded with the experimenter id. */
function headerKey(header: number, experimenter: number | undefined): number {
  const h = (header & OXM_HEADER_KEY_MASK) >>> 0;
  if (h >>> 16 !== OXM_CLASS.EXPERIMENTER) return h;
  // 2^32 + experimenter * 128 + field stays below 2^53.
  return 0x1_0000_0000 + (experimenter ?? 0) * 128 + ((h >>> 9) & 0x7f);
}

function buildTable(): {
  fields: OxmField[];
  byHeader: Map<number, OxmField>;
  byName: Map<string, OxmField>;
} {
  const fields: OxmField[] = [];
  const byHeader = new Map<number, OxmField>();
  const byName = new Map<string, OxmField>();
  const groups = new Map<string, number>();
  SPECS.forEach((s, order) => {
    const groupName = s.group ?? s.name + "#" + order;
    let group = groups.get(groupName);
    if (group === undefined) {
      group = groups.size;
      groups.set(groupName, group);
    }
    s.headers.forEach(([cls, fieldNo, nxmName, experimenter], i) => {
      const row: OxmField = {
        name: s.name,
        oxmClass: cls,
        oxmField: fieldNo,
        experimenter: cls === OXM_CLASS.EXPERIMENTER ? experimenter : undefined,
        size: s.size,
        maskable: s.maskable,
        prereq: s.prereq,
        nxmName,
        header: headerOf(cls, fieldNo),
        logical: s.name,
        group: group!,
        order,
        preferred: i === 0 && !(s.secondary ?? false),
        validMask: s.validMask,
        ofPort: s.ofPort ?? false,
        writable: !(s.readOnly ?? false),
        bits: s.bits ?? s.size * 8,
        variable: s.variable ?? false,
      };
      const key = headerKey(row.header, row.experimenter);
      if (byHeader.has(key)) throw new Error(`duplicate OXM header ${nxmName}`);
      byHeader.set(key, row);
      fields.push(row);
      byName.set(nxmName, row);
      if (row.preferred) {
        byName.set(s.name, row);
        for (const alias of s.aliases ?? []) byName.set(alias, row);
      }
    });
  });
  return { fields, byHeader, byName };
}

const TABLE = buildTable();

/** Every registry row (one per wire header), in canonical order. */
export const OXM_FIELDS: readonly OxmField[] = TABLE.fields;

/**
 * Direct-indexed rows for the four non-experimenter classes we know (NXM0,
 * NXM1, basic, packet regs): index = class slot * 128 + field. The hot decode
 * path avoids hashing.
 */
const FAST: (OxmField | undefined)[] = new Array<OxmField | undefined>(4 * 128).fill(undefined);
function fastSlot(cls: number): number {
  switch (cls) {
    case OXM_CLASS.NXM_0:
      return 0;
    case OXM_CLASS.NXM_1:
      return 1;
    case OXM_CLASS.OPENFLOW_BASIC:
      return 2;
    case OXM_CLASS.PACKET_REGS:
      return 3;
    default:
      return -1;
  }
}
for (const f of TABLE.fields) {
  const slot = fastSlot(f.oxmClass);
  if (slot >= 0) FAST[slot * 128 + f.oxmField] = f;
}

/** The row for a 32-bit header (hasmask and length bits ignored); `experimenter` for class 0xffff. */
export function fieldByHeader(header: number, experimenter?: number): OxmField | undefined {
  const slot = fastSlot(header >>> 16);
  if (slot >= 0) return FAST[slot * 128 + ((header >>> 9) & 0x7f)];
  return TABLE.byHeader.get(headerKey(header, experimenter));
}

/**
 * The row for a name as ovs-ofctl accepts it: OVS field names and their
 * aliases (`dl_src`, `nw_dst`, `tun_id`, `tunnel_id`) give the header OVS
 * writes in OF1.3; header names (`NXM_OF_ETH_SRC`, `NXM_NX_REG6`,
 * `OXM_OF_IN_PORT`, `NXM_NX_TUN_ID`) give exactly that header.
 */
export function fieldByName(name: string): OxmField | undefined {
  return TABLE.byName.get(name);
}

/** The header OVS would write in OF1.3 for the same logical field as `f`. */
export function preferredField(f: OxmField): OxmField {
  if (f.preferred) return f;
  return fieldByName(f.logical) ?? f;
}

/** The wire header (with hasmask and length) for `f`. */
export function oxmHeader(f: OxmField, masked: boolean, width: number = f.size): number {
  const payload = (masked ? 2 * width : width) + (f.experimenter === undefined ? 0 : 4);
  return (f.header | (masked ? OXM_HASMASK : 0) | payload) >>> 0;
}

// ---------------------------------------------------------------------------
// Single TLV codec
// ---------------------------------------------------------------------------

/** True when some value bit is set where the mask is 0 (OVS `is_mask_consistent`, inverted). */
export function valueOutsideMask(
  buf: Uint8Array,
  valueAt: number,
  maskAt: number,
  width: number,
): boolean {
  for (let i = 0; i < width; i++) {
    if ((buf[valueAt + i]! & ~buf[maskAt + i]!) !== 0) return true;
  }
  return false;
}

/** Mask acceptable for the field: any for maskable ones, all-zeros/all-ones otherwise (OVS `mf_is_mask_valid`). */
export function isMaskAllowed(f: OxmField, mask: Uint8Array): boolean {
  if (f.maskable) return true;
  let ones = true;
  let zeros = true;
  for (let i = 0; i < mask.length; i++) {
    const b = mask[i]!;
    if (b !== 0xff) ones = false;
    if (b !== 0) zeros = false;
  }
  return ones || zeros;
}

/** Big-endian number from up to 4 bytes. */
export function smallValue(bytes: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < bytes.length; i++) v = v * 256 + bytes[i]!;
  return v;
}

/** OVS `mf_is_value_valid`: reserved bits clear, ports in the OF1.1 range. */
export function isValueValid(f: OxmField, value: Uint8Array): boolean {
  if (f.validMask === undefined && !f.ofPort) return true;
  const v = smallValue(value);
  if (f.validMask !== undefined && v - (v & f.validMask) !== 0) return false;
  // ofputil_port_from_ofp11: 0..0xfeff and 0xffffff00..0xffffffff only.
  if (f.ofPort && v >= 0xff00 && v < 0xffffff00) return false;
  return true;
}

/**
 * How much of OVS's meaning a decoder checks (OVS `nx-match.c`):
 * - `STRUCTURAL`: layout only (lengths); unknown TLVs are kept, values, masks
 *   and wildcards are taken as they come, duplicates allowed. For a faithful
 *   decode∘encode of whatever a peer sent (the lenient vector round trip,
 *   switch → controller messages a controller should not refuse).
 * - `LOOSE`: OVS `oxm_pull_match_loose`: BAD_WILDCARDS, BAD_MASK, BAD_VALUE and
 *   DUP_FIELD as OVS checks them; unknown TLVs kept; prerequisites unchecked.
 * - `STRICT`: OVS `oxm_pull_match` (FLOW_MOD): also BAD_FIELD and BAD_PREREQ.
 */
export const MATCH_MODE = { STRUCTURAL: 0, LOOSE: 1, STRICT: 2 } as const;
export type MatchMode = (typeof MATCH_MODE)[keyof typeof MATCH_MODE];

/**
 * Decodes one OXM TLV as a match entry (OVS `nx_pull_match_entry`): lengths
 * (OFPBMC_BAD_LEN), value outside mask (OFPBMC_BAD_WILDCARDS), unknown header
 * or a known header with the wrong width (OFPBMC_BAD_FIELD in strict mode, an
 * {@link UnknownOxm} otherwise), mask on a non-maskable field
 * (OFPBMC_BAD_MASK), reserved value bits (OFPBMC_BAD_VALUE); see
 * {@link MATCH_MODE}. Prerequisites and duplicates are match-level checks
 * (match.ts). Value and mask alias `r.buf` (see {@link decodeOxmAt}).
 */
export function decodeOxmTlv(
  r: Reader,
  mode: "strict" | "loose" | "structural" = "strict",
): MatchEntry {
  const m =
    mode === "strict"
      ? MATCH_MODE.STRICT
      : mode === "loose"
        ? MATCH_MODE.LOOSE
        : MATCH_MODE.STRUCTURAL;
  const e = decodeOxmAt(r.buf, r.pos, r.end, m);
  r.pos = oxmCursor.next;
  return e;
}

/**
 * Where the TLV decoded by the last {@link decodeOxmAt} call ends (absolute
 * offset). A shared cursor instead of a returned pair keeps decode allocation-free.
 */
export const oxmCursor = { next: 0 };

/**
 * {@link decodeOxmTlv} on raw offsets: the TLV at `at`, not reading past
 * `end`. Sets {@link oxmCursor}.
 *
 * Aliasing contract: `value`, `mask` and `payload` are `subarray` views of
 * `buf`, not copies (decodeMessage gets a message the framer already copied
 * out of the socket stream, so nothing reuses those bytes). A caller that
 * decodes from a buffer it will overwrite must copy the input first.
 */
export function decodeOxmAt(buf: Uint8Array, at: number, end: number, mode: MatchMode): MatchEntry {
  if (end - at < 4) throw new OfpError("OFPBMC_BAD_LEN", "truncated OXM header", { offset: at });
  const header = getU32(buf, at);
  const len = header & OXM_LENGTH_MASK;
  let p = at + 4;
  let experimenter: number | undefined;
  let payloadLen = len;
  let field: OxmField | undefined;
  if (header >>> 16 === OXM_CLASS.EXPERIMENTER) {
    // The experimenter id counts in the OXM length (codec.md point 5).
    if (end - at < 8 || len < 4) {
      throw new OfpError("OFPBMC_BAD_LEN", "truncated experimenter OXM", { offset: at });
    }
    experimenter = getU32(buf, p);
    p += 4;
    payloadLen = len - 4;
    field = TABLE.byHeader.get(headerKey(header, experimenter));
  } else {
    const slot = fastSlot(header >>> 16);
    field = slot >= 0 ? FAST[slot * 128 + ((header >>> 9) & 0x7f)] : undefined;
  }
  if (end - p < payloadLen) {
    throw new OfpError("OFPBMC_BAD_LEN", `OXM payload of ${payloadLen} bytes overruns`, {
      offset: at,
    });
  }
  const next = p + payloadLen;
  oxmCursor.next = next;
  const hasMask = (header & OXM_HASMASK) !== 0;
  const width = hasMask ? payloadLen >>> 1 : payloadLen;
  const checks = mode !== MATCH_MODE.STRUCTURAL;
  if (checks && hasMask && valueOutsideMask(buf, p, p + width, width)) {
    throw new OfpError("OFPBMC_BAD_WILDCARDS", "OXM value has bits outside its mask", {
      offset: at,
    });
  }
  if (
    field === undefined ||
    (field.variable ? width === 0 || width > field.size : width !== field.size) ||
    (hasMask && 2 * width !== payloadLen)
  ) {
    if (mode === MATCH_MODE.STRICT) {
      throw new OfpError(
        "OFPBMC_BAD_FIELD",
        `unknown OXM header 0x${header.toString(16).padStart(8, "0")}`,
        { offset: at },
      );
    }
    return { field: undefined, header, experimenter, payload: buf.subarray(p, next) };
  }
  const value = buf.subarray(p, p + width);
  let mask: Uint8Array | undefined;
  if (hasMask) {
    mask = buf.subarray(p + width, next);
    if (checks && !field.maskable && !isMaskAllowed(field, mask)) {
      throw new OfpError("OFPBMC_BAD_MASK", `${field.name} is not maskable`, { offset: at });
    }
  }
  if (checks && (field.validMask !== undefined || field.ofPort) && !isValueValid(field, value)) {
    throw new OfpError("OFPBMC_BAD_VALUE", `invalid value for ${field.name}`, { offset: at });
  }
  return { field, value, mask };
}

/** Whether a received value width is acceptable for `f` (exact, or 1..size when variable). */
export function widthFits(f: OxmField, width: number): boolean {
  return f.variable ? width > 0 && width <= f.size : width === f.size;
}

/** Writes one TLV (header, experimenter id, value, mask); lengths come from the field. */
export function encodeOxmTlv(w: Writer, e: MatchEntry): void {
  if (e.field === undefined) {
    const expLen = e.experimenter === undefined ? 0 : 4;
    const len = e.payload.length + expLen;
    if (len > OXM_LENGTH_MASK) throw new RangeError(`OXM payload of ${len} bytes exceeds 255`);
    w.u32(((e.header & ~OXM_LENGTH_MASK) | len) >>> 0);
    if (e.experimenter !== undefined) w.u32(e.experimenter);
    w.bytes(e.payload);
    return;
  }
  const f = e.field;
  const value = e.value;
  const mask = e.mask;
  const width = value.length;
  if (!widthFits(f, width) || (mask !== undefined && mask.length !== width)) {
    throw new RangeError(`${f.name}: value/mask must be ${f.size} bytes`);
  }
  // Hot path (every match entry and set_field): one reservation, direct
  // stores; the header is oxmHeader() computed inline.
  const experimenter = f.experimenter;
  const payload = (mask === undefined ? width : 2 * width) + (experimenter === undefined ? 0 : 4);
  const b = w.reserve(4 + payload);
  let p = w.pos;
  putU32(b, p, f.header | (mask === undefined ? 0 : OXM_HASMASK) | payload);
  p += 4;
  if (experimenter !== undefined) {
    putU32(b, p, experimenter);
    p += 4;
  }
  for (let i = 0; i < width; i++) b[p + i] = value[i]!;
  p += width;
  if (mask !== undefined) {
    for (let i = 0; i < width; i++) b[p + i] = mask[i]!;
    p += width;
  }
  w.pos = p;
}

/** Encoded size of one TLV. */
export function oxmTlvSize(e: MatchEntry): number {
  if (e.field === undefined) return 4 + (e.experimenter === undefined ? 0 : 4) + e.payload.length;
  return 4 + (e.field.experimenter === undefined ? 0 : 4) + (e.mask ? 2 : 1) * e.value.length;
}
