/**
 * Counter entries of the OF1.3 statistics replies (OF1.3 §7.3.5.4-7, 9, 12).
 *
 *     table:  table_id (1) | pad (3) | active_count (4) | lookup_count (8)
 *             | matched_count (8)                                      = 24
 *     port:   port_no (4) | pad (4) | 12 x u64 counters | duration_sec (4)
 *             | duration_nsec (4)                                      = 112
 *     queue:  port_no (4) | queue_id (4) | tx_bytes (8) | tx_packets (8)
 *             | tx_errors (8) | duration_sec (4) | duration_nsec (4)   = 40
 *     group:  length (2) | pad (2) | group_id (4) | ref_count (4) | pad (4)
 *             | packet_count (8) | byte_count (8) | duration_sec (4)
 *             | duration_nsec (4) | bucket_counter* (16 each)     length >= 40
 *     meter:  meter_id (4) | len (2) | pad (6) | flow_count (4)
 *             | packet_in_count (8) | byte_in_count (8) | duration_sec (4)
 *             | duration_nsec (4) | band_stats* (16 each)            len >= 40
 *
 * Variable entries must have a length of their fixed part plus a whole number
 * of counters, within the message; otherwise OFPBRC_BAD_LEN.
 */
import { OfpError } from "../errors.js";
import type { Reader } from "../reader.js";
import type { Writer } from "../writer.js";
import {
  OFP_BUCKET_COUNTER_SIZE,
  OFP_GROUP_STATS_SIZE,
  OFP_METER_BAND_STATS_SIZE,
  OFP_METER_STATS_SIZE,
} from "./sizes.js";

export interface TableStats {
  readonly tableId: number;
  readonly activeCount: number;
  readonly lookupCount: bigint;
  readonly matchedCount: bigint;
}

export interface PortStats {
  readonly portNo: number;
  readonly rxPackets: bigint;
  readonly txPackets: bigint;
  readonly rxBytes: bigint;
  readonly txBytes: bigint;
  readonly rxDropped: bigint;
  readonly txDropped: bigint;
  readonly rxErrors: bigint;
  readonly txErrors: bigint;
  readonly rxFrameErr: bigint;
  readonly rxOverErr: bigint;
  readonly rxCrcErr: bigint;
  readonly collisions: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
}

export interface QueueStats {
  readonly portNo: number;
  readonly queueId: number;
  readonly txBytes: bigint;
  readonly txPackets: bigint;
  readonly txErrors: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
}

export interface PacketByteCounter {
  readonly packetCount: bigint;
  readonly byteCount: bigint;
}

export interface GroupStats {
  readonly groupId: number;
  readonly refCount: number;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly bucketStats: readonly PacketByteCounter[];
}

export interface MeterStats {
  readonly meterId: number;
  readonly flowCount: number;
  readonly packetInCount: bigint;
  readonly byteInCount: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly bandStats: readonly PacketByteCounter[];
}

export function decodeTableStats(r: Reader): TableStats {
  const tableId = r.u8();
  r.skip(3);
  const activeCount = r.u32();
  return { tableId, activeCount, lookupCount: r.u64(), matchedCount: r.u64() };
}

export function encodeTableStats(w: Writer, s: TableStats): void {
  w.u8(s.tableId).zeros(3).u32(s.activeCount).u64(s.lookupCount).u64(s.matchedCount);
}

export function decodePortStats(r: Reader): PortStats {
  const portNo = r.u32();
  r.skip(4);
  return {
    portNo,
    rxPackets: r.u64(),
    txPackets: r.u64(),
    rxBytes: r.u64(),
    txBytes: r.u64(),
    rxDropped: r.u64(),
    txDropped: r.u64(),
    rxErrors: r.u64(),
    txErrors: r.u64(),
    rxFrameErr: r.u64(),
    rxOverErr: r.u64(),
    rxCrcErr: r.u64(),
    collisions: r.u64(),
    durationSec: r.u32(),
    durationNsec: r.u32(),
  };
}

