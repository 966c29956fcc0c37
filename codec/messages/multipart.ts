/**
 * OFPT_MULTIPART_REQUEST / OFPT_MULTIPART_REPLY (OF1.3 §7.3.5).
 *
 *     ofp_header (8) | type (2) | flags (2) | pad (4) | body      >= 16
 *
 * One registry row per multipart type gives, for each direction, the body's
 * shape: a fixed struct (exact size checked), or a list of entries (each entry
 * decoder checks its own length). List bodies are always `{ kind, entries }`,
 * which is what lets {@link splitMultipartReply} and the assembler
 * (multipart-assembler.ts) move whole entries between messages generically.
 *
 * Decoder: an unknown multipart type is OFPBRC_BAD_STAT in strict mode (OVS's
 * name for OFPBRC_BAD_MULTIPART) and a raw `unknown` body in loose mode. A
 * fixed body of the wrong size is OFPBRC_BAD_LEN. Experimenter bodies
 * (experimenter (4) | exp_type (4) | data) are opaque, including ONF/Nicira
 * multipart extensions such as ONF flow monitor.
 */
import { getU16 } from "../bytes.js";
import { OFPP } from "../ports.js";
import { OFPG_ANY, OFPTT_ALL } from "./flow-mod.js";
import { ONF_VENDOR_ID, OfpError } from "../errors.js";
import { MATCH_MODE, decodeMatchEntries } from "../match.js";
import { checkVendor } from "./experimenter.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import { decodePort, encodePort, type OfpPort } from "./port.js";
import {
  decodeAggregateStats,
  decodeFlowStats,
  decodeFlowStatsRequest,
  encodeAggregateStats,
  encodeFlowStats,
  encodeFlowStatsRequest,
  type AggregateStats,
  type FlowStats,
  type FlowStatsRequest,
} from "./multipart-flow.js";
import {
  decodeGroupStats,
  decodeMeterStats,
  decodePortStats,
  decodeQueueStats,
  decodeTableStats,
  encodeGroupStats,
  encodeMeterStats,
  encodePortStats,
  encodeQueueStats,
  encodeTableStats,
  type GroupStats,
  type MeterStats,
  type PortStats,
  type QueueStats,
  type TableStats,
} from "./multipart-stats.js";
import {
  decodeGroupDesc,
  decodeGroupFeatures,
  decodeMeterConfig,
  decodeMeterFeatures,
  decodeSwitchDesc,
  encodeGroupDesc,
  encodeGroupFeatures,
  encodeMeterConfig,
  encodeMeterFeatures,
  encodeSwitchDesc,
  type GroupDesc,
  type GroupFeatures,
  type MeterConfig,
  type MeterFeatures,
  type SwitchDesc,
} from "./multipart-desc.js";
import { decodeTableFeatures, encodeTableFeatures, type TableFeatures } from "./table-features.js";
import {
  OFP_AGGREGATE_STATS_REPLY_SIZE,
  OFP_DESC_SIZE,
  OFP_GROUP_FEATURES_SIZE,
  OFP_GROUP_STATS_REQUEST_SIZE,
  OFP_METER_FEATURES_SIZE,
  OFP_METER_MULTIPART_REQUEST_SIZE,
  OFP_PORT_STATS_REQUEST_SIZE,
  OFP_QUEUE_STATS_REQUEST_SIZE,
} from "./sizes.js";

/** OF1.3 `enum ofp_multipart_type`. */
export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  AGGREGATE: 2,
  TABLE: 3,
  PORT_STATS: 4,
  QUEUE: 5,
  GROUP: 6,
  GROUP_DESC: 7,
  GROUP_FEATURES: 8,
  METER: 9,
  METER_CONFIG: 10,
  METER_FEATURES: 11,
  TABLE_FEATURES: 12,
  PORT_DESC: 13,
  EXPERIMENTER: 0xffff,
} as const;

/** OF1.3 `enum ofp_multipart_request_flags` / `ofp_multipart_reply_flags`. */
export const OFPMPF_REQ_MORE = 1;
export const OFPMPF_REPLY_MORE = 1;

export interface ExperimenterBody {
  readonly kind: "experimenter";
  readonly experimenter: number;
  readonly expType: number;
  readonly data: Uint8Array;
}

