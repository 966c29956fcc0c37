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
 * Group type/weight consistency (e.g. weights only in select groups) is a
 * switch policy and not checked here.
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { decodeActions, encodeActions, type Action } from "./flow-model.js";
import { OFP_BUCKET_SIZE } from "./sizes.js";

/** OF1.3 `enum ofp_group_mod_command`. */
export const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
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

export function decodeBucket(r: Reader): Bucket {
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
  const actions = decodeActions(r.sub(len - OFP_BUCKET_SIZE, "bucket actions"));
  return { weight, watchPort, watchGroup, actions };
}

export function encodeBucket(w: Writer, b: Bucket): void {
  const token = w.beginLength(0);
  w.u16(0).u16(b.weight).u32(b.watchPort).u32(b.watchGroup).zeros(4);
  encodeActions(w, b.actions);
  w.endLength(token, "none");
}

/** Buckets until `r` is exhausted. */
export function decodeBuckets(r: Reader): Bucket[] {
  const buckets: Bucket[] = [];
  while (r.remaining > 0) buckets.push(decodeBucket(r));
  return buckets;
}

export function decodeGroupMod(r: Reader, xid: number): GroupModMessage {
  const command = r.u16();
  const groupType = r.u8();
  r.skip(1);
  const groupId = r.u32();
  return { type: "group_mod", xid, command, groupType, groupId, buckets: decodeBuckets(r) };
}

export function encodeGroupMod(w: Writer, m: GroupModMessage): void {
  w.u16(m.command).u8(m.groupType).zeros(1).u32(m.groupId);
  for (const b of m.buckets) encodeBucket(w, b);
}
