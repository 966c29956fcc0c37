/**
 * OFPT_FLOW_REMOVED (OF1.3 §7.4.2).
 *
 *     ofp_header (8) | cookie (8) | priority (2) | reason (1) | table_id (1)
 *     | duration_sec (4) | duration_nsec (4) | idle_timeout (2)
 *     | hard_timeout (2) | packet_count (8) | byte_count (8)
 *     | ofp_match (padded to 8)                                     >= 56
 *
 * Switch-to-controller, so the match is decoded loosely. Nothing may follow
 * the match's pad (OFPBRC_BAD_LEN).
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { MATCH_OPTIONS, decodeMatch, encodeMatch, type Match } from "./flow-model.js";

/** OF1.3 `enum ofp_flow_removed_reason`. */
export const OFPRR = { IDLE_TIMEOUT: 0, HARD_TIMEOUT: 1, DELETE: 2, GROUP_DELETE: 3 } as const;

export interface FlowRemovedMessage {
  readonly type: "flow_removed";
  readonly xid: number;
  readonly cookie: bigint;
  readonly priority: number;
  readonly reason: number;
  readonly tableId: number;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly match: Match;
}

/** `strict`: OVS's loose match checks; otherwise structural. */
export function decodeFlowRemoved(r: Reader, xid: number, strict = true): FlowRemovedMessage {
  const cookie = r.u64();
  const priority = r.u16();
  const reason = r.u8();
  const tableId = r.u8();
  const durationSec = r.u32();
  const durationNsec = r.u32();
  const idleTimeout = r.u16();
  const hardTimeout = r.u16();
  const packetCount = r.u64();
  const byteCount = r.u64();
  const match = decodeMatch(r, strict ? MATCH_OPTIONS.looseOfp11 : MATCH_OPTIONS.structuralOfp11);
  if (r.remaining !== 0) {
    throw new OfpError("OFPBRC_BAD_LEN", `${r.remaining} bytes after flow_removed match`, {
      offset: r.pos,
    });
  }
  return {
    type: "flow_removed",
    xid,
    cookie,
    priority,
    reason,
    tableId,
    durationSec,
    durationNsec,
    idleTimeout,
    hardTimeout,
    packetCount,
    byteCount,
    match,
  };
}

export function encodeFlowRemoved(w: Writer, m: FlowRemovedMessage): void {
  w.u64(m.cookie).u16(m.priority).u8(m.reason).u8(m.tableId);
  w.u32(m.durationSec).u32(m.durationNsec).u16(m.idleTimeout).u16(m.hardTimeout);
  w.u64(m.packetCount).u64(m.byteCount);
  encodeMatch(w, m.match);
}
