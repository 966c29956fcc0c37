/**
 * One packet followed from host to host, as `ovn-trace` follows it across
 * chassis: each host is a local copy of its br-int and br-tun (one
 * datapath, joined by the patch pair), the packet is dry-run through
 * it with `traceDetailed`, and every frame the host puts on a VXLAN port is
 * traced on, on the host at the port's far end, as arriving on that host's
 * tunnel port back to the sender, with the tunnel metadata the sender set
 * (tun_id, tun_src, tun_dst): what the receiving switch's VXLAN port puts in
 * the flow key on decapsulation.
 *
 * The far end is found by name, the way the compiler names tunnel ports
 * (`vxlan-<tunnel IP in hex>`, src/dvr/compile/ports.ts): the port to host H
 * on every other host is `tunnelPortName(H.tunnelIp)`. That holds whatever
 * address the port really sends to (the demo remaps the underlay onto
 * loopback; the names stay the topology's).
 *
 * Used by `dvrflow trace --config` (topology-trace.ts, on compiled flows) and
 * by the demo (src/demo/replica.ts, on flows dumped from running switches).
 */
import type { Bridge } from "../../datapath/bridge.js";
import { traceDetailed, type TraceAnnotator, type TraceResult } from "../../datapath/trace.js";
import { tunnelPortName } from "../dvr/compile/ports.js";

/** One host's bridges. */
export interface HostBridges {
  readonly name: string;
  /** The topology's tunnel IP: names the tunnel ports that lead to this host. */
  readonly tunnelIp: number;
  readonly brInt: Bridge;
  readonly brTun: Bridge;
}

/** Tunnel metadata of a frame on (or arriving from) a VXLAN port. */
export interface TunnelMeta {
  readonly tunId: bigint;
  /** Outer source and destination IPv4 (host order). */
  readonly src: number;
  readonly dst: number;
}

/** Where the walk starts. */
export interface WalkStart {
  readonly host: string;
  /** Default the host's br-int. */
  readonly bridge?: Bridge;
  readonly inPort: number;
  readonly frame: Uint8Array;
  /** As if the frame had arrived on a tunnel port. */
  readonly tunnel?: TunnelMeta;
}

/**
 * What became of a frame a host put on a tunnel port:
 * - `followed`: traced on the far host (see {@link TunnelCrossing.leg});
 * - `no_remote_host`: no host of the set is at the port's far end;
 * - `no_port_back`: the far host has no tunnel port to the sender;
 * - `hop_limit`: the walk already crossed `maxHops` tunnels;
 * - `not_followed`: the caller's `follow` filter (or `firstOnly`) left it out.
 */
export type CrossingStatus =
  "followed" | "no_remote_host" | "no_port_back" | "hop_limit" | "not_followed";

export interface TunnelCrossing {
  readonly from: string;
  /** The host at the far end, when there is one. */
  readonly to: string | undefined;
  /** The tunnel port on `from` and its number. */
  readonly port: string;
  readonly portNo: number;
  readonly tunnel: TunnelMeta;
  /** The inner frame as it left (before encapsulation). */
  readonly frame: Uint8Array;
  readonly status: CrossingStatus;
  /** Index in {@link CrossHostTrace.legs} of the trace on `to`, when followed. */
  readonly leg: number | undefined;
}

/** The trace of the packet on one host. */
export interface HostLeg {
  readonly index: number;
  readonly host: string;
  /** Tunnels crossed before this leg (0 on the source host). */
  readonly depth: number;
  /** The bridge the frame entered and its port there. */
  readonly bridge: string;
  readonly inPort: number;
  readonly frame: Uint8Array;
  readonly tunnel: TunnelMeta | undefined;
  /** The crossing that brought the frame here (undefined on the source host). */
  readonly arrival: TunnelCrossing | undefined;
  readonly result: TraceResult;
  /** The frames this host put on tunnel ports, in output order. */
  readonly crossings: readonly TunnelCrossing[];
}

export interface CrossHostTrace {
  /** Breadth first: the source host, then the hosts it reached, in output order. */
  readonly legs: readonly HostLeg[];
}

