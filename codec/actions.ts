/**
 * OpenFlow 1.3 action lists: the {@link Action} union, decode and encode.
 *
 * Standard OF1.3 actions (§7.2.5) plus the Nicira extensions a Neutron/OVS
 * controller needs (experimenter 0x00002320; sub-codecs in `nx/`). Anything
 * else with type 0xffff — another vendor, or a Nicira/ONF subtype we do not
 * model — is kept as an opaque `experimenter` action and re-encoded byte for
 * byte; `rejectUnknownExperimenter` makes decode refuse them as OVS does
 * (OFPBAC_BAD_VENDOR / OFPBAC_BAD_VENDOR_TYPE).
 *
 * Length and error rules follow OVS `ofpact_pull_raw` / `ofpact_decode_raw`
 * (`lib/ofp-actions.c`): an action shorter than 8 bytes, longer than what is
 * left, outside its type's [min, max] length, or not a multiple of 8 is
 * OFPBAC_BAD_LEN; an unknown standard type is OFPBAC_BAD_TYPE (checked before
 * the length, as OVS does).
 *
 * Deviations (documented choices):
 * - The OF1.1/1.2 "set-field-like" actions (types 1–10, 13–15) are not OF1.3;
 *   OVS 3.1 still accepts them with a deprecation log. We reject them with
 *   OFPBAC_BAD_TYPE.
 * - NXAST subtypes valid only in OF1.0 (e.g. 18 DEC_TTL, which OF1.3 spells
 *   OFPAT_DEC_NW_TTL) are unknown to OVS in OF1.3; we keep them opaque.
 * - Nesting depth and total action count are capped (reliability.md §1.4):
 *   over the cap → OFPBAC_TOO_MANY.
 * - A few semantic checks OVS runs after decoding (`ofpacts_verify_nested`)
 *   are done here: only NAT and set_field/reg_load of ct_mark/ct_label inside
 *   `ct` (else OFPBAC_BAD_ARGUMENT); NAT or ct_mark/ct_label writes outside
 *   `ct` → OFPBAC_BAD_SET_ARGUMENT.
 */
import { getU16, getU32, getU64 } from "./bytes.js";
import { OfpError, NX_VENDOR_ID, ONF_VENDOR_ID } from "./errors.js";
import { OXM_CLASS, isValueValid, encodeOxmTlv, type OxmEntry, type UnknownOxm } from "./oxm.js";
import { isValidOutputPort } from "./ports.js";
import type { Reader } from "./reader.js";
import { putU16, putU32, type Writer } from "./writer.js";
import {
  NXAST,
  NX_MIN_ACTION_SIZE,
  OVS_NX_SUBTYPES_OF13,
  OVS_ONF_SUBTYPES_OF13,
  beginNx,
} from "./nx/constants.js";
import type { SubField } from "./nx/subfield.js";
import { decodeActionOxm } from "./nx/action-oxm.js";
import * as nxSimple from "./nx/simple.js";
import * as nxReg from "./nx/reg.js";
import * as nxLearn from "./nx/learn.js";
import * as nxCt from "./nx/ct.js";
import * as nxController from "./nx/controller.js";

export type { SubField } from "./nx/subfield.js";
export type { LearnSpec, LearnAction } from "./nx/learn.js";
export type { CtAction, NatAction } from "./nx/ct.js";
export type { Controller2Action } from "./nx/controller.js";

/** OF1.3 action types (`ofp_action_type`). */
export const OFPAT = {
  OUTPUT: 0,
  COPY_TTL_OUT: 11,
  COPY_TTL_IN: 12,
  SET_MPLS_TTL: 15,
  DEC_MPLS_TTL: 16,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  PUSH_MPLS: 19,
  POP_MPLS: 20,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  PUSH_PBB: 26,
  POP_PBB: 27,
  EXPERIMENTER: 0xffff,
} as const;

/** Ethertypes push_vlan / push_mpls accept (OVS `decode_OFPAT_RAW11_PUSH_VLAN`, `_PUSH_MPLS`). */
const ETH_TYPE_VLAN_8021Q = 0x8100;
const ETH_TYPE_VLAN_8021AD = 0x88a8;
const ETH_TYPE_MPLS = 0x8847;
const ETH_TYPE_MPLS_MCAST = 0x8848;

/** type, len, experimenter, 16-bit exp_type: where an ONF action's subtype ends. */
const ONF_ACTION_HEADER_SIZE = 10;

