/**
 * Explaining a packet's path: for each host, a local copy of its two bridges
 * (built from the same switch config the child process runs, holding the
 * flows dumped from that process over its passive OpenFlow endpoint, as
 * `dvrflow trace --switch` does), and an `ofproto/trace`-style dry run of
 * the exact frame a simulated VM sent. A frame the source host puts on a
 * tunnel is traced on, on the destination host's copy, as arriving on its
 * tunnel port from the source (tun_id, tun_src, tun_dst), as ovn-trace
 * follows a packet across chassis: the walk is src/trace/cross-host.ts's,
 * shared with `dvrflow trace --config`.
 *
 * The trace is the explanation; the verdict comes from the real packets
 * (what the VMs received, what the tunnel ports sent). The demo prints the
 * two side by side, and they agree unless something is broken.
 */
import type { Bridge } from "../../datapath/bridge.js";
import { Datapath } from "../../datapath/datapath.js";
import { buildBridges, loadSwitchConfig } from "../../datapath/agent/config.js";
import { addDumpedFlows, dumpSwitch } from "../../datapath/agent/snapshot.js";
import type { TraceResult } from "../../datapath/trace.js";
import { traceAcrossHosts, type HostBridges } from "../trace/cross-host.js";
import { readFrame, type ParsedFrame } from "./frames.js";
import type { DemoHost } from "./plan.js";

export interface HostReplica {
  readonly host: DemoHost;
  readonly brInt: Bridge;
  readonly brTun: Bridge;
  readonly flows: { readonly "br-int": number; readonly "br-tun": number };
}

/** A copy of `host`'s bridges with the flows its switch process holds now. */
export async function buildReplica(
  host: DemoHost,
  configFile: string,
  listenPorts: { readonly "br-int": number; readonly "br-tun": number },
): Promise<HostReplica> {
  const cfg = loadSwitchConfig(configFile);
  const dp = new Datapath({ cache: false });
  const bridges = buildBridges(cfg, dp);
  const brInt = bridges.get("br-int")!;
  const brTun = bridges.get("br-tun")!;
  const [di, dt] = await Promise.all([
    dumpSwitch({ kind: "tcp", host: "127.0.0.1", port: listenPorts["br-int"] }),
    dumpSwitch({ kind: "tcp", host: "127.0.0.1", port: listenPorts["br-tun"] }),
  ]);
  addDumpedFlows(brInt, di.flows);
  addDumpedFlows(brTun, dt.flows);
  return { host, brInt, brTun, flows: { "br-int": di.flows.length, "br-tun": dt.flows.length } };
}

/** The tables one bridge of one host used, in order. */
export interface BridgeHops {
  readonly bridge: string;
  readonly tables: readonly { readonly table: number; readonly hit: boolean }[];
}

export interface HostSegment {
  readonly host: string;
  readonly hops: readonly BridgeHops[];
  /** The frame as it entered this host's tables. */
  readonly input: ParsedFrame;
  readonly trace: TraceResult;
}

export interface TunnelHop {
  readonly from: string;
  readonly to: string;
  readonly port: string;
  readonly vni: number;
  /** The inner frame as it left (before encapsulation). */
  readonly inner: ParsedFrame;
}

export interface LocalDelivery {
  readonly host: string;
  readonly port: number;
  readonly portName: string;
  readonly frame: ParsedFrame;
}

export interface PathTrace {
  readonly segments: readonly HostSegment[];
  readonly tunnel: TunnelHop | undefined;
  /** br-int outputs to VM ports (the frame's last form), on whichever host. */
  readonly deliveries: readonly LocalDelivery[];
  /** Sent to the controller somewhere on the way. */
  readonly toController: boolean;
  /** Table lookups in all. */
  readonly hops: number;
}

function hopsOf(t: TraceResult): BridgeHops[] {
  const out: { bridge: string; tables: { table: number; hit: boolean }[] }[] = [];
  for (const x of t.tables) {
    const last = out[out.length - 1];
    if (last !== undefined && last.bridge === x.bridge) last.tables.push(x);
    else out.push({ bridge: x.bridge, tables: [{ table: x.table, hit: x.hit }] });
  }
  return out;
}

function deliveriesOf(r: HostReplica, t: TraceResult): LocalDelivery[] {
  const out: LocalDelivery[] = [];
  for (const o of t.outputs) {
    if (o.bridge !== "br-int") continue;
    const p = r.brInt.ports.get(o.port);
    // VM ports only: not the patch port, nor the bridge's LOCAL port (NORMAL floods there too).
    if (p === undefined || p.spec.kind === "patch" || p.spec.kind === "internal") continue;
    const f = readFrame(o.frame);
    if (f !== undefined) out.push({ host: r.host.name, port: o.port, portName: p.name, frame: f });
  }
  return out;
}

/**
 * Traces `frame` from VM port `inPort` of `src`; when it leaves on a tunnel
 * to `towards` (or, without `towards`, on the first tunnel), follows it there
 * (src/trace/cross-host.ts walks the hosts).
 */
export function tracePath(
  replicas: ReadonlyMap<string, HostReplica>,
  src: string,
  inPort: number,
  frame: Uint8Array,
  towards: string | undefined,
): PathTrace {
  const hosts = new Map<string, HostBridges>();
  for (const [name, r] of replicas) {
    hosts.set(name, { name, tunnelIp: r.host.tunnelIp, brInt: r.brInt, brTun: r.brTun });
  }
  const walk = traceAcrossHosts(
    hosts,
    { host: src, inPort, frame },
    {
      maxHops: 1,
      firstOnly: true,
      follow: (c) =>
        (towards === undefined || c.to === towards) && readFrame(c.frame) !== undefined,
    },
  );
  const segments: HostSegment[] = walk.legs.map((l) => ({
    host: l.host,
    hops: hopsOf(l.result),
    input: readFrame(l.frame)!,
    trace: l.result,
  }));
  const deliveries = walk.legs.flatMap((l) => deliveriesOf(replicas.get(l.host)!, l.result));
  const toController = walk.legs.some((l) => l.result.datapathActions.includes("controller("));
  const crossing = walk.legs[0]!.crossings.find(
    (c) => c.status === "followed" || c.status === "no_port_back" || c.status === "hop_limit",
  );
  const tunnel: TunnelHop | undefined =
    crossing === undefined
      ? undefined
      : {
          from: src,
          to: crossing.to!,
          port: crossing.port,
          vni: Number(crossing.tunnel.tunId & 0xffffffffn),
          inner: readFrame(crossing.frame)!,
        };
  const hops = segments.reduce((n, s) => n + s.hops.reduce((m, b) => m + b.tables.length, 0), 0);
  return { segments, tunnel, deliveries, toController, hops };
}
