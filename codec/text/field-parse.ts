/**
 * Field values in ovs-ofctl syntax → (value, mask) bigints (OVS `mf_parse`,
 * lib/meta-flow.c). Error strings follow OVS's wording so users see the
 * same reason `ovs-ofctl` would give.
 */
import { ones, parseIpv4, parseIpv6, parseMac } from "./addr.js";
import { parseFlags } from "./flags.js";
import { parsePort, portToOf11 } from "./ports.js";
import type { TextField } from "./fields.js";

export interface ParsedValue {
  readonly value: bigint;
  /** undefined = exact match. */
  readonly mask: bigint | undefined;
}

/** `parse_int_string`: `0x` hex of any width, or a 64-bit decimal. */
export function parseIntString(text: string, bytes: number): bigint | "syntax" | "range" {
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) v = BigInt(text);
  else if (/^[0-9]+$/.test(text)) {
    v = BigInt(text);
    if (v > ones(64)) return "range";
  } else return "syntax";
  if (v > ones(bytes * 8)) return "range";
  return v;
}

function parseInteger(f: TextField, text: string): ParsedValue | string {
  const slash = text.indexOf("/");
  const vText = slash < 0 ? text : text.slice(0, slash);
  const value = parseIntString(vText, f.bytes);
  if (typeof value === "string") {
    return value === "range"
      ? `${text}: value too large for ${f.bytes}-byte field ${f.name}`
      : `${text}: bad syntax for ${f.name} value`;
  }
  if (slash < 0) return { value, mask: undefined };
  const mask = parseIntString(text.slice(slash + 1), f.bytes);
  if (typeof mask === "string") {
    return mask === "range"
      ? `${text}: mask too large for ${f.bytes}-byte field ${f.name}`
      : `${text}: bad syntax for ${f.name} mask`;
  }
  return { value, mask };
}

/** `ip_parse_masked`: `a.b.c.d`, `a.b.c.d/N`, `a.b.c.d/m.m.m.m`. */
export function parseIpv4Masked(text: string): ParsedValue | string {
  const slash = text.indexOf("/");
  const ip = parseIpv4(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) return `${text}: invalid IP address`;
  if (slash < 0) return { value: ip, mask: undefined };
  const m = text.slice(slash + 1);
  if (/^\d+$/.test(m)) {
    const n = Number(m);
    if (n > 32) return `${text}: network prefix bits not between 0 and 32`;
    return { value: ip, mask: n === 0 ? 0n : (ones(n) << BigInt(32 - n)) & ones(32) };
  }
  const mask = parseIpv4(m);
  if (mask === undefined) return `${text}: invalid IP address`;
  return { value: ip, mask };
}

/** `ipv6_parse_masked`. */
export function parseIpv6Masked(text: string): ParsedValue | string {
  const slash = text.indexOf("/");
  const ip = parseIpv6(slash < 0 ? text : text.slice(0, slash));
  if (ip === undefined) return `${text}: invalid IPv6 address`;
  if (slash < 0) return { value: ip, mask: undefined };
  const m = text.slice(slash + 1);
  if (/^\d+$/.test(m)) {
    const n = Number(m);
    if (n > 128) return `${text}: IPv6 network prefix bits not between 0 and 128`;
    return { value: ip, mask: n === 0 ? 0n : (ones(n) << BigInt(128 - n)) & ones(128) };
  }
  const mask = parseIpv6(m);
  if (mask === undefined) return `${text}: invalid IPv6 address`;
  return { value: ip, mask };
}

/** `frag_handling`: name → (value, mask). */
const FRAG_NAMES: Record<string, readonly [number, number]> = {
  no: [0, 3],
  yes: [1, 1],
  first: [1, 3],
  later: [3, 3],
  not_later: [0, 2],
};

/**
 * C `strtoul(s, &tail, 0)`: leading white space and an optional sign, then
 * hex (`0x`), octal (leading `0`) or decimal digits. `end` is where the
 * number stops (the start when there are no digits).
 */
