/**
 * Bit-flag fields as ovs-ofctl writes and reads them: `ct_state=+trk-est`,
 * `tcp_flags=+syn-ack`, `tun_flags=+oam` (`format_flags`,
 * `format_flags_masked`, `parse_flags` in OVS lib/flow.c).
 */

/** `CS_STATES` (lib/packets.h), bit i = name i. */
export const CT_STATE_NAMES = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"] as const;

function ctStateName(bit: number): string | undefined {
  const i = Math.log2(bit);
  return Number.isInteger(i) ? CT_STATE_NAMES[i] : undefined;
}

/** `packet_tcp_flag_to_string`. */
const TCP_FLAG_NAMES: ReadonlyMap<number, string> = new Map([
  [0x001, "fin"],
  [0x002, "syn"],
  [0x004, "rst"],
  [0x008, "psh"],
  [0x010, "ack"],
  [0x020, "urg"],
  [0x040, "ece"],
  [0x080, "cwr"],
  [0x100, "ns"],
  [0x200, "[200]"],
  [0x400, "[400]"],
  [0x800, "[800]"],
]);

/** `flow_tun_flag_to_string`: only OAM is a public tunnel flag. */
const TUN_FLAG_NAMES: ReadonlyMap<number, string> = new Map([[0x1, "oam"]]);

export type FlagKind = "ct_state" | "tcp_flags" | "tun_flags";

const FLAG_TABLES: Record<
  FlagKind,
  { name: (bit: number) => string | undefined; maxMask: number }
> = {
  ct_state: { name: ctStateName, maxMask: 0xffff },
  tcp_flags: { name: (b) => TCP_FLAG_NAMES.get(b), maxMask: 0x0fff },
  tun_flags: { name: (b) => TUN_FLAG_NAMES.get(b), maxMask: 0x1 },
};

/** `format_flags`: names joined by `del`, unknown bits as one hex value last; zero is "0". */
export function formatFlags(kind: FlagKind, flags: number, del: string): string {
  if (flags === 0) return "0";
  const names: string[] = [];
  let bad = 0;
  let rest = flags >>> 0;
  while (rest !== 0) {
    const bit = rest & -rest;
    const n = FLAG_TABLES[kind].name(bit >>> 0);
    if (n !== undefined) names.push(n);
    else bad |= bit;
    rest &= ~bit;
  }
  if (bad !== 0) names.push(`0x${(bad >>> 0).toString(16)}`);
  return names.join(del);
}

/** `format_flags_masked` without the name prefix. */
export function formatFlagsMasked(
  kind: FlagKind,
  flags: number,
  mask: number,
  maxMask = FLAG_TABLES[kind].maxMask,
): string {
  if (mask === maxMask) return formatFlags(kind, flags, "|");
  if (mask === 0) return "0/0";
  let out = "";
  let rest = mask >>> 0;
  while (rest !== 0) {
    const bit = rest & -rest;
    const n = FLAG_TABLES[kind].name(bit >>> 0);
    out += `${(flags & bit) !== 0 ? "+" : "-"}${n ?? "[Unknown]"}`;
    rest &= ~bit;
  }
  return out;
}

/** The maximal mask OVS uses when formatting a match on this flag field. */
export function flagMaxMask(kind: FlagKind): number {
  return FLAG_TABLES[kind].maxMask;
}

/**
 * `parse_flags`: either `+a-b+c` (value/mask from the signs) or `a|b`
 * / a number (exact). Returns an error string on unknown names.
 */
export function parseFlags(
  kind: FlagKind,
  text: string,
  allowed: number,
): { value: number; mask: number | undefined } | string {
  const lookup = (name: string): number | undefined => {
    for (let bit = 1; bit <= 0x8000; bit <<= 1)
      if (FLAG_TABLES[kind].name(bit) === name) return bit;
    return undefined;
  };
  if (/^[+-]/.test(text)) {
    let value = 0;
    let mask = 0;
    const re = /([+-])([^+-]+)/gy;
    let pos = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      pos = re.lastIndex;
      const bit = lookup(m[2]!);
      if (bit === undefined || (bit & allowed) === 0) return `${m[2]}: unknown ${kind} flag`;
      if ((mask & bit) !== 0) return `${m[2]}: duplicate ${kind} flag`;
      mask |= bit;
      if (m[1] === "+") value |= bit;
    }
    if (pos !== text.length) return `${text}: bad ${kind} syntax`;
    return { value, mask };
  }
  const numeric = /^(0[xX][0-9a-fA-F]+|[0-9]+)(?:\/(0[xX][0-9a-fA-F]+|[0-9]+))?$/.exec(text);
  if (numeric !== null) {
    const value = Number(numeric[1]);
    const mask = numeric[2] === undefined ? undefined : Number(numeric[2]);
    return { value, mask };
  }
  let value = 0;
  for (const name of text.split("|")) {
    const bit = lookup(name);
    if (bit === undefined) return `${name}: unknown ${kind} flag`;
    value |= bit;
  }
  return { value, mask: undefined };
}