/** A multipart type this codec does not know (loose decode only). */
export interface UnknownBody {
  readonly kind: "unknown";
  readonly mpType: number;
  readonly data: Uint8Array;
}

export type MultipartRequestBody =
  | { readonly kind: "desc" }
  | ({ readonly kind: "flow" } & FlowStatsRequest)
  | ({ readonly kind: "aggregate" } & FlowStatsRequest)
  | { readonly kind: "table" }
  | { readonly kind: "port_stats"; readonly portNo: number }
  | { readonly kind: "queue"; readonly portNo: number; readonly queueId: number }
  | { readonly kind: "group"; readonly groupId: number }
  | { readonly kind: "group_desc" }
  | { readonly kind: "group_features" }
  | { readonly kind: "meter"; readonly meterId: number }
  | { readonly kind: "meter_config"; readonly meterId: number }
  | { readonly kind: "meter_features" }
  | { readonly kind: "table_features"; readonly entries: readonly TableFeatures[] }
  | { readonly kind: "port_desc" }
  | ExperimenterBody
  | UnknownBody;

export type MultipartReplyBody =
  | ({ readonly kind: "desc" } & SwitchDesc)
  | { readonly kind: "flow"; readonly entries: readonly FlowStats[] }
  | ({ readonly kind: "aggregate" } & AggregateStats)
  | { readonly kind: "table"; readonly entries: readonly TableStats[] }
  | { readonly kind: "port_stats"; readonly entries: readonly PortStats[] }
  | { readonly kind: "queue"; readonly entries: readonly QueueStats[] }
  | { readonly kind: "group"; readonly entries: readonly GroupStats[] }
  | { readonly kind: "group_desc"; readonly entries: readonly GroupDesc[] }
  | ({ readonly kind: "group_features" } & GroupFeatures)
  | { readonly kind: "meter"; readonly entries: readonly MeterStats[] }
  | { readonly kind: "meter_config"; readonly entries: readonly MeterConfig[] }
  | ({ readonly kind: "meter_features" } & MeterFeatures)
  | { readonly kind: "table_features"; readonly entries: readonly TableFeatures[] }
  | { readonly kind: "port_desc"; readonly entries: readonly OfpPort[] }
  | ExperimenterBody
  | UnknownBody;

export type MultipartKind = Exclude<MultipartReplyBody["kind"], "unknown">;

export interface MultipartRequestMessage {
  readonly type: "multipart_request";
  readonly xid: number;
  readonly flags: number;
  readonly body: MultipartRequestBody;
}

export interface MultipartReplyMessage {
  readonly type: "multipart_reply";
  readonly xid: number;
  readonly flags: number;
  readonly body: MultipartReplyBody;
}

/**
 * How one direction of one multipart type is laid out. `fixed`: a struct of
 * exactly `size` bytes (`size` -1: variable, decoder checks). `list`: entries
 * until the end of the message.
 */
export type BodyCodec =
  | {
      readonly shape: "fixed";
      readonly size: number;
      decode(r: Reader, strict: boolean): object;
      encode(w: Writer, body: never): void;
    }
  | {
      readonly shape: "list";
      decodeEntry(r: Reader, strict: boolean): unknown;
      encodeEntry(w: Writer, entry: never): void;
    };

export interface MultipartSpec {
  readonly kind: MultipartKind;
  readonly mpType: number;
  readonly name: string;
  readonly request: BodyCodec;
  readonly reply: BodyCodec;
}

const EMPTY: BodyCodec = { shape: "fixed", size: 0, decode: () => ({}), encode: () => {} };

function fixed<T extends object>(
  size: number,
  decode: (r: Reader, strict: boolean) => T,
  encode: (w: Writer, body: T) => void,
): BodyCodec {
  return { shape: "fixed", size, decode, encode };
}

function list<T>(
  decodeEntry: (r: Reader, strict: boolean) => T,
  encodeEntry: (w: Writer, e: T) => void,
): BodyCodec {
  return { shape: "list", decodeEntry, encodeEntry };
}

/**
 * Experimenter bodies stay opaque. Strict decode answers like OVS: an
 * experimenter other than Nicira/ONF is OFPBRC_BAD_VENDOR, and an ONF flow
 * monitor request (ONFST_FLOW_MONITOR) is walked for its layout.
 */
