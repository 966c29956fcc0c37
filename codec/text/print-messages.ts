/**
 * Message bodies `ovs-ofctl -O OpenFlow13 ofp-print` prints beyond flows and
 * packets: PORT_MOD, TABLE_MOD, METER_MOD, GROUP_MOD, the async-config
 * messages, QUEUE_GET_CONFIG, bundle control, Nicira/ONF experimenter
 * messages, and table features (in a readable form of our own: OVS's layout
 * needs its whole field/action tables).
 *
 * Each printer cites the OVS function whose text it reproduces; all return
 * the text after `NAME (OF1.3) (xid=..):`.
 */
import { NX_VENDOR_ID, ONF_VENDOR_ID } from "../errors.js";
import type { AsyncConfig } from "../messages/async.js";
import type { GroupModMessage } from "../messages/group-mod.js";
import type { MeterModMessage } from "../messages/meter-mod.js";
import type { PortModMessage } from "../messages/port-mod.js";
import type { QueueGetConfigReplyMessage } from "../messages/queue-config.js";
import type { TableFeatureProperty, TableFeatures } from "../messages/table-features.js";
import { OXM_HASMASK, fieldByHeader } from "../oxm.js";
import { bytesToBigint, formatMac } from "./addr.js";
import { hexDump } from "./hexdump.js";
import { formatPort16, formatPort32, portFromOf11 } from "./ports.js";
import { PrintDecodeError } from "./print-error.js";
import { OFPPC11_ALL, PORT_CONFIG_NAMES, PORT_FEATURE_NAMES } from "./port-bits.js";
import { bitNames, formatGroup, formatMeterConfigBody } from "./print-stats.js";

// ---------------------------------------------------------------------------
// PORT_MOD (`ofputil_port_mod_format`)

export function formatPortMod(m: PortModMessage): string {
  // ofputil_decode_ofp11_port_mod keeps OFPPC11_ALL bits; decode_port_mod then
  // clears config bits outside the mask.
  const mask = m.mask & OFPPC11_ALL;
  const config = m.config & OFPPC11_ALL & mask;
  const advertise = m.advertise & 0xffff;
  let s = ` port: ${formatPort32(m.portNo)}: addr:${formatMac(bytesToBigint(m.hwAddr))}\n`;
  s += `     config: ${bitNames(config, (b) => PORT_CONFIG_NAMES.get(b))}\n`;
  s += `     mask:   ${bitNames(mask, (b) => PORT_CONFIG_NAMES.get(b))}\n`;
  s += "     advertise: ";
  s +=
    advertise === 0 ? "UNCHANGED\n" : `${bitNames(advertise, (b) => PORT_FEATURE_NAMES.get(b))}\n`;
  return s;
}

// ---------------------------------------------------------------------------
// TABLE_MOD (`ofputil_table_mod_format`; OF1.3 carries no miss config)

export function formatTableMod(tableId: number): string {
  return tableId === 0xff ? " table_id: ALL_TABLES" : ` table_id=${tableId}`;
}

// ---------------------------------------------------------------------------
// METER_MOD (`ofputil_format_meter_mod`)

const METER_COMMANDS = ["ADD", "MOD", "DEL"] as const;

export function formatMeterMod(m: MeterModMessage): string {
  const cmd = METER_COMMANDS[m.command];
  // ofputil_decode_meter_mod ignores a delete's flags and bands.
  const del = m.command === METER_DELETE;
  return ` ${cmd ?? `cmd:${m.command}`} ${formatMeterConfigBody(del ? 0 : m.flags, m.meterId, del ? [] : m.bands)}`;
}

/** OFPMC13_DELETE. */
const METER_DELETE = 2;

// ---------------------------------------------------------------------------
// GROUP_MOD (`ofputil_group_mod_format__`)

const GROUP_COMMANDS = ["ADD", "MOD", "DEL"] as const;

