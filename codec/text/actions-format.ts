/**
 * Actions and instructions as ovs-ofctl prints them (OVS `ofpacts_format`
 * and the per-action `format_*` functions, lib/ofp-actions.c; `learn_format`,
 * lib/learn.c).
 *
 * OVS prints what it decoded, and its decoder folds OF1.3 instructions into
 * one flat list in a fixed order (meter, apply-actions contents,
 * clear_actions, write_actions(...), write_metadata, goto_table) whatever
 * their wire order; an empty list prints as `drop`.
 */
import type { Action, SubField } from "../actions.js";
import type { Instruction } from "../instructions.js";
import { NX_VENDOR_ID } from "../errors.js";
import { SAMPLE_DIRECTION, viewNxAction, type NxActionView } from "../nx/opaque-view.js";
import { fieldByHeader, type MatchEntry, type OxmEntry, type UnknownOxm } from "../oxm.js";
import {
  bytesToBigint,
  formatIpv4Masked,
  formatIpv6Masked,
  formatMacMasked,
  hexAlt,
  hexBytes,
  ones,
} from "./addr.js";
import { formatFlags, formatFlagsMasked } from "./flags.js";
import { nxmPreferredHeader, type TextField } from "./fields.js";
import { formatSubfield } from "./match-parse.js";
import { textFieldFor } from "./oxm-bridge.js";
import { formatPort16, formatPort32, portFromOf11 } from "./ports.js";

/** The OF1.3 instruction union (codec/instructions.ts). */
export type InstructionLike = Instruction;

/** `OFPR_*` packet-in reasons as OVS names them (`ofputil_packet_in_reason_to_string`). */
export const PACKET_IN_REASONS = [
  "no_match",
  "action",
  "invalid_ttl",
  "action_set",
  "group",
  "packet_out",
] as const;

export function packetInReasonName(reason: number): string {
  return PACKET_IN_REASONS[reason] ?? String(reason);
}

/** `ds_put_hex_with_delimiter(..., ".")`. */
export function hexDotted(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(".");
}

/** The name OVS prints for a field reference in Nicira actions (NXM name preferred). */
export function subfieldName(sf: SubField): string {
  const tf = textFieldFor(sf.field);
  const h = tf === undefined ? undefined : nxmPreferredHeader(tf);
  return h?.name ?? sf.field.nxmName;
}

/** `mf_format_subfield`. */
export function formatSubField(sf: SubField): string {
  return formatSubfield(subfieldName(sf), sf.field.bits, sf.ofs, sf.nBits);
}

/**
 * `mf_format`: a field value (and mask, when not exact) in the field's own
 * syntax: decimal, hex, MAC, IP, port name, flags.
 */
export function formatFieldValue(tf: TextField, value: bigint, mask: bigint | undefined): string {
  const full = ones(tf.bytes * 8);
  if (mask !== undefined && mask === 0n) return "ANY";
  const m = mask === undefined || mask === full ? undefined : mask;
  switch (tf.format) {
    case "port32":
      if (m === undefined) return formatPort32(Number(value));
      break;
    case "port16":
      if (m === undefined) return formatPort16(Number(value));
      break;
    case "ethernet":
      return formatMacMasked(value, m ?? full);
    case "ipv4":
      return formatIpv4Masked(value, m ?? full);
    case "ipv6":
      return formatIpv6Masked(value, m ?? full);
    case "frag": {
      const mk = Number(m ?? 0xffn) & 3;
      const v = Number(value) & mk;
      const names: Record<string, string> = {
        "0/3": "no",
        "1/1": "yes",
        "1/3": "first",
        "3/3": "later",
        "0/2": "not_later",
      };
      return names[`${v}/${mk}`] ?? "<error>";
    }
    case "ct_state":
      return formatFlagsMasked("ct_state", Number(value), Number(m ?? 0xffffffffn), 0xffff);
    case "tcp_flags":
      return formatFlagsMasked("tcp_flags", Number(value), Number((m ?? 0xffffn) & 0xfffn), 0xfff);
    case "tun_flags":
      return formatFlagsMasked("tun_flags", Number(value), Number((m ?? 0xffffn) & 1n), 1);
    case "packet_type":
      return formatPacketType(value, m ?? full);
    case "decimal":
    case "hex":
      break;
  }
  const v = tf.format === "hex" ? hexBytes(value) : value.toString();
  return m === undefined ? v : `${v}/${hexBytes(m)}`;
}

