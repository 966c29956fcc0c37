/**
 * OFPT_PORT_MOD (OF1.3 §7.3.4.3).
 *
 *     ofp_header (8) | port_no (4) | pad (4) | hw_addr (6) | pad (2)
 *     | config (4) | mask (4) | advertise (4) | pad (4)   = 40
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { OFP_ETH_ALEN } from "./port.js";

export interface PortModMessage {
  readonly type: "port_mod";
  readonly xid: number;
  readonly portNo: number;
  /** 6 bytes. */
  readonly hwAddr: Uint8Array;
  readonly config: number;
  readonly mask: number;
  readonly advertise: number;
}

export function decodePortMod(r: Reader, xid: number): PortModMessage {
  const portNo = r.u32();
  r.skip(4);
  const hwAddr = r.bytes(OFP_ETH_ALEN);
  r.skip(2);
  const config = r.u32();
  const mask = r.u32();
  const advertise = r.u32();
  r.skip(4);
  return { type: "port_mod", xid, portNo, hwAddr, config, mask, advertise };
}

export function encodePortMod(w: Writer, m: PortModMessage): void {
  w.u32(m.portNo).zeros(4).bytes(m.hwAddr).zeros(2);
  w.u32(m.config).u32(m.mask).u32(m.advertise).zeros(4);
}
