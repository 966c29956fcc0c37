/**
 * `ofpPrint(bytes)`: one OpenFlow 1.3 message as `ovs-ofctl -O OpenFlow13
 * ofp-print HEX` prints it (OVS `ofp_to_string`, lib/ofp-print.c, default
 * verbosity 2).
 *
 * The first line is `NAME (OF1.3) (xid=0x..):` followed by the body. Every
 * OF1.3 message prints in OVS's exact text (checked against ovs-ofctl by the
 * differential tests in test/ovs/), with three exceptions that get a
 * faithful readable form instead: TABLE_FEATURES bodies, experimenter
 * multipart bodies, and the Nicira/ONF experimenter messages whose layout
 * OVS prints from its own decoders (NXT_FLOW_MOD, NXT_PACKET_IN, ...: a hex
 * dump under OVS's message name). A message that does not decode prints as
 * OVS prints it: `***decode error: NAME***` and a hex dump, with the header
 * line unless OVS fails before identifying the message; a list reply that
 * fails part-way prints the entries before the failing one first.
 * Body printers live in print-stats.ts and print-messages.ts.
 */
import { decodeMessage, type OfMessage } from "../message.js";
import { isOfpError, standardErrorName, experimenterErrorName, ONF_VENDOR_ID } from "../errors.js";
import type { OfpPort } from "../messages/port.js";
import {
  MULTIPART_SPECS,
  type MultipartKind,
  type MultipartReplyMessage,
  type MultipartRequestMessage,
} from "../messages/multipart.js";
import type { FlowStats } from "../messages/multipart-flow.js";
import type {
  GroupStats,
  MeterStats,
  PortStats,
  QueueStats,
  TableStats,
} from "../messages/multipart-stats.js";
import type { GroupDesc, MeterConfig } from "../messages/multipart-desc.js";
import {
  formatGroupDesc,
  formatGroupFeatures,
  formatGroupId,
  formatGroupStats,
  formatMeterConfig,
  formatMeterFeatures,
  formatMeterId,
  formatMeterStats,
  formatPortStats,
  formatQueueId,
  formatQueueStats,
  formatTableStats,
} from "./print-stats.js";
import {
  experimenterBodyText,
  experimenterMessage,
  formatAsyncConfig,
  formatBundleAddHead,
  formatBundleCtrl,
  formatGroupMod,
  formatMeterMod,
  formatPortMod,
  formatQueueGetConfigReply,
  formatQueueGetConfigRequest,
  formatTableFeaturesReadable,
  formatTableMod,
} from "./print-messages.js";
import { Reader } from "../reader.js";
import { PrintDecodeError } from "./print-error.js";
import type { Match } from "../oxm.js";
import { formatMac, hexAlt } from "./addr.js";
import { formatActions, packetInReasonName } from "./actions-format.js";
import { formatDuration, formatFlowModBody, formatFlowStats, formatMatch } from "./flow.js";
import { hexDump } from "./hexdump.js";
import { formatPort16, formatPort32 } from "./ports.js";
import { packetSummary } from "./packet-summary.js";
import {
  OFPPC11_ALL,
  OFPPS11_ALL,
  PORT_CONFIG_NAMES,
  PORT_FEATURE_NAMES,
  PORT_FEATURES_KEPT,
  PORT_STATE_NAMES,
} from "./port-bits.js";
import { bytesToBigint } from "./addr.js";

const OFP13 = 4;

