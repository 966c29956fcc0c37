/**
 * OpenFlow port numbers as ovs-ofctl reads and writes them.
 *
 * OVS keeps ports internally in the 16-bit OpenFlow 1.0 space and maps the
 * OF1.1+ 32-bit reserved range 0xffffff00.. onto 0xff00.. (`ofputil_port_from_ofp11`,
 * `OFPP11_OFFSET` = 0xffff0000). Text always shows the 16-bit view: numbers in
 * decimal, reserved ports by name (`ofputil_format_port`).
 */
/** OF1.0 reserved ports (`OFPUTIL_NAMED_PORTS`, openflow-1.0.h). */
export const OFPP10 = {
  MAX: 0xff00,
  UNSET: 0xfff7,
  IN_PORT: 0xfff8,
  TABLE: 0xfff9,
  NORMAL: 0xfffa,
  FLOOD: 0xfffb,
  ALL: 0xfffc,
  CONTROLLER: 0xfffd,
  LOCAL: 0xfffe,
  ANY: 0xffff,
} as const;

/** OF1.1+ `OFPP_MAX`: the first 32-bit reserved port number. */
export const OFPP11_MAX = 0xffffff00;
const OFPP11_OFFSET = 0xffff0000;

const RESERVED_NAMES: ReadonlyMap<number, string> = new Map(
  (
    ["UNSET", "IN_PORT", "TABLE", "NORMAL", "FLOOD", "ALL", "CONTROLLER", "LOCAL", "ANY"] as const
  ).map((n) => [OFPP10[n], n] as const),
);

/** 32-bit OF1.1+ port → 16-bit OVS port, or undefined when outside both valid ranges. */
export function portFromOf11(port32: number): number | undefined {
  if (port32 < OFPP10.MAX) return port32;
  if (port32 >= OFPP11_MAX) return port32 - OFPP11_OFFSET;
  return undefined;
}

/** 16-bit OVS port → OF1.1+ 32-bit wire value (`ofputil_port_to_ofp11`). */
export function portToOf11(port16: number): number {
  return port16 < OFPP10.MAX ? port16 : (port16 + OFPP11_OFFSET) >>> 0;
}

/** `ofputil_format_port` for a 16-bit port (no port-name map). */
export function formatPort16(port16: number): string {
  return RESERVED_NAMES.get(port16) ?? String(port16);
}

/** Formats a 32-bit OF1.1+ port as OVS does after translating it to 16 bits. */
export function formatPort32(port32: number): string {
  const p = portFromOf11(port32);
  return p === undefined ? String(port32) : formatPort16(p);
}

/**
 * `ofputil_port_from_string`: decimal number (OF1.0 or OF1.1+ reserved range)
 * or a reserved name (case-insensitive, "NONE" = ANY). Returns the 16-bit port.
 */
export function parsePort(text: string): number | undefined {
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    if (n <= 0xffff) return n;
    if (n >= OFPP11_MAX && n <= 0xffffffff) return n - OFPP11_OFFSET;
    return undefined;
  }
  const upper = text.toUpperCase();
  if (upper === "NONE") return OFPP10.ANY;
  for (const [num, name] of RESERVED_NAMES) if (name === upper) return num;
  // A base-0 integer such as 0x10 is not a port for OVS (str_to_uint base 10).
  return undefined;
}