/** Sizes of the fixed OF1.3 structures. */
const OFP_ACTION_HEADER_SIZE = 8;
const OFP_ACTION_OUTPUT_SIZE = 16;

/** Default caps (reliability.md §1.4: "Cap action-list nesting … and total actions"). */
export const ACTION_LIMITS = { maxDepth: 8, maxActions: 4096 } as const;

export type Action =
  // --- OF1.3 standard ---
  | { readonly type: "output"; readonly port: number; readonly maxLen: number }
  | { readonly type: "copy_ttl_out" }
  | { readonly type: "copy_ttl_in" }
  | { readonly type: "set_mpls_ttl"; readonly ttl: number }
  | { readonly type: "dec_mpls_ttl" }
  | { readonly type: "push_vlan"; readonly ethertype: number }
  | { readonly type: "pop_vlan" }
  | { readonly type: "push_mpls"; readonly ethertype: number }
  | { readonly type: "pop_mpls"; readonly ethertype: number }
  | { readonly type: "set_queue"; readonly queueId: number }
  | { readonly type: "group"; readonly groupId: number }
  | { readonly type: "set_nw_ttl"; readonly ttl: number }
  | { readonly type: "dec_nw_ttl" }
  | { readonly type: "set_field"; readonly entry: OxmEntry }
  /**
   * A set_field whose OXM the registry does not know (e.g. Ryu's pre-standard
   * ONF pbb_uca), kept by structural decode (`strict: false`) so it re-encodes
   * byte for byte. OVS refuses it (OFPBAC_BAD_SET_LEN), and so does the
   * checking decoder.
   */
  | { readonly type: "set_field"; readonly entry: UnknownOxm }
  | { readonly type: "push_pbb"; readonly ethertype: number }
  | { readonly type: "pop_pbb" }
  // --- Nicira extensions ---
  /**
   * resubmit: `legacy` = NXAST_RESUBMIT (subtype 1, in_port only); otherwise
   * NXAST_RESUBMIT_TABLE (14), or RESUBMIT_TABLE_CT (44) when `ct`. OVS 3.1
   * writes 14 for every `resubmit` in OF1.3. `table` 255 = "this table",
   * `inPort` 0xfff8 = "the packet's in_port" (16-bit OF1.0 numbering).
   */
  | {
      readonly type: "resubmit";
      readonly inPort: number;
      readonly table: number;
      readonly ct: boolean;
      readonly legacy?: boolean;
    }
  | { readonly type: "set_tunnel"; readonly tunId: bigint; readonly wide: boolean }
  | { readonly type: "pop_queue" }
  | { readonly type: "reg_move"; readonly src: SubField; readonly dst: SubField }
  /** NXAST_REG_LOAD: `value` (≤ 64 bits) into `dst`. */
  | { readonly type: "reg_load"; readonly dst: SubField; readonly value: bigint }
  /** NXAST_REG_LOAD2: an OXM TLV, optionally masked. */
  | { readonly type: "reg_load2"; readonly entry: OxmEntry }
  /** NXAST_NOTE: the bytes after the subtype, including trailing pad (≥ 6 bytes). */
  | { readonly type: "note"; readonly data: Uint8Array }
  /** NXAST_OUTPUT_REG (15), or OUTPUT_REG2 (32) when `wide`. */
  | {
      readonly type: "output_reg";
      readonly src: SubField;
      readonly maxLen: number;
      readonly wide: boolean;
    }
  | nxLearn.LearnAction
  | { readonly type: "exit" }
  | { readonly type: "fin_timeout"; readonly idleTimeout: number; readonly hardTimeout: number }
  | {
      readonly type: "controller";
      readonly maxLen: number;
      readonly controllerId: number;
      readonly reason: number;
    }
  | nxController.Controller2Action
  | { readonly type: "dec_ttl_cnt_ids"; readonly ids: readonly number[] }
  /** `clause` is 0-based as on the wire (ovs-ofctl prints clause+1: `conjunction(id,k/n)`). */
  | {
      readonly type: "conjunction";
      readonly id: number;
      readonly clause: number;
      readonly nClauses: number;
    }
  | nxCt.CtAction
  | nxCt.NatAction
  | { readonly type: "ct_clear" }
  // --- anything else with type 0xffff, kept opaque ---
  /** `data` = the bytes after the 4-byte experimenter id (for Nicira/ONF: subtype onward). */
  | { readonly type: "experimenter"; readonly experimenter: number; readonly data: Uint8Array };

