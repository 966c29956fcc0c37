/**
 * The text layer's view of OVS meta-flow fields (`include/openvswitch/meta-flow.h`).
 *
 * One row per field as ovs-ofctl names it: its text names, width, value
 * syntax, prerequisite, which slot of the OVS-style flow/wildcards model
 * ({@link ./flow-match.ts}) it reads and writes, and its wire headers:
 *
 * - `nxm`: the legacy NXM header and name (0x0000 / 0x0001 classes). OVS
 *   prefers it when it names a field in `load:`/`move:`/`learn` text and when
 *   it encodes field references in Nicira actions (`nxm_field_by_mf_id(id, 0)`).
 * - `oxm`: the standard (or ONF experimenter) OXM header with the OpenFlow
 *   version that introduced it. In an OF1.3 match or set_field OVS uses it when
 *   that version is ≤ 1.3, otherwise the NXM header (`mf_oxm_header(id, OF13)`).
 *
 * This table is the single source for names ↔ headers ↔ semantics in
 * codec/text; the binary registry (codec/oxm.ts) stays the source for decoding.
 */

/** How ovs-ofctl writes a field's value (`enum mf_string`). */
export type FieldFormat =
  | "decimal"
  | "hex"
  | "ethernet"
  | "ipv4"
  | "ipv6"
  | "port16"
  | "port32"
  | "frag"
  | "tun_flags"
  | "ct_state"
  | "tcp_flags"
  | "packet_type";

/** `enum mf_prereqs`. */
export type Prereq =
  | "none"
  | "ethernet"
  | "arp"
  | "ipv4"
  | "ipv6"
  | "ip_any"
  | "vlan_vid"
  | "mpls"
  | "tcp"
  | "udp"
  | "sctp"
  | "icmpv4"
  | "icmpv6"
  | "nd"
  | "nd_solicit"
  | "nd_advert"
  | "ct";

/** Slots of the flow/wildcards model, named after OVS `struct flow` members. */
export const SLOT_BITS = {
  packet_type: 32,
  recirc_id: 32,
  conj_id: 32,
  tun_id: 64,
  tun_src: 32,
  tun_dst: 32,
  tun_ipv6_src: 128,
  tun_ipv6_dst: 128,
  tun_flags: 16,
  tun_gbp_id: 16,
  tun_gbp_flags: 8,
  metadata: 64,
  in_port: 16,
  actset_output: 16,
  pkt_mark: 32,
  ct_state: 32,
  ct_zone: 16,
  ct_mark: 32,
  ct_label: 128,
  ct_nw_proto: 8,
  ct_nw_src: 32,
  ct_nw_dst: 32,
  ct_ipv6_src: 128,
  ct_ipv6_dst: 128,
  ct_tp_src: 16,
  ct_tp_dst: 16,
  reg0: 32,
  reg1: 32,
  reg2: 32,
  reg3: 32,
  reg4: 32,
  reg5: 32,
  reg6: 32,
  reg7: 32,
  reg8: 32,
  reg9: 32,
  reg10: 32,
  reg11: 32,
  reg12: 32,
  reg13: 32,
  reg14: 32,
  reg15: 32,
  dl_src: 48,
  dl_dst: 48,
  dl_type: 16,
  vlan_tci: 16,
  mpls_lse: 32,
  nw_src: 32,
  nw_dst: 32,
  ipv6_src: 128,
  ipv6_dst: 128,
  ipv6_label: 32,
  nw_proto: 8,
  nw_tos: 8,
  nw_ttl: 8,
  nw_frag: 8,
  tp_src: 16,
  tp_dst: 16,
  tcp_flags: 16,
  arp_sha: 48,
  arp_tha: 48,
  nd_target: 128,
} as const;
export type Slot = keyof typeof SLOT_BITS;
export const SLOTS = Object.keys(SLOT_BITS) as readonly Slot[];

