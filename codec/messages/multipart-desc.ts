/**
 * Description and feature bodies of OF1.3 multipart replies
 * (OF1.3 §7.3.5.1, 7.3.5.10-11, 7.3.5.13-14).
 *
 *     desc:           mfr_desc (256) | hw_desc (256) | sw_desc (256)
 *                     | serial_num (32) | dp_desc (256)             = 1056
 *     group_desc:     length (2) | type (1) | pad (1) | group_id (4) | bucket*
 *     group_features: types (4) | capabilities (4) | max_groups[4] (16)
 *                     | actions[4] (16)                              = 40
 *     meter_config:   length (2) | flags (2) | meter_id (4) | band*
 *     meter_features: max_meter (4) | band_types (4) | capabilities (4)
 *                     | max_bands (1) | max_color (1) | pad (2)      = 16
 *
 * Strings are NUL padded UTF-8 (bytes after the first NUL are not kept).
 * Variable entries shorter than 8 or past the message are OFPBRC_BAD_LEN.
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { decodeBuckets, encodeBucket, type Bucket } from "./group-mod.js";
import { decodeMeterBands, encodeMeterBand, type MeterBand } from "./meter-mod.js";
import { OFP_GROUP_DESC_SIZE, OFP_METER_CONFIG_SIZE } from "./sizes.js";

export const DESC_STR_LEN = 256;
export const SERIAL_NUM_LEN = 32;

export interface SwitchDesc {
  readonly mfrDesc: string;
  readonly hwDesc: string;
  readonly swDesc: string;
  readonly serialNum: string;
  readonly dpDesc: string;
}

export interface GroupDesc {
  readonly groupType: number;
  readonly groupId: number;
  readonly buckets: readonly Bucket[];
}

export type Quad = readonly [number, number, number, number];

export interface GroupFeatures {
  readonly types: number;
  readonly capabilities: number;
  /** Per group type (all, select, indirect, ff). */
  readonly maxGroups: Quad;
  /** Bitmap of OFPAT_* per group type. */
  readonly actions: Quad;
}

export interface MeterConfig {
  readonly flags: number;
  readonly meterId: number;
  readonly bands: readonly MeterBand[];
}

export interface MeterFeatures {
  readonly maxMeter: number;
  readonly bandTypes: number;
  readonly capabilities: number;
  readonly maxBands: number;
  readonly maxColor: number;
}

export function decodeSwitchDesc(r: Reader): SwitchDesc {
  return {
    mfrDesc: r.fixedString(DESC_STR_LEN),
    hwDesc: r.fixedString(DESC_STR_LEN),
    swDesc: r.fixedString(DESC_STR_LEN),
    serialNum: r.fixedString(SERIAL_NUM_LEN),
    dpDesc: r.fixedString(DESC_STR_LEN),
  };
}

export function encodeSwitchDesc(w: Writer, d: SwitchDesc): void {
  w.fixedString(d.mfrDesc, DESC_STR_LEN).fixedString(d.hwDesc, DESC_STR_LEN);
  w.fixedString(d.swDesc, DESC_STR_LEN).fixedString(d.serialNum, SERIAL_NUM_LEN);
  w.fixedString(d.dpDesc, DESC_STR_LEN);
}

/** A child reader over a variable entry whose 16-bit length is its first field. */
function entryReader(r: Reader, min: number, what: string): Reader {
  const start = r.pos;
  const length = r.peekU16();
  if (length < min || length > r.remaining) {
    throw new OfpError("OFPBRC_BAD_LEN", `${what} length ${length}`, { offset: start });
  }
  const e = r.sub(length, what);
  e.skip(2);
  return e;
}

/** `strict`: OVS's action checks inside the buckets; otherwise structural. */
export function decodeGroupDesc(r: Reader, strict = true): GroupDesc {
  const e = entryReader(r, OFP_GROUP_DESC_SIZE, "group desc");
  const groupType = e.u8();
  e.skip(1);
  const groupId = e.u32();
  return { groupType, groupId, buckets: decodeBuckets(e, strict) };
}

export function encodeGroupDesc(w: Writer, g: GroupDesc): void {
  const token = w.beginLength(0);
  w.u16(0).u8(g.groupType).zeros(1).u32(g.groupId);
  for (const b of g.buckets) encodeBucket(w, b);
  w.endLength(token, "none");
}

function quad(r: Reader): Quad {
  return [r.u32(), r.u32(), r.u32(), r.u32()];
}

export function decodeGroupFeatures(r: Reader): GroupFeatures {
  const types = r.u32();
  const capabilities = r.u32();
  const maxGroups = quad(r);
  return { types, capabilities, maxGroups, actions: quad(r) };
}

export function encodeGroupFeatures(w: Writer, f: GroupFeatures): void {
  w.u32(f.types).u32(f.capabilities);
  for (const v of f.maxGroups) w.u32(v);
  for (const v of f.actions) w.u32(v);
}

export function decodeMeterConfig(r: Reader): MeterConfig {
  const e = entryReader(r, OFP_METER_CONFIG_SIZE, "meter config");
  const flags = e.u16();
  const meterId = e.u32();
  return { flags, meterId, bands: decodeMeterBands(e) };
}

export function encodeMeterConfig(w: Writer, c: MeterConfig): void {
  const token = w.beginLength(0);
  w.u16(0).u16(c.flags).u32(c.meterId);
  for (const b of c.bands) encodeMeterBand(w, b);
  w.endLength(token, "none");
}

export function decodeMeterFeatures(r: Reader): MeterFeatures {
  const maxMeter = r.u32();
  const bandTypes = r.u32();
  const capabilities = r.u32();
  const maxBands = r.u8();
  const maxColor = r.u8();
  r.skip(2);
  return { maxMeter, bandTypes, capabilities, maxBands, maxColor };
}

export function encodeMeterFeatures(w: Writer, f: MeterFeatures): void {
  w.u32(f.maxMeter).u32(f.bandTypes).u32(f.capabilities).u8(f.maxBands).u8(f.maxColor).zeros(2);
}
