/**
 * `dvrflow trace --config topo.yaml HOST 'MICROFLOW'`: a packet traced
 * through the compiled DVR tables of one host, across the VXLAN tunnels and
 * through the hosts they lead to (cross-host.ts), every flow hit named by
 * the topology object that produced it (replica.ts), and the fate of every
 * copy: delivered to a port, put on a tunnel not followed, sent to the
 * controller, or dropped by a named flow (its origin is the drop reason).
 *
 * Deterministic: the replica is rebuilt from the snapshot (no learned MACs
 * from earlier traces), no times are printed.
 */
import type { Instruction } from "../../codec/instructions.js";
import { OFPP } from "../../codec/ports.js";
import { formatMatch } from "../../codec/text/flow.js";
import { parseHex } from "../../codec/text/ofp-print.js";
import { ipv4ToString } from "../../codec/packet/addr.js";
import type { Bridge } from "../../datapath/bridge.js";
import type { FlowEntry } from "../../datapath/flow-entry.js";
import { microflowPacket } from "../../datapath/microflow.js";
import type { TraceAnnotator } from "../../datapath/trace.js";
import type { FlowOrigin } from "../dvr/flow.js";
import { tableById, type BridgeName } from "../dvr/tables.js";
import type { StoreSnapshot } from "../store/store.js";
import {
  traceAcrossHosts,
  type CrossingStatus,
  type HostLeg,
  type TunnelMeta,
} from "./cross-host.js";
import { frameEdits, type FieldEdit } from "./edits.js";
import { inPortText, resolveInPort, TraceRequestError, withInPort } from "./in-port.js";
import { buildTopologyReplica, originOf, type TopologyReplica, type TraceHost } from "./replica.js";

/** Tunnels a packet may cross unless told otherwise (ecosystem.md §4.1 `--max-hops 4`). */
export const DEFAULT_MAX_HOPS = 4;

export interface TopologyTraceRequest {
  /** The host the packet starts on. */
  readonly host: string;
  /**
   * ofproto/trace microflow; `in_port` may name a port (in-port.ts). With
   * {@link packetHex} only its in_port (and tunnel fields) are used.
   */
  readonly microflow?: string;
  /** A whole Ethernet frame in hex, instead of one composed from the microflow. */
  readonly packetHex?: string;
  /** Tunnels to follow at most (default {@link DEFAULT_MAX_HOPS}). */
  readonly maxHops?: number;
}

/** One flow lookup. */
export interface TraceHop {
  readonly host: string;
  readonly bridge: string;
  readonly table: number;
  /** The DVR pipeline's name of the table (tables.ts), when it has one. */
  readonly tableName: string | null;
  readonly hit: boolean;
  readonly priority: number | null;
  readonly cookie: bigint | null;
  /** The flow's match as dump-flows prints it. */
  readonly match: string | null;
  readonly origin: FlowOrigin | null;
}

/** The packet on one host. */
export interface TraceLeg {
  readonly index: number;
  readonly host: string;
  /** How it got here: the tunnel from the previous host (null on the source host). */
  readonly arrival: {
    readonly from: string;
    readonly fromLeg: number;
    readonly port: string;
    readonly tunnel: TunnelMeta;
  } | null;
  readonly bridge: string;
  readonly inPort: number;
  readonly inPortName: string;
  /** The `Flow:` line's flow. */
  readonly flow: string;
  readonly hops: readonly TraceHop[];
  readonly finalFlow: string;
  readonly datapathActions: string;
  readonly error: string | null;
  /** The `ofproto/trace` text of this host, with ` @ host` and one `# origin` line per flow. */
  readonly text: string;
}