/**
 * How a field's value maps onto its slot (OVS `mf_set_value` / `mf_get_value`):
 * - `plain`: the field is the slot (same width).
 * - `port16` / `port32`: OF1.0 16-bit or OF1.1+ 32-bit port into the 16-bit slot.
 * - `low8`: a 16-bit field stored in an 8-bit slot (arp_op in nw_proto).
 * - `u8_in_u16`: an 8-bit field stored in a 16-bit slot (ICMP type/code in tp_src/tp_dst).
 * - `bits`: a bit-range of the slot (`shift`, `width`), e.g. DSCP in nw_tos.
 * - `dl_vlan`, `vlan_vid`, `dl_vlan_pcp`: the 802.1Q TCI special cases.
 */
export type SlotMap =
  | { readonly kind: "plain"; readonly slot: Slot }
  | { readonly kind: "port16"; readonly slot: Slot }
  | { readonly kind: "port32"; readonly slot: Slot }
  | { readonly kind: "low8"; readonly slot: Slot }
  | { readonly kind: "u8_in_u16"; readonly slot: Slot }
  | { readonly kind: "bits"; readonly slot: Slot; readonly shift: number; readonly width: number }
  | { readonly kind: "dl_vlan" }
  | { readonly kind: "vlan_vid" }
  | { readonly kind: "dl_vlan_pcp" }
  /**
   * `xreg`/`xxreg`: `count` consecutive 32-bit registers from `reg{first}`,
   * the first holding the most significant word (OVS `flow_get_xreg`).
   */
  | { readonly kind: "regs"; readonly first: number; readonly count: number }
  /**
   * `tun_metadata<index>`: variable width (up to 124 bytes); without a switch
   * TLV map OVS sizes each from the value it is given (see flow-match.ts).
   */
  | { readonly kind: "tun_metadata"; readonly index: number };

export interface WireHeader {
  readonly oxmClass: number;
  readonly oxmField: number;
  readonly experimenter?: number;
  readonly name: string;
  /** OpenFlow wire version that introduced an OXM header (NXM headers: 0). */
  readonly version: number;
}

export interface TextField {
  readonly name: string;
  readonly aliases: readonly string[];
  /** Width on the wire, in bytes. */
  readonly bytes: number;
  /** Meaningful bits (`n_bits`), e.g. 12 for dl_vlan. */
  readonly bits: number;
  readonly maskable: boolean;
  readonly format: FieldFormat;
  readonly prereq: Prereq;
  readonly map: SlotMap;
  readonly nxm?: WireHeader;
  readonly oxm?: WireHeader;
  /** Whether `set_field`/`load` may write it (OVS `mf_field.writable`). */
  readonly writable: boolean;
}

const OF12 = 3;
const OF13 = 4;
const OF15 = 6;
export const ONF_EXPERIMENTER = 0x4f4e4600;

const nx0 = (field: number, name: string): WireHeader => ({
  oxmClass: 0x0000,
  oxmField: field,
  name,
  version: 0,
});
const nx1 = (field: number, name: string): WireHeader => ({
  oxmClass: 0x0001,
  oxmField: field,
  name,
  version: 0,
});
const of = (field: number, name: string, version = OF12): WireHeader => ({
  oxmClass: 0x8000,
  oxmField: field,
  name,
  version,
});
const onf = (field: number, name: string): WireHeader => ({
  oxmClass: 0xffff,
  oxmField: field,
  experimenter: ONF_EXPERIMENTER,
  name,
  version: OF13,
});

const plain = (slot: Slot): SlotMap => ({ kind: "plain", slot });
/** TUN_METADATA_TOT_OPT_SIZE's per-field maximum: 124 bytes. */
export const TUN_METADATA_BYTES = 124;

interface Row {
  name: string;
  aliases?: string[];
  bytes: number;
  bits?: number;
  maskable: boolean;
  format: FieldFormat;
  prereq: Prereq;
  map: SlotMap;
  nxm?: WireHeader;
  oxm?: WireHeader;
  writable?: boolean;
}

