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
import type { Match, OxmEntry, OxmField } from "../codec/oxm.js";
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

/** Source of {@link FlowEntry.id}. */
let nextEntryId = 1;

/** Interned field lists of compact matches (one per match shape, shared by its flows). */
const fieldLists = new Map<string, readonly OxmField[]>();
const FIELD_LISTS_LIMIT = 1 << 12;

/**
 * A match kept as one byte array: [n, (value length, mask length) × n, then
 * each entry's value and mask bytes], with the fields in an interned list.
 * The decoded form (one object and one or two byte arrays per field) costs
 * ~0.5 KB a flow; this ~0.1 KB (issue 4 §2: 100,000 flows well under 200 MB).
 * Null when the match has an entry the registry does not know (kept as is).
 */
function packMatch(m: Match): { fields: readonly OxmField[]; bytes: Uint8Array } | null {
  const entries = m.entries;
  let size = 1 + entries.length * 2;
  let key = "";
  for (const e of entries) {
    if (e.field === undefined || e.value.length > 255 || (e.mask?.length ?? 0) > 255) return null;
    size += e.value.length + (e.mask?.length ?? 0);
    key += `${e.field.name},`;
  }
  if (entries.length > 255) return null;
  let fields = fieldLists.get(key);
  if (fields === undefined) {
    if (fieldLists.size >= FIELD_LISTS_LIMIT) fieldLists.clear();
    fields = entries.map((e) => e.field!);
    fieldLists.set(key, fields);
  }
  const bytes = new Uint8Array(size);
  bytes[0] = entries.length;
  let o = 1 + entries.length * 2;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as OxmEntry;
    bytes[1 + 2 * i] = e.value.length;
    bytes[2 + 2 * i] = e.mask?.length ?? 0;
    bytes.set(e.value, o);
    o += e.value.length;
    if (e.mask !== undefined) {
      bytes.set(e.mask, o);
      o += e.mask.length;
    }
  }
  return { fields, bytes };
}

function unpackMatch(fields: readonly OxmField[], bytes: Uint8Array): Match {
  const n = bytes[0]!;
  const entries: OxmEntry[] = [];
  let o = 1 + n * 2;
  for (let i = 0; i < n; i++) {
    const vl = bytes[1 + 2 * i]!;
    const ml = bytes[2 + 2 * i]!;
    const value = bytes.slice(o, o + vl);
    o += vl;
    const mask = ml === 0 ? undefined : bytes.slice(o, o + ml);
    o += ml;
    entries.push({ field: fields[i]!, value, mask });
  }
  return { entries };
}

export class FlowEntry {
  /** Unique in the process (caches compare walks by it; not an OpenFlow value). */
  readonly id = nextEntryId++;
  readonly tableId: number;
  readonly priority: number;
  /** The match as packed (see packMatch), or the decoded one when it cannot be packed. */
  private readonly matchFields: readonly OxmField[] | null;
  private readonly matchBytes: Uint8Array | Match;
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
    const packed = packMatch(init.match);
    this.matchFields = packed === null ? null : packed.fields;
    this.matchBytes = packed === null ? init.match : packed.bytes;
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

  /** The match as the controller sent it (rebuilt from the packed form: a fresh object per call). */
  get match(): Match {
    const f = this.matchFields;
    return f === null ? (this.matchBytes as Match) : unpackMatch(f, this.matchBytes as Uint8Array);
  }

  /** OFPRR_* when the entry has timed out at `nowMs`, else -1 (hard checked first, as OVS). */
  expiry(nowMs: number): number {
    if (this.hardTimeout !== 0 && nowMs >= this.modifiedMs + this.hardTimeout * 1000) return 1;
    if (this.idleTimeout !== 0 && nowMs >= this.usedMs + this.idleTimeout * 1000) return 0;
    return -1;
  }
}