export type ActionType = Action["type"];

export interface DecodeActionsOptions {
  /**
   * `true`: everything OVS checks when it decodes actions, including refusing
   * experimenter actions we would keep opaque (OFPBAC_BAD_VENDOR /
   * OFPBAC_BAD_VENDOR_TYPE). `false`: structural decode, layout only: values
   * are taken as sent (output ports, set_field values and unknown OXMs, ct
   * zone widths, nesting rules), and a Nicira action whose body does not
   * parse is kept opaque; the result re-encodes byte for byte. Default
   * (undefined): OVS's checks, but unknown experimenter actions kept opaque
   * unless `rejectUnknownExperimenter`.
   */
  readonly strict?: boolean;
  /** Refuse experimenter actions we would keep opaque, with OVS's codes. Default false. */
  readonly rejectUnknownExperimenter?: boolean;
  /** Nesting cap (ct inside ct …). Default {@link ACTION_LIMITS}.maxDepth. */
  readonly maxDepth?: number;
  /** Cap on actions decoded in one call, nested ones included. */
  readonly maxActions?: number;
}

/** Per-call decode state, shared with nested lists (ct). */
export interface ActionDecodeContext {
  /** Refuse unknown experimenter actions (OVS). */
  readonly reject: boolean;
  /** OVS's semantic checks (false: structural decode). */
  readonly checks: boolean;
  readonly maxDepth: number;
  readonly maxActions: number;
  count: number;
}

/** "Outside any ct" vs "inside ct" for OVS's nesting rules. */
export type ActionNesting = "top" | "ct";

/**
 * Decodes the action list that fills `r` (bounded to the list; OVS
 * `ofpacts_decode`). Throws OfpError only.
 */
export function decodeActions(r: Reader, options: DecodeActionsOptions = {}): Action[] {
  const ctx = actionContext(options);
  const list = decodeActionRange(r.buf, r.pos, r.end, ctx, 0, "top");
  r.pos = r.end;
  return list;
}

/** The per-call decode state for `options` (shared by instructions.ts). */
export function actionContext(options: DecodeActionsOptions): ActionDecodeContext {
  const reject = options.strict === true || (options.rejectUnknownExperimenter ?? false);
  const checks = options.strict !== false;
  if (options.maxDepth === undefined && options.maxActions === undefined) {
    // Default limits: one shared context per mode (decode is synchronous and
    // a context lives for one top-level call), so the hot path allocates none.
    const shared = !checks ? CTX_STRUCTURAL : reject ? CTX_STRICT : CTX_DEFAULT;
    shared.count = 0;
    return shared;
  }
  return {
    reject,
    checks,
    maxDepth: options.maxDepth ?? ACTION_LIMITS.maxDepth,
    maxActions: options.maxActions ?? ACTION_LIMITS.maxActions,
    count: 0,
  };
}

function sharedContext(reject: boolean, checks: boolean): ActionDecodeContext {
  return {
    reject,
    checks,
    maxDepth: ACTION_LIMITS.maxDepth,
    maxActions: ACTION_LIMITS.maxActions,
    count: 0,
  };
}
const CTX_STRICT = sharedContext(true, true);
const CTX_DEFAULT = sharedContext(false, true);
const CTX_STRUCTURAL = sharedContext(false, false);

/** Decodes actions in `[start, end)` of `buf`; used for nested lists. */
export function decodeActionRange(
  buf: Uint8Array,
  start: number,
  end: number,
  ctx: ActionDecodeContext,
  depth: number,
  nesting: ActionNesting,
): Action[] {
  if (depth > ctx.maxDepth) {
    throw new OfpError("OFPBAC_TOO_MANY", `actions nested deeper than ${ctx.maxDepth}`, {
      offset: start,
    });
  }
  // Sized up front (a pass over the lengths is cheaper than growing an array).
  const out: Action[] = new Array<Action>(countActions(buf, start, end));
  let n = 0;
  let at = start;
  while (at < end) {
    if (++ctx.count > ctx.maxActions) {
      throw new OfpError("OFPBAC_TOO_MANY", `more than ${ctx.maxActions} actions`, {
        offset: at,
      });
    }
    const left = end - at;
    if (left < OFP_ACTION_HEADER_SIZE) {
      throw new OfpError("OFPBAC_BAD_LEN", `${left} bytes left, less than an action header`, {
        offset: at,
      });
    }
    const type = getU16(buf, at);
    const len = getU16(buf, at + 2);
    const action =
      type === OFPAT.EXPERIMENTER
        ? decodeExperimenter(buf, at, len, left, ctx, depth)
        : decodeStandard(buf, at, type, len, left, ctx.checks);
    if (ctx.checks) checkNesting(action, nesting, at);
    out[n++] = action;
    at += len;
  }
  return out;
}

