/**
 * The group table (OF1.3 §5.6): all, select, indirect and fast-failover
 * groups with their buckets compiled to ops, counters, and GROUP_MOD.
 *
 * GROUP_MOD errors follow OVS (`ofproto.c` add_group/modify_group,
 * `ofputil_decode_group_mod`): ADD of an existing id → OFPGMFC_GROUP_EXISTS;
 * MODIFY of a missing id → OFPGMFC_UNKNOWN_GROUP; DELETE of a missing id is
 * not an error; an id above OFPG_MAX (except OFPG_ALL in DELETE) →
 * OFPGMFC_INVALID_GROUP; an unknown type → OFPGMFC_BAD_TYPE; an unknown
 * command → OFPGMFC_BAD_COMMAND; an indirect group without exactly one bucket
 * → OFPGMFC_INVALID_GROUP; bucket weights outside select groups →
 * OFPGMFC_INVALID_GROUP; a fast-failover bucket watching nothing →
 * OFPGMFC_INVALID_GROUP. Deleting a group removes the flows that use it (OF1.3
 * §6.5) — the bridge does that part.
 */
import { OfpError } from "../codec/errors.js";
import { OFPGT, type Bucket, type GroupModMessage } from "../codec/messages/group-mod.js";
import { OFPP } from "../codec/ports.js";
import { compileActions, type CompileContext, type Op } from "./actions/compile.js";

/** Highest ordinary group id; OFPG_ALL / OFPG_ANY are wildcards. */
export const OFPG = { MAX: 0xffffff00, ALL: 0xfffffffc, ANY: 0xffffffff } as const;

export interface CompiledBucket {
  readonly bucket: Bucket;
  readonly ops: readonly Op[];
  packetCount: number;
  byteCount: number;
}

export class Group {
  readonly id: number;
  readonly type: number;
  readonly buckets: readonly CompiledBucket[];
  readonly createdMs: number;
  packetCount = 0;
  byteCount = 0;

  constructor(id: number, type: number, buckets: readonly CompiledBucket[], nowMs: number) {
    this.id = id;
    this.type = type;
    this.buckets = buckets;
    this.createdMs = nowMs;
  }
}

export function compileBuckets(m: GroupModMessage, ctx: CompileContext): CompiledBucket[] {
  if (m.groupType > OFPGT.FF) throw new OfpError("OFPGMFC_BAD_TYPE", `group type ${m.groupType}`);
  if (m.groupType === OFPGT.INDIRECT && m.buckets.length !== 1) {
    throw new OfpError("OFPGMFC_INVALID_GROUP", "an indirect group needs exactly one bucket");
  }
  const out: CompiledBucket[] = [];
  for (const b of m.buckets) {
    if (m.groupType !== OFPGT.SELECT && b.weight !== 0) {
      throw new OfpError("OFPGMFC_INVALID_GROUP", "bucket weight outside a select group");
    }
    if (
      m.groupType === OFPGT.FF &&
      b.watchPort >>> 0 === OFPP.ANY &&
      b.watchGroup >>> 0 === OFPG.ANY
    ) {
      throw new OfpError("OFPGMFC_INVALID_GROUP", "fast-failover bucket watches nothing");
    }
    for (const a of b.actions) {
      if (a.type === "group" && a.groupId === m.groupId) {
        throw new OfpError("OFPGMFC_LOOP", `group ${m.groupId} refers to itself`);
      }
    }
    out.push({ bucket: b, ops: compileActions(b.actions, ctx), packetCount: 0, byteCount: 0 });
  }
  return out;
}
