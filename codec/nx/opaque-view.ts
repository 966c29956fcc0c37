/**
 * Structured views of Nicira actions the codec carries opaque (as an
 * `experimenter` action whose `data` is everything after the vendor id, so
 * decode∘encode stays byte-identical): output_trunc, sample (1/2/3) and the
 * stack push/pop pair. Printers and checkers read them through
 * {@link viewNxAction}; nothing here re-encodes.
 *
 * Layouts, decode errors and the per-action checks follow OVS
 * `lib/ofp-actions.c` (`decode_NXAST_RAW_OUTPUT_TRUNC`, `decode_SAMPLE2`,
 * `decode_NXAST_RAW_SAMPLE3`, `decode_stack_action`, `check_OUTPUT_TRUNC`)
 * and `lib/nx-match.c` (`nxm_stack_push_check`/`_pop_check` →
 * `mf_check_src`/`mf_check_dst`). Prerequisite checks against a flow's match
 * (OFPBAC_MATCH_INCONSISTENT) are not made here.
 */
import { getU16, getU32 } from "../bytes.js";
import { OfpError } from "../errors.js";
import { checkSubField, headerSize, pullFieldHeader, type SubField } from "./subfield.js";

/** Nicira subtypes with a view here (OVS `NXAST_RAW_*` numbers). */
export const NXAST_VIEW = {
  STACK_PUSH: 27,
  STACK_POP: 28,
  SAMPLE: 29,
  SAMPLE2: 38,
  OUTPUT_TRUNC: 39,
  SAMPLE3: 41,
} as const;

/** `enum nx_action_sample_direction`. */
export const SAMPLE_DIRECTION = { DEFAULT: 0, INGRESS: 1, EGRESS: 2 } as const;

/** OF1.0 port numbers OVS uses inside these actions. */
const OFPP_MAX = 0xff00;
const OFPP_IN_PORT = 0xfff8;
const OFPP_LOCAL = 0xfffe;
const OFPP_NONE = 0xffff;
/** ETH_HEADER_LEN: output_trunc's smallest max_len. */
const ETH_HEADER_LEN = 14;

/** Bytes before `data` in the whole action (type, len, vendor id). */
const HEADER = 8;
/** Whole-action sizes OVS requires (`sizeof struct nx_action_*`). */
const SIZE = { OUTPUT_TRUNC: 16, SAMPLE: 24, SAMPLE2: 32, STACK: 24 } as const;

export type NxActionView =
  /** NXAST_OUTPUT_TRUNC: `output(port=P,max_len=N)`; `port` is an OF1.0 port number. */
  | { readonly kind: "output_trunc"; readonly port: number; readonly maxLen: number }
  /**
   * NXAST_SAMPLE / SAMPLE2 / SAMPLE3. `samplingPort` is an OF1.0 port,
   * 0xffff (OFPP_NONE) when absent (always so for NXAST_SAMPLE).
   */
  | {
      readonly kind: "sample";
      readonly subtype: number;
      readonly probability: number;
      readonly collectorSetId: number;
      readonly obsDomainId: number;
      readonly obsPointId: number;
      readonly samplingPort: number;
      readonly direction: number;
    }
  /** NXAST_STACK_PUSH / NXAST_STACK_POP of a sub-field. */
  | { readonly kind: "stack_push" | "stack_pop"; readonly field: SubField };

function needSize(data: Uint8Array, size: number, what: string): void {
  if (data.length + HEADER !== size) {
    throw new OfpError("OFPBAC_BAD_LEN", `${what} action of ${data.length + HEADER} bytes`);
  }
}

function allZero(data: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (data[i] !== 0) return false;
  return true;
}

/** `ofpact_check_output_port` with OVS's usual max_ports (OFPP_MAX). */
function checkOutputPort(port: number): void {
  if (port === OFPP_NONE || (port >= OFPP_MAX && port < OFPP_IN_PORT)) {
    throw new OfpError("OFPBAC_BAD_OUT_PORT", `output_trunc to port 0x${port.toString(16)}`);
  }
}

function viewSample(data: Uint8Array, subtype: number): NxActionView {
  const legacy = subtype === NXAST_VIEW.SAMPLE;
  needSize(data, legacy ? SIZE.SAMPLE : SIZE.SAMPLE2, "sample");
  let direction: number = SAMPLE_DIRECTION.DEFAULT;
  if (subtype === NXAST_VIEW.SAMPLE3) {
    if (!allZero(data, 19, 24)) throw new OfpError("NXBRC_MUST_BE_ZERO", "sample3 pad");
    direction = data[18]!;
    if (direction > SAMPLE_DIRECTION.EGRESS) {
      throw new OfpError("OFPBAC_BAD_ARGUMENT", `sample direction ${direction}`);
    }
  }
  const probability = getU16(data, 2);
  if (probability === 0) throw new OfpError("OFPBAC_BAD_ARGUMENT", "sample probability 0");
  return {
    kind: "sample",
    subtype,
    probability,
    collectorSetId: getU32(data, 4),
    obsDomainId: getU32(data, 8),
    obsPointId: getU32(data, 12),
    samplingPort: legacy ? OFPP_NONE : getU16(data, 16),
    direction,
  };
}

