/**
 * ARP for Ethernet/IPv4 (RFC 826), as the controller's ARP responder sends it.
 *
 *   0 htype=1 | 2 ptype=0x0800 | 4 hlen=6 | 5 plen=4 | 6 oper
 *   8 sha(6) | 14 spa(4) | 18 tha(6) | 24 tpa(4)          (28 bytes)
 */
import { BROADCAST_MAC, ZERO_MAC } from "./addr.js";
import { putU16, putU32 } from "../writer.js";
import { ARP, ARP_AT, ETH_TYPE, HDR } from "./constants.js";
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

/** An Ethernet frame carrying one ARP packet. No padding to 60 bytes is added. */
export function buildArp(spec: ArpSpec): Uint8Array {
  const tha = spec.tha ?? ZERO_MAC;
  const ethDst = spec.ethDst ?? (spec.op === ARP.OP_REQUEST ? BROADCAST_MAC : tha);
  const { frame, l3 } = allocEthernet(
    { dst: ethDst, src: spec.ethSrc ?? spec.sha, ...(spec.vlan ? { vlan: spec.vlan } : {}) },
    { ethType: ETH_TYPE.ARP, l3Length: HDR.ARP_ETH_IPV4 },
  );
  const p = l3;
  putU16(frame, p + ARP_AT.htype, ARP.HTYPE_ETHERNET);
  putU16(frame, p + ARP_AT.ptype, ETH_TYPE.IPV4);
  frame[p + ARP_AT.hlen] = 6;
  frame[p + ARP_AT.plen] = 4;
  putU16(frame, p + ARP_AT.oper, spec.op);
  frame.set(spec.sha.subarray(0, 6), p + ARP_AT.sha);
  putU32(frame, p + ARP_AT.spa, spec.spa);
  frame.set(tha.subarray(0, 6), p + ARP_AT.tha);
  putU32(frame, p + ARP_AT.tpa, spec.tpa);
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
