/**
 * OpenFlow 1.3 instructions (§7.2.4): the {@link Instruction} union, decode
 * and encode.
 *
 * Decode follows OVS `ofpacts_pull_openflow_instructions`
 * (`lib/ofp-actions.c`): the instruction bytes must be a multiple of 8
 * (OFPBIC_BAD_LEN); a first pass validates every instruction's type and length
 * and rejects duplicates (OFPBIC_DUP_INST, sent in OF1.3 as ONF exp_type 2600)
 * before any action list is decoded; then the action lists are decoded, apply
 * before write, as OVS does, so error precedence matches.
 *
 * Fixed sizes: goto_table 8, write_metadata 24, clear_actions 8, meter 8;
 * apply/write actions ≥ 8 (8-byte header, then actions). A bad size is
 * OFPBIC_BAD_LEN, an unknown type OFPBIC_UNKNOWN_INST. Experimenter
 * instructions are kept opaque, or refused with OFPBIC_BAD_EXPERIMENTER (what
 * OVS always answers) when `rejectUnknownExperimenter` is set.
 * Non-zero pad inside instructions is tolerated and written back as zero.
 *
 * Encode writes the instructions in the order given; use
 * {@link canonicalInstructionOrder} for the order OVS writes them in
 * (meter, apply, clear, write, write_metadata, goto_table).
 */
import { getU16, getU32, getU64 } from "./bytes.js";
import { OfpError } from "./errors.js";
import {
  actionContext,
  decodeActionRange,
  encodeActions,
  type Action,
  type ActionDecodeContext,
  type DecodeActionsOptions,
} from "./actions.js";
import type { Reader } from "./reader.js";
import { putU16, type Writer } from "./writer.js";

/** OF1.3 instruction types (`ofp_instruction_type`). */
export const OFPIT = {
  GOTO_TABLE: 1,
  WRITE_METADATA: 2,
  WRITE_ACTIONS: 3,
  APPLY_ACTIONS: 4,
  CLEAR_ACTIONS: 5,
  METER: 6,
  EXPERIMENTER: 0xffff,
} as const;

const INSTRUCTION_ALIGN = 8;
const GOTO_TABLE_SIZE = 8;
const WRITE_METADATA_SIZE = 24;
const CLEAR_ACTIONS_SIZE = 8;
const METER_SIZE = 8;
const ACTIONS_HEADER_SIZE = 8;

export type Instruction =
  | { readonly type: "goto_table"; readonly tableId: number }
  | { readonly type: "write_metadata"; readonly metadata: bigint; readonly mask: bigint }
  | { readonly type: "apply_actions"; readonly actions: readonly Action[] }
  | { readonly type: "write_actions"; readonly actions: readonly Action[] }
  | { readonly type: "clear_actions" }
  | { readonly type: "meter"; readonly meterId: number }
  /** `data` = the bytes after the 4-byte experimenter id. */
  | { readonly type: "experimenter"; readonly experimenter: number; readonly data: Uint8Array };

export type InstructionType = Instruction["type"];

/** Options: those of {@link DecodeActionsOptions}; `rejectUnknownExperimenter` also covers instructions. */
export type DecodeInstructionsOptions = DecodeActionsOptions;

/** OVS's encode order (`ofpacts_put_openflow_instructions` walks ofpacts in this order). */
const CANONICAL_RANK: Record<InstructionType, number> = {
  meter: 0,
  apply_actions: 1,
  clear_actions: 2,
  write_actions: 3,
  write_metadata: 4,
  goto_table: 5,
  experimenter: 6,
};

/**
 * Decodes the instructions that fill `r` (bounded to the instruction bytes).
 * `strict: true` answers like OVS: experimenter instructions are
 * OFPBIC_BAD_EXPERIMENTER and actions get {@link DecodeActionsOptions} strict
 * semantics. `strict: false` is structural: duplicates are kept (in wire
 * order) and actions are decoded structurally. Throws OfpError only.
 */
