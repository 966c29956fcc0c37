/**
 * IPv4 (RFC 791) and IPv6 (RFC 8200) datagrams in Ethernet, with UDP (RFC 768)
 * and TCP (RFC 9293) segments. Every checksum is computed.
 *
 * IPv4 header:  0 ver/ihl | 1 tos | 2 total length | 4 id | 6 flags/frag offset
 *               8 ttl | 9 proto | 10 checksum | 12 src | 16 dst | 20 options
 * IPv6 header:  0 ver/tc/flow label | 4 payload length | 6 next header
 *               7 hop limit | 8 src(16) | 24 dst(16)
 * UDP:          0 sport | 2 dport | 4 length | 6 checksum
 * TCP:          0 sport | 2 dport | 4 seq | 8 ack | 12 offset/flags | 14 window
 *               16 checksum | 18 urgent | 20 options
 */
import { ETH_TYPE, HDR, IP_PROTO, TCP_FLAG } from "./constants.js";
import { setIpv4HeaderChecksum, setL4Checksum } from "./checksum.js";
import { allocEthernet } from "./ethernet.js";
import type { EthernetSpec } from "./ethernet.js";

export interface Ipv4Spec {
  readonly kind: "ipv4";
  readonly src: number;
  readonly dst: number;
  /** Default 64. */
  readonly ttl?: number;
  /** Whole TOS byte (DSCP << 2 | ECN). Default 0. */
  readonly tos?: number;
  /** Identification. Default 0. */
  readonly id?: number;
  /** Don't Fragment. Default false. */
  readonly df?: boolean;
  /** More Fragments. Default false. */
  readonly mf?: boolean;
  /** Fragment offset in 8-byte units. Default 0. */
  readonly fragOffset?: number;
  /** Header options, a multiple of 4 bytes, at most 40. */
  readonly options?: Uint8Array;
}

export interface Ipv6Spec {
  readonly kind: "ipv6";
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** Default 64. */
  readonly hopLimit?: number;
  /** Default 0. */
  readonly trafficClass?: number;
  /** 20 bits. Default 0. */
  readonly flowLabel?: number;
}

export type IpSpec = Ipv4Spec | Ipv6Spec;

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

/** IP header length for `ip`. */
export function ipHeaderLength(ip: IpSpec): number {
  if (ip.kind === "ipv6") return HDR.IPV6;
  const opts = ip.options?.length ?? 0;
  if (opts % 4 !== 0 || opts > 40) {
    throw new RangeError(`IPv4 options must be a multiple of 4 bytes, at most 40 (got ${opts})`);
  }
  return HDR.IPV4_MIN + opts;
}

/** Writes the IP header for `ip` at `l3` of a datagram whose L4 part is `l4Length` bytes. */
function writeIpHeader(
  frame: Uint8Array,
  l3: number,
  ip: IpSpec,
  proto: number,
  l4Length: number,
): void {
  switch (ip.kind) {
    case "ipv4": {
      const hl = ipHeaderLength(ip);
      frame[l3] = 0x40 | (hl >>> 2);
      frame[l3 + 1] = ip.tos ?? 0;
      wr16(frame, l3 + 2, hl + l4Length);
      wr16(frame, l3 + 4, ip.id ?? 0);
      wr16(
        frame,
        l3 + 6,
        (ip.df === true ? 0x4000 : 0) |
          (ip.mf === true ? 0x2000 : 0) |
          ((ip.fragOffset ?? 0) & 0x1fff),
      );
      frame[l3 + 8] = ip.ttl ?? 64;
      frame[l3 + 9] = proto;
      wr32(frame, l3 + 12, ip.src);
      wr32(frame, l3 + 16, ip.dst);
      if (ip.options) frame.set(ip.options, l3 + HDR.IPV4_MIN);
      setIpv4HeaderChecksum(frame, l3);
      return;
    }
    case "ipv6": {
      const tc = (ip.trafficClass ?? 0) & 0xff;
      wr32(frame, l3, ((6 << 28) | (tc << 20) | ((ip.flowLabel ?? 0) & 0xfffff)) >>> 0);
      wr16(frame, l3 + 4, l4Length);
      frame[l3 + 6] = proto;
      frame[l3 + 7] = ip.hopLimit ?? 64;
      frame.set(ip.src.subarray(0, 16), l3 + 8);
      frame.set(ip.dst.subarray(0, 16), l3 + 24);
      return;
    }
    default: {
      const never: never = ip;
      throw new TypeError(`unknown IP kind ${String(never)}`);
    }
  }
}