/** What became of (a copy of) the packet. */
export type TraceOutcome =
  | {
      readonly kind: "output";
      readonly leg: number;
      readonly host: string;
      readonly bridge: string;
      readonly port: number;
      readonly portName: string;
      /** The topology port (VM) behind a br-int port. */
      readonly vm: string | null;
      /** Relative to the frame as it entered this host. */
      readonly edits: readonly FieldEdit[];
    }
  | {
      readonly kind: "tunnel";
      readonly leg: number;
      readonly host: string;
      readonly port: string;
      readonly to: string | null;
      readonly tunnel: TunnelMeta;
      readonly status: CrossingStatus;
      /** The leg tracing it on `to`, when followed. */
      readonly next: number | null;
      readonly edits: readonly FieldEdit[];
    }
  | {
      readonly kind: "drop" | "controller";
      readonly leg: number;
      readonly host: string;
      readonly bridge: string;
      /** The flow that dropped it (or sent it up); null table for an empty walk. */
      readonly table: number | null;
      readonly priority: number | null;
      readonly reason: string;
    }
  | {
      readonly kind: "error";
      readonly leg: number;
      readonly host: string;
      readonly reason: string;
    };

export interface TopologyTrace {
  readonly host: string;
  readonly maxHops: number;
  /** Microflow fields a frame cannot carry (ignored), as ofproto/trace would warn. */
  readonly notes: readonly string[];
  readonly legs: readonly TraceLeg[];
  readonly outcomes: readonly TraceOutcome[];
}

/** `# port vm-a1: I27 frame from a VM: check its MAC`. */
export function describeOrigin(o: FlowOrigin): string {
  return `${o.object}: ${o.role}`;
}

/** The drop reason of a flow's origin: the role, with the object unless it is the pipeline. */
function reasonOf(o: FlowOrigin | null): string {
  if (o === null) return "no flow matched: table miss";
  return o.object === "pipeline" ? o.role : describeOrigin(o);
}

function actionsOf(instructions: readonly Instruction[]) {
  return instructions.flatMap((i) =>
    i.type === "apply_actions" || i.type === "write_actions" ? i.actions : [],
  );
}

function hasControllerOutput(instructions: readonly Instruction[]): boolean {
  return actionsOf(instructions).some(
    (a) => a.type === "output" && a.port >>> 0 === OFPP.CONTROLLER,
  );
}

/**
 * A flow that ends the walk of the copy that reached it without sending it
 * anywhere: no goto, no output, no group. Every drop flow of the DVR
 * pipeline is one (an empty instruction list: T1, T6, T11, T21, I12, …).
 */
function dropsPacket(instructions: readonly Instruction[]): boolean {
  if (instructions.some((i) => i.type === "goto_table")) return false;
  return !actionsOf(instructions).some((a) => a.type === "output" || a.type === "group");
}

/** Parses the request into a start (frame, port, tunnel) on `host`. */
function startOf(
  replica: TopologyReplica,
  host: TraceHost,
  req: TopologyTraceRequest,
): {
  frame: Uint8Array;
  bridge: Bridge;
  inPort: number;
  tunnel: TunnelMeta | undefined;
  notes: string[];
} {
  if (req.microflow === undefined && req.packetHex === undefined)
    throw new TraceRequestError("give a microflow or a packet");
  let microflow = req.microflow ?? "";
  const portText = inPortText(microflow);
  if (portText === undefined) {
    throw new TraceRequestError(
      `the microflow needs in_port= (a VM port such as ${[...host.vmPorts.values()][0]?.name ?? "vm-a1"}, its interface, or a port number)`,
    );
  }
  const at = resolveInPort(replica.index, host, portText);
  microflow = withInPort(microflow, at.port.no);
  let mf;
  try {
    mf = microflowPacket(microflow);
  } catch (e) {
    throw new TraceRequestError(`bad microflow: ${(e as Error).message}`);
  }
  const notes =
    mf.ignored.length > 0 ? [`ignored (not carried by a frame): ${mf.ignored.join(", ")}`] : [];
  let frame = mf.frame;
  if (req.packetHex !== undefined) {
    const bytes = parseHex(req.packetHex);
    if (bytes === undefined || bytes.length < 14)
      throw new TraceRequestError("packet: not an Ethernet frame in hex");
    frame = bytes;
  }
  let tunnel: TunnelMeta | undefined =
    mf.tunnel === undefined
      ? undefined
      : { tunId: mf.tunnel.tunId ?? 0n, src: mf.tunnel.src ?? 0, dst: mf.tunnel.dst ?? 0 };
  if (at.port.spec.kind === "vxlan") {
    // Arriving from a tunnel: the outer addresses are the two hosts' unless given.
    const remote = at.port.spec.remoteIp;
    tunnel = {
      tunId: tunnel?.tunId ?? 0n,
      src: tunnel?.src || (remote === "flow" ? 0 : remote),
      dst: tunnel?.dst || host.tunnelIp,
    };
  }
  const bridge = at.bridge === "br-int" ? host.brInt : host.brTun;
  return { frame, bridge, inPort: at.port.no, tunnel, notes };
}

