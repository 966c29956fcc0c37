/**
 * Encoding a multipart message whose body may not fit in 65535 bytes.
 *
 * OVS builds a reply with `ofpmp_init` and appends entries; when one makes
 * the current message exceed 65535 bytes, `ofpmp_postappend` moves that whole
 * entry into a fresh message and sets OFPMPF_REPLY_MORE on the previous one.
 * Entries are never split (codec.md §0.8: the "malformed after ~680 flows"
 * switches got this wrong). {@link encodeMultipartParts} does the same: every
 * entry is encoded once into one buffer, then whole entries are packed into
 * messages of at most `maxSize` bytes; every message but the last carries the
 * MORE flag (REPLY_MORE and REQ_MORE are both bit 0). A body without entries
 * (desc, aggregate, experimenter, ...) is a single message.
 */
import { OFPT, OFP13_VERSION, OFP_MAX_MESSAGE_SIZE } from "../header.js";
import { Writer } from "../writer.js";
import { encodeMessage } from "../message.js";
import {
  encodeEntry,
  hasEntries,
  multipartType,
  OFPMPF_REPLY_MORE,
  type MultipartKind,
  type MultipartReplyMessage,
  type MultipartRequestMessage,
} from "./multipart.js";
import { OFP_MULTIPART_REPLY_SIZE } from "./sizes.js";

export interface SplitOptions {
  /** Largest message to produce, 16..65535. Default 65535. */
  readonly maxSize?: number;
}

/**
 * Encodes `m` as one or more whole OpenFlow messages (same xid), splitting
 * list bodies between entries. Throws a RangeError if a single entry cannot
 * fit in `maxSize`.
 */
export function encodeMultipartParts(
  m: MultipartReplyMessage | MultipartRequestMessage,
  options: SplitOptions = {},
): Uint8Array[] {
  const maxSize = options.maxSize ?? OFP_MAX_MESSAGE_SIZE;
  if (maxSize < OFP_MULTIPART_REPLY_SIZE || maxSize > OFP_MAX_MESSAGE_SIZE) {
    throw new RangeError(`maxSize ${maxSize} outside 16..65535`);
  }
  const direction = m.type === "multipart_reply" ? "reply" : "request";
  const ofpType = m.type === "multipart_reply" ? OFPT.MULTIPART_REPLY : OFPT.MULTIPART_REQUEST;
  const body = m.body;
  if (!hasEntries(body)) {
    const single = encodeMessage(m);
    if (single.byteLength > maxSize) {
      throw new RangeError(`multipart message of ${single.byteLength} bytes exceeds ${maxSize}`);
    }
    return [single];
  }
  const entriesWriter = new Writer(1024);
  const ends: number[] = [];
  for (const entry of body.entries) {
    encodeEntry(entriesWriter, body.kind as MultipartKind, direction, entry);
    const size = entriesWriter.pos - (ends.length === 0 ? 0 : ends[ends.length - 1]!);
    if (size + OFP_MULTIPART_REPLY_SIZE > maxSize) {
      throw new RangeError(`multipart entry of ${size} bytes cannot fit in ${maxSize}`);
    }
    ends.push(entriesWriter.pos);
  }
  const bytes = entriesWriter.finish();
  const mpType = multipartType(body);
  const out: Uint8Array[] = [];
  let first = 0; // index of the first entry of the current message
  let start = 0; // byte offset of that entry
  for (;;) {
    let last = first;
    while (last < ends.length && ends[last]! - start + OFP_MULTIPART_REPLY_SIZE <= maxSize) last++;
    const end = last === first ? start : ends[last - 1]!;
    const more = last < ends.length;
    const flags = more ? m.flags | OFPMPF_REPLY_MORE : m.flags & ~OFPMPF_REPLY_MORE;
    const msg = new Uint8Array(OFP_MULTIPART_REPLY_SIZE + end - start);
    const view = new DataView(msg.buffer);
    view.setUint8(0, OFP13_VERSION);
    view.setUint8(1, ofpType);
    view.setUint16(2, msg.byteLength);
    view.setUint32(4, m.xid >>> 0);
    view.setUint16(8, mpType);
    view.setUint16(10, flags);
    msg.set(bytes.subarray(start, end), OFP_MULTIPART_REPLY_SIZE);
    out.push(msg);
    if (!more) return out;
    first = last;
    start = end;
  }
}
