/**
 * The action half of ovs-ofctl's flow syntax → OF1.3 actions/instructions,
 * as OVS parses (`ofpacts_parse__`, the `parse_*` functions of
 * lib/ofp-actions.c, `learn_parse__` of lib/learn.c), checks against the
 * match (`ofpacts_check`) and then encodes for OpenFlow 1.3 (`encode_*`).
 *
 * The result is what OVS would put on the wire: `mod_dl_src` becomes
 * set_field, `mod_vlan_vid` without a VLAN match becomes push_vlan + set_field,
 * a partial set_field becomes reg_load(s), `CONTROLLER:n` an output to the
 * controller port. Two kinds of failure, as in OVS:
 * - a hard error (bad syntax, a set_field whose prerequisites the match lacks):
 *   OVS says "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)";
 * - an action that only OpenFlow 1.0/NXM can express against this match
 *   (`strip_vlan` without a VLAN match, `dec_ttl` without `ip`): OVS narrows
 *   the usable protocols and, forced to OpenFlow 1.3, refuses with
 *   "no usable protocol". We report both with the reason.
 */
import type { Action, SubField } from "../actions.js";
import type { LearnSpec } from "../nx/learn.js";
import type { OxmEntry } from "../oxm.js";
import { bigintToBytes, ones, parseIpv4, parseMac } from "./addr.js";
import { parseFieldValue, parseIntString } from "./field-parse.js";
import { nxmPreferredHeader, of13Header, textFieldByName, type TextField } from "./fields.js";
import {
  ETH_TYPE,
  IP_PROTO,
  VLAN,
  cloneFlowMatch,
  dlType,
  isIpAny,
  significantBytes,
  popVlanCheck,
  prereqsOk,
  pushVlanCheck,
  type FlowMatch,
} from "./flow-match.js";
import { parseSubfield, parseSubfieldPrefix, type Subfield } from "./match-parse.js";
import { NX_VENDOR_ID } from "../errors.js";
import {
  SAMPLE_DIRECTION,
  isTruncatePort,
  outputTruncData,
  sampleData,
  stackData,
} from "../nx/opaque-view.js";
import { oxmFieldFor } from "./oxm-bridge.js";
import { OFPP10, parsePort, portToOf11 } from "./ports.js";
import { splitKeyValues } from "./tokenizer.js";
import type { InstructionLike } from "./actions-format.js";
import { PACKET_IN_REASONS } from "./actions-format.js";

/** A parse or consistency failure, with OVS's wording where OVS has one. */
export class FlowSyntaxError extends Error {
  override readonly name = "FlowSyntaxError";
  /** "syntax": OVS rejects the text; "inconsistent": OFPBAC_MATCH_INCONSISTENT; "protocol": no OF1.3 encoding. */
  readonly kind: "syntax" | "inconsistent" | "protocol";
  constructor(kind: "syntax" | "inconsistent" | "protocol", message: string) {
    super(message);
    this.kind = kind;
  }
}

const fail = (message: string): never => {
  throw new FlowSyntaxError("syntax", message);
};

/** OVS instruction types, in the order OF1.1+ requires them (`enum ovs_instruction_type`). */
const INST = {
  meter: 0,
  apply_actions: 1,
  clear_actions: 2,
  write_actions: 3,
  write_metadata: 4,
  goto_table: 5,
} as const;
type InstName = keyof typeof INST;

interface Ctx {
  /** The match as checks see it; actions such as push_vlan/pop_vlan update it (OVS `ofpacts_check`). */
  readonly flow: FlowMatch;
  /** Reasons OpenFlow 1.3 cannot express an action here (OVS `inconsistent_match`). */
  readonly protocolProblems: string[];
  /** Actions only OpenFlow 1.1+ can express (OVS narrows usable protocols to OF1.1+/OF1.3+). */
  readonly of11Only: string[];
  readonly tableId: number;
}

function field(name: string): TextField {
  const f = textFieldByName(name);
  if (f === undefined) throw new Error(`no text field ${name}`);
  return f;
}

function entryFor(tf: TextField, value: bigint): OxmEntry {
  const h = of13Header(tf);
  if (h === undefined) fail(`${tf.name} cannot be set in OpenFlow 1.3`);
  const f = oxmFieldFor(h!);
  // A variable-width field (tun_metadata) is written as wide as its value (mf_field_len).
  const width = f.variable ? significantBytes(value) : f.size;
  return { field: f, value: bigintToBytes(value, width), mask: undefined };
}

/** set_field of a whole tun_metadata value; OVS writes zero as a zero-width TLV. */
function setTunMetadataAction(tf: TextField, value: bigint): Action {
  const e = entryFor(tf, value);
  if (e.value.length > 0) return { type: "set_field", entry: e };
  return {
    type: "set_field",
    entry: { field: undefined, header: e.field.header, experimenter: undefined, payload: e.value },
  };
}

function subFieldOf(sf: Subfield): SubField {
  const h = nxmPreferredHeader(sf.field);
  if (h === undefined)
    return fail(`${sf.field.name}: field cannot be referenced in Nicira actions`);
  return { field: oxmFieldFor(h), ofs: sf.ofs, nBits: sf.nBits };
}

function parseU(text: string, what: string, max: bigint): number {
  const v = parseIntString(text, 8);
  if (typeof v === "string" || v > max) return fail(`invalid ${what} "${text}"`);
  return Number(v);
}

/** `mf_check_src`/`check_SET_FIELD`: the match must satisfy the field's prerequisites. */
function requirePrereqs(ctx: Ctx, tf: TextField, what: string): void {
  const vlanOk = tf.name !== "vlan_vid" || (ctx.flow.value.vlan_tci & BigInt(VLAN.CFI)) !== 0n;
  if (!prereqsOk(ctx.flow, tf) || !vlanOk) {
    throw new FlowSyntaxError(
      "inconsistent",
      `actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): ${what} ${tf.name} lacks correct prerequisites`,
    );
  }
}

function pushVlan(ctx: Ctx): void {
  const e = pushVlanCheck(ctx.flow);
  if (e !== undefined) {
    throw new FlowSyntaxError(
      "inconsistent",
      `actions are invalid with specified match (${e}): more than two VLAN headers`,
    );
  }
}

function inconsistent(ctx: Ctx, why: string): void {
  ctx.protocolProblems.push(why);
}

