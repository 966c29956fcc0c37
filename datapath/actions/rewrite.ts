/**
 * Bringing the frame in line with the key after a header field changed.
 *
 * Actions change the FlowKey first (set_field, reg_load, reg_move, learn's
 * loads all go through field-access.ts); then the frame is synced for the
 * header the field lives in. This mirrors OVS, where xlate edits `struct flow`
 * and `commit_odp_actions` turns the difference into datapath set() actions
 * before each output: the bytes on the wire are always "the frame as the key
 * says". Only the changed header is rewritten, with incremental checksums
 * (codec/packet/rewrite.ts, RFC 1624).
 *
 * VLAN is special (OVS `commit_vlan_action`): the key's VLAN_TCI with the CFI
 * ("present") bit decides whether a tag exists. Setting a TCI with CFI on an
 * untagged frame pushes a tag; clearing CFI on a tagged frame pops it (the
 * learned flows of br-tun, `load:0->NXM_OF_VLAN_TCI[]`, rely on this).
 */
import { ETH_TYPE, HDR, IP_PROTO, VLAN } from "../../codec/packet/constants.js";
import { csumReplace16, csumReplace32 } from "../../codec/packet/checksum.js";
import { FK, NO_OFFSET, putMac, type FlowKey } from "../../codec/packet/flow-key.js";
import {
  writeArp,
  writeEthDst,
  writeEthSrc,
  writeIpv4Dst,
  writeIpv4Src,
  writeIpv6Dst,
  writeIpv6Src,
  writeNwTos,
  writeNwTtl,
  writeTpDst,
  writeTpSrc,
  writeVlanTci,
} from "../../codec/packet/rewrite.js";
import type { PacketBuffer } from "../packet.js";

/** Which header a field write must be synced into. */
export const REWRITE = {
  /** Metadata only (registers, tunnel, metadata, pkt_mark): nothing on the wire. */
  NONE: 0,
  ETH_SRC: 1,
  ETH_DST: 2,
  VLAN: 3,
  IPV4_SRC: 4,
  IPV4_DST: 5,
  IPV6_SRC: 6,
  IPV6_DST: 7,
  NW_TOS: 8,
  NW_TTL: 9,
  TP_SRC: 10,
  TP_DST: 11,
  ARP: 12,
  ICMP: 13,
  IPV6_LABEL: 14,
  ND_TARGET: 15,
  ND_LL: 16,
} as const;
export type RewriteClass = (typeof REWRITE)[keyof typeof REWRITE];

/** Logical field → header class (fields not listed are metadata). */
const CLASS_BY_FIELD: Readonly<Record<string, RewriteClass>> = {
  eth_src: REWRITE.ETH_SRC,
  eth_dst: REWRITE.ETH_DST,
  vlan_vid: REWRITE.VLAN,
  vlan_pcp: REWRITE.VLAN,
  vlan_tci: REWRITE.VLAN,
  ip_src: REWRITE.IPV4_SRC,
  ip_dst: REWRITE.IPV4_DST,
  ipv6_src: REWRITE.IPV6_SRC,
  ipv6_dst: REWRITE.IPV6_DST,
  ip_dscp: REWRITE.NW_TOS,
  nw_tos: REWRITE.NW_TOS,
  nw_ecn: REWRITE.NW_TOS,
  nw_ttl: REWRITE.NW_TTL,
  tcp_src: REWRITE.TP_SRC,
  udp_src: REWRITE.TP_SRC,
  sctp_src: REWRITE.TP_SRC,
  tcp_dst: REWRITE.TP_DST,
  udp_dst: REWRITE.TP_DST,
  sctp_dst: REWRITE.TP_DST,
  arp_op: REWRITE.ARP,
  arp_spa: REWRITE.ARP,
  arp_tpa: REWRITE.ARP,
  arp_sha: REWRITE.ARP,
  arp_tha: REWRITE.ARP,
  icmp_type: REWRITE.ICMP,
  icmp_code: REWRITE.ICMP,
  icmpv6_type: REWRITE.ICMP,
  icmpv6_code: REWRITE.ICMP,
  ipv6_label: REWRITE.IPV6_LABEL,
  nd_target: REWRITE.ND_TARGET,
  nd_sll: REWRITE.ND_LL,
  nd_tll: REWRITE.ND_LL,
};

export function rewriteClassOf(logical: string): RewriteClass {
  return CLASS_BY_FIELD[logical] ?? REWRITE.NONE;
}