export interface CrossHostOptions {
  /** Tunnels a packet may cross (the source host is hop 0). */
  readonly maxHops: number;
  /** Which crossings (with a far host) to follow; default all. */
  readonly follow?: (c: Omit<TunnelCrossing, "status" | "leg">) => boolean;
  /** Per host, only the first crossing `follow` accepts (one path, as the demo shows it). */
  readonly firstOnly?: boolean;
  /** Text hooks for each host's trace (e.g. ` @ host`, the flow's origin). */
  readonly annotate?: (host: HostBridges) => TraceAnnotator | undefined;
}

function tunIdOf(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

interface Pending {
  readonly start: WalkStart & { readonly bridge: Bridge };
  readonly depth: number;
  /** The crossing that led here: leg index and position in its crossings. */
  readonly via: { readonly leg: number; readonly i: number } | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Traces `start` and follows it across tunnels (see the file comment). */
export function traceAcrossHosts(
  hosts: ReadonlyMap<string, HostBridges>,
  start: WalkStart,
  options: CrossHostOptions,
): CrossHostTrace {
  const first = hosts.get(start.host);
  if (first === undefined) throw new Error(`unknown host ${start.host}`);
  const byTunnelPort = new Map<string, HostBridges>();
  for (const h of hosts.values()) byTunnelPort.set(tunnelPortName(h.tunnelIp), h);
  const legs: Mutable<HostLeg>[] = [];
  const crossingsOf: Mutable<TunnelCrossing>[][] = [];
  const queue: Pending[] = [
    { start: { ...start, bridge: start.bridge ?? first.brInt }, depth: 0, via: undefined },
  ];
  // Breadth first; a leg is recorded before any leg it leads to is traced.
  for (let q = 0; q < queue.length; q++) {
    const p = queue[q]!;
    const host = hosts.get(p.start.host)!;
    const index = legs.length;
    let arrival: TunnelCrossing | undefined;
    if (p.via !== undefined) {
      const c = crossingsOf[p.via.leg]![p.via.i]!;
      c.leg = index;
      arrival = c;
    }
    const annotate = options.annotate?.(host);
    const result = traceDetailed(p.start.bridge, p.start.frame, p.start.inPort, {
      ...(p.start.tunnel === undefined ? {} : { tunnel: p.start.tunnel }),
      ...(annotate === undefined ? {} : { annotate }),
    });
    const crossings: Mutable<TunnelCrossing>[] = [];
    let taken = false;
    for (const o of result.outputs) {
      if (o.bridge !== host.brTun.name || o.tunnel === null) continue;
      const port = host.brTun.ports.get(o.port);
      if (port === undefined || port.spec.kind !== "vxlan") continue;
      const found = byTunnelPort.get(port.name);
      const remote = found === host ? undefined : found;
      const base = {
        from: host.name,
        to: remote?.name,
        port: port.name,
        portNo: port.no,
        tunnel: {
          tunId: tunIdOf(o.tunnel.tunIdHi, o.tunnel.tunIdLo),
          src: o.tunnel.src >>> 0,
          dst: o.tunnel.dst >>> 0,
        },
        frame: o.frame,
      };
      let status: CrossingStatus;
      let back: number | undefined;
      if (remote === undefined) {
        status = "no_remote_host";
      } else if ((options.firstOnly === true && taken) || !(options.follow?.(base) ?? true)) {
        status = "not_followed";
      } else {
        taken = true;
        back = remote.brTun.portByName(tunnelPortName(host.tunnelIp))?.no;
        if (back === undefined) status = "no_port_back";
        else if (p.depth + 1 > options.maxHops) status = "hop_limit";
        else status = "followed";
      }
      crossings.push({ ...base, status, leg: undefined });
      if (remote !== undefined && back !== undefined && status === "followed") {
        queue.push({
          start: {
            host: remote.name,
            bridge: remote.brTun,
            inPort: back,
            frame: o.frame,
            tunnel: base.tunnel,
          },
          depth: p.depth + 1,
          via: { leg: index, i: crossings.length - 1 },
        });
      }
    }
    crossingsOf.push(crossings);
    legs.push({
      index,
      host: host.name,
      depth: p.depth,
      bridge: p.start.bridge.name,
      inPort: p.start.inPort,
      frame: p.start.frame,
      tunnel: p.start.tunnel,
      arrival,
      result,
      crossings,
    });
  }
  return { legs };
}
