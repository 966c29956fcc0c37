/**
 * The match half of ovs-ofctl's flow syntax: protocol shorthands (`ip`,
 * `tcp`, `arp`, ...), `field=value[/mask]`, and `NXM_...[a..b]=value`
 * sub-field matches, applied in order to the flow/wildcards model exactly as
 * OVS `parse_ofp_str__` does (lib/ofp-flow.c).
 */
import { ones } from "./addr.js";
import { parseFieldValue, parseIntString } from "./field-parse.js";
import { textFieldByName, textFieldBySubfieldName, type TextField } from "./fields.js";
import { ETH_TYPE, IP_PROTO, getField, setField, type FlowMatch } from "./flow-match.js";

/** `ofp_parse_protocol`: shorthand → (dl_type, nw_proto). */
export const PROTOCOL_SHORTHANDS: Readonly<Record<string, readonly [number, number]>> = {
  ip: [ETH_TYPE.IP, 0],
  ipv4: [ETH_TYPE.IP, 0],
  ip4: [ETH_TYPE.IP, 0],
  arp: [ETH_TYPE.ARP, 0],
  icmp: [ETH_TYPE.IP, IP_PROTO.ICMP],
  tcp: [ETH_TYPE.IP, IP_PROTO.TCP],
  udp: [ETH_TYPE.IP, IP_PROTO.UDP],
  sctp: [ETH_TYPE.IP, IP_PROTO.SCTP],
  ipv6: [ETH_TYPE.IPV6, 0],
  ip6: [ETH_TYPE.IPV6, 0],
  icmp6: [ETH_TYPE.IPV6, IP_PROTO.ICMPV6],
  tcp6: [ETH_TYPE.IPV6, IP_PROTO.TCP],
  udp6: [ETH_TYPE.IPV6, IP_PROTO.UDP],
  sctp6: [ETH_TYPE.IPV6, IP_PROTO.SCTP],
  rarp: [ETH_TYPE.RARP, 0],
  mpls: [ETH_TYPE.MPLS, 0],
  mplsm: [ETH_TYPE.MPLS_MCAST, 0],
};

/** The keyword for "Ethernet packets" (OVS prints PT_ETH as `eth` too). */
export const ETH_PACKET_TYPE_KEYWORD = "eth";

/** Applies a protocol shorthand (or `eth`); false when `name` is not one. */
export function applyProtocol(m: FlowMatch, name: string): boolean {
  if (name === ETH_PACKET_TYPE_KEYWORD) {
    // `eth`: packet_type=(0,0) exactly, overriding an earlier packet_type.
    m.value.packet_type = 0n;
    m.mask.packet_type = 0xffffffffn;
    m.meta.ethernet = true;
    return true;
  }
  const p = PROTOCOL_SHORTHANDS[name];
  if (p === undefined) return false;
  m.value.dl_type = BigInt(p[0]);
  m.mask.dl_type = 0xffffn;
  m.meta.ethernet = true;
  if (p[1] !== 0) {
    m.value.nw_proto = BigInt(p[1]);
    m.mask.nw_proto = 0xffn;
  }
  return true;
}

/** Applies `name=value` for a meta-flow field name; undefined result = not a field name. */
export function applyFieldItem(
  m: FlowMatch,
  name: string,
  value: string,
): string | undefined | false {
  const f = textFieldByName(name);
  if (f === undefined) return false;
  // An empty value matches only on the field's existence: OVS parses "0/0".
  const parsed = parseFieldValue(f, value === "" ? "0/0" : value);
  if (typeof parsed === "string") return parsed;
  return setField(m, f, parsed.value, parsed.mask);
}

/** A parsed sub-field reference `NAME[]`, `NAME[bit]`, `NAME[a..b]` (OVS `mf_parse_subfield`). */
export interface Subfield {
  readonly field: TextField;
  readonly ofs: number;
  readonly nBits: number;
}

