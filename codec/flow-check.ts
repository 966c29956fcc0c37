/**
 * FLOW_MOD validation that needs more than one structure at a time: what OVS
 * checks in `ofputil_decode_flow_mod` after pulling the match, and in
 * `ofpacts_check_consistency` once the instructions are decoded
 * (`lib/ofp-flow.c`, `lib/ofp-actions.c`, `lib/learn.c`, `lib/meta-flow.c`).
 *
 * The strict FLOW_MOD decoder (messages/flow-mod.ts) calls these pieces in
 * OVS's order; a switch that builds FLOW_MODs some other way calls
 * {@link validateFlowMod}. All failures are OfpError:
 * - table_id 255 (OFPTT_ALL) for anything but a delete → OFPFMFC_BAD_TABLE_ID;
 * - out_port outside OVS's port range → OFPBAC_BAD_OUT_PORT;
 * - ct_nw_src/dst (ct_ipv6_*) matched without eth_type ip (ipv6) →
 *   OFPBAC_MATCH_INCONSISTENT;
 * - command > DELETE_STRICT → OFPFMFC_BAD_COMMAND;
 * - unknown flags → OFPFMFC_BAD_FLAGS;
 * - the actions against the match (`ofpact_check__` per action, the match
 *   updated by push_vlan/pop_vlan/push_mpls/pop_mpls/set_field vlan_tci as
 *   OVS does): a field written or read without its prerequisites, ct/nat on
 *   non-IP, set_field vlan_vid without a tag → OFPBAC_MATCH_INCONSISTENT at
 *   once; pop_vlan without a tag, TTL and MPLS actions on the wrong packet
 *   kind, fin_timeout on non-TCP → OFPBAC_MATCH_INCONSISTENT after the rest
 *   (OVS narrows the usable protocols and reports at the end, so a hard error
 *   later in the list wins); a third VLAN tag → OFPBAC_BAD_TAG; goto_table
 *   not forward → OFPBIC_BAD_TABLE_ID; meter 0 or above OFPM_MAX →
 *   OFPMMFC_INVALID_METER.
 */
import { OfpError } from "./errors.js";
import type { Action, SubField } from "./actions.js";
import type { Instruction } from "./instructions.js";
import {
  copyFlowState,
  flowStateOf,
  isIpAny,
  isMpls,
  newFlowState,
  prereqSatisfied,
  resetFlowState,
  type FlowState,
} from "./match.js";
import { OXM_FIELDS, fieldByName, type Match, type MatchEntry, type OxmField } from "./oxm.js";
import { isOf11PortInRange } from "./ports.js";

/** OF1.3 `enum ofp_flow_mod_command`: the highest valid one. */
const OFPFC_DELETE = 3;
const OFPFC_DELETE_STRICT = 4;
/** OFPTT_ALL. */
const TABLE_ALL = 0xff;
/** OF1.3 flow_mod flags OVS accepts (`ofputil_decode_flow_mod_flags`). */
const OFPFF13_ALL = 0x1f;
/** OFPM_MAX: the highest regular meter id. */
const OFPM_MAX = 0xffff0000;
const VLAN_CFI = 0x1000;
/** OVS tracks two VLAN headers (FLOW_MAX_VLAN_HEADERS). */
const MAX_VLAN_HEADERS = 2;
const ETH_TYPE_IPV4 = 0x0800;
const ETH_TYPE_IPV6 = 0x86dd;
const IP_PROTO_TCP = 6;
const IP_PROTO_UDP = 17;
/** ct alg values (`ct(alg=ftp|tftp)`): the L4 protocol they need. */
const ALG_FTP = 21;
const ALG_TFTP = 69;
const CS_INVALID = 0x10;
const NX_CT_COMMIT = 1;

/** The FLOW_MOD fields validation reads (a FlowModMessage has them all). */
export interface FlowModFields {
  readonly tableId: number;
  readonly command: number;
  readonly outPort: number;
  readonly flags: number;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}

/**
 * Checks OVS makes right after the match, before decoding instructions.
 * `decoded`: the match's flow state when the caller just decoded it strictly
 * (match.ts `decodedMatchState`), saving a pass over the entries.
 */