/**
 * Traces a request on `replica` (see the file comment). Throws
 * {@link TraceRequestError} on bad input. NORMAL learns MACs during a trace,
 * as OVS's ofproto/trace does, so a replica reused for several traces
 * carries what earlier ones taught it; {@link traceTopology} builds a fresh
 * one for an answer that depends on the request alone.
 */
export function traceOnReplica(replica: TopologyReplica, req: TopologyTraceRequest): TopologyTrace {
  const host = replica.hosts.get(req.host);
  if (host === undefined) {
    throw new TraceRequestError(
      `no host "${req.host}" (hosts: ${[...replica.hosts.keys()].join(", ")})`,
    );
  }
  const maxHops = req.maxHops ?? DEFAULT_MAX_HOPS;
  if (!Number.isInteger(maxHops) || maxHops < 0)
    throw new TraceRequestError(`max hops must be a whole number ≥ 0, not ${req.maxHops}`);
  const start = startOf(replica, host, req);
  // traceAcrossHosts asks for each leg's annotator just before tracing it, in leg order.
  const lookups: { hop: TraceHop; entry: FlowEntry | null }[][] = [];
  const annotate = (h: TraceHost): TraceAnnotator => {
    const hops: { hop: TraceHop; entry: FlowEntry | null }[] = [];
    lookups.push(hops);
    return {
      bridge: () => ` @ ${h.name}`,
      flow: (br, tableId, entry) => {
        const bridge = br.name as BridgeName;
        const origin = entry === null ? null : (originOf(replica, h, bridge, entry) ?? null);
        hops.push({
          hop: {
            host: h.name,
            bridge: br.name,
            table: tableId,
            tableName: tableById(bridge, tableId)?.name ?? null,
            hit: entry !== null,
            priority: entry?.priority ?? null,
            cookie: entry?.cookie ?? null,
            match: entry === null ? null : formatMatch(entry.match),
            origin,
          },
          entry,
        });
        if (entry === null) return "# no flow: table miss, dropped (OpenFlow 1.3)";
        if (origin === null) return `# cookie 0x${entry.cookie.toString(16)}: not a dvrflow flow`;
        return `# ${describeOrigin(origin)}`;
      },
    };
  };
  const walk = traceAcrossHosts(
    replica.hosts,
    {
      host: host.name,
      bridge: start.bridge,
      inPort: start.inPort,
      frame: start.frame,
      ...(start.tunnel === undefined ? {} : { tunnel: start.tunnel }),
    },
    { maxHops, annotate: (h) => annotate(h as TraceHost) },
  );
  const legs: TraceLeg[] = [];
  const outcomes: TraceOutcome[] = [];
  for (const l of walk.legs) {
    const th = replica.hosts.get(l.host)!;
    const found = lookups[l.index] ?? [];
    const fromLeg = walk.legs.findIndex((x) => x.crossings.some((c) => c.leg === l.index));
    legs.push(
      legOf(
        l,
        th,
        found.map((x) => x.hop),
        fromLeg,
      ),
    );
    outcomes.push(...outcomesOf(l, th, found));
  }
  return { host: host.name, maxHops, notes: start.notes, legs, outcomes };
}

