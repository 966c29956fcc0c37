/**
 * The OpenFlow 1.3 message layer: the {@link OfMessage} union, one registry
 * row per message type, and {@link decodeMessage} / {@link encodeMessage}.
 *
 * Design (after OVS `ofp-msgs.h`): each row states the message's minimum
 * size (`fixedSize`, header included, equal to the spec's struct size) and
 * how the rest may grow (`elementSize`: 0 = nothing may follow, 1 = any
 * number of bytes, k = whole k-byte elements). {@link decodeMessage} checks
 * that generically before a body decoder runs, so body decoders only check
 * their own nested lengths. OFPT_EXPERIMENTER is dispatched on
 * (experimenter, exp_type): the ONF bundle messages have their own rows and
 * everything else stays an opaque `experimenter` message.
 *
 * Errors (all OfpError, as OVS names them):
 *   - header length ≠ buffer size, or body outside the row's sizes → OFPBRC_BAD_LEN
 *     (loose mode accepts a variable part that is not a whole number of elements)
 *   - version ≠ 4, except HELLO/ERROR/ECHO which are legal before negotiation
 *     (`lib/vconn.c`) → OFPBRC_BAD_VERSION
 *   - unknown type → OFPBRC_BAD_TYPE with `strict` (the default); with
 *     `strict: false` an `unknown` message carrying the raw body instead.
 *
 * `strict` also selects FLOW_MOD's match semantics (strict, as OVS decodes
 * what a controller sends) and whether unknown multipart types are errors.
 */
import { ONF_VENDOR_ID, OfpError } from "./errors.js";
import {
  OFP13_VERSION,
  OFP_HEADER_SIZE,
  OFP_MAX_MESSAGE_SIZE,
  OFPT,
  beginHeader,
  decodeHeader,
  finishHeader,
  type OfpHeader,
} from "./header.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";
import { decodeAsyncConfig, encodeAsyncConfig } from "./messages/async.js";
import type {
  GetAsyncReplyMessage,
  GetAsyncRequestMessage,
  SetAsyncMessage,
} from "./messages/async.js";
import type { BarrierReplyMessage, BarrierRequestMessage } from "./messages/barrier.js";
import {
  ONFT,
  decodeBundleAdd,
  decodeBundleCtrl,
  encodeBundleAdd,
  encodeBundleCtrl,
  type BundleAddMessage,
  type BundleCtrlMessage,
} from "./messages/bundle.js";
import {
  decodeGetConfigReply,
  decodeSetConfig,
  encodeSwitchConfig,
  type GetConfigReplyMessage,
  type GetConfigRequestMessage,
  type SetConfigMessage,
} from "./messages/config.js";
import {
  decodeEchoReply,
  decodeEchoRequest,
  encodeEcho,
  type EchoReplyMessage,
  type EchoRequestMessage,
} from "./messages/echo.js";
import { decodeError, encodeError, type ErrorMessage } from "./messages/error.js";
import {
  decodeExperimenter,
  encodeExperimenter,
  type ExperimenterMessage,
} from "./messages/experimenter.js";
import {
  decodeFeaturesReply,
  encodeFeaturesReply,
  type FeaturesReplyMessage,
  type FeaturesRequestMessage,
} from "./messages/features.js";
import { decodeFlowMod, encodeFlowMod, type FlowModMessage } from "./messages/flow-mod.js";
import {
  decodeFlowRemoved,
  encodeFlowRemoved,
  type FlowRemovedMessage,
} from "./messages/flow-removed.js";
import { decodeGroupMod, encodeGroupMod, type GroupModMessage } from "./messages/group-mod.js";
import { decodeHello, encodeHello, type HelloMessage } from "./messages/hello.js";
import { decodeMeterMod, encodeMeterMod, type MeterModMessage } from "./messages/meter-mod.js";
import {
  decodeMultipartReply,
  decodeMultipartRequest,
  encodeMultipartReply,
  encodeMultipartRequest,
  type MultipartReplyMessage,
  type MultipartRequestMessage,
} from "./messages/multipart.js";
import { decodePacketIn, encodePacketIn, type PacketInMessage } from "./messages/packet-in.js";
import { decodePacketOut, encodePacketOut, type PacketOutMessage } from "./messages/packet-out.js";
import { decodePortMod, encodePortMod, type PortModMessage } from "./messages/port-mod.js";
import {
  decodePortStatus,
  encodePortStatus,
  type PortStatusMessage,
} from "./messages/port-status.js";
import {
  decodeQueueGetConfigReply,
  decodeQueueGetConfigRequest,
  encodeQueueGetConfigReply,
  encodeQueueGetConfigRequest,
  type QueueGetConfigReplyMessage,
  type QueueGetConfigRequestMessage,
} from "./messages/queue-config.js";
import {
  decodeRole,
  encodeRole,
  type RoleReplyMessage,
  type RoleRequestMessage,
} from "./messages/role.js";
import { decodeTableMod, encodeTableMod, type TableModMessage } from "./messages/table-mod.js";
import * as S from "./messages/sizes.js";