/** How many actions `[start, end)` holds, judging by their lengths (the decode loop checks them). */
function countActions(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let at = start; end - at >= OFP_ACTION_HEADER_SIZE; n++) {
    const len = getU16(buf, at + 2);
    if (len < OFP_ACTION_HEADER_SIZE) return n + 1;
    at += len;
  }
  return n;
}

/** Length checks common to every action (after the type is known to be valid). */
function checkLength(at: number, len: number, left: number, min: number, max: number): void {
  if (len > left) {
    throw new OfpError("OFPBAC_BAD_LEN", `action length ${len} exceeds the ${left} bytes left`, {
      offset: at,
    });
  }
  if (len < min || len > max) {
    throw new OfpError("OFPBAC_BAD_LEN", `action length ${len} not in [${min}, ${max}]`, {
      offset: at,
    });
  }
  if (len % 8 !== 0) {
    throw new OfpError("OFPBAC_BAD_LEN", `action length ${len} is not a multiple of 8`, {
      offset: at,
    });
  }
}

function decodeStandard(
  buf: Uint8Array,
  at: number,
  type: number,
  len: number,
  left: number,
  checks: boolean,
): Action {
  const H = OFP_ACTION_HEADER_SIZE;
  switch (type) {
    case OFPAT.OUTPUT: {
      checkLength(at, len, left, OFP_ACTION_OUTPUT_SIZE, OFP_ACTION_OUTPUT_SIZE);
      const port = getU32(buf, at + 4);
      // ofputil_port_from_ofp11 + ofpact_check_output_port: ANY and the 0xff00.. gap are refused.
      if (checks && !isValidOutputPort(port)) {
        throw new OfpError("OFPBAC_BAD_OUT_PORT", `output to port 0x${port.toString(16)}`, {
          offset: at,
        });
      }
      return { type: "output", port, maxLen: getU16(buf, at + 8) };
    }
    case OFPAT.COPY_TTL_OUT:
      checkLength(at, len, left, H, H);
      return { type: "copy_ttl_out" };
    case OFPAT.COPY_TTL_IN:
      checkLength(at, len, left, H, H);
      return { type: "copy_ttl_in" };
    case OFPAT.SET_MPLS_TTL:
      checkLength(at, len, left, H, H);
      return { type: "set_mpls_ttl", ttl: buf[at + 4]! };
    case OFPAT.DEC_MPLS_TTL:
      checkLength(at, len, left, H, H);
      return { type: "dec_mpls_ttl" };
    case OFPAT.PUSH_VLAN: {
      checkLength(at, len, left, H, H);
      const ethertype = getU16(buf, at + 4);
      // decode_OFPAT_RAW11_PUSH_VLAN: only 802.1Q and 802.1ad tags.
      if (checks && ethertype !== ETH_TYPE_VLAN_8021Q && ethertype !== ETH_TYPE_VLAN_8021AD) {
        throw new OfpError(
          "OFPBAC_BAD_ARGUMENT",
          `push_vlan of ethertype 0x${ethertype.toString(16)}`,
          {
            offset: at,
          },
        );
      }
      return { type: "push_vlan", ethertype };
    }
    case OFPAT.POP_VLAN:
      checkLength(at, len, left, H, H);
      return { type: "pop_vlan" };
    case OFPAT.PUSH_MPLS: {
      checkLength(at, len, left, H, H);
      const ethertype = getU16(buf, at + 4);
      // decode_OFPAT_RAW_PUSH_MPLS: only the MPLS unicast/multicast ethertypes.
      if (checks && ethertype !== ETH_TYPE_MPLS && ethertype !== ETH_TYPE_MPLS_MCAST) {
        throw new OfpError(
          "OFPBAC_BAD_ARGUMENT",
          `push_mpls of ethertype 0x${ethertype.toString(16)}`,
          {
            offset: at,
          },
        );
      }
      return { type: "push_mpls", ethertype };
    }
    case OFPAT.POP_MPLS:
      checkLength(at, len, left, H, H);
      return { type: "pop_mpls", ethertype: getU16(buf, at + 4) };
    case OFPAT.SET_QUEUE:
      checkLength(at, len, left, H, H);
      return { type: "set_queue", queueId: getU32(buf, at + 4) };
    case OFPAT.GROUP:
      checkLength(at, len, left, H, H);
      return { type: "group", groupId: getU32(buf, at + 4) };
    case OFPAT.SET_NW_TTL:
      checkLength(at, len, left, H, H);
      return { type: "set_nw_ttl", ttl: buf[at + 4]! };
    case OFPAT.DEC_NW_TTL:
      checkLength(at, len, left, H, H);
      return { type: "dec_nw_ttl" };
    case OFPAT.SET_FIELD:
      checkLength(at, len, left, H, 0xffff);
      return checks
        ? { type: "set_field", entry: decodeSetField(buf, at, len) }
        : decodeSetFieldStructural(buf, at, len);
    case OFPAT.PUSH_PBB:
      checkLength(at, len, left, H, H);
      return { type: "push_pbb", ethertype: getU16(buf, at + 4) };
    case OFPAT.POP_PBB:
      checkLength(at, len, left, H, H);
      return { type: "pop_pbb" };
    default:
      throw new OfpError("OFPBAC_BAD_TYPE", `unknown action type ${type}`, { offset: at });
  }
}

