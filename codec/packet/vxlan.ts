/**
 * VXLAN (RFC 7348) encapsulation and decapsulation.
 *
 *   outer Ethernet | outer IPv4/IPv6 | UDP (dport 4789) | VXLAN | inner Ethernet frame
 *   VXLAN header:  0 flags (0x08 = I, "VNI valid") | 1..3 reserved
 *                  4..6 VNI (24 bits) | 7 reserved
 *
 * Decapsulation works from a key the outer frame was parsed into, so the
 * per-packet path (`vxlanTunnelInto`) allocates nothing. Tunnel metadata follows
 * OVS: tun_id = VNI, tun_src/tun_dst = outer IPv4 source/destination.
 */
import { ETH_TYPE, HDR, IP_PROTO, VXLAN_FLAG_I, VXLAN_UDP_PORT } from "./constants.js";
import type { EthernetSpec } from "./ethernet.js";
import { FK, FlowKey } from "./flow-key.js";
import { buildUdp } from "./ip.js";
import type { IpSpec } from "./ip.js";
import { parseFrame } from "./parse.js";

export interface VxlanEncapSpec {
  /** Outer Ethernet header. */
  readonly eth: EthernetSpec;
  /** Outer IP header (IPv4 is usual; IPv6 works too). */
  readonly ip: IpSpec;
  /** 24-bit VXLAN network identifier. */
  readonly vni: number;
  /** UDP source port. Default: a hash of the inner headers in 49152..65535 (RFC 7348 §5). */
  readonly srcPort?: number;
  /** Default 4789. */
  readonly dstPort?: number;
  /** Compute the outer UDP checksum over IPv4 (default false: RFC 7348 §5 says it SHOULD be zero). */
  readonly udpChecksum?: boolean;
}

/** RFC 7348 §5 recommends an entropy source port from the inner flow; FNV-1a over the inner L2-L4 headers. */
export function vxlanSourcePort(inner: Uint8Array): number {
  let h = 0x811c9dc5;
  const n = Math.min(inner.length, 54);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ inner[i]!, 0x01000193);
  return 49152 + ((h >>> 0) % 16384);
}

/** Wraps `inner` (a whole Ethernet frame) in Ethernet/IP/UDP/VXLAN. */
export function vxlanEncap(inner: Uint8Array, spec: VxlanEncapSpec): Uint8Array {
  const payload = new Uint8Array(HDR.VXLAN + inner.length);
  payload[0] = VXLAN_FLAG_I;
  payload[4] = spec.vni >>> 16;
  payload[5] = spec.vni >>> 8;
  payload[6] = spec.vni;
  payload.set(inner, HDR.VXLAN);
  return buildUdp({
    eth: spec.eth,
    ip: spec.ip,
    srcPort: spec.srcPort ?? vxlanSourcePort(inner),
    dstPort: spec.dstPort ?? VXLAN_UDP_PORT,
    payload,
    checksum: spec.udpChecksum === true,
  });
}

/**
 * Offset of the inner Ethernet frame in `frame`, which was parsed into
 * `outer`, or -1 when it is not an unfragmented VXLAN packet to `dstPort` with
 * the I flag and a whole VXLAN header. The inner frame ends at `outer.l3End`.
 */
export function vxlanInnerOffset(
  frame: Uint8Array,
  outer: FlowKey,
  dstPort = VXLAN_UDP_PORT,
): number {
  const w = outer.w;
  const et = w[FK.ETH_TYPE];
  if (et !== ETH_TYPE.IPV4 && et !== ETH_TYPE.IPV6) return -1;
  if (w[FK.NW_PROTO] !== IP_PROTO.UDP || w[FK.NW_FRAG] !== 0 || w[FK.TP_DST] !== dstPort) return -1;
  const v = outer.l7Ofs;
  if (v < 0 || v + HDR.VXLAN > outer.l3End) return -1;
  if ((frame[v]! & VXLAN_FLAG_I) === 0) return -1;
  return v + HDR.VXLAN;
}

/** The 24-bit VNI of a VXLAN packet whose inner offset is `innerOfs` (from {@link vxlanInnerOffset}). */
export function vxlanVniAt(frame: Uint8Array, innerOfs: number): number {
  const o = innerOfs - HDR.VXLAN + 4;
  return (frame[o]! << 16) | (frame[o + 1]! << 8) | frame[o + 2]!;
}

/**
 * Per-packet decap: when `frame` (parsed into `outer`) is VXLAN, sets the
 * tunnel metadata of `inner` (tun_id = VNI; tun_src/tun_dst = outer IPv4
 * addresses, 0 for an IPv6 outer header) and returns the inner frame's offset;
 * returns -1 and leaves `inner` untouched otherwise. The caller then parses
 * `frame.subarray(offset, outer.l3End)` into `inner`.
 */
export function vxlanTunnelInto(frame: Uint8Array, outer: FlowKey, inner: FlowKey): number {
  const ofs = vxlanInnerOffset(frame, outer);
  if (ofs < 0) return -1;
  const w = inner.w;
  w[FK.TUN_ID_HI] = 0;
  w[FK.TUN_ID_LO] = vxlanVniAt(frame, ofs);
  w[FK.TUN_SRC] = outer.w[FK.NW_SRC]!;
  w[FK.TUN_DST] = outer.w[FK.NW_DST]!;
  return ofs;
}

export type VxlanDecapResult =
  | {
      readonly kind: "vxlan";
      readonly vni: number;
      /** A view into the input frame (not a copy), without outer Ethernet padding. */
      readonly inner: Uint8Array;
      /** The outer headers as parsed (a fresh key). */
      readonly outer: FlowKey;
    }
  | { readonly kind: "not_vxlan"; readonly outer: FlowKey };

/** Convenience decap (allocates a key): parse the outer headers and split off the inner frame. */
export function vxlanDecap(
  frame: Uint8Array,
  options: { dstPort?: number } = {},
): VxlanDecapResult {
  const outer = new FlowKey();
  parseFrame(frame, outer);
  const ofs = vxlanInnerOffset(frame, outer, options.dstPort ?? VXLAN_UDP_PORT);
  if (ofs < 0) return { kind: "not_vxlan", outer };
  return {
    kind: "vxlan",
    vni: vxlanVniAt(frame, ofs),
    inner: frame.subarray(ofs, outer.l3End),
    outer,
  };
}
