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
 * FLOW_MOD match); reply matches are read loosely (switch → controller), or
 * structurally when decodeMessage is not strict. Both are read the way OVS's
 * `ofputil_pull_ofp11_match` does (type 0 is an OF1.1 standard match, so a
 * length other than 88 is OFPBMC_BAD_LEN).
 *
 * A reply entry is read in OVS's order (`ofputil_decode_flow_stats_reply`):
 * its 48 fixed bytes (OFPBRC_BAD_LEN if absent, or if `length` < 48), then
 * the match from the message, then `length - 48 - padded match` bytes of
 * instructions, which must be there (else OFPBIC_BAD_LEN, where OVS's
 * instruction pull notices). Strict decode gives the instructions OVS's
 * checks (duplicates, experimenters, action semantics); loose decode is
 * structural.
 */
import { getU16, getU32, getU64 } from "../bytes.js";
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import {
  MATCH_OPTIONS,
  decodeInstructionRange,
  decodeMatch,
  encodeInstructions,
  encodeMatch,
  type Instruction,
  type Match,
} from "./flow-model.js";
import { OFP_FLOW_STATS_SIZE, OFP_MATCH_SIZE } from "./sizes.js";

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
  const match = decodeMatch(r, strict ? MATCH_OPTIONS.strictOfp11 : MATCH_OPTIONS.structuralOfp11);
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

/** `struct ofp11_flow_stats` without its match. */
const FLOW_STATS_FIXED_SIZE = OFP_FLOW_STATS_SIZE - OFP_MATCH_SIZE;
const STRICT = { strict: true } as const;
const STRUCTURAL = { strict: false } as const;

export function decodeFlowStats(r: Reader, strict = true): FlowStats {
  const start = r.pos;
  if (r.remaining < FLOW_STATS_FIXED_SIZE) {
    throw new OfpError("OFPBRC_BAD_LEN", `${r.remaining} bytes left, not a flow stats entry`, {
      offset: start,
    });
  }
  const buf = r.buf;
  const length = getU16(buf, start);
  if (length < FLOW_STATS_FIXED_SIZE) {
    throw new OfpError("OFPBRC_BAD_LEN", `flow stats length ${length}`, { offset: start });
  }
  const tableId = buf[start + 2]!;
  const durationSec = getU32(buf, start + 4);
  const durationNsec = getU32(buf, start + 8);
  const priority = getU16(buf, start + 12);
  const idleTimeout = getU16(buf, start + 14);
  const hardTimeout = getU16(buf, start + 16);
  const flags = getU16(buf, start + 18);
  const cookie = getU64(buf, start + 24);
  const packetCount = getU64(buf, start + 32);
  const byteCount = getU64(buf, start + 40);
  r.pos = start + FLOW_STATS_FIXED_SIZE;
  const match = decodeMatch(r, strict ? MATCH_OPTIONS.looseOfp11 : MATCH_OPTIONS.structuralOfp11);
  const end = start + length;
  if (end < r.pos || end > r.end) {
    throw new OfpError("OFPBIC_BAD_LEN", `flow stats length ${length} leaves no room`, {
      offset: start,
    });
  }
  const instructions = decodeInstructionRange(buf, r.pos, end, strict ? STRICT : STRUCTURAL);
  r.pos = end;
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