/** Message names as OVS's raw message table spells them. */
const NAMES: Partial<Record<OfMessage["type"], string>> = {
  hello: "OFPT_HELLO",
  error: "OFPT_ERROR",
  echo_request: "OFPT_ECHO_REQUEST",
  echo_reply: "OFPT_ECHO_REPLY",
  experimenter: "OFPT_EXPERIMENTER",
  // OF1.3 has bundles only as the ONF extension (ONFT13_BUNDLE_*).
  bundle_ctrl: "ONFT_BUNDLE_CONTROL",
  bundle_add: "ONFT_BUNDLE_ADD_MESSAGE",
  features_request: "OFPT_FEATURES_REQUEST",
  features_reply: "OFPT_FEATURES_REPLY",
  get_config_request: "OFPT_GET_CONFIG_REQUEST",
  get_config_reply: "OFPT_GET_CONFIG_REPLY",
  set_config: "OFPT_SET_CONFIG",
  packet_in: "OFPT_PACKET_IN",
  flow_removed: "OFPT_FLOW_REMOVED",
  port_status: "OFPT_PORT_STATUS",
  packet_out: "OFPT_PACKET_OUT",
  flow_mod: "OFPT_FLOW_MOD",
  group_mod: "OFPT_GROUP_MOD",
  port_mod: "OFPT_PORT_MOD",
  table_mod: "OFPT_TABLE_MOD",
  barrier_request: "OFPT_BARRIER_REQUEST",
  barrier_reply: "OFPT_BARRIER_REPLY",
  queue_get_config_request: "OFPT_QUEUE_GET_CONFIG_REQUEST",
  queue_get_config_reply: "OFPT_QUEUE_GET_CONFIG_REPLY",
  role_request: "OFPT_ROLE_REQUEST",
  role_reply: "OFPT_ROLE_REPLY",
  get_async_request: "OFPT_GET_ASYNC_REQUEST",
  get_async_reply: "OFPT_GET_ASYNC_REPLY",
  set_async: "OFPT_SET_ASYNC",
  meter_mod: "OFPT_METER_MOD",
};

/** Multipart names (`OFPST_*`). */
const MP_NAMES: Record<string, string> = {
  desc: "OFPST_DESC",
  flow: "OFPST_FLOW",
  aggregate: "OFPST_AGGREGATE",
  table: "OFPST_TABLE",
  port_stats: "OFPST_PORT",
  queue: "OFPST_QUEUE",
  group: "OFPST_GROUP",
  group_desc: "OFPST_GROUP_DESC",
  group_features: "OFPST_GROUP_FEATURES",
  meter: "OFPST_METER",
  meter_config: "OFPST_METER_CONFIG",
  meter_features: "OFPST_METER_FEATURES",
  table_features: "OFPST_TABLE_FEATURES",
  port_desc: "OFPST_PORT_DESC",
  experimenter: "OFPST_EXPERIMENTER",
  unknown: "OFPST_UNKNOWN",
};

const MSG_TYPE_NAMES = [
  "OFPT_HELLO",
  "OFPT_ERROR",
  "OFPT_ECHO_REQUEST",
  "OFPT_ECHO_REPLY",
  "OFPT_EXPERIMENTER",
  "OFPT_FEATURES_REQUEST",
  "OFPT_FEATURES_REPLY",
  "OFPT_GET_CONFIG_REQUEST",
  "OFPT_GET_CONFIG_REPLY",
  "OFPT_SET_CONFIG",
  "OFPT_PACKET_IN",
  "OFPT_FLOW_REMOVED",
  "OFPT_PORT_STATUS",
  "OFPT_PACKET_OUT",
  "OFPT_FLOW_MOD",
  "OFPT_GROUP_MOD",
  "OFPT_PORT_MOD",
  "OFPT_TABLE_MOD",
  "OFPT_MULTIPART_REQUEST",
  "OFPT_MULTIPART_REPLY",
  "OFPT_BARRIER_REQUEST",
  "OFPT_BARRIER_REPLY",
  "OFPT_QUEUE_GET_CONFIG_REQUEST",
  "OFPT_QUEUE_GET_CONFIG_REPLY",
  "OFPT_ROLE_REQUEST",
  "OFPT_ROLE_REPLY",
  "OFPT_GET_ASYNC_REQUEST",
  "OFPT_GET_ASYNC_REPLY",
  "OFPT_SET_ASYNC",
  "OFPT_METER_MOD",
];

function versionTag(version: number): string {
  return version === 1 ? "" : ` (OF1.${version - 1})`;
}

function headerLine(name: string, version: number, xid: number): string {
  return `${name}${versionTag(version)} (xid=0x${(xid >>> 0).toString(16)}):`;
}

function messageName(m: OfMessage): string {
  if (m.type === "multipart_request" || m.type === "multipart_reply") {
    const base = MP_NAMES[m.body.kind] ?? "OFPST_UNKNOWN";
    return `${base} ${m.type === "multipart_request" ? "request" : "reply"}`;
  }
  if (m.type === "unknown") return MSG_TYPE_NAMES[m.msgType] ?? `OFPT_UNKNOWN_${m.msgType}`;
  if (m.type === "experimenter") {
    const x = experimenterMessage(m.experimenter, m.expType, m.data);
    if ("name" in x) return x.name;
  }
  return NAMES[m.type] ?? m.type.toUpperCase();
}

