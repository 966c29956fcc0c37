/**
 * OFPT_QUEUE_GET_CONFIG_REQUEST / OFPT_QUEUE_GET_CONFIG_REPLY (OF1.3 §7.3.6).
 *
 *     request: ofp_header (8) | port (4) | pad (4)   = 16
 *     reply:   ofp_header (8) | port (4) | pad (4) | ofp_packet_queue*
 *     ofp_packet_queue: queue_id (4) | port (4) | len (2) | pad (6) | property*
 *     property: type (2) | len (2) | pad (4) | body
 *       MIN_RATE 1 / MAX_RATE 2: rate (2, 1/10 %) | pad (6)          len 16
 *       EXPERIMENTER 0xffff:     experimenter (4) | pad (4) | data    len 16 + n
 *
 * Every `len` covers its whole structure. Decoder: a queue or property whose
 * len is under its header or past its parent is OFPBRC_BAD_LEN. Properties of
 * other types are kept as raw bytes.
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { assertNever } from "./assert-never.js";
import { OFP_PACKET_QUEUE_SIZE, OFP_QUEUE_PROP_HEADER_SIZE } from "./sizes.js";

/** OF1.3 `enum ofp_queue_properties`. */
export const OFPQT = { MIN_RATE: 1, MAX_RATE: 2, EXPERIMENTER: 0xffff } as const;

export type QueueProperty =
  | { readonly kind: "min_rate"; readonly rate: number }
  | { readonly kind: "max_rate"; readonly rate: number }
  | { readonly kind: "experimenter"; readonly experimenter: number; readonly data: Uint8Array }
  | { readonly kind: "unknown"; readonly propertyType: number; readonly data: Uint8Array };

export interface PacketQueue {
  readonly queueId: number;
  readonly port: number;
  readonly properties: readonly QueueProperty[];
}

export interface QueueGetConfigRequestMessage {
  readonly type: "queue_get_config_request";
  readonly xid: number;
  readonly port: number;
}

export interface QueueGetConfigReplyMessage {
  readonly type: "queue_get_config_reply";
  readonly xid: number;
  readonly port: number;
  readonly queues: readonly PacketQueue[];
}

export function decodeQueueGetConfigRequest(r: Reader, xid: number): QueueGetConfigRequestMessage {
  const port = r.u32();
  r.skip(4);
  return { type: "queue_get_config_request", xid, port };
}

export function encodeQueueGetConfigRequest(w: Writer, m: QueueGetConfigRequestMessage): void {
  w.u32(m.port).zeros(4);
}

function decodeQueueProperty(r: Reader): QueueProperty {
  const propertyType = r.u16();
  const len = r.u16();
  if (len < OFP_QUEUE_PROP_HEADER_SIZE) {
    throw new OfpError("OFPBRC_BAD_LEN", `queue property len ${len} < 8`, { offset: r.pos - 2 });
  }
  r.skip(4);
  const body = r.sub(len - OFP_QUEUE_PROP_HEADER_SIZE, "queue property");
  switch (propertyType) {
    case OFPQT.MIN_RATE:
    case OFPQT.MAX_RATE: {
      const rate = body.u16();
      body.skip(6);
      if (body.remaining !== 0) {
        throw new OfpError("OFPBRC_BAD_LEN", `rate property len ${len} != 16`, {
          offset: body.pos,
        });
      }
      return { kind: propertyType === OFPQT.MIN_RATE ? "min_rate" : "max_rate", rate };
    }
    case OFPQT.EXPERIMENTER: {
      const experimenter = body.u32();
      body.skip(4);
      return { kind: "experimenter", experimenter, data: body.rest() };
    }
    default:
      return { kind: "unknown", propertyType, data: body.rest() };
  }
}

function encodeQueueProperty(w: Writer, p: QueueProperty): void {
  const token = w.beginLength(2);
  switch (p.kind) {
    case "min_rate":
    case "max_rate":
      w.u16(p.kind === "min_rate" ? OFPQT.MIN_RATE : OFPQT.MAX_RATE)
        .u16(0)
        .zeros(4);
      w.u16(p.rate).zeros(6);
      break;
    case "experimenter":
      w.u16(OFPQT.EXPERIMENTER).u16(0).zeros(4).u32(p.experimenter).zeros(4).bytes(p.data);
      break;
    case "unknown":
      w.u16(p.propertyType).u16(0).zeros(4).bytes(p.data);
      break;
    default:
      return assertNever(p);
  }
  w.endLength(token, "none");
}

export function decodePacketQueue(r: Reader): PacketQueue {
  const queueId = r.u32();
  const port = r.u32();
  const len = r.u16();
  if (len < OFP_PACKET_QUEUE_SIZE) {
    throw new OfpError("OFPBRC_BAD_LEN", `packet queue len ${len} < 16`, { offset: r.pos - 2 });
  }
  r.skip(6);
  const body = r.sub(len - OFP_PACKET_QUEUE_SIZE, "packet queue");
  const properties: QueueProperty[] = [];
  while (body.remaining > 0) properties.push(decodeQueueProperty(body));
  return { queueId, port, properties };
}

export function encodePacketQueue(w: Writer, q: PacketQueue): void {
  const token = w.beginLength(8);
  w.u32(q.queueId).u32(q.port).u16(0).zeros(6);
  for (const p of q.properties) encodeQueueProperty(w, p);
  w.endLength(token, "none");
}

export function decodeQueueGetConfigReply(r: Reader, xid: number): QueueGetConfigReplyMessage {
  const port = r.u32();
  r.skip(4);
  const queues: PacketQueue[] = [];
  while (r.remaining > 0) queues.push(decodePacketQueue(r));
  return { type: "queue_get_config_reply", xid, port, queues };
}

export function encodeQueueGetConfigReply(w: Writer, m: QueueGetConfigReplyMessage): void {
  w.u32(m.port).zeros(4);
  for (const q of m.queues) encodePacketQueue(w, q);
}
