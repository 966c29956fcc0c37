/**
 * In-place header rewrites for the switch's set_field / dec_ttl, with
 * incremental checksum updates (RFC 1624).
 *
 * Contract: the switch first stores the new value in the key word
 * (`key.w[FK.NW_SRC] = x`), then calls the matching `write*` with the frame the
 * key was parsed from. The old value is read from the frame, the new one from
 * the key, and every checksum that covers the field is patched: the IPv4 header
 * checksum, and the TCP/UDP/ICMPv6 checksum through the pseudo-header. Layer
 * offsets come from the key, so nothing is re-parsed and nothing allocated.
 * Each function returns false (changing nothing) when the frame lacks the layer
 * the field lives in.
 *
 * Not handled: SCTP's CRC32c (a port rewrite leaves it stale) and ICMP errors'
 * embedded headers.
 */
import { ETH_TYPE, HDR, IP_PROTO, NW_FRAG } from "./constants.js";
import { csumReplace16, csumReplace32 } from "./checksum.js";
import { FK, putMac } from "./flow-key.js";
import type { FlowKey } from "./flow-key.js";

function rd16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function rd32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/**
 * Offset of the TCP/UDP/ICMPv6 checksum covered by the pseudo-header, or -1
 * (no whole L4 header, later fragment, other protocol, or UDP over IPv4 with
 * checksum 0 = "none", RFC 768).
 */
function pseudoCsumOfs(frame: Uint8Array, key: FlowKey): number {
  const w = key.w;
  if (key.l7Ofs < 0 || (w[FK.NW_FRAG]! & NW_FRAG.LATER) !== 0) return -1;
  switch (w[FK.NW_PROTO]) {
    case IP_PROTO.TCP:
      return key.l4Ofs + 16;
    case IP_PROTO.UDP: {
      const o = key.l4Ofs + 6;
      if (w[FK.ETH_TYPE] === ETH_TYPE.IPV4 && rd16(frame, o) === 0) return -1;
      return o;
    }
    case IP_PROTO.ICMPV6:
      return w[FK.ETH_TYPE] === ETH_TYPE.IPV6 ? key.l4Ofs + 2 : -1;
    default:
      return -1;
  }
}

/** Patches an L4 checksum for a 32-bit change; UDP keeps 0 meaning "none" by writing 0xffff. */
function patchL4(frame: Uint8Array, key: FlowKey, o: number, oldV: number, newV: number): void {
  let c = csumReplace32(rd16(frame, o), oldV, newV);
  if (c === 0 && key.w[FK.NW_PROTO] === IP_PROTO.UDP) c = 0xffff;
  wr16(frame, o, c);
}

export function writeEthSrc(frame: Uint8Array, key: FlowKey): boolean {
  if (key.l3Ofs < 0) return false;
  putMac(frame, 6, key.w[FK.ETH_SRC_HI]!, key.w[FK.ETH_SRC_LO]!);
  return true;
}

export function writeEthDst(frame: Uint8Array, key: FlowKey): boolean {
  if (key.l3Ofs < 0) return false;
  putMac(frame, 0, key.w[FK.ETH_DST_HI]!, key.w[FK.ETH_DST_LO]!);
  return true;
}

/** Rewrites the outermost VLAN tag's TCI from `FK.VLAN_TCI` (the CFI/present bit is not written to the wire). */
export function writeVlanTci(frame: Uint8Array, key: FlowKey): boolean {
  if (key.vlanOfs < 0) return false;
  const tci = key.w[FK.VLAN_TCI]!;
  // OVS keeps the CFI bit internal as "present"; on the wire that bit is DEI, written as 0.
  wr16(frame, key.vlanOfs + 2, tci & 0xefff);
  return true;
}

function isIpv4(key: FlowKey): boolean {
  return key.w[FK.ETH_TYPE] === ETH_TYPE.IPV4 && key.l4Ofs >= 0;
}

function isIpv6(key: FlowKey): boolean {
  return key.w[FK.ETH_TYPE] === ETH_TYPE.IPV6 && key.l4Ofs >= 0;
}

function writeIpv4Addr(frame: Uint8Array, key: FlowKey, at: number, word: number): boolean {
  if (!isIpv4(key)) return false;
  const o = key.l3Ofs + at;
  const oldV = rd32(frame, o);
  const newV = key.w[word]!;
  if (oldV === newV) return true;
  wr32(frame, o, newV);
  const hc = key.l3Ofs + 10;
  wr16(frame, hc, csumReplace32(rd16(frame, hc), oldV, newV));
  const l4c = pseudoCsumOfs(frame, key);
  if (l4c >= 0) patchL4(frame, key, l4c, oldV, newV);
  return true;
}

/** IPv4 source from `FK.NW_SRC`; patches the IP and TCP/UDP checksums. */
export function writeIpv4Src(frame: Uint8Array, key: FlowKey): boolean {
  return writeIpv4Addr(frame, key, 12, FK.NW_SRC);
}

/** IPv4 destination from `FK.NW_DST`; patches the IP and TCP/UDP checksums. */
export function writeIpv4Dst(frame: Uint8Array, key: FlowKey): boolean {
  return writeIpv4Addr(frame, key, 16, FK.NW_DST);
}

function writeIpv6Addr(frame: Uint8Array, key: FlowKey, at: number, first: number): boolean {
  if (!isIpv6(key)) return false;
  const l4c = pseudoCsumOfs(frame, key);
  for (let i = 0; i < 4; i++) {
    const o = key.l3Ofs + at + 4 * i;
    const oldV = rd32(frame, o);
    const newV = key.w[first + i]!;
    if (oldV === newV) continue;
    wr32(frame, o, newV);
    if (l4c >= 0) patchL4(frame, key, l4c, oldV, newV);
  }
  return true;
}

