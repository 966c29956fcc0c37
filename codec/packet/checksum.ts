/**
 * Internet checksum (RFC 1071) and incremental update (RFC 1624).
 *
 * Sums are kept unfolded in a plain number (safe: a 64 KiB datagram sums to
 * < 2^32), folded to 16 bits once at the end. All functions work on positions
 * in a frame so that nothing is copied or allocated.
 *
 * The three-number primitives (`csumReplace16`, `csumReplace32`) take positional
 * arguments on purpose: they run per packet in the switch's set_field path and
 * an options object would cost an allocation there (same shape as Linux's
 * `csum_replace2/4`).
 */
import { HDR, IP_PROTO } from "./constants.js";

/** One's-complement sum (unfolded) of `b[start..end)` as big-endian 16-bit words. */
export function onesSum(b: Uint8Array, start: number, end: number): number {
  let sum = 0;
  let i = start;
  const even = end - ((end - start) & 1);
  for (; i < even; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8; // odd length: pad with a zero byte (RFC 1071 §4.1)
  return sum;
}

/** Folds an unfolded sum to 16 bits (without complementing). */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for an unfolded sum: ~fold(sum). */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** Internet checksum of `b[start..end)` (the value to store in a zeroed checksum field). */
export function internetChecksum(b: Uint8Array, start: number, end: number): number {
  return finishChecksum(onesSum(b, start, end));
}

/**
 * RFC 1624 eqn. 3: the new checksum after a 16-bit word changes from `oldWord`
 * to `newWord`: HC' = ~(~HC + ~m + m').
 */
export function csumReplace16(hc: number, oldWord: number, newWord: number): number {
  return ~foldSum((~hc & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/** RFC 1624 for a 32-bit field (two 16-bit words), e.g. an IPv4 address. */
export function csumReplace32(hc: number, oldValue: number, newValue: number): number {
  const sum =
    (~hc & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    (newValue >>> 16) +
    (newValue & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

function rd16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** IPv4 header length in bytes (IHL * 4) of the header at `l3`. */
export function ipv4HeaderLength(frame: Uint8Array, l3: number): number {
  return (frame[l3]! & 0x0f) * 4;
}

/** Computes the IPv4 header checksum of the header at `l3` (its checksum field counted as zero). */
export function ipv4HeaderChecksum(frame: Uint8Array, l3: number): number {
  const end = l3 + ipv4HeaderLength(frame, l3);
  const sum = onesSum(frame, l3, end) - rd16(frame, l3 + 10);
  return finishChecksum(sum);
}

/** Writes the IPv4 header checksum of the header at `l3`. */
export function setIpv4HeaderChecksum(frame: Uint8Array, l3: number): void {
  wr16(frame, l3 + 10, ipv4HeaderChecksum(frame, l3));
}

/** True when the IPv4 header at `l3` has a valid checksum (RFC 1071: the sum over it is all ones). */
export function verifyIpv4HeaderChecksum(frame: Uint8Array, l3: number): boolean {
  const ihl = ipv4HeaderLength(frame, l3);
  if (ihl < HDR.IPV4_MIN || l3 + ihl > frame.length) return false;
  return foldSum(onesSum(frame, l3, l3 + ihl)) === 0xffff;
}

/** Offset of the checksum field inside an L4 header, or -1 if the protocol has none we handle. */
export function l4ChecksumOffset(proto: number): number {
  switch (proto) {
    case IP_PROTO.TCP:
      return 16;
    case IP_PROTO.UDP:
      return 6;
    case IP_PROTO.ICMP:
    case IP_PROTO.ICMPV6:
      return 2;
    default:
      return -1;
  }
}

/** Where an L4 segment lies in a frame: IP header at `l3`, segment `[l4, end)`. */
export interface L4Span {
  readonly l3: number;
  readonly l4: number;
  readonly end: number;
  readonly proto: number;
}

/**
 * Unfolded pseudo-header sum for the L4 checksum of `span` (RFC 9293 §3.1 /
 * RFC 768 for IPv4, RFC 8200 §8.1 for IPv6; the IP version is read from the
 * header at `span.l3`). The upper-layer length is `end - l4`.
 */
export function pseudoHeaderSum(frame: Uint8Array, span: L4Span): number {
  const { l3, proto } = span;
  const l4Length = span.end - span.l4;
  if (frame[l3]! >>> 4 === 6) {
    return onesSum(frame, l3 + 8, l3 + 40) + proto + (l4Length >>> 16) + (l4Length & 0xffff);
  }
  return onesSum(frame, l3 + 12, l3 + 20) + proto + l4Length;
}

/**
 * Computes the TCP/UDP/ICMP/ICMPv6 checksum of the segment (checksum field
 * counted as zero). ICMPv4 has no pseudo-header (RFC 792); the others do.
 * A UDP result of 0 is returned as 0xffff (RFC 768: 0 means "no checksum").
 */
export function l4Checksum(frame: Uint8Array, span: L4Span): number {
  const { l4, end, proto } = span;
  const csumOfs = l4ChecksumOffset(proto);
  let sum = onesSum(frame, l4, end) - rd16(frame, l4 + csumOfs);
  if (proto !== IP_PROTO.ICMP) sum += pseudoHeaderSum(frame, span);
  const c = finishChecksum(sum);
  return proto === IP_PROTO.UDP && c === 0 ? 0xffff : c;
}

/** Writes the L4 checksum of the segment. */
export function setL4Checksum(frame: Uint8Array, span: L4Span): void {
  wr16(frame, span.l4 + l4ChecksumOffset(span.proto), l4Checksum(frame, span));
}

/** True when the segment's L4 checksum is valid (a UDP checksum of 0 over IPv4 counts as valid: "none"). */
export function verifyL4Checksum(frame: Uint8Array, span: L4Span): boolean {
  const stored = rd16(frame, span.l4 + l4ChecksumOffset(span.proto));
  if (span.proto === IP_PROTO.UDP && stored === 0 && frame[span.l3]! >>> 4 === 4) return true;
  return stored === l4Checksum(frame, span);
}