export function formatGroupMod(m: GroupModMessage): string {
  const cmd = GROUP_COMMANDS[m.command] ?? `cmd:${m.command}`;
  return `\n ${cmd} ${formatGroup(m.groupId, m.groupType, m.buckets)}`;
}

// ---------------------------------------------------------------------------
// GET_ASYNC_REPLY / SET_ASYNC (`ofputil_format_set_async_config`)

/** Async message types OVS lists, with the reasons OF1.0-1.3 can express. */
const ASYNC_TYPES: readonly (readonly [string, readonly string[]])[] = [
  ["PACKET_IN", ["no_match", "action", "invalid_ttl"]],
  ["PORT_STATUS", ["add", "delete", "modify"]],
  ["FLOW_REMOVED", ["idle", "hard", "delete", "group_delete", "meter_delete", "eviction"]],
  ["ROLE_STATUS", []],
  ["TABLE_STATUS", []],
  ["REQUESTFORWARD", []],
];

export function formatAsyncConfig(c: AsyncConfig): string {
  const masks = [c.packetInMask, c.portStatusMask, c.flowRemovedMask];
  let s = "";
  for (let role = 0; role < 2; role++) {
    s += `\n ${role === 0 ? "primary" : "secondary"}:\n`;
    ASYNC_TYPES.forEach(([name, reasons], type) => {
      // decode_legacy_async_masks keeps only the reasons the version allows.
      const mask = (masks[type]?.[role] ?? 0) & ((1 << reasons.length) - 1);
      const on = reasons.filter((_, bit) => ((mask >>> bit) & 1) !== 0);
      s += `${name.padStart(16)}:${on.length === 0 ? " (off)" : on.map((r) => ` ${r}`).join("")}\n`;
    });
  }
  return s;
}

// ---------------------------------------------------------------------------
// QUEUE_GET_CONFIG (`ofputil_queue_get_config_request_format`, `_reply_format`)

const OFPQ_ALL = 0xffffffff;
/** Rates are tenths of a percent; 0xffff means "not given". */
const RATE_UNSET = 0xffff;

/**
 * `ofputil_decode_queue_get_config_request` (OF1.1-1.3): the port must be a
 * physical port or ANY (OFPQOFC_BAD_PORT otherwise).
 */
export function formatQueueGetConfigRequest(port: number): string {
  const p16 = portFromOf11(port);
  if (p16 === undefined) throw new PrintDecodeError("OFPBAC_BAD_OUT_PORT");
  if (p16 >= OFPP_MAX && p16 !== OFPP_ANY) throw new PrintDecodeError("OFPQOFC_BAD_PORT");
  return ` port=${formatPort16(p16)}`;
}

/** OF1.0 OFPP_MAX and OFPP_ANY (what OF1.1+ 0xffffffff becomes). */
const OFPP_MAX = 0xff00;
const OFPP_ANY = 0xffff;

/** `print_queue_rate`. */
function queueRate(name: string, rate: number): string {
  if (rate <= 1000) return ` ${name}:${Math.floor(rate / 10)}.${rate % 10}%`;
  if (rate < RATE_UNSET) return ` ${name}:(disabled)`;
  return "";
}

/**
 * OVS reads each queue's port from the reply's port field (OF1.1-1.3
 * `ofputil_pull_queue_get_config_reply10`), sorts the queues by port and id,
 * and prints `port=P` before the first queue of each port other than 0.
 */
export function formatQueueGetConfigReply(m: QueueGetConfigReplyMessage): string {
  const port16 = portFromOf11(m.port) ?? m.port;
  const queues = m.queues
    .map((q) => {
      let min = RATE_UNSET;
      let max = RATE_UNSET;
      for (const p of q.properties) {
        if (p.kind === "min_rate") min = p.rate;
        else if (p.kind === "max_rate") max = p.rate;
      }
      return { queueId: q.queueId >>> 0, min, max };
    })
    .sort((a, b) => a.queueId - b.queueId);
  let s = " ";
  let port = 0;
  for (const q of queues) {
    if (port16 !== port) {
      port = port16;
      s += `port=${formatPort16(port16)}\n`;
    }
    s += `queue ${q.queueId}:${queueRate("min_rate", q.min)}${queueRate("max_rate", q.max)}\n`;
  }
  return s.replace(/ $/, "");
}

