/**
 * Protocol numbers and header sizes used by the packet half of the codec.
 *
 * Names follow the IANA registries and Open vSwitch's `lib/packets.h`
 * (`ETH_TYPE_*`, `IPPROTO_*`, `ND_*`), so a reader can grep both trees.
 */

/** IEEE 802 EtherTypes (IANA "ieee-802-numbers"). */
export const ETH_TYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  /** Reverse ARP: OVS `miniflow_extract` parses it exactly like ARP. */
  RARP: 0x8035,
  /** 802.1Q C-tag TPID. */
  VLAN: 0x8100,
  /** 802.1ad S-tag TPID; OVS `eth_type_vlan()` accepts both. */
  VLAN_8021AD: 0x88a8,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MCAST: 0x8848,
  /** Smallest value that is an EtherType rather than an 802.3 length. */
  MIN: 0x0600,
  /**
   * OVS `FLOW_DL_TYPE_NONE`: what `dl_type` holds for an 802.3 frame without an
   * Ethernet SNAP header (`parse_ethertype()` in lib/flow.c).
   */
  NONE: 0x05ff,
} as const;

/** IP protocol numbers (IANA "protocol-numbers"). */
export const IP_PROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IGMP: 2,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  SCTP: 132,
} as const;

/** RFC 826 / RFC 5494 ARP constants. */
export const ARP = {
  HTYPE_ETHERNET: 1,
  OP_REQUEST: 1,
  OP_REPLY: 2,
} as const;

/** RFC 826 field offsets in an Ethernet/IPv4 ARP packet (HDR.ARP_ETH_IPV4 bytes). */
export const ARP_AT = {
  htype: 0,
  ptype: 2,
  hlen: 4,
  plen: 5,
  oper: 6,
  sha: 8,
  spa: 14,
  tha: 18,
  tpa: 24,
} as const;

/** RFC 792 ICMP types used here. */
export const ICMP_TYPE = {
  ECHO_REPLY: 0,
  DEST_UNREACH: 3,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
} as const;

/** RFC 4443 / RFC 4861 ICMPv6 types used here. */
export const ICMPV6_TYPE = {
  DEST_UNREACH: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  ROUTER_SOLICIT: 133,
  ROUTER_ADVERT: 134,
  NEIGHBOR_SOLICIT: 135,
  NEIGHBOR_ADVERT: 136,
} as const;

/** RFC 4861 §4.6 Neighbor Discovery option types. */
export const ND_OPT = {
  SOURCE_LINKADDR: 1,
  TARGET_LINKADDR: 2,
} as const;

/** RFC 4861 §4.4 Neighbor Advertisement flag bits (in the first 32-bit word after the checksum). */
export const ND_NA_FLAG = {
  ROUTER: 0x80000000,
  SOLICITED: 0x40000000,
  OVERRIDE: 0x20000000,
} as const;

/** Bits of the key's `nw_frag` word, numerically equal to OVS `FLOW_NW_FRAG_*`. */
export const NW_FRAG = {
  /** Set for every fragment, first one included. */
  ANY: 1,
  /** Set for fragments with a nonzero offset: they carry no L4 header. */
  LATER: 2,
} as const;

/** RFC 9293 TCP control bits, as OVS `tcp_flags` (12 bits: the 3 reserved bits + NS + 8 flags). */
export const TCP_FLAG = {
  FIN: 0x001,
  SYN: 0x002,
  RST: 0x004,
  PSH: 0x008,
  ACK: 0x010,
  URG: 0x020,
  ECE: 0x040,
  CWR: 0x080,
  NS: 0x100,
} as const;

/** IPv4 fragment field bits (RFC 791), in the 16-bit flags+offset word. */
export const IPV4_FRAG = {
  RESERVED: 0x8000,
  DF: 0x4000,
  MF: 0x2000,
  OFFSET_MASK: 0x1fff,
} as const;

/** 802.1Q TCI layout, and OVS's "tag present" bit (`VLAN_CFI`) in `vlan_tci`. */
export const VLAN = {
  VID_MASK: 0x0fff,
  CFI: 0x1000,
  PCP_SHIFT: 13,
  /** OF1.3 `OFPVID_PRESENT`: same bit position as OVS's `VLAN_CFI`. */
  OFPVID_PRESENT: 0x1000,
} as const;

/** Header sizes in bytes. */
export const HDR = {
  ETH: 14,
  VLAN_TAG: 4,
  ARP_ETH_IPV4: 28,
  IPV4_MIN: 20,
  IPV6: 40,
  IPV6_EXT_MIN: 8,
  IPV6_FRAG: 8,
  TCP_MIN: 20,
  UDP: 8,
  SCTP: 12,
  /** OVS `ICMP_HEADER_LEN`: type, code, checksum and the 4-byte rest-of-header. */
  ICMP: 8,
  /** OVS `struct icmp6_data_header`: type, code, checksum and 4 bytes of data. */
  ICMPV6: 8,
  IGMP: 8,
  ND_TARGET: 16,
  /** RFC 4861 §4.6.1 link-layer address option for Ethernet. */
  ND_LLA_OPT: 8,
  VXLAN: 8,
  /** LLC (3) + SNAP (5). */
  LLC_SNAP: 8,
} as const;

/** IANA-assigned VXLAN UDP port (RFC 7348 §5). */
export const VXLAN_UDP_PORT = 4789;
/** RFC 7348 §5: the I flag, meaning "the VNI is valid". */
export const VXLAN_FLAG_I = 0x08;

/** Largest IPv4 header (IHL 15). */
export const IPV4_MAX_HEADER = 60;
