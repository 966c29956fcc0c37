/**
 * Actions compiled for execution: each codec {@link Action} becomes one
 * {@link Op} of a single object shape (monomorphic for V8) with everything the
 * packet path needs precomputed — key-word writes for set_field/reg_load, copy
 * runs for reg_move, the header to resync, the runtime prerequisite, resolved
 * port numbers. Executing an op is a switch on a small integer with no
 * allocation and no BigInt (style.md §2.5 "actions compile into a flat
 * program"; we keep objects rather than an Int32Array, one per action).
 *
 * Compilation is also validation: an action the switch cannot run, or whose
 * arguments OVS would refuse at flow-mod time, throws the OfpError OVS sends.
 */
import { OfpError } from "../../codec/errors.js";
import type { Action, LearnAction } from "../../codec/actions.js";
import type { OxmEntry, Prereq } from "../../codec/oxm.js";
import { OFPP } from "../../codec/ports.js";
import { FK } from "../../codec/packet/flow-key.js";
import {
  applyWrites,
  compileConstWrite,
  compileMove,
  fieldRuns,
  fieldWidth,
  type BitRun,
  type MoveRun,
  type WordWrite,
} from "./field-access.js";
import { REWRITE, rewriteClassOf, type RewriteClass } from "./rewrite.js";

/** Op codes. */
export const OP = {
  OUTPUT: 0,
  OUTPUT_REG: 1,
  CONTROLLER: 2,
  GROUP: 3,
  PUSH_VLAN: 4,
  POP_VLAN: 5,
  /** Constant key-word writes, then resync `rewrite` (set_field, reg_load, reg_load2, set_tunnel). */
  SET: 6,
  MOVE: 7,
  DEC_TTL: 8,
  SET_NW_TTL: 9,
  RESUBMIT: 10,
  LEARN: 11,
  /** Does nothing to the packet (note, set_queue, pop_queue, fin_timeout, conjunction). */
  NOP: 12,
  EXIT: 13,
} as const;
export type OpCode = (typeof OP)[keyof typeof OP];

export interface Op {
  readonly code: OpCode;
  /** The action as the controller wrote it (for traces and stats replies). */
  readonly action: Action;
  /** OUTPUT: port; RESUBMIT: in_port (OF1.1 numbering, OFPP_IN_PORT = keep); GROUP: id; PUSH_VLAN: TPID; SET_NW_TTL: TTL. */
  readonly port: number;
  /** RESUBMIT: table (255 = current). */
  readonly table: number;
  /** OUTPUT/CONTROLLER: bytes to send to the controller. */
  readonly maxLen: number;
  /** CONTROLLER: packet-in reason and controller id. */
  readonly reason: number;
  readonly controllerId: number;
  readonly writes: readonly WordWrite[];
  readonly moves: readonly MoveRun[];
  /** OUTPUT_REG: the source sub-field. */
  readonly runs: readonly BitRun[];
  /** Header to resync after SET/MOVE. */
  readonly rewrite: RewriteClass;
  /** SET/MOVE only run when the packet meets this (OVS "unmet prerequisites, set_field ignored"). */
  readonly prereq: Prereq;
  /** MOVE: the source's prerequisite too. */
  readonly prereq2: Prereq;
  readonly learn: LearnAction | null;
}

const EMPTY: readonly never[] = [];

function op(code: OpCode, action: Action, extra: Partial<Op> = {}): Op {
  return {
    code,
    action,
    port: 0,
    table: 0,
    maxLen: 0,
    reason: 0,
    controllerId: 0,
    writes: EMPTY,
    moves: EMPTY,
    runs: EMPTY,
    rewrite: REWRITE.NONE,
    prereq: "none",
    prereq2: "none",
    learn: null,
    ...extra,
  };
}

/** What compilation needs to know about the bridge. */
export interface CompileContext {
  /** Group existence (OFPBAC_BAD_OUT_GROUP). */
  hasGroup(id: number): boolean;
}

/** OF1.3 packet-in reasons. */
export const PACKET_IN_REASON = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2 } as const;

/** OF1.0 → OF1.1 port numbering (resubmit and NXM in_port carry 16-bit ports). */
export function portFrom16(p: number): number {
  return p >= 0xff00 ? (p + 0xffff0000) >>> 0 : p;
}

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** set_field / reg_load2 of an OXM entry (optionally masked). */
function compileSetEntry(action: Action, entry: OxmEntry): Op {
  const f = entry.field;
  const width = fieldWidth(f);
  const value = bytesToBig(entry.value);
  const mask = entry.mask === undefined ? undefined : bytesToBig(entry.mask);
  // vlan_vid carries OFPVID_PRESENT (bit 12) with the VID: write 13 bits so the tag is "present".
  const writes = compileConstWrite(f, 0, width, value, mask);
  return op(OP.SET, action, {
    writes,
    rewrite: rewriteClassOf(f.logical),
    prereq: f.prereq,
  });
}

function unsupported(what: string): never {
  throw new OfpError("OFPBAC_BAD_TYPE", `${what} is not supported by the dvrflow datapath`);
}

