/**
 * OFPT_PACKET_OUT (OF1.3 §7.3.7).
 *
 *     ofp_header (8) | buffer_id (4) | in_port (4) | actions_len (2) | pad (6)
 *     | action* (actions_len bytes) | data                          >= 24
 *
 * `actions_len` past the end of the message, or not a multiple of 8, is
 * OFPBRC_BAD_LEN (OVS `ofpacts_pull_openflow_actions`). The data is the frame
 * to send; with OVS it must be present, since OVS has no buffers.
 *
 * Strict decode follows OVS `ofputil_decode_packet_out`: in_port outside
 * OVS's port range is OFPBAC_BAD_OUT_PORT (OVS converts it with its
 * output-port helper), a reserved in_port other than LOCAL, CONTROLLER or ANY
 * is OFPBRC_BAD_PORT; the actions get OVS's decode checks. OVS does not check
 * them against a match here (`set_field:10.0.0.1->ip_dst` in a packet-out
 * decodes, checked with ofp-print), and neither do we.
 */
import { OfpError } from "../errors.js";
import { OFPP, isOf11PortInRange } from "../ports.js";
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

const ACTION_ALIGN = 8;
const STRICT = { strict: true } as const;
const STRUCTURAL = { strict: false } as const;

export function decodePacketOut(r: Reader, xid: number, strict = true): PacketOutMessage {
  const bufferId = r.u32();
  const inPort = r.u32();
  const actionsLen = r.u16();
  r.skip(6);
  if (strict) checkInPort(inPort);
  if (actionsLen % ACTION_ALIGN !== 0) {
    throw new OfpError("OFPBRC_BAD_LEN", `packet_out actions_len ${actionsLen}`, { offset: 16 });
  }
  const actions = decodeActions(
    r.sub(actionsLen, "packet_out actions", "OFPBRC_BAD_LEN"),
    strict ? STRICT : STRUCTURAL,
  );
  return { type: "packet_out", xid, bufferId, inPort, actions, data: r.rest() };
}

/** OVS `ofputil_decode_packet_out`: in_port must be a real port, LOCAL, CONTROLLER or ANY. */
function checkInPort(inPort: number): void {
  if (!isOf11PortInRange(inPort)) {
    throw new OfpError("OFPBAC_BAD_OUT_PORT", `packet_out in_port 0x${inPort.toString(16)}`, {
      offset: 12,
    });
  }
  const p = inPort >>> 0;
  if (p >= OFPP.MAX && p !== OFPP.LOCAL && p !== OFPP.CONTROLLER && p !== OFPP.ANY) {
    throw new OfpError("OFPBRC_BAD_PORT", `packet_out in_port 0x${p.toString(16)}`, {
      offset: 12,
    });
  }
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
