/**
 * OFPT_GROUP_MOD (OF1.3 §7.3.4.2) and `ofp_bucket`, also used by the
 * OFPMP_GROUP_DESC reply.
 *
 *     ofp_header (8) | command (2) | type (1) | pad (1) | group_id (4) | bucket*
 *     bucket: len (2) | weight (2) | watch_port (4) | watch_group (4) | pad (4)
 *             | action*                                               len >= 16
 *
 * A bucket's len covers the whole bucket. A len under 16 or past the
 * message is OFPGMFC_BAD_BUCKET, as OVS reports it (`ofputil_pull_ofp11_buckets`).
 *
 * Strict decode adds OVS's `ofputil_pull_ofp11_buckets` and
 * `ofputil_check_group_mod`: a watch_port outside OVS's port range →
 * OFPGMFC_BAD_WATCH; a DELETE carrying buckets → OFPGMFC_INVALID_GROUP; an
 * unknown group type → OFPGMFC_BAD_TYPE; an INDIRECT group without exactly one
 * bucket → OFPGMFC_INVALID_GROUP; an unknown command → OFPGMFC_BAD_COMMAND
 * (OVS also takes OF1.5's insert/remove bucket, 3 and 4, and its ADD_OR_MOD
 * 0x8000); remove-bucket with buckets → OFPGMFC_BAD_BUCKET; a weight outside a
 * SELECT group → OFPGMFC_INVALID_GROUP; a watched bucket in an ALL/INDIRECT
 * group → OFPGMFC_WATCH_UNSUPPORTED, an unwatched one in a FF group →
 * OFPGMFC_INVALID_GROUP.
 */
import { OfpError } from "../errors.js";
import { OFPP, isOf11PortInRange } from "../ports.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { decodeActions, encodeActions, type Action } from "./flow-model.js";
import { OFP_BUCKET_SIZE } from "./sizes.js";

/** OF1.3 `enum ofp_group_mod_command`. */
export const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
/** Commands OVS accepts in OF1.3 besides the spec's (OF1.5 bucket commands, OVS's add-or-modify). */
const OFPGC15_INSERT_BUCKET = 3;
const OFPGC15_REMOVE_BUCKET = 4;
const OFPGC11_ADD_OR_MOD = 0x8000;
/** OFPG_ANY: "no group" in watch_group. */
const OFPG_ANY = 0xffffffff;
/** OF1.3 `enum ofp_group_type`. */
export const OFPGT = { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 } as const;

export interface Bucket {
  readonly weight: number;
  readonly watchPort: number;
  readonly watchGroup: number;
  readonly actions: readonly Action[];
}

export interface GroupModMessage {
  readonly type: "group_mod";
  readonly xid: number;
  readonly command: number;
  readonly groupType: number;
  readonly groupId: number;
  readonly buckets: readonly Bucket[];
}

const STRICT = { strict: true } as const;
const STRUCTURAL = { strict: false } as const;

/** One bucket; `strict`: OVS's action checks and watch_port range. */
export function decodeBucket(r: Reader, strict = true): Bucket {
  const start = r.pos;
  r.need(OFP_BUCKET_SIZE, "bucket", "OFPGMFC_BAD_BUCKET");
  const len = r.u16();
  if (len < OFP_BUCKET_SIZE || len - 2 > r.remaining) {
    throw new OfpError("OFPGMFC_BAD_BUCKET", `bucket len ${len}`, { offset: start });
  }
  const weight = r.u16();
  const watchPort = r.u32();
  const watchGroup = r.u32();
  r.skip(4);
  const actions = decodeActions(
    r.sub(len - OFP_BUCKET_SIZE, "bucket actions"),
    strict ? STRICT : STRUCTURAL,
  );
  if (strict && !isOf11PortInRange(watchPort)) {
    throw new OfpError("OFPGMFC_BAD_WATCH", `watch_port 0x${watchPort.toString(16)}`, {
      offset: start + 4,
    });
  }
  return { weight, watchPort, watchGroup, actions };
}

export function encodeBucket(w: Writer, b: Bucket): void {
  const token = w.beginLength(0);
  w.u16(0).u16(b.weight).u32(b.watchPort).u32(b.watchGroup).zeros(4);
  encodeActions(w, b.actions);
  w.endLength(token, "none");
}

/** Buckets until `r` is exhausted. */
export function decodeBuckets(r: Reader, strict = true): Bucket[] {
  const buckets: Bucket[] = [];
  while (r.remaining > 0) buckets.push(decodeBucket(r, strict));
  return buckets;
}

export function decodeGroupMod(r: Reader, xid: number, strict = true): GroupModMessage {
  const command = r.u16();
  const groupType = r.u8();
  r.skip(1);
  const groupId = r.u32();
  const buckets = decodeBuckets(r, strict);
  if (strict) checkGroupMod(command, groupType, buckets);
  return { type: "group_mod", xid, command, groupType, groupId, buckets };
}

/** OVS `ofputil_pull_ofp11_group_mod` (DELETE with buckets) + `ofputil_check_group_mod`. */
function checkGroupMod(command: number, groupType: number, buckets: readonly Bucket[]): void {
  if (command === OFPGC.DELETE && buckets.length > 0) {
    throw new OfpError("OFPGMFC_INVALID_GROUP", "group delete with buckets");
  }
  switch (groupType) {
    case OFPGT.INDIRECT:
      if (command !== OFPGC.DELETE && buckets.length !== 1) {
        throw new OfpError("OFPGMFC_INVALID_GROUP", "indirect group needs exactly one bucket");
      }
      break;
    case OFPGT.ALL:
    case OFPGT.SELECT:
    case OFPGT.FF:
      break;
    default:
      throw new OfpError("OFPGMFC_BAD_TYPE", `group type ${groupType}`);
  }
  switch (command) {
    case OFPGC.ADD:
    case OFPGC.MODIFY:
    case OFPGC11_ADD_OR_MOD:
    case OFPGC.DELETE:
    case OFPGC15_INSERT_BUCKET:
      break;
    case OFPGC15_REMOVE_BUCKET:
      if (buckets.length > 0)
        throw new OfpError("OFPGMFC_BAD_BUCKET", "remove-bucket with buckets");
      break;
    default:
      throw new OfpError("OFPGMFC_BAD_COMMAND", `group command ${command}`);
  }
  for (const b of buckets) {
    if (b.weight !== 0 && groupType !== OFPGT.SELECT) {
      throw new OfpError("OFPGMFC_INVALID_GROUP", "bucket weight outside a select group");
    }
    const live = b.watchPort !== OFPP.ANY || b.watchGroup !== OFPG_ANY;
    if ((groupType === OFPGT.ALL || groupType === OFPGT.INDIRECT) && live) {
      throw new OfpError(
        "OFPGMFC_WATCH_UNSUPPORTED",
        "watched bucket outside a fast-failover group",
      );
    }
    if (groupType === OFPGT.FF && !live) {
      throw new OfpError("OFPGMFC_INVALID_GROUP", "fast-failover bucket without a watch");
    }
  }
}

export function encodeGroupMod(w: Writer, m: GroupModMessage): void {
  w.u16(m.command).u8(m.groupType).zeros(1).u32(m.groupId);
  for (const b of m.buckets) encodeBucket(w, b);
}