export { OFPQ_ALL };

// ---------------------------------------------------------------------------
// Bundles (`ofputil_format_bundle_ctrl_request`, `ofputil_format_bundle_add`)

const BUNDLE_CTRL_TYPES = [
  "OPEN_REQUEST",
  "OPEN_REPLY",
  "CLOSE_REQUEST",
  "CLOSE_REPLY",
  "COMMIT_REQUEST",
  "COMMIT_REPLY",
  "DISCARD_REQUEST",
  "DISCARD_REPLY",
] as const;
const BUNDLE_FLAG_NAMES = new Map<number, string>([
  [1, "atomic"],
  [2, "ordered"],
]);

/** `%#x`: "0" for zero, else 0x-prefixed hex. */
function hexAltU32(v: number): string {
  return v === 0 ? "0" : `0x${(v >>> 0).toString(16)}`;
}

export function formatBundleCtrl(bundleId: number, ctrlType: number, flags: number): string {
  const type = BUNDLE_CTRL_TYPES[ctrlType] ?? "";
  return `\n bundle_id=${hexAltU32(bundleId)} type=${type} flags=${bitNames(flags, (b) => BUNDLE_FLAG_NAMES.get(b))}`;
}

/** The bundle-add header line; the caller appends the inner message as OVS prints it. */
export function formatBundleAddHead(bundleId: number, flags: number): string {
  return `\n bundle_id=${hexAltU32(bundleId)} flags=${bitNames(flags, (b) => BUNDLE_FLAG_NAMES.get(b))}\n`;
}

// ---------------------------------------------------------------------------
// Experimenter messages

