/**
 * FlowKey: the preallocated, fixed-layout key a frame is parsed into.
 *
 * Layout. One `Uint32Array` (`key.w`) with one field per 32-bit word, at the
 * indexes named by {@link FK}. Every value is an unsigned integer in host order
 * (the number you would print), never network-order bytes. Wider fields are
 * split: a MAC is `*_HI` (top 16 bits) + `*_LO` (low 32 bits); an IPv6 address
 * is four words, most significant first; a 64-bit tunnel id or metadata is
 * `*_HI` + `*_LO`. One flat word array lets a classifier mask, compare and hash
 * a key word by word (OVS's miniflow idea) without chasing pointers or
 * dispatching on field types.
 *
 * Two sections:
 *  - `[0, FK.PACKET_START)` is *metadata*: in_port, tunnel, metadata, pkt_mark,
 *    conntrack and registers. The switch sets these; {@link parseFrame} never
 *    writes them, so they survive a re-parse after a header rewrite.
 *  - `[FK.PACKET_START, FK.SIZE)` is extracted from the frame. `parseFrame`
 *    zeroes it first, so a field of a layer that is absent or truncated reads 0,
 *    as in OVS `miniflow_extract()` (lib/flow.c), where such fields are simply
 *    never pushed.
 *
 * Where this layout deliberately differs from OVS `struct flow`: OVS overlays
 * the ARP opcode/addresses on nw_proto/nw_src/nw_dst, ICMP type/code on
 * tp_src/tp_dst and ND sll/tll on arp_sha/arp_tha. Here each OpenFlow field has
 * its own word, so OXM field → key word is one table lookup with no prerequisite
 * juggling. (Prerequisites still keep such fields from being matched together.)
 *
 * Aliasing contract (gopacket `DecodingLayerParser` style): a FlowKey holds only
 * numbers copied out of the frame; it keeps no reference to the frame. The layer
 * offsets (`l3Ofs`, `l4Ofs`, ...) are positions in the frame that was last parsed
 * and are meaningless for any other buffer. The key is reused: each `parseFrame`
 * overwrites the packet section, so `copyFrom()`/`clone()` it to keep a result.
 */

/** Word index of each key field in `FlowKey.w`. */
export const FK = {
  // ---- metadata: set by the switch, never by parseFrame ----
  IN_PORT: 0,
  TUN_ID_HI: 1,
  TUN_ID_LO: 2,
  /** Outer IPv4 source of the tunnel the packet arrived on (OVS `tun_src`). */
  TUN_SRC: 3,
  TUN_DST: 4,
  METADATA_HI: 5,
  METADATA_LO: 6,
  PKT_MARK: 7,
  CT_STATE: 8,
  CT_ZONE: 9,
  CT_MARK: 10,
  /** reg0..reg15 are words REG0 .. REG0 + 15 (also viewable as `key.regs`). */
  REG0: 11,

  // ---- packet: extracted by parseFrame ----
  ETH_DST_HI: 27,
  ETH_DST_LO: 28,
  ETH_SRC_HI: 29,
  ETH_SRC_LO: 30,
  /** After VLAN tags and LLC/SNAP; 0x05ff (`ETH_TYPE.NONE`) for 802.3 without SNAP. */
  ETH_TYPE: 31,
  /** OVS `vlan_tci` of the outermost tag: PCP|CFI|VID with CFI (0x1000) set when a tag is present, 0 otherwise. */
  VLAN_TCI: 32,
  /** TPID of the outermost tag (0x8100 or 0x88a8), 0 if untagged. */
  VLAN_TPID: 33,
  /** Second (inner) tag, only parsed when `vlanLimit` is 2; same encoding as VLAN_TCI. */
  VLAN_TCI2: 34,
  VLAN_TPID2: 35,
  NW_SRC: 36,
  NW_DST: 37,
  IPV6_SRC0: 38,
  IPV6_DST0: 42,
  /** 20-bit IPv6 flow label. */
  IPV6_LABEL: 46,
  NW_PROTO: 47,
  /** Whole IPv4 TOS / IPv6 traffic-class byte: DSCP in the top 6 bits, ECN in the low 2. */
  NW_TOS: 48,
  NW_TTL: 49,
  /** {@link NW_FRAG} bits. */
  NW_FRAG: 50,
  /** TCP/UDP/SCTP ports (IGMP type/code, as OVS keeps them). */
  TP_SRC: 51,
  TP_DST: 52,
  /** 12-bit TCP flags (OVS `tcp_flags`). */
  TCP_FLAGS: 53,
  /** ICMP or ICMPv6 type and code. */
  ICMP_TYPE: 54,
  ICMP_CODE: 55,
  /** ARP opcode; 0 if the opcode is above 0xff (OVS only keeps the low 8 bits and drops larger ones). */
  ARP_OP: 56,
  ARP_SPA: 57,
  ARP_TPA: 58,
  ARP_SHA_HI: 59,
  ARP_SHA_LO: 60,
  ARP_THA_HI: 61,
  ARP_THA_LO: 62,
  ND_TARGET0: 63,
  ND_SLL_HI: 67,
  ND_SLL_LO: 68,
  ND_TLL_HI: 69,
  ND_TLL_LO: 70,
  /** The 32 bits after the ICMPv6 checksum of an NS/NA (NA: R/S/O flags), OVS `nd_reserved`. */
  ND_RESERVED: 71,
  /** Type of the first link-layer option seen (1 SLL, 2 TLL), OVS `nd_options_type`. */
  ND_OPTIONS_TYPE: 72,

  /** First word of the packet section. */
  PACKET_START: 27,
  /** Number of words. */
  SIZE: 73,
} as const;