/** `put_u16_masked`: `*` when wild, small numbers in decimal, others in hex. */
function u16Masked(value: number, mask: number): string {
  if (mask === 0) return "*";
  let s = value > 9 ? `0x${value.toString(16)}` : String(value);
  if (mask !== 0xffff) s += `/0x${mask.toString(16)}`;
  return s;
}

/**
 * `format_packet_type_masked` without its `packet_type=` prefix: `(NS,TYPE)`,
 * or `eth` for exactly PT_ETH (the caller prints `eth` alone).
 */
export function formatPacketType(value: bigint, mask: bigint): string {
  const v = Number(value);
  const k = Number(mask);
  if (v === 0 && k === 0xffffffff) return "eth";
  return `(${u16Masked(v >>> 16, k >>> 16)},${u16Masked(v & 0xffff, k & 0xffff)})`;
}

function entryParts(e: OxmEntry): {
  tf: TextField | undefined;
  value: bigint;
  mask: bigint | undefined;
} {
  return {
    tf: textFieldFor(e.field),
    value: bytesToBigint(e.value),
    mask: e.mask === undefined ? undefined : bytesToBigint(e.mask),
  };
}

/**
 * A set_field whose OXM the registry does not know, or knows at another
 * width (kept only by structural decode). OVS refuses such an action
 * (OFPBAC_BAD_SET_TYPE / OFPBAC_BAD_SET_LEN), so it never prints one; this
 * faithful form shows the payload as one hex number and names the header as
 * OVS's `format_nxm_field_name` does: the registry name when the class and
 * field are known, else `CLASS:FIELD` (plus the experimenter id for class
 * 0xffff). `/MASK` splits a payload whose header has the mask bit.
 */
function formatUnknownSetField(e: UnknownOxm): string {
  const known = fieldByHeader(e.header, e.experimenter);
  const cls = e.header >>> 16;
  const field = (e.header >>> 9) & 0x7f;
  let name =
    known?.nxmName ??
    (e.experimenter === undefined
      ? `${cls}:${field}`
      : `${cls}:${field}(0x${e.experimenter.toString(16)})`);
  const hasMask = (e.header & 0x100) !== 0;
  if (hasMask) name += "_W";
  const hex = (b: Uint8Array): string =>
    b.length === 0 ? "0x" : `0x${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}`;
  if (hasMask && e.payload.length % 2 === 0 && e.payload.length > 0) {
    const half = e.payload.length / 2;
    return `set_field:${hex(e.payload.subarray(0, half))}/${hex(e.payload.subarray(half))}->${name}`;
  }
  return `set_field:${hex(e.payload)}->${name}`;
}

/** `set_field:V->name` (OFPAT_SET_FIELD and NXAST_REG_LOAD2). */
function formatSetField(entry: MatchEntry): string {
  if (entry.field === undefined) return formatUnknownSetField(entry);
  const e: OxmEntry = entry;
  const { tf, value, mask } = entryParts(e);
  if (tf === undefined) return `set_field:${hexBytes(value)}->${e.field.name}`;
  return `set_field:${formatFieldValue(tf, value, mask)}->${tf.name}`;
}

/** `format_OUTPUT`: `output:N` for ordinary ports, the reserved name otherwise. */
function formatOutput(port32: number, maxLen: number): string {
  const p = portFromOf11(port32);
  if (p === undefined) return `output:${port32}`;
  if (p < 0xff00) return `output:${p}`;
  const name = formatPort16(p);
  return name === "CONTROLLER" ? `CONTROLLER:${maxLen}` : name;
}

function formatController2(a: Extract<Action, { type: "controller2" }>): string {
  if (
    a.reason === 1 &&
    a.controllerId === 0 &&
    a.userdata === undefined &&
    !a.pause &&
    a.meterId === 0
  ) {
    return `CONTROLLER:${a.maxLen}`;
  }
  const parts: string[] = [];
  if (a.reason !== 1) parts.push(`reason=${packetInReasonName(a.reason)}`);
  if (a.maxLen !== 0xffff) parts.push(`max_len=${a.maxLen}`);
  if (a.controllerId !== 0) parts.push(`id=${a.controllerId}`);
  if (a.userdata !== undefined && a.userdata.length > 0)
    parts.push(`userdata=${hexDotted(a.userdata)}`);
  if (a.pause) parts.push("pause");
  if (a.meterId !== 0) parts.push(`meter_id=${a.meterId}`);
  return `controller(${parts.join(",")})`;
}