function viewStack(data: Uint8Array, push: boolean): NxActionView {
  needSize(data, SIZE.STACK, "stack");
  const ofs = getU16(data, 2);
  const field = pullFieldHeader(data, 4, data.length);
  const at = 4 + headerSize(field);
  if (data.length - at < 2) throw new OfpError("OFPBAC_BAD_LEN", "stack action truncated");
  const nBits = getU16(data, at);
  if (!allZero(data, at + 2, data.length)) {
    throw new OfpError("NXBRC_MUST_BE_ZERO", "stack action pad");
  }
  const sf: SubField = { field, ofs, nBits };
  checkSubField(sf, push ? "src" : "dst", HEADER);
  return { kind: push ? "stack_push" : "stack_pop", field: sf };
}

/**
 * The view of a Nicira action's `data` (subtype onward), or undefined for a
 * subtype without one. Throws OfpError where OVS refuses the action.
 */
export function viewNxAction(data: Uint8Array): NxActionView | undefined {
  if (data.length < 2) return undefined;
  const subtype = getU16(data, 0);
  switch (subtype) {
    case NXAST_VIEW.OUTPUT_TRUNC: {
      needSize(data, SIZE.OUTPUT_TRUNC, "output_trunc");
      const port = getU16(data, 2);
      const maxLen = getU32(data, 4);
      if (maxLen < ETH_HEADER_LEN) {
        throw new OfpError("OFPBAC_BAD_ARGUMENT", `output_trunc max_len ${maxLen}`);
      }
      checkOutputPort(port);
      return { kind: "output_trunc", port, maxLen };
    }
    case NXAST_VIEW.SAMPLE:
    case NXAST_VIEW.SAMPLE2:
    case NXAST_VIEW.SAMPLE3:
      return viewSample(data, subtype);
    case NXAST_VIEW.STACK_PUSH:
    case NXAST_VIEW.STACK_POP:
      return viewStack(data, subtype === NXAST_VIEW.STACK_PUSH);
    default:
      return undefined;
  }
}

/** Ports output_trunc may name in text (`parse_truncate_subfield`): physical, LOCAL, IN_PORT. */
export function isTruncatePort(port16: number): boolean {
  return port16 <= OFPP_MAX || port16 === OFPP_LOCAL || port16 === OFPP_IN_PORT;
}

// ---------------------------------------------------------------------------
// Builders: the `data` of an `experimenter` action (subtype onward, padded so
// the whole action has OVS's size), for code that writes these actions.

function dataOf(size: number, subtype: number): { data: Uint8Array; dv: DataView } {
  const data = new Uint8Array(size - HEADER);
  const dv = new DataView(data.buffer);
  dv.setUint16(0, subtype);
  return { data, dv };
}

/** NXAST_OUTPUT_TRUNC data (`encode_OUTPUT_TRUNC`). */
export function outputTruncData(port16: number, maxLen: number): Uint8Array {
  const { data, dv } = dataOf(SIZE.OUTPUT_TRUNC, NXAST_VIEW.OUTPUT_TRUNC);
  dv.setUint16(2, port16);
  dv.setUint32(4, maxLen >>> 0);
  return data;
}

/**
 * NXAST_SAMPLE, SAMPLE2 or SAMPLE3 data, chosen as OVS `encode_SAMPLE` does:
 * SAMPLE3 when a direction is given, SAMPLE2 when a sampling port is, else
 * the original 24-byte SAMPLE.
 */
export function sampleData(s: {
  readonly probability: number;
  readonly collectorSetId: number;
  readonly obsDomainId: number;
  readonly obsPointId: number;
  readonly samplingPort: number;
  readonly direction: number;
}): Uint8Array {
  const subtype =
    s.direction !== SAMPLE_DIRECTION.DEFAULT
      ? NXAST_VIEW.SAMPLE3
      : s.samplingPort !== OFPP_NONE
        ? NXAST_VIEW.SAMPLE2
        : NXAST_VIEW.SAMPLE;
  const { data, dv } = dataOf(subtype === NXAST_VIEW.SAMPLE ? SIZE.SAMPLE : SIZE.SAMPLE2, subtype);
  dv.setUint16(2, s.probability);
  dv.setUint32(4, s.collectorSetId >>> 0);
  dv.setUint32(8, s.obsDomainId >>> 0);
  dv.setUint32(12, s.obsPointId >>> 0);
  if (subtype !== NXAST_VIEW.SAMPLE) dv.setUint16(16, s.samplingPort);
  if (subtype === NXAST_VIEW.SAMPLE3) data[18] = s.direction;
  return data;
}

/** NXAST_STACK_PUSH / STACK_POP data: offset, bare header, n_bits, zero pad. */
export function stackData(push: boolean, sf: SubField): Uint8Array {
  const { data, dv } = dataOf(SIZE.STACK, push ? NXAST_VIEW.STACK_PUSH : NXAST_VIEW.STACK_POP);
  const f = sf.field;
  dv.setUint16(2, sf.ofs);
  dv.setUint32(4, (f.header | (f.size + (f.experimenter === undefined ? 0 : 4))) >>> 0);
  let at = 8;
  if (f.experimenter !== undefined) {
    dv.setUint32(8, f.experimenter);
    at = 12;
  }
  dv.setUint16(at, sf.nBits);
  return data;
}
