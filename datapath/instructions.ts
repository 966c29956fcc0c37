/**
 * FLOW_MOD instructions → a {@link FlowProgram}, with the checks OVS makes
 * when it installs a flow (`ofpacts_check`, `ofpacts_verify`; errors as
 * measured against OVS 3.1, see test/datapath/flow-mod.test.ts):
 *
 * - goto_table to this table or an earlier one: OFPBIC_BAD_TABLE_ID
 *   (OVS accepts 254 and 255 as targets; they simply miss).
 * - meter: dvrflow has no meters, so every meter id is OFPMMFC_INVALID_METER,
 *   which is what OVS answers for a meter that does not exist.
 * - write_actions may hold only what OVS's action set can hold
 *   (`action_set_classify`, see action-set.ts), else OFPBAC_BAD_TYPE.
 * - conjunction() must be alone (only note beside it), in apply_actions:
 *   NXBAC_BAD_CONJUNCTION.
 */
import { OfpError } from "../codec/errors.js";
import type { Action } from "../codec/actions.js";
import type { Instruction } from "../codec/instructions.js";
import { compileActions, type CompileContext } from "./actions/compile.js";
import { actionSetClassOf } from "./action-set.js";
import type { ConjClause, FlowProgram, MetadataWrite } from "./flow-entry.js";

function conjunctionsOf(instrs: readonly Instruction[]): ConjClause[] | null {
  let any = false;
  for (const i of instrs) {
    if (i.type !== "apply_actions" && i.type !== "write_actions") continue;
    for (const a of i.actions) if (a.type === "conjunction") any = true;
  }
  if (!any) return null;
  const clauses: ConjClause[] = [];
  for (const i of instrs) {
    if (i.type !== "apply_actions") {
      throw new OfpError("NXBAC_BAD_CONJUNCTION", `conjunction with ${i.type}`);
    }
    for (const a of i.actions) {
      if (a.type === "note") continue;
      if (a.type !== "conjunction") {
        throw new OfpError("NXBAC_BAD_CONJUNCTION", `conjunction with ${a.type}`);
      }
      if (a.nClauses < 2 || a.nClauses > 64 || a.clause >= a.nClauses) {
        throw new OfpError(
          "NXBAC_BAD_CONJUNCTION",
          `conjunction(${a.id},${a.clause + 1}/${a.nClauses})`,
        );
      }
      clauses.push({ id: a.id, clause: a.clause, nClauses: a.nClauses });
    }
  }
  return clauses;
}

function hasSideEffects(actions: readonly Action[]): boolean {
  for (const a of actions) {
    if (a.type === "learn" || a.type === "controller" || a.type === "controller2") return true;
    if (a.type === "output" && a.port >>> 0 === 0xfffffffd) return true;
  }
  return false;
}

/** Compiles and validates the instructions of a flow in table `tableId`. */
export function compileInstructions(
  instrs: readonly Instruction[],
  tableId: number,
  ctx: CompileContext,
): FlowProgram {
  const conjunctions = conjunctionsOf(instrs);
  let apply: FlowProgram["apply"] = [];
  let write: FlowProgram["write"] = null;
  let clear = false;
  let metadata: MetadataWrite | null = null;
  let gotoTable = -1;
  let sideEffects = false;
  for (const i of instrs) {
    switch (i.type) {
      case "apply_actions":
        apply = compileActions(i.actions, ctx);
        if (hasSideEffects(i.actions)) sideEffects = true;
        break;
      case "write_actions":
        for (const a of i.actions) {
          if (actionSetClassOf(a) < 0) {
            throw new OfpError("OFPBAC_BAD_TYPE", `${a.type} is not allowed in write_actions`);
          }
        }
        write = compileActions(i.actions, ctx);
        if (hasSideEffects(i.actions)) sideEffects = true;
        break;
      case "clear_actions":
        clear = true;
        break;
      case "write_metadata":
        metadata = {
          valueHi: Number((i.metadata >> 32n) & 0xffffffffn) | 0,
          valueLo: Number(i.metadata & 0xffffffffn) | 0,
          maskHi: Number((i.mask >> 32n) & 0xffffffffn) | 0,
          maskLo: Number(i.mask & 0xffffffffn) | 0,
        };
        break;
      case "goto_table":
        if (i.tableId <= tableId) {
          throw new OfpError(
            "OFPBIC_BAD_TABLE_ID",
            `goto_table:${i.tableId} from table ${tableId}`,
          );
        }
        gotoTable = i.tableId;
        break;
      case "meter":
        throw new OfpError("OFPMMFC_INVALID_METER", `meter ${i.meterId} does not exist`);
      case "experimenter":
        throw new OfpError("OFPBIC_BAD_EXPERIMENTER", "experimenter instruction");
    }
  }
  return { apply, clear, write, metadata, gotoTable, conjunctions, sideEffects };
}