function formatResubmit(inPort: number, table: number, ct: boolean): string {
  const IN_PORT16 = 0xfff8;
  if (inPort !== IN_PORT16 && table === 255) return `resubmit:${formatPort16(inPort)}`;
  return `resubmit(${inPort !== IN_PORT16 ? formatPort16(inPort) : ""},${table !== 255 ? table : ""}${ct ? ",ct" : ""})`;
}

/** `learn_format`. */
function formatLearn(a: Extract<Action, { type: "learn" }>): string {
  let s = `learn(table=${a.tableId}`;
  if (a.idleTimeout !== 0) s += `,idle_timeout=${a.idleTimeout}`;
  if (a.hardTimeout !== 0) s += `,hard_timeout=${a.hardTimeout}`;
  if (a.finIdleTimeout !== 0) s += `,fin_idle_timeout=${a.finIdleTimeout}`;
  if (a.finHardTimeout !== 0) s += `,fin_hard_timeout=${a.finHardTimeout}`;
  if (a.priority !== 0x8000) s += `,priority=${a.priority}`;
  if ((a.flags & 1) !== 0) s += ",send_flow_rem";
  if ((a.flags & 2) !== 0) s += ",delete_learned";
  if (a.cookie !== 0n) s += `,cookie=${hexAlt(a.cookie)}`;
  for (const spec of a.specs) {
    s += ",";
    const src = spec.src;
    const dst = spec.dstField;
    if (spec.dst === "match" && dst !== undefined) {
      if (src.kind === "immediate") {
        // The immediate is stored in ceil(n_bits/8) bytes (OVS keeps the low bytes).
        const imm = bytesToBigint(src.value) & ones(Math.ceil(spec.nBits / 8) * 8);
        const tf = textFieldFor(dst.field);
        if (dst.ofs === 0 && dst.nBits === dst.field.bits && tf !== undefined) {
          s += `${tf.name}=${formatFieldValue(tf, imm, undefined)}`;
        } else {
          s += `${formatSubField(dst)}=${hexBytes(imm)}`;
        }
      } else {
        s += formatSubField(dst);
        const sameField =
          textFieldFor(src.field.field) === textFieldFor(dst.field) &&
          src.field.field.logical === dst.field.logical;
        if (!sameField || src.field.ofs !== dst.ofs) s += `=${formatSubField(src.field)}`;
      }
    } else if (spec.dst === "load" && dst !== undefined) {
      if (src.kind === "immediate") {
        const imm = bytesToBigint(src.value) & ones(Math.ceil(spec.nBits / 8) * 8);
        s += `load:${hexBytes(imm)}->${formatSubField(dst)}`;
      } else {
        s += `load:${formatSubField(src.field)}->${formatSubField(dst)}`;
      }
    } else if (spec.dst === "output" && src.kind === "field") {
      s += `output:${formatSubField(src.field)}`;
    }
  }
  return `${s})`;
}

function formatNat(a: Extract<Action, { type: "nat" }>): string {
  const SRC = 1;
  const DST = 2;
  if ((a.flags & (SRC | DST)) === 0) return "nat";
  let s = `nat(${(a.flags & SRC) !== 0 ? "src" : "dst"}`;
  if (a.ipMin !== undefined) {
    const v4 = a.ipMin.length === 4;
    // ipv6_format_addr_bracket: brackets only when a port range follows.
    const bracket = !v4 && a.protoMin !== undefined;
    const fmt = (b: Uint8Array): string =>
      v4
        ? formatIpv4Masked(bytesToBigint(b), ones(32))
        : bracket
          ? `[${formatIpv6Masked(bytesToBigint(b), ones(128))}]`
          : formatIpv6Masked(bytesToBigint(b), ones(128));
    s += `=${fmt(a.ipMin)}`;
    if (a.ipMax !== undefined && bytesToBigint(a.ipMax) !== bytesToBigint(a.ipMin))
      s += `-${fmt(a.ipMax)}`;
    if (a.protoMin !== undefined) {
      s += `:${a.protoMin}`;
      if (a.protoMax !== undefined && a.protoMax !== a.protoMin) s += `-${a.protoMax}`;
    }
  }
  if ((a.flags & 4) !== 0) s += ",persistent";
  if ((a.flags & 8) !== 0) s += ",hash";
  if ((a.flags & 16) !== 0) s += ",random";
  return `${s})`;
}