function decodeExperimenterBody(
  r: Reader,
  strict: boolean,
  request: boolean,
): Omit<ExperimenterBody, "kind"> {
  const at = r.pos;
  const experimenter = r.u32();
  const expType = r.u32();
  if (strict) {
    checkVendor(experimenter, at);
    if (request && experimenter === ONF_VENDOR_ID && expType === ONFMP_FLOW_MONITOR) {
      checkFlowMonitor(r);
    }
  }
  return { experimenter, expType, data: r.rest() };
}

/** ONF multipart exp_type of flow monitor (EXT-187, OVS `ONFST13_FLOW_MONITOR`). */
const ONFMP_FLOW_MONITOR = 1870;
/** `struct nx_flow_monitor_request`: id, flags, out_port, match_len, table_id, zeros[5]. */
const FLOW_MONITOR_REQUEST_SIZE = 16;

/**
 * The layout checks OVS's `ofputil_decode_flow_monitor_request` makes before
 * anything else: whole 16-byte requests (OFPBRC_BAD_LEN), each followed by an
 * nx_match of `match_len` bytes padded to 8 that must fit (OFPBMC_BAD_LEN,
 * `nx_pull_match`) and parse as OXM TLVs. Used on requests only: replies are
 * switch output. Does not move `r`.
 */
function checkFlowMonitor(r: Reader): void {
  const buf = r.buf;
  let at = r.pos;
  while (at < r.end) {
    if (r.end - at < FLOW_MONITOR_REQUEST_SIZE) {
      throw new OfpError("OFPBRC_BAD_LEN", "flow monitor request truncated", { offset: at });
    }
    const matchLen = getU16(buf, at + 8);
    const matchAt = at + FLOW_MONITOR_REQUEST_SIZE;
    const padded = (matchLen + 7) & ~7;
    if (padded > r.end - matchAt) {
      throw new OfpError("OFPBMC_BAD_LEN", `flow monitor match_len ${matchLen}`, { offset: at });
    }
    decodeMatchEntries(buf, matchAt, matchAt + matchLen, MATCH_MODE.STRICT);
    at = matchAt + padded;
  }
}

function encodeExperimenterBody(w: Writer, b: Omit<ExperimenterBody, "kind">): void {
  w.u32(b.experimenter).u32(b.expType).bytes(b.data);
}

const VARIABLE = -1;

const FLOW_REQUEST = fixed(VARIABLE, decodeFlowStatsRequest, encodeFlowStatsRequest);
const EXPERIMENTER_REQUEST = fixed(
  VARIABLE,
  (r, strict) => decodeExperimenterBody(r, strict, true),
  encodeExperimenterBody,
);
const EXPERIMENTER_REPLY = fixed(
  VARIABLE,
  (r, strict) => decodeExperimenterBody(r, strict, false),
  encodeExperimenterBody,
);

