/**
 * `ofp_table_features` and its properties (OF1.3 §7.3.5.5), the entries of
 * OFPMP_TABLE_FEATURES requests and replies.
 *
 *     entry: length (2) | table_id (1) | pad (5) | name (32)
 *            | metadata_match (8) | metadata_write (8) | config (4)
 *            | max_entries (4) | property*                       length >= 64
 *     property: type (2) | length (2) | body | pad to 8 (NOT counted in length)
 *       INSTRUCTIONS(_MISS) 0/1:             instruction ids: type (2) | len (2) | [exp data]
 *       NEXT_TABLES(_MISS) 2/3:              table ids, 1 byte each
 *       WRITE/APPLY_ACTIONS(_MISS) 4-7:      action ids: type (2) | len (2) | [exp data]
 *       MATCH 8, WILDCARDS 10, WRITE/APPLY_SETFIELD(_MISS) 12-15:
 *                                            OXM headers (4; 8 with class 0xffff)
 *       EXPERIMENTER(_MISS) 0xfffe/0xffff:   experimenter (4) | exp_type (4) | data
 *
 * Decoder: an entry length under 64 or past its parent, or a property length
 * under 4 or past its entry, is OFPBPC_BAD_LEN, as OVS answers
 * (`ofputil_decode_table_features`, `ofpprop_pull`; OF1.3 code (13, 3), the
 * spec's OFPTFFC_BAD_LEN); an id whose len is under 4 is OFPBRC_BAD_LEN.
 * Unknown property types are kept as raw bytes. The pad after the last
 * property of an entry may be missing. The table name is NUL padded UTF-8.
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { assertNever } from "./assert-never.js";
import { OFP_TABLE_FEATURES_SIZE, OFP_TABLE_FEATURE_PROP_HEADER_SIZE } from "./sizes.js";

export const OFP_MAX_TABLE_NAME_LEN = 32;

/** OF1.3 `enum ofp_table_feature_prop_type`. */
export const OFPTFPT = {
  INSTRUCTIONS: 0,
  INSTRUCTIONS_MISS: 1,
  NEXT_TABLES: 2,
  NEXT_TABLES_MISS: 3,
  WRITE_ACTIONS: 4,
  WRITE_ACTIONS_MISS: 5,
  APPLY_ACTIONS: 6,
  APPLY_ACTIONS_MISS: 7,
  MATCH: 8,
  WILDCARDS: 10,
  WRITE_SETFIELD: 12,
  WRITE_SETFIELD_MISS: 13,
  APPLY_SETFIELD: 14,
  APPLY_SETFIELD_MISS: 15,
  EXPERIMENTER: 0xfffe,
  EXPERIMENTER_MISS: 0xffff,
} as const;

/** An instruction or action type as listed in a property (the TLV header only). */
export interface TlvId {
  readonly type: number;
  /** Bytes after the 4-byte header (experimenter id and data), usually empty. */
  readonly data: Uint8Array;
}

/** An OXM header as listed in a property; class 0xffff adds an experimenter id. */
export interface OxmId {
  readonly header: number;
  readonly experimenter: number | undefined;
}

type IdListKind = "instructions" | "instructions_miss";
type ActionListKind =
  "write_actions" | "write_actions_miss" | "apply_actions" | "apply_actions_miss";
type TableListKind = "next_tables" | "next_tables_miss";
type OxmListKind =
  | "match"
  | "wildcards"
  | "write_setfield"
  | "write_setfield_miss"
  | "apply_setfield"
  | "apply_setfield_miss";
type ExperimenterKind = "experimenter" | "experimenter_miss";

export type TableFeatureProperty =
  | { readonly kind: IdListKind | ActionListKind; readonly ids: readonly TlvId[] }
  | { readonly kind: TableListKind; readonly tableIds: readonly number[] }
  | { readonly kind: OxmListKind; readonly oxmIds: readonly OxmId[] }
  | {
      readonly kind: ExperimenterKind;
      readonly experimenter: number;
      readonly expType: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: "unknown"; readonly propertyType: number; readonly data: Uint8Array };

export interface TableFeatures {
  readonly tableId: number;
  readonly name: string;
  readonly metadataMatch: bigint;
  readonly metadataWrite: bigint;
  readonly config: number;
  readonly maxEntries: number;
  readonly properties: readonly TableFeatureProperty[];
}

type Shape = "ids" | "tables" | "oxms" | "experimenter";

/** Property type → (kind, body shape); the one table both directions read. */
const PROPERTY_KINDS: ReadonlyArray<
  readonly [number, Exclude<TableFeatureProperty["kind"], "unknown">, Shape]