/** A message type this codec does not know, kept raw (loose decode only). */
export interface UnknownMessage {
  readonly type: "unknown";
  readonly xid: number;
  readonly version: number;
  /** The header's type byte. */
  readonly msgType: number;
  /** Everything after the 8-byte header. */
  readonly body: Uint8Array;
}

/** Every OpenFlow 1.3 message, discriminated by its snake_case spec name. */
export type OfMessage =
  | HelloMessage
  | ErrorMessage
  | EchoRequestMessage
  | EchoReplyMessage
  | ExperimenterMessage
  | BundleCtrlMessage
  | BundleAddMessage<OfMessage>
  | FeaturesRequestMessage
  | FeaturesReplyMessage
  | GetConfigRequestMessage
  | GetConfigReplyMessage
  | SetConfigMessage
  | PacketInMessage
  | FlowRemovedMessage
  | PortStatusMessage
  | PacketOutMessage
  | FlowModMessage
  | GroupModMessage
  | PortModMessage
  | TableModMessage
  | MultipartRequestMessage
  | MultipartReplyMessage
  | BarrierRequestMessage
  | BarrierReplyMessage
  | QueueGetConfigRequestMessage
  | QueueGetConfigReplyMessage
  | RoleRequestMessage
  | RoleReplyMessage
  | GetAsyncRequestMessage
  | GetAsyncReplyMessage
  | SetAsyncMessage
  | MeterModMessage
  | UnknownMessage;

export type OfMessageType = OfMessage["type"];
export type MessageOf<T extends OfMessageType> = Extract<OfMessage, { type: T }>;

export interface DecodeOptions {
  /**
   * Default true: unknown message or multipart types are errors and FLOW_MOD
   * matches get OVS's strict semantics. False: unknown types decode to raw
   * `unknown` arms/bodies and every match is read loosely (layout only).
   */
  readonly strict?: boolean;
}

interface DecodeContext {
  readonly strict: boolean;
}

/** One row of the message registry. */
export interface MessageSpec<T extends OfMessageType = OfMessageType> {
  readonly type: T;
  /** OFPT_* number on the wire. */
  readonly ofpType: number;
  /** As OVS prints and logs it: "OFPT_FLOW_MOD", "ONFT_BUNDLE_CONTROL". */
  readonly name: string;
  /** Minimum size in bytes, header included (the spec's struct size). */
  readonly fixedSize: number;
  /** 0: exactly fixedSize; 1: fixedSize or more; k > 1: fixedSize + n*k. */
  readonly elementSize: number;
  /** For experimenter-framed messages: the (experimenter, exp_type) they own. */
  readonly experimenter?: { readonly id: number; readonly expType: number };
  /** Legal in any header version (exchanged before negotiation). */
  readonly anyVersion?: boolean;
  decode(r: Reader, h: OfpHeader, ctx: DecodeContext): MessageOf<T>;
  /** Writes the body after the header (experimenter rows write their id and exp_type). */
  encode(w: Writer, m: MessageOf<T>): void;
}

function spec<T extends OfMessageType>(row: MessageSpec<T>): MessageSpec<T> {
  return row;
}

