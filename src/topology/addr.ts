/**
 * Address parsing for the topology: strict text forms (what a config file
 * may say) to canonical text and to the numbers the compiler needs.
 *
 * IPv4 addresses are unsigned 32-bit numbers; MACs are 48-bit numbers held
 * in a `number` (exact below 2^53). Parsers return `undefined` for anything
 * malformed so the schema layer can word the error.
 */

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const MAC_RE = /^([0-9a-fA-F]{2})(?::([0-9a-fA-F]{2})){5}$/;

/** Dotted quad → u32 (no leading zeros beyond "0", as inet_pton). */
export function parseIpv4(text: string): number | undefined {
  const m = IPV4_RE.exec(text);
  if (m === null) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith("0")) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v;
}

export function formatIpv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** An IPv4 prefix: network address (host bits zero) and length. */
export interface Ipv4Cidr {
  readonly network: number;
  readonly prefixLength: number;
}

/** Netmask of a prefix length as u32. */
export function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export type CidrParse =
  { readonly ok: true; readonly cidr: Ipv4Cidr } | { readonly ok: false; readonly reason: string };

/** "a.b.c.d/n" with host bits clear (Neutron refuses host bits, so do we). */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf("/");
  if (slash < 0) return { ok: false, reason: `"${text}" is not a CIDR (a.b.c.d/len)` };
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (addrText.includes(":")) {
    return { ok: false, reason: `IPv6 subnets are not supported in config version 1 ("${text}")` };
  }
  const addr = parseIpv4(addrText);
  if (addr === undefined || !/^\d{1,2}$/.test(lenText)) {
    return { ok: false, reason: `"${text}" is not a CIDR (a.b.c.d/len)` };
  }
  const prefixLength = Number(lenText);
  if (prefixLength > 32) return { ok: false, reason: `prefix length ${prefixLength} > 32` };
  const mask = prefixMask(prefixLength);
  if ((addr & ~mask) >>> 0 !== 0) {
    return {
      ok: false,
      reason: `"${text}" has host bits set (the network is ${formatIpv4((addr & mask) >>> 0)}/${prefixLength})`,
    };
  }
  return { ok: true, cidr: { network: addr, prefixLength } };
}

export function formatCidr(c: Ipv4Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefixLength}`;
}

export function cidrContains(c: Ipv4Cidr, ip: number): boolean {
  return (ip & prefixMask(c.prefixLength)) >>> 0 === c.network;
}

export function cidrBroadcast(c: Ipv4Cidr): number {
  return (c.network | ~prefixMask(c.prefixLength)) >>> 0;
}

/** True when the two prefixes share any address. */
export function cidrOverlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const len = Math.min(a.prefixLength, b.prefixLength);
  const mask = prefixMask(len);
  return (a.network & mask) >>> 0 === (b.network & mask) >>> 0;
}

/** "fa:16:3e:00:00:01" (either case) → 48-bit number. */
export function parseMac(text: string): number | undefined {
  if (!MAC_RE.test(text)) return undefined;
  return parseInt(text.replace(/:/g, ""), 16);
}

export function formatMac(v: number): string {
  const hex = v.toString(16).padStart(12, "0");
  return hex.replace(/(..)(?!$)/g, "$1:");
}

/** The 6 bytes of a 48-bit MAC. */
export function macBytes(v: number): Uint8Array {
  const out = new Uint8Array(6);
  let x = v;
  for (let i = 5; i >= 0; i--) {
    out[i] = x % 256;
    x = Math.floor(x / 256);
  }
  return out;
}

/** Group bit (I/G) of the first octet: multicast and broadcast MACs. */
export function isMulticastMac(v: number): boolean {
  return Math.floor(v / 2 ** 40) % 2 === 1;
}

/** The 4 bytes of an IPv4 address. */
export function ipv4Bytes(v: number): Uint8Array {
  return new Uint8Array([(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
}