/** `ofp_print_bit_names`: names of set bits, lowest first; unnamed bits as one hex value; zero as "0". */
function bitNames(bits: number, names: ReadonlyMap<number, string>, sep = " "): string {
  if (bits === 0) return "0";
  const out: string[] = [];
  let rest = bits >>> 0;
  for (let i = 0; i < 32; i++) {
    const bit = (1 << i) >>> 0;
    if ((rest & bit) !== 0) {
      const n = names.get(bit);
      if (n !== undefined) {
        out.push(n);
        rest = (rest & ~bit) >>> 0;
      }
    }
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out.join(sep);
}

/** OF1.3 capability bits mapped to OVS's internal order (`ofputil_capabilities_from_ofp11`). */
const CAPABILITIES: readonly (readonly [number, number, string])[] = [
  [1 << 0, 1 << 0, "FLOW_STATS"],
  [1 << 1, 1 << 1, "TABLE_STATS"],
  [1 << 2, 1 << 2, "PORT_STATS"],
  [1 << 3, 1 << 4, "GROUP_STATS"],
  [1 << 5, 1 << 5, "IP_REASM"],
  [1 << 6, 1 << 6, "QUEUE_STATS"],
  [1 << 8, 1 << 8, "PORT_BLOCKED"],
];

function capabilitiesText(wire: number): string {
  let internal = 0;
  for (const [w, i] of CAPABILITIES) if ((wire & w) !== 0) internal |= i;
  return bitNames(internal, new Map(CAPABILITIES.map(([, i, n]) => [i, n])));
}

/** `ofputil_phy_port_format`. */
export function formatPhyPort(p: OfpPort): string {
  let name = "";
  for (const ch of p.name) {
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e) break;
    name += ch;
  }
  let s = ` ${formatPort32(p.portNo)}(${name}): addr:${formatMac(bytesToBigint(p.hwAddr))}\n`;
  // OF1.1+ config/state bits OVS keeps (OFPPC11_ALL, OFPPS11_ALL).
  s += `     config:     ${bitNames(p.config & OFPPC11_ALL, PORT_CONFIG_NAMES)}\n`;
  s += `     state:      ${bitNames(p.state & OFPPS11_ALL, PORT_STATE_NAMES)}\n`;
  const feat = (label: string, v: number): void => {
    if ((v & PORT_FEATURES_KEPT) !== 0)
      s += `     ${label}${bitNames(v & PORT_FEATURES_KEPT, PORT_FEATURE_NAMES)}\n`;
  };
  feat("current:    ", p.curr);
  feat("advertised: ", p.advertised);
  feat("supported:  ", p.supported);
  feat("peer:       ", p.peer);
  s += `     speed: ${Math.floor(p.currSpeed / 1000)} Mbps now, ${Math.floor(p.maxSpeed / 1000)} Mbps max\n`;
  return s;
}

/** The packet type a match names (0, Ethernet, when it names none). */
function packetTypeOf(match: Match): number {
  for (const e of match.entries) {
    if (e.field !== undefined && e.field.name === "packet_type" && e.mask === undefined) {
      return ((e.value[0]! << 24) | (e.value[1]! << 16) | (e.value[2]! << 8) | e.value[3]!) >>> 0;
    }
  }
  return 0;
}