function headerOnly<T extends OfMessageType>(
  type: T,
  ofpType: number,
  name: string,
): MessageSpec<T> {
  return {
    type,
    ofpType,
    name,
    fixedSize: S.OFP_HEADER_SIZE,
    elementSize: 0,
    decode: (_r, h) => ({ type, xid: h.xid }) as MessageOf<T>,
    encode: () => {},
  };
}

/** The message registry: one row per message type. */
export const MESSAGE_SPECS: readonly MessageSpec[] = [
  spec({
    type: "hello",
    ofpType: OFPT.HELLO,
    name: "OFPT_HELLO",
    fixedSize: S.OFP_HEADER_SIZE,
    elementSize: 1,
    anyVersion: true,
    decode: (r, h) => decodeHello(r, h.xid, h.version),
    encode: encodeHello,
  }),
  spec({
    type: "error",
    ofpType: OFPT.ERROR,
    name: "OFPT_ERROR",
    fixedSize: S.OFP_ERROR_MSG_SIZE,
    elementSize: 1,
    anyVersion: true,
    decode: (r, h) => decodeError(r, h.xid, h.version),
    encode: encodeError,
  }),
  spec({
    type: "echo_request",
    ofpType: OFPT.ECHO_REQUEST,
    name: "OFPT_ECHO_REQUEST",
    fixedSize: S.OFP_HEADER_SIZE,
    elementSize: 1,
    anyVersion: true,
    decode: (r, h) => decodeEchoRequest(r, h.xid, h.version),
    encode: encodeEcho,
  }),
  spec({
    type: "echo_reply",
    ofpType: OFPT.ECHO_REPLY,
    name: "OFPT_ECHO_REPLY",
    fixedSize: S.OFP_HEADER_SIZE,
    elementSize: 1,
    anyVersion: true,
    decode: (r, h) => decodeEchoReply(r, h.xid, h.version),
    encode: encodeEcho,
  }),
  spec({
    type: "experimenter",
    ofpType: OFPT.EXPERIMENTER,
    name: "OFPT_EXPERIMENTER",
    fixedSize: S.OFP_EXPERIMENTER_HEADER_SIZE,
    elementSize: 1,
    decode: (r, h, ctx) => decodeExperimenter(r, h.xid, ctx.strict),
    encode: encodeExperimenter,
  }),
  spec({
    type: "bundle_ctrl",
    ofpType: OFPT.EXPERIMENTER,
    name: "ONFT_BUNDLE_CONTROL",
    fixedSize: S.ONF_BUNDLE_CTRL_SIZE,
    elementSize: 1,
    experimenter: { id: ONF_VENDOR_ID, expType: ONFT.BUNDLE_CONTROL },
    decode: (r, h) => {
      r.skip(8);
      return decodeBundleCtrl(r, h.xid);
    },
    encode: encodeBundleCtrl,
  }),
  spec({
    type: "bundle_add",
    ofpType: OFPT.EXPERIMENTER,
    name: "ONFT_BUNDLE_ADD_MESSAGE",
    fixedSize: S.ONF_BUNDLE_ADD_SIZE + S.OFP_HEADER_SIZE,
    elementSize: 1,
    experimenter: { id: ONF_VENDOR_ID, expType: ONFT.BUNDLE_ADD_MESSAGE },
    decode: (r, h, ctx) => {
      r.skip(8);
      return decodeBundleAdd(r, h.xid, (bytes) => decodeMessage(bytes, ctx));
    },
    encode: (w, m) => encodeBundleAdd(w, m, encodeMessageTo),
  }),
  headerOnly("features_request", OFPT.FEATURES_REQUEST, "OFPT_FEATURES_REQUEST"),
  spec({
    type: "features_reply",
    ofpType: OFPT.FEATURES_REPLY,
    name: "OFPT_FEATURES_REPLY",
    fixedSize: S.OFP_SWITCH_FEATURES_SIZE,
    elementSize: 0,
    decode: (r, h) => decodeFeaturesReply(r, h.xid),
    encode: encodeFeaturesReply,
  }),
  headerOnly("get_config_request", OFPT.GET_CONFIG_REQUEST, "OFPT_GET_CONFIG_REQUEST"),
  spec({
    type: "get_config_reply",
    ofpType: OFPT.GET_CONFIG_REPLY,
    name: "OFPT_GET_CONFIG_REPLY",
    fixedSize: S.OFP_SWITCH_CONFIG_SIZE,
    elementSize: 0,
    decode: (r, h) => decodeGetConfigReply(r, h.xid),
    encode: encodeSwitchConfig,
  }),
  spec({
    type: "set_config",
    ofpType: OFPT.SET_CONFIG,
    name: "OFPT_SET_CONFIG",
    fixedSize: S.OFP_SWITCH_CONFIG_SIZE,
    elementSize: 0,
    decode: (r, h) => decodeSetConfig(r, h.xid),
    encode: encodeSwitchConfig,
  }),
  spec({
    type: "packet_in",
    ofpType: OFPT.PACKET_IN,
    name: "OFPT_PACKET_IN",
    // OVS pulls the 16 fixed bytes and then the match (a message cut inside
    // the match is OFPBMC_BAD_LEN); the match and pad are checked by the decoder.
    fixedSize: S.OFP_PACKET_IN_SIZE - S.OFP_MATCH_SIZE,
    elementSize: 1,
    decode: (r, h, ctx) => decodePacketIn(r, h.xid, ctx.strict),
    encode: encodePacketIn,
  }),
  spec({
    type: "flow_removed",
    ofpType: OFPT.FLOW_REMOVED,
    name: "OFPT_FLOW_REMOVED",
    fixedSize: S.OFP_FLOW_REMOVED_SIZE,
    elementSize: 8,
    decode: (r, h, ctx) => decodeFlowRemoved(r, h.xid, ctx.strict),
    encode: encodeFlowRemoved,
  }),
  spec({
    type: "port_status",
    ofpType: OFPT.PORT_STATUS,
    name: "OFPT_PORT_STATUS",
    fixedSize: S.OFP_PORT_STATUS_SIZE,
    elementSize: 0,
    decode: (r, h) => decodePortStatus(r, h.xid),
    encode: encodePortStatus,
  }),
  spec({
    type: "packet_out",
    ofpType: OFPT.PACKET_OUT,
    name: "OFPT_PACKET_OUT",
    fixedSize: S.OFP_PACKET_OUT_SIZE,
    elementSize: 1,
    decode: (r, h, ctx) => decodePacketOut(r, h.xid, ctx.strict),
    encode: encodePacketOut,
  }),
  spec({
    type: "flow_mod",
    ofpType: OFPT.FLOW_MOD,
    name: "OFPT_FLOW_MOD",
    fixedSize: S.OFP_FLOW_MOD_SIZE,
    elementSize: 8,
    decode: (r, h, ctx) => decodeFlowMod(r, h.xid, ctx.strict),
    encode: encodeFlowMod,
  }),
  spec({
    type: "group_mod",
    ofpType: OFPT.GROUP_MOD,
    name: "OFPT_GROUP_MOD",
    fixedSize: S.OFP_GROUP_MOD_SIZE,
    elementSize: 8,
    decode: (r, h, ctx) => decodeGroupMod(r, h.xid, ctx.strict),
    encode: encodeGroupMod,
  }),
  spec({
    type: "port_mod",
    ofpType: OFPT.PORT_MOD,
    name: "OFPT_PORT_MOD",
    fixedSize: S.OFP_PORT_MOD_SIZE,
    elementSize: 0,
    decode: (r, h) => decodePortMod(r, h.xid),
    encode: encodePortMod,
  }),
  spec({
    type: "table_mod",
    ofpType: OFPT.TABLE_MOD,
    name: "OFPT_TABLE_MOD",
    fixedSize: S.OFP_TABLE_MOD_SIZE,
    elementSize: 0,
    decode: (r, h) => decodeTableMod(r, h.xid),
    encode: encodeTableMod,
  }),
  spec({
    type: "multipart_request",
    ofpType: OFPT.MULTIPART_REQUEST,
    name: "OFPT_MULTIPART_REQUEST",
    fixedSize: S.OFP_MULTIPART_REQUEST_SIZE,
    elementSize: 1,
    decode: (r, h, ctx) => decodeMultipartRequest(r, h.xid, ctx.strict),
    encode: encodeMultipartRequest,
  }),
  spec({
    type: "multipart_reply",
    ofpType: OFPT.MULTIPART_REPLY,
    name: "OFPT_MULTIPART_REPLY",
    fixedSize: S.OFP_MULTIPART_REPLY_SIZE,
    elementSize: 1,
    decode: (r, h, ctx) => decodeMultipartReply(r, h.xid, ctx.strict),
    encode: encodeMultipartReply,
  }),
  headerOnly("barrier_request", OFPT.BARRIER_REQUEST, "OFPT_BARRIER_REQUEST"),
  headerOnly("barrier_reply", OFPT.BARRIER_REPLY, "OFPT_BARRIER_REPLY"),
  spec({
    type: "queue_get_config_request",
    ofpType: OFPT.QUEUE_GET_CONFIG_REQUEST,
    name: "OFPT_QUEUE_GET_CONFIG_REQUEST",
    fixedSize: S.OFP_QUEUE_GET_CONFIG_REQUEST_SIZE,
    elementSize: 0,
    decode: (r, h) => decodeQueueGetConfigRequest(r, h.xid),
    encode: encodeQueueGetConfigRequest,
  }),
  spec({
    type: "queue_get_config_reply",
    ofpType: OFPT.QUEUE_GET_CONFIG_REPLY,
    name: "OFPT_QUEUE_GET_CONFIG_REPLY",
    fixedSize: S.OFP_QUEUE_GET_CONFIG_REPLY_SIZE,
    elementSize: 8,
    decode: (r, h) => decodeQueueGetConfigReply(r, h.xid),
    encode: encodeQueueGetConfigReply,
  }),
  spec({
    type: "role_request",
    ofpType: OFPT.ROLE_REQUEST,
    name: "OFPT_ROLE_REQUEST",
    fixedSize: S.OFP_ROLE_REQUEST_SIZE,
    elementSize: 0,
    decode: (r, h, ctx) => decodeRole(r, "role_request", h.xid, ctx.strict),
    encode: encodeRole,
  }),
  spec({
    type: "role_reply",
    ofpType: OFPT.ROLE_REPLY,
    name: "OFPT_ROLE_REPLY",
    fixedSize: S.OFP_ROLE_REQUEST_SIZE,
    elementSize: 0,
    decode: (r, h, ctx) => decodeRole(r, "role_reply", h.xid, ctx.strict),
    encode: encodeRole,
  }),
  headerOnly("get_async_request", OFPT.GET_ASYNC_REQUEST, "OFPT_GET_ASYNC_REQUEST"),
  spec({
    type: "get_async_reply",
    ofpType: OFPT.GET_ASYNC_REPLY,
    name: "OFPT_GET_ASYNC_REPLY",
    fixedSize: S.OFP_ASYNC_CONFIG_SIZE,
    elementSize: 0,
    decode: (r, h) => ({ type: "get_async_reply", xid: h.xid, ...decodeAsyncConfig(r) }),
    encode: encodeAsyncConfig,
  }),
  spec({
    type: "set_async",
    ofpType: OFPT.SET_ASYNC,
    name: "OFPT_SET_ASYNC",
    fixedSize: S.OFP_ASYNC_CONFIG_SIZE,
    elementSize: 0,
    decode: (r, h) => ({ type: "set_async", xid: h.xid, ...decodeAsyncConfig(r) }),
    encode: encodeAsyncConfig,
  }),
  spec({
    type: "meter_mod",
    ofpType: OFPT.METER_MOD,
    name: "OFPT_METER_MOD",
    fixedSize: S.OFP_METER_MOD_SIZE,
    elementSize: 1,
    decode: (r, h, ctx) => decodeMeterMod(r, h.xid, ctx.strict),
    encode: encodeMeterMod,
  }),
] as readonly MessageSpec[];