function formatCt(a: Extract<Action, { type: "ct" }>): string {
  const parts: string[] = [];
  if ((a.flags & 1) !== 0) parts.push("commit");
  if ((a.flags & 2) !== 0) parts.push("force");
  if (a.recircTable !== 0xff) parts.push(`table=${a.recircTable}`);
  if (a.zoneSrc !== undefined) parts.push(`zone=${formatSubField(a.zoneSrc)}`);
  else if (a.zone !== 0) parts.push(`zone=${a.zone}`);
  let rest = a.actions;
  const first = rest[0];
  if (first !== undefined && first.type === "nat") {
    parts.push(formatNat(first));
    rest = rest.slice(1);
  }
  if (rest.length > 0) parts.push(`exec(${formatActionList(rest)})`);
  if (a.alg === 21) parts.push("alg=ftp");
  else if (a.alg === 69) parts.push("alg=tftp");
  else if (a.alg !== 0) parts.push(`alg=${a.alg}`);
  return `ct(${parts.join(",")})`;
}

/** Segments of a partial load, as OVS `next_load_segment` splits a masked set_field. */
function loadSegments(
  value: bigint,
  mask: bigint,
  bits: number,
): { ofs: number; nBits: number; value: bigint }[] {
  const out: { ofs: number; nBits: number; value: bigint }[] = [];
  let i = 0;
  while (i < bits) {
    if (((mask >> BigInt(i)) & 1n) === 0n) {
      i++;
      continue;
    }
    let j = i;
    while (j < bits && j - i < 64 && ((mask >> BigInt(j)) & 1n) === 1n) j++;
    out.push({ ofs: i, nBits: j - i, value: (value >> BigInt(i)) & ones(j - i) });
    i = j;
  }
  return out;
}

/** One action as ovs-ofctl prints it. */
export function formatAction(a: Action): string {
  switch (a.type) {
    case "output":
      return formatOutput(a.port, a.maxLen);
    case "copy_ttl_out":
      return "copy_ttl_out";
    case "copy_ttl_in":
      return "copy_ttl_in";
    case "set_mpls_ttl":
      return `set_mpls_ttl(${a.ttl})`;
    case "dec_mpls_ttl":
      return "dec_mpls_ttl";
    case "push_vlan":
      return `push_vlan:${hexAlt(a.ethertype)}`;
    case "pop_vlan":
      return "pop_vlan";
    case "push_mpls":
      return `push_mpls:0x${a.ethertype.toString(16).padStart(4, "0")}`;
    case "pop_mpls":
      return `pop_mpls:0x${a.ethertype.toString(16).padStart(4, "0")}`;
    case "set_queue":
      return `set_queue:${a.queueId}`;
    case "group":
      return `group:${a.groupId}`;
    case "set_nw_ttl":
      return `mod_nw_ttl:${a.ttl}`;
    case "dec_nw_ttl":
      return "dec_ttl";
    case "set_field":
    case "reg_load2":
      return formatSetField(a.entry);
    case "push_pbb":
      return `push_pbb:${hexAlt(a.ethertype)}`;
    case "pop_pbb":
      return "pop_pbb";
    case "resubmit":
      return formatResubmit(a.inPort, a.table, a.ct);
    case "set_tunnel":
      return `set_tunnel${a.tunId > 0xffffffffn || a.wide ? "64" : ""}:${hexAlt(a.tunId)}`;
    case "pop_queue":
      return "pop_queue";
    case "reg_move":
      return `move:${formatSubField(a.src)}->${formatSubField(a.dst)}`;
    case "reg_load": {
      const segs = loadSegments(
        a.value << BigInt(a.dst.ofs),
        ones(a.dst.nBits) << BigInt(a.dst.ofs),
        a.dst.field.bits,
      );
      return segs
        .map(
          (g) =>
            `load:${hexAlt(g.value)}->${formatSubfield(subfieldName(a.dst), a.dst.field.bits, g.ofs, g.nBits)}`,
        )
        .join(",");
    }
    case "note":
      return `note:${hexDotted(a.data)}`;
    case "output_reg":
      return `output:${formatSubField(a.src)}`;
    case "learn":
      return formatLearn(a);
    case "exit":
      return "exit";
    case "fin_timeout": {
      const parts: string[] = [];
      if (a.idleTimeout !== 0) parts.push(`idle_timeout=${a.idleTimeout}`);
      if (a.hardTimeout !== 0) parts.push(`hard_timeout=${a.hardTimeout}`);
      return `fin_timeout(${parts.join(",")})`;
    }
    case "controller":
      return formatController2({
        type: "controller2",
        maxLen: a.maxLen,
        controllerId: a.controllerId,
        reason: a.reason,
        userdata: undefined,
        pause: false,
        meterId: 0,
      });
    case "controller2":
      return formatController2(a);
    case "dec_ttl_cnt_ids":
      return `dec_ttl(${a.ids.join(",")})`;
    case "conjunction":
      return `conjunction(${a.id},${a.clause + 1}/${a.nClauses})`;
    case "ct":
      return formatCt(a);
    case "nat":
      return formatNat(a);
    case "ct_clear":
      return "ct_clear";
    case "experimenter": {
      const view = a.experimenter === NX_VENDOR_ID ? viewNxAction(a.data) : undefined;
      if (view !== undefined) return formatNxView(view);
      return `experimenter(0x${a.experimenter.toString(16)},${hexDotted(a.data)})`;
    }
  }
}