/**
 * An Ethernet frame carrying one IP datagram with upper-layer bytes `l4`
 * (protocol `proto`). For TCP, UDP, ICMP and ICMPv6 the L4 checksum is
 * computed over the copied bytes unless `l4Checksum` is false.
 */
export function buildIpFrame(
  eth: EthernetSpec,
  options: { ip: IpSpec; proto: number; l4: Uint8Array; l4Checksum?: boolean },
): Uint8Array {
  const { ip, proto, l4 } = options;
  const hl = ipHeaderLength(ip);
  const { frame, l3 } = allocEthernet(eth, {
    ethType: ip.kind === "ipv4" ? ETH_TYPE.IPV4 : ETH_TYPE.IPV6,
    l3Length: hl + l4.length,
  });
  writeIpHeader(frame, l3, ip, proto, l4.length);
  const l4Ofs = l3 + hl;
  frame.set(l4, l4Ofs);
  const hasChecksum =
    proto === IP_PROTO.TCP ||
    proto === IP_PROTO.UDP ||
    proto === IP_PROTO.ICMP ||
    proto === IP_PROTO.ICMPV6;
  if (hasChecksum && options.l4Checksum !== false && l4.length >= minL4(proto)) {
    setL4Checksum(frame, { l3, l4: l4Ofs, end: frame.length, proto });
  }
  return frame;
}

function minL4(proto: number): number {
  return proto === IP_PROTO.TCP ? HDR.TCP_MIN : proto === IP_PROTO.UDP ? HDR.UDP : 4;
}

export interface UdpSpec {
  readonly eth: EthernetSpec;
  readonly ip: IpSpec;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload?: Uint8Array;
  /** Compute the checksum (default true). Over IPv4, false leaves 0 ("none"); IPv6 requires one. */
  readonly checksum?: boolean;
}

/** An Ethernet/IP/UDP frame. */
export function buildUdp(spec: UdpSpec): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const udp = new Uint8Array(HDR.UDP + payload.length);
  wr16(udp, 0, spec.srcPort);
  wr16(udp, 2, spec.dstPort);
  wr16(udp, 4, udp.length);
  udp.set(payload, HDR.UDP);
  return buildIpFrame(spec.eth, {
    ip: spec.ip,
    proto: IP_PROTO.UDP,
    l4: udp,
    l4Checksum: spec.checksum !== false || spec.ip.kind === "ipv6",
  });
}

export interface TcpSpec {
  readonly eth: EthernetSpec;
  readonly ip: IpSpec;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq?: number;
  readonly ack?: number;
  /** {@link TCP_FLAG} bits (12 bits). Default SYN. */
  readonly flags?: number;
  /** Default 65535. */
  readonly window?: number;
  readonly urgent?: number;
  /** TCP options, a multiple of 4 bytes, at most 40. */
  readonly options?: Uint8Array;
  readonly payload?: Uint8Array;
}

/** An Ethernet/IP/TCP frame. */
export function buildTcp(spec: TcpSpec): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const opts = spec.options?.length ?? 0;
  if (opts % 4 !== 0 || opts > 40) {
    throw new RangeError(`TCP options must be a multiple of 4 bytes, at most 40 (got ${opts})`);
  }
  const hl = HDR.TCP_MIN + opts;
  const tcp = new Uint8Array(hl + payload.length);
  wr16(tcp, 0, spec.srcPort);
  wr16(tcp, 2, spec.dstPort);
  wr32(tcp, 4, spec.seq ?? 0);
  wr32(tcp, 8, spec.ack ?? 0);
  wr16(tcp, 12, ((hl / 4) << 12) | ((spec.flags ?? TCP_FLAG.SYN) & 0x0fff));
  wr16(tcp, 14, spec.window ?? 0xffff);
  wr16(tcp, 18, spec.urgent ?? 0);
  if (spec.options) tcp.set(spec.options, HDR.TCP_MIN);
  tcp.set(payload, hl);
  return buildIpFrame(spec.eth, { ip: spec.ip, proto: IP_PROTO.TCP, l4: tcp });
}
