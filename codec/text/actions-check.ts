/**
 * OVS's consistency check of decoded actions against the flow's match
 * (`ofpacts_check_consistency`, lib/ofp-actions.c). ovs-ofctl runs it when it
 * decodes a FLOW_MOD for printing, and prints `***decode error:
 * OFPBAC_MATCH_INCONSISTENT***` (or the specific error) when it fails; the
 * printer does the same.
 */
import type { Action, SubField } from "../actions.js";
import type { Instruction } from "../instructions.js";
import { textFieldFor } from "./oxm-bridge.js";
import {
  IP_PROTO,
  VLAN,
  cloneFlowMatch,
  isIpAny,
  isMpls,
  popVlanCheck,
  prereqsOk,
  pushVlanCheck,
  type FlowMatch,
} from "./flow-match.js";
import type { TextField } from "./fields.js";

const INCONSISTENT = "OFPBAC_MATCH_INCONSISTENT";

function fieldOk(flow: FlowMatch, tf: TextField | undefined): boolean {
  if (tf === undefined) return true;
  if (tf.name === "vlan_vid" && (flow.value.vlan_tci & BigInt(VLAN.CFI)) === 0n) return false;
  return prereqsOk(flow, tf);
}

function subOk(flow: FlowMatch, sf: SubField): boolean {
  return fieldOk(flow, textFieldFor(sf.field));
}

function checkActions(actions: readonly Action[], flow: FlowMatch): string | undefined {
  for (const a of actions) {
    const e = checkAction(a, flow);
    if (e !== undefined) return e;
  }
  return undefined;
}

function checkAction(a: Action, flow: FlowMatch): string | undefined {
  const cfi = BigInt(VLAN.CFI);
  switch (a.type) {
    case "pop_vlan":
      if ((flow.value.vlan_tci & cfi) === 0n) return INCONSISTENT;
      popVlanCheck(flow);
      return undefined;
    case "push_vlan":
      return pushVlanCheck(flow);
    case "set_field":
    case "reg_load2": {
      const tf = textFieldFor(a.entry.field);
      if (!fieldOk(flow, tf)) return INCONSISTENT;
      if (tf?.name === "vlan_tci")
        flow.value.vlan_tci = BigInt((a.entry.value[0]! << 8) | a.entry.value[1]!);
      return undefined;
    }
    case "reg_load":
      return subOk(flow, a.dst) ? undefined : INCONSISTENT;
    case "reg_move":
      return subOk(flow, a.src) && subOk(flow, a.dst) ? undefined : INCONSISTENT;
    case "output_reg":
      return subOk(flow, a.src) ? undefined : INCONSISTENT;
    case "set_nw_ttl":
    case "dec_nw_ttl":
    case "dec_ttl_cnt_ids":
      return isIpAny(flow) ? undefined : INCONSISTENT;
    case "set_mpls_ttl":
    case "dec_mpls_ttl":
      return isMpls(flow) ? undefined : INCONSISTENT;
    case "pop_mpls":
      if (!isMpls(flow)) return INCONSISTENT;
      flow.value.dl_type = BigInt(a.ethertype);
      return undefined;
    case "push_mpls":
      flow.value.dl_type = BigInt(a.ethertype);
      return undefined;
    case "fin_timeout":
      return Number(flow.value.nw_proto) === IP_PROTO.TCP ? undefined : INCONSISTENT;
    case "ct": {
      const proto = Number(flow.value.nw_proto);
      if (!isIpAny(flow)) return INCONSISTENT;
      if ((a.flags & 1) !== 0 && (flow.value.ct_state & 0x10n) !== 0n) return INCONSISTENT;
      if ((a.alg === 21 && proto !== IP_PROTO.TCP) || (a.alg === 69 && proto !== IP_PROTO.UDP))
        return INCONSISTENT;
      if (a.zoneSrc !== undefined && !subOk(flow, a.zoneSrc)) return INCONSISTENT;
      return checkActions(a.actions, flow);
    }
    case "resubmit":
      if (
        a.ct &&
        ((flow.mask.ct_state & 0x21n) !== 0x21n || (flow.value.ct_state & 0x21n) !== 0x01n)
      ) {
        return INCONSISTENT;
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The error OVS reports for these instructions against `match` in table
 * `tableId`, or undefined when consistent.
 */
export function checkInstructionsConsistency(
  instructions: readonly Instruction[],
  match: FlowMatch,
  tableId: number,
): string | undefined {
  const flow = cloneFlowMatch(match);
  // Apply-actions run first, then write-actions see the result (ofpacts_check walks the flat list).
  const order = [
    "meter",
    "apply_actions",
    "clear_actions",
    "write_actions",
    "write_metadata",
    "goto_table",
  ];
  const sorted = [...instructions].sort((x, y) => order.indexOf(x.type) - order.indexOf(y.type));
  for (const i of sorted) {
    if (i.type === "apply_actions") {
      const e = checkActions(i.actions, flow);
      if (e !== undefined) return e;
    } else if (i.type === "write_actions") {
      const e = checkActions(i.actions, cloneFlowMatch(flow));
      if (e !== undefined) return e;
    } else if (i.type === "goto_table") {
      if (i.tableId <= tableId) return "OFPBIC_BAD_TABLE_ID";
    }
  }
  return undefined;
}