function rd16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
function rd32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** Moves every layer offset of `key` by `delta` bytes (after a tag push/pop). */
function shiftOffsets(key: FlowKey, delta: number): void {
  if (key.l3Ofs >= 0) key.l3Ofs += delta;
  if (key.l4Ofs >= 0) key.l4Ofs += delta;
  if (key.l7Ofs >= 0) key.l7Ofs += delta;
  if (key.l3End >= 0) key.l3End += delta;
}

/** Offset of the first VLAN tag: right after the two MAC addresses. */
const TAG_OFS = 12;

/**
 * OF1.3 push_vlan (OVS `flow_push_vlan_uninit` + OFPACT_PUSH_VLAN): a new
 * outermost tag with TPID `tpid` and TCI 0 (present); the old outer tag, if
 * any, becomes the inner one. False when the frame is too short or the buffer
 * full (the packet is then dropped by the caller).
 */
export function pushVlan(pkt: PacketBuffer, key: FlowKey, tpid: number): boolean {
  if (pkt.len < TAG_OFS || !pkt.insert(TAG_OFS, HDR.VLAN_TAG)) return false;
  const w = key.w;
  w[FK.VLAN_TCI2] = w[FK.VLAN_TCI]!;
  w[FK.VLAN_TPID2] = w[FK.VLAN_TPID]!;
  w[FK.VLAN_TCI] = VLAN.CFI;
  w[FK.VLAN_TPID] = tpid;
  const b = pkt.buf;
  wr16(b, TAG_OFS, tpid);
  wr16(b, TAG_OFS + 2, 0);
  key.vlanOfs = TAG_OFS;
  shiftOffsets(key, HDR.VLAN_TAG);
  return true;
}

/** OF1.3 pop_vlan: removes the outer tag; on an untagged frame it does nothing (as OVS). */
export function popVlan(pkt: PacketBuffer, key: FlowKey): void {
  if (key.vlanOfs < 0) return;
  pkt.remove(key.vlanOfs, HDR.VLAN_TAG);
  const w = key.w;
  w[FK.VLAN_TCI] = w[FK.VLAN_TCI2]!;
  w[FK.VLAN_TPID] = w[FK.VLAN_TPID2]!;
  w[FK.VLAN_TCI2] = 0;
  w[FK.VLAN_TPID2] = 0;
  key.vlanOfs = (w[FK.VLAN_TCI]! & VLAN.CFI) !== 0 ? TAG_OFS : NO_OFFSET;
  shiftOffsets(key, -HDR.VLAN_TAG);
}

/**
 * Makes the frame's outer tag agree with the key's VLAN_TCI (push, pop or
 * rewrite). The key's TCI has already been changed by the caller; a push
 * here makes a tag on an untagged frame, so there is no inner tag.
 */
export function syncVlan(pkt: PacketBuffer, key: FlowKey): boolean {
  const w = key.w;
  const tci = w[FK.VLAN_TCI]!;
  const present = (tci & VLAN.CFI) !== 0;
  if (present && key.vlanOfs < 0) {
    const tpid = w[FK.VLAN_TPID] === 0 ? ETH_TYPE.VLAN : w[FK.VLAN_TPID]!;
    if (!pushVlan(pkt, key, tpid)) return false;
    w[FK.VLAN_TCI2] = 0;
    w[FK.VLAN_TPID2] = 0;
    w[FK.VLAN_TCI] = tci;
  } else if (!present && key.vlanOfs >= 0) {
    // Only the outer tag goes; the inner one (if parsed) becomes the outer.
    popVlan(pkt, key);
    return true;
  } else if (!present) {
    w[FK.VLAN_TCI] = 0;
    return true;
  }
  return writeVlanTci(pkt.frame(), key);
}

function writeIcmp(frame: Uint8Array, key: FlowKey): boolean {
  const proto = key.w[FK.NW_PROTO];
  if (key.l4Ofs < 0 || (proto !== IP_PROTO.ICMP && proto !== IP_PROTO.ICMPV6)) return false;
  const o = key.l4Ofs;
  if (o + 4 > frame.length) return false;
  const oldWord = rd16(frame, o);
  const newWord = ((key.w[FK.ICMP_TYPE]! & 0xff) << 8) | (key.w[FK.ICMP_CODE]! & 0xff);
  wr16(frame, o, newWord);
  wr16(frame, o + 2, csumReplace16(rd16(frame, o + 2), oldWord, newWord));
  return true;
}

