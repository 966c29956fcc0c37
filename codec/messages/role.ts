/**
 * OFPT_ROLE_REQUEST / OFPT_ROLE_REPLY (OF1.3 §7.3.9).
 *
 *     ofp_header (8) | role (4) | pad (4) | generation_id (8)   = 24
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

/** OF1.3 `enum ofp_controller_role`. */
export const OFPCR_ROLE = { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 } as const;

export interface RoleRequestMessage {
  readonly type: "role_request";
  readonly xid: number;
  readonly role: number;
  readonly generationId: bigint;
}

export interface RoleReplyMessage {
  readonly type: "role_reply";
  readonly xid: number;
  readonly role: number;
  readonly generationId: bigint;
}

/** Highest role value (OFPCR_ROLE_SLAVE). */
const MAX_ROLE = OFPCR_ROLE.SLAVE;

/** `strict`: a role above SLAVE is OFPRRFC_BAD_ROLE, as OVS `ofputil_decode_role_message`. */
export function decodeRole<T extends "role_request" | "role_reply">(
  r: Reader,
  type: T,
  xid: number,
  strict = true,
): { type: T; xid: number; role: number; generationId: bigint } {
  const role = r.u32();
  if (strict && role > MAX_ROLE) {
    throw new OfpError("OFPRRFC_BAD_ROLE", `role ${role}`, { offset: 8 });
  }
  r.skip(4);
  return { type, xid, role, generationId: r.u64() };
}

export function encodeRole(w: Writer, m: RoleRequestMessage | RoleReplyMessage): void {
  w.u32(m.role).zeros(4).u64(m.generationId);
}