export function checkFlowModHeader(
  tableId: number,
  command: number,
  outPort: number,
  match: Match,
  decoded?: Readonly<FlowState>,
): void {
  if (tableId === TABLE_ALL && command !== OFPFC_DELETE && command !== OFPFC_DELETE_STRICT) {
    throw new OfpError("OFPFMFC_BAD_TABLE_ID", "table 255 (all) is only for deletes");
  }
  if (!isOf11PortInRange(outPort)) {
    throw new OfpError("OFPBAC_BAD_OUT_PORT", `out_port 0x${(outPort >>> 0).toString(16)}`);
  }
  loadMatch(match, decoded);
  if (command > OFPFC_DELETE_STRICT) {
    throw new OfpError("OFPFMFC_BAD_COMMAND", `flow_mod command ${command}`);
  }
}

/** Which conntrack tuple family a storage group is (0: none, 4: ct_nw_*, 6: ct_ipv6_*). */
const CT_TUPLE: Uint8Array = (() => {
  let n = 0;
  for (const f of OXM_FIELDS) n = Math.max(n, f.group + 1);
  const t = new Uint8Array(n);
  for (const name of ["ct_nw_src", "ct_nw_dst"]) t[fieldByName(name)!.group] = 4;
  for (const name of ["ct_ipv6_src", "ct_ipv6_dst"]) t[fieldByName(name)!.group] = 6;
  return t;
})();

/**
 * Loads the match into the flow state the action checks use, and makes OVS's
 * check that ct_nw_* need eth_type ip and ct_ipv6_* need ipv6 in the match
 * itself. One pass; {@link checkFlowModConsistency} reuses the state.
 */
function loadMatch(match: Match, decoded: Readonly<FlowState> | undefined): void {
  if (decoded === undefined) flowStateOf(match, flow);
  else copyFlowState(decoded, flow);
  prepared = match;
  const entries = match.entries;
  let ct4 = false;
  let ct6 = false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const f = e.field;
    if (f === undefined) continue;
    const kind = CT_TUPLE[f.group];
    if (kind === 4) ct4 = ct4 || isSet(e);
    else if (kind === 6) ct6 = ct6 || isSet(e);
  }
  if ((ct4 && flow.ethType !== ETH_TYPE_IPV4) || (ct6 && flow.ethType !== ETH_TYPE_IPV6)) {
    throw new OfpError("OFPBAC_MATCH_INCONSISTENT", "ct tuple field without its eth_type");
  }
}

/** The match {@link flow} holds, until the consistency check consumes it. */
let prepared: Match | undefined;

/** Whether a match entry matches any bit (OVS looks at the mask). */
function isSet(e: MatchEntry): boolean {
  if (e.field === undefined) return false;
  if (e.mask === undefined) return true;
  for (let i = 0; i < e.mask.length; i++) if (e.mask[i] !== 0) return true;
  return false;
}

/** `ofputil_decode_flow_mod_flags` for OF1.3. */
export function checkFlowModFlags(flags: number): void {
  if ((flags & ~OFPFF13_ALL) !== 0) {
    throw new OfpError("OFPFMFC_BAD_FLAGS", `flow_mod flags 0x${flags.toString(16)}`);
  }
}

/** The flow the actions are checked against, reused (checks are synchronous). */
const flow = newFlowState();
/** The learned flow's match, for learn's destination checks. */
const learned = newFlowState();

/**
 * Per-check state beyond the FlowState: VLAN depth (OVS tracks two tags) and
 * the deferred "inconsistent" verdict.
 */
const check = { vlanDepth: 0, inconsistent: false };

/** `ofpacts_check_consistency`: the instructions' actions against the match. */
export function checkFlowModConsistency(
  match: Match,
  instructions: readonly Instruction[],
  tableId: number,
): void {
  // checkFlowModHeader just loaded this match; the checks below change the state.
  if (prepared !== match) flowStateOf(match, flow);
  prepared = undefined;
  check.vlanDepth = (flow.vlanTci & VLAN_CFI) !== 0 ? 1 : 0;
  check.inconsistent = false;
  // OVS holds instructions as meter, apply, clear, write, write_metadata,
  // goto; that is also how they are usually sent, so check in one pass then.
  if (inOvsOrder(instructions)) {
    for (let i = 0; i < instructions.length; i++) checkInstruction(instructions[i]!, tableId);
  } else {
    for (let pass = 0; pass < PASS_ORDER.length; pass++) {
      const type = PASS_ORDER[pass]!;
      for (let i = 0; i < instructions.length; i++) {
        const ins = instructions[i]!;
        if (ins.type === type) checkInstruction(ins, tableId);
      }
    }
  }
  if (check.inconsistent) {
    throw new OfpError("OFPBAC_MATCH_INCONSISTENT", "actions do not fit the match");
  }
}