function hasVlan(ctx: Ctx): boolean {
  return (ctx.flow.value.vlan_tci & BigInt(VLAN.CFI)) !== 0n;
}

/** set_field with a full value → OFPAT_SET_FIELD; a partial mask → reg_load segments (OVS `encode_SET_FIELD`). */
function setFieldActions(
  ctx: Ctx,
  tf: TextField,
  value: bigint,
  mask: bigint | undefined,
  what: string,
): Action[] {
  if (!tf.writable) fail(`${what}: destination field ${tf.name} is not writable`);
  requirePrereqs(ctx, tf, what);
  const full = ones(tf.bytes * 8);
  if (
    tf.name === "vlan_vid" &&
    (value & BigInt(VLAN.CFI)) === 0n &&
    (mask === undefined || mask === full)
  ) {
    throw new FlowSyntaxError(
      "inconsistent",
      `${what}: vlan_vid value ${value} lacks OFPVID_PRESENT (0x1000); OVS rejects it (OFPBAC_BAD_SET_ARGUMENT)`,
    );
  }
  if (tf.name === "vlan_tci") ctx.flow.value.vlan_tci = value & (mask ?? full);
  if (tf.map.kind === "tun_metadata") {
    if (mask === undefined || mask === full) return [setTunMetadataAction(tf, value)];
    // A partial variable-width field goes out as NXAST_REG_LOAD2 of a masked
    // TLV as wide as value and mask need (encode_SET_FIELD, mf_field_len).
    // OVS does not apply the mask to the value first, so a value with bits
    // outside the mask makes a message OVS itself then refuses
    // (OFPBMC_BAD_WILDCARDS); we write the same bytes.
    const f = oxmFieldFor(of13Header(tf)!);
    const width = Math.max(significantBytes(value), significantBytes(mask), 1);
    return [
      {
        type: "reg_load2",
        entry: { field: f, value: bigintToBytes(value, width), mask: bigintToBytes(mask, width) },
      },
    ];
  }
  if (mask === undefined || mask === full)
    return [{ type: "set_field", entry: entryFor(tf, value) }];
  const h = nxmPreferredHeader(tf);
  if (h === undefined || h.experimenter !== undefined) {
    const f = oxmFieldFor(of13Header(tf)!);
    return [
      {
        type: "reg_load2",
        entry: {
          field: f,
          value: bigintToBytes(value & mask, f.size),
          mask: bigintToBytes(mask, f.size),
        },
      },
    ];
  }
  const f = oxmFieldFor(h);
  const out: Action[] = [];
  const bits = f.bits;
  let i = 0;
  while (i < bits) {
    if (((mask >> BigInt(i)) & 1n) === 0n) {
      i++;
      continue;
    }
    let j = i;
    while (j < bits && j - i < 64 && ((mask >> BigInt(j)) & 1n) === 1n) j++;
    out.push({
      type: "reg_load",
      dst: { field: f, ofs: i, nBits: j - i },
      value: (value >> BigInt(i)) & ones(j - i),
    });
    i = j;
  }
  return out;
}

/** `set_field:VALUE->FIELD` (value may carry `/mask`). */
function parseSetField(ctx: Ctx, arg: string): Action[] {
  const at = arg.indexOf("->");
  if (at < 0) fail(`${arg}: missing \`->'`);
  const key = arg.slice(at + 2);
  if (key === "") fail(`${arg}: missing field name following \`->'`);
  const tf = textFieldByName(key);
  if (tf === undefined) return fail(`${arg}: unknown field \`${key}'`);
  const parsed = parseFieldValue(tf, arg.slice(0, at));
  if (typeof parsed === "string") return fail(parsed);
  return setFieldActions(ctx, tf, parsed.value, parsed.mask, "set_field");
}

/** `load:VALUE->DST[a..b]`. */
function parseLoad(ctx: Ctx, arg: string): Action[] {
  const at = arg.indexOf("->");
  if (at < 0) fail(`${arg}: missing \`->'`);
  const sf = parseSubfield(arg.slice(at + 2));
  if (typeof sf === "string") return fail(sf);
  const v = parseIntString(arg.slice(0, at), sf.field.bytes);
  if (typeof v === "string") return fail(`${arg}: cannot parse integer value`);
  if (v > ones(sf.nBits)) return fail(`${arg}: value ${v} does not fit into ${sf.nBits} bits`);
  if (!sf.field.writable) fail(`${arg}: destination field ${sf.field.name} is not writable`);
  requirePrereqs(ctx, sf.field, "load");
  if (sf.field.name === "vlan_tci") {
    const bm = ones(sf.nBits) << BigInt(sf.ofs);
    ctx.flow.value.vlan_tci = (ctx.flow.value.vlan_tci & ~bm) | (v << BigInt(sf.ofs));
  }
  const h = nxmPreferredHeader(sf.field);
  if (h === undefined || h.experimenter !== undefined || sf.field.map.kind === "tun_metadata") {
    return setFieldActions(
      ctx,
      sf.field,
      v << BigInt(sf.ofs),
      ones(sf.nBits) << BigInt(sf.ofs),
      "load",
    );
  }
  return [{ type: "reg_load", dst: subFieldOf(sf), value: v }];
}

/** `move:SRC[..]->DST[..]`. */
function parseMove(ctx: Ctx, arg: string): Action {
  const at = arg.indexOf("->");
  if (at < 0) fail(`${arg}: missing \`->' following source`);
  const src = parseSubfield(arg.slice(0, at));
  if (typeof src === "string") return fail(src);
  const dst = parseSubfield(arg.slice(at + 2));
  if (typeof dst === "string") return fail(dst);
  if (src.nBits !== dst.nBits) {
    fail(
      `${arg}: source field is ${src.nBits} bits wide but destination is ${dst.nBits} bits wide`,
    );
  }
  if (!dst.field.writable) fail(`${arg}: destination field ${dst.field.name} is not writable`);
  requirePrereqs(ctx, src.field, "move");
  requirePrereqs(ctx, dst.field, "move");
  return { type: "reg_move", src: subFieldOf(src), dst: subFieldOf(dst) };
}

/**
 * `output:PORT`, `output:SUBFIELD` or `output(port=P,max_len=N)` (OVS
 * `parse_OUTPUT`: the truncating form when both words appear, then a port,
 * then a sub-field).
 */
