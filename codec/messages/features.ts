/**
 * OFPT_FEATURES_REQUEST / OFPT_FEATURES_REPLY (OF1.3 §7.3.1).
 *
 *     request: ofp_header (8)
 *     reply:   ofp_header (8) | datapath_id (8) | n_buffers (4) | n_tables (1)
 *              | auxiliary_id (1) | pad (2) | capabilities (4) | reserved (4)   = 32
 *
 * In OF1.3 the reply carries no port list (ports come from PORT_DESC).
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

/** OF1.3 `enum ofp_capabilities`. */
export const OFPC = {
  FLOW_STATS: 1 << 0,
  TABLE_STATS: 1 << 1,
  PORT_STATS: 1 << 2,
  GROUP_STATS: 1 << 3,
  IP_REASM: 1 << 5,
  QUEUE_STATS: 1 << 6,
  PORT_BLOCKED: 1 << 8,
} as const;

export interface FeaturesRequestMessage {
  readonly type: "features_request";
  readonly xid: number;
}

export interface FeaturesReplyMessage {
  readonly type: "features_reply";
  readonly xid: number;
  readonly datapathId: bigint;
  readonly nBuffers: number;
  readonly nTables: number;
  readonly auxiliaryId: number;
  readonly capabilities: number;
  readonly reserved: number;
}

export function decodeFeaturesReply(r: Reader, xid: number): FeaturesReplyMessage {
  const datapathId = r.u64();
  const nBuffers = r.u32();
  const nTables = r.u8();
  const auxiliaryId = r.u8();
  r.skip(2);
  const capabilities = r.u32();
  const reserved = r.u32();
  return {
    type: "features_reply",
    xid,
    datapathId,
    nBuffers,
    nTables,
    auxiliaryId,
    capabilities,
    reserved,
  };
}

export function encodeFeaturesReply(w: Writer, m: FeaturesReplyMessage): void {
  w.u64(m.datapathId).u32(m.nBuffers).u8(m.nTables).u8(m.auxiliaryId).zeros(2);
  w.u32(m.capabilities).u32(m.reserved);
}
