/**
 * What a topology change would do, computed without doing it (the API's
 * `?dry_run=true`, ecosystem.md §4.3: "`dry_run` returns the per-host flow
 * diff").
 *
 * The pieces here are pure; {@link Controller.dryRun} gathers the inputs
 * (the current compile, the switches' port numbers, live dumps) and puts
 * the report together:
 *
 * - the proposed document's allocations (DVR MACs of new hosts, local VLANs
 *   of networks new on a host) are made on a throwaway in-memory store
 *   seeded with the real store's allocations, as `dvrflow compile --store`
 *   does (dvr/offline.ts), so the real store is never written;
 * - per host and bridge, the desired flows under the proposal against the
 *   desired flows now (`desired`), and against what the switch has (`switch`:
 *   what reconciliation would send, from a live dump), in `ovs-ofctl` text.
 */
import { formatFlow } from "../../codec/text/index.js";
import type { DesiredFlow } from "../dvr/flow.js";
import { formatDesiredFlow } from "../dvr/flow.js";
import type { BridgeName } from "../dvr/tables.js";
import { seededRandomBytes } from "../store/mac-alloc.js";
import { SqliteStore } from "../store/sqlite.js";
import type { StoreSnapshot } from "../store/store.js";
import { routersOnHost, type TopologyIndex } from "../topology/indexed.js";
import type { Topology } from "../topology/schema.js";
import { sameInstructions, type FlowDiff } from "./reconcile.js";

export interface FlowCounts {
  readonly add: number;
  readonly modify: number;
  readonly delete: number;
  readonly unchanged: number;
}

/** Flow changes in `ovs-ofctl` text: adds and modifies as sent (`add-flow`), deletes as installed. */
export interface FlowChangeText {
  readonly add: readonly string[];
  readonly modify: readonly string[];
  readonly delete: readonly string[];
  readonly counts: FlowCounts;
}

/** What reconciling the bridge to the proposal would send. */
export type SwitchPreview =
  /** From a live dump of the bridge. */
  | ({ readonly status: "diff" } & FlowChangeText)
  /**
   * The bridge is synced, nothing happened to it since, and its flows are
   * the same under the proposal: the commit would mark it synced without a
   * dump and send nothing (controller.ts, skipping unchanged bridges).
   */
  | { readonly status: "unchanged" }
  | { readonly status: "not_connected" }
  /** The bridge leaves the topology: its connection is closed, nothing is sent (its flows stay). */
  | { readonly status: "removed" }
  /** The dump failed: as in reconciliation, nothing is known and nothing would be sent. */
  | { readonly status: "unknown"; readonly reason: string };

export interface BridgeDryRun {
  readonly connected: boolean;
  /**
   * Port numbers the flows were compiled with: the switch's (connected), or
   * `dvrflow plumb`'s numbering (`offline`, what `dvrflow compile` prints).
   */
  readonly ofports: "switch" | "offline";
  readonly desired: FlowChangeText;
  readonly switch: SwitchPreview;
  /** Topology ports the switch has not reported: their flows come when it does. */
  readonly waiting_for_ports?: readonly string[];
}

export type HostChange = "added" | "removed" | "changed" | "unchanged";

export interface HostDryRun {
  readonly status: HostChange;
  readonly bridges: Record<BridgeName, BridgeDryRun>;
}

export interface RouterPlacementChange {
  /** Routers the host would start carrying. */
  readonly added: readonly string[];
  /** Routers it would stop carrying. */
  readonly removed: readonly string[];
}