function strtoul(s: string, at: number): { value: number; end: number } {
  let p = at;
  while (p < s.length && " \t\n\v\f\r".includes(s[p]!)) p++;
  let neg = false;
  if (s[p] === "+" || s[p] === "-") {
    neg = s[p] === "-";
    p++;
  }
  let base = 10;
  if (
    s[p] === "0" &&
    (s[p + 1] === "x" || s[p + 1] === "X") &&
    /[0-9a-fA-F]/.test(s[p + 2] ?? "")
  ) {
    base = 16;
    p += 2;
  } else if (s[p] === "0") base = 8;
  const digits = base === 16 ? /[0-9a-fA-F]/ : base === 8 ? /[0-7]/ : /[0-9]/;
  const start = p;
  let v = 0;
  while (p < s.length && digits.test(s[p]!)) v = v * base + parseInt(s[p++]!, base);
  if (p === start) return { value: 0, end: at };
  // strtoul negates in unsigned arithmetic: "-1" is ULONG_MAX, out of any u16 range.
  return { value: neg && v !== 0 ? Number.MAX_SAFE_INTEGER : v, end: p };
}

/** `mf_from_packet_type_string`: `(NS,NS_TYPE)`, each a C integer of at most 16 bits. */
function parsePacketType(text: string): ParsedValue | string {
  const err = (at: number, what: string): string =>
    `${text.slice(at)}: bad syntax for packet type ${what}`;
  if (text[0] !== "(") return err(0, "missing '('");
  const ns = strtoul(text, 1);
  if (ns.value > 0xffff) return err(1, "ns");
  if (text[ns.end] !== ",") return err(1, "missing ','");
  const typeAt = ns.end + 1;
  const type = strtoul(text, typeAt);
  if (type.value > 0xffff) return err(typeAt, "ns_type");
  if (text[type.end] !== ")") return err(typeAt, "missing ')'");
  return { value: BigInt(ns.value * 0x10000 + type.value), mask: undefined };
}

/**
 * Parses a value for `f`. An empty string or `*` means "wildcard"
 * (mask 0). Fields that cannot be masked accept only exact masks.
 */
export function parseFieldValue(f: TextField, text: string): ParsedValue | string {
  if (text === "*") return { value: 0n, mask: 0n };
  let parsed: ParsedValue | string;
  switch (f.format) {
    case "decimal":
    case "hex":
      parsed = parseInteger(f, text);
      break;
    case "ethernet": {
      const slash = text.indexOf("/");
      const mac = parseMac(slash < 0 ? text : text.slice(0, slash));
      const mask = slash < 0 ? undefined : parseMac(text.slice(slash + 1));
      if (mac === undefined || (slash >= 0 && mask === undefined))
        return `${text}: invalid Ethernet address`;
      parsed = { value: mac, mask };
      break;
    }
    case "ipv4":
      parsed = parseIpv4Masked(text);
      break;
    case "ipv6":
      parsed = parseIpv6Masked(text);
      break;
    case "port16":
    case "port32": {
      const p = parsePort(text);
      if (p === undefined) return `${text}: invalid or unknown port for ${f.name}`;
      parsed = { value: BigInt(f.format === "port32" ? portToOf11(p) : p), mask: undefined };
      break;
    }
    case "frag": {
      const h = FRAG_NAMES[text.toLowerCase()];
      if (h === undefined) {
        return `${text}: unknown fragment type (valid types are "no", "yes", "first", "later", "not_later"`;
      }
      // OVS forces the upper mask bits on so that "no"/"first"/"later" read as exact.
      parsed = { value: BigInt(h[0]), mask: h[1] === 3 ? undefined : BigInt(h[1] | 0xfc) };
      break;
    }
    case "packet_type":
      // Not maskable, and OVS reads only up to the ')' (a "/mask" tail is ignored).
      return parsePacketType(text);
    case "ct_state":
    case "tcp_flags":
    case "tun_flags": {
      const allowed = f.format === "ct_state" ? 0xff : f.format === "tcp_flags" ? 0xfff : 0x1;
      const r = parseFlags(f.format, text, allowed);
      if (typeof r === "string") return r;
      parsed = { value: BigInt(r.value), mask: r.mask === undefined ? undefined : BigInt(r.mask) };
      break;
    }
  }
  if (typeof parsed === "string") return parsed;
  if (
    !f.maskable &&
    parsed.mask !== undefined &&
    parsed.mask !== 0n &&
    parsed.mask !== ones(f.bytes * 8)
  ) {
    return `${text}: invalid mask for field ${f.name}`;
  }
  return parsed;
}
