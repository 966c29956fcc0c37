/**
 * OpenFlow 1.3 port numbers (OF1.3 §7.2.1 `ofp_port_no`) and the names
 * ovs-ofctl gives the reserved ones.
 */

/** Reserved ports, as the 32-bit values on the wire. */
export const OFPP = {
  /** Highest number of a physical/logical switch port. */
  MAX: 0xffffff00,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  /** "No port": wildcard in requests; never a valid output port. */
  ANY: 0xffffffff,
} as const;
export type ReservedPort = (typeof OFPP)[Exclude<keyof typeof OFPP, "MAX">];

/** `max_len` value meaning "send the whole packet, do not buffer" (OFPCML_NO_BUFFER). */
export const OFPCML_NO_BUFFER = 0xffff;

/** Reserved ports by ovs-ofctl name, in ovs-ofctl's spelling (upper case). */
export const RESERVED_PORT_NAMES = [
  ["IN_PORT", OFPP.IN_PORT],
  ["TABLE", OFPP.TABLE],
  ["NORMAL", OFPP.NORMAL],
  ["FLOOD", OFPP.FLOOD],
  ["ALL", OFPP.ALL],
  ["CONTROLLER", OFPP.CONTROLLER],
  ["LOCAL", OFPP.LOCAL],
  ["ANY", OFPP.ANY],
] as const;

const nameByPort = new Map<number, string>(RESERVED_PORT_NAMES.map(([n, p]) => [p, n]));
const portByName = new Map<string, number>(RESERVED_PORT_NAMES.map(([n, p]) => [n, p]));
// ovs-ofctl also accepts "NONE" for ANY (OF1.0 name).
portByName.set("NONE", OFPP.ANY);

/** The ovs-ofctl name of a reserved port, or undefined for ordinary port numbers. */
export function reservedPortName(port: number): string | undefined {
  return nameByPort.get(port >>> 0);
}

/** Port number for an ovs-ofctl reserved name (case-insensitive), or undefined. */
export function reservedPortByName(name: string): number | undefined {
  return portByName.get(name.toUpperCase());
}

/**
 * Whether `port` may be the target of an OFPAT_OUTPUT in OpenFlow 1.3 as OVS
 * accepts it (`ofputil_port_from_ofp11` + `ofpact_check_output_port`):
 * ordinary ports below 0xff00 (OVS's 16-bit port space) or one of the
 * reserved ports IN_PORT..LOCAL. ANY and the 0xff00..0xfffffff7 gap are
 * OFPBAC_BAD_OUT_PORT.
 */
export function isValidOutputPort(port: number): boolean {
  const p = port >>> 0;
  return p < 0xff00 || (p >= OFPP.IN_PORT && p <= OFPP.LOCAL);
}

/** Whether an OF1.1+ port number maps to an OVS port (`ofputil_port_from_ofp11`). */
export function isOf11PortInRange(port: number): boolean {
  const p = port >>> 0;
  return p < 0xff00 || p >= OFPP.MAX;
}
