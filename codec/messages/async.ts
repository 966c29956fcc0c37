/**
 * OFPT_GET_ASYNC_REQUEST / OFPT_GET_ASYNC_REPLY / OFPT_SET_ASYNC (OF1.3 §7.3.10).
 *
 *     request: ofp_header (8)
 *     reply, set: ofp_header (8) | packet_in_mask[2] (8) | port_status_mask[2] (8)
 *                 | flow_removed_mask[2] (8)   = 32
 *
 * Each mask pair is [master/equal role, slave role]; bit n enables reason n.
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export type MaskPair = readonly [masterOrEqual: number, slave: number];

export interface AsyncConfig {
  readonly packetInMask: MaskPair;
  readonly portStatusMask: MaskPair;
  readonly flowRemovedMask: MaskPair;
}

export interface GetAsyncRequestMessage {
  readonly type: "get_async_request";
  readonly xid: number;
}

export interface GetAsyncReplyMessage extends AsyncConfig {
  readonly type: "get_async_reply";
  readonly xid: number;
}

export interface SetAsyncMessage extends AsyncConfig {
  readonly type: "set_async";
  readonly xid: number;
}

export function decodeAsyncConfig(r: Reader): AsyncConfig {
  const packetInMask: MaskPair = [r.u32(), r.u32()];
  const portStatusMask: MaskPair = [r.u32(), r.u32()];
  const flowRemovedMask: MaskPair = [r.u32(), r.u32()];
  return { packetInMask, portStatusMask, flowRemovedMask };
}

export function encodeAsyncConfig(w: Writer, m: AsyncConfig): void {
  w.u32(m.packetInMask[0]).u32(m.packetInMask[1]);
  w.u32(m.portStatusMask[0]).u32(m.portStatusMask[1]);
  w.u32(m.flowRemovedMask[0]).u32(m.flowRemovedMask[1]);
}