> = [
  [OFPTFPT.INSTRUCTIONS, "instructions", "ids"],
  [OFPTFPT.INSTRUCTIONS_MISS, "instructions_miss", "ids"],
  [OFPTFPT.NEXT_TABLES, "next_tables", "tables"],
  [OFPTFPT.NEXT_TABLES_MISS, "next_tables_miss", "tables"],
  [OFPTFPT.WRITE_ACTIONS, "write_actions", "ids"],
  [OFPTFPT.WRITE_ACTIONS_MISS, "write_actions_miss", "ids"],
  [OFPTFPT.APPLY_ACTIONS, "apply_actions", "ids"],
  [OFPTFPT.APPLY_ACTIONS_MISS, "apply_actions_miss", "ids"],
  [OFPTFPT.MATCH, "match", "oxms"],
  [OFPTFPT.WILDCARDS, "wildcards", "oxms"],
  [OFPTFPT.WRITE_SETFIELD, "write_setfield", "oxms"],
  [OFPTFPT.WRITE_SETFIELD_MISS, "write_setfield_miss", "oxms"],
  [OFPTFPT.APPLY_SETFIELD, "apply_setfield", "oxms"],
  [OFPTFPT.APPLY_SETFIELD_MISS, "apply_setfield_miss", "oxms"],
  [OFPTFPT.EXPERIMENTER, "experimenter", "experimenter"],
  [OFPTFPT.EXPERIMENTER_MISS, "experimenter_miss", "experimenter"],
];
const BY_TYPE = new Map(PROPERTY_KINDS.map(([type, kind, shape]) => [type, { kind, shape }]));
const TYPE_BY_KIND = new Map<string, number>(PROPERTY_KINDS.map(([type, kind]) => [kind, type]));

const OXM_CLASS_EXPERIMENTER = 0xffff;

function decodeProperty(r: Reader): TableFeatureProperty {
  const start = r.pos;
  const propertyType = r.u16();
  const length = r.u16();
  if (length < OFP_TABLE_FEATURE_PROP_HEADER_SIZE) {
    throw new OfpError("OFPBPC_BAD_LEN", `table feature property length ${length}`, {
      offset: start,
    });
  }
  const body = r.sub(
    length - OFP_TABLE_FEATURE_PROP_HEADER_SIZE,
    "table feature property",
    "OFPBPC_BAD_LEN",
  );
  r.skip(Math.min((8 - (length % 8)) % 8, r.remaining));
  const row = BY_TYPE.get(propertyType);
  if (row === undefined) return { kind: "unknown", propertyType, data: body.rest() };
  switch (row.shape) {
    case "ids": {
      const ids: TlvId[] = [];
      while (body.remaining > 0) {
        const at = body.pos;
        const type = body.u16();
        const len = body.u16();
        if (len < 4) throw new OfpError("OFPBRC_BAD_LEN", `id len ${len}`, { offset: at });
        ids.push({ type, data: body.bytes(len - 4) });
      }
      return { kind: row.kind as IdListKind | ActionListKind, ids };
    }
    case "tables": {
      const tableIds: number[] = [];
      while (body.remaining > 0) tableIds.push(body.u8());
      return { kind: row.kind as TableListKind, tableIds };
    }
    case "oxms": {
      const oxmIds: OxmId[] = [];
      while (body.remaining > 0) {
        const header = body.u32();
        const experimenter = header >>> 16 === OXM_CLASS_EXPERIMENTER ? body.u32() : undefined;
        oxmIds.push({ header, experimenter });
      }
      return { kind: row.kind as OxmListKind, oxmIds };
    }
    case "experimenter": {
      const experimenter = body.u32();
      const expType = body.u32();
      return { kind: row.kind as ExperimenterKind, experimenter, expType, data: body.rest() };
    }
    default:
      return assertNever(row.shape);
  }
}

function encodeProperty(w: Writer, p: TableFeatureProperty): void {
  const token = w.beginLength(2);
  if (p.kind === "unknown") {
    w.u16(p.propertyType).u16(0).bytes(p.data);
  } else {
    w.u16(TYPE_BY_KIND.get(p.kind)!).u16(0);
    if ("ids" in p) {
      for (const id of p.ids)
        w.u16(id.type)
          .u16(4 + id.data.byteLength)
          .bytes(id.data);
    } else if ("tableIds" in p) {
      for (const t of p.tableIds) w.u8(t);
    } else if ("oxmIds" in p) {
      for (const o of p.oxmIds) {
        w.u32(o.header);
        if (o.experimenter !== undefined) w.u32(o.experimenter);
      }
    } else {
      w.u32(p.experimenter).u32(p.expType).bytes(p.data);
    }
  }
  w.endLength(token, "excluded");
}

export function decodeTableFeatures(r: Reader): TableFeatures {
  const start = r.pos;
  if (r.remaining < OFP_TABLE_FEATURES_SIZE) {
    throw new OfpError("OFPBPC_BAD_LEN", `${r.remaining} bytes left, not a table features entry`, {
      offset: start,
    });
  }
  const length = r.peekU16();
  if (length < OFP_TABLE_FEATURES_SIZE || length > r.remaining) {
    throw new OfpError("OFPBPC_BAD_LEN", `table features length ${length}`, { offset: start });
  }
  const e = r.sub(length, "table features");
  e.skip(2);
  const tableId = e.u8();
  e.skip(5);
  const name = e.fixedString(OFP_MAX_TABLE_NAME_LEN);
  const metadataMatch = e.u64();
  const metadataWrite = e.u64();
  const config = e.u32();
  const maxEntries = e.u32();
  const properties: TableFeatureProperty[] = [];
  while (e.remaining > 0) properties.push(decodeProperty(e));
  return { tableId, name, metadataMatch, metadataWrite, config, maxEntries, properties };
}

export function encodeTableFeatures(w: Writer, t: TableFeatures): void {
  const token = w.beginLength(0);
  w.u16(0).u8(t.tableId).zeros(5).fixedString(t.name, OFP_MAX_TABLE_NAME_LEN);
  w.u64(t.metadataMatch).u64(t.metadataWrite).u32(t.config).u32(t.maxEntries);
  for (const p of t.properties) encodeProperty(w, p);
  w.endLength(token, "none");
}