/** The multipart registry: one row per OFPMP type. */
export const MULTIPART_SPECS: readonly MultipartSpec[] = [
  {
    kind: "desc",
    mpType: OFPMP.DESC,
    name: "OFPMP_DESC",
    request: EMPTY,
    reply: fixed(OFP_DESC_SIZE, decodeSwitchDesc, encodeSwitchDesc),
  },
  {
    kind: "flow",
    mpType: OFPMP.FLOW,
    name: "OFPMP_FLOW",
    request: FLOW_REQUEST,
    reply: list(decodeFlowStats, encodeFlowStats),
  },
  {
    kind: "aggregate",
    mpType: OFPMP.AGGREGATE,
    name: "OFPMP_AGGREGATE",
    request: FLOW_REQUEST,
    reply: fixed(OFP_AGGREGATE_STATS_REPLY_SIZE, decodeAggregateStats, encodeAggregateStats),
  },
  {
    kind: "table",
    mpType: OFPMP.TABLE,
    name: "OFPMP_TABLE",
    request: EMPTY,
    reply: list(decodeTableStats, encodeTableStats),
  },
  {
    kind: "port_stats",
    mpType: OFPMP.PORT_STATS,
    name: "OFPMP_PORT_STATS",
    request: fixed(
      OFP_PORT_STATS_REQUEST_SIZE,
      (r) => {
        const portNo = r.u32();
        r.skip(4);
        return { portNo };
      },
      (w, b: { portNo: number }) => w.u32(b.portNo).zeros(4),
    ),
    reply: list(decodePortStats, encodePortStats),
  },
  {
    kind: "queue",
    mpType: OFPMP.QUEUE,
    name: "OFPMP_QUEUE",
    request: fixed(
      OFP_QUEUE_STATS_REQUEST_SIZE,
      (r) => ({ portNo: r.u32(), queueId: r.u32() }),
      (w, b: { portNo: number; queueId: number }) => w.u32(b.portNo).u32(b.queueId),
    ),
    reply: list(decodeQueueStats, encodeQueueStats),
  },
  {
    kind: "group",
    mpType: OFPMP.GROUP,
    name: "OFPMP_GROUP",
    request: fixed(
      OFP_GROUP_STATS_REQUEST_SIZE,
      (r) => {
        const groupId = r.u32();
        r.skip(4);
        return { groupId };
      },
      (w, b: { groupId: number }) => w.u32(b.groupId).zeros(4),
    ),
    reply: list(decodeGroupStats, encodeGroupStats),
  },
  {
    kind: "group_desc",
    mpType: OFPMP.GROUP_DESC,
    name: "OFPMP_GROUP_DESC",
    request: EMPTY,
    reply: list(decodeGroupDesc, encodeGroupDesc),
  },
  {
    kind: "group_features",
    mpType: OFPMP.GROUP_FEATURES,
    name: "OFPMP_GROUP_FEATURES",
    request: EMPTY,
    reply: fixed(OFP_GROUP_FEATURES_SIZE, decodeGroupFeatures, encodeGroupFeatures),
  },
  {
    kind: "meter",
    mpType: OFPMP.METER,
    name: "OFPMP_METER",
    request: meterRequest(),
    reply: list(decodeMeterStats, encodeMeterStats),
  },
  {
    kind: "meter_config",
    mpType: OFPMP.METER_CONFIG,
    name: "OFPMP_METER_CONFIG",
    request: meterRequest(),
    reply: list(decodeMeterConfig, encodeMeterConfig),
  },
  {
    kind: "meter_features",
    mpType: OFPMP.METER_FEATURES,
    name: "OFPMP_METER_FEATURES",
    request: EMPTY,
    reply: fixed(OFP_METER_FEATURES_SIZE, decodeMeterFeatures, encodeMeterFeatures),
  },
  {
    kind: "table_features",
    mpType: OFPMP.TABLE_FEATURES,
    name: "OFPMP_TABLE_FEATURES",
    request: list(decodeTableFeatures, encodeTableFeatures),
    reply: list(decodeTableFeatures, encodeTableFeatures),
  },
  {
    kind: "port_desc",
    mpType: OFPMP.PORT_DESC,
    name: "OFPMP_PORT_DESC",
    request: EMPTY,
    reply: list(decodePort, encodePort),
  },
  {
    kind: "experimenter",
    mpType: OFPMP.EXPERIMENTER,
    name: "OFPMP_EXPERIMENTER",
    request: EXPERIMENTER_REQUEST,
    reply: EXPERIMENTER_REPLY,
  },
];

function meterRequest(): BodyCodec {
  return fixed(
    OFP_METER_MULTIPART_REQUEST_SIZE,
    (r) => {
      const meterId = r.u32();
      r.skip(4);
      return { meterId };
    },
    (w, b: { meterId: number }) => w.u32(b.meterId).zeros(4),
  );
}

const BY_MP_TYPE = new Map<number, MultipartSpec>();
const BY_KIND = new Map<string, MultipartSpec>();
for (const spec of MULTIPART_SPECS) {
  if (BY_MP_TYPE.has(spec.mpType) || BY_KIND.has(spec.kind)) {
    throw new Error(`multipart type ${spec.name} registered twice`);
  }
  BY_MP_TYPE.set(spec.mpType, spec);
  BY_KIND.set(spec.kind, spec);
}

/** The registry row for a multipart kind (or undefined for "unknown"). */
export function multipartSpec(kind: string): MultipartSpec | undefined {
  return BY_KIND.get(kind);
}