/** set_field as sent: known OXMs without value checks, unknown ones kept as UnknownOxm. */
function decodeSetFieldStructural(buf: Uint8Array, at: number, len: number): Action {
  const entry = decodeActionOxm(buf, at + 4, at + len, false, false);
  return entry.field === undefined
    ? { type: "set_field", entry }
    : { type: "set_field", entry: entry as OxmEntry };
}

function decodeSetField(buf: Uint8Array, at: number, len: number): OxmEntry {
  const entry = decodeActionOxm(buf, at + 4, at + len, false, true) as OxmEntry;
  const f = entry.field;
  // OF1.3 §7.2.5: OXM_OF_IN_PORT may not be set. OVS also requires a valid value,
  // and for vlan_vid the OFPVID_PRESENT bit.
  if (f.oxmClass === OXM_CLASS.OPENFLOW_BASIC && f.oxmField === 0) {
    throw new OfpError("OFPBAC_BAD_SET_ARGUMENT", "set_field of in_port", { offset: at });
  }
  if (!isValueValid(f, entry.value) || (f.name === "vlan_vid" && (entry.value[0]! & 0x10) === 0)) {
    throw new OfpError("OFPBAC_BAD_SET_ARGUMENT", `invalid value for set_field ${f.name}`, {
      offset: at,
    });
  }
  return entry;
}

function decodeExperimenter(
  buf: Uint8Array,
  at: number,
  len: number,
  left: number,
  ctx: ActionDecodeContext,
  depth: number,
): Action {
  const experimenter = getU32(buf, at + 4);
  if (experimenter === NX_VENDOR_ID) {
    if (left < NX_MIN_ACTION_SIZE) {
      throw new OfpError("OFPBAC_BAD_LEN", "Nicira action shorter than 16 bytes", { offset: at });
    }
    const subtype = getU16(buf, at + 8);
    if (!ctx.checks) {
      // Structural: a Nicira action whose own length is sound but whose body
      // does not parse (a field OVS does not know, a non-zero pad, ...) stays
      // opaque, so what a switch sent still re-encodes byte for byte.
      checkLength(at, len, left, NX_MIN_ACTION_SIZE, 0xffff);
      try {
        const known = nxDecode(buf, at, len, left, subtype, ctx, depth);
        if (known !== undefined) return known;
      } catch (e) {
        if (!(e instanceof OfpError)) throw e;
      }
      return { type: "experimenter", experimenter, data: buf.subarray(at + 8, at + len) };
    }
    const known = nxDecode(buf, at, len, left, subtype, ctx, depth);
    if (known !== undefined) return known;
    if (ctx.reject && !OVS_NX_SUBTYPES_OF13.has(subtype)) {
      throw new OfpError("OFPBAC_BAD_VENDOR_TYPE", `unknown Nicira action subtype ${subtype}`, {
        offset: at,
      });
    }
    checkLength(at, len, left, NX_MIN_ACTION_SIZE, 0xffff);
  } else {
    if (ctx.reject) {
      const onf = experimenter === ONF_VENDOR_ID;
      const known =
        onf && len >= ONF_ACTION_HEADER_SIZE && OVS_ONF_SUBTYPES_OF13.has(getU16(buf, at + 8));
      if (!known) {
        throw new OfpError(
          onf ? "OFPBAC_BAD_VENDOR_TYPE" : "OFPBAC_BAD_VENDOR",
          `experimenter action 0x${experimenter.toString(16)}`,
          { offset: at },
        );
      }
    }
    checkLength(at, len, left, OFP_ACTION_HEADER_SIZE, 0xffff);
  }
  return { type: "experimenter", experimenter, data: buf.subarray(at + 8, at + len) };
}