/** Rows by OFPT number (non-experimenter-subtype rows only). */
const BY_OFPT: (MessageSpec | undefined)[] = [];
/** Experimenter-framed rows by `${experimenter}:${expType}`. */
const BY_EXPERIMENTER = new Map<string, MessageSpec>();
const BY_TYPE = new Map<string, MessageSpec>();

for (const row of MESSAGE_SPECS) {
  if (BY_TYPE.has(row.type)) throw new Error(`message type ${row.type} registered twice`);
  BY_TYPE.set(row.type, row);
  if (row.experimenter !== undefined) {
    BY_EXPERIMENTER.set(`${row.experimenter.id}:${row.experimenter.expType}`, row);
  } else {
    if (BY_OFPT[row.ofpType] !== undefined) throw new Error(`OFPT ${row.ofpType} registered twice`);
    BY_OFPT[row.ofpType] = row;
  }
}

/** The registry row for a message type tag. */
export function messageSpec<T extends Exclude<OfMessageType, "unknown">>(type: T): MessageSpec<T> {
  return BY_TYPE.get(type) as unknown as MessageSpec<T>;
}

/**
 * The generic length rule. Loose decoding keeps the minimum but does not
 * insist on whole elements (a few encoders, e.g. the Erlang one behind Ryu's
 * `4-36` queue config vector, leave variable parts unpadded).
 */
