/**
 * Address and integer text forms exactly as ovs-ofctl prints and parses them.
 *
 * Values are carried as unsigned bigints of the field's width (big-endian
 * byte order folded into one integer), which keeps masks, prefixes and
 * bit-slices uniform for 8-bit through 128-bit fields. This is the text layer,
 * not a hot path: clarity over allocation.
 *
 * Formats follow OVS `lib/packets.c` (`eth_format_masked`, `ip_format_masked`,
 * `ipv6_format_masked`) and `lib/dynamic-string.c` (`ds_put_hex`).
 */

/** All-ones of `bits` width. */
export function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** `ds_put_hex`: "0x" + hex without leading zero bytes; all-zero prints "0". */
export function hexBytes(value: bigint): string {
  return value === 0n ? "0" : `0x${value.toString(16)}`;
}

/** `%#x` / `%#llx`: like {@link hexBytes} but zero prints "0" too (C's `#` flag). */
export function hexAlt(value: bigint | number): string {
  const v = BigInt(value);
  return v === 0n ? "0" : `0x${v.toString(16)}`;
}

/** `xx:xx:xx:xx:xx:xx` from a 48-bit value. */
export function formatMac(value: bigint): string {
  const parts: string[] = [];
  for (let shift = 40n; shift >= 0n; shift -= 8n) {
    parts.push(((value >> shift) & 0xffn).toString(16).padStart(2, "0"));
  }
  return parts.join(":");
}

/** OVS `eth_format_masked`: the mask is printed unless it is exact. */
export function formatMacMasked(value: bigint, mask: bigint): string {
  return mask === ones(48) ? formatMac(value) : `${formatMac(value)}/${formatMac(mask)}`;
}

export function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join(".");
}

/** Number of leading one bits if `mask` is a CIDR mask of `bits` width, else -1. */
export function cidrBits(mask: bigint, bits: number): number {
  const inverted = ones(bits) ^ mask;
  // A CIDR mask's complement is 2^k - 1.
  if ((inverted & (inverted + 1n)) !== 0n) return -1;
  return bits - inverted.toString(2).replace(/^0$/, "").length;
}

/** OVS `ip_format_masked`: `/N` for CIDR masks, dotted mask otherwise. */
export function formatIpv4Masked(value: bigint, mask: bigint): string {
  if (mask === ones(32)) return formatIpv4(value);
  const n = cidrBits(mask, 32);
  return `${formatIpv4(value)}/${n >= 0 ? n : formatIpv4(mask)}`;
}

/**
 * glibc `inet_ntop(AF_INET6)`: longest run (≥ 2) of zero groups becomes "::",
 * lower-case hex, and the IPv4-compatible/mapped forms `::a.b.c.d` and
 * `::ffff:a.b.c.d` (OVS prints addresses through inet_ntop).
 */
export function formatIpv6(value: bigint): string {
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += formatIpv4(value & 0xffffffffn);
      return out;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ":";
  return out;
}

/** OVS `ipv6_format_masked`. */
export function formatIpv6Masked(value: bigint, mask: bigint): string {
  if (mask === ones(128)) return formatIpv6(value);
  const n = cidrBits(mask, 128);
  return `${formatIpv6(value)}/${n >= 0 ? n : formatIpv6(mask)}`;
}

const MAC_RE =
  /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/;

/** `xx:xx:xx:xx:xx:xx` (one or two hex digits per byte, as OVS's sscanf accepts). */
export function parseMac(text: string): bigint | undefined {
  const m = MAC_RE.exec(text);
  if (m === null) return undefined;
  let v = 0n;
  for (let i = 1; i <= 6; i++) v = (v << 8n) | BigInt(parseInt(m[i]!, 16));
  return v;
}

/** Dotted-quad IPv4 (inet_pton rules: exactly four decimal parts, no leading-zero octal). */
export function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith("0"))) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

/** inet_pton(AF_INET6), including `::` and a trailing dotted IPv4. */
export function parseIpv6(text: string): bigint | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.slice(lastColon + 1).includes(".")) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" → head "::" ; "a:b:1.2.3.4" → head "a:b:"
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const groupsNeeded = tailV4 === undefined ? 8 : 6;
  const doubleAt = head.indexOf("::");
  if (doubleAt !== head.lastIndexOf("::")) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (doubleAt >= 0) {
    const left = parseGroups(head.slice(0, doubleAt));
    const right = parseGroups(head.slice(doubleAt + 2));
    if (left === undefined || right === undefined) return undefined;
    const fill = groupsNeeded - left.length - right.length;
    if (fill < 1) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (all === undefined || all.length !== groupsNeeded) return undefined;
    groups = all;
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (tailV4 !== undefined) v = (v << 32n) | tailV4;
  return v;
}

/**
 * C `strtoull(text, &end, 0)` over the whole string: decimal, `0x` hex or
 * leading-`0` octal. Returns undefined on junk. OVS's `str_to_u16` and friends
 * use base 0, so `priority=010` is 8, exactly as ovs-ofctl reads it.
 */
export function parseCInteger(text: string): bigint | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return BigInt(text);
  if (/^0[0-7]*$/.test(text)) return text.length === 1 ? 0n : BigInt(`0o${text.slice(1)}`);
  if (/^[1-9][0-9]*$/.test(text)) return BigInt(text);
  return undefined;
}

/** Bytes (big-endian) → bigint. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** bigint → `size` big-endian bytes (truncating high bits). */
export function bigintToBytes(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = value;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