const PASS_ORDER: readonly Instruction["type"][] = [
  "meter",
  "apply_actions",
  "clear_actions",
  "write_actions",
  "write_metadata",
  "goto_table",
];

function rankOf(type: Instruction["type"]): number {
  switch (type) {
    case "meter":
      return 0;
    case "apply_actions":
      return 1;
    case "clear_actions":
      return 2;
    case "write_actions":
      return 3;
    case "write_metadata":
      return 4;
    case "goto_table":
      return 5;
    case "experimenter":
      return 6;
  }
}

function inOvsOrder(instructions: readonly Instruction[]): boolean {
  for (let i = 1; i < instructions.length; i++) {
    if (rankOf(instructions[i - 1]!.type) > rankOf(instructions[i]!.type)) return false;
  }
  return true;
}

function checkInstruction(ins: Instruction, tableId: number): void {
  switch (ins.type) {
    case "meter":
      if (ins.meterId === 0 || ins.meterId > OFPM_MAX) {
        throw new OfpError("OFPMMFC_INVALID_METER", `meter ${ins.meterId}`);
      }
      return;
    case "apply_actions":
      checkActions(ins.actions);
      return;
    case "write_actions": {
      // check_WRITE_ACTIONS: an action set is not sequential; OVS checks it
      // and then restores the fields the actions may have changed.
      const ethType = flow.ethType;
      const ipProto = flow.ipProto;
      const tci = flow.vlanTci;
      const depth = check.vlanDepth;
      checkActions(ins.actions);
      flow.ethType = ethType;
      flow.ipProto = ipProto;
      flow.vlanTci = tci;
      check.vlanDepth = depth;
      return;
    }
    case "goto_table":
      if (ins.tableId <= tableId) {
        throw new OfpError(
          "OFPBIC_BAD_TABLE_ID",
          `goto_table ${ins.tableId} from table ${tableId}`,
        );
      }
      return;
    case "clear_actions":
    case "write_metadata":
    case "experimenter":
      return;
  }
}

function inconsistent(): void {
  check.inconsistent = true;
}

function checkActions(actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) checkAction(actions[i]!);
}

function requireSrc(sf: SubField, s: FlowState = flow): void {
  requireField(sf.field, s);
}

/** `mf_check_src`/`mf_check_dst`: the field's prerequisites hold in `s`. */
function requireField(f: OxmField, s: FlowState = flow): void {
  if (f.prereq !== "none" && !prereqSatisfied(f.prereq, s)) {
    throw new OfpError("OFPBAC_MATCH_INCONSISTENT", `${f.name} lacks its prerequisites`);
  }
}