export const N_REGS = 16;

/** Offset of a layer that is not present. */
export const NO_OFFSET = -1;

/** Top 16 bits of a 48-bit MAC read from `b[o..o+6)`. */
export function macHi(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Low 32 bits of a 48-bit MAC read from `b[o..o+6)`. */
export function macLo(b: Uint8Array, o: number): number {
  return ((b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!) >>> 0;
}

/** Writes a MAC given as hi16/lo32 into `b[o..o+6)`. */
export function putMac(b: Uint8Array, o: number, hi: number, lo: number): void {
  b[o] = hi >>> 8;
  b[o + 1] = hi;
  b[o + 2] = lo >>> 24;
  b[o + 3] = lo >>> 16;
  b[o + 4] = lo >>> 8;
  b[o + 5] = lo;
}

export class FlowKey {
  /** The key words; index with {@link FK}. */
  readonly w: Uint32Array;
  /** reg0..reg15: a view of `w` (writes go to the key). */
  readonly regs: Uint32Array;

  /** Frame offset of the outermost VLAN tag's TPID, or NO_OFFSET. */
  vlanOfs: number;
  /** Frame offset of the L3 header (after tags and LLC/SNAP); NO_OFFSET when the Ethernet header is short. */
  l3Ofs: number;
  /** Frame offset of the L4 header (after IPv4 options / IPv6 extension headers), or NO_OFFSET. */
  l4Ofs: number;
  /** Frame offset just past the parsed L4 header (TCP options included), or NO_OFFSET. */
  l7Ofs: number;
  /** Frame offset just past the IP datagram (IPv4 total length / IPv6 payload length), or NO_OFFSET. */
  l3End: number;
  /** Ethernet padding after the IP datagram (frame length - l3End), 0 when not IP. */
  l2PadSize: number;

  constructor() {
    this.w = new Uint32Array(FK.SIZE);
    this.regs = this.w.subarray(FK.REG0, FK.REG0 + N_REGS);
    this.vlanOfs = NO_OFFSET;
    this.l3Ofs = NO_OFFSET;
    this.l4Ofs = NO_OFFSET;
    this.l7Ofs = NO_OFFSET;
    this.l3End = NO_OFFSET;
    this.l2PadSize = 0;
  }

  /** Zeroes everything, metadata included. */
  clear(): void {
    this.w.fill(0);
    this.resetOffsets();
  }

  /** Zeroes the packet section and the offsets (what parseFrame does first). */
  resetPacket(): void {
    this.w.fill(0, FK.PACKET_START, FK.SIZE);
    this.resetOffsets();
  }

  private resetOffsets(): void {
    this.vlanOfs = NO_OFFSET;
    this.l3Ofs = NO_OFFSET;
    this.l4Ofs = NO_OFFSET;
    this.l7Ofs = NO_OFFSET;
    this.l3End = NO_OFFSET;
    this.l2PadSize = 0;
  }

  copyFrom(other: FlowKey): void {
    this.w.set(other.w);
    this.vlanOfs = other.vlanOfs;
    this.l3Ofs = other.l3Ofs;
    this.l4Ofs = other.l4Ofs;
    this.l7Ofs = other.l7Ofs;
    this.l3End = other.l3End;
    this.l2PadSize = other.l2PadSize;
  }

  clone(): FlowKey {
    const k = new FlowKey();
    k.copyFrom(this);
    return k;
  }

  /** True when every key word is equal (offsets are not compared). */
  equals(other: FlowKey): boolean {
    const a = this.w;
    const b = other.w;
    for (let i = 0; i < FK.SIZE; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // ---- convenience accessors (monomorphic, inlined by the JIT) ----

  get inPort(): number {
    return this.w[FK.IN_PORT]!;
  }
  set inPort(v: number) {
    this.w[FK.IN_PORT] = v;
  }
  get ethType(): number {
    return this.w[FK.ETH_TYPE]!;
  }
  get vlanTci(): number {
    return this.w[FK.VLAN_TCI]!;
  }
  /** OF1.3 `vlan_vid`: VID | OFPVID_PRESENT when tagged, 0 (OFPVID_NONE) otherwise. */
  get vlanVid(): number {
    return this.w[FK.VLAN_TCI]! & 0x1fff;
  }
  /** OF1.3 `vlan_pcp` (0 when untagged). */
  get vlanPcp(): number {
    return this.w[FK.VLAN_TCI]! >>> 13;
  }
  get nwProto(): number {
    return this.w[FK.NW_PROTO]!;
  }
  /** OF1.3 `ip_dscp` (6 bits). */
  get ipDscp(): number {
    return this.w[FK.NW_TOS]! >>> 2;
  }
  /** OF1.3 `ip_ecn` (2 bits). */
  get ipEcn(): number {
    return this.w[FK.NW_TOS]! & 3;
  }

  /** 64-bit tunnel id. Allocates a bigint: not for per-packet use (read TUN_ID_HI/LO instead). */
  get tunId(): bigint {
    return (BigInt(this.w[FK.TUN_ID_HI]!) << 32n) | BigInt(this.w[FK.TUN_ID_LO]!);
  }
  set tunId(v: bigint) {
    this.w[FK.TUN_ID_HI] = Number((v >> 32n) & 0xffffffffn);
    this.w[FK.TUN_ID_LO] = Number(v & 0xffffffffn);
  }
  /** 64-bit OpenFlow metadata (allocates a bigint, like `tunId`). */
  get metadata(): bigint {
    return (BigInt(this.w[FK.METADATA_HI]!) << 32n) | BigInt(this.w[FK.METADATA_LO]!);
  }
  set metadata(v: bigint) {
    this.w[FK.METADATA_HI] = Number((v >> 32n) & 0xffffffffn);
    this.w[FK.METADATA_LO] = Number(v & 0xffffffffn);
  }

  /** Copies a 48-bit MAC stored at word `hiWord` (`FK.ETH_SRC_HI`, `FK.ARP_SHA_HI`, ...) into `out[o..o+6)`. */
  macInto(hiWord: number, out: Uint8Array, o = 0): void {
    putMac(out, o, this.w[hiWord]!, this.w[hiWord + 1]!);
  }

  /** Copies a 128-bit address stored at word `firstWord` (`FK.IPV6_SRC0`, `FK.ND_TARGET0`, ...) into `out[o..o+16)`. */
  ipv6Into(firstWord: number, out: Uint8Array, o = 0): void {
    for (let i = 0; i < 4; i++) {
      const v = this.w[firstWord + i]!;
      const p = o + 4 * i;
      out[p] = v >>> 24;
      out[p + 1] = v >>> 16;
      out[p + 2] = v >>> 8;
      out[p + 3] = v;
    }
  }
}