export function decodeInstructions(
  r: Reader,
  options: DecodeInstructionsOptions = {},
): Instruction[] {
  const out = decodeInstructionRange(r.buf, r.pos, r.end, options);
  r.pos = r.end;
  return out;
}

/** {@link decodeInstructions} over `[start, end)` of `buf`, without a Reader. */
export function decodeInstructionRange(
  buf: Uint8Array,
  start: number,
  end: number,
  options: DecodeInstructionsOptions = {},
): Instruction[] {
  if ((end - start) % INSTRUCTION_ALIGN !== 0) {
    throw new OfpError("OFPBIC_BAD_LEN", `instructions length ${end - start} not a multiple of 8`, {
      offset: start,
    });
  }
  const ctx = actionContext(options);
  // Pass 1: types, lengths, duplicates (OVS decode_openflow11_instructions).
  let seen = 0;
  let applyAt = -1;
  let writeAt = -1;
  let count = 0;
  let at = start;
  while (at < end) {
    const code = getU16(buf, at);
    const len = getU16(buf, at + 2);
    // INSTRUCTION_FOR_EACH stops at a length that is 0, not a multiple of 8, or past the end.
    if (len < INSTRUCTION_ALIGN || len % INSTRUCTION_ALIGN !== 0 || len > end - at) {
      throw new OfpError("OFPBIC_BAD_LEN", `instruction length ${len}`, { offset: at });
    }
    const fixed = fixedSizeOf(code);
    if (fixed === UNKNOWN) {
      throw new OfpError("OFPBIC_UNKNOWN_INST", `unknown instruction type ${code}`, {
        offset: at,
      });
    }
    if (code === OFPIT.EXPERIMENTER) {
      if (ctx.reject) {
        throw new OfpError("OFPBIC_BAD_EXPERIMENTER", "experimenter instruction", { offset: at });
      }
    } else {
      if (fixed === 0 ? len < ACTIONS_HEADER_SIZE : len !== fixed) {
        throw new OfpError("OFPBIC_BAD_LEN", `instruction type ${code} of length ${len}`, {
          offset: at,
        });
      }
      const bit = 1 << code;
      if ((seen & bit) !== 0 && ctx.checks) {
        throw new OfpError("OFPBIC_DUP_INST", `duplicate instruction type ${code}`, {
          offset: at,
        });
      }
      seen |= bit;
      if (code === OFPIT.APPLY_ACTIONS) {
        if (applyAt < 0) applyAt = at;
      } else if (code === OFPIT.WRITE_ACTIONS) {
        if (writeAt < 0) writeAt = at;
      }
    }
    count++;
    at += len;
  }
  // Pass 2: build the list in wire order. OVS decodes apply_actions before
  // write_actions (so its errors win); only when write comes first on the
  // wire does that need decoding apply out of order.
  const applyFirst =
    applyAt >= 0 && writeAt >= 0 && writeAt < applyAt
      ? nestedActions(buf, applyAt, ctx)
      : undefined;
  const out: Instruction[] = new Array<Instruction>(count);
  let i = 0;
  for (at = start; at < end;) {
    const code = getU16(buf, at);
    const len = getU16(buf, at + 2);
    let ins: Instruction;
    switch (code) {
      case OFPIT.GOTO_TABLE:
        ins = { type: "goto_table", tableId: buf[at + 4]! };
        break;
      case OFPIT.WRITE_METADATA:
        ins = {
          type: "write_metadata",
          metadata: getU64(buf, at + 8),
          mask: getU64(buf, at + 16),
        };
        break;
      case OFPIT.WRITE_ACTIONS:
        // A second write_actions only survives structural decode.
        ins = { type: "write_actions", actions: nestedActions(buf, at, ctx) };
        break;
      case OFPIT.APPLY_ACTIONS:
        ins = {
          type: "apply_actions",
          actions:
            at === applyAt && applyFirst !== undefined ? applyFirst : nestedActions(buf, at, ctx),
        };
        break;
      case OFPIT.CLEAR_ACTIONS:
        ins = { type: "clear_actions" };
        break;
      case OFPIT.METER:
        ins = { type: "meter", meterId: getU32(buf, at + 4) };
        break;
      default:
        ins = {
          type: "experimenter",
          experimenter: getU32(buf, at + 4),
          data: buf.subarray(at + 8, at + len),
        };
    }
    out[i++] = ins;
    at += len;
  }
  return out;
}