function checkAction(a: Action): void {
  switch (a.type) {
    case "set_field":
    case "reg_load2": {
      const f = a.entry.field;
      if (f === undefined) return;
      requireField(f);
      if (f.name === "vlan_vid" && (flow.vlanTci & VLAN_CFI) === 0) {
        throw new OfpError("OFPBAC_MATCH_INCONSISTENT", "set_field vlan_vid without a VLAN tag");
      }
      if (f.name === "vlan_tci") setVlanTci((a.entry.value[0]! << 8) | a.entry.value[1]!);
      return;
    }
    case "reg_load":
      requireField(a.dst.field);
      if (a.dst.field.name === "vlan_vid" && (flow.vlanTci & VLAN_CFI) === 0) {
        throw new OfpError("OFPBAC_MATCH_INCONSISTENT", "load to vlan_vid without a VLAN tag");
      }
      if (a.dst.field.name === "vlan_tci") {
        const shift = BigInt(a.dst.ofs);
        const mask = ((1n << BigInt(a.dst.nBits)) - 1n) << shift;
        const tci = (BigInt(flow.vlanTci) & ~mask) | ((a.value << shift) & mask);
        setVlanTci(Number(tci & 0xffffn));
      }
      return;
    case "reg_move":
      requireSrc(a.src);
      requireSrc(a.dst);
      return;
    case "output_reg":
      requireSrc(a.src);
      return;
    case "pop_vlan":
      if ((flow.vlanTci & VLAN_CFI) === 0) inconsistent();
      check.vlanDepth = Math.max(0, check.vlanDepth - 1);
      flow.vlanTci = check.vlanDepth > 0 ? VLAN_CFI : 0;
      return;
    case "push_vlan":
      if (check.vlanDepth >= MAX_VLAN_HEADERS) {
        throw new OfpError("OFPBAC_BAD_TAG", "more than two VLAN headers");
      }
      check.vlanDepth++;
      flow.vlanTci |= VLAN_CFI;
      return;
    case "set_nw_ttl":
    case "dec_nw_ttl":
    case "dec_ttl_cnt_ids":
      if (!isIpAny(flow)) inconsistent();
      return;
    case "set_mpls_ttl":
    case "dec_mpls_ttl":
      if (!isMpls(flow)) inconsistent();
      return;
    case "push_mpls":
      flow.ethType = a.ethertype;
      return;
    case "pop_mpls":
      if (!isMpls(flow)) inconsistent();
      flow.ethType = a.ethertype;
      return;
    case "fin_timeout":
      if (flow.ipProto !== IP_PROTO_TCP) inconsistent();
      return;
    case "ct":
      if (
        !isIpAny(flow) ||
        ((flow.ctState & CS_INVALID) !== 0 && (a.flags & NX_CT_COMMIT) !== 0) ||
        (a.alg === ALG_FTP && flow.ipProto !== IP_PROTO_TCP) ||
        (a.alg === ALG_TFTP && flow.ipProto !== IP_PROTO_UDP)
      ) {
        throw new OfpError("OFPBAC_MATCH_INCONSISTENT", "ct needs an IP match");
      }
      // check_CT returns after the zone source check without looking inside.
      if (a.zoneSrc !== undefined) {
        requireSrc(a.zoneSrc);
        return;
      }
      checkActions(a.actions);
      return;
    case "nat": {
      const v4 = a.ipMin !== undefined && a.ipMin.length === 4;
      const v6 = a.ipMin !== undefined && a.ipMin.length === 16;
      if (
        !isIpAny(flow) ||
        (v4 && flow.ethType !== ETH_TYPE_IPV4) ||
        (v6 && flow.ethType !== ETH_TYPE_IPV6)
      ) {
        throw new OfpError("OFPBAC_MATCH_INCONSISTENT", "nat needs a matching IP version");
      }
      return;
    }
    case "learn":
      checkLearn(a);
      return;
    default:
      return;
  }
}

function setVlanTci(tci: number): void {
  flow.vlanTci = tci;
  if ((tci & VLAN_CFI) !== 0) check.vlanDepth = Math.max(1, check.vlanDepth);
  else check.vlanDepth = 0;
}

/** `learn_check`: sources against the flow, destinations against the learned match. */
function checkLearn(a: Extract<Action, { type: "learn" }>): void {
  resetFlowState(learned);
  for (const spec of a.specs) {
    if (spec.src.kind === "field") requireSrc(spec.src.field);
    const dst = spec.dstField;
    if (dst === undefined) continue;
    requireSrc(dst, learned);
    if (spec.dst === "match" && spec.src.kind === "immediate") {
      noteImmediate(dst, spec.src.value);
    }
  }
}

/** `mf_write_subfield_value` into the learned match, for the fields prerequisites read. */
function noteImmediate(dst: SubField, imm: Uint8Array): void {
  const f = dst.field;
  if (f.size > 4) return;
  let v = 0;
  for (let i = 0; i < imm.length; i++) v = v * 256 + imm[i]!;
  const bits = dst.nBits >= 32 ? 0xffffffff : (1 << dst.nBits) - 1;
  const shifted = ((v & bits) << dst.ofs) >>> 0;
  const mask = (bits << dst.ofs) >>> 0;
  const merge = (cur: number): number => ((cur & ~mask) | shifted) >>> 0;
  switch (f.logical) {
    case "eth_type":
      learned.ethType = merge(learned.ethType);
      break;
    case "nw_proto":
      learned.ipProto = merge(learned.ipProto);
      break;
    case "vlan_vid":
    case "vlan_tci":
      learned.vlanTci = merge(learned.vlanTci);
      break;
    case "icmp_type":
    case "icmpv6_type":
      learned.tpSrc = merge(learned.tpSrc);
      break;
    case "icmp_code":
    case "icmpv6_code":
      learned.tpDst = merge(learned.tpDst);
      break;
    case "in_port":
      learned.inPort = true;
      break;
  }
}

/** Every check above, in OVS's order, for a FLOW_MOD built or received some other way. */
export function validateFlowMod(fm: FlowModFields): void {
  checkFlowModHeader(fm.tableId, fm.command, fm.outPort, fm.match);
  checkFlowModFlags(fm.flags);
  checkFlowModConsistency(fm.match, fm.instructions, fm.tableId);
}