function decodeBody(
  r: Reader,
  mpType: number,
  direction: "request" | "reply",
  strict: boolean,
): object {
  const spec = BY_MP_TYPE.get(mpType);
  if (spec === undefined) {
    if (strict) {
      throw new OfpError("OFPBRC_BAD_STAT", `unknown multipart type ${mpType}`, { offset: r.pos });
    }
    return { kind: "unknown", mpType, data: r.rest() };
  }
  const codec = spec[direction];
  if (codec.shape === "list") {
    const entries: unknown[] = [];
    while (r.remaining > 0) entries.push(codec.decodeEntry(r, strict));
    return { kind: spec.kind, entries };
  }
  if (codec.size !== VARIABLE && r.remaining !== codec.size) {
    throw new OfpError(
      "OFPBRC_BAD_LEN",
      `${spec.name} ${direction} body is ${r.remaining} bytes, expected ${codec.size}`,
      { offset: r.pos },
    );
  }
  return { kind: spec.kind, ...codec.decode(r, strict) };
}

function encodeBody(w: Writer, body: { kind: string }, direction: "request" | "reply"): void {
  if (body.kind === "unknown") {
    w.bytes((body as UnknownBody).data);
    return;
  }
  const codec = BY_KIND.get(body.kind)![direction];
  if (codec.shape === "list") {
    const encodeEntry = codec.encodeEntry as (w: Writer, e: unknown) => void;
    for (const e of (body as unknown as { entries: readonly unknown[] }).entries) encodeEntry(w, e);
  } else {
    (codec.encode as (w: Writer, b: unknown) => void)(w, body);
  }
}

/** The wire multipart type of a body. */
export function multipartType(body: MultipartRequestBody | MultipartReplyBody): number {
  return body.kind === "unknown" ? body.mpType : BY_KIND.get(body.kind)!.mpType;
}

export function decodeMultipartRequest(
  r: Reader,
  xid: number,
  strict: boolean,
): MultipartRequestMessage {
  const mpType = r.u16();
  const flags = r.u16();
  r.skip(4);
  const body = decodeBody(r, mpType, "request", strict) as MultipartRequestBody;
  return { type: "multipart_request", xid, flags, body };
}

export function decodeMultipartReply(
  r: Reader,
  xid: number,
  strict: boolean,
): MultipartReplyMessage {
  const mpType = r.u16();
  const flags = r.u16();
  r.skip(4);
  const body = decodeBody(r, mpType, "reply", strict) as MultipartReplyBody;
  return { type: "multipart_reply", xid, flags, body };
}

export function encodeMultipartRequest(w: Writer, m: MultipartRequestMessage): void {
  w.u16(multipartType(m.body)).u16(m.flags).zeros(4);
  encodeBody(w, m.body, "request");
}

export function encodeMultipartReply(w: Writer, m: MultipartReplyMessage): void {
  w.u16(multipartType(m.body)).u16(m.flags).zeros(4);
  encodeBody(w, m.body, "reply");
}

/** Whether a multipart body is a list of entries (so it can be split and joined). */
export function hasEntries(
  body: MultipartRequestBody | MultipartReplyBody,
): body is Extract<MultipartRequestBody | MultipartReplyBody, { entries: readonly unknown[] }> {
  return "entries" in body;
}

/** Encodes one entry of a list body (used by the reply splitter to size entries). */
export function encodeEntry(
  w: Writer,
  kind: MultipartKind,
  direction: "request" | "reply",
  entry: unknown,
): void {
  const codec = BY_KIND.get(kind)![direction];
  if (codec.shape !== "list") throw new Error(`multipart ${kind} ${direction} has no entries`);
  (codec.encodeEntry as (w: Writer, e: unknown) => void)(w, entry);
}

/**
 * The FLOW_STATS request `ovs-ofctl dump-flows` sends: every table, any out
 * port and out group, the empty match, limited to `cookie/cookieMask`
 * (0/0: every flow).
 */
export function flowDumpRequest(
  xid: number,
  cookie = 0n,
  cookieMask = 0n,
): MultipartRequestMessage {
  return {
    type: "multipart_request",
    xid,
    flags: 0,
    body: {
      kind: "flow",
      tableId: OFPTT_ALL,
      outPort: OFPP.ANY,
      outGroup: OFPG_ANY,
      cookie,
      cookieMask,
      match: { entries: [] },
    },
  };
}
