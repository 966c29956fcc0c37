/**
 * Value helpers: MAC / IPv4 / IPv6 bytes <-> text, and big-endian byte <-> bigint.
 *
 * Each text form has one canonical output, the one ovs-ofctl prints:
 * - MAC: lowercase, colon separated, two digits per byte (`00:11:22:aa:bb:cc`);
 * - IPv4: dotted quad (`10.0.0.1`);
 * - IPv6: RFC 5952 (lowercase, longest run of ≥ 2 zero groups compressed,
 *   leftmost on ties, no leading zeros) — what `inet_ntop` gives OVS, except
 *   that OVS prints IPv4-mapped addresses as `::ffff:a.b.c.d`, as we do.
 * Parsers accept the usual variants and return undefined on bad input (no throw).
 */

const HEX = "0123456789abcdef";

function hexByte(b: number): string {
  return HEX[b >> 4]! + HEX[b & 15]!;
}

/** `00:11:22:aa:bb:cc` from 6 bytes. */
export function macToString(bytes: Uint8Array): string {
  if (bytes.length !== 6) throw new RangeError(`MAC must be 6 bytes, got ${bytes.length}`);
  let s = hexByte(bytes[0]!);
  for (let i = 1; i < 6; i++) s += ":" + hexByte(bytes[i]!);
  return s;
}

/** Parses `aa:bb:cc:dd:ee:ff` (also `-` separators, any case); undefined if malformed. */
export function parseMac(text: string): Uint8Array | undefined {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6) return undefined;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    out[i] = parseInt(p, 16);
  }
  return out;
}

/** `a.b.c.d` from 4 bytes. */
export function ipv4ToString(bytes: Uint8Array): string {
  if (bytes.length !== 4) throw new RangeError(`IPv4 must be 4 bytes, got ${bytes.length}`);
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Parses a dotted quad (no leading-zero octal forms); undefined if malformed. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** RFC 5952 text for 16 bytes. */
export function ipv6ToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`IPv6 must be 16 bytes, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // IPv4-mapped (::ffff:a.b.c.d), printed with a dotted tail as inet_ntop does.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ipv4ToString(bytes.subarray(12, 16))}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.map((g) => g.toString(16)).join(":");
  const head = groups.slice(0, bestStart).map((g) => g.toString(16));
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16));
  return `${head.join(":")}::${tail.join(":")}`;
}

/** Parses IPv6 text (with `::`, optional dotted IPv4 tail); undefined if malformed. */
export function parseIpv6(text: string): Uint8Array | undefined {
  let s = text;
  if (s.includes(".")) {
    // A dotted IPv4 tail stands for the last two groups: rewrite it as hex.
    const lastColon = s.lastIndexOf(":");
    if (lastColon < 0) return undefined;
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) return undefined;
  let groups: number[] | undefined;
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const rest = parseGroups(s.slice(dbl + 2));
    if (head === undefined || rest === undefined) return undefined;
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    groups = parseGroups(s);
  }
  if (groups === undefined || groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function parseGroups(part: string): number[] | undefined {
  if (part === "") return [];
  const out: number[] = [];
  for (const g of part.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

/** Big-endian unsigned bytes → bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < bytes.length; i++) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** bigint → `size` big-endian bytes (value truncated to size*8 bits; negative values wrap). */
export function bigIntToBytes(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, value);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Lowercase hex of bytes, no separators (`0a0b`). */
export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += hexByte(bytes[i]!);
  return s;
}

/** Bytes from hex text (whitespace, `.` and `:` separators ignored); undefined if malformed. */
export function hexToBytes(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\s.:]/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** True when every byte is 0xff. */
export function isAllOnes(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0xff) return false;
  return true;
}

/** True when every byte is 0. */
export function isAllZeros(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
