/**
 * OFPT_GET_CONFIG_REQUEST / OFPT_GET_CONFIG_REPLY / OFPT_SET_CONFIG
 * (OF1.3 §7.3.2).
 *
 *     request: ofp_header (8)
 *     reply, set: ofp_header (8) | flags (2) | miss_send_len (2)   = 12
 *
 * `miss_send_len` 0xffff (OFPCML_NO_BUFFER) asks for whole packets.
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

/** OF1.3 `enum ofp_config_flags`. */
export const OFPC_FRAG = { NORMAL: 0, DROP: 1, REASM: 2, MASK: 3 } as const;

export interface GetConfigRequestMessage {
  readonly type: "get_config_request";
  readonly xid: number;
}

export interface GetConfigReplyMessage {
  readonly type: "get_config_reply";
  readonly xid: number;
  readonly flags: number;
  readonly missSendLen: number;
}

export interface SetConfigMessage {
  readonly type: "set_config";
  readonly xid: number;
  readonly flags: number;
  readonly missSendLen: number;
}

export function decodeGetConfigReply(r: Reader, xid: number): GetConfigReplyMessage {
  const flags = r.u16();
  return { type: "get_config_reply", xid, flags, missSendLen: r.u16() };
}

export function decodeSetConfig(r: Reader, xid: number): SetConfigMessage {
  const flags = r.u16();
  return { type: "set_config", xid, flags, missSendLen: r.u16() };
}

export function encodeSwitchConfig(w: Writer, m: GetConfigReplyMessage | SetConfigMessage): void {
  w.u16(m.flags).u16(m.missSendLen);
}
