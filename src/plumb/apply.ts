/**
 * The reconciler: read the host's OVSDB, diff against the plan, apply the
 * difference as one transaction. Idempotent: a second run finds nothing to
 * do and sends no transaction at all.
 *
 * Between the read and the write another client may change the database
 * (ovs-vsctl, Nova). Map edits are mutations and survive that; a clash the
 * server rejects (e.g. someone created the same bridge meanwhile: the
 * Bridge name index) fails the whole transaction, which is then re-read,
 * re-diffed and retried.
 */
import type { OvsdbClient } from "../ovsdb/client.js";
import { OvsdbTransactionError } from "../ovsdb/errors.js";
import { diffPlumbing } from "./diff.js";
import { VSWITCH_DB, type PlumbChange, type PlumbPlan } from "./model.js";
import { readOvsState, type ObservedState } from "./observe.js";
import { mapTunnelPorts } from "./tunnels.js";

export interface ApplyOptions {
  /** Compute and report the changes without writing (default false). */
  readonly dryRun?: boolean;
  /** Further attempts after a rejected transaction (default 2). */
  readonly retries?: number;
}

export interface PlumbResult {
  readonly host: string;
  /** What differed (and, unless dryRun, was changed). Empty = already in place. */
  readonly changes: readonly PlumbChange[];
  /** True when a transaction was committed. */
  readonly applied: boolean;
  /** Operations in the committed (or, dry run, planned) transaction. */
  readonly operations: number;
  /** The state after the change (before it, for a dry run). */
  readonly state: ObservedState;
  /** Tunnel ports on the plan's tunnel bridge → the host each leads to (for the controller). */
  readonly tunnelPorts: ReadonlyMap<string, string>;
  /** Steps outside OVSDB the operator still has to take (underlay IP). */
  readonly hostCommands: readonly string[];
  readonly notes: readonly string[];
}

export async function applyPlumbing(
  client: OvsdbClient,
  plan: PlumbPlan,
  options: ApplyOptions = {},
): Promise<PlumbResult> {
  const retries = options.retries ?? 2;
  for (let attempt = 0; ; attempt++) {
    const before = await readOvsState(client);
    const delta = diffPlumbing(plan, before);
    const result = (state: ObservedState, applied: boolean): PlumbResult => ({
      host: plan.host,
      changes: delta.changes,
      applied,
      operations: delta.operations.length,
      state,
      tunnelPorts: tunnelPortsOf(plan, state),
      hostCommands: plan.hostCommands,
      notes: plan.notes,
    });
    if (delta.operations.length === 0 || options.dryRun === true) return result(before, false);
    try {
      await client.transact(VSWITCH_DB, delta.operations);
    } catch (e) {
      if (e instanceof OvsdbTransactionError && attempt < retries) continue;
      throw e;
    }
    return result(await readOvsState(client), true);
  }
}

/** Tunnel port name → host, on every bridge of the plan that prunes tunnels (br-tun). */
export function tunnelPortsOf(plan: PlumbPlan, state: ObservedState): Map<string, string> {
  const ports = [];
  for (const d of plan.bridges) {
    if (!d.pruneTunnels) continue;
    for (const p of state.bridges.get(d.name)?.ports ?? []) {
      const iface = p.interfaces[0];
      ports.push({ name: p.name, ...(iface === undefined ? {} : { options: iface.options }) });
    }
  }
  return mapTunnelPorts(ports, plan.hostsByTunnelIp);
}