function errorBody(m: Extract<OfMessage, { type: "error" }>): string {
  const e = m.error;
  const name =
    e.kind === "standard"
      ? standardErrorName(e.type, e.code)
      : experimenterErrorName(e.experimenter, e.expType);
  if (name === undefined) throw new PrintDecodeError("OFPBRC_BAD_LEN");
  let s = ` ${name}\n`;
  if (name === "OFPHFC_INCOMPATIBLE" || name === "OFPHFC_EPERM") {
    for (const b of m.data)
      s += b >= 32 && b < 127 ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, "0")}`;
    return s;
  }
  s += ofpToString(m.data, 1);
  return s;
}

function helloBody(m: Extract<OfMessage, { type: "hello" }>): string {
  const version = m.version ?? OFP13;
  let allowed = (((1 << (version + 1)) - 1) & ~1) >>> 0;
  let ok = true;
  for (const e of m.elements) {
    if (e.kind === "versionbitmap" && e.bitmaps.length > 0) {
      allowed = e.bitmaps[0]! >>> 0;
      if ((allowed & 1) !== 0) {
        ok = false;
        allowed &= ~1;
      }
    } else ok = false;
  }
  const versions: string[] = [];
  for (let i = 0; i < 32; i++)
    if ((allowed & (1 << i)) !== 0) versions.push(`0x${i.toString(16).padStart(2, "0")}`);
  return `\n version bitmap: ${versions.join(", ")}${ok ? "" : "\n unknown data in hello:\n"}`;
}

function multipartRequestBody(m: MultipartRequestMessage): string {
  const b = m.body;
  switch (b.kind) {
    case "flow":
    case "aggregate": {
      let s = "";
      if (b.tableId !== 0xff) s += ` table=${b.tableId}`;
      if (b.outPort !== 0xffffffff) s += ` out_port=${formatPort32(b.outPort)}`;
      s += ` ${formatMatch(b.match)}`;
      return s;
    }
    case "port_stats":
      return ` port_no=${formatPort32(b.portNo)}`;
    case "port_desc":
      return " port=ANY";
    case "queue":
      return ` port=${formatPort32(b.portNo)} queue=${formatQueueId(b.queueId)}`;
    case "meter":
    case "meter_config":
      return ` ${formatMeterId(b.meterId, "=")}`;
    case "group":
      return ` group_id=${formatGroupId(b.groupId)}`;
    case "group_desc":
      // OF1.3 has no group id in the request: ofputil_decode_group_desc_request says OFPG_ALL.
      return ` group_id=${formatGroupId(OFPG_ALL)}`;
    case "table_features":
      return b.entries.map(formatTableFeaturesReadable).join("");
    case "experimenter":
      return ` ${experimenterBodyText(b.experimenter, b.expType, b.data)}`;
    case "desc":
    case "table":
    case "group_features":
    case "meter_features":
    case "unknown":
      return "";
  }
}

/** OFPG_ALL: "all groups". */
const OFPG_ALL = 0xfffffffc;

/**
 * How OVS prints a list reply, from the entries it managed to decode: OVS
 * prints entry by entry (`ofputil_*_stats_format` loops), so a reply that
 * fails part-way prints what came before (see {@link partialMultipartReply});
 * `onError` is text some printers add when an entry fails.
 */
interface ListPrinter {
  print(entries: readonly unknown[]): string;
  readonly onError?: string;
}

function eachEntry<T>(f: (e: T) => string): ListPrinter {
  return { print: (entries) => (entries as readonly T[]).map(f).join("") };
}

const LIST_PRINTERS: Partial<Record<MultipartKind, ListPrinter>> = {
  flow: eachEntry<FlowStats>((e) => `\n ${formatFlowStats(e)}`),
  // ofp_print_ofpst_port_reply / ofputil_queue_stats_reply_format: the count
  // of entries OVS could decode, then the entries.
  port_stats: {
    print: (entries) =>
      ` ${entries.length} ports\n${(entries as readonly PortStats[]).map(formatPortStats).join("")}`,
  },
  queue: {
    print: (entries) =>
      ` ${entries.length} queues\n${(entries as readonly QueueStats[]).map(formatQueueStats).join("")}`,
  },
  table: { print: (entries) => formatTableStats(entries as readonly TableStats[]) },
  group: { ...eachEntry<GroupStats>(formatGroupStats), onError: " ***parse error***" },
  group_desc: eachEntry<GroupDesc>(formatGroupDesc),
  meter: eachEntry<MeterStats>(formatMeterStats),
  meter_config: eachEntry<MeterConfig>(formatMeterConfig),
};

/**
 * Element sizes of the list replies in OVS's raw message table:
 * `struct ofp13_port_stats[]` and the like, 8 for `uint8_t[8][]`; the flow
 * reply is `uint8_t[]` (any length).
 */
const RAW_ELEMENT_SIZE: Partial<Record<MultipartKind, number>> = {
  port_stats: 112,
  queue: 40,
  table: 24,
  group: 8,
  group_desc: 8,
  meter: 8,
  meter_config: 8,
};

function multipartReplyBody(m: MultipartReplyMessage): string {
  const b = m.body;
  switch (b.kind) {
    case "desc":
      return (
        `\nManufacturer: ${b.mfrDesc}\nHardware: ${b.hwDesc}\nSoftware: ${b.swDesc}\n` +
        `Serial Num: ${b.serialNum}\nDP Description: ${b.dpDesc}\n`
      );
    case "aggregate":
      return ` packet_count=${b.packetCount} byte_count=${b.byteCount} flow_count=${b.flowCount}`;
    case "port_desc": {
      let s = "\n";
      const sorted = [...b.entries].sort((x, y) => x.portNo - y.portNo);
      for (const p of sorted) s += formatPhyPort(p);
      return s;
    }
    case "flow":
    case "port_stats":
    case "queue":
    case "table":
    case "group":
    case "group_desc":
    case "meter":
    case "meter_config":
      return LIST_PRINTERS[b.kind]!.print(b.entries);
    case "group_features":
      return formatGroupFeatures(b);
    case "meter_features":
      return formatMeterFeatures(b);
    case "table_features":
      return b.entries.map(formatTableFeaturesReadable).join("");
    case "experimenter":
      return ` ${experimenterBodyText(b.experimenter, b.expType, b.data)}`;
    case "unknown":
      return `\n${hexDump(b.data)}`;
  }
}

function body(m: OfMessage, bytes: Uint8Array): string {
  switch (m.type) {
    case "hello":
      return helloBody(m);
    case "error":
      return errorBody(m);
    case "echo_request":
    case "echo_reply":
      return ` ${m.data.length} bytes of payload\n${hexDump(m.data)}`;
    case "features_request":
    case "get_config_request":
    case "barrier_request":
    case "barrier_reply":
    case "get_async_request":
      return "";
    case "features_reply":
      return (
        ` dpid:${m.datapathId.toString(16).padStart(16, "0")}\n` +
        `n_tables:${m.nTables}, n_buffers:${m.nBuffers}${m.auxiliaryId !== 0 ? `, auxiliary_id:${m.auxiliaryId}` : ""}\n` +
        `capabilities: ${capabilitiesText(m.capabilities)}\n`
      );
    case "get_config_reply":
    case "set_config": {
      const frag = ["normal", "drop", "reassemble", "nx-match"][m.flags & 3]!;
      return ` frags=${frag}${(m.flags & 4) !== 0 ? " invalid_ttl_to_controller" : ""} miss_send_len=${m.missSendLen}\n`;
    }
    case "packet_in": {
      let s = "";
      if (m.tableId !== 0) s += ` table_id=${m.tableId}`;
      if (m.cookie !== 0xffffffffffffffffn) s += ` cookie=0x${m.cookie.toString(16)}`;
      s += ` total_len=${m.totalLen} ${formatMatch(m.match)}`;
      s += ` (via ${packetInReasonName(m.reason)}) data_len=${m.data.length}`;
      if (m.bufferId === 0xffffffff) {
        s += " (unbuffered)";
        if (m.totalLen !== m.data.length) s += " (***total_len != data_len***)";
      } else {
        s += ` buffer=0x${m.bufferId.toString(16).padStart(8, "0")}`;
        if (m.totalLen < m.data.length) s += " (***total_len < data_len***)";
      }
      s += "\n";
      // ofp_packet_to_string parses the data as the match's packet type says.
      const pt = packetTypeOf(m.match);
      if (m.data.length > 0 || pt !== 0) s += packetSummary(m.data, pt);
      return s;
    }
    case "packet_out": {
      let s = ` in_port=${formatPort32(m.inPort)} actions=${formatActions(m.actions)}`;
      if (m.bufferId === 0xffffffff) {
        s += ` data_len=${m.data.length}`;
        if (m.data.length > 0) s += `\n${packetSummary(m.data)}`;
      } else s += ` buffer=0x${m.bufferId.toString(16).padStart(8, "0")}`;
      return s;
    }
    case "flow_removed": {
      const reasons = ["idle", "hard", "delete", "group_delete", "meter_delete", "eviction"];
      let s = ` ${formatMatch(m.match, m.priority)} reason=${reasons[m.reason] ?? String(m.reason)}`;
      if (m.tableId !== 255) s += ` table_id=${m.tableId}`;
      if (m.cookie !== 0n) s += ` cookie:0x${m.cookie.toString(16)}`;
      s += ` duration${formatDuration(m.durationSec, m.durationNsec)} idle${m.idleTimeout}`;
      if (m.hardTimeout !== 0) s += ` hard${m.hardTimeout}`;
      s += ` pkts${m.packetCount} bytes${m.byteCount}\n`;
      return s;
    }
    case "port_status": {
      const reason =
        m.reason === 0 ? " ADD:" : m.reason === 1 ? " DEL:" : m.reason === 2 ? " MOD:" : "";
      return reason + formatPhyPort(m.port);
    }
    case "flow_mod":
      return formatFlowModBody(m);
    case "multipart_request":
      return multipartFlags(m.flags, true) + multipartRequestBody(m);
    case "multipart_reply":
      return multipartFlags(m.flags, false) + multipartReplyBody(m);
    case "role_request":
    case "role_reply": {
      const roles = ["nochange", "equal", "primary", "secondary"];
      const role = roles[m.role];
      if (role === undefined) throw new PrintDecodeError("OFPRRFC_BAD_ROLE");
      // ofputil_decode_role_message: a request with NOCHANGE, or a reply with
      // UINT64_MAX, has no generation id.
      const noGeneration =
        m.type === "role_request" ? m.role === 0 : m.generationId === 0xffffffffffffffffn;
      return ` role=${role}${noGeneration ? "" : ` generation_id=${m.generationId}`}`;
    }
    case "table_mod":
      return formatTableMod(m.tableId);
    case "port_mod":
      return formatPortMod(m);
    case "meter_mod":
      return formatMeterMod(m);
    case "group_mod":
      return formatGroupMod(m);
    case "get_async_reply":
    case "set_async":
      return formatAsyncConfig(m);
    case "queue_get_config_request":
      return formatQueueGetConfigRequest(m.port);
    case "queue_get_config_reply":
      return formatQueueGetConfigReply(m);
    case "bundle_ctrl":
      return formatBundleCtrl(m.bundleId, m.ctrlType, m.flags);
    case "bundle_add":
      // Printed from the bytes before decoding (bundleAddToString).
      return formatBundleAddHead(m.bundleId, m.flags);
    case "experimenter": {
      const x = experimenterMessage(m.experimenter, m.expType, m.data);
      if ("rawError" in x) throw new PrintDecodeError(x.rawError);
      if ("error" in x) throw new PrintDecodeError(x.error);
      return x.text;
    }
    case "unknown":
      return `\n${hexDump(bytes.subarray(8))}`;
  }
}

/** ONF experimenter header (16) + bundle_id (4) + pad (2) + flags (2): where the bundled message starts. */
const BUNDLE_ADD_INNER_OFFSET = 24;
const OFPT_EXPERIMENTER = 4;
/** ONFT13_BUNDLE_ADD_MESSAGE. */
const ONFT_BUNDLE_ADD = 2301;

function isOnfBundleAdd(b: Uint8Array): boolean {
  return (
    b[1] === OFPT_EXPERIMENTER &&
    b.length >= 16 &&
    ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0 === ONF_VENDOR_ID &&
    ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0 === ONFT_BUNDLE_ADD
  );
}

/**
 * Minimum lengths of the messages OVS lets into a bundle
 * (`ofputil_is_bundlable`), by OFPT type: `ofptype_decode` only identifies
 * the inner message, so its own errors show when it is printed.
 */
const BUNDLABLE_MIN_LENGTH: ReadonlyMap<number, number> = new Map([
  [13, 24], // PACKET_OUT
  [14, 56], // FLOW_MOD (with at least a match header)
  [15, 16], // GROUP_MOD
  [16, 40], // PORT_MOD (exactly)
]);

/**
 * An ONF bundle-add message as OVS prints it (`ofputil_decode_bundle_add`,
 * `ofputil_format_bundle_add`): the bundle id and flags, then the bundled
 * message through `ofp_to_string`. OVS checks the inner header (length,
 * version, the same xid as the outer message) and refuses messages that may
 * not be bundled (OFPBFC_MSG_UNSUP).
 */
function bundleAddToString(bytes: Uint8Array, version: number, xid: number): string {
  const head = `${headerLine("ONFT_BUNDLE_ADD_MESSAGE", version, xid)}`;
  const fail = (code: string): string => `${head} ***decode error: ${code}***\n${hexDump(bytes)}`;
  if (bytes.length < BUNDLE_ADD_INNER_OFFSET)
    return `***decode error: OFPBRC_BAD_LEN***\n${hexDump(bytes)}`;
  const inner = bytes.subarray(BUNDLE_ADD_INNER_OFFSET);
  if (inner.length < 8) return fail("OFPBFC_MSG_BAD_LEN");
  if (inner[0] !== version) return fail("OFPBFC_BAD_VERSION");
  const innerLength = (inner[2]! << 8) | inner[3]!;
  if (innerLength < 8 || innerLength > inner.length) return fail("OFPBFC_MSG_BAD_LEN");
  const innerXid = ((inner[4]! << 24) | (inner[5]! << 16) | (inner[6]! << 8) | inner[7]!) >>> 0;
  if (innerXid !== xid) return fail("OFPBFC_MSG_BAD_XID");
  const min = BUNDLABLE_MIN_LENGTH.get(inner[1]!);
  if (min === undefined || innerLength < min || (inner[1] === 16 && innerLength !== min)) {
    return fail("OFPBFC_MSG_UNSUP");
  }
  const bundleId = ((bytes[16]! << 24) | (bytes[17]! << 16) | (bytes[18]! << 8) | bytes[19]!) >>> 0;
  const flags = (bytes[22]! << 8) | bytes[23]!;
  return `${head}${formatBundleAddHead(bundleId, flags)}${ofpToString(inner.subarray(0, innerLength), 2)}`;
}

function multipartFlags(flags: number, _request: boolean): string {
  if (flags === 0) return "";
  let s = " flags=";
  let rest = flags;
  if ((rest & 1) !== 0) {
    s += "[more]";
    rest &= ~1;
  }
  if (rest !== 0) s += `[***unknown flags 0x${rest.toString(16).padStart(4, "0")}***]`;
  return s;
}

/** Errors OVS raises while identifying the message (`ofpraw_decode`), before printing a header. */
const RAW_LEVEL_ERRORS: ReadonlySet<string> = new Set([
  "OFPBRC_BAD_LEN",
  "OFPBRC_BAD_TYPE",
  "OFPBRC_BAD_VERSION",
  "OFPBRC_BAD_VENDOR",
  "OFPBRC_BAD_SUBTYPE",
  "OFPBRC_BAD_STAT",
]);

const OFPT_MULTIPART_REQUEST = 18;
const OFPT_MULTIPART_REPLY = 19;
/** ofp_header + type, flags, pad: where a multipart body starts. */
const MULTIPART_HEADER_SIZE = 16;

const SPEC_BY_MP_TYPE = new Map(MULTIPART_SPECS.map((sp) => [sp.mpType, sp] as const));

/**
 * The name OVS's raw-message table gives the message (`ofpraw_decode`):
 * multipart messages are named by their multipart type (`OFPST_FLOW reply`).
 */
function rawName(bytes: Uint8Array): string | undefined {
  const type = bytes[1]!;
  if ((type === OFPT_MULTIPART_REQUEST || type === OFPT_MULTIPART_REPLY) && bytes.length >= 12) {
    const sp = SPEC_BY_MP_TYPE.get((bytes[8]! << 8) | bytes[9]!);
    const base = sp === undefined ? undefined : MP_NAMES[sp.kind];
    if (base !== undefined)
      return `${base} ${type === OFPT_MULTIPART_REQUEST ? "request" : "reply"}`;
  }
  return MSG_TYPE_NAMES[type];
}

/**
 * A multipart reply whose entries OVS prints one by one as it decodes them
 * (`ofputil_flow_stats_reply_format` and friends): when one entry fails, the
 * entries before it are already printed, then OVS's `ofp_to_string` chomps
 * the trailing space, starts a new line and prints the error. Undefined when
 * the message is not such a reply (or nothing in its entries fails).
 */
function partialMultipartReply(
  bytes: Uint8Array,
  version: number,
  xid: number,
): string | undefined {
  if (bytes[1] !== OFPT_MULTIPART_REPLY || bytes.length < MULTIPART_HEADER_SIZE) return undefined;
  const sp = SPEC_BY_MP_TYPE.get((bytes[8]! << 8) | bytes[9]!);
  if (sp === undefined || sp.reply.shape !== "list") return undefined;
  const printer = LIST_PRINTERS[sp.kind];
  if (printer === undefined) return undefined;
  // ofpraw_decode first checks the body is whole elements (no header line if not).
  if ((bytes.length - MULTIPART_HEADER_SIZE) % (RAW_ELEMENT_SIZE[sp.kind] ?? 1) !== 0) {
    return undefined;
  }
  const r = new Reader(bytes, { start: MULTIPART_HEADER_SIZE });
  let s = `${headerLine(`${MP_NAMES[sp.kind]!} reply`, version, xid)}`;
  const headerLength = s.length;
  s += multipartFlags((bytes[10]! << 8) | bytes[11]!, false);
  const entries: unknown[] = [];
  let code: string | undefined;
  try {
    while (r.remaining > 0) entries.push(sp.reply.decodeEntry(r, true));
  } catch (e) {
    if (!isOfpError(e)) throw e;
    code = e.code;
  }
  if (code === undefined) return undefined;
  s += printer.print(entries) + (printer.onError ?? "");
  if (s.length > headerLength) {
    s = s.replace(/ $/, "");
    if (!s.endsWith("\n")) s += "\n";
  } else s += " ";
  return `${s}***decode error: ${code}***\n${hexDump(bytes)}`;
}

/** `ofp_to_string` at a verbosity (1 inside errors, 2 for ofp-print). */
function ofpToString(bytes: Uint8Array, verbosity: number): string {
  if (bytes.length === 0) return "OpenFlow message is empty\n";
  if (bytes.length < 8)
    return `OpenFlow packet too short (only ${bytes.length} bytes):\n${hexDump(bytes)}`;
  const version = bytes[0]!;
  const length = (bytes[2]! << 8) | bytes[3]!;
  const xid = ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
  if (length > bytes.length) {
    const name = MSG_TYPE_NAMES[bytes[1]!];
    const head = name === undefined ? "" : `${headerLine(name, version, xid)}\n`;
    return `${head}(***truncated to ${bytes.length} bytes from ${length}***)\n${hexDump(bytes)}`;
  }
  if (length < bytes.length)
    return `(***only uses ${length} bytes out of ${bytes.length}***)\n${hexDump(bytes)}`;
  if (isOnfBundleAdd(bytes)) return bundleAddToString(bytes, version, xid);
  let m: OfMessage;
  let code: string | undefined;
  try {
    m = decodeMessage(bytes);
    if (m.type === "experimenter") {
      // OVS's raw-message table: only some Nicira/ONF subtypes, each with a length rule.
      const x = experimenterMessage(m.experimenter, m.expType, m.data);
      if ("rawError" in x) code = x.rawError;
    }
    // A FLOW_MOD's actions were already checked against its match by the
    // strict decoder (codec/flow-check.ts), as OVS's ofputil_decode_flow_mod does.
  } catch (e) {
    if (!isOfpError(e)) throw e;
    code = e.code;
    m = undefined as never;
  }
  const name = rawName(bytes);
  if (code !== undefined) {
    const partial = partialMultipartReply(bytes, version, xid);
    if (partial !== undefined) return partial;
    // Structural failures happen before OVS knows the message type (no header line).
    const head =
      RAW_LEVEL_ERRORS.has(code) || name === undefined ? "" : `${headerLine(name, version, xid)} `;
    return `${head}***decode error: ${code}***\n${hexDump(bytes)}`;
  }
  let text: string;
  try {
    text = body(m, bytes);
  } catch (e) {
    // PrintDecodeError: a check OVS makes while decoding for print; OfpError:
    // a body OVS refuses that the codec carried opaque (e.g. a Nicira action
    // read through codec/nx/opaque-view.ts).
    if (!(e instanceof PrintDecodeError) && !isOfpError(e)) throw e;
    return `${headerLine(messageName(m), version, xid)} ***decode error: ${e.code}***\n${hexDump(bytes)}`;
  }
  let s = `${headerLine(messageName(m), version, xid)}${text}`;
  s = s.replace(/ $/, "");
  if (verbosity >= 5) s += `\n${hexDump(bytes)}`;
  if (!s.endsWith("\n")) s += "\n";
  return s;
}

/** One message as `ovs-ofctl -O OpenFlow13 ofp-print HEX` prints it (newline-terminated). */
export function ofpPrint(bytes: Uint8Array): string {
  return ofpToString(bytes, 2);
}

/** Hex text (spaces, newlines and `-` allowed, as ovs-ofctl accepts) → bytes. */
export function parseHex(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\s-]/g, "").replace(/^0x/i, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export { hexAlt, formatPort16 };
