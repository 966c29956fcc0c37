/**
 * The OVSDB data notation (RFC 7047 §5.1) in both directions.
 *
 * - Atoms: JSON integers, reals, booleans and strings, plus
 *   `["uuid", "<uuid>"]` and, inside one transaction, `["named-uuid", "<id>"]`.
 * - Sets: `["set", [atom…]]`; a set of exactly one element may be sent as the
 *   bare atom, and servers do so (ovsdb-server writes `"tag": 5`, and
 *   `"tag": ["set", []]` when empty).
 * - Maps: `["map", [[key, value]…]]`.
 *
 * Readers accept every legal spelling; writers always send the explicit
 * `set`/`map` forms except for scalar columns.
 */

export type OvsdbUuid = readonly ["uuid", string];
export type OvsdbNamedUuid = readonly ["named-uuid", string];
export type OvsdbAtom = string | number | boolean | OvsdbUuid | OvsdbNamedUuid;
export type OvsdbSet = readonly ["set", readonly OvsdbAtom[]];
export type OvsdbMap = readonly ["map", readonly (readonly [OvsdbAtom, OvsdbAtom])[]];
export type OvsdbValue = OvsdbAtom | OvsdbSet | OvsdbMap;
/** A table row as sent or received: column name → value. */
export type OvsdbRow = Readonly<Record<string, OvsdbValue>>;

export const uuid = (id: string): OvsdbUuid => ["uuid", id];
export const namedUuid = (id: string): OvsdbNamedUuid => ["named-uuid", id];

export function ovsSet(items: readonly OvsdbAtom[]): OvsdbSet {
  return ["set", items];
}

export function ovsMap(entries: Iterable<readonly [string, string]>): OvsdbMap {
  return ["map", [...entries].map(([k, v]) => [k, v] as const)];
}

/** A string-keyed, string-valued map (other_config, options, external_ids). */
export function ovsStringMap(m: Readonly<Record<string, string>>): OvsdbMap {
  return ovsMap(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Thrown when a value read from the server does not have the expected shape. */
export class OvsdbDatumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OvsdbDatumError";
  }
}

function isTagged(v: unknown, tag: string): v is readonly [string, unknown] {
  return Array.isArray(v) && v.length === 2 && v[0] === tag;
}

/** The elements of a set-typed value (a bare atom is a one-element set). */
export function readSet(v: unknown): unknown[] {
  if (isTagged(v, "set")) {
    const items = v[1];
    if (!Array.isArray(items)) throw new OvsdbDatumError("malformed set");
    return items as unknown[];
  }
  if (v === undefined) return [];
  return [v];
}

/** A string → string map (keys and values both strings, as in the vswitch schema). */
export function readStringMap(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (v === undefined) return out;
  if (!isTagged(v, "map") || !Array.isArray(v[1])) throw new OvsdbDatumError("malformed map");
  for (const pair of v[1] as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new OvsdbDatumError("malformed map pair");
    const [k, val] = pair as [unknown, unknown];
    if (typeof k !== "string" || typeof val !== "string")
      throw new OvsdbDatumError("map is not string → string");
    out.set(k, val);
  }
  return out;
}

/** The uuid string of a `["uuid", …]` atom. */
export function readUuid(v: unknown): string {
  if (isTagged(v, "uuid") && typeof v[1] === "string") return v[1];
  throw new OvsdbDatumError(`expected a uuid, got ${JSON.stringify(v)}`);
}

/** A set of uuids (e.g. Bridge.ports). */
export function readUuidSet(v: unknown): string[] {
  return readSet(v).map(readUuid);
}

/** An optional scalar (a set with min 0, max 1): the element or undefined. */
export function readOptional(v: unknown): unknown {
  const s = readSet(v);
  if (s.length > 1) throw new OvsdbDatumError("optional column holds more than one value");
  return s[0];
}

export function readOptionalString(v: unknown): string | undefined {
  const x = readOptional(v);
  if (x === undefined || typeof x === "string") return x;
  throw new OvsdbDatumError(`expected a string, got ${JSON.stringify(x)}`);
}

export function readOptionalInteger(v: unknown): number | undefined {
  const x = readOptional(v);
  if (x === undefined || (typeof x === "number" && Number.isInteger(x))) return x;
  throw new OvsdbDatumError(`expected an integer, got ${JSON.stringify(x)}`);
}

export function readString(v: unknown): string {
  if (typeof v === "string") return v;
  throw new OvsdbDatumError(`expected a string, got ${JSON.stringify(v)}`);
}

export function readStringSet(v: unknown): string[] {
  return readSet(v).map(readString);
}
