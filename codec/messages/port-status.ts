/**
 * OFPT_PORT_STATUS (OF1.3 §7.4.3).
 *
 *     ofp_header (8) | reason (1) | pad (7) | ofp_port (64)   = 80
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { decodePort, encodePort, type OfpPort } from "./port.js";

/** OF1.3 `enum ofp_port_reason`. */
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

export interface PortStatusMessage {
  readonly type: "port_status";
  readonly xid: number;
  readonly reason: number;
  readonly port: OfpPort;
}

export function decodePortStatus(r: Reader, xid: number): PortStatusMessage {
  const reason = r.u8();
  r.skip(7);
  return { type: "port_status", xid, reason, port: decodePort(r) };
}

export function encodePortStatus(w: Writer, m: PortStatusMessage): void {
  w.u8(m.reason).zeros(7);
  encodePort(w, m.port);
}
