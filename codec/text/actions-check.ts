/**
 * OVS's consistency check of decoded actions against the flow's match
 * (`ofpacts_check_consistency`, lib/ofp-actions.c), as the error name a
 * printer shows (`***decode error: OFPBAC_MATCH_INCONSISTENT***`).
 *
 * The check itself is the codec's (codec/flow-check.ts, which the strict
 * FLOW_MOD decoder also runs): one implementation of OVS's rules, so the
 * text layer and the decoder cannot disagree. This file only turns its
 * OfpError into the name ovs-ofctl prints.
 */
import { isOfpError } from "../errors.js";
import { checkFlowModConsistency as checkConsistency } from "../flow-check.js";
import type { Instruction } from "../instructions.js";
import type { Match } from "../oxm.js";

/**
 * The error OVS reports for these instructions against `match` in table
 * `tableId` (OFPBAC_MATCH_INCONSISTENT, OFPBAC_BAD_TAG, OFPBIC_BAD_TABLE_ID,
 * ...), or undefined when consistent.
 */
export function checkInstructionsConsistency(
  instructions: readonly Instruction[],
  match: Match,
  tableId: number,
): string | undefined {
  try {
    checkConsistency(match, instructions, tableId);
    return undefined;
  } catch (e) {
    if (isOfpError(e)) return e.code;
    throw e;
  }
}
