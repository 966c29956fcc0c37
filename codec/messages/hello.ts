/**
 * OFPT_HELLO (OF1.3 §7.5.1).
 *
 *     ofp_header (8) | element* ;  element = type (2) | length (2) | body | pad to 8
 *
 * An element's `length` covers its 4-byte header and body but NOT the pad to a
 * multiple of 8 that follows it (spec: "followed by exactly
 * (length + 7)/8*8 - length bytes of zeros"). Version-bitmap elements
 * (OFPHET_VERSIONBITMAP = 1) carry 32-bit bitmap words; bit n of word w means
 * version 32*w + n.
 *
 * Decoder: an element shorter than its header, or longer than what is left,
 * is OFPBRC_BAD_LEN. A bitmap whose body is not a multiple of 4 is
 * OFPBRC_BAD_LEN too. Unknown element types are kept as raw bytes (OVS skips
 * them and prints "unknown data in hello"); a final element may omit its pad
 * (we tolerate a short pad at the very end, as OVS does). Pad bytes are not
 * checked, and are written as zero.
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { OFP13_VERSION } from "../header.js";
import { OFP_HELLO_ELEM_HEADER_SIZE } from "./sizes.js";

/** OF1.3 `enum ofp_hello_elem_type`. */
export const OFPHET = { VERSIONBITMAP: 1 } as const;

export type HelloElement =
  | { readonly kind: "versionbitmap"; readonly bitmaps: readonly number[] }
  | { readonly kind: "unknown"; readonly elementType: number; readonly data: Uint8Array };

export interface HelloMessage {
  readonly type: "hello";
  readonly xid: number;
  /** Header version; a peer may speak any version in its HELLO. Default 4. */
  readonly version?: number;
  readonly elements: readonly HelloElement[];
}

export function decodeHello(r: Reader, xid: number, version: number): HelloMessage {
  const elements: HelloElement[] = [];
  while (r.remaining > 0) {
    r.need(OFP_HELLO_ELEM_HEADER_SIZE, "hello element header");
    const elementType = r.u16();
    const length = r.u16();
    if (length < OFP_HELLO_ELEM_HEADER_SIZE) {
      throw new OfpError("OFPBRC_BAD_LEN", `hello element length ${length} < 4`, {
        offset: r.pos - 2,
      });
    }
    const body = r.sub(length - OFP_HELLO_ELEM_HEADER_SIZE, "hello element");
    if (elementType === OFPHET.VERSIONBITMAP) {
      if (body.remaining % 4 !== 0) {
        throw new OfpError("OFPBRC_BAD_LEN", "version bitmap is not a multiple of 4 bytes", {
          offset: body.pos,
        });
      }
      const bitmaps: number[] = [];
      while (body.remaining > 0) bitmaps.push(body.u32());
      elements.push({ kind: "versionbitmap", bitmaps });
    } else {
      elements.push({ kind: "unknown", elementType, data: body.rest() });
    }
    const pad = (8 - (length % 8)) % 8;
    r.skip(Math.min(pad, r.remaining));
  }
  return { type: "hello", xid, version, elements };
}

export function encodeHello(w: Writer, m: HelloMessage): void {
  for (const e of m.elements) {
    const token = w.beginLength(2);
    if (e.kind === "versionbitmap") {
      w.u16(OFPHET.VERSIONBITMAP).u16(0);
      for (const word of e.bitmaps) w.u32(word);
    } else {
      w.u16(e.elementType).u16(0).bytes(e.data);
    }
    w.endLength(token, "excluded");
  }
}

/** The versions a HELLO announces: its bitmap if any, else just its header version. */
export function helloVersions(m: HelloMessage): number[] {
  const out: number[] = [];
  for (const e of m.elements) {
    if (e.kind !== "versionbitmap") continue;
    e.bitmaps.forEach((word, index) => {
      for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) out.push(index * 32 + bit);
    });
    return out;
  }
  return [m.version ?? OFP13_VERSION];
}

/** A HELLO announcing `versions` in a version-bitmap element (header version = the highest). */
export function makeHello(
  xid: number,
  versions: readonly number[] = [OFP13_VERSION],
): HelloMessage {
  const words: number[] = [];
  for (const v of versions) {
    const index = v >>> 5;
    while (words.length <= index) words.push(0);
    words[index] = (words[index]! | (1 << (v & 31))) >>> 0;
  }
  return {
    type: "hello",
    xid,
    version: Math.max(...versions),
    elements: [{ kind: "versionbitmap", bitmaps: words }],
  };
}
