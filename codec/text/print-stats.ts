/**
 * The statistics and feature multipart messages as `ovs-ofctl -O OpenFlow13
 * ofp-print` prints them: table, port, queue, group (stats, desc, features)
 * and meter (stats, config, features) requests and replies.
 *
 * Each printer follows its OVS function (named in its comment; lib/ofp-print.c,
 * ofp-port.c, ofp-queue.c, ofp-group.c, ofp-meter.c, ofp-table.c). Printers of
 * list replies print one entry at a time, as OVS does, so a reply whose Nth
 * entry fails prints the entries before it (see ofp-print.ts).
 */
import type {
  GroupStats,
  MeterStats,
  PortStats,
  QueueStats,
  TableStats,
} from "../messages/multipart-stats.js";
import type {
  GroupDesc,
  GroupFeatures,
  MeterConfig,
  MeterFeatures,
} from "../messages/multipart-desc.js";
import type { Bucket } from "../messages/group-mod.js";
import type { MeterBand } from "../messages/meter-mod.js";
import { formatActions } from "./actions-format.js";
import { formatDuration } from "./flow.js";
import { formatPort16, formatPort32, portFromOf11 } from "./ports.js";

const U64_MAX = 0xffffffffffffffffn;
const U32_MAX = 0xffffffff;

