/**
 * OFPT_ERROR (OF1.3 §7.4.4).
 *
 *     standard:     ofp_header (8) | type (2) | code (2) | data
 *     experimenter: ofp_header (8) | 0xffff (2) | exp_type (2) | experimenter (4) | data
 *
 * `data` is the offending request for most errors (the spec asks for at least
 * 64 bytes; OVS sends all of it, `ofperr_encode_reply`), or ASCII text for
 * OFPET_HELLO_FAILED. It is kept as opaque bytes; callers that want the
 * embedded request decode it with decodeMessage in loose mode.
 *
 * Decoder: the body must hold type and code (OFPBRC_BAD_LEN), and for the
 * experimenter form also the experimenter id. Unknown (type, code) pairs are
 * kept as numbers: {@link errorName} returns undefined for them.
 */
import {
  OFPET,
  OfpError,
  experimenterErrorName,
  standardErrorName,
  type ErrorEncoding,
} from "../errors.js";
import { OFP13_VERSION, OFP_HEADER_SIZE, OFP_MAX_MESSAGE_SIZE } from "../header.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { OFP_ERROR_EXPERIMENTER_MSG_SIZE, OFP_ERROR_MSG_SIZE } from "./sizes.js";

export interface ErrorMessage {
  readonly type: "error";
  readonly xid: number;
  /** Header version; errors may be exchanged before version negotiation. Default 4. */
  readonly version?: number;
  readonly error: ErrorEncoding;
  readonly data: Uint8Array;
}

export function decodeError(r: Reader, xid: number, version: number): ErrorMessage {
  const type = r.u16();
  const code = r.u16();
  if (type === OFPET.EXPERIMENTER) {
    const experimenter = r.u32();
    return {
      type: "error",
      xid,
      version,
      error: { kind: "experimenter", experimenter, expType: code },
      data: r.rest(),
    };
  }
  return { type: "error", xid, version, error: { kind: "standard", type, code }, data: r.rest() };
}

export function encodeError(w: Writer, m: ErrorMessage): void {
  const e = m.error;
  if (e.kind === "experimenter") w.u16(OFPET.EXPERIMENTER).u16(e.expType).u32(e.experimenter);
  else w.u16(e.type).u16(e.code);
  w.bytes(m.data);
}

/** OVS's name for the error (`OFPBMC_BAD_PREREQ`), or undefined if not catalogued. */
export function errorName(m: ErrorMessage): string | undefined {
  const e = m.error;
  return e.kind === "standard"
    ? standardErrorName(e.type, e.code)
    : experimenterErrorName(e.experimenter, e.expType);
}

/**
 * The OFPT_ERROR a switch (or we) would send for `request` failing with `err`,
 * as OVS builds it (`ofperr_encode_reply`): same xid and version as the
 * request, and the whole request as data, cut only where the error message
 * would exceed 65535 bytes. `request` may be shorter than its header claims
 * (e.g. a truncated frame); fewer than 8 bytes give xid 0.
 */
export function errorReplyFor(err: OfpError, request: Uint8Array): ErrorMessage {
  const hasHeader = request.byteLength >= OFP_HEADER_SIZE;
  const xid = hasHeader
    ? ((request[4]! << 24) | (request[5]! << 16) | (request[6]! << 8) | request[7]!) >>> 0
    : 0;
  const version = hasHeader ? request[0]! : OFP13_VERSION;
  const fixed =
    err.encoding.kind === "experimenter" ? OFP_ERROR_EXPERIMENTER_MSG_SIZE : OFP_ERROR_MSG_SIZE;
  const size = Math.min(request.byteLength, OFP_MAX_MESSAGE_SIZE - fixed);
  return { type: "error", xid, version, error: err.encoding, data: request.slice(0, size) };
}