/** IPv6 source from `FK.IPV6_SRC0..3`; patches the TCP/UDP/ICMPv6 checksum. */
export function writeIpv6Src(frame: Uint8Array, key: FlowKey): boolean {
  return writeIpv6Addr(frame, key, 8, FK.IPV6_SRC0);
}

/** IPv6 destination from `FK.IPV6_DST0..3`; patches the TCP/UDP/ICMPv6 checksum. */
export function writeIpv6Dst(frame: Uint8Array, key: FlowKey): boolean {
  return writeIpv6Addr(frame, key, 24, FK.IPV6_DST0);
}

/** TTL / hop limit from `FK.NW_TTL`; patches the IPv4 header checksum. */
export function writeNwTtl(frame: Uint8Array, key: FlowKey): boolean {
  if (isIpv6(key)) {
    frame[key.l3Ofs + 7] = key.w[FK.NW_TTL]!;
    return true;
  }
  if (!isIpv4(key)) return false;
  const o = key.l3Ofs + 8; // TTL is the high byte of the 16-bit word TTL|protocol
  const oldWord = rd16(frame, o);
  const newWord = ((key.w[FK.NW_TTL]! & 0xff) << 8) | (oldWord & 0xff);
  wr16(frame, o, newWord);
  const hc = key.l3Ofs + 10;
  wr16(frame, hc, csumReplace16(rd16(frame, hc), oldWord, newWord));
  return true;
}

/**
 * dec_ttl: decrements the TTL / hop limit in frame and key. Like OVS, a packet
 * whose TTL is 0 or 1 is left unchanged and false is returned (the caller sends
 * it to the controller / answers ICMP time exceeded).
 */
export function decNwTtl(frame: Uint8Array, key: FlowKey): boolean {
  const et = key.w[FK.ETH_TYPE];
  if ((et !== ETH_TYPE.IPV4 && et !== ETH_TYPE.IPV6) || key.l4Ofs < 0) return false;
  const ttl = key.w[FK.NW_TTL]!;
  if (ttl <= 1) return false;
  key.w[FK.NW_TTL] = ttl - 1;
  return writeNwTtl(frame, key);
}

/** TOS / traffic-class byte (DSCP and ECN) from `FK.NW_TOS`; patches the IPv4 header checksum. */
export function writeNwTos(frame: Uint8Array, key: FlowKey): boolean {
  const tos = key.w[FK.NW_TOS]! & 0xff;
  if (isIpv6(key)) {
    const o = key.l3Ofs;
    frame[o] = (frame[o]! & 0xf0) | (tos >>> 4);
    frame[o + 1] = (frame[o + 1]! & 0x0f) | ((tos & 0x0f) << 4);
    return true;
  }
  if (!isIpv4(key)) return false;
  const o = key.l3Ofs;
  const oldWord = rd16(frame, o);
  const newWord = (oldWord & 0xff00) | tos;
  wr16(frame, o, newWord);
  wr16(frame, o + 10, csumReplace16(rd16(frame, o + 10), oldWord, newWord));
  return true;
}

function writePort(frame: Uint8Array, key: FlowKey, at: number, word: number): boolean {
  const proto = key.w[FK.NW_PROTO];
  if (
    key.l7Ofs < 0 ||
    (proto !== IP_PROTO.TCP && proto !== IP_PROTO.UDP && proto !== IP_PROTO.SCTP)
  ) {
    return false;
  }
  const o = key.l4Ofs + at;
  const oldV = rd16(frame, o);
  const newV = key.w[word]! & 0xffff;
  wr16(frame, o, newV);
  const l4c = pseudoCsumOfs(frame, key);
  if (l4c >= 0) {
    let c = csumReplace16(rd16(frame, l4c), oldV, newV);
    if (c === 0 && proto === IP_PROTO.UDP) c = 0xffff;
    wr16(frame, l4c, c);
  }
  return true;
}

/** TCP/UDP/SCTP source port from `FK.TP_SRC`; patches the TCP/UDP checksum. */
export function writeTpSrc(frame: Uint8Array, key: FlowKey): boolean {
  return writePort(frame, key, 0, FK.TP_SRC);
}

/** TCP/UDP/SCTP destination port from `FK.TP_DST`; patches the TCP/UDP checksum. */
export function writeTpDst(frame: Uint8Array, key: FlowKey): boolean {
  return writePort(frame, key, 2, FK.TP_DST);
}

/**
 * Writes all ARP fields (op, sha, spa, tha, tpa) from the key, as the ARP
 * responder's move/load actions leave them. Only for frames that parsed as
 * Ethernet/IPv4 ARP.
 */
export function writeArp(frame: Uint8Array, key: FlowKey): boolean {
  const et = key.w[FK.ETH_TYPE];
  const p = key.l3Ofs;
  if (
    (et !== ETH_TYPE.ARP && et !== ETH_TYPE.RARP) ||
    p < 0 ||
    frame.length - p < HDR.ARP_ETH_IPV4
  ) {
    return false;
  }
  if (
    rd16(frame, p) !== 1 ||
    rd16(frame, p + 2) !== ETH_TYPE.IPV4 ||
    frame[p + 4] !== 6 ||
    frame[p + 5] !== 4
  ) {
    return false;
  }
  const w = key.w;
  wr16(frame, p + 6, w[FK.ARP_OP]!);
  putMac(frame, p + 8, w[FK.ARP_SHA_HI]!, w[FK.ARP_SHA_LO]!);
  wr32(frame, p + 14, w[FK.ARP_SPA]!);
  putMac(frame, p + 18, w[FK.ARP_THA_HI]!, w[FK.ARP_THA_LO]!);
  wr32(frame, p + 24, w[FK.ARP_TPA]!);
  return true;
}