/** Compiles one action (validating it as OVS does at flow-mod time). */
export function compileAction(a: Action, ctx: CompileContext): Op {
  switch (a.type) {
    case "output": {
      // The codec already refused OFPBAC_BAD_OUT_PORT ports (ANY, 0xff00..0xfffffff7).
      return op(OP.OUTPUT, a, { port: a.port >>> 0, maxLen: a.maxLen });
    }
    case "output_reg": {
      if (a.src.nBits > 32)
        throw new OfpError("OFPBAC_BAD_SET_LEN", "output_reg wider than 32 bits");
      return op(OP.OUTPUT_REG, a, {
        runs: fieldRuns(a.src.field, a.src.ofs, a.src.nBits),
        maxLen: a.maxLen,
      });
    }
    case "controller":
      return op(OP.CONTROLLER, a, {
        port: OFPP.CONTROLLER,
        maxLen: a.maxLen,
        reason: a.reason,
        controllerId: a.controllerId,
      });
    case "controller2":
      if (a.pause) unsupported("controller(pause)");
      return op(OP.CONTROLLER, a, {
        port: OFPP.CONTROLLER,
        maxLen: a.maxLen,
        reason: a.reason,
        controllerId: a.controllerId,
      });
    case "group":
      if (!ctx.hasGroup(a.groupId)) {
        throw new OfpError("OFPBAC_BAD_OUT_GROUP", `group ${a.groupId} does not exist`);
      }
      return op(OP.GROUP, a, { port: a.groupId >>> 0 });
    case "push_vlan":
      if (a.ethertype !== 0x8100 && a.ethertype !== 0x88a8) {
        throw new OfpError(
          "OFPBAC_BAD_ARGUMENT",
          `push_vlan ethertype 0x${a.ethertype.toString(16)}`,
        );
      }
      return op(OP.PUSH_VLAN, a, { port: a.ethertype });
    case "pop_vlan":
      return op(OP.POP_VLAN, a);
    case "set_field":
      if (a.entry.field === undefined) {
        // OVS refuses an OXM it does not know in set_field.
        throw new OfpError("OFPBAC_BAD_SET_LEN", "set_field of an unknown field");
      }
      return compileSetEntry(a, a.entry);
    case "reg_load2":
      return compileSetEntry(a, a.entry);
    case "reg_load": {
      const f = a.dst.field;
      return op(OP.SET, a, {
        writes: compileConstWrite(f, a.dst.ofs, a.dst.nBits, a.value),
        rewrite: rewriteClassOf(f.logical),
        prereq: f.prereq,
      });
    }
    case "set_tunnel": {
      // tun_id as 64 bits over TUN_ID_HI/LO.
      const hi = Number((a.tunId >> 32n) & 0xffffffffn) | 0;
      const lo = Number(a.tunId & 0xffffffffn) | 0;
      return op(OP.SET, a, {
        writes: [
          { word: FK.TUN_ID_HI, clear: -1, set: hi },
          { word: FK.TUN_ID_LO, clear: -1, set: lo },
        ],
      });
    }
    case "reg_move":
      if (a.src.nBits !== a.dst.nBits) {
        throw new OfpError("OFPBAC_BAD_SET_LEN", "move between sub-fields of different widths");
      }
      return op(OP.MOVE, a, {
        moves: compileMove(a.src.field, a.src.ofs, a.dst.field, a.dst.ofs, a.dst.nBits),
        rewrite: rewriteClassOf(a.dst.field.logical),
        prereq: a.dst.field.prereq,
        prereq2: a.src.field.prereq,
      });
    case "dec_nw_ttl":
    case "dec_ttl_cnt_ids":
      return op(OP.DEC_TTL, a);
    case "set_nw_ttl":
      return op(OP.SET_NW_TTL, a, { port: a.ttl & 0xff });
    case "resubmit":
      if (a.ct) unsupported("resubmit(,,ct)");
      return op(OP.RESUBMIT, a, { port: portFrom16(a.inPort), table: a.table });
    case "learn":
      for (const s of a.specs) {
        if (s.src.kind === "field")
          fieldRuns(s.src.field.field, s.src.field.ofs, s.src.field.nBits);
        if (s.dstField !== undefined) fieldRuns(s.dstField.field, s.dstField.ofs, s.dstField.nBits);
      }
      return op(OP.LEARN, a, { learn: a });
    case "exit":
      return op(OP.EXIT, a);
    case "note":
    case "set_queue":
    case "pop_queue":
    case "fin_timeout":
    case "conjunction":
      return op(OP.NOP, a);
    case "ct":
    case "nat":
    case "ct_clear":
      // OVS's answer when the datapath lacks connection tracking.
      throw new OfpError("NXBAC_CT_DATAPATH_SUPPORT", `${a.type}: no connection tracking here`);
    case "copy_ttl_out":
    case "copy_ttl_in":
    case "set_mpls_ttl":
    case "dec_mpls_ttl":
    case "push_mpls":
    case "pop_mpls":
    case "push_pbb":
    case "pop_pbb":
      return unsupported(a.type);
    case "experimenter":
      throw new OfpError(
        "OFPBAC_BAD_VENDOR_TYPE",
        `experimenter action 0x${a.experimenter.toString(16)}`,
      );
  }
}

export function compileActions(actions: readonly Action[], ctx: CompileContext): Op[] {
  const out: Op[] = [];
  for (const a of actions) out.push(compileAction(a, ctx));
  return out;
}

/** Re-exported for executors. */
export { applyWrites };