const ROWS: Row[] = [
  {
    // OXM_OF_PACKET_TYPE: namespace << 16 | type. OVS 3.1 writes it in OF1.3
    // too (first in the match), so its OXM counts as usable in OF1.3 here.
    name: "packet_type",
    bytes: 4,
    maskable: false,
    format: "packet_type",
    prereq: "none",
    map: plain("packet_type"),
    oxm: of(44, "OXM_OF_PACKET_TYPE", OF13),
    writable: false,
  },
  {
    name: "recirc_id",
    bytes: 4,
    maskable: false,
    format: "decimal",
    prereq: "none",
    map: plain("recirc_id"),
    nxm: nx1(36, "NXM_NX_RECIRC_ID"),
    writable: false,
  },
  {
    name: "conj_id",
    bytes: 4,
    maskable: false,
    format: "decimal",
    prereq: "none",
    map: plain("conj_id"),
    nxm: nx1(37, "NXM_NX_CONJ_ID"),
    writable: false,
  },
  {
    name: "tun_id",
    aliases: ["tunnel_id"],
    bytes: 8,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: plain("tun_id"),
    nxm: nx1(16, "NXM_NX_TUN_ID"),
    oxm: of(38, "OXM_OF_TUNNEL_ID", OF13),
  },
  {
    name: "tun_src",
    bytes: 4,
    maskable: true,
    format: "ipv4",
    prereq: "none",
    map: plain("tun_src"),
    nxm: nx1(31, "NXM_NX_TUN_IPV4_SRC"),
  },
  {
    name: "tun_dst",
    bytes: 4,
    maskable: true,
    format: "ipv4",
    prereq: "none",
    map: plain("tun_dst"),
    nxm: nx1(32, "NXM_NX_TUN_IPV4_DST"),
  },
  {
    name: "tun_ipv6_src",
    bytes: 16,
    maskable: true,
    format: "ipv6",
    prereq: "none",
    map: plain("tun_ipv6_src"),
    nxm: nx1(109, "NXM_NX_TUN_IPV6_SRC"),
  },
  {
    name: "tun_ipv6_dst",
    bytes: 16,
    maskable: true,
    format: "ipv6",
    prereq: "none",
    map: plain("tun_ipv6_dst"),
    nxm: nx1(110, "NXM_NX_TUN_IPV6_DST"),
  },
  {
    name: "tun_flags",
    bytes: 2,
    bits: 1,
    maskable: true,
    format: "tun_flags",
    prereq: "none",
    map: plain("tun_flags"),
    nxm: nx1(104, "NXM_NX_TUN_FLAGS"),
  },
  {
    name: "tun_gbp_id",
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "none",
    map: plain("tun_gbp_id"),
    nxm: nx1(38, "NXM_NX_TUN_GBP_ID"),
  },
  {
    name: "tun_gbp_flags",
    bytes: 1,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: plain("tun_gbp_flags"),
    nxm: nx1(39, "NXM_NX_TUN_GBP_FLAGS"),
  },
  {
    name: "metadata",
    bytes: 8,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: plain("metadata"),
    oxm: of(2, "OXM_OF_METADATA"),
  },
  {
    name: "in_port",
    bytes: 2,
    maskable: false,
    format: "port16",
    prereq: "none",
    map: { kind: "port16", slot: "in_port" },
    nxm: nx0(0, "NXM_OF_IN_PORT"),
  },
  {
    name: "in_port_oxm",
    bytes: 4,
    maskable: false,
    format: "port32",
    prereq: "none",
    map: { kind: "port32", slot: "in_port" },
    oxm: of(0, "OXM_OF_IN_PORT"),
  },
  {
    name: "actset_output",
    bytes: 4,
    maskable: false,
    format: "port32",
    prereq: "none",
    map: { kind: "port32", slot: "actset_output" },
    oxm: onf(43, "ONFOXM_ET_ACTSET_OUTPUT"),
    writable: false,
  },
  {
    name: "pkt_mark",
    bytes: 4,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: plain("pkt_mark"),
    nxm: nx1(33, "NXM_NX_PKT_MARK"),
  },
  {
    name: "ct_state",
    bytes: 4,
    maskable: true,
    format: "ct_state",
    prereq: "none",
    map: plain("ct_state"),
    nxm: nx1(105, "NXM_NX_CT_STATE"),
    writable: false,
  },
  {
    name: "ct_zone",
    bytes: 2,
    maskable: false,
    format: "hex",
    prereq: "none",
    map: plain("ct_zone"),
    nxm: nx1(106, "NXM_NX_CT_ZONE"),
    writable: false,
  },
  {
    name: "ct_mark",
    bytes: 4,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: plain("ct_mark"),
    nxm: nx1(107, "NXM_NX_CT_MARK"),
  },
  {
    name: "ct_label",
    bytes: 16,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: plain("ct_label"),
    nxm: nx1(108, "NXM_NX_CT_LABEL"),
  },
  {
    name: "ct_nw_proto",
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "ct",
    map: plain("ct_nw_proto"),
    nxm: nx1(119, "NXM_NX_CT_NW_PROTO"),
    writable: false,
  },
  {
    name: "ct_nw_src",
    bytes: 4,
    maskable: true,
    format: "ipv4",
    prereq: "ct",
    map: plain("ct_nw_src"),
    nxm: nx1(120, "NXM_NX_CT_NW_SRC"),
    writable: false,
  },
  {
    name: "ct_nw_dst",
    bytes: 4,
    maskable: true,
    format: "ipv4",
    prereq: "ct",
    map: plain("ct_nw_dst"),
    nxm: nx1(121, "NXM_NX_CT_NW_DST"),
    writable: false,
  },
  {
    name: "ct_ipv6_src",
    bytes: 16,
    maskable: true,
    format: "ipv6",
    prereq: "ct",
    map: plain("ct_ipv6_src"),
    nxm: nx1(122, "NXM_NX_CT_IPV6_SRC"),
    writable: false,
  },
  {
    name: "ct_ipv6_dst",
    bytes: 16,
    maskable: true,
    format: "ipv6",
    prereq: "ct",
    map: plain("ct_ipv6_dst"),
    nxm: nx1(123, "NXM_NX_CT_IPV6_DST"),
    writable: false,
  },
  {
    name: "ct_tp_src",
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "ct",
    map: plain("ct_tp_src"),
    nxm: nx1(124, "NXM_NX_CT_TP_SRC"),
    writable: false,
  },
  {
    name: "ct_tp_dst",
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "ct",
    map: plain("ct_tp_dst"),
    nxm: nx1(125, "NXM_NX_CT_TP_DST"),
    writable: false,
  },
  ...Array.from({ length: 16 }, (_, i): Row => ({
    name: `reg${i}`,
    bytes: 4,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: plain(`reg${i}` as Slot),
    nxm: nx1(i, `NXM_NX_REG${i}`),
  })),
  ...Array.from({ length: 64 }, (_, i): Row => ({
    name: `tun_metadata${i}`,
    bytes: TUN_METADATA_BYTES,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: { kind: "tun_metadata", index: i },
    nxm: nx1(40 + i, `NXM_NX_TUN_METADATA${i}`),
  })),
  // xreg0..7 (64 bits) and xxreg0..3 (128 bits) are views of reg0..15; in
  // an OF1.3 match OVS writes the underlying regs, in actions their own headers.
  ...Array.from({ length: 8 }, (_, i): Row => ({
    name: `xreg${i}`,
    bytes: 8,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: { kind: "regs", first: 2 * i, count: 2 },
    oxm: { oxmClass: 0x8001, oxmField: i, name: `OXM_OF_PKT_REG${i}`, version: OF13 },
  })),
  ...Array.from({ length: 4 }, (_, i): Row => ({
    name: `xxreg${i}`,
    bytes: 16,
    maskable: true,
    format: "hex",
    prereq: "none",
    map: { kind: "regs", first: 4 * i, count: 4 },
    nxm: nx1(111 + i, `NXM_NX_XXREG${i}`),
  })),
  {
    name: "eth_src",
    aliases: ["dl_src"],
    bytes: 6,
    maskable: true,
    format: "ethernet",
    prereq: "ethernet",
    map: plain("dl_src"),
    nxm: nx0(2, "NXM_OF_ETH_SRC"),
    oxm: of(4, "OXM_OF_ETH_SRC"),
  },
  {
    name: "eth_dst",
    aliases: ["dl_dst"],
    bytes: 6,
    maskable: true,
    format: "ethernet",
    prereq: "ethernet",
    map: plain("dl_dst"),
    nxm: nx0(1, "NXM_OF_ETH_DST"),
    oxm: of(3, "OXM_OF_ETH_DST"),
  },
  {
    name: "eth_type",
    aliases: ["dl_type"],
    bytes: 2,
    maskable: false,
    format: "hex",
    prereq: "ethernet",
    map: plain("dl_type"),
    nxm: nx0(3, "NXM_OF_ETH_TYPE"),
    oxm: of(5, "OXM_OF_ETH_TYPE"),
    writable: false,
  },
  {
    name: "vlan_tci",
    bytes: 2,
    maskable: true,
    format: "hex",
    prereq: "ethernet",
    map: plain("vlan_tci"),
    nxm: nx0(4, "NXM_OF_VLAN_TCI"),
  },
  {
    name: "dl_vlan",
    bytes: 2,
    bits: 12,
    maskable: false,
    format: "decimal",
    prereq: "ethernet",
    map: { kind: "dl_vlan" },
  },
  {
    name: "vlan_vid",
    bytes: 2,
    bits: 12,
    maskable: true,
    format: "decimal",
    prereq: "ethernet",
    map: { kind: "vlan_vid" },
    oxm: of(6, "OXM_OF_VLAN_VID"),
  },
  {
    name: "dl_vlan_pcp",
    bytes: 1,
    bits: 3,
    maskable: false,
    format: "decimal",
    prereq: "ethernet",
    map: { kind: "dl_vlan_pcp" },
  },
  {
    name: "vlan_pcp",
    bytes: 1,
    bits: 3,
    maskable: false,
    format: "decimal",
    prereq: "vlan_vid",
    map: { kind: "dl_vlan_pcp" },
    oxm: of(7, "OXM_OF_VLAN_PCP"),
  },
  {
    name: "mpls_label",
    bytes: 4,
    bits: 20,
    maskable: false,
    format: "decimal",
    prereq: "mpls",
    map: { kind: "bits", slot: "mpls_lse", shift: 12, width: 20 },
    oxm: of(34, "OXM_OF_MPLS_LABEL"),
  },
  {
    name: "mpls_tc",
    bytes: 1,
    bits: 3,
    maskable: false,
    format: "decimal",
    prereq: "mpls",
    map: { kind: "bits", slot: "mpls_lse", shift: 9, width: 3 },
    oxm: of(35, "OXM_OF_MPLS_TC"),
  },
  {
    name: "mpls_bos",
    bytes: 1,
    bits: 1,
    maskable: false,
    format: "decimal",
    prereq: "mpls",
    map: { kind: "bits", slot: "mpls_lse", shift: 8, width: 1 },
    oxm: of(36, "OXM_OF_MPLS_BOS", OF13),
    writable: false,
  },
  {
    name: "mpls_ttl",
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "mpls",
    map: { kind: "bits", slot: "mpls_lse", shift: 0, width: 8 },
    nxm: nx1(30, "NXM_NX_MPLS_TTL"),
  },
  {
    name: "ip_src",
    aliases: ["nw_src"],
    bytes: 4,
    maskable: true,
    format: "ipv4",
    prereq: "ipv4",
    map: plain("nw_src"),
    nxm: nx0(7, "NXM_OF_IP_SRC"),
    oxm: of(11, "OXM_OF_IPV4_SRC"),
  },
  {
    name: "ip_dst",
    aliases: ["nw_dst"],
    bytes: 4,
    maskable: true,
    format: "ipv4",
    prereq: "ipv4",
    map: plain("nw_dst"),
    nxm: nx0(8, "NXM_OF_IP_DST"),
    oxm: of(12, "OXM_OF_IPV4_DST"),
  },
  {
    name: "ipv6_src",
    bytes: 16,
    maskable: true,
    format: "ipv6",
    prereq: "ipv6",
    map: plain("ipv6_src"),
    nxm: nx1(19, "NXM_NX_IPV6_SRC"),
    oxm: of(26, "OXM_OF_IPV6_SRC"),
  },
  {
    name: "ipv6_dst",
    bytes: 16,
    maskable: true,
    format: "ipv6",
    prereq: "ipv6",
    map: plain("ipv6_dst"),
    nxm: nx1(20, "NXM_NX_IPV6_DST"),
    oxm: of(27, "OXM_OF_IPV6_DST"),
  },
  {
    name: "ipv6_label",
    bytes: 4,
    bits: 20,
    maskable: true,
    format: "hex",
    prereq: "ipv6",
    map: plain("ipv6_label"),
    nxm: nx1(27, "NXM_NX_IPV6_LABEL"),
    oxm: of(28, "OXM_OF_IPV6_FLABEL"),
  },
  {
    name: "nw_proto",
    aliases: ["ip_proto"],
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "ip_any",
    map: plain("nw_proto"),
    nxm: nx0(6, "NXM_OF_IP_PROTO"),
    oxm: of(10, "OXM_OF_IP_PROTO"),
    writable: false,
  },
  {
    name: "nw_tos",
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "ip_any",
    map: { kind: "bits", slot: "nw_tos", shift: 0, width: 8 },
    nxm: nx0(5, "NXM_OF_IP_TOS"),
  },
  {
    name: "ip_dscp",
    bytes: 1,
    bits: 6,
    maskable: false,
    format: "decimal",
    prereq: "ip_any",
    map: { kind: "bits", slot: "nw_tos", shift: 2, width: 6 },
    oxm: of(8, "OXM_OF_IP_DSCP"),
  },
  {
    name: "nw_ecn",
    aliases: ["ip_ecn"],
    bytes: 1,
    bits: 2,
    maskable: false,
    format: "decimal",
    prereq: "ip_any",
    map: { kind: "bits", slot: "nw_tos", shift: 0, width: 2 },
    nxm: nx1(28, "NXM_NX_IP_ECN"),
    oxm: of(9, "OXM_OF_IP_ECN"),
  },
  {
    name: "nw_ttl",
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "ip_any",
    map: plain("nw_ttl"),
    nxm: nx1(29, "NXM_NX_IP_TTL"),
  },
  {
    name: "ip_frag",
    aliases: ["nw_frag"],
    bytes: 1,
    bits: 2,
    maskable: true,
    format: "frag",
    prereq: "ip_any",
    map: plain("nw_frag"),
    nxm: nx1(26, "NXM_NX_IP_FRAG"),
    writable: false,
  },
  {
    name: "arp_op",
    bytes: 2,
    maskable: false,
    format: "decimal",
    prereq: "arp",
    map: { kind: "low8", slot: "nw_proto" },
    nxm: nx0(15, "NXM_OF_ARP_OP"),
    oxm: of(21, "OXM_OF_ARP_OP"),
  },
  {
    name: "arp_spa",
    bytes: 4,
    maskable: true,
    format: "ipv4",
    prereq: "arp",
    map: plain("nw_src"),
    nxm: nx0(16, "NXM_OF_ARP_SPA"),
    oxm: of(22, "OXM_OF_ARP_SPA"),
  },
  {
    name: "arp_tpa",
    bytes: 4,
    maskable: true,
    format: "ipv4",
    prereq: "arp",
    map: plain("nw_dst"),
    nxm: nx0(17, "NXM_OF_ARP_TPA"),
    oxm: of(23, "OXM_OF_ARP_TPA"),
  },
  {
    name: "arp_sha",
    bytes: 6,
    maskable: true,
    format: "ethernet",
    prereq: "arp",
    map: plain("arp_sha"),
    nxm: nx1(17, "NXM_NX_ARP_SHA"),
    oxm: of(24, "OXM_OF_ARP_SHA"),
  },
  {
    name: "arp_tha",
    bytes: 6,
    maskable: true,
    format: "ethernet",
    prereq: "arp",
    map: plain("arp_tha"),
    nxm: nx1(18, "NXM_NX_ARP_THA"),
    oxm: of(25, "OXM_OF_ARP_THA"),
  },
  {
    name: "tcp_src",
    aliases: ["tp_src"],
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "tcp",
    map: plain("tp_src"),
    nxm: nx0(9, "NXM_OF_TCP_SRC"),
    oxm: of(13, "OXM_OF_TCP_SRC"),
  },
  {
    name: "tcp_dst",
    aliases: ["tp_dst"],
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "tcp",
    map: plain("tp_dst"),
    nxm: nx0(10, "NXM_OF_TCP_DST"),
    oxm: of(14, "OXM_OF_TCP_DST"),
  },
  {
    name: "tcp_flags",
    bytes: 2,
    bits: 12,
    maskable: true,
    format: "tcp_flags",
    prereq: "tcp",
    map: plain("tcp_flags"),
    nxm: nx1(34, "NXM_NX_TCP_FLAGS"),
    oxm: onf(42, "ONFOXM_ET_TCP_FLAGS"),
    writable: false,
  },
  {
    name: "udp_src",
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "udp",
    map: plain("tp_src"),
    nxm: nx0(11, "NXM_OF_UDP_SRC"),
    oxm: of(15, "OXM_OF_UDP_SRC"),
  },
  {
    name: "udp_dst",
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "udp",
    map: plain("tp_dst"),
    nxm: nx0(12, "NXM_OF_UDP_DST"),
    oxm: of(16, "OXM_OF_UDP_DST"),
  },
  {
    name: "sctp_src",
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "sctp",
    map: plain("tp_src"),
    oxm: of(17, "OXM_OF_SCTP_SRC"),
  },
  {
    name: "sctp_dst",
    bytes: 2,
    maskable: true,
    format: "decimal",
    prereq: "sctp",
    map: plain("tp_dst"),
    oxm: of(18, "OXM_OF_SCTP_DST"),
  },
  {
    name: "icmp_type",
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "icmpv4",
    map: { kind: "u8_in_u16", slot: "tp_src" },
    nxm: nx0(13, "NXM_OF_ICMP_TYPE"),
    oxm: of(19, "OXM_OF_ICMPV4_TYPE"),
  },
  {
    name: "icmp_code",
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "icmpv4",
    map: { kind: "u8_in_u16", slot: "tp_dst" },
    nxm: nx0(14, "NXM_OF_ICMP_CODE"),
    oxm: of(20, "OXM_OF_ICMPV4_CODE"),
  },
  {
    name: "icmpv6_type",
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "icmpv6",
    map: { kind: "u8_in_u16", slot: "tp_src" },
    nxm: nx1(21, "NXM_NX_ICMPV6_TYPE"),
    oxm: of(29, "OXM_OF_ICMPV6_TYPE"),
  },
  {
    name: "icmpv6_code",
    bytes: 1,
    maskable: false,
    format: "decimal",
    prereq: "icmpv6",
    map: { kind: "u8_in_u16", slot: "tp_dst" },
    nxm: nx1(22, "NXM_NX_ICMPV6_CODE"),
    oxm: of(30, "OXM_OF_ICMPV6_CODE"),
  },
  {
    name: "nd_target",
    bytes: 16,
    maskable: true,
    format: "ipv6",
    prereq: "nd",
    map: plain("nd_target"),
    nxm: nx1(23, "NXM_NX_ND_TARGET"),
    oxm: of(31, "OXM_OF_IPV6_ND_TARGET"),
  },
  {
    name: "nd_sll",
    bytes: 6,
    maskable: true,
    format: "ethernet",
    prereq: "nd_solicit",
    map: plain("arp_sha"),
    nxm: nx1(24, "NXM_NX_ND_SLL"),
    oxm: of(32, "OXM_OF_IPV6_ND_SLL"),
  },
  {
    name: "nd_tll",
    bytes: 6,
    maskable: true,
    format: "ethernet",
    prereq: "nd_advert",
    map: plain("arp_tha"),
    nxm: nx1(25, "NXM_NX_ND_TLL"),
    oxm: of(33, "OXM_OF_IPV6_ND_TLL"),
  },
];

