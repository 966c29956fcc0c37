/**
 * Every host of a topology as the compiler sees it, built into our userspace
 * switch for tracing: per host one datapath with br-int and br-tun joined by
 * the patch pair (`patch-tun` ↔ `patch-int`), a VM port per topology port on
 * the host (named by its interface, at the compiler's ofport, with its
 * network's local VLAN as access tag, as Neutron's agent sets Port.tag over
 * OVSDB: NORMAL needs it, dvr-pipeline.md §0.2), and one VXLAN port per
 * remote host (`vxlan-<hex IP>`, remote_ip the peer's tunnel IP, local_ip
 * ours, key=flow), loaded with exactly the flows `dvrflow compile` prints.
 *
 * Each loaded flow is remembered with the topology object that produced it
 * ({@link FlowOrigin}), looked up by (bridge, table, priority, match), the
 * flow's identity on a switch: several flows share one object's cookie with
 * different roles, so the cookie alone (ovn-detrace's key) names the object
 * but not what the flow does. It is the fallback for flows we did not
 * compile (tables.ts `intentOf`).
 */
import { formatMatch } from "../../codec/text/flow.js";
import type { Match } from "../../codec/oxm.js";
import { Datapath } from "../../datapath/datapath.js";
import type { FlowEntry } from "../../datapath/flow-entry.js";
import {
  compileAll,
  defaultOfports,
  PATCH_INT,
  PATCH_TUN,
  tunnelPortName,
  type HostFlows,
  type HostOfports,
} from "../dvr/compile/index.js";
import { toFlowMod, type DesiredFlow, type FlowOrigin } from "../dvr/flow.js";
import { compileInputFromSnapshot } from "../dvr/offline.js";
import { BRIDGE_NAMES, intentOf, isLearned, isOurs, type BridgeName } from "../dvr/tables.js";
import type { StoreSnapshot } from "../store/store.js";
import type { IndexedPort, TopologyIndex } from "../topology/indexed.js";
import type { HostBridges } from "./cross-host.js";

/** One host's bridges, with what the trace needs to name things. */
export interface TraceHost extends HostBridges {
  readonly dvrMac: number;
  readonly flows: HostFlows;
  /** br-int port number → the topology port plugged there. */
  readonly vmPorts: ReadonlyMap<number, IndexedPort>;
  /** The flow behind `entry` of `bridge`, when it is one we compiled. */
  readonly flowOf: (bridge: BridgeName, entry: FlowEntry) => DesiredFlow | undefined;
}

export interface TopologyReplica {
  readonly index: TopologyIndex;
  readonly cookiePrefix: number;
  /** In host-name order. */
  readonly hosts: ReadonlyMap<string, TraceHost>;
}

export interface ReplicaOptions {
  /** Switch port numbers per host (default: the offline numbering, `defaultOfports`). */
  readonly ofports?: ReadonlyMap<string, HostOfports>;
}

/** What an origin is looked up by: the flow's identity on the switch. */
function flowIdentity(table: number, priority: number, match: Match): string {
  return `${table}/${priority}/${formatMatch(match)}`;
}

/** Builds the replica of every host of `snapshot`'s topology. */
export function buildTopologyReplica(
  snapshot: StoreSnapshot,
  options: ReplicaOptions = {},
): TopologyReplica {
  const input = compileInputFromSnapshot(snapshot, options.ofports);
  const index = input.index;
  const all = compileAll(input);
  const hosts = new Map<string, TraceHost>();
  for (const flows of all) {
    const h = index.host(flows.host)!;
    const ofports = options.ofports?.get(h.name) ?? defaultOfports(index, h.name);
    const lvs = snapshot.localVlans.get(h.name) ?? new Map<string, number>();
    const dp = new Datapath({ cache: false });
    const brInt = dp.addBridge({ name: "br-int", datapathId: h.brIntDpid });
    const brTun = dp.addBridge({ name: "br-tun", datapathId: h.brTunDpid });
    const vmPorts = new Map<number, IndexedPort>();
    const byInterface = new Map(
      (index.portsByHost.get(h.name) ?? []).map((p) => [p.interfaceName, p]),
    );
    for (const [name, no] of [...ofports["br-int"]].sort((a, b) => a[1] - b[1])) {
      if (name === PATCH_TUN) {
        brInt.addPort({
          kind: "patch",
          name,
          ofport: no,
          peerBridge: "br-tun",
          peerPort: PATCH_INT,
        });
        continue;
      }
      const vm = byInterface.get(name);
      const tag = vm === undefined ? undefined : lvs.get(vm.network);
      brInt.addPort({ kind: "sink", name, ofport: no, ...(tag === undefined ? {} : { tag }) });
      if (vm !== undefined) vmPorts.set(no, vm);
    }
    const peerByPort = new Map(index.hosts.map((p) => [tunnelPortName(p.tunnelIp), p]));
    for (const [name, no] of [...ofports["br-tun"]].sort((a, b) => a[1] - b[1])) {
      if (name === PATCH_INT) {
        brTun.addPort({
          kind: "patch",
          name,
          ofport: no,
          peerBridge: "br-int",
          peerPort: PATCH_TUN,
        });
        continue;
      }
      const peer = peerByPort.get(name);
      if (peer === undefined || peer.name === h.name) {
        brTun.addPort({ kind: "sink", name, ofport: no });
        continue;
      }
      brTun.addPort({
        kind: "vxlan",
        name,
        ofport: no,
        remoteIp: peer.tunnelIp,
        localIp: h.tunnelIp,
        key: "flow",
      });
    }
    dp.linkPatches();
    const identities = new Map<BridgeName, Map<string, DesiredFlow>>();
    for (const b of BRIDGE_NAMES) {
      const br = b === "br-int" ? brInt : brTun;
      const ids = new Map<string, DesiredFlow>();
      for (const f of flows.bridges[b]) {
        br.flowMod(toFlowMod(f), 0);
        ids.set(flowIdentity(f.table.id, f.priority, f.match), f);
      }
      identities.set(b, ids);
    }
    hosts.set(h.name, {
      name: h.name,
      tunnelIp: h.tunnelIp,
      brInt,
      brTun,
      dvrMac: flows.dvrMac,
      flows,
      vmPorts,
      flowOf: (bridge, entry) =>
        identities.get(bridge)?.get(flowIdentity(entry.tableId, entry.priority, entry.match)),
    });
  }
  return { index, cookiePrefix: index.topology.controller.cookie_prefix, hosts };
}

/**
 * The origin of a flow hit on `host`'s `bridge`: the compiled flow's, or,
 * for a flow we did not compile (a learned one), what its cookie says.
 */
export function originOf(
  replica: TopologyReplica,
  host: TraceHost,
  bridge: BridgeName,
  entry: FlowEntry,
): FlowOrigin | undefined {
  const f = host.flowOf(bridge, entry);
  if (f !== undefined) return f.origin;
  if (isLearned(entry.cookie, replica.cookiePrefix)) {
    return { kind: "learned", object: "learned", role: "T8 learned from a tunnel (learn action)" };
  }
  const kind = isOurs(entry.cookie, replica.cookiePrefix) ? intentOf(entry.cookie) : undefined;
  if (kind === undefined) return undefined;
  return {
    kind,
    object: `cookie 0x${entry.cookie.toString(16)}`,
    role: `a ${kind} flow not in the compiled tables`,
  };
}