function checkLength(row: MessageSpec, length: number, strict: boolean): void {
  const extra = length - row.fixedSize;
  const ok =
    extra === 0 ||
    (extra > 0 &&
      (row.elementSize === 1 ||
        (row.elementSize > 1 && (!strict || extra % row.elementSize === 0))));
  if (!ok) {
    throw new OfpError(
      "OFPBRC_BAD_LEN",
      `${row.name} with length ${length} (expected ${row.fixedSize}${row.elementSize === 0 ? "" : row.elementSize === 1 ? " or more" : ` + n*${row.elementSize}`})`,
      { offset: 2 },
    );
  }
}

/**
 * The header of the message being decoded: one reused object (decode is
 * synchronous; body decoders copy what they keep, e.g. `xid`). A nested
 * decode (bundle_add's inner message) overwrites it only after the outer
 * body decoder has read it.
 */
const header = { version: 0, type: 0, length: 0, xid: 0 };

function decodeHeaderInto(bytes: Uint8Array, out: typeof header): OfpHeader {
  if (bytes.byteLength < OFP_HEADER_SIZE) return decodeHeader(bytes); // throws OFPBRC_BAD_LEN
  const length = (bytes[2]! << 8) | bytes[3]!;
  if (length < OFP_HEADER_SIZE) return decodeHeader(bytes); // throws OFPBRC_BAD_LEN
  out.version = bytes[0]!;
  out.type = bytes[1]!;
  out.length = length;
  out.xid = ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
  return out;
}