function parseOutput(arg: string): Action {
  if (arg.includes("port") && arg.includes("max_len")) return parseOutputTrunc(arg);
  const p = parsePort(arg);
  if (p !== undefined) return outputTo(p, p === OFPP10.CONTROLLER ? 0xffff : 0);
  const sf = parseSubfield(arg);
  if (typeof sf === "string") return fail(`${arg}: output to unknown port`);
  return { type: "output_reg", src: subFieldOf(sf), maxLen: 0xffff, wide: false };
}

/** ETH_HEADER_LEN, output_trunc's smallest max_len. */
const ETH_HEADER_LEN = 14;

/**
 * `output(port=P,max_len=N)` → NXAST_OUTPUT_TRUNC (OVS
 * `parse_truncate_subfield`), kept as the opaque Nicira action the codec
 * carries (codec/nx/opaque-view.ts builds its bytes).
 */
function parseOutputTrunc(arg: string): Action {
  let port = 0;
  let maxLen = 0;
  for (const kv of splitKeyValues(arg)) {
    if (kv.key === "port") {
      const p = parsePort(kv.value);
      if (p === undefined) return fail(`output to unknown truncate port: ${kv.value}`);
      if (!isTruncatePort(p)) return fail(`output to unsupported truncate port: ${kv.value}`);
      port = p;
    } else if (kv.key === "max_len") {
      maxLen = strToU32OrFail(kv.value);
      if (maxLen < ETH_HEADER_LEN) {
        fail(`max_len ${maxLen} is less than the minimum value ${ETH_HEADER_LEN}`);
      }
    } else {
      fail(`invalid key '${kv.key}' in output_trunc argument`);
    }
  }
  // check_OUTPUT_TRUNC: ofpact_check_output_port against OFPP_MAX.
  if (port === OFPP_MAX) {
    throw new FlowSyntaxError(
      "inconsistent",
      "actions are invalid with specified match (OFPBAC_BAD_OUT_PORT)",
    );
  }
  return { type: "experimenter", experimenter: NX_VENDOR_ID, data: outputTruncData(port, maxLen) };
}

/** OF1.0 OFPP_MAX: the first reserved port number. */
const OFPP_MAX = 0xff00;

/** `str_to_u32` with OVS's two messages. */
function strToU32OrFail(text: string): number {
  if (text === "") return fail("missing required numeric argument");
  const v = strToU32(text);
  if (v === undefined) return fail(`invalid numeric format ${text}`);
  return v;
}

/** `str_to_u16`: a C integer in 0..65535, else `invalid NAME "TEXT"`. */
function strToU16OrFail(text: string, name: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  const digits = m?.[2];
  const v =
    digits === undefined
      ? undefined
      : /^0[0-7]+$/.test(digits)
        ? BigInt(`0o${digits.slice(1)}`)
        : BigInt(digits);
  if (v === undefined || m![1] === "-" || v > 0xffffn) return fail(`invalid ${name} "${text}"`);
  return Number(v);
}

/**
 * `sample(probability=N,collector_set_id=N,obs_domain_id=N,obs_point_id=N,
 * sampling_port=P,ingress|egress)` → NXAST_SAMPLE/SAMPLE2/SAMPLE3 (OVS
 * `parse_SAMPLE` and `encode_SAMPLE`).
 */
function parseSample(arg: string): Action {
  let probability = 0;
  let collectorSetId = 0;
  let obsDomainId = 0;
  let obsPointId = 0;
  let samplingPort: number = OFPP10.ANY;
  let direction: number = SAMPLE_DIRECTION.DEFAULT;
  for (const kv of splitKeyValues(arg)) {
    switch (kv.key) {
      case "probability":
        probability = strToU16OrFail(kv.value, "probability");
        if (probability === 0) fail(`invalid probability value "${kv.value}"`);
        break;
      case "collector_set_id":
        collectorSetId = strToU32OrFail(kv.value);
        break;
      case "obs_domain_id":
        obsDomainId = strToU32OrFail(kv.value);
        break;
      case "obs_point_id":
        obsPointId = strToU32OrFail(kv.value);
        break;
      case "sampling_port": {
        const p = parsePort(kv.value);
        if (p === undefined) fail(`${kv.value}: unknown port`);
        else samplingPort = p;
        break;
      }
      case "ingress":
        direction = SAMPLE_DIRECTION.INGRESS;
        break;
      case "egress":
        direction = SAMPLE_DIRECTION.EGRESS;
        break;
      default:
        fail(`invalid key "${kv.key}" in "sample" argument`);
    }
  }
  if (probability === 0) fail('non-zero "probability" must be specified on sample');
  return {
    type: "experimenter",
    experimenter: NX_VENDOR_ID,
    data: sampleData({
      probability,
      collectorSetId,
      obsDomainId,
      obsPointId,
      samplingPort,
      direction,
    }),
  };
}

/**
 * `push:SUBFIELD` / `pop:SUBFIELD` (OVS `nxm_parse_stack_action`), checked as
 * `nxm_stack_push_check` (source prerequisites) / `nxm_stack_pop_check`
 * (destination prerequisites, writable) do.
 */
function parseStack(ctx: Ctx, arg: string, push: boolean): Action {
  const r = parseSubfieldPrefix(arg);
  if (typeof r === "string") return fail(r);
  if (r.rest !== "") fail(`${r.rest}: trailing garbage following push or pop`);
  if (!push && !r.sf.field.writable) {
    throw new FlowSyntaxError(
      "inconsistent",
      `actions are invalid with specified match (OFPBAC_BAD_SET_ARGUMENT): destination field ${r.sf.field.name} is not writable`,
    );
  }
  requirePrereqs(ctx, r.sf.field, push ? "push" : "pop");
  const sf = subFieldOf(r.sf);
  return { type: "experimenter", experimenter: NX_VENDOR_ID, data: stackData(push, sf) };
}

function outputTo(port16: number, maxLen: number): Action {
  // ofpact_check_output_port: ordinary ports and IN_PORT..LOCAL only.
  if (port16 >= 0xff00 && port16 < OFPP10.IN_PORT) {
    throw new FlowSyntaxError(
      "inconsistent",
      `actions are invalid with specified match (OFPBAC_BAD_OUT_PORT): port ${port16}`,
    );
  }
  if (port16 === OFPP10.ANY || port16 === OFPP10.UNSET) {
    throw new FlowSyntaxError(
      "inconsistent",
      "actions are invalid with specified match (OFPBAC_BAD_OUT_PORT)",
    );
  }
  return { type: "output", port: portToOf11(port16), maxLen };
}