function legOf(l: HostLeg, h: TraceHost, hops: readonly TraceHop[], fromLeg: number): TraceLeg {
  const br = l.bridge === "br-int" ? h.brInt : h.brTun;
  const lines = l.result.text.split("\n");
  const flow = lines[0]!.replace(/^Flow: /, "");
  return {
    index: l.index,
    host: l.host,
    arrival:
      l.arrival === undefined
        ? null
        : {
            from: l.arrival.from,
            fromLeg,
            port: l.arrival.port,
            tunnel: l.arrival.tunnel,
          },
    bridge: l.bridge,
    inPort: l.inPort,
    inPortName: br.port(l.inPort)?.name ?? String(l.inPort),
    flow,
    hops,
    finalFlow: formatFinal(l),
    datapathActions: l.result.datapathActions,
    error: l.result.error,
    text: l.result.text,
  };
}

function formatFinal(l: HostLeg): string {
  const line = l.result.text.split("\n").find((s) => s.startsWith("Final flow: "));
  return line === undefined ? "" : line.slice("Final flow: ".length);
}

function outcomesOf(
  l: HostLeg,
  h: TraceHost,
  lookups: readonly { hop: TraceHop; entry: FlowEntry | null }[],
): TraceOutcome[] {
  const out: TraceOutcome[] = [];
  const r = l.result;
  if (r.error !== null) {
    out.push({ kind: "error", leg: l.index, host: l.host, reason: r.error });
    return out;
  }
  let c = 0;
  for (const o of r.outputs) {
    const edits = frameEdits(l.frame, o.frame);
    const br = o.bridge === "br-int" ? h.brInt : h.brTun;
    const port = br.port(o.port);
    if (port?.spec.kind === "vxlan" && o.tunnel !== null) {
      const x = l.crossings[c++];
      if (x !== undefined) {
        out.push({
          kind: "tunnel",
          leg: l.index,
          host: l.host,
          port: x.port,
          to: x.to ?? null,
          tunnel: x.tunnel,
          status: x.status,
          next: x.leg ?? null,
          edits,
        });
        continue;
      }
    }
    // A patch port's output continues in the peer bridge: not an exit.
    if (port?.spec.kind === "patch") continue;
    out.push({
      kind: "output",
      leg: l.index,
      host: l.host,
      bridge: o.bridge,
      port: o.port,
      portName: port?.name ?? String(o.port),
      vm: o.bridge === "br-int" ? (h.vmPorts.get(o.port)?.name ?? null) : null,
      edits,
    });
  }
  // Copies that went to the controller or were dropped, where it happened:
  // a branch of the walk (one output of NORMAL's flood, say) can end in a drop
  // flow while others are delivered.
  for (const x of lookups) {
    const kind =
      x.entry === null
        ? "drop"
        : hasControllerOutput(x.entry.instructions)
          ? "controller"
          : dropsPacket(x.entry.instructions)
            ? "drop"
            : undefined;
    if (kind === undefined) continue;
    out.push({
      kind,
      leg: l.index,
      host: l.host,
      bridge: x.hop.bridge,
      table: x.hop.table,
      priority: x.hop.priority,
      reason: reasonOf(x.hop.origin),
    });
  }
  if (out.length === 0) {
    const last = lookups[lookups.length - 1];
    out.push({
      kind: "drop",
      leg: l.index,
      host: l.host,
      bridge: last?.hop.bridge ?? l.bridge,
      table: last?.hop.table ?? null,
      priority: last?.hop.priority ?? null,
      reason: last === undefined ? "no table was consulted" : reasonOf(last.hop.origin),
    });
  }
  return out;
}

/** Builds the replica from `snapshot` and traces `req` on it. */
export function traceTopology(snapshot: StoreSnapshot, req: TopologyTraceRequest): TopologyTrace {
  return traceOnReplica(buildTopologyReplica(snapshot), req);
}

/** `198.51.100.11`, for printing tunnel metadata. */
export function ipText(v: number): string {
  return ipv4ToString(v >>> 0);
}
