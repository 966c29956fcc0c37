/**
 * ICMP echo (RFC 792), ICMPv6 echo (RFC 4443 §4) and Neighbor Discovery
 * solicitations/advertisements (RFC 4861 §4.3, §4.4), with checksums.
 *
 * Echo:  0 type | 1 code | 2 checksum | 4 identifier | 6 sequence | 8 data
 * NS/NA: 0 type | 1 code | 2 checksum | 4 reserved (NA: R S O flags) | 8 target(16)
 *        24 options: 8-byte link-layer address options (type, len=1, MAC)
 */
import { ipv6MulticastMac, solicitedNodeAddress } from "./addr.js";
import { HDR, ICMP_TYPE, ICMPV6_TYPE, IP_PROTO, ND_NA_FLAG, ND_OPT } from "./constants.js";
import type { EthernetSpec, VlanTag } from "./ethernet.js";
import { buildIpFrame } from "./ip.js";
import type { Ipv4Spec, Ipv6Spec } from "./ip.js";

export interface EchoSpec<Ip> {
  readonly eth: EthernetSpec;
  readonly ip: Ip;
  readonly id: number;
  readonly seq: number;
  readonly payload?: Uint8Array;
}

function echoBody(type: number, id: number, seq: number, payload?: Uint8Array): Uint8Array {
  const data = payload ?? new Uint8Array(0);
  const b = new Uint8Array(8 + data.length);
  b[0] = type;
  b[4] = id >>> 8;
  b[5] = id;
  b[6] = seq >>> 8;
  b[7] = seq;
  b.set(data, 8);
  return b;
}

/** ICMP echo request over IPv4. */
export function icmpEchoRequest(spec: EchoSpec<Ipv4Spec>): Uint8Array {
  return buildIpFrame(spec.eth, {
    ip: spec.ip,
    proto: IP_PROTO.ICMP,
    l4: echoBody(ICMP_TYPE.ECHO_REQUEST, spec.id, spec.seq, spec.payload),
  });
}

/** ICMP echo reply over IPv4. */
export function icmpEchoReply(spec: EchoSpec<Ipv4Spec>): Uint8Array {
  return buildIpFrame(spec.eth, {
    ip: spec.ip,
    proto: IP_PROTO.ICMP,
    l4: echoBody(ICMP_TYPE.ECHO_REPLY, spec.id, spec.seq, spec.payload),
  });
}

/** ICMPv6 echo request. */
export function icmpv6EchoRequest(spec: EchoSpec<Ipv6Spec>): Uint8Array {
  return buildIpFrame(spec.eth, {
    ip: spec.ip,
    proto: IP_PROTO.ICMPV6,
    l4: echoBody(ICMPV6_TYPE.ECHO_REQUEST, spec.id, spec.seq, spec.payload),
  });
}

/** ICMPv6 echo reply. */
export function icmpv6EchoReply(spec: EchoSpec<Ipv6Spec>): Uint8Array {
  return buildIpFrame(spec.eth, {
    ip: spec.ip,
    proto: IP_PROTO.ICMPV6,
    l4: echoBody(ICMPV6_TYPE.ECHO_REPLY, spec.id, spec.seq, spec.payload),
  });
}

function ndBody(
  type: number,
  reserved: number,
  target: Uint8Array,
  optType: number,
  mac?: Uint8Array,
): Uint8Array {
  const b = new Uint8Array(HDR.ICMPV6 + HDR.ND_TARGET + (mac ? HDR.ND_LLA_OPT : 0));
  b[0] = type;
  b[4] = reserved >>> 24;
  b[5] = reserved >>> 16;
  b[6] = reserved >>> 8;
  b[7] = reserved;
  b.set(target.subarray(0, 16), 8);
  if (mac) {
    b[24] = optType;
    b[25] = 1; // length in units of 8 bytes
    b.set(mac.subarray(0, 6), 26);
  }
  return b;
}

/** RFC 4861 §7.1: ND messages must carry hop limit 255 so that receivers can reject off-link forgeries. */
const ND_HOP_LIMIT = 255;

export interface NeighborSolicitSpec {
  /** Ethernet source, also the source link-layer address option unless `sll` is null. */
  readonly ethSrc: Uint8Array;
  /** IPv6 source; the unspecified address "::" for duplicate address detection. */
  readonly ipSrc: Uint8Array;
  /** Address being resolved. */
  readonly target: Uint8Array;
  /** Source link-layer address option: default `ethSrc`; null omits it (required for DAD, RFC 4861 §4.3). */
  readonly sll?: Uint8Array | null;
  /** Default: the target's solicited-node multicast address. */
  readonly ipDst?: Uint8Array;
  /** Default: the multicast MAC of `ipDst`. */
  readonly ethDst?: Uint8Array;
  readonly vlan?: VlanTag | readonly VlanTag[];
}

/** Neighbor Solicitation. */
export function neighborSolicit(spec: NeighborSolicitSpec): Uint8Array {
  const ipDst = spec.ipDst ?? solicitedNodeAddress(spec.target);
  const sll = spec.sll === null ? undefined : (spec.sll ?? spec.ethSrc);
  return buildIpFrame(
    {
      dst: spec.ethDst ?? ipv6MulticastMac(ipDst),
      src: spec.ethSrc,
      ...(spec.vlan ? { vlan: spec.vlan } : {}),
    },
    {
      ip: { kind: "ipv6", src: spec.ipSrc, dst: ipDst, hopLimit: ND_HOP_LIMIT },
      proto: IP_PROTO.ICMPV6,
      l4: ndBody(ICMPV6_TYPE.NEIGHBOR_SOLICIT, 0, spec.target, ND_OPT.SOURCE_LINKADDR, sll),
    },
  );
}

export interface NeighborAdvertSpec {
  readonly ethSrc: Uint8Array;
  readonly ethDst: Uint8Array;
  readonly ipSrc: Uint8Array;
  readonly ipDst: Uint8Array;
  readonly target: Uint8Array;
  /** Target link-layer address option: default `ethSrc`; null omits it. */
  readonly tll?: Uint8Array | null;
  readonly router?: boolean;
  /** Default true (a reply to a solicitation). */
  readonly solicited?: boolean;
  /** Default true. */
  readonly override?: boolean;
  readonly vlan?: VlanTag | readonly VlanTag[];
}

/** Neighbor Advertisement. */
export function neighborAdvert(spec: NeighborAdvertSpec): Uint8Array {
  const flags =
    ((spec.router === true ? ND_NA_FLAG.ROUTER : 0) |
      (spec.solicited !== false ? ND_NA_FLAG.SOLICITED : 0) |
      (spec.override !== false ? ND_NA_FLAG.OVERRIDE : 0)) >>>
    0;
  const tll = spec.tll === null ? undefined : (spec.tll ?? spec.ethSrc);
  return buildIpFrame(
    { dst: spec.ethDst, src: spec.ethSrc, ...(spec.vlan ? { vlan: spec.vlan } : {}) },
    {
      ip: { kind: "ipv6", src: spec.ipSrc, dst: spec.ipDst, hopLimit: ND_HOP_LIMIT },
      proto: IP_PROTO.ICMPV6,
      l4: ndBody(ICMPV6_TYPE.NEIGHBOR_ADVERT, flags, spec.target, ND_OPT.TARGET_LINKADDR, tll),
    },
  );
}
