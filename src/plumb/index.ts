/**
 * Host plumbing over OVSDB (issue 5 §2 "Host plumbing"): what Neutron's OVS
 * agent keeps in the vswitch database, derived from the topology.
 *
 * For the controller runtime:
 *
 * ```ts
 * const plan = planFromSnapshot(snapshot, "compute-1", { controller: "tcp:198.51.100.1:6653" });
 * const client = await OvsdbClient.connect(host.ovsdb);
 * const result = await applyPlumbing(client, plan); // result.changes, result.tunnelPorts
 * ```
 */
import type { StoreSnapshot } from "../store/store.js";
import type { HostOfports } from "../dvr/compile/ports.js";
import { indexTopology, type TopologyIndex } from "../topology/indexed.js";
import { OvsdbClient, type OvsdbClientOptions } from "../ovsdb/client.js";
import { applyPlumbing, type ApplyOptions, type PlumbResult } from "./apply.js";
import type { PlumbPlan } from "./model.js";
import { planPlumbing, type PlumbOptions } from "./plan.js";

export * from "./model.js";
export * from "./plan.js";
export { applyPlumbing, tunnelPortsOf, type ApplyOptions, type PlumbResult } from "./apply.js";
export { diffPlumbing, PlumbConflictError, type PlumbDelta } from "./diff.js";
export { readOvsState, resolveState } from "./observe.js";
export type {
  ObservedBridge,
  ObservedController,
  ObservedInterface,
  ObservedPort,
  ObservedState,
} from "./observe.js";
export { mapTunnelPorts, remoteIpFromTunnelName, tunnelPortHost } from "./tunnels.js";
export { renderVsctlScript } from "./vsctl.js";

/** The plan of `host` from a store snapshot (its local VLANs). */
export function planFromSnapshot(
  snapshot: StoreSnapshot,
  host: string,
  options: PlumbOptions = {},
  extra: { index?: TopologyIndex; ofports?: HostOfports } = {},
): PlumbPlan {
  return planPlumbing({
    index: extra.index ?? indexTopology(snapshot.topology),
    host,
    localVlans: snapshot.localVlans.get(host) ?? new Map(),
    options,
    ...(extra.ofports === undefined ? {} : { ofports: extra.ofports }),
  });
}

/** Connect, apply, close: one-shot plumbing of a host at `remote`. */
export async function plumbRemote(
  remote: string,
  plan: PlumbPlan,
  options: ApplyOptions & OvsdbClientOptions = {},
): Promise<PlumbResult> {
  const client = await OvsdbClient.connect(remote, options);
  try {
    return await applyPlumbing(client, plan, options);
  } finally {
    await client.close();
  }
}
export { PlumbKeeper, type KeeperOptions, type KeeperStatus } from "./keeper.js";
