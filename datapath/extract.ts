/**
 * Fast key extraction for the batch path: a frame at `b[o .. o+len)` (no
 * view per frame) into FlowKey words at `w[k ..]`, producing exactly what
 * codec `parseFrame` produces (same words, same status, vlan-limit 1) for
 * the frames a virtual switch mostly sees — Ethernet with at most one
 * 802.1Q/802.1ad tag, then IPv4 (options and fragments included) with
 * TCP/UDP/SCTP/ICMP/IGMP or another protocol, ARP/RARP, or any other
 * EtherType ≥ 0x600. Anything else (IPv6, LLC/SNAP, truncated tags) returns
 * {@link EXTRACT_FALLBACK} and the caller runs parseFrame itself.
 *
 * Only the packet words in {@link FAST_WORDS} are written, every one of them
 * on every call (0 where absent); the caller keeps the rest of the packet
 * section zero. (test/datapath/megaflow.test.ts checks extraction against
 * parseFrame on generated frames.)
 */
import { FK } from "../codec/packet/flow-key.js";
import { PARSE_STATUS } from "../codec/packet/parse.js";

/** Returned when the frame needs the full parser. */
export const EXTRACT_FALLBACK = -1;

/** The packet words the fast extractor writes. */
export const FAST_WORDS: readonly number[] = [
  FK.ETH_DST_HI,
  FK.ETH_DST_LO,
  FK.ETH_SRC_HI,
  FK.ETH_SRC_LO,
  FK.ETH_TYPE,
  FK.VLAN_TCI,
  FK.VLAN_TPID,
  FK.NW_SRC,
  FK.NW_DST,
  FK.NW_PROTO,
  FK.NW_TOS,
  FK.NW_TTL,
  FK.NW_FRAG,
  FK.TP_SRC,
  FK.TP_DST,
  FK.TCP_FLAGS,
  FK.ICMP_TYPE,
  FK.ICMP_CODE,
  FK.ARP_OP,
  FK.ARP_SPA,
  FK.ARP_TPA,
  FK.ARP_SHA_HI,
  FK.ARP_SHA_LO,
  FK.ARP_THA_HI,
  FK.ARP_THA_LO,
];

const ETH_HDR = 14;
const IPV4_MIN = 20;
const ARP_LEN = 28;
const T_VLAN = 0x8100;
const T_QINQ = 0x88a8;
const T_IPV4 = 0x0800;
const T_ARP = 0x0806;
const T_RARP = 0x8035;
const T_IPV6 = 0x86dd;
const T_MIN = 0x0600;
const CFI = 0x1000;
/** ARP htype 1 (Ethernet), ptype 0x0800 (IPv4), as one word; hlen 6, plen 4. */
const ARP_ETH_IPV4 = 0x00010800;
const ARP_LENS = 0x0604;
const P_ICMP = 1;
const P_IGMP = 2;
const P_TCP = 6;
const P_UDP = 17;
const P_SCTP = 132;
const MF = 0x2000;
const OFFSET_MASK = 0x1fff;
const FRAG_ANY = 1;
const FRAG_LATER = 2;

/**
 * Extracts `b[o, o+len)` (`v` is a DataView of the same bytes: big-endian
 * 16/32-bit reads in one call) into `w[k + FK.*]`; returns the parse status, or
 * {@link EXTRACT_FALLBACK}. A frame shorter than an Ethernet header returns
 * ETH_TRUNCATED with nothing written (callers drop such frames).
 */
