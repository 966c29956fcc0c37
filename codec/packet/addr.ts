/**
 * Address helpers for building and inspecting frames: MAC as 6 bytes, IPv4 as
 * an unsigned 32-bit number, IPv6 as 16 bytes.
 *
 * The text parsers are for configuration and tests, not for packet bytes: they
 * throw a RangeError on malformed text. (codec/values.ts owns the canonical
 * OpenFlow text forms; these exist so that codec/packet stands alone.)
 */

const HEX = "0123456789abcdef";

function hex2(v: number): string {
  return HEX[(v >>> 4) & 0xf]! + HEX[v & 0xf]!;
}

/** "aa:bb:cc:dd:ee:ff" (also accepts '-' separators) → 6 bytes. */
export function macFromString(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6) throw new RangeError(`bad MAC address "${text}"`);
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) throw new RangeError(`bad MAC address "${text}"`);
    out[i] = parseInt(p, 16);
  }
  return out;
}

/** 6 bytes at `b[o..o+6)` → "aa:bb:cc:dd:ee:ff". */
export function macToString(b: Uint8Array, o = 0): string {
  let s = hex2(b[o]!);
  for (let i = 1; i < 6; i++) s += ":" + hex2(b[o + i]!);
  return s;
}

/** Dotted quad → unsigned 32-bit number. */
export function ipv4FromString(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) throw new RangeError(`bad IPv4 address "${text}"`);
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new RangeError(`bad IPv4 address "${text}"`);
    v = v * 256 + Number(p);
  }
  return v;
}

/** Unsigned 32-bit number → dotted quad. */
export function ipv4ToString(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** RFC 4291 §2.2 text (with "::" and an optional dotted-quad tail) → 16 bytes. */
export function ipv6FromString(text: string): Uint8Array {
  const bad = (): never => {
    throw new RangeError(`bad IPv6 address "${text}"`);
  };
  let s = text;
  const lastColon = s.lastIndexOf(":");
  if (lastColon < 0) bad();
  if (s.indexOf(".", lastColon) !== -1) {
    // A dotted-quad tail stands for the last two groups (RFC 4291 §2.2 form 3).
    const v4 = ipv4FromString(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) bad();
  const parse = (h: string): number[] =>
    h === ""
      ? []
      : h.split(":").map((g) => {
          if (!/^[0-9a-fA-F]{1,4}$/.test(g)) bad();
          return parseInt(g, 16);
        });
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const total = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (total > 7) bad();
    groups = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  } else {
    if (total !== 8) bad();
    groups = head;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >>> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** 16 bytes at `b[o..o+16)` → RFC 5952 canonical text (lowercase, longest zero run as "::"). */
export function ipv6ToString(b: Uint8Array, o = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const txt = (a: number[]): string => a.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return txt(g);
  return `${txt(g.slice(0, bestStart))}::${txt(g.slice(bestStart + bestLen))}`;
}

/** RFC 4291 §2.7.1 solicited-node multicast address ff02::1:ffXX:XXXX of `addr`. */
export function solicitedNodeAddress(addr: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = addr[13]!;
  out[14] = addr[14]!;
  out[15] = addr[15]!;
  return out;
}

/** RFC 2464 §7: the Ethernet multicast MAC 33:33:xx:xx:xx:xx of an IPv6 multicast address. */
export function ipv6MulticastMac(addr: Uint8Array): Uint8Array {
  return Uint8Array.of(0x33, 0x33, addr[12]!, addr[13]!, addr[14]!, addr[15]!);
}

export const BROADCAST_MAC: Readonly<Uint8Array> = Uint8Array.of(
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
);
export const ZERO_MAC: Readonly<Uint8Array> = new Uint8Array(6);
