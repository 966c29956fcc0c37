/**
 * OpenFlow version negotiation as OVS does it (`lib/vconn.c`
 * `vcs_recv_hello`, `lib/ofp-util.c` `ofputil_decode_hello`).
 *
 * Versions are a 32-bit bitmap (bit n = wire version n). A HELLO without a
 * version-bitmap element announces every version up to its header version
 * (`version_bitmap_from_version`); with one, OVS uses only the first bitmap
 * word and ignores bit 0 ("there's no OpenFlow version 0"). The negotiated
 * version is the highest common bit. With no common version OVS sends
 * OFPT_ERROR HELLO_FAILED/INCOMPATIBLE, xid 0, in the peer's highest version,
 * carrying the text built by {@link incompatibleText}, and disconnects.
 */
import type { HelloMessage } from "../../codec/messages/hello.js";

/** OF1.3 only: what dvrflow's switch speaks. */
export const OF13_ONLY = 1 << 4;

/** OVS `version_bitmap_from_version`: all versions 1..v. */
export function bitmapUpTo(version: number): number {
  if (version >= 32) return 0xfffffffe;
  return ((((1 << version) >>> 0) - 1) << 1) >>> 0;
}

/** The versions a received HELLO announces (OVS `ofputil_decode_hello`). */
export function helloBitmap(m: HelloMessage): number {
  let bitmap = bitmapUpTo(m.version ?? 4);
  for (const e of m.elements) {
    if (e.kind !== "versionbitmap") continue;
    const first = e.bitmaps[0];
    if (first === undefined) continue;
    const allowed = (first & ~1) >>> 0;
    if (allowed !== 0) bitmap = allowed;
  }
  return bitmap;
}

/** Index of the highest set bit, or -1. */
export function highestVersion(bitmap: number): number {
  return bitmap === 0 ? -1 : 31 - Math.clz32(bitmap);
}

function isPow2(v: number): boolean {
  return v !== 0 && (v & (v - 1)) === 0;
}

function hex2(v: number): string {
  return `0x${v.toString(16).padStart(2, "0")}`;
}

/** OVS `version_bitmap_to_string`: "version 0x04", "version 0x03 and earlier", "versions 0x01, 0x04". */
export function versionBitmapText(bitmap: number): string {
  const b = bitmap >>> 0;
  if (b === 0) return "no versions";
  if (isPow2(b)) return `version ${hex2(highestVersion(b))}`;
  if (isPow2(((b >>> 1) + 1) >>> 0)) return `version ${hex2(highestVersion(b))} and earlier`;
  const parts: string[] = [];
  for (let i = 0; i < 32; i++) if ((b >>> i) & 1) parts.push(hex2(i));
  return `versions ${parts.join(", ")}`;
}

/** The HELLO_FAILED text OVS sends (`vcs_send_error`). */
export function incompatibleText(ours: number, peer: number): string {
  return `We support ${versionBitmapText(ours)}, you support ${versionBitmapText(peer)}, no common versions.`;
}