export interface DryRunReport {
  readonly dry_run: true;
  readonly valid: true;
  /** The generation in force (a dry run commits nothing). */
  readonly generation: number;
  /** The proposal differs from the document in force. */
  readonly changed: boolean;
  /**
   * Allocations the commit would make. Local VLANs are numbered as the store
   * would; a DVR MAC drawn at random (a new host without `dvr_mac`) is only
   * an example of what the real draw gives.
   */
  readonly allocations: {
    readonly dvr_macs: Record<string, string>;
    readonly local_vlans: Record<string, Record<string, number>>;
  };
  /** Hosts whose set of routers changes. */
  readonly router_placement: Record<string, RouterPlacementChange>;
  /** Hosts with a change in desired flows or on the switch (others in `unchanged_hosts`). */
  readonly hosts: Record<string, HostDryRun>;
  readonly unchanged_hosts: readonly string[];
  readonly totals: {
    readonly desired: Omit<FlowCounts, "unchanged">;
    readonly switch: Omit<FlowCounts, "unchanged">;
  };
}

/**
 * The store snapshot `topology` would commit to, made on a throwaway
 * in-memory store holding `current`'s allocations. Throws what a commit
 * throws (TopologyError, HostMacAllocationError, LocalVlanExhaustedError).
 */
export async function scratchSnapshot(
  current: StoreSnapshot,
  topology: Topology,
): Promise<StoreSnapshot> {
  const scratch = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
  try {
    scratch.importAllocations(current);
    return await scratch.commit(topology);
  } finally {
    await scratch.close();
  }
}

/** Desired now vs desired under the proposal, by flow identity, as reconciliation would compare them. */
export function diffDesired(
  current: readonly DesiredFlow[],
  proposed: readonly DesiredFlow[],
): FlowChangeText {
  const before = new Map<string, DesiredFlow>();
  for (const f of current) before.set(f.key, f);
  const add: string[] = [];
  const modify: string[] = [];
  let unchanged = 0;
  const kept = new Set<string>();
  for (const f of proposed) {
    kept.add(f.key);
    const was = before.get(f.key);
    if (was === undefined) add.push(formatDesiredFlow(f));
    else if (was.cookie !== f.cookie || !sameInstructions(was.instructions, f.instructions)) {
      modify.push(formatDesiredFlow(f));
    } else unchanged++;
  }
  const del: string[] = [];
  for (const [key, f] of before) if (!kept.has(key)) del.push(formatDesiredFlow(f));
  return changeText(add, modify, del, unchanged);
}

/** Reconciliation's diff (desired vs a live dump) as text. */
export function flowDiffText(d: FlowDiff): FlowChangeText {
  return changeText(
    d.add.map(formatDesiredFlow),
    d.modify.map(formatDesiredFlow),
    d.delete.map((f) => formatFlow(f, { stats: false })),
    d.unchanged,
  );
}

function changeText(
  add: string[],
  modify: string[],
  del: string[],
  unchanged: number,
): FlowChangeText {
  return {
    add,
    modify,
    delete: del,
    counts: { add: add.length, modify: modify.length, delete: del.length, unchanged },
  };
}

export function isEmptyChange(c: FlowChangeText): boolean {
  return c.counts.add + c.counts.modify + c.counts.delete === 0;
}

/** Routers placed on `host` (sorted); none when the host is not in the topology. */
export function routersOf(index: TopologyIndex, host: string): string[] {
  if (index.host(host) === undefined) return [];
  return routersOnHost(index, host)
    .map((r) => r.name)
    .sort();
}

export function placementChange(
  before: readonly string[],
  after: readonly string[],
): RouterPlacementChange | undefined {
  const added = after.filter((r) => !before.includes(r));
  const removed = before.filter((r) => !after.includes(r));
  return added.length + removed.length === 0 ? undefined : { added, removed };
}

/** Allocations in `after` that `before` does not have (or has with another value). */
export function newAllocations(
  before: StoreSnapshot,
  after: StoreSnapshot,
): DryRunReport["allocations"] {
  const dvr_macs: Record<string, string> = {};
  for (const [h, mac] of after.hostMacs) if (before.hostMacs.get(h) !== mac) dvr_macs[h] = mac;
  const local_vlans: Record<string, Record<string, number>> = {};
  for (const [h, nets] of after.localVlans) {
    for (const [n, vlan] of nets) {
      if (before.localVlans.get(h)?.get(n) !== vlan) (local_vlans[h] ??= {})[n] = vlan;
    }
  }
  return { dvr_macs, local_vlans };
}