/** Nicira dispatch; undefined for subtypes we keep opaque. */
function nxDecode(
  buf: Uint8Array,
  at: number,
  len: number,
  left: number,
  subtype: number,
  ctx: ActionDecodeContext,
  depth: number,
): Action | undefined {
  const N = NX_MIN_ACTION_SIZE;
  switch (subtype) {
    case NXAST.RESUBMIT:
    case NXAST.RESUBMIT_TABLE:
    case NXAST.RESUBMIT_TABLE_CT:
      checkLength(at, len, left, N, N);
      return nxSimple.decodeResubmit(buf, at, subtype);
    case NXAST.SET_TUNNEL:
      checkLength(at, len, left, N, N);
      return { type: "set_tunnel", tunId: BigInt(getU32(buf, at + 12)), wide: false };
    case NXAST.SET_TUNNEL64:
      checkLength(at, len, left, 24, 24);
      return { type: "set_tunnel", tunId: getU64(buf, at + 16), wide: true };
    case NXAST.POP_QUEUE:
      checkLength(at, len, left, N, N);
      return { type: "pop_queue" };
    case NXAST.REG_MOVE:
      checkLength(at, len, left, N, 0xffff);
      return nxReg.decodeRegMove(buf, at, len);
    case NXAST.REG_LOAD:
      checkLength(at, len, left, 24, 24);
      return nxReg.decodeRegLoad(buf, at);
    case NXAST.REG_LOAD2:
      checkLength(at, len, left, N, 0xffff);
      return { type: "reg_load2", entry: nxReg.decodeRegLoad2(buf, at, len) };
    case NXAST.NOTE:
      checkLength(at, len, left, N, 0xffff);
      return { type: "note", data: buf.subarray(at + 10, at + len) };
    case NXAST.OUTPUT_REG:
      checkLength(at, len, left, 24, 24);
      return nxSimple.decodeOutputReg(buf, at);
    case NXAST.OUTPUT_REG2:
      checkLength(at, len, left, 24, 0xffff);
      return nxSimple.decodeOutputReg2(buf, at, len);
    case NXAST.LEARN:
      checkLength(at, len, left, 32, 0xffff);
      return nxLearn.decodeLearn(buf, at, len);
    case NXAST.EXIT:
      checkLength(at, len, left, N, N);
      return { type: "exit" };
    case NXAST.FIN_TIMEOUT:
      checkLength(at, len, left, N, N);
      return {
        type: "fin_timeout",
        idleTimeout: getU16(buf, at + 10),
        hardTimeout: getU16(buf, at + 12),
      };
    case NXAST.CONTROLLER:
      checkLength(at, len, left, N, N);
      return {
        type: "controller",
        maxLen: getU16(buf, at + 10),
        controllerId: getU16(buf, at + 12),
        reason: buf[at + 14]!,
      };
    case NXAST.CONTROLLER2:
      checkLength(at, len, left, N, 0xffff);
      return nxController.decodeController2(buf, at, len);
    case NXAST.DEC_TTL_CNT_IDS:
      checkLength(at, len, left, N, 0xffff);
      return nxSimple.decodeDecTtlCntIds(buf, at, len);
    case NXAST.CONJUNCTION:
      checkLength(at, len, left, N, N);
      return nxSimple.decodeConjunction(buf, at);
    case NXAST.CT:
      checkLength(at, len, left, 24, 0xffff);
      return nxCt.decodeCt(buf, at, len, ctx, depth, decodeActionRange);
    case NXAST.NAT:
      checkLength(at, len, left, N, 0xffff);
      return nxCt.decodeNat(buf, at, len);
    case NXAST.CT_CLEAR:
      checkLength(at, len, left, N, N);
      return { type: "ct_clear" };
    default:
      return undefined;
  }
}

