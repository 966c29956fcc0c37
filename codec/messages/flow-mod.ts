/**
 * OFPT_FLOW_MOD (OF1.3 §7.3.4.1).
 *
 *     ofp_header (8) | cookie (8) | cookie_mask (8) | table_id (1) | command (1)
 *     | idle_timeout (2) | hard_timeout (2) | priority (2) | buffer_id (4)
 *     | out_port (4) | out_group (4) | flags (2) | pad (2)
 *     | ofp_match (padded to 8) | instruction*                     >= 56
 *
 * Strict decode (the default of decodeMessage) answers like OVS's
 * `ofputil_decode_flow_mod`, in its order: the match with FLOW_MOD semantics
 * (`oxm_pull_match`: prerequisite order, duplicates, masks, unknown fields;
 * type 0 read as OF1.1's standard match, so OFPBMC_BAD_LEN), then table 255
 * outside deletes, out_port, ct tuple fields and the command
 * (flow-check.ts `checkFlowModHeader`), the instructions with OVS's action
 * semantics, the flags, and finally the actions against the match
 * (`checkFlowModConsistency`: set_field prerequisites, goto_table forward,
 * ...). Loose decode (`strict: false`) is structural: layout only, so any
 * FLOW_MOD a peer sent re-encodes byte for byte. The buffer id is not
 * policed (OVS answers OFPBRC_BUFFER_UNKNOWN only when it applies the flow).
 */
import { getU16, getU32, getU64 } from "../bytes.js";
import { decodedMatchState } from "../match.js";
import { checkFlowModConsistency, checkFlowModFlags, checkFlowModHeader } from "../flow-check.js";
import type { Reader } from "../reader.js";
import { putU16, putU32, type Writer } from "../writer.js";
import {
  MATCH_OPTIONS,
  decodeInstructions,
  decodeMatch,
  encodeInstructions,
  encodeMatch,
  type Instruction,
  type Match,
} from "./flow-model.js";

/** OF1.3 `enum ofp_flow_mod_command`. */
export const OFPFC = { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 } as const;
/** OF1.3 `enum ofp_flow_mod_flags`. */
export const OFPFF = {
  SEND_FLOW_REM: 1 << 0,
  CHECK_OVERLAP: 1 << 1,
  RESET_COUNTS: 1 << 2,
  NO_PKT_COUNTS: 1 << 3,
  NO_BYT_COUNTS: 1 << 4,
} as const;
/** OFP_NO_BUFFER: the only buffer id OVS (2.7+) accepts. */
export const OFP_NO_BUFFER = 0xffffffff;
/** OFPTT_ALL: wildcard table for deletes and stats. */
export const OFPTT_ALL = 0xff;
/** OFPG_ANY: wildcard group for out_group. */
export const OFPG_ANY = 0xffffffff;

export interface FlowModMessage {
  readonly type: "flow_mod";
  readonly xid: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly tableId: number;
  readonly command: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly priority: number;
  readonly bufferId: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly flags: number;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}

const STRICT = { strict: true } as const;
const STRUCTURAL = { strict: false } as const;

/** Bytes of the fixed part after the header (cookie .. pad). */
const FIXED_BODY_SIZE = 40;

export function decodeFlowMod(r: Reader, xid: number, strict: boolean): FlowModMessage {
  // One bounds check for the fixed part, then direct reads (hot path).
  r.need(FIXED_BODY_SIZE, "flow_mod");
  const b = r.buf;
  const at = r.pos;
  const cookie = getU64(b, at);
  const cookieMask = getU64(b, at + 8);
  const tableId = b[at + 16]!;
  const command = b[at + 17]!;
  const idleTimeout = getU16(b, at + 18);
  const hardTimeout = getU16(b, at + 20);
  const priority = getU16(b, at + 22);
  const bufferId = getU32(b, at + 24);
  const outPort = getU32(b, at + 28);
  const outGroup = getU32(b, at + 32);
  const flags = getU16(b, at + 36);
  r.pos = at + FIXED_BODY_SIZE;
  const match = decodeMatch(r, strict ? MATCH_OPTIONS.strictOfp11 : MATCH_OPTIONS.structuralOfp11);
  if (strict) checkFlowModHeader(tableId, command, outPort, match, decodedMatchState());
  // `r` ends where the message ends, so it is already bounded to the instructions.
  const instructions = decodeInstructions(r, strict ? STRICT : STRUCTURAL);
  if (strict) {
    checkFlowModFlags(flags);
    checkFlowModConsistency(match, instructions, tableId);
  }
  return {
    type: "flow_mod",
    xid,
    cookie,
    cookieMask,
    tableId,
    command,
    idleTimeout,
    hardTimeout,
    priority,
    bufferId,
    outPort,
    outGroup,
    flags,
    match,
    instructions,
  };
}

/** Bytes from table_id to the end of the fixed part (after the two 64-bit cookies). */
const FIXED_TAIL_SIZE = FIXED_BODY_SIZE - 16;

export function encodeFlowMod(w: Writer, m: FlowModMessage): void {
  w.u64(m.cookie).u64(m.cookieMask);
  // The rest of the fixed part in one reservation (hot path: every flow the controller installs).
  const b = w.reserve(FIXED_TAIL_SIZE);
  const at = w.pos;
  b[at] = m.tableId;
  b[at + 1] = m.command;
  putU16(b, at + 2, m.idleTimeout);
  putU16(b, at + 4, m.hardTimeout);
  putU16(b, at + 6, m.priority);
  putU32(b, at + 8, m.bufferId);
  putU32(b, at + 12, m.outPort);
  putU32(b, at + 16, m.outGroup);
  putU16(b, at + 20, m.flags);
  b[at + 22] = 0;
  b[at + 23] = 0;
  w.pos = at + FIXED_TAIL_SIZE;
  encodeMatch(w, m.match);
  encodeInstructions(w, m.instructions);
}
