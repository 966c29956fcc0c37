/**
 * `struct ofp_port` (OF1.3 §7.2.1), shared by OFPT_PORT_STATUS and the
 * OFPMP_PORT_DESC reply.
 *
 *     port_no (4) | pad (4) | hw_addr (6) | pad (2) | name (16, NUL padded)
 *     | config (4) | state (4) | curr (4) | advertised (4) | supported (4)
 *     | peer (4) | curr_speed (4) | max_speed (4)   = 64
 *
 * The name is ASCII up to its first NUL; bytes after the NUL are dropped on
 * decode and written as zero (OVS does the same: `ovs_strlcpy`).
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export const OFP_MAX_PORT_NAME_LEN = 16;
export const OFP_ETH_ALEN = 6;

/** OF1.3 `enum ofp_port_config`. */
export const OFPPC = {
  PORT_DOWN: 1 << 0,
  NO_RECV: 1 << 2,
  NO_FWD: 1 << 5,
  NO_PACKET_IN: 1 << 6,
} as const;
/** OF1.3 `enum ofp_port_state`. */
export const OFPPS = { LINK_DOWN: 1 << 0, BLOCKED: 1 << 1, LIVE: 1 << 2 } as const;

export interface OfpPort {
  readonly portNo: number;
  /** 6 bytes. */
  readonly hwAddr: Uint8Array;
  readonly name: string;
  readonly config: number;
  readonly state: number;
  readonly curr: number;
  readonly advertised: number;
  readonly supported: number;
  readonly peer: number;
  /** kbps */
  readonly currSpeed: number;
  /** kbps */
  readonly maxSpeed: number;
}

export function decodePort(r: Reader): OfpPort {
  const portNo = r.u32();
  r.skip(4);
  const hwAddr = r.bytes(OFP_ETH_ALEN);
  r.skip(2);
  const name = r.fixedString(OFP_MAX_PORT_NAME_LEN);
  return {
    portNo,
    hwAddr,
    name,
    config: r.u32(),
    state: r.u32(),
    curr: r.u32(),
    advertised: r.u32(),
    supported: r.u32(),
    peer: r.u32(),
    currSpeed: r.u32(),
    maxSpeed: r.u32(),
  };
}

export function encodePort(w: Writer, p: OfpPort): void {
  w.u32(p.portNo).zeros(4).bytes(p.hwAddr).zeros(2).fixedString(p.name, OFP_MAX_PORT_NAME_LEN);
  w.u32(p.config).u32(p.state).u32(p.curr).u32(p.advertised).u32(p.supported).u32(p.peer);
  w.u32(p.currSpeed).u32(p.maxSpeed);
}
