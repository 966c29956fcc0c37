/**
 * OFPT_PACKET_OUT (OF1.3 §7.3.7).
 *
 *     ofp_header (8) | buffer_id (4) | in_port (4) | actions_len (2) | pad (6)
 *     | action* (actions_len bytes) | data                          >= 24
 *
 * `actions_len` past the end of the message is OFPBRC_BAD_LEN. The data is
 * the frame to send; with OVS it must be present, since OVS has no buffers.
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { decodeActions, encodeActions, type Action } from "./flow-model.js";

export interface PacketOutMessage {
  readonly type: "packet_out";
  readonly xid: number;
  readonly bufferId: number;
  readonly inPort: number;
  readonly actions: readonly Action[];
  readonly data: Uint8Array;
}

export function decodePacketOut(r: Reader, xid: number): PacketOutMessage {
  const bufferId = r.u32();
  const inPort = r.u32();
  const actionsLen = r.u16();
  r.skip(6);
  const actions = decodeActions(r.sub(actionsLen, "packet_out actions", "OFPBRC_BAD_LEN"));
  return { type: "packet_out", xid, bufferId, inPort, actions, data: r.rest() };
}

export function encodePacketOut(w: Writer, m: PacketOutMessage): void {
  w.u32(m.bufferId).u32(m.inPort);
  const lengthAt = w.pos;
  w.u16(0).zeros(6);
  const start = w.pos;
  encodeActions(w, m.actions);
  w.setU16(lengthAt, w.pos - start);
  w.bytes(m.data);
}