/**
 * `enqueue:PORT:QUEUE` / `enqueue(PORT,QUEUE)` (OVS `parse_ENQUEUE`, which
 * splits on any of ":q,"). OpenFlow 1.1+ has no enqueue action, so OVS
 * encodes it as set_queue, output, pop_queue (`encode_ENQUEUE`); the port
 * must be a physical port, IN_PORT or LOCAL (`check_ENQUEUE`).
 */
function parseEnqueue(arg: string): Action[] {
  const parts = arg.split(/[:q,]+/).filter((x) => x !== "");
  const portText = parts[0];
  const first = portText === undefined ? -1 : arg.indexOf(portText);
  // strtok_r(NULL, "") takes the rest after the delimiter that ended the port.
  const queueText =
    portText === undefined ? undefined : arg.slice(first + portText.length + 1) || undefined;
  if (portText === undefined || queueText === undefined) {
    return fail('"enqueue" syntax is "enqueue:PORT:QUEUE" or "enqueue(PORT,QUEUE)"');
  }
  const port = parsePort(portText);
  if (port === undefined) return fail(`${portText}: enqueue to unknown port`);
  const queue = strToU32(queueText);
  if (queue === undefined) return fail(`invalid numeric format ${queueText}`);
  if (port >= 0xff00 && port !== OFPP10.IN_PORT && port !== OFPP10.LOCAL) {
    throw new FlowSyntaxError(
      "inconsistent",
      `actions are invalid with specified match (OFPBAC_BAD_OUT_PORT): enqueue to port ${port}`,
    );
  }
  return [
    { type: "set_queue", queueId: queue },
    // encode_ENQUEUE writes the output with max_len OFPCML_NO_BUFFER.
    { type: "output", port: portToOf11(port), maxLen: 0xffff },
    { type: "pop_queue" },
  ];
}

/**
 * OVS `str_to_u32`: a C `long long` in base 0 (hex, octal, decimal, optional
 * sign) filling the whole string, then truncated to 32 bits (so `-1` is
 * 4294967295 and 2^32 is 0).
 */
function strToU32(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (m === null) return undefined;
  const digits = m[2]!;
  const magnitude = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const v = m[1] === "-" ? -magnitude : magnitude;
  if (v > (1n << 63n) - 1n || v < -(1n << 63n)) return undefined;
  return Number(BigInt.asUintN(32, v));
}

/** `controller`, `controller:LEN`, `controller(reason=..,max_len=..,id=..,userdata=..,pause,meter_id=..)`. */
function parseController(arg: string): Action {
  let reason = 1;
  let maxLen = 0xffff;
  let id = 0;
  let meterId = 0;
  let pause = false;
  let userdata: Uint8Array | undefined;
  if (arg === "") {
    // defaults
  } else if (/^[0-9]+$/.test(arg)) {
    maxLen = parseU(arg, "max_len", 0xffffn);
  } else {
    for (const kv of splitKeyValues(arg)) {
      switch (kv.key) {
        case "reason": {
          const r = (PACKET_IN_REASONS as readonly string[]).indexOf(kv.value);
          if (r < 0) fail(`unknown reason "${kv.value}"`);
          reason = r;
          break;
        }
        case "max_len":
          maxLen = parseU(kv.value, "max_len", 0xffffn);
          break;
        case "id":
          id = parseU(kv.value, "id", 0xffffn);
          break;
        case "userdata":
          userdata = parseHexDotted(kv.value, "bad hex digit in `controller' action `userdata'");
          break;
        case "pause":
          pause = true;
          break;
        case "meter_id":
          meterId = parseU(kv.value, "meter_id", 0xffffffffn);
          break;
        default:
          fail(`unknown key "${kv.key}" parsing controller action`);
      }
    }
  }
  if (reason === 1 && id === 0 && userdata === undefined && !pause && meterId === 0) {
    return { type: "output", port: portToOf11(OFPP10.CONTROLLER), maxLen };
  }
  if (userdata !== undefined || pause || meterId !== 0) {
    return { type: "controller2", maxLen, controllerId: id, reason, userdata, pause, meterId };
  }
  return { type: "controller", maxLen, controllerId: id, reason };
}

