/**
 * The four forms of a topology trace (ecosystem.md §4.1, after ovn-trace's
 * `--detailed/--summary/--minimal`):
 *
 * - `detailed`: per host, the `ofproto/trace` layout (`Flow:`,
 *   `bridge("br-int") @ compute-1`, numbered table lines, actions, `Final
 *   flow:`, `Datapath actions:`), each flow with one `# object: role` line;
 *   hosts joined by a `Tunnel:` line; then the fates.
 * - `summary`: one line per flow hit (host, bridge, table, priority → origin).
 * - `minimal`: only what changed in the packet on each host and where it
 *   went; the form for regression tests, as ovn-trace recommends.
 * - `json`: {@link traceJson}, snake_case as the REST API's documents.
 *
 * The fate lines end every text form:
 *
 *     Output: port tap-vm-b2 (vm-b2) on compute-2
 *     Dropped: br-int table 25 priority 0 on compute-1 (drop spoofed source MAC …)
 *     Controller: br-int table 42 priority 0 on compute-1 (…)
 *     Tunnel: vxlan-c633640d on compute-1 to compute-3 not followed (hop limit 4)
 */
import { OFPP } from "../../codec/ports.js";
import { formatEdits, type FieldEdit } from "./edits.js";
import type { CrossingStatus, TunnelMeta } from "./cross-host.js";
import {
  describeOrigin,
  ipText,
  type TopologyTrace,
  type TraceHop,
  type TraceLeg,
  type TraceOutcome,
} from "./topology-trace.js";

export const TRACE_FORMATS = ["detailed", "summary", "minimal", "json"] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