/**
 * Nicira actions the codec keeps opaque, as OVS prints them
 * (`format_OUTPUT_TRUNC`, `format_SAMPLE`, `nxm_format_stack_push`/`_pop`).
 * Their bodies were checked by {@link viewNxAction}, which throws OfpError
 * where OVS's decoder refuses them.
 */
function formatNxView(v: NxActionView): string {
  switch (v.kind) {
    case "output_trunc":
      return `output(port=${formatPort16(v.port)},max_len=${v.maxLen})`;
    case "sample": {
      let s = `sample(probability=${v.probability},collector_set_id=${v.collectorSetId}`;
      s += `,obs_domain_id=${v.obsDomainId},obs_point_id=${v.obsPointId}`;
      if (v.samplingPort !== OFPP10_NONE) s += `,sampling_port=${formatPort16(v.samplingPort)}`;
      if (v.direction === SAMPLE_DIRECTION.INGRESS) s += ",ingress";
      else if (v.direction === SAMPLE_DIRECTION.EGRESS) s += ",egress";
      return `${s})`;
    }
    case "stack_push":
      return `push:${formatSubField(v.field)}`;
    case "stack_pop":
      return `pop:${formatSubField(v.field)}`;
  }
}

/** OF1.0 OFPP_NONE: "no sampling port". */
const OFPP10_NONE = 0xffff;

/** A comma-separated action list; empty is "drop" only at the top level (see {@link formatInstructions}). */
export function formatActionList(actions: readonly Action[]): string {
  return actions.map(formatAction).join(",");
}

/** `actions=` text for a plain action list (packet-out, group buckets): empty prints "drop". */
export function formatActions(actions: readonly Action[]): string {
  return actions.length === 0 ? "drop" : formatActionList(actions);
}

const INSTRUCTION_ORDER: Record<InstructionLike["type"], number> = {
  meter: 0,
  apply_actions: 1,
  clear_actions: 2,
  write_actions: 3,
  write_metadata: 4,
  goto_table: 5,
  experimenter: 6,
};

/** The instruction set as OVS prints it after decoding: fixed order, flattened apply-actions, "drop" when empty. */
export function formatInstructions(list: readonly InstructionLike[]): string {
  const sorted = [...list].sort((x, y) => INSTRUCTION_ORDER[x.type] - INSTRUCTION_ORDER[y.type]);
  const parts: string[] = [];
  for (const i of sorted) {
    switch (i.type) {
      case "meter":
        parts.push(`meter:${i.meterId}`);
        break;
      case "apply_actions":
        if (i.actions.length > 0) parts.push(formatActionList(i.actions));
        break;
      case "clear_actions":
        parts.push("clear_actions");
        break;
      case "write_actions":
        parts.push(`write_actions(${formatActionList(i.actions)})`);
        break;
      case "write_metadata":
        parts.push(
          i.mask === ones(64)
            ? `write_metadata:${hexAlt(i.metadata)}`
            : `write_metadata:${hexAlt(i.metadata)}/${hexAlt(i.mask)}`,
        );
        break;
      case "goto_table":
        parts.push(`goto_table:${i.tableId}`);
        break;
      case "experimenter":
        parts.push(`experimenter_instruction(0x${i.experimenter.toString(16)})`);
        break;
    }
  }
  return parts.length === 0 ? "drop" : parts.join(",");
}

// Re-exported for printers that show ct_state-like flag words.
export { formatFlags };