const STRICT: DecodeContext = { strict: true };
const LOOSE: DecodeContext = { strict: false };

/**
 * Decodes exactly one whole message (`bytes.length` must equal its header
 * length). Throws OfpError only.
 *
 * @example
 * const m = decodeMessage(new Uint8Array([4, 20, 0, 8, 0, 0, 0, 7]));
 * // m = { type: "barrier_request", xid: 7 }
 */
export function decodeMessage(bytes: Uint8Array, options?: DecodeOptions): OfMessage {
  const ctx = options?.strict === false ? LOOSE : STRICT;
  const h = decodeHeaderInto(bytes, header);
  if (h.length !== bytes.byteLength) {
    throw new OfpError(
      "OFPBRC_BAD_LEN",
      `header length ${h.length} but message is ${bytes.byteLength} bytes`,
      { offset: 2 },
    );
  }
  let row = BY_OFPT[h.type];
  if (row === undefined) {
    if (h.version !== OFP13_VERSION) {
      throw new OfpError("OFPBRC_BAD_VERSION", `version ${h.version}`, { offset: 0 });
    }
    if (ctx.strict) throw new OfpError("OFPBRC_BAD_TYPE", `message type ${h.type}`, { offset: 1 });
    const body = bytes.slice(OFP_HEADER_SIZE);
    return { type: "unknown", xid: h.xid, version: h.version, msgType: h.type, body };
  }
  if (h.version !== OFP13_VERSION && row.anyVersion !== true) {
    throw new OfpError("OFPBRC_BAD_VERSION", `version ${h.version}`, { offset: 0 });
  }
  if (h.type === OFPT.EXPERIMENTER && h.length >= S.OFP_EXPERIMENTER_HEADER_SIZE) {
    const experimenter =
      ((bytes[8]! << 24) | (bytes[9]! << 16) | (bytes[10]! << 8) | bytes[11]!) >>> 0;
    const expType =
      ((bytes[12]! << 24) | (bytes[13]! << 16) | (bytes[14]! << 8) | bytes[15]!) >>> 0;
    row = BY_EXPERIMENTER.get(`${experimenter}:${expType}`) ?? row;
  }
  checkLength(row, h.length, ctx.strict);
  const r = new Reader(bytes, { start: OFP_HEADER_SIZE, end: h.length });
  return row.decode(r, h, ctx);
}

