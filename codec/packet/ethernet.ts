/**
 * Ethernet II framing and 802.1Q tag push/pop.
 *
 *   0      6      12          12+4k        (k = number of tags)
 *   | dst  | src  | [TPID TCI]* | EtherType | payload
 *
 * A TCI is PCP(3) | DEI(1) | VID(12) (IEEE 802.1Q §9.6). No FCS: frames here are
 * what OpenFlow carries in packet-in/packet-out (and what tshark reads from a
 * DLT_EN10MB pcap), which never include it.
 */
import { ETH_TYPE, HDR, VLAN } from "./constants.js";

/** One 802.1Q/802.1ad tag. */
export interface VlanTag {
  /** 12-bit VLAN id. */
  readonly vid: number;
  /** 3-bit priority (default 0). */
  readonly pcp?: number;
  /** Drop-eligible indicator (default false). */
  readonly dei?: boolean;
  /** 0x8100 (default) or 0x88a8. */
  readonly tpid?: number;
}

export interface EthernetSpec {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  /** EtherType of the payload (ignored by the higher-level builders, which set their own). */
  readonly ethType?: number;
  /** Tags, outermost first. */
  readonly vlan?: VlanTag | readonly VlanTag[];
}

function tagsOf(eth: EthernetSpec): readonly VlanTag[] {
  const v = eth.vlan;
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as readonly VlanTag[]) : [v as VlanTag];
}

/** 16-bit TCI of a tag. */
export function vlanTci(tag: VlanTag): number {
  return (
    (((tag.pcp ?? 0) & 7) << VLAN.PCP_SHIFT) |
    (tag.dei === true ? VLAN.CFI : 0) |
    (tag.vid & VLAN.VID_MASK)
  );
}

/** Length of the Ethernet header (with tags) that `eth` describes. */
export function ethernetHeaderLength(eth: EthernetSpec): number {
  return HDR.ETH + HDR.VLAN_TAG * tagsOf(eth).length;
}

/**
 * Allocates a frame for `eth` plus `l3Length` bytes, writes the Ethernet header
 * with EtherType `ethType`, and returns the frame and the offset where L3 starts.
 */
export function allocEthernet(
  eth: EthernetSpec,
  options: { ethType: number; l3Length: number },
): { frame: Uint8Array; l3: number } {
  const tags = tagsOf(eth);
  const l3 = HDR.ETH + HDR.VLAN_TAG * tags.length;
  const frame = new Uint8Array(l3 + options.l3Length);
  frame.set(eth.dst.subarray(0, 6), 0);
  frame.set(eth.src.subarray(0, 6), 6);
  let p = 12;
  for (const tag of tags) {
    const tpid = tag.tpid ?? ETH_TYPE.VLAN;
    const tci = vlanTci(tag);
    frame[p] = tpid >>> 8;
    frame[p + 1] = tpid;
    frame[p + 2] = tci >>> 8;
    frame[p + 3] = tci;
    p += HDR.VLAN_TAG;
  }
  frame[p] = options.ethType >>> 8;
  frame[p + 1] = options.ethType;
  return { frame, l3 };
}

/** An Ethernet frame: header from `eth` (its `ethType` is required here), then `payload`. */
export function buildEthernet(eth: EthernetSpec, payload: Uint8Array): Uint8Array {
  const { frame, l3 } = allocEthernet(eth, {
    ethType: eth.ethType ?? 0,
    l3Length: payload.length,
  });
  frame.set(payload, l3);
  return frame;
}

/**
 * Pushes a tag as the new outermost tag, right after the MAC addresses (OF1.3
 * push_vlan semantics with a set_field of the TCI; the old outer tag, if any,
 * becomes the inner one). Returns a new frame; a frame shorter than 12 bytes is
 * returned unchanged.
 */
export function pushVlan(frame: Uint8Array, tag: VlanTag): Uint8Array {
  if (frame.length < 12) return frame;
  const out = new Uint8Array(frame.length + HDR.VLAN_TAG);
  out.set(frame.subarray(0, 12), 0);
  const tpid = tag.tpid ?? ETH_TYPE.VLAN;
  const tci = vlanTci(tag);
  out[12] = tpid >>> 8;
  out[13] = tpid;
  out[14] = tci >>> 8;
  out[15] = tci;
  out.set(frame.subarray(12), 16);
  return out;
}

/**
 * Removes the outermost tag (TPID 0x8100 or 0x88a8). Returns a new frame, or the
 * same frame when it carries no complete tag (pop_vlan on an untagged packet
 * does nothing in OVS).
 */
export function popVlan(frame: Uint8Array): Uint8Array {
  if (frame.length < HDR.ETH + HDR.VLAN_TAG) return frame;
  const tpid = (frame[12]! << 8) | frame[13]!;
  if (tpid !== ETH_TYPE.VLAN && tpid !== ETH_TYPE.VLAN_8021AD) return frame;
  const out = new Uint8Array(frame.length - HDR.VLAN_TAG);
  out.set(frame.subarray(0, 12), 0);
  out.set(frame.subarray(16), 12);
  return out;
}