/** `ofp_print_bit_names`: names of set bits (lowest first), leftover bits as one hex number, "0" for none. */
export function bitNames(
  bits: number,
  names: (bit: number) => string | undefined,
  sep = " ",
): string {
  if (bits === 0) return "0";
  const out: string[] = [];
  let rest = bits >>> 0;
  for (let i = 0; i < 32; i++) {
    const bit = (1 << i) >>> 0;
    if ((rest & bit) === 0) continue;
    const n = names(bit);
    if (n !== undefined) {
      out.push(n);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out.join(sep);
}

/** A 32-bit OF1.1+ port printed as OVS prints the 16-bit port it maps to. */
function port32(p: number): string {
  return formatPort32(p);
}

// ---------------------------------------------------------------------------
// Group ids and meter ids

const OFPG_ALL = 0xfffffffc;
const OFPG_ANY = 0xffffffff;

/** `ofputil_group_to_string`. */
export function formatGroupId(id: number): string {
  if (id === OFPG_ALL) return "ALL";
  if (id === OFPG_ANY) return "ANY";
  return String(id >>> 0);
}

const OFPM13_MAX = 0xffff0000;
const METER_NAMES: ReadonlyMap<number, string> = new Map([
  [0xfffffffd, "slowpath"],
  [0xfffffffe, "controller"],
  [0xffffffff, "all"],
]);

/** `ofputil_format_meter_id`: `meter=N` or `meter=all` (separator `=` or `:`). */
export function formatMeterId(id: number, separator: "=" | ":"): string {
  const name = id <= OFPM13_MAX ? String(id) : (METER_NAMES.get(id) ?? "unknown");
  return `meter${separator}${name}`;
}

// ---------------------------------------------------------------------------
// Table stats (`ofp_print_table_stats_reply` → `ofputil_table_features_format`)

/**
 * OF1.3 table stats carry no features, so OVS's features comparison always
 * says "same": a table prints its counters unless they equal the previous
 * table's, in which case it joins a `ditto` run.
 */
export function formatTableStats(entries: readonly TableStats[]): string {
  let s = "";
  let firstDitto = -1;
  let lastDitto = -1;
  const finish = (): void => {
    if (firstDitto < 0) return;
    s +=
      firstDitto === lastDitto
        ? `\n  table ${firstDitto}: ditto\n`
        : `\n  tables ${firstDitto}...${lastDitto}: ditto\n`;
  };
  entries.forEach((t, i) => {
    const prev = i > 0 ? entries[i - 1] : undefined;
    const same =
      prev !== undefined &&
      prev.activeCount === t.activeCount &&
      prev.lookupCount === t.lookupCount &&
      prev.matchedCount === t.matchedCount;
    if (same) {
      if (firstDitto < 0) firstDitto = t.tableId;
      lastDitto = t.tableId;
      return;
    }
    finish();
    firstDitto = -1;
    s += `\n  table ${t.tableId}:\n`;
    s += `    active=${t.activeCount >>> 0}, lookup=${t.lookupCount}, matched=${t.matchedCount}\n`;
  });
  finish();
  return s;
}

// ---------------------------------------------------------------------------
// Port stats (`ofputil_format_port_stats`)

function stat(leader: string, v: bigint, more: boolean): string {
  return `${leader}${v === U64_MAX ? "?" : String(v)}${more ? ", " : "\n"}`;
}

/** One port's counters: three lines (two without a duration). */
export function formatPortStats(p: PortStats): string {
  const p16 = portFromOf11(p.portNo);
  let s = `  port ${p16 !== undefined && p16 < 10 ? " " : ""}${port32(p.portNo)}: rx `;
  s += stat("pkts=", p.rxPackets, true);
  s += stat("bytes=", p.rxBytes, true);
  s += stat("drop=", p.rxDropped, true);
  s += stat("errs=", p.rxErrors, true);
  s += stat("frame=", p.rxFrameErr, true);
  s += stat("over=", p.rxOverErr, true);
  s += stat("crc=", p.rxCrcErr, false);
  s += "           tx ";
  s += stat("pkts=", p.txPackets, true);
  s += stat("bytes=", p.txBytes, true);
  s += stat("drop=", p.txDropped, true);
  s += stat("errs=", p.txErrors, true);
  s += stat("coll=", p.collisions, false);
  if (p.durationSec >>> 0 !== U32_MAX) {
    s += `           duration=${formatDuration(p.durationSec >>> 0, p.durationNsec >>> 0)}\n`;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Queue stats (`ofputil_queue_stats_reply_format`)

const OFPQ_ALL = 0xffffffff;

/** `ofp_print_queue_name`. */
export function formatQueueId(id: number): string {
  return id >>> 0 === OFPQ_ALL ? "ALL" : String(id >>> 0);
}

export function formatQueueStats(q: QueueStats): string {
  let s = `  port ${port32(q.portNo)} queue ${formatQueueId(q.queueId)}: `;
  s += stat("bytes=", q.txBytes, true);
  s += stat("pkts=", q.txPackets, true);
  s += stat("errors=", q.txErrors, true);
  s += "duration=";
  s +=
    q.durationSec >>> 0 === U32_MAX
      ? "?"
      : formatDuration(q.durationSec >>> 0, q.durationNsec >>> 0);
  return `${s}\n`;
}

// ---------------------------------------------------------------------------
// Groups (`ofputil_group_stats_format`, `ofputil_group_desc_format`,
// `ofputil_group_features_format`, `ofputil_bucket_format`)

export function formatGroupStats(g: GroupStats): string {
  let s = `\n group_id=${g.groupId >>> 0},`;
  if (g.durationSec >>> 0 !== U32_MAX) {
    s += `duration=${formatDuration(g.durationSec >>> 0, g.durationNsec >>> 0)},`;
  }
  s += `ref_count=${g.refCount >>> 0},packet_count=${g.packetCount},byte_count=${g.byteCount}`;
  g.bucketStats.forEach((b, i) => {
    if (b.packetCount !== U64_MAX) {
      s += `,bucket${i}:packet_count=${b.packetCount},byte_count=${b.byteCount}`;
    }
  });
  return s;
}

const OFPGT11_SELECT = 1;
const GROUP_TYPE_NAMES = ["all", "select", "indirect", "ff", "unknown"] as const;
/** OF1.0 OFPP_NONE, what an OF1.1+ watch_port of ANY becomes. */
const OFPP_NONE = 0xffff;

/** `ofputil_bucket_format` (OF1.3: no bucket ids). */
export function formatBucket(b: Bucket, groupType: number): string {
  let s = "bucket=";
  if (b.weight !== (groupType === OFPGT11_SELECT ? 1 : 0)) s += `weight:${b.weight},`;
  const watch = portFromOf11(b.watchPort);
  if (watch !== OFPP_NONE) {
    s += `watch_port:${watch === undefined ? String(b.watchPort >>> 0) : formatPort16(watch)},`;
  }
  if (b.watchGroup >>> 0 !== OFPG_ANY) s += `watch_group:${b.watchGroup >>> 0},`;
  return `${s}actions=${formatActions(b.actions)}`;
}

/** `ofputil_group_format`: `group_id=N[,type=T],bucket=...,bucket=...`. */
export function formatGroup(
  groupId: number,
  groupType: number,
  buckets: readonly Bucket[],
  suppressType = false,
): string {
  let s = `group_id=${groupId >>> 0}`;
  if (!suppressType) s += `,type=${GROUP_TYPE_NAMES[Math.min(groupType, 4)]!}`;
  if (buckets.length > 0) s += `,${buckets.map((b) => formatBucket(b, groupType)).join(",")}`;
  return s;
}

export function formatGroupDesc(g: GroupDesc): string {
  return `\n ${formatGroup(g.groupId, g.groupType, g.buckets)}`;
}

/** Group type names as `group_type_to_string` spells them in the features reply. */
const GROUP_FEATURE_TYPE_NAMES = ["all", "select", "indirect", "fast failover"] as const;

/**
 * OF1.3 action bits (1 << OFPAT_*) in OVS's `ofpact` order, with the names
 * `ofpact_bitmap_format` prints; copy_ttl and PBB bits have no OVS action
 * and are not printed.
 */
const ACTION_BITMAP: readonly (readonly [number, string])[] = [
  [0, "output"],
  [22, "group"],
  [25, "set_field"],
  [18, "strip_vlan"],
  [17, "push_vlan"],
  [23, "mod_nw_ttl"],
  [24, "dec_ttl"],
  [15, "set_mpls_ttl"],
  [16, "dec_mpls_ttl"],
  [19, "push_mpls"],
  [20, "pop_mpls"],
  [21, "set_queue"],
];

function actionBitmap(bits: number): string {
  const names = ACTION_BITMAP.filter(([bit]) => ((bits >>> bit) & 1) !== 0).map(([, n]) => n);
  return names.length === 0 ? "<none>" : names.join(" ");
}

export function formatGroupFeatures(f: GroupFeatures): string {
  let s = "\n Group table:\n";
  s += `    Types:  0x${(f.types >>> 0).toString(16)}\n`;
  s += `    Capabilities:  0x${(f.capabilities >>> 0).toString(16)}\n`;
  for (let i = 0; i < 4; i++) {
    if (((f.types >>> i) & 1) === 0) continue;
    s += `    ${GROUP_FEATURE_TYPE_NAMES[i]!} group:\n`;
    const max = f.maxGroups[i]! >>> 0;
    s += `       max_groups=${max === 0 ? "0" : `0x${max.toString(16)}`}\n`;
    s += `       actions: ${actionBitmap(f.actions[i]! >>> 0)}\n`;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Meters (`ofputil_format_meter_config`, `_stats`, `_features`, `_band`)

const OFPMF = { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 } as const;
const OFPMBT_DROP = 1;
const OFPMBT_DSCP_REMARK = 2;

/** `ofp_print_meter_flags`: each known flag and a trailing space; unknown bits as `flags:0x..`. */
export function formatMeterFlags(flags: number): string {
  let s = "";
  if ((flags & OFPMF.KBPS) !== 0) s += "kbps ";
  if ((flags & OFPMF.PKTPS) !== 0) s += "pktps ";
  if ((flags & OFPMF.BURST) !== 0) s += "burst ";
  if ((flags & OFPMF.STATS) !== 0) s += "stats ";
  const rest = flags & ~(OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS);
  if (rest !== 0) s += `flags:0x${rest.toString(16)} `;
  return s;
}

const BAND_TYPE: Record<MeterBand["kind"], number> = {
  drop: OFPMBT_DROP,
  dscp_remark: OFPMBT_DSCP_REMARK,
  experimenter: 0xffff,
};

function formatBand(flags: number, b: MeterBand): string {
  const type = BAND_TYPE[b.kind];
  let s = `\ntype=${type === OFPMBT_DROP ? "drop" : type === OFPMBT_DSCP_REMARK ? "dscp_remark" : String(type)}`;
  s += ` rate=${b.rate >>> 0}`;
  if ((flags & OFPMF.BURST) !== 0) s += ` burst_size=${b.burstSize >>> 0}`;
  if (b.kind === "dscp_remark") s += ` prec_level=${b.precLevel}`;
  return s;
}

/** `meter=N FLAGS bands=` then one line per band, then a newline. */
export function formatMeterConfigBody(
  flags: number,
  meterId: number,
  bands: readonly MeterBand[],
): string {
  let s = `${formatMeterId(meterId, "=")} ${formatMeterFlags(flags)}bands=`;
  for (const b of bands) s += formatBand(flags, b);
  return `${s}\n`;
}

export function formatMeterConfig(c: MeterConfig): string {
  return `\n${formatMeterConfigBody(c.flags, c.meterId, c.bands)}`;
}

export function formatMeterStats(m: MeterStats): string {
  let s = `\n${formatMeterId(m.meterId, ":")} flow_count:${m.flowCount >>> 0} `;
  s += `packet_in_count:${m.packetInCount} byte_in_count:${m.byteInCount} `;
  s += `duration:${formatDuration(m.durationSec >>> 0, m.durationNsec >>> 0)} bands:\n`;
  m.bandStats.forEach((b, i) => {
    s += `${i}: packet_count:${b.packetCount} byte_count:${b.byteCount}\n`;
  });
  return s;
}

const BAND_TYPE_NAMES = new Map<number, string>([
  [1 << OFPMBT_DROP, "drop"],
  [1 << OFPMBT_DSCP_REMARK, "dscp_remark"],
]);
const METER_CAPABILITY_NAMES = new Map<number, string>([
  [OFPMF.KBPS, "kbps"],
  [OFPMF.PKTPS, "pktps"],
  [OFPMF.BURST, "burst"],
  [OFPMF.STATS, "stats"],
]);

export function formatMeterFeatures(f: MeterFeatures): string {
  let s = `\nmax_meter:${f.maxMeter >>> 0} max_bands:${f.maxBands} max_color:${f.maxColor}\n`;
  s += `band_types: ${bitNames(f.bandTypes, (b) => BAND_TYPE_NAMES.get(b))}\n`;
  s += `capabilities: ${bitNames(f.capabilities, (b) => METER_CAPABILITY_NAMES.get(b))}\n`;
  return s;
}