/** The destination field an action writes, for OVS's ct nesting rules. */
function writtenField(a: Action): string | undefined {
  switch (a.type) {
    case "set_field":
    case "reg_load2":
      return a.entry.field?.name;
    case "reg_load":
      return a.dst.field.name;
    case "reg_move":
      return a.dst.field.name;
    default:
      return undefined;
  }
}

function checkNesting(a: Action, nesting: ActionNesting, at: number): void {
  const field = writtenField(a);
  const ctField = field === "ct_mark" || field === "ct_label";
  if (nesting === "ct") {
    if (a.type === "nat") return;
    if (field === undefined || !ctField) {
      throw new OfpError("OFPBAC_BAD_ARGUMENT", `${a.type} is not allowed inside ct`, {
        offset: at,
      });
    }
    return;
  }
  if (a.type === "nat") {
    throw new OfpError("OFPBAC_BAD_SET_ARGUMENT", "nat outside ct", { offset: at });
  }
  if (ctField) {
    throw new OfpError("OFPBAC_BAD_SET_ARGUMENT", `${field} may only be set inside ct`, {
      offset: at,
    });
  }
}

// ---------------------------------------------------------------------------
// Encode
// ---------------------------------------------------------------------------

/** Encodes an action list; every action is padded to 8 with its length covering the pad. */
export function encodeActions(w: Writer, actions: readonly Action[]): void {
  for (let i = 0; i < actions.length; i++) encodeAction(w, actions[i]!);
}

function simple(w: Writer, type: number): void {
  withEthertype(w, type, 0);
}

/** An 8-byte action with a 16-bit argument then 2 bytes of pad (0 for none). */
function withEthertype(w: Writer, type: number, ethertype: number): void {
  const b = w.reserve(OFP_ACTION_HEADER_SIZE);
  const at = w.pos;
  putU16(b, at, type);
  putU16(b, at + 2, OFP_ACTION_HEADER_SIZE);
  putU16(b, at + 4, ethertype);
  b[at + 6] = 0;
  b[at + 7] = 0;
  w.pos = at + OFP_ACTION_HEADER_SIZE;
}

function withU32(w: Writer, type: number, value: number): void {
  w.u16(type).u16(OFP_ACTION_HEADER_SIZE).u32(value);
}

function withU8(w: Writer, type: number, value: number): void {
  w.u16(type).u16(OFP_ACTION_HEADER_SIZE).u8(value).zeros(3);
}