export function encodePortStats(w: Writer, s: PortStats): void {
  w.u32(s.portNo).zeros(4);
  w.u64(s.rxPackets).u64(s.txPackets).u64(s.rxBytes).u64(s.txBytes);
  w.u64(s.rxDropped).u64(s.txDropped).u64(s.rxErrors).u64(s.txErrors);
  w.u64(s.rxFrameErr).u64(s.rxOverErr).u64(s.rxCrcErr).u64(s.collisions);
  w.u32(s.durationSec).u32(s.durationNsec);
}

export function decodeQueueStats(r: Reader): QueueStats {
  return {
    portNo: r.u32(),
    queueId: r.u32(),
    txBytes: r.u64(),
    txPackets: r.u64(),
    txErrors: r.u64(),
    durationSec: r.u32(),
    durationNsec: r.u32(),
  };
}

export function encodeQueueStats(w: Writer, s: QueueStats): void {
  w.u32(s.portNo).u32(s.queueId).u64(s.txBytes).u64(s.txPackets).u64(s.txErrors);
  w.u32(s.durationSec).u32(s.durationNsec);
}

/** Checks a variable entry's length: fixed part + whole counters, inside the parent. */
function checkCounted(r: Reader, length: number, fixed: number, what: string, at: number): void {
  if (length < fixed || (length - fixed) % OFP_BUCKET_COUNTER_SIZE !== 0) {
    throw new OfpError("OFPBRC_BAD_LEN", `${what} length ${length}`, { offset: at });
  }
  r.need(length - (r.pos - at), what);
}

function decodeCounters(r: Reader, count: number): PacketByteCounter[] {
  const out: PacketByteCounter[] = [];
  for (let i = 0; i < count; i++) out.push({ packetCount: r.u64(), byteCount: r.u64() });
  return out;
}

export function decodeGroupStats(r: Reader): GroupStats {
  const start = r.pos;
  const length = r.u16();
  checkCounted(r, length, OFP_GROUP_STATS_SIZE, "group stats", start);
  r.skip(2);
  const groupId = r.u32();
  const refCount = r.u32();
  r.skip(4);
  const packetCount = r.u64();
  const byteCount = r.u64();
  const durationSec = r.u32();
  const durationNsec = r.u32();
  const count = (length - OFP_GROUP_STATS_SIZE) / OFP_BUCKET_COUNTER_SIZE;
  return {
    groupId,
    refCount,
    packetCount,
    byteCount,
    durationSec,
    durationNsec,
    bucketStats: decodeCounters(r, count),
  };
}

export function encodeGroupStats(w: Writer, s: GroupStats): void {
  const token = w.beginLength(0);
  w.u16(0).zeros(2).u32(s.groupId).u32(s.refCount).zeros(4);
  w.u64(s.packetCount).u64(s.byteCount).u32(s.durationSec).u32(s.durationNsec);
  for (const c of s.bucketStats) w.u64(c.packetCount).u64(c.byteCount);
  w.endLength(token, "none");
}

export function decodeMeterStats(r: Reader): MeterStats {
  const start = r.pos;
  const meterId = r.u32();
  const len = r.u16();
  checkCounted(r, len, OFP_METER_STATS_SIZE, "meter stats", start);
  r.skip(6);
  const flowCount = r.u32();
  const packetInCount = r.u64();
  const byteInCount = r.u64();
  const durationSec = r.u32();
  const durationNsec = r.u32();
  const count = (len - OFP_METER_STATS_SIZE) / OFP_METER_BAND_STATS_SIZE;
  return {
    meterId,
    flowCount,
    packetInCount,
    byteInCount,
    durationSec,
    durationNsec,
    bandStats: decodeCounters(r, count),
  };
}

export function encodeMeterStats(w: Writer, s: MeterStats): void {
  const token = w.beginLength(4);
  w.u32(s.meterId).u16(0).zeros(6).u32(s.flowCount);
  w.u64(s.packetInCount).u64(s.byteInCount).u32(s.durationSec).u32(s.durationNsec);
  for (const c of s.bandStats) w.u64(c.packetCount).u64(c.byteCount);
  w.endLength(token, "none");
}
