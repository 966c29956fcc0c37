/**
 * OFPT_PACKET_IN (OF1.3 §7.4.1).
 *
 *     ofp_header (8) | buffer_id (4) | total_len (2) | reason (1) | table_id (1)
 *     | cookie (8) | ofp_match (padded to 8) | pad (2) | data        >= 34
 *
 * The match holds pipeline metadata (in_port, tunnel, registers, ct state),
 * so it is decoded loosely, like OVS's `oxm_pull_match_loose`. OVS pulls the
 * 16 fixed bytes, then the match, then the pad: a message cut inside the
 * match is OFPBMC_BAD_LEN, one cut in the 2-byte pad OFPBRC_BAD_LEN. `total_len` is
 * the full frame length, which may exceed `data` when the switch truncated
 * it; it is kept as sent. OVS never buffers (buffer_id 0xffffffff).
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { MATCH_OPTIONS, decodeMatch, encodeMatch, type Match } from "./flow-model.js";

/** OF1.3 `enum ofp_packet_in_reason`. */
export const OFPR = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2 } as const;

export interface PacketInMessage {
  readonly type: "packet_in";
  readonly xid: number;
  readonly bufferId: number;
  readonly totalLen: number;
  readonly reason: number;
  readonly tableId: number;
  readonly cookie: bigint;
  readonly match: Match;
  readonly data: Uint8Array;
}

/**
 * `strict` (decodeMessage's default) reads the match like OVS's
 * `oxm_pull_match_loose` (values and masks checked, unknown fields kept);
 * otherwise structurally.
 */
export function decodePacketIn(r: Reader, xid: number, strict = true): PacketInMessage {
  const bufferId = r.u32();
  const totalLen = r.u16();
  const reason = r.u8();
  const tableId = r.u8();
  const cookie = r.u64();
  const match = decodeMatch(r, strict ? MATCH_OPTIONS.loose : MATCH_OPTIONS.structural);
  r.skip(2);
  return {
    type: "packet_in",
    xid,
    bufferId,
    totalLen,
    reason,
    tableId,
    cookie,
    match,
    data: r.rest(),
  };
}

export function encodePacketIn(w: Writer, m: PacketInMessage): void {
  w.u32(m.bufferId).u16(m.totalLen).u8(m.reason).u8(m.tableId).u64(m.cookie);
  encodeMatch(w, m.match);
  w.zeros(2).bytes(m.data);
}
