/**
 * OFPT_ECHO_REQUEST / OFPT_ECHO_REPLY (OF1.3 §7.5.2, §7.5.3).
 *
 *     ofp_header (8) | arbitrary data
 *
 * The reply echoes the request's xid and data. Echo may be exchanged before
 * version negotiation, so the header version is kept.
 */
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface EchoRequestMessage {
  readonly type: "echo_request";
  readonly xid: number;
  /** Header version. Default 4. */
  readonly version?: number;
  readonly data: Uint8Array;
}

export interface EchoReplyMessage {
  readonly type: "echo_reply";
  readonly xid: number;
  /** Header version. Default 4. */
  readonly version?: number;
  readonly data: Uint8Array;
}

export function decodeEchoRequest(r: Reader, xid: number, version: number): EchoRequestMessage {
  return { type: "echo_request", xid, version, data: r.rest() };
}

export function decodeEchoReply(r: Reader, xid: number, version: number): EchoReplyMessage {
  return { type: "echo_reply", xid, version, data: r.rest() };
}

export function encodeEcho(w: Writer, m: EchoRequestMessage | EchoReplyMessage): void {
  w.bytes(m.data);
}

/** The reply OVS sends to an echo request: same xid, version and data. */
export function echoReplyFor(request: EchoRequestMessage): EchoReplyMessage {
  return { type: "echo_reply", xid: request.xid, version: request.version, data: request.data };
}