/** A Nicira/ONF experimenter message OVS knows in OF1.3 (`ofp-msgs.h`), with its body layout. */
interface ExperimenterKind {
  readonly name: string;
  /** Fixed body size after the 16-byte experimenter header. */
  readonly size: number;
  /** What may follow the fixed part: nothing, any bytes, or whole 8-byte units. */
  readonly tail: "none" | "bytes" | "8";
  /** OVS's text for the body, where we reproduce it. */
  readonly print?: (body: Uint8Array) => string | { readonly error: string };
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

const PACKET_IN_FORMATS = ["standard", "nxt_packet_in", "nxt_packet_in2"] as const;
const NX_ROLES = ["equal", "primary", "secondary"] as const;

const NX_MESSAGES: ReadonlyMap<number, ExperimenterKind> = new Map<number, ExperimenterKind>([
  [
    10,
    {
      name: "NXT_ROLE_REQUEST",
      size: 4,
      tail: "none",
      print: (b) => {
        const r = NX_ROLES[u32(b, 0)];
        return r === undefined ? { error: "OFPRRFC_BAD_ROLE" } : ` role=${r}`;
      },
    },
  ],
  [
    11,
    {
      name: "NXT_ROLE_REPLY",
      size: 4,
      tail: "none",
      print: (b) => {
        const r = NX_ROLES[u32(b, 0)];
        return r === undefined ? { error: "OFPRRFC_BAD_ROLE" } : ` role=${r}`;
      },
    },
  ],
  [13, { name: "NXT_FLOW_MOD", size: 32, tail: "8" }],
  [14, { name: "NXT_FLOW_REMOVED", size: 40, tail: "8" }],
  [
    15,
    {
      name: "NXT_FLOW_MOD_TABLE_ID",
      size: 8,
      tail: "none",
      print: (b) => ` ${b[0] !== 0 ? "enable" : "disable"}`,
    },
  ],
  [
    16,
    {
      name: "NXT_SET_PACKET_IN_FORMAT",
      size: 4,
      tail: "none",
      print: (b) => {
        const f = PACKET_IN_FORMATS[u32(b, 0)];
        return f === undefined ? { error: "OFPBRC_EPERM" } : ` format=${f}`;
      },
    },
  ],
  [17, { name: "NXT_PACKET_IN", size: 24, tail: "bytes" }],
  [18, { name: "NXT_FLOW_AGE", size: 0, tail: "none", print: () => "" }],
  [19, { name: "NXT_SET_ASYNC_CONFIG", size: 24, tail: "none" }],
  [
    20,
    {
      name: "NXT_SET_CONTROLLER_ID",
      size: 8,
      tail: "none",
      print: (b) => ` id=${u16(b, 6)}`,
    },
  ],
  [24, { name: "NXT_TLV_TABLE_MOD", size: 8, tail: "8" }],
  [25, { name: "NXT_TLV_TABLE_REQUEST", size: 0, tail: "none", print: () => "" }],
  [26, { name: "NXT_TLV_TABLE_REPLY", size: 8, tail: "8" }],
  [27, { name: "NXT_SET_ASYNC_CONFIG2", size: 0, tail: "8" }],
  [28, { name: "NXT_RESUME", size: 0, tail: "8" }],
  [
    29,
    {
      name: "NXT_CT_FLUSH_ZONE",
      size: 8,
      tail: "none",
      print: (b) => ` zone_id=${u16(b, 6)}`,
    },
  ],
  [30, { name: "NXT_PACKET_IN2", size: 0, tail: "8" }],
  [32, { name: "NXT_CT_FLUSH", size: 8, tail: "8" }],
]);

const ONF_MESSAGES: ReadonlyMap<number, ExperimenterKind> = new Map<number, ExperimenterKind>([
  [
    1870,
    {
      name: "ONFT_FLOW_MONITOR_CANCEL",
      size: 4,
      tail: "none",
      print: (b) => ` id=${u32(b, 0)}`,
    },
  ],
  [1871, { name: "ONFT_FLOW_MONITOR_PAUSED", size: 0, tail: "none", print: () => "" }],
  [1872, { name: "ONFT_FLOW_MONITOR_RESUMED", size: 0, tail: "none", print: () => "" }],
  [1911, { name: "ONFT_ROLE_STATUS", size: 16, tail: "8" }],
  [2350, { name: "ONFT_REQUESTFORWARD", size: 8, tail: "8" }],
]);

/**
 * How `ofp-print` shows an OFPT_EXPERIMENTER message: `ofpraw_decode` finds
 * OVS's row for (vendor, subtype) or fails (OFPBRC_BAD_VENDOR /
 * OFPBRC_BAD_SUBTYPE, before any header line), checks the body length
 * (OFPBRC_BAD_LEN), and the message's printer runs. Messages we do not lay
 * out as OVS does print their body as a hex dump.
 */
export function experimenterMessage(
  experimenter: number,
  expType: number,
  data: Uint8Array,
):
  | { readonly name: string; readonly text: string }
  | { readonly rawError: string }
  | { readonly name: string; readonly error: string } {
  const table =
    experimenter === NX_VENDOR_ID
      ? NX_MESSAGES
      : experimenter === ONF_VENDOR_ID
        ? ONF_MESSAGES
        : undefined;
  if (table === undefined) return { rawError: "OFPBRC_BAD_VENDOR" };
  const kind = table.get(expType >>> 0);
  if (kind === undefined) return { rawError: "OFPBRC_BAD_SUBTYPE" };
  const extra = data.length - kind.size;
  if (
    extra < 0 ||
    (kind.tail === "none" && extra !== 0) ||
    (kind.tail === "8" && extra % 8 !== 0)
  ) {
    return { rawError: "OFPBRC_BAD_LEN" };
  }
  if (kind.print === undefined) return { name: kind.name, text: `\n${hexDump(data)}` };
  const t = kind.print(data);
  return typeof t === "string" ? { name: kind.name, text: t } : { name: kind.name, error: t.error };
}

/** Experimenter multipart bodies: vendor, type and the data as hex (a readable form). */
export function experimenterBodyText(
  experimenter: number,
  expType: number,
  data: Uint8Array,
): string {
  return `experimenter=0x${(experimenter >>> 0).toString(16)} exp_type=${expType >>> 0}${data.length > 0 ? `\n${hexDump(data)}` : ""}`;
}

// ---------------------------------------------------------------------------
// Table features (a readable form of our own, shaped like OVS's
// `ofputil_table_features_format`: OVS's exact text also depends on its
// decoder's required-property and miss-defaulting rules and on its meta-flow
// field order, which this layer does not reproduce)

/** OF1.3 instruction types by number. */
const INSTRUCTION_NAMES: Readonly<Record<number, string>> = {
  1: "goto_table",
  2: "write_metadata",
  3: "write_actions",
  4: "apply_actions",
  5: "clear_actions",
  6: "meter",
};

/** OF1.3 action types by number, named as ovs-ofctl spells the actions. */
const ACTION_NAMES: Readonly<Record<number, string>> = {
  0: "output",
  11: "copy_ttl_out",
  12: "copy_ttl_in",
  15: "set_mpls_ttl",
  16: "dec_mpls_ttl",
  17: "push_vlan",
  18: "strip_vlan",
  19: "push_mpls",
  20: "pop_mpls",
  21: "set_queue",
  22: "group",
  23: "mod_nw_ttl",
  24: "dec_ttl",
  25: "set_field",
  26: "push_pbb",
  27: "pop_pbb",
};

/** Table ids as OVS prints next-table bitmaps: runs `a-b`, comma separated. */
function tableRanges(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.length === 0 ? "none" : out.join(",");
}

function oxmName(header: number, experimenter: number | undefined): string {
  const f = fieldByHeader(header, experimenter);
  return f === undefined
    ? `${header >>> 16}:${(header >>> 9) & 0x7f}`
    : `${f.name}${(header & OXM_HASMASK) !== 0 ? "/mask" : ""}`;
}

function propertyText(p: TableFeatureProperty): string {
  const label = p.kind.replace(/_/g, " ");
  switch (p.kind) {
    case "instructions":
    case "instructions_miss":
      return `${label}: ${p.ids.map((i) => INSTRUCTION_NAMES[i.type] ?? `type${i.type}`).join(" ")}`;
    case "write_actions":
    case "write_actions_miss":
    case "apply_actions":
    case "apply_actions_miss":
      return `${label}: ${p.ids.map((i) => ACTION_NAMES[i.type] ?? `type${i.type}`).join(" ")}`;
    case "next_tables":
    case "next_tables_miss":
      return `${label}: ${tableRanges(p.tableIds)}`;
    case "match":
    case "wildcards":
    case "write_setfield":
    case "write_setfield_miss":
    case "apply_setfield":
    case "apply_setfield_miss":
      return `${label}: ${p.oxmIds.map((o) => oxmName(o.header, o.experimenter)).join(" ")}`;
    case "experimenter":
    case "experimenter_miss":
      return `${label}: experimenter=0x${(p.experimenter >>> 0).toString(16)} exp_type=${p.expType >>> 0}${p.data.length > 0 ? ` data=${hexOf(p.data)}` : ""}`;
    case "unknown":
      return `property type ${p.propertyType}${p.data.length > 0 ? ` data=${hexOf(p.data)}` : ""}`;
  }
}

function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function formatTableFeaturesReadable(t: TableFeatures): string {
  let s = `\n  table ${t.tableId}`;
  if (t.name !== "") s += ` ("${t.name}")`;
  s += ":\n";
  s += `    metadata: match=0x${t.metadataMatch.toString(16)} write=0x${t.metadataWrite.toString(16)}\n`;
  s += `    config=0x${(t.config >>> 0).toString(16)} max_entries=${t.maxEntries >>> 0}\n`;
  for (const p of t.properties) s += `    ${propertyText(p)}\n`;
  return s;
}
