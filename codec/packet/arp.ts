/**
 * ARP for Ethernet/IPv4 (RFC 826), as the controller's ARP responder sends it.
 *
 *   0 htype=1 | 2 ptype=0x0800 | 4 hlen=6 | 5 plen=4 | 6 oper
 *   8 sha(6) | 14 spa(4) | 18 tha(6) | 24 tpa(4)          (28 bytes)
 */
import { BROADCAST_MAC, ZERO_MAC } from "./addr.js";
import { ARP, ETH_TYPE, HDR } from "./constants.js";
import { allocEthernet } from "./ethernet.js";
import type { VlanTag } from "./ethernet.js";

export interface ArpSpec {
  /** Opcode: 1 request, 2 reply (any 16-bit value is written). */
  readonly op: number;
  readonly sha: Uint8Array;
  /** Sender IPv4 address. */
  readonly spa: number;
  /** Target hardware address (default 00:00:00:00:00:00). */
  readonly tha?: Uint8Array;
  readonly tpa: number;
  /** Ethernet source (default `sha`). */
  readonly ethSrc?: Uint8Array;
  /** Ethernet destination (default broadcast for a request, `tha` otherwise). */
  readonly ethDst?: Uint8Array;
  readonly vlan?: VlanTag | readonly VlanTag[];
}

function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** An Ethernet frame carrying one ARP packet. No padding to 60 bytes is added. */
export function buildArp(spec: ArpSpec): Uint8Array {
  const tha = spec.tha ?? ZERO_MAC;
  const ethDst = spec.ethDst ?? (spec.op === ARP.OP_REQUEST ? BROADCAST_MAC : tha);
  const { frame, l3 } = allocEthernet(
    { dst: ethDst, src: spec.ethSrc ?? spec.sha, ...(spec.vlan ? { vlan: spec.vlan } : {}) },
    { ethType: ETH_TYPE.ARP, l3Length: HDR.ARP_ETH_IPV4 },
  );
  const p = l3;
  frame[p] = 0;
  frame[p + 1] = ARP.HTYPE_ETHERNET;
  frame[p + 2] = ETH_TYPE.IPV4 >>> 8;
  frame[p + 3] = ETH_TYPE.IPV4 & 0xff;
  frame[p + 4] = 6;
  frame[p + 5] = 4;
  frame[p + 6] = spec.op >>> 8;
  frame[p + 7] = spec.op;
  frame.set(spec.sha.subarray(0, 6), p + 8);
  wr32(frame, p + 14, spec.spa);
  frame.set(tha.subarray(0, 6), p + 18);
  wr32(frame, p + 24, spec.tpa);
  return frame;
}

/** "Who has `tpa`? Tell `spa`": broadcast, tha zero. */
export function arpRequest(spec: {
  readonly sha: Uint8Array;
  readonly spa: number;
  readonly tpa: number;
  readonly vlan?: VlanTag | readonly VlanTag[];
}): Uint8Array {
  return buildArp({ ...spec, op: ARP.OP_REQUEST });
}

/** "`spa` is at `sha`", unicast to `tha`. */
export function arpReply(spec: {
  readonly sha: Uint8Array;
  readonly spa: number;
  readonly tha: Uint8Array;
  readonly tpa: number;
  readonly vlan?: VlanTag | readonly VlanTag[];
}): Uint8Array {
  return buildArp({ ...spec, op: ARP.OP_REPLY });
}