export function extractKey(
  b: Uint8Array,
  v: DataView,
  o: number,
  len: number,
  w: Int32Array,
  k: number,
): number {
  if (len < ETH_HDR) return PARSE_STATUS.ETH_TRUNCATED;
  let t = v.getUint16(o + 12);
  let p = o + ETH_HDR;
  let tci = 0;
  let tpid = 0;
  if (t === T_VLAN || t === T_QINQ) {
    if (len - 12 < 6) return EXTRACT_FALLBACK;
    tpid = t;
    tci = v.getUint16(o + 14) | CFI;
    t = v.getUint16(o + 16);
    p += 4;
  }
  if (t < T_MIN || t === T_IPV6) return EXTRACT_FALLBACK;
  w[k + FK.ETH_DST_HI] = v.getUint16(o);
  w[k + FK.ETH_DST_LO] = v.getInt32(o + 2);
  w[k + FK.ETH_SRC_HI] = v.getUint16(o + 6);
  w[k + FK.ETH_SRC_LO] = v.getInt32(o + 8);
  w[k + FK.ETH_TYPE] = t;
  w[k + FK.VLAN_TCI] = tci;
  w[k + FK.VLAN_TPID] = tpid;
  let src = 0;
  let dst = 0;
  let proto = 0;
  let tos = 0;
  let ttl = 0;
  let frag = 0;
  let tpSrc = 0;
  let tpDst = 0;
  let flags = 0;
  let icmpType = 0;
  let icmpCode = 0;
  let arpOp = 0;
  let spa = 0;
  let tpa = 0;
  let shaHi = 0;
  let shaLo = 0;
  let thaHi = 0;
  let thaLo = 0;
  let status: number = PARSE_STATUS.OK;
  const end = o + len;
  if (t === T_IPV4) {
    const rem = end - p;
    const ihl = (b[p]! & 0x0f) * 4;
    const totLen = rem >= IPV4_MIN ? v.getUint16(p + 2) : 0;
    if (rem < IPV4_MIN) status = PARSE_STATUS.IPV4_TRUNCATED;
    else if (ihl < IPV4_MIN) status = PARSE_STATUS.IPV4_BAD_LENGTH;
    else if (rem < ihl) status = PARSE_STATUS.IPV4_TRUNCATED;
    else if (totLen > rem || ihl > totLen || rem - totLen > 0xffff)
      status = PARSE_STATUS.IPV4_BAD_LENGTH;
    else {
      src = v.getInt32(p + 12);
      dst = v.getInt32(p + 16);
      tos = b[p + 1]!;
      ttl = b[p + 8]!;
      proto = b[p + 9]!;
      const fragOff = v.getUint16(p + 6);
      if ((fragOff & (MF | OFFSET_MASK)) !== 0) {
        frag = FRAG_ANY;
        if ((fragOff & OFFSET_MASK) !== 0) frag |= FRAG_LATER;
      }
      const l4 = p + ihl;
      const l4rem = p + totLen - l4;
      if ((frag & FRAG_LATER) === 0) {
        switch (proto) {
          case P_TCP: {
            const hdrLen = l4rem >= 20 ? (b[l4 + 12]! >>> 4) * 4 : 0;
            if (l4rem < 20 || hdrLen < 20 || l4rem < hdrLen) status = PARSE_STATUS.L4_TRUNCATED;
            else {
              tpSrc = v.getUint16(l4);
              tpDst = v.getUint16(l4 + 2);
              flags = v.getUint16(l4 + 12) & 0x0fff;
            }
            break;
          }
          case P_UDP:
          case P_SCTP: {
            if (l4rem < (proto === P_UDP ? 8 : 12)) status = PARSE_STATUS.L4_TRUNCATED;
            else {
              tpSrc = v.getUint16(l4);
              tpDst = v.getUint16(l4 + 2);
            }
            break;
          }
          case P_ICMP:
            if (l4rem < 8) status = PARSE_STATUS.L4_TRUNCATED;
            else {
              icmpType = b[l4]!;
              icmpCode = b[l4 + 1]!;
            }
            break;
          case P_IGMP:
            if (l4rem < 8) status = PARSE_STATUS.L4_TRUNCATED;
            else {
              tpSrc = b[l4]!;
              tpDst = b[l4 + 1]!;
            }
            break;
          default:
            // ICMPv6 inside IPv4 and other protocols: no L4 fields here (parseFrame
            // extracts ICMPv6 type/code whatever the IP version: leave it to it).
            if (proto === 58) return EXTRACT_FALLBACK;
        }
      }
    }
  } else if (t === T_ARP || t === T_RARP) {
    if (end - p < ARP_LEN) status = PARSE_STATUS.ARP_TRUNCATED;
    else if (v.getInt32(p) === ARP_ETH_IPV4 && v.getUint16(p + 4) === ARP_LENS) {
      const op = v.getUint16(p + 6);
      if (op <= 0xff) arpOp = op;
      shaHi = v.getUint16(p + 8);
      shaLo = v.getInt32(p + 10);
      spa = v.getInt32(p + 14);
      thaHi = v.getUint16(p + 18);
      thaLo = v.getInt32(p + 20);
      tpa = v.getInt32(p + 24);
    }
  }
  w[k + FK.NW_SRC] = src;
  w[k + FK.NW_DST] = dst;
  w[k + FK.NW_PROTO] = proto;
  w[k + FK.NW_TOS] = tos;
  w[k + FK.NW_TTL] = ttl;
  w[k + FK.NW_FRAG] = frag;
  w[k + FK.TP_SRC] = tpSrc;
  w[k + FK.TP_DST] = tpDst;
  w[k + FK.TCP_FLAGS] = flags;
  w[k + FK.ICMP_TYPE] = icmpType;
  w[k + FK.ICMP_CODE] = icmpCode;
  w[k + FK.ARP_OP] = arpOp;
  w[k + FK.ARP_SPA] = spa;
  w[k + FK.ARP_TPA] = tpa;
  w[k + FK.ARP_SHA_HI] = shaHi;
  w[k + FK.ARP_SHA_LO] = shaLo;
  w[k + FK.ARP_THA_HI] = thaHi;
  w[k + FK.ARP_THA_LO] = thaLo;
  return status;
}
