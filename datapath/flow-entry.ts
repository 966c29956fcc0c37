/**
 * A flow entry: what a FLOW_MOD installs in one table, compiled for the
 * packet path, plus the counters and timestamps OpenFlow reports.
 *
 * The program (`apply` ops, `clear`, `write` ops, write_metadata, goto) is
 * compiled once from the instructions (datapath/instructions.ts); the packet
 * path only walks it. OFPFC_MODIFY swaps the program and keeps the counters,
 * as OVS does (`modify_flows__` keeps the rule's stats unless RESET_COUNTS).
 */
import type { Instruction } from "../codec/instructions.js";
import type { Match } from "../codec/oxm.js";
import type { CompiledMatch } from "./classifier/compiled-match.js";
import type { ClsRule } from "./classifier/rule.js";
import type { Op } from "./actions/compile.js";

/** write_metadata split into 32-bit halves (int32 arithmetic on the packet path). */
export interface MetadataWrite {
  readonly valueHi: number;
  readonly valueLo: number;
  readonly maskHi: number;
  readonly maskLo: number;
}

/** One conjunction(id, k/n) clause of a conjunctive flow (k 0-based). */
export interface ConjClause {
  readonly id: number;
  readonly clause: number;
  readonly nClauses: number;
}

/** The compiled instructions. */
export interface FlowProgram {
  readonly apply: readonly Op[];
  readonly clear: boolean;
  /** write_actions ops, or null when the instruction is absent. */
  readonly write: readonly Op[] | null;
  readonly metadata: MetadataWrite | null;
  /** goto_table target, or -1. */
  readonly gotoTable: number;
  /** Non-null for a conjunctive flow (actions are only conjunction()). */
  readonly conjunctions: readonly ConjClause[] | null;
  /** True when the program can have effects beyond the packet (learn, controller): not cacheable. */
  readonly sideEffects: boolean;
}

export class FlowEntry {
  readonly tableId: number;
  readonly priority: number;
  readonly match: Match;
  readonly compiled: CompiledMatch;
  /** The conj_id this flow matches, or -1 (conj_id is not a FlowKey word). */
  readonly conjId: number;
  cookie: bigint;
  instructions: readonly Instruction[];
  program: FlowProgram;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  /** Milliseconds: when added (duration), last added/modified (hard timeout), last hit (idle timeout). */
  createdMs: number;
  modifiedMs: number;
  usedMs: number;
  packetCount = 0;
  byteCount = 0;
  /** The classifier rule holding this entry, when it is in a classifier. */
  rule: ClsRule<FlowEntry> | null = null;
  /** False once removed (a cached walk holding it must not count it any more). */
  live = true;

  constructor(init: {
    tableId: number;
    priority: number;
    match: Match;
    compiled: CompiledMatch;
    conjId: number;
    cookie: bigint;
    instructions: readonly Instruction[];
    program: FlowProgram;
    idleTimeout: number;
    hardTimeout: number;
    flags: number;
    nowMs: number;
  }) {
    this.tableId = init.tableId;
    this.priority = init.priority;
    this.match = init.match;
    this.compiled = init.compiled;
    this.conjId = init.conjId;
    this.cookie = init.cookie;
    this.instructions = init.instructions;
    this.program = init.program;
    this.idleTimeout = init.idleTimeout;
    this.hardTimeout = init.hardTimeout;
    this.flags = init.flags;
    this.createdMs = init.nowMs;
    this.modifiedMs = init.nowMs;
    this.usedMs = init.nowMs;
  }

  /** OFPRR_* when the entry has timed out at `nowMs`, else -1 (hard checked first, as OVS). */
  expiry(nowMs: number): number {
    if (this.hardTimeout !== 0 && nowMs >= this.modifiedMs + this.hardTimeout * 1000) return 1;
    if (this.idleTimeout !== 0 && nowMs >= this.usedMs + this.idleTimeout * 1000) return 0;
    return -1;
  }
}
