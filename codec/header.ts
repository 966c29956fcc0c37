/**
 * The 8-byte `ofp_header` every OpenFlow message starts with, and the OF1.3
 * message type numbers (OF1.3 §7.1, `enum ofp_type`).
 *
 *     0        1        2                 4                                 8
 *     +--------+--------+--------+--------+--------+--------+--------+--------+
 *     | version|  type  |      length     |               xid                 |
 *     +--------+--------+--------+--------+--------+--------+--------+--------+
 *
 * `length` counts the whole message, header included, so it is 8..65535. A
 * length under 8 cannot frame anything: OVS drops the connection
 * ("received too-short ofp_header", `lib/vconn-stream.c`); see framer.ts.
 */
import { OfpError } from "./errors.js";
import type { Writer } from "./writer.js";

/** OpenFlow 1.3 wire version. */
export const OFP13_VERSION = 0x04;

export const OFP_HEADER_SIZE = 8;
/** Largest message the 16-bit `length` can describe. */
export const OFP_MAX_MESSAGE_SIZE = 0xffff;

/** OF1.3 `enum ofp_type`. */
export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  QUEUE_GET_CONFIG_REPLY: 23,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
  SET_ASYNC: 28,
  METER_MOD: 29,
} as const;
export type OfpType = (typeof OFPT)[keyof typeof OFPT];

/** A decoded `ofp_header`. */
export interface OfpHeader {
  readonly version: number;
  readonly type: number;
  readonly length: number;
  readonly xid: number;
}

/**
 * Reads the header at `offset`. Raises OFPBRC_BAD_LEN when fewer than 8 bytes
 * are present or when `length` is under 8; it does not compare `length` with
 * the buffer (the caller decides whether trailing or missing bytes matter).
 */
export function decodeHeader(bytes: Uint8Array, offset = 0): OfpHeader {
  if (bytes.byteLength - offset < OFP_HEADER_SIZE) {
    throw new OfpError("OFPBRC_BAD_LEN", `need ${OFP_HEADER_SIZE} header bytes`, { offset });
  }
  const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  if (length < OFP_HEADER_SIZE) {
    throw new OfpError("OFPBRC_BAD_LEN", `header length ${length} < ${OFP_HEADER_SIZE}`, {
      offset,
    });
  }
  return {
    version: bytes[offset]!,
    type: bytes[offset + 1]!,
    length,
    xid:
      ((bytes[offset + 4]! << 24) |
        (bytes[offset + 5]! << 16) |
        (bytes[offset + 6]! << 8) |
        bytes[offset + 7]!) >>>
      0,
  };
}

/**
 * Writes a header with a zero length and returns where it starts, for
 * {@link finishHeader} to patch once the body is written.
 */
export function beginHeader(
  w: Writer,
  type: number,
  xid: number,
  version: number = OFP13_VERSION,
): number {
  const start = w.pos;
  w.u8(version).u8(type).u16(0).u32(xid);
  return start;
}

/** Patches the message length (no padding: messages are not padded). */
export function finishHeader(w: Writer, start: number): number {
  return w.endLengthAt(start, 2, "none");
}
