/**
 * The OpenFlow 1.3 action set (§5.10), executed as Open vSwitch does it
 * (lib/ofp-actions.c `ofpacts_execute_action_set`):
 *
 * - write_actions appends to the set; clear_actions empties it.
 * - At the end of the pipeline the set runs only if it holds a "final"
 *   action (ct, ct_clear, resubmit, output, group; the highest-ranked one
 *   written wins, ties to the last written — so group beats output).
 * - Then, in this order: the last action written to each ordered slot
 *   (pop_vlan, pop_mpls, push_mpls, push_vlan, dec_ttl, dec_mpls_ttl), then
 *   *every* set_field/move/load in the order written (OVS keeps them all, where
 *   the spec keeps one per field), then the final action.
 *
 * The set holds ops by reference in a growable array that is reused across
 * packets, so writing and clearing allocate nothing once warm.
 */
import type { Action } from "../codec/actions.js";
import type { Op } from "./actions/compile.js";

const N_SLOTS = 6;
const SET_OR_MOVE = 20;
const FINAL_BASE = 10;
const INVALID = -1;

/** Numeric class of an action: 0..5 slot, 10+rank final, 20 set-or-move, -1 not allowed in the set. */
export function actionSetClassOf(a: Action): number {
  switch (a.type) {
    case "pop_vlan":
      return 0;
    case "pop_mpls":
      return 1;
    case "push_mpls":
      return 2;
    case "push_vlan":
      return 3;
    case "dec_nw_ttl":
    case "dec_ttl_cnt_ids":
      return 4;
    case "dec_mpls_ttl":
      return 5;
    case "ct":
      return FINAL_BASE;
    case "ct_clear":
      return FINAL_BASE + 1;
    case "resubmit":
      return FINAL_BASE + 2;
    case "output":
      return FINAL_BASE + 3;
    case "group":
      return FINAL_BASE + 4;
    case "set_field":
    case "reg_load":
    case "reg_load2":
    case "reg_move":
    case "set_nw_ttl":
    case "set_mpls_ttl":
    case "set_queue":
    case "set_tunnel":
      return SET_OR_MOVE;
    default:
      return INVALID;
  }
}

export function actionSetClassCode(op: Op): number {
  return actionSetClassOf(op.action);
}

export class ActionSet {
  private ops: Op[] = [];
  private n = 0;
  private readonly slots: (Op | null)[] = new Array<Op | null>(N_SLOTS).fill(null);
  /** The ops to run, in order, filled by {@link resolve}. */
  private readonly plan: Op[] = [];

  get size(): number {
    return this.n;
  }

  clear(): void {
    this.n = 0;
  }

  write(ops: readonly Op[]): void {
    for (let i = 0; i < ops.length; i++) {
      if (this.n < this.ops.length) this.ops[this.n] = ops[i]!;
      else this.ops.push(ops[i]!);
      this.n++;
    }
  }

  /** What the set would execute now, as a fresh array (for traces; allocates). */
  preview(): Op[] {
    return [...this.resolve()];
  }

  /**
   * The ops the set executes, in execution order; empty when the set holds no
   * final action. The returned array is reused by the next call.
   */
  resolve(): readonly Op[] {
    const plan = this.plan;
    plan.length = 0;
    let final: Op | null = null;
    let finalClass = -1;
    const slots = this.slots;
    for (let s = 0; s < N_SLOTS; s++) slots[s] = null;
    for (let i = 0; i < this.n; i++) {
      const op = this.ops[i]!;
      const c = actionSetClassCode(op);
      if (c >= 0 && c < N_SLOTS) slots[c] = op;
      else if (c >= FINAL_BASE && c < SET_OR_MOVE) {
        if (c >= finalClass) {
          final = op;
          finalClass = c;
        }
      }
    }
    if (final === null) return plan;
    for (let s = 0; s < N_SLOTS; s++) if (slots[s] !== null) plan.push(slots[s]!);
    for (let i = 0; i < this.n; i++) {
      const op = this.ops[i]!;
      if (actionSetClassCode(op) === SET_OR_MOVE) plan.push(op);
    }
    plan.push(final);
    return plan;
  }
}
