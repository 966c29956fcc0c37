/**
 * ONF bundle messages for OF1.3 (ONF EXT-230), as OVS and Neutron use them
 * (`ONFBundleCtrlMsg` / `ONFBundleAddMsg` in os-ken; OVS `ofp-bundle.c`).
 * They travel as OFPT_EXPERIMENTER with experimenter 0x4f4e4600:
 *
 *     ctrl (exp_type 2300):
 *       ofp_header (8) | 4f4e4600 (4) | 2300 (4) | bundle_id (4) | type (2)
 *       | flags (2) | property*                                       >= 24
 *     add (exp_type 2301):
 *       ofp_header (8) | 4f4e4600 (4) | 2301 (4) | bundle_id (4) | pad (2)
 *       | flags (2) | message (its own ofp_header length)
 *       | [pad to 8 | property*]                                      >= 32
 *
 * The embedded message is a whole OpenFlow message; it is decoded loosely
 * with the same codec (OVS checks what may be bundled, we do not). Bundle
 * properties (OF1.4 `ofp_bundle_prop_*`) are kept as raw bytes. The spec
 * requires the message to be padded to 8 only when properties follow.
 */
import { ONF_VENDOR_ID, OfpError } from "../errors.js";
import { OFP_HEADER_SIZE } from "../header.js";
import type { Reader } from "../reader.js";
import { ONF_BUNDLE_ADD_SIZE } from "./sizes.js";
import type { Writer } from "../writer.js";

/** ONF exp_types of the OF1.3 bundle extension. */
export const ONFT = { BUNDLE_CONTROL: 2300, BUNDLE_ADD_MESSAGE: 2301 } as const;

/** `enum ofp14_bundle_ctrl_type`. */
export const OFPBCT = {
  OPEN_REQUEST: 0,
  OPEN_REPLY: 1,
  CLOSE_REQUEST: 2,
  CLOSE_REPLY: 3,
  COMMIT_REQUEST: 4,
  COMMIT_REPLY: 5,
  DISCARD_REQUEST: 6,
  DISCARD_REPLY: 7,
} as const;

/** `enum ofp14_bundle_flags`. */
export const OFPBF = { ATOMIC: 1 << 0, ORDERED: 1 << 1 } as const;

export interface BundleCtrlMessage {
  readonly type: "bundle_ctrl";
  readonly xid: number;
  readonly bundleId: number;
  readonly ctrlType: number;
  readonly flags: number;
  /** Raw bundle properties (OF1.4 TLVs), usually empty. */
  readonly properties: Uint8Array;
}

export interface BundleAddMessage<M> {
  readonly type: "bundle_add";
  readonly xid: number;
  readonly bundleId: number;
  readonly flags: number;
  readonly message: M;
  /** Raw bundle properties (OF1.4 TLVs), usually empty. */
  readonly properties: Uint8Array;
}

/** `r` is positioned after experimenter and exp_type. */
export function decodeBundleCtrl(r: Reader, xid: number): BundleCtrlMessage {
  const bundleId = r.u32();
  const ctrlType = r.u16();
  const flags = r.u16();
  return { type: "bundle_ctrl", xid, bundleId, ctrlType, flags, properties: r.rest() };
}

export function encodeBundleCtrl(w: Writer, m: BundleCtrlMessage): void {
  w.u32(ONF_VENDOR_ID).u32(ONFT.BUNDLE_CONTROL);
  w.u32(m.bundleId).u16(m.ctrlType).u16(m.flags).bytes(m.properties);
}

/** `r` is positioned after experimenter and exp_type; `decodeInner` decodes one whole message. */
export function decodeBundleAdd<M>(
  r: Reader,
  xid: number,
  decodeInner: (bytes: Uint8Array) => M,
): BundleAddMessage<M> {
  const bundleId = r.u32();
  r.skip(2);
  const flags = r.u16();
  r.need(OFP_HEADER_SIZE, "bundled message header");
  const innerLength = r.peekU16(r.pos + 2);
  if (innerLength < OFP_HEADER_SIZE || innerLength > r.remaining) {
    throw new OfpError("OFPBRC_BAD_LEN", `bundled message length ${innerLength}`, {
      offset: r.pos,
    });
  }
  const message = decodeInner(r.bytes(innerLength));
  let properties: Uint8Array = new Uint8Array(0);
  if (r.remaining > 0) {
    r.skip(Math.min((8 - (innerLength % 8)) % 8, r.remaining));
    properties = r.rest();
  }
  return { type: "bundle_add", xid, bundleId, flags, message, properties };
}

/**
 * Offset of the bundled message inside a BUNDLE_ADD: ofp_header (8),
 * experimenter (4), exp_type (4), bundle_id (4), pad (2), flags (2). A
 * sender that patches xids in encoded bytes finds the inner header here.
 */
export const BUNDLE_ADD_MESSAGE_OFFSET = ONF_BUNDLE_ADD_SIZE;

/**
 * `w` holds the outer header (written by the caller); the bundled message is
 * encoded straight into `w` by `encodeInnerTo` (its own header and
 * backpatched length included) rather than encoded apart and copied: a
 * bundled FLOW_MOD is the hot path of a full install.
 */
export function encodeBundleAdd<M>(
  w: Writer,
  m: BundleAddMessage<M>,
  encodeInnerTo: (w: Writer, message: M) => void,
): void {
  w.u32(ONF_VENDOR_ID).u32(ONFT.BUNDLE_ADD_MESSAGE);
  w.u32(m.bundleId).u16(0).u16(m.flags);
  const innerStart = w.pos;
  encodeInnerTo(w, m.message);
  if (m.properties.byteLength > 0) {
    w.padTo(8, innerStart).bytes(m.properties);
  }
}