export function isTraceFormat(s: string): s is TraceFormat {
  return (TRACE_FORMATS as readonly string[]).includes(s);
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function tunnelText(t: TunnelMeta): string {
  return `tun_id=${hex(t.tunId)}, tun_src=${ipText(t.src)}, tun_dst=${ipText(t.dst)}`;
}

function arrivalLine(l: TraceLeg): string | undefined {
  const a = l.arrival;
  if (a === null) return undefined;
  return `Tunnel: ${a.from} → ${l.host} on ${a.port} (${tunnelText(a.tunnel)})`;
}

const NOT_FOLLOWED: Readonly<Record<Exclude<CrossingStatus, "followed">, string>> = {
  no_remote_host: "no host of the topology at its far end",
  no_port_back: "the far host has no tunnel port back",
  hop_limit: "hop limit",
  not_followed: "not followed",
};

function portText(name: string, vm: string | null, no?: number): string {
  if (vm !== null) return `${name} (${vm})`;
  return no !== undefined && no >>> 0 === OFPP.LOCAL ? `${name} (LOCAL)` : name;
}

/** The fate line of an outcome, or undefined for a tunnel that was followed (not an end). */
function fateLine(t: TopologyTrace, o: TraceOutcome): string | undefined {
  switch (o.kind) {
    case "output":
      return `Output: port ${portText(o.portName, o.vm, o.port)} on ${o.host}`;
    case "tunnel": {
      if (o.status === "followed") return undefined;
      const why = o.status === "hop_limit" ? `hop limit ${t.maxHops}` : NOT_FOLLOWED[o.status];
      return `Tunnel: ${o.port} on ${o.host}${o.to === null ? "" : ` to ${o.to}`} not followed (${why})`;
    }
    case "drop":
    case "controller": {
      const head = o.kind === "drop" ? "Dropped" : "Controller";
      const where =
        o.table === null
          ? `on ${o.host}`
          : `${o.bridge} table ${o.table}${o.priority === null ? "" : ` priority ${o.priority}`} on ${o.host}`;
      return `${head}: ${where} (${o.reason})`;
    }
    case "error":
      return `Dropped: translation failed on ${o.host} (${o.reason})`;
  }
}

function fates(t: TopologyTrace): string[] {
  return t.outcomes.map((o) => fateLine(t, o)).filter((s): s is string => s !== undefined);
}

function detailed(t: TopologyTrace): string {
  const out: string[] = [];
  for (const n of t.notes) out.push(`note: ${n}`);
  for (const l of t.legs) {
    const a = arrivalLine(l);
    if (a !== undefined) out.push("", a, "=".repeat(a.length), "");
    out.push(l.text);
  }
  out.push("", ...fates(t));
  return out.join("\n") + "\n";
}

function hopLine(h: TraceHop): string {
  const table = `${h.host} ${h.bridge} table ${h.table}${h.tableName === null ? "" : ` (${h.tableName})`}`;
  if (!h.hit) return `${table} → no flow: table miss`;
  const origin = h.origin === null ? "not a dvrflow flow" : describeOrigin(h.origin);
  return `${table} priority ${h.priority} → ${origin}`;
}

function summary(t: TopologyTrace): string {
  const out: string[] = [];
  for (const n of t.notes) out.push(`note: ${n}`);
  out.push(`Flow: ${t.legs[0]?.flow ?? ""}`);
  for (const l of t.legs) {
    const a = arrivalLine(l);
    if (a !== undefined) out.push(a);
    for (const h of l.hops) out.push(hopLine(h));
  }
  out.push(...fates(t));
  return out.join("\n") + "\n";
}

function editsText(e: readonly FieldEdit[]): string {
  return e.length === 0 ? "unchanged" : formatEdits(e);
}

function minimal(t: TopologyTrace): string {
  const out: string[] = [];
  for (const o of t.outcomes) {
    if (o.kind === "output") {
      out.push(`${o.host}: ${editsText(o.edits)} → port ${portText(o.portName, o.vm, o.port)}`);
    } else if (o.kind === "tunnel") {
      out.push(
        `${o.host}: ${editsText(o.edits)} → ${o.port}${o.to === null ? "" : ` to ${o.to}`} (tun_id=${hex(o.tunnel.tunId)})`,
      );
    }
  }
  out.push(...fates(t));
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

function tunnelJson(t: TunnelMeta) {
  return { tun_id: hex(t.tunId), tun_src: ipText(t.src), tun_dst: ipText(t.dst) };
}

function hopJson(h: TraceHop) {
  return {
    host: h.host,
    bridge: h.bridge,
    table: h.table,
    table_name: h.tableName,
    hit: h.hit,
    priority: h.priority,
    cookie: h.cookie === null ? null : hex(h.cookie),
    match: h.match,
    origin: h.origin === null ? null : { ...h.origin },
  };
}

function outcomeJson(o: TraceOutcome) {
  switch (o.kind) {
    case "output":
      return {
        kind: o.kind,
        leg: o.leg,
        host: o.host,
        bridge: o.bridge,
        port: o.port,
        port_name: o.portName,
        vm: o.vm,
        edits: o.edits.map((e) => ({ ...e })),
      };
    case "tunnel":
      return {
        kind: o.kind,
        leg: o.leg,
        host: o.host,
        port: o.port,
        to: o.to,
        ...tunnelJson(o.tunnel),
        status: o.status,
        next_leg: o.next,
        edits: o.edits.map((e) => ({ ...e })),
      };
    case "drop":
    case "controller":
      return {
        kind: o.kind,
        leg: o.leg,
        host: o.host,
        bridge: o.bridge,
        table: o.table,
        priority: o.priority,
        reason: o.reason,
      };
    case "error":
      return { kind: o.kind, leg: o.leg, host: o.host, reason: o.reason };
  }
}

/** The trace as plain JSON data (64-bit values as hex strings, addresses dotted). */
export function traceJson(t: TopologyTrace) {
  return {
    host: t.host,
    max_hops: t.maxHops,
    notes: [...t.notes],
    legs: t.legs.map((l) => ({
      index: l.index,
      host: l.host,
      arrival:
        l.arrival === null
          ? null
          : {
              from: l.arrival.from,
              from_leg: l.arrival.fromLeg,
              port: l.arrival.port,
              ...tunnelJson(l.arrival.tunnel),
            },
      bridge: l.bridge,
      in_port: l.inPort,
      in_port_name: l.inPortName,
      flow: l.flow,
      hops: l.hops.map(hopJson),
      final_flow: l.finalFlow,
      datapath_actions: l.datapathActions,
      error: l.error,
    })),
    outcomes: t.outcomes.map(outcomeJson),
    fates: fates(t),
  };
}

export type TraceJson = ReturnType<typeof traceJson>;

/** The trace in one of the four forms (text ends with a newline). */
export function formatTopologyTrace(t: TopologyTrace, format: TraceFormat): string {
  switch (format) {
    case "detailed":
      return detailed(t);
    case "summary":
      return summary(t);
    case "minimal":
      return minimal(t);
    case "json":
      return JSON.stringify(traceJson(t), null, 2) + "\n";
  }
}