/** Marks an unknown instruction type in {@link fixedSizeOf}. */
const UNKNOWN = -1;

/** Exact size of a fixed instruction, 0 for the extensible ones, {@link UNKNOWN} otherwise. */
function fixedSizeOf(code: number): number {
  switch (code) {
    case OFPIT.GOTO_TABLE:
      return GOTO_TABLE_SIZE;
    case OFPIT.WRITE_METADATA:
      return WRITE_METADATA_SIZE;
    case OFPIT.CLEAR_ACTIONS:
      return CLEAR_ACTIONS_SIZE;
    case OFPIT.METER:
      return METER_SIZE;
    case OFPIT.APPLY_ACTIONS:
    case OFPIT.WRITE_ACTIONS:
    case OFPIT.EXPERIMENTER:
      return 0;
    default:
      return UNKNOWN;
  }
}

function nestedActions(buf: Uint8Array, at: number, ctx: ActionDecodeContext): Action[] {
  const len = getU16(buf, at + 2);
  return decodeActionRange(buf, at + ACTIONS_HEADER_SIZE, at + len, ctx, 0, "top");
}

/** Encodes instructions in the given order; lengths computed, pads zeroed. */
export function encodeInstructions(w: Writer, list: readonly Instruction[]): void {
  for (let i = 0; i < list.length; i++) {
    const ins = list[i]!;
    switch (ins.type) {
      case "goto_table": {
        const b = w.reserve(GOTO_TABLE_SIZE);
        const at = w.pos;
        putU16(b, at, OFPIT.GOTO_TABLE);
        putU16(b, at + 2, GOTO_TABLE_SIZE);
        b[at + 4] = ins.tableId;
        b[at + 5] = 0;
        b[at + 6] = 0;
        b[at + 7] = 0;
        w.pos = at + GOTO_TABLE_SIZE;
        break;
      }
      case "write_metadata":
        w.u16(OFPIT.WRITE_METADATA).u16(WRITE_METADATA_SIZE).zeros(4);
        w.u64(ins.metadata).u64(ins.mask);
        break;
      case "apply_actions":
      case "write_actions": {
        const tok = w.pos;
        const b = w.reserve(ACTIONS_HEADER_SIZE);
        putU16(b, tok, ins.type === "apply_actions" ? OFPIT.APPLY_ACTIONS : OFPIT.WRITE_ACTIONS);
        for (let j = tok + 2; j < tok + ACTIONS_HEADER_SIZE; j++) b[j] = 0;
        w.pos = tok + ACTIONS_HEADER_SIZE;
        encodeActions(w, ins.actions);
        w.endLengthAt(tok, 2, "included");
        break;
      }
      case "clear_actions":
        w.u16(OFPIT.CLEAR_ACTIONS).u16(CLEAR_ACTIONS_SIZE).zeros(4);
        break;
      case "meter":
        w.u16(OFPIT.METER).u16(METER_SIZE).u32(ins.meterId);
        break;
      case "experimenter": {
        const tok = w.pos;
        w.u16(OFPIT.EXPERIMENTER).u16(0).u32(ins.experimenter).bytes(ins.data);
        w.endLengthAt(tok, 2, "included");
        break;
      }
      default:
        assertNever(ins);
    }
  }
}

/** The same instructions in the order OVS writes them (stable for equal ranks). */
export function canonicalInstructionOrder(list: readonly Instruction[]): Instruction[] {
  return [...list].sort((a, b) => CANONICAL_RANK[a.type] - CANONICAL_RANK[b.type]);
}

function assertNever(x: never): never {
  throw new Error(`unhandled instruction ${JSON.stringify(x)}`);
}