export function encodeAction(w: Writer, a: Action): void {
  // The actions compiled flows use most (output, set_field, reg_move,
  // push/pop_vlan) come first: the switch tests the cases in order.
  switch (a.type) {
    case "output": {
      const b = w.reserve(OFP_ACTION_OUTPUT_SIZE);
      const at = w.pos;
      putU16(b, at, OFPAT.OUTPUT);
      putU16(b, at + 2, OFP_ACTION_OUTPUT_SIZE);
      putU32(b, at + 4, a.port);
      putU16(b, at + 8, a.maxLen);
      for (let i = at + 10; i < at + OFP_ACTION_OUTPUT_SIZE; i++) b[i] = 0;
      w.pos = at + OFP_ACTION_OUTPUT_SIZE;
      return;
    }
    case "set_field": {
      const tok = w.pos;
      w.u16(OFPAT.SET_FIELD).u16(0);
      if (a.entry.field === undefined) {
        encodeOxmTlv(w, a.entry);
      } else {
        if (a.entry.mask !== undefined) {
          throw new RangeError("OF1.3 set_field cannot carry a mask; use reg_load/reg_load2");
        }
        writeEntry(w, a.entry);
      }
      w.endLengthAt(tok, 2, "included");
      return;
    }
    case "reg_move":
      return nxReg.encodeRegMove(w, a);
    case "push_vlan":
      return withEthertype(w, OFPAT.PUSH_VLAN, a.ethertype);
    case "pop_vlan":
      return simple(w, OFPAT.POP_VLAN);
    case "copy_ttl_out":
      return simple(w, OFPAT.COPY_TTL_OUT);
    case "copy_ttl_in":
      return simple(w, OFPAT.COPY_TTL_IN);
    case "set_mpls_ttl":
      return withU8(w, OFPAT.SET_MPLS_TTL, a.ttl);
    case "dec_mpls_ttl":
      return simple(w, OFPAT.DEC_MPLS_TTL);
    case "push_mpls":
      return withEthertype(w, OFPAT.PUSH_MPLS, a.ethertype);
    case "pop_mpls":
      return withEthertype(w, OFPAT.POP_MPLS, a.ethertype);
    case "set_queue":
      return withU32(w, OFPAT.SET_QUEUE, a.queueId);
    case "group":
      return withU32(w, OFPAT.GROUP, a.groupId);
    case "set_nw_ttl":
      return withU8(w, OFPAT.SET_NW_TTL, a.ttl);
    case "dec_nw_ttl":
      return simple(w, OFPAT.DEC_NW_TTL);
    case "push_pbb":
      return withEthertype(w, OFPAT.PUSH_PBB, a.ethertype);
    case "pop_pbb":
      return simple(w, OFPAT.POP_PBB);
    case "resubmit":
      return nxSimple.encodeResubmit(w, a);
    case "set_tunnel": {
      const tok = beginNx(w, a.wide ? NXAST.SET_TUNNEL64 : NXAST.SET_TUNNEL);
      if (a.wide) w.zeros(6).u64(a.tunId);
      else w.u16(0).u32(Number(BigInt.asUintN(32, a.tunId)));
      w.endLengthAt(tok, 2, "included");
      return;
    }
    case "pop_queue":
      return nxVoid(w, NXAST.POP_QUEUE);
    case "reg_load":
      return nxReg.encodeRegLoad(w, a);
    case "reg_load2": {
      const tok = beginNx(w, NXAST.REG_LOAD2);
      writeEntry(w, a.entry);
      w.endLengthAt(tok, 2, "included");
      return;
    }
    case "note": {
      const tok = beginNx(w, NXAST.NOTE);
      w.bytes(a.data);
      // struct nx_action_note has at least 6 note bytes.
      if (a.data.length < 6) w.zeros(6 - a.data.length);
      w.endLengthAt(tok, 2, "included");
      return;
    }
    case "output_reg":
      return nxSimple.encodeOutputReg(w, a);
    case "learn":
      return nxLearn.encodeLearn(w, a);
    case "exit":
      return nxVoid(w, NXAST.EXIT);
    case "fin_timeout": {
      const tok = beginNx(w, NXAST.FIN_TIMEOUT);
      w.u16(a.idleTimeout).u16(a.hardTimeout).u16(0);
      w.endLengthAt(tok, 2, "included");
      return;
    }
    case "controller": {
      const tok = beginNx(w, NXAST.CONTROLLER);
      w.u16(a.maxLen).u16(a.controllerId).u8(a.reason).u8(0);
      w.endLengthAt(tok, 2, "included");
      return;
    }
    case "controller2":
      return nxController.encodeController2(w, a);
    case "dec_ttl_cnt_ids":
      return nxSimple.encodeDecTtlCntIds(w, a.ids);
    case "conjunction": {
      const tok = beginNx(w, NXAST.CONJUNCTION);
      w.u8(a.clause).u8(a.nClauses).u32(a.id);
      w.endLengthAt(tok, 2, "included");
      return;
    }
    case "ct":
      return nxCt.encodeCt(w, a, encodeActions);
    case "nat":
      return nxCt.encodeNat(w, a);
    case "ct_clear":
      return nxVoid(w, NXAST.CT_CLEAR);
    case "experimenter": {
      const tok = w.pos;
      w.u16(OFPAT.EXPERIMENTER).u16(0).u32(a.experimenter).bytes(a.data);
      w.endLengthAt(tok, 2, "included");
      return;
    }
    default:
      return assertNever(a);
  }
}

/** A Nicira action with no arguments: 16 bytes, 6 of pad. */
function nxVoid(w: Writer, subtype: number): void {
  const tok = beginNx(w, subtype);
  w.zeros(6);
  w.endLengthAt(tok, 2, "included");
}

/** One OXM TLV (header, experimenter, value[, mask]): oxm.ts writes known fields the same way. */
function writeEntry(w: Writer, e: OxmEntry): void {
  encodeOxmTlv(w, e);
}

function assertNever(x: never): never {
  throw new Error(`unhandled action ${JSON.stringify(x)}`);
}