export const TEXT_FIELDS: readonly TextField[] = ROWS.map((r) => ({
  name: r.name,
  aliases: r.aliases ?? [],
  bytes: r.bytes,
  bits: r.bits ?? r.bytes * 8,
  maskable: r.maskable,
  format: r.format,
  prereq: r.prereq,
  map: r.map,
  ...(r.nxm === undefined ? {} : { nxm: r.nxm }),
  ...(r.oxm === undefined ? {} : { oxm: r.oxm }),
  writable: r.writable ?? true,
}));

const BY_NAME = new Map<string, TextField>();
const BY_WIRE_NAME = new Map<string, TextField>();
const BY_HEADER = new Map<string, TextField>();

function headerKey(oxmClass: number, oxmField: number, experimenter: number | undefined): string {
  return `${oxmClass}:${oxmField}:${oxmClass === 0xffff ? (experimenter ?? 0) : 0}`;
}

for (const f of TEXT_FIELDS) {
  BY_NAME.set(f.name, f);
  for (const a of f.aliases) BY_NAME.set(a, f);
  for (const h of [f.nxm, f.oxm]) {
    if (h === undefined) continue;
    BY_WIRE_NAME.set(h.name, f);
    BY_HEADER.set(headerKey(h.oxmClass, h.oxmField, h.experimenter), f);
  }
}