/** `ofpbuf_put_hex`: hex digits, optionally separated by dots/spaces. */
function parseHexDotted(text: string, err: string): Uint8Array {
  const clean = text.replace(/[.\s]/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) fail(err);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** `resubmit:PORT` / `resubmit(PORT,TABLE[,ct])`. */
function parseResubmit(ctx: Ctx, kv: { value: string; delim: string }): Action {
  if (kv.delim !== "(") {
    const p = parsePort(kv.value);
    if (p === undefined) return fail(`${kv.value}: resubmit to unknown port`);
    return { type: "resubmit", inPort: p, table: 0xff, ct: false };
  }
  const parts = kv.value.split(",");
  const portText = parts[0] ?? "";
  const tableText = parts[1] ?? "";
  let inPort: number = OFPP10.IN_PORT;
  if (portText !== "") {
    const p = parsePort(portText);
    if (p === undefined) return fail(`${portText}: resubmit to unknown port`);
    inPort = p;
  }
  let table = 0xff;
  if (tableText !== "") {
    table = parseU(tableText, "table", 254n);
  }
  let ct = false;
  if (parts.length > 2) {
    if (parts[2] !== "ct" || parts.length > 3) fail(`${kv.value}: unknown resubmit argument`);
    ct = true;
    // check_RESUBMIT: the original-direction tuple needs a tracked, valid connection.
    const ctState = ctx.flow.value.ct_state;
    if ((ctx.flow.mask.ct_state & 0x21n) !== 0x21n || (ctState & 0x21n) !== 0x01n) {
      throw new FlowSyntaxError(
        "inconsistent",
        "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): resubmit(...,ct) needs ct_state=+trk-inv",
      );
    }
  }
  if (portText === "" && tableText === "")
    fail('at least one "in_port" or "table" must be specified on resubmit');
  return { type: "resubmit", inPort, table, ct };
}

/** `note:HEX.HEX...`, padded as OVS pads it (the action is a multiple of 8 bytes). */
function parseNote(arg: string): Action {
  const raw = parseHexDotted(arg, "bad hex digit in `note' argument");
  const total = Math.max(16, Math.ceil((10 + raw.length) / 8) * 8);
  const data = new Uint8Array(total - 10);
  data.set(raw);
  return { type: "note", data };
}

/** `conjunction(ID,K/N)`. */
function parseConjunction(arg: string): Action {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(arg);
  if (m === null) return fail(`"conjunction" syntax is "conjunction(id,i/n)"`);
  const id = Number(m[1]);
  const k = Number(m[2]);
  const n = Number(m[3]);
  if (id > 0xffffffff) fail(`conjunction id ${m[1]} out of range`);
  if (n < 2 || n > 64) fail(`number of conjunctive clauses must be between 2 and 64`);
  if (k < 1 || k > n) fail(`clause index must be between 1 and number of clauses`);
  return { type: "conjunction", id, clause: k - 1, nClauses: n };
}

/** `nat[(src|dst[=IP[-IP]][:PORT[-PORT]][,persistent|hash|random])]`. */
function parseNat(arg: string): Action {
  let flags = 0;
  let ipMin: Uint8Array | undefined;
  let ipMax: Uint8Array | undefined;
  let protoMin: number | undefined;
  let protoMax: number | undefined;
  for (const kv of splitKeyValues(arg)) {
    if (kv.key === "src" || kv.key === "dst") {
      flags |= kv.key === "src" ? 1 : 2;
      if (kv.value !== "") {
        const m = /^([0-9.]+)(?:-([0-9.]+))?(?::(\d+)(?:-(\d+))?)?$/.exec(kv.value);
        if (m === null) fail(`${kv.value}: bad nat range`);
        const a = parseIpv4(m![1]!);
        const b = m![2] === undefined ? undefined : parseIpv4(m![2]);
        if (a === undefined || (m![2] !== undefined && b === undefined))
          fail(`${kv.value}: bad nat address`);
        ipMin = bigintToBytes(a!, 4);
        ipMax = b === undefined ? undefined : bigintToBytes(b, 4);
        if (m![3] !== undefined) protoMin = Number(m![3]);
        if (m![4] !== undefined) protoMax = Number(m![4]);
      }
    } else if (kv.key === "persistent") flags |= 4;
    else if (kv.key === "hash") flags |= 8;
    else if (kv.key === "random") flags |= 16;
    else fail(`invalid key "${kv.key}" in "nat" argument`);
  }
  return { type: "nat", flags, ipMin, ipMax, protoMin, protoMax };
}

/** `ct(commit,force,table=N,zone=N|SUBFIELD,alg=ftp|tftp,exec(...),nat(...))`. */
function parseCt(ctx: Ctx, arg: string): Action {
  let flags = 0;
  let recircTable = 0xff;
  let zone = 0;
  let zoneSrc: SubField | undefined;
  let alg = 0;
  const actions: Action[] = [];
  for (const kv of splitKeyValues(arg)) {
    switch (kv.key) {
      case "commit":
        flags |= 1;
        break;
      case "force":
        flags |= 2;
        break;
      case "table":
        recircTable = parseU(kv.value, "table", 254n);
        break;
      case "zone":
        if (/^[0-9x]/i.test(kv.value) && !kv.value.includes("["))
          zone = parseU(kv.value, "zone", 0xffffn);
        else {
          const sf = parseSubfield(kv.value);
          if (typeof sf === "string") fail(sf);
          else {
            if (sf.nBits !== 16) fail(`zone field must be 16 bits wide`);
            zoneSrc = subFieldOf(sf);
          }
        }
        break;
      case "alg":
        if (kv.value === "ftp") alg = 21;
        else if (kv.value === "tftp") alg = 69;
        else fail(`invalid conntrack helper "${kv.value}"`);
        break;
      case "exec": {
        const inner: Ctx = {
          flow: ctx.flow,
          protocolProblems: ctx.protocolProblems,
          of11Only: ctx.of11Only,
          tableId: ctx.tableId,
        };
        for (const a of parseActionItems(inner, kv.value, false, "ct")) {
          if (a.kind !== "action") fail("exec actions must be actions, not instructions");
          else actions.push(a.action);
        }
        break;
      }
      case "nat":
        actions.unshift(parseNat(kv.value));
        break;
      default:
        fail(`invalid argument to "ct" action: \`${kv.key}'`);
    }
  }
  // check_CT.
  const ipAny = isIpAny(ctx.flow);
  const proto = Number(ctx.flow.value.nw_proto);
  if (!ipAny || (alg === 21 && proto !== IP_PROTO.TCP) || (alg === 69 && proto !== IP_PROTO.UDP)) {
    throw new FlowSyntaxError(
      "inconsistent",
      "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): ct needs an IP match (and TCP/UDP for alg)",
    );
  }
  return { type: "ct", flags, zoneSrc, zone, recircTable, alg, actions };
}

/** One `learn` spec → LearnSpec (`learn_parse_spec`). */
function parseLearnSpec(key: string, value: string, delim: string): LearnSpec {
  if (key === "load") {
    const at = value.indexOf("->");
    if (at <= 0) return fail(`load: missing source before \`->' in \`${value}'`);
    const srcText = value.slice(0, at);
    const dst = parseSubfield(value.slice(at + 2));
    if (typeof dst === "string") return fail(dst);
    const imm = parseIntString(srcText, 16);
    if (typeof imm !== "string") {
      if (imm > ones(dst.nBits)) fail(`${value}: value does not fit into ${dst.nBits} bits`);
      return {
        dst: "load",
        nBits: dst.nBits,
        src: { kind: "immediate", value: bigintToBytes(imm, 2 * Math.ceil(dst.nBits / 16)) },
        dstField: subFieldOf(dst),
      };
    }
    const src = parseSubfield(srcText);
    if (typeof src === "string") return fail(src);
    if (src.nBits !== dst.nBits)
      fail(
        `${value}: source field is ${src.nBits} bits wide but destination is ${dst.nBits} bits wide`,
      );
    return {
      dst: "load",
      nBits: src.nBits,
      src: { kind: "field", field: subFieldOf(src) },
      dstField: subFieldOf(dst),
    };
  }
  if (key === "output") {
    const src = parseSubfield(value);
    if (typeof src === "string") return fail(src);
    return {
      dst: "output",
      nBits: src.nBits,
      src: { kind: "field", field: subFieldOf(src) },
      dstField: undefined,
    };
  }
  // A match spec: DST[..] [= SRC[..] | = VALUE]. A bare meta-flow name means the whole field.
  const full = key + (delim === "(" ? `(${value})` : "");
  void full;
  const dst = key.includes("[") ? parseSubfield(key) : wholeFieldByName(key);
  if (typeof dst === "string") return fail(`${key}: unknown keyword ${key}`);
  if (value === "") {
    const sf = subFieldOf(dst);
    return { dst: "match", nBits: dst.nBits, src: { kind: "field", field: sf }, dstField: sf };
  }
  const src = value.includes("[") ? parseSubfield(value) : undefined;
  if (src !== undefined && typeof src !== "string") {
    if (src.nBits !== dst.nBits)
      fail(
        `${key}=${value}: bit widths of ${key} (${src.nBits}) and ${value} (${dst.nBits}) differ`,
      );
    return {
      dst: "match",
      nBits: dst.nBits,
      src: { kind: "field", field: subFieldOf(src) },
      dstField: subFieldOf(dst),
    };
  }
  let imm: bigint;
  if (dst.ofs === 0 && dst.nBits === dst.field.bits) {
    const p = parseFieldValue(dst.field, value);
    if (typeof p === "string") return fail(`${key}=${value}: ${p}`);
    imm = p.value;
  } else {
    const v = parseIntString(value, dst.field.bytes);
    if (typeof v === "string") return fail(`${key}=${value}: cannot parse integer value`);
    if (v > ones(dst.nBits)) fail(`${key}=${value}: value does not fit into ${dst.nBits} bits`);
    imm = v;
  }
  return {
    dst: "match",
    nBits: dst.nBits,
    src: { kind: "immediate", value: bigintToBytes(imm, 2 * Math.ceil(dst.nBits / 16)) },
    dstField: subFieldOf(dst),
  };
}

function wholeFieldByName(name: string): Subfield | string {
  const f = textFieldByName(name);
  if (f === undefined) return `${name}: unknown field`;
  return { field: f, ofs: 0, nBits: f.bits };
}

/** `learn(...)`. */
function parseLearn(arg: string): Action {
  let tableId = 1;
  let idleTimeout = 0;
  let hardTimeout = 0;
  let finIdleTimeout = 0;
  let finHardTimeout = 0;
  let priority = 0x8000;
  let cookie = 0n;
  let flags = 0;
  const specs: LearnSpec[] = [];
  for (const kv of splitKeyValues(arg)) {
    switch (kv.key) {
      case "table":
        tableId = parseU(kv.value, "table", 255n);
        if (tableId === 255) fail(`${arg}: table id 255 not valid for \`learn' action`);
        break;
      case "priority":
        priority = Number.parseInt(kv.value, 10) & 0xffff;
        break;
      case "idle_timeout":
        idleTimeout = Number.parseInt(kv.value, 10) & 0xffff;
        break;
      case "hard_timeout":
        hardTimeout = Number.parseInt(kv.value, 10) & 0xffff;
        break;
      case "fin_idle_timeout":
        finIdleTimeout = Number.parseInt(kv.value, 10) & 0xffff;
        break;
      case "fin_hard_timeout":
        finHardTimeout = Number.parseInt(kv.value, 10) & 0xffff;
        break;
      case "cookie": {
        const c = parseIntString(kv.value, 8);
        cookie = typeof c === "string" ? 0n : c;
        break;
      }
      case "send_flow_rem":
        flags |= 1;
        break;
      case "delete_learned":
        flags |= 2;
        break;
      default:
        specs.push(parseLearnSpec(kv.key, kv.value, kv.delim));
    }
  }
  return {
    type: "learn",
    idleTimeout,
    hardTimeout,
    priority,
    cookie,
    flags,
    tableId,
    finIdleTimeout,
    finHardTimeout,
    specs,
  };
}

/** One parsed item: an action (apply/write context) or an instruction. */
type Item =
  | { readonly kind: "action"; readonly action: Action }
  | {
      readonly kind: "instruction";
      readonly name: Exclude<InstName, "apply_actions">;
      readonly inst: InstructionLike;
    };

/** ovs-ofctl action names that are plain OF1.3 actions with no argument. */
const SIMPLE: Record<string, Action> = {
  pop_queue: { type: "pop_queue" },
  exit: { type: "exit" },
  ct_clear: { type: "ct_clear" },
  dec_mpls_ttl: { type: "dec_mpls_ttl" },
};

function parseActionItems(
  ctx: Ctx,
  text: string,
  allowInstructions: boolean,
  outer: "top" | "write" | "ct",
): Item[] {
  const items: Item[] = [];
  let drop = false;
  const act = (...a: Action[]): void => {
    for (const x of a) items.push({ kind: "action", action: x });
  };
  for (const kv of splitKeyValues(text)) {
    const key = kv.key.toLowerCase();
    const v = kv.value;
    switch (key) {
      case "drop":
        drop = true;
        break;
      case "output":
        act(parseOutput(v));
        break;
      case "controller":
        act(parseController(v));
        break;
      case "enqueue":
        act(...parseEnqueue(v));
        break;
      case "group":
        act({ type: "group", groupId: parseU(v, "group", 0xffffffffn) });
        break;
      case "set_queue":
        act({ type: "set_queue", queueId: parseU(v, "queue", 0xffffffffn) });
        break;
      case "mod_vlan_vid":
      case "set_vlan_vid": {
        const vid = parseU(v, "VLAN VID", 0xffffn);
        if (vid > 0xfff) fail(`${v}: not a valid VLAN VID`);
        if (!hasVlan(ctx)) {
          if (key === "set_vlan_vid") inconsistent(ctx, `${key} without a VLAN match`);
          else {
            act({ type: "push_vlan", ethertype: 0x8100 });
            pushVlan(ctx);
          }
        }
        act({ type: "set_field", entry: entryFor(field("vlan_vid"), BigInt(vid | VLAN.CFI)) });
        break;
      }
      case "mod_vlan_pcp":
      case "set_vlan_pcp": {
        const pcp = parseU(v, "VLAN PCP", 0xffn);
        if (pcp > 7) fail(`${v}: not a valid VLAN PCP`);
        if (!hasVlan(ctx)) {
          if (key === "set_vlan_pcp") inconsistent(ctx, `${key} without a VLAN match`);
          else {
            act({ type: "push_vlan", ethertype: 0x8100 });
            pushVlan(ctx);
          }
        }
        act({ type: "set_field", entry: entryFor(field("vlan_pcp"), BigInt(pcp)) });
        break;
      }
      case "strip_vlan":
      case "pop_vlan":
        if (!hasVlan(ctx))
          inconsistent(ctx, `${key} without a VLAN match (OpenFlow 1.3 pop_vlan needs a tag)`);
        popVlanCheck(ctx.flow);
        act({ type: "pop_vlan" });
        break;
      case "push_vlan": {
        const t = parseU(v, "ethertype", 0xffffn);
        if (t !== 0x8100 && t !== 0x88a8) fail(`${v}: not a valid VLAN ethertype`);
        pushVlan(ctx);
        ctx.of11Only.push("push_vlan");
        act({ type: "push_vlan", ethertype: t });
        break;
      }
      case "mod_dl_src":
      case "mod_dl_dst": {
        const mac = parseMac(v);
        if (mac === undefined) fail(`${v}: invalid Ethernet address`);
        act({
          type: "set_field",
          entry: entryFor(field(key === "mod_dl_src" ? "eth_src" : "eth_dst"), mac!),
        });
        break;
      }
      case "mod_nw_src":
      case "mod_nw_dst": {
        const ip = parseIpv4(v);
        if (ip === undefined) fail(`${v}: could not convert to IP address`);
        if (dlType(ctx.flow) !== ETH_TYPE.IP) inconsistent(ctx, `${key} without an IPv4 match`);
        act({
          type: "set_field",
          entry: entryFor(field(key === "mod_nw_src" ? "ip_src" : "ip_dst"), ip!),
        });
        break;
      }
      case "mod_nw_tos": {
        const tos = parseU(v, "TOS", 0xffn);
        if ((tos & ~0xfc) !== 0) fail(`${v}: not a valid TOS`);
        if (!isIpAny(ctx.flow)) inconsistent(ctx, `${key} without an IP match`);
        act({ type: "set_field", entry: entryFor(field("ip_dscp"), BigInt(tos >> 2)) });
        break;
      }
      case "mod_nw_ecn": {
        const ecn = parseU(v, "ECN", 0xffn);
        if (ecn > 3) fail(`${v}: not a valid ECN`);
        if (!isIpAny(ctx.flow)) inconsistent(ctx, `${key} without an IP match`);
        act({ type: "set_field", entry: entryFor(field("nw_ecn"), BigInt(ecn)) });
        break;
      }
      case "mod_nw_ttl":
      case "set_nw_ttl": {
        const ttl = parseU(v, "TTL", 0xffn);
        if (!isIpAny(ctx.flow)) inconsistent(ctx, `${key} without an IP match`);
        act({ type: "set_nw_ttl", ttl });
        break;
      }
      case "mod_tp_src":
      case "mod_tp_dst": {
        const port = parseU(v, "port", 0xffffn);
        const proto = Number(ctx.flow.value.nw_proto);
        const names: Record<number, string> = {
          [IP_PROTO.TCP]: "tcp",
          [IP_PROTO.UDP]: "udp",
          [IP_PROTO.SCTP]: "sctp",
        };
        const p = names[proto];
        if (!isIpAny(ctx.flow) || p === undefined) {
          inconsistent(ctx, `${key} without a TCP/UDP/SCTP match`);
          act({
            type: "set_field",
            entry: entryFor(field(key === "mod_tp_src" ? "tcp_src" : "tcp_dst"), BigInt(port)),
          });
        } else {
          act({
            type: "set_field",
            entry: entryFor(field(`${p}_${key === "mod_tp_src" ? "src" : "dst"}`), BigInt(port)),
          });
        }
        break;
      }
      case "dec_ttl": {
        if (!isIpAny(ctx.flow))
          inconsistent(
            ctx,
            "dec_ttl without an IP match (OpenFlow 1.3 dec_nw_ttl needs ip or ipv6)",
          );
        if (kv.delim !== "(") {
          act({ type: "dec_nw_ttl" });
        } else {
          const ids = v
            .split(",")
            .filter((x) => x !== "")
            .map((x) => parseU(x.trim(), "controller id", 0xffffn));
          if (ids.length === 0) fail("dec_ttl_cnt_ids: expected at least one controller id.");
          if (ids.length === 1 && ids[0] === 0) act({ type: "dec_nw_ttl" });
          else act({ type: "dec_ttl_cnt_ids", ids });
        }
        break;
      }
      case "set_mpls_ttl":
        act({ type: "set_mpls_ttl", ttl: parseU(v, "TTL", 0xffn) });
        break;
      case "push_mpls": {
        const t = parseU(v, "ethertype", 0xffffn);
        if (t !== 0x8847 && t !== 0x8848) fail(`${v}: not a valid MPLS ethertype`);
        act({ type: "push_mpls", ethertype: t });
        break;
      }
      case "pop_mpls":
        act({ type: "pop_mpls", ethertype: parseU(v, "ethertype", 0xffffn) });
        break;
      case "set_field":
        act(...parseSetField(ctx, v));
        break;
      case "load":
        act(...parseLoad(ctx, v));
        break;
      case "move":
        act(parseMove(ctx, v));
        break;
      case "set_tunnel":
      case "set_tunnel64": {
        // OVS encodes set_tunnel as set_field tun_id in OF1.2+.
        const id = parseIntString(v, 8);
        if (typeof id === "string") fail(`${v}: invalid tunnel id`);
        else act({ type: "set_field", entry: entryFor(field("tun_id"), id) });
        break;
      }
      case "resubmit":
        act(parseResubmit(ctx, kv));
        break;
      case "note":
        act(parseNote(v));
        break;
      case "sample":
        act(parseSample(v));
        break;
      case "push":
        act(parseStack(ctx, v, true));
        break;
      case "pop":
        act(parseStack(ctx, v, false));
        break;
      case "learn":
        act(parseLearn(v));
        break;
      case "conjunction":
        act(parseConjunction(v));
        break;
      case "ct":
        act(parseCt(ctx, v));
        break;
      case "nat":
        if (outer !== "ct") fail("nat action only allowed inside ct");
        act(parseNat(v));
        break;
      case "fin_timeout": {
        let idle = 0;
        let hard = 0;
        for (const x of splitKeyValues(v)) {
          if (x.key === "idle_timeout") idle = parseU(x.value, "idle_timeout", 0xffffn);
          else if (x.key === "hard_timeout") hard = parseU(x.value, "hard_timeout", 0xffffn);
          else fail(`invalid key '${x.key}' in 'fin_timeout' argument`);
        }
        if (Number(ctx.flow.value.nw_proto) !== IP_PROTO.TCP)
          inconsistent(ctx, "fin_timeout without a TCP match");
        act({ type: "fin_timeout", idleTimeout: idle, hardTimeout: hard });
        break;
      }
      case "goto_table": {
        const t = parseU(v, "table", 255n);
        if (ctx.tableId !== 0xff && t <= ctx.tableId) {
          throw new FlowSyntaxError(
            "inconsistent",
            `actions are invalid with specified match (OFPBIC_BAD_TABLE_ID): goto_table:${t} from table ${ctx.tableId}`,
          );
        }
        items.push({
          kind: "instruction",
          name: "goto_table",
          inst: { type: "goto_table", tableId: t },
        });
        break;
      }
      case "write_metadata": {
        const slash = v.indexOf("/");
        const mv = parseIntString(slash < 0 ? v : v.slice(0, slash), 8);
        const mm = slash < 0 ? ones(64) : parseIntString(v.slice(slash + 1), 8);
        if (typeof mv === "string" || typeof mm === "string") fail(`${v}: invalid metadata`);
        else
          items.push({
            kind: "instruction",
            name: "write_metadata",
            inst: { type: "write_metadata", metadata: mv & mm, mask: mm },
          });
        break;
      }
      case "clear_actions":
        items.push({ kind: "instruction", name: "clear_actions", inst: { type: "clear_actions" } });
        break;
      case "write_actions": {
        const inner = parseActionItems(ctx, v, false, "write");
        const actions = inner.map((i) =>
          i.kind === "action" ? i.action : fail("write_actions may contain only actions"),
        );
        items.push({
          kind: "instruction",
          name: "write_actions",
          inst: { type: "write_actions", actions },
        });
        break;
      }
      case "meter":
        ctx.of11Only.push("meter");
        items.push({
          kind: "instruction",
          name: "meter",
          inst: { type: "meter", meterId: parseU(v, "meter", 0xffffffffn) },
        });
        break;
      case "apply_actions":
        fail("apply_actions is the default instruction");
        break;
      default: {
        const simple = SIMPLE[key];
        if (simple !== undefined) {
          act(simple);
          break;
        }
        if (kv.value === "" && kv.delim === "") {
          const p = parsePort(kv.key);
          if (p !== undefined) {
            act(outputTo(p, 0));
            break;
          }
        }
        fail(`unknown action ${kv.key}`);
      }
    }
  }
  if (drop && items.length > 0)
    fail(`"drop" must not be accompanied by any other action or instruction`);
  verifyOrder(items, allowInstructions);
  return items;
}

/** `ofpacts_verify`: instruction order, duplicates, conjunction exclusivity. */
function verifyOrder(items: readonly Item[], allowInstructions: boolean): void {
  if (items.some((i) => i.kind === "action" && i.action.type === "conjunction")) {
    for (const i of items) {
      if (i.kind !== "action" || (i.action.type !== "conjunction" && i.action.type !== "note")) {
        const name = i.kind === "action" ? i.action.type : i.name;
        fail(
          `"conjunction" actions may be used along with "note" but not any other kind of action (such as the "${name}" action used here)`,
        );
      }
    }
    return;
  }
  let prev: InstName = "meter";
  items.forEach((item, index) => {
    const next: InstName = item.kind === "action" ? "apply_actions" : item.name;
    if (
      index > 0 &&
      (prev === "apply_actions" ? INST[next] < INST[prev] : INST[next] <= INST[prev])
    ) {
      if (next === prev)
        fail(`duplicate ${prev} instruction not allowed, for OpenFlow 1.1+ compatibility`);
      fail(
        `invalid instruction ordering: ${next} must appear before ${prev}, for OpenFlow 1.1+ compatibility`,
      );
    }
    if (!allowInstructions && next !== "apply_actions")
      fail(`${next} instruction not allowed here`);
    prev = next;
  });
}

export interface ParsedInstructions {
  readonly instructions: InstructionLike[];
  /** Why OpenFlow 1.3 cannot carry these actions against this match (empty = fine). */
  readonly protocolProblems: readonly string[];
  /** Actions that need OpenFlow 1.1+ (with protocol problems, OVS finds no protocol at all). */
  readonly of11Only: readonly string[];
}

/**
 * Parses an `actions=` clause into OF1.3 instructions, checking it against
 * `match` (which is not modified). `tableId` 0xff means "unspecified".
 */
export function parseInstructionsText(
  text: string,
  match: FlowMatch,
  tableId: number,
): ParsedInstructions {
  const ctx: Ctx = { flow: cloneFlowMatch(match), protocolProblems: [], of11Only: [], tableId };
  const items = parseActionItems(ctx, text, true, "top");
  const instructions: InstructionLike[] = [];
  const apply: Action[] = [];
  for (const i of items) {
    if (i.kind === "action") apply.push(i.action);
  }
  for (const i of items) {
    if (i.kind === "instruction" && i.name === "meter") instructions.push(i.inst);
  }
  if (apply.length > 0) instructions.push({ type: "apply_actions", actions: apply });
  for (const i of items) {
    if (i.kind === "instruction" && i.name !== "meter") instructions.push(i.inst);
  }
  return { instructions, protocolProblems: ctx.protocolProblems, of11Only: ctx.of11Only };
}

/** Parses a plain action list (packet-out, group buckets): no instructions allowed. */
export function parseActionsText(
  text: string,
  match: FlowMatch,
): { actions: Action[]; protocolProblems: readonly string[] } {
  const ctx: Ctx = {
    flow: cloneFlowMatch(match),
    protocolProblems: [],
    of11Only: [],
    tableId: 0xff,
  };
  const items = parseActionItems(ctx, text, false, "top");
  return {
    actions: items.map((i) =>
      i.kind === "action" ? i.action : fail("instructions not allowed here"),
    ),
    protocolProblems: ctx.protocolProblems,
  };
}
