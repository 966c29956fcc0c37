/**
 * OFPMP_FLOW and OFPMP_AGGREGATE bodies (OF1.3 §7.3.5.2, §7.3.5.3).
 *
 *     request (both): table_id (1) | pad (3) | out_port (4) | out_group (4)
 *                     | pad (4) | cookie (8) | cookie_mask (8)
 *                     | ofp_match (padded to 8)                      >= 40
 *     flow reply entry: length (2) | table_id (1) | pad (1) | duration_sec (4)
 *                     | duration_nsec (4) | priority (2) | idle_timeout (2)
 *                     | hard_timeout (2) | flags (2) | pad (4) | cookie (8)
 *                     | packet_count (8) | byte_count (8)
 *                     | ofp_match (padded) | instruction*          length >= 56
 *     aggregate reply: packet_count (8) | byte_count (8) | flow_count (4)
 *                     | pad (4)                                      = 24
 *
 * The request match follows the caller's strictness (a switch reads it like a
 * FLOW_MOD match); reply matches are read loosely (switch → controller).
 * A flow entry whose length is under 56 or past the message is
 * OFPBRC_BAD_LEN; its instructions run to its own end.
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import {
  decodeInstructions,
  decodeMatch,
  encodeInstructions,
  encodeMatch,
  type Instruction,
  type Match,
} from "./flow-model.js";
import { OFP_FLOW_STATS_SIZE } from "./sizes.js";

export interface FlowStatsRequest {
  readonly tableId: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly match: Match;
}

export interface FlowStats {
  readonly tableId: number;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly priority: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly flags: number;
  readonly cookie: bigint;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}

export interface AggregateStats {
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly flowCount: number;
}

export function decodeFlowStatsRequest(r: Reader, strict: boolean): FlowStatsRequest {
  const tableId = r.u8();
  r.skip(3);
  const outPort = r.u32();
  const outGroup = r.u32();
  r.skip(4);
  const cookie = r.u64();
  const cookieMask = r.u64();
  const match = decodeMatch(r, { strict });
  if (r.remaining !== 0) {
    throw new OfpError("OFPBRC_BAD_LEN", `${r.remaining} bytes after flow stats request match`, {
      offset: r.pos,
    });
  }
  return { tableId, outPort, outGroup, cookie, cookieMask, match };
}

export function encodeFlowStatsRequest(w: Writer, q: FlowStatsRequest): void {
  w.u8(q.tableId).zeros(3).u32(q.outPort).u32(q.outGroup).zeros(4);
  w.u64(q.cookie).u64(q.cookieMask);
  encodeMatch(w, q.match);
}

export function decodeFlowStats(r: Reader): FlowStats {
  const start = r.pos;
  const length = r.u16();
  if (length < OFP_FLOW_STATS_SIZE || length - 2 > r.remaining) {
    throw new OfpError("OFPBRC_BAD_LEN", `flow stats length ${length}`, { offset: start });
  }
  const e = r.sub(length - 2, "flow stats");
  const tableId = e.u8();
  e.skip(1);
  const durationSec = e.u32();
  const durationNsec = e.u32();
  const priority = e.u16();
  const idleTimeout = e.u16();
  const hardTimeout = e.u16();
  const flags = e.u16();
  e.skip(4);
  const cookie = e.u64();
  const packetCount = e.u64();
  const byteCount = e.u64();
  const match = decodeMatch(e, { strict: false });
  const instructions = decodeInstructions(e);
  return {
    tableId,
    durationSec,
    durationNsec,
    priority,
    idleTimeout,
    hardTimeout,
    flags,
    cookie,
    packetCount,
    byteCount,
    match,
    instructions,
  };
}

export function encodeFlowStats(w: Writer, s: FlowStats): void {
  const token = w.beginLength(0);
  w.u16(0).u8(s.tableId).zeros(1).u32(s.durationSec).u32(s.durationNsec);
  w.u16(s.priority).u16(s.idleTimeout).u16(s.hardTimeout).u16(s.flags).zeros(4);
  w.u64(s.cookie).u64(s.packetCount).u64(s.byteCount);
  encodeMatch(w, s.match);
  encodeInstructions(w, s.instructions);
  w.endLength(token, "none");
}

export function decodeAggregateStats(r: Reader): AggregateStats {
  const packetCount = r.u64();
  const byteCount = r.u64();
  const flowCount = r.u32();
  r.skip(4);
  return { packetCount, byteCount, flowCount };
}

export function encodeAggregateStats(w: Writer, s: AggregateStats): void {
  w.u64(s.packetCount).u64(s.byteCount).u32(s.flowCount).zeros(4);
}