/** `%d` as ovs_scan reads it: optional white space and sign, decimal digits. */
const SCAN_INT = String.raw`\s*([+-]?\d+)`;
const RANGE_RE = new RegExp(String.raw`^\[${SCAN_INT}\.\.${SCAN_INT}\]`);
const BIT_RE = new RegExp(String.raw`^\[${SCAN_INT}\]`);

/** A field by the name a sub-field reference uses: NXM/OXM header names (an `_W` suffix allowed) or meta-flow names. */
function subfieldField(name: string): TextField | undefined {
  const f = textFieldBySubfieldName(name);
  if (f !== undefined || !name.endsWith("_W")) return f;
  const stripped = name.slice(0, -2);
  const base = textFieldBySubfieldName(stripped);
  // Only header names take the suffix (OVS `mf_parse_subfield_name`).
  return base !== undefined && (base.nxm?.name === stripped || base.oxm?.name === stripped)
    ? base
    : undefined;
}

/**
 * OVS `mf_parse_subfield__`: a field name (up to `[` or `-`), then `[]`,
 * `[bit]`, `[start..end]` or nothing (the whole field). Returns the
 * sub-field and the text after it, or OVS's error.
 */
export function parseSubfieldPrefix(text: string): { sf: Subfield; rest: string } | string {
  let nameLen = text.search(/[[-]/);
  if (nameLen < 0) nameLen = text.length;
  const name = text.slice(0, nameLen);
  const field = subfieldField(name);
  if (field === undefined) return `${text}: unknown field \`${name}'`;
  let s = text.slice(nameLen);
  const width = field.bits;
  let start = 0;
  let end = width - 1;
  if (s.startsWith("[")) {
    const range = RANGE_RE.exec(s);
    const bit = range === null ? BIT_RE.exec(s) : null;
    if (s.startsWith("[]")) {
      // whole field
    } else if (range !== null) {
      start = Number(range[1]);
      end = Number(range[2]);
    } else if (bit !== null) {
      start = Number(bit[1]);
      end = start;
    } else {
      return `${text}: syntax error expecting [] or [<bit>] or [<start>..<end>]`;
    }
    s = s.slice(s.indexOf("]") + 1);
  }
  if (start > end) return `${text}: starting bit ${start} is after ending bit ${end}`;
  if (start >= width) {
    return `${text}: starting bit ${start} is not valid because field is only ${width} bits wide`;
  }
  if (end >= width) {
    return `${text}: ending bit ${end} is not valid because field is only ${width} bits wide`;
  }
  return { sf: { field, ofs: start, nBits: end - start + 1 }, rest: s };
}

/** OVS `mf_parse_subfield`: {@link parseSubfieldPrefix} of the whole text. */
export function parseSubfield(text: string): Subfield | string {
  const r = parseSubfieldPrefix(text);
  if (typeof r === "string") return r;
  if (r.rest !== "") return "unexpected input following field syntax";
  return r.sf;
}

/** Formats a sub-field as OVS does (`mf_format_subfield`), using the NXM-preferred name. */
export function formatSubfield(name: string, width: number, ofs: number, nBits: number): string {
  if (ofs === 0 && nBits === width) return `${name}[]`;
  if (nBits === 1) return `${name}[${ofs}]`;
  return `${name}[${ofs}..${ofs + nBits - 1}]`;
}

/** `parse_subfield` for the match: `NXM_NX_REG6[0..7]=5` sets those bits exactly. */
export function applySubfieldItem(m: FlowMatch, name: string, value: string): string | undefined {
  const sf = parseSubfield(name);
  if (typeof sf === "string") return sf;
  const v = parseIntString(value, sf.field.bytes);
  if (typeof v === "string") return `${value}: cannot parse integer value`;
  if (v > ones(sf.nBits)) return `${value}: value does not fit into ${sf.nBits} bits`;
  const cur = getField(m, sf.field);
  const bitMask = ones(sf.nBits) << BigInt(sf.ofs);
  const newValue = (cur.value & ~bitMask) | (v << BigInt(sf.ofs));
  const newMask = cur.mask | bitMask;
  return setField(m, sf.field, newValue, newMask);
}