function writeIpv6Label(frame: Uint8Array, key: FlowKey): boolean {
  if (key.w[FK.ETH_TYPE] !== ETH_TYPE.IPV6 || key.l3Ofs < 0) return false;
  const o = key.l3Ofs;
  const label = key.w[FK.IPV6_LABEL]! & 0xfffff;
  frame[o + 1] = (frame[o + 1]! & 0xf0) | (label >>> 16);
  frame[o + 2] = label >>> 8;
  frame[o + 3] = label;
  return true;
}

function isNd(key: FlowKey): boolean {
  const w = key.w;
  return (
    w[FK.ETH_TYPE] === ETH_TYPE.IPV6 &&
    w[FK.NW_PROTO] === IP_PROTO.ICMPV6 &&
    key.l4Ofs >= 0 &&
    (w[FK.ICMP_TYPE] === 135 || w[FK.ICMP_TYPE] === 136)
  );
}

function writeNdTarget(frame: Uint8Array, key: FlowKey): boolean {
  if (!isNd(key)) return false;
  const base = key.l4Ofs + HDR.ICMPV6;
  if (base + HDR.ND_TARGET > frame.length) return false;
  const csum = key.l4Ofs + 2;
  for (let i = 0; i < 4; i++) {
    const o = base + 4 * i;
    const oldV = rd32(frame, o);
    const newV = key.w[FK.ND_TARGET0 + i]!;
    if (oldV === newV) continue;
    wr32(frame, o, newV);
    wr16(frame, csum, csumReplace32(rd16(frame, csum), oldV, newV));
  }
  return true;
}

/** ND source/target link-layer options (type 1 / 2): rewritten where present. */
function writeNdLinkLayer(frame: Uint8Array, key: FlowKey): boolean {
  if (!isNd(key)) return false;
  const end = key.l3End > 0 ? Math.min(key.l3End, frame.length) : frame.length;
  const csum = key.l4Ofs + 2;
  let p = key.l4Ofs + HDR.ICMPV6 + HDR.ND_TARGET;
  const scratch = new Uint8Array(6);
  while (p + HDR.ND_LLA_OPT <= end) {
    const type = frame[p]!;
    const len = frame[p + 1]! * 8;
    if (len === 0) break;
    const hi = type === 1 ? FK.ND_SLL_HI : type === 2 ? FK.ND_TLL_HI : -1;
    if (hi >= 0 && len === HDR.ND_LLA_OPT) {
      putMac(scratch, 0, key.w[hi]!, key.w[hi + 1]!);
      for (let i = 0; i < 6; i += 2) {
        const oldW = rd16(frame, p + 2 + i);
        const newW = (scratch[i]! << 8) | scratch[i + 1]!;
        wr16(frame, p + 2 + i, newW);
        wr16(frame, csum, csumReplace16(rd16(frame, csum), oldW, newW));
      }
    }
    p += len;
  }
  return true;
}

/**
 * Writes header class `cls` from the key into the frame. Returns false when
 * the frame lacks that header (the key then disagrees with the frame only in
 * a field the packet does not carry, as with OVS's "unmet prerequisites").
 */
export function syncHeader(pkt: PacketBuffer, key: FlowKey, cls: RewriteClass): boolean {
  switch (cls) {
    case REWRITE.NONE:
      return true;
    case REWRITE.ETH_SRC:
      return writeEthSrc(pkt.frame(), key);
    case REWRITE.ETH_DST:
      return writeEthDst(pkt.frame(), key);
    case REWRITE.VLAN:
      return syncVlan(pkt, key);
    case REWRITE.IPV4_SRC:
      return writeIpv4Src(pkt.frame(), key);
    case REWRITE.IPV4_DST:
      return writeIpv4Dst(pkt.frame(), key);
    case REWRITE.IPV6_SRC:
      return writeIpv6Src(pkt.frame(), key);
    case REWRITE.IPV6_DST:
      return writeIpv6Dst(pkt.frame(), key);
    case REWRITE.NW_TOS:
      return writeNwTos(pkt.frame(), key);
    case REWRITE.NW_TTL:
      return writeNwTtl(pkt.frame(), key);
    case REWRITE.TP_SRC:
      return writeTpSrc(pkt.frame(), key);
    case REWRITE.TP_DST:
      return writeTpDst(pkt.frame(), key);
    case REWRITE.ARP:
      return writeArp(pkt.frame(), key);
    case REWRITE.ICMP:
      return writeIcmp(pkt.frame(), key);
    case REWRITE.IPV6_LABEL:
      return writeIpv6Label(pkt.frame(), key);
    case REWRITE.ND_TARGET:
      return writeNdTarget(pkt.frame(), key);
    case REWRITE.ND_LL:
      return writeNdLinkLayer(pkt.frame(), key);
  }
}