/** A field by its ovs-ofctl name or alias (`mf_from_name`): "dl_src", "nw_dst", "tun_id". */
export function textFieldByName(name: string): TextField | undefined {
  return BY_NAME.get(name);
}

/**
 * A field by an NXM/OXM name as used in `load:`/`move:`/`learn` (`NXM_NX_REG6`,
 * `OXM_OF_METADATA`), falling back to meta-flow names (OVS accepts both).
 */
export function textFieldBySubfieldName(name: string): TextField | undefined {
  return BY_WIRE_NAME.get(name) ?? BY_NAME.get(name);
}

/** A field by wire header (class, field[, experimenter]). */
export function textFieldByHeader(
  oxmClass: number,
  oxmField: number,
  experimenter?: number,
): TextField | undefined {
  return BY_HEADER.get(headerKey(oxmClass, oxmField, experimenter));
}

/** The header OVS uses for this field in an OF1.3 match or set_field (`mf_oxm_header(id, OF13)`). */
export function of13Header(f: TextField): WireHeader | undefined {
  if (f.oxm !== undefined && f.oxm.version <= OF13) return f.oxm;
  return f.nxm;
}

/** The header OVS prefers when naming the field in Nicira actions (`mf_oxm_header(id, 0)`). */
export function nxmPreferredHeader(f: TextField): WireHeader | undefined {
  return f.nxm ?? (f.oxm !== undefined && f.oxm.version < OF15 ? f.oxm : undefined);
}