/** Header version an arm is encoded with. */
function versionOf(m: OfMessage): number {
  switch (m.type) {
    case "hello":
    case "error":
    case "echo_request":
    case "echo_reply":
      return m.version ?? OFP13_VERSION;
    case "unknown":
      return m.version;
    default:
      return OFP13_VERSION;
  }
}

/**
 * Encodes one message; every length (message, match, actions, TLVs) is
 * computed, never taken from the input. Throws a RangeError if the message
 * would exceed 65535 bytes (split multipart replies with
 * `splitMultipartReply` first).
 */
export function encodeMessage(m: OfMessage): Uint8Array {
  // One reusable scratch writer, so an encode allocates only its result. A
  // re-entrant call finds the scratch taken and uses a fresh writer (none
  // today: bundle_add encodes its inner message into the same writer).
  const w = scratch ?? new Writer(SCRATCH_SIZE);
  scratch = undefined;
  try {
    w.pos = 0;
    encodeMessageTo(w, m);
    return output(w);
  } finally {
    scratch = w;
  }
}

const SCRATCH_SIZE = 1024;
let scratch: Writer | undefined;

/**
 * Result buffers. A fresh ArrayBuffer per message costs more than encoding a
 * FLOW_MOD (V8 allocates buffers over 64 bytes off-heap), so messages up to
 * SLAB_MAX_MESSAGE are carved, 8-aligned, out of a shared SLAB_SIZE slab, as
 * Node's Buffer pool does: the result is a view whose `byteOffset` may be
 * non-zero and whose `buffer` holds other messages. Each message owns its
 * own bytes (views never overlap; writing into one is harmless), and a slab
 * is never reused, so a result stays valid for good; `slice()` one that is
 * kept for long, so it does not pin the slab. Larger messages get their own
 * buffer.
 */
const SLAB_SIZE = 16 * 1024;
const SLAB_MAX_MESSAGE = 2 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabOffset = 0;

function output(w: Writer): Uint8Array {
  const n = w.pos;
  if (n > SLAB_MAX_MESSAGE) return w.finish();
  if (slabOffset + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabOffset = 0;
  }
  const out = slab.subarray(slabOffset, slabOffset + n);
  out.set(w.written());
  slabOffset = (slabOffset + n + 7) & ~7;
  return out;
}

/** Appends one encoded message to `w` (for batching several into one buffer). */
export function encodeMessageTo(w: Writer, m: OfMessage): void {
  if (m.type === "unknown") {
    const token = beginHeader(w, m.msgType, m.xid, m.version);
    w.bytes(m.body);
    finishHeader(w, token);
    return;
  }
  const row = BY_TYPE.get(m.type);
  if (row === undefined) throw new Error(`no registry row for message type ${m.type}`);
  const token = beginHeader(w, row.ofpType, m.xid, versionOf(m));
  (row.encode as (w: Writer, m: OfMessage) => void)(w, m);
  const length = finishHeader(w, token);
  if (length > OFP_MAX_MESSAGE_SIZE) throw new RangeError(`message of ${length} bytes`);
}
