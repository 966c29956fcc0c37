/**
 * Plan vs OVSDB: the changes needed and the operations of the one
 * `transact` that makes them. Pure (no I/O), so every rule is testable on
 * literal states.
 *
 * Rules:
 * - Scalars and sets dvrflow owns are written with `update`; maps
 *   (other_config, external_ids) with `mutate` delete-then-insert of just
 *   our keys, so keys set by others survive and no read-modify-write race
 *   loses them. Interface.options of patch and tunnel ports is ours whole.
 * - Ports are added and removed with `mutate` on Bridge.ports; the Port and
 *   Interface rows of a removed port are garbage-collected by the server
 *   (they are not root rows).
 * - Controllers: a bridge that already has the target keeps its row (extra
 *   rows are removed); one with another target has that row's target
 *   updated in place; none is inserted only where none exists. The set is
 *   never made empty, and never emptied then refilled, since OVS flushes the
 *   flows of a bridge whose controller set goes empty ↔ non-empty
 *   (dvr-pipeline.md §7 item 6).
 * - Tunnel ports are identified by options:remote_ip (then by name); one to
 *   a desired host under another name is replaced by the canonical one (OVS
 *   would refuse two ports with the same remote_ip and key anyway).
 * - A desired port that exists on another bridge is moved when dvrflow owns
 *   it, and is a conflict otherwise: nothing is applied.
 */
import {
  namedUuid,
  ovsSet,
  ovsStringMap,
  uuid,
  type OvsdbAtom,
  type OvsdbValue,
} from "../ovsdb/datum.js";
import { byUuid, type Mutation, type Operation } from "../ovsdb/operations.js";
import {
  EXTERNAL_ID,
  EXTERNAL_ID_PREFIX,
  TUNNEL_TYPES,
  type DesiredBridge,
  type DesiredPort,
  type PlumbChange,
  type PlumbPlan,
} from "./model.js";
import type { ObservedBridge, ObservedPort, ObservedState } from "./observe.js";
import { tunnelPortHost } from "./tunnels.js";

export interface PlumbDelta {
  readonly changes: readonly PlumbChange[];
  /** Empty when nothing is to change. */
  readonly operations: readonly Operation[];
}

/** The plan cannot be applied without taking something dvrflow does not own. */
export class PlumbConflictError extends Error {
  constructor(readonly conflicts: readonly string[]) {
    super(`plumbing conflicts: ${conflicts.join("; ")}`);
    this.name = "PlumbConflictError";
  }
}

const NONE = "(none)";
const EMPTY_SET = ovsSet([]);

function formatMap(m: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string {
  const entries = m instanceof Map ? [...m.entries()] : Object.entries(m);
  return `{${entries
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}}`;
}

function mapEquals(a: ReadonlyMap<string, string>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(b);
  return a.size === keys.length && keys.every((k) => a.get(k) === b[k]);
}

/** A table/row-targeted set of edits to one map column. */
interface MapEdit {
  readonly column: string;
  readonly set: [string, string][];
  readonly remove: string[];
}

function mapMutations(e: MapEdit): Mutation[] {
  const keys = [...e.set.map(([k]) => k), ...e.remove];
  const out: Mutation[] = [];
  // Map "insert" ignores keys already present (RFC 7047 §5.1), so changed
  // keys are deleted first, in the same mutate.
  if (keys.length > 0) out.push([e.column, "delete", ovsSet(keys)]);
  if (e.set.length > 0) out.push([e.column, "insert", ["map", e.set]]);
  return out;
}

/** Differences of our keys in a merged map column. */
function mergeEdit(
  column: string,
  observed: ReadonlyMap<string, string>,
  desired: Readonly<Record<string, string>>,
  ownedPrefix: string | undefined,
): MapEdit {
  const set: [string, string][] = [];
  const remove: string[] = [];
  for (const [k, v] of Object.entries(desired).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (observed.get(k) !== v) set.push([k, v]);
  }
  if (ownedPrefix !== undefined) {
    for (const k of [...observed.keys()].sort()) {
      if (k.startsWith(ownedPrefix) && !(k in desired)) remove.push(k);
    }
  }
  return { column, set, remove };
}

class DeltaBuilder {
  readonly ops: Operation[] = [];
  readonly changes: PlumbChange[] = [];
  readonly conflicts: string[] = [];
  private n = 0;
  private readonly deleted = new Set<string>();

  constructor(
    private readonly plan: PlumbPlan,
    private readonly state: ObservedState,
  ) {}

  private name(): string {
    return `row${++this.n}`;
  }

  /** Inserts the Interface and Port rows of `p`; returns the Port's named uuid. */
  insertPort(p: DesiredPort): string {
    const iface = this.name();
    const ifaceRow: Record<string, OvsdbValue> = { name: p.name, type: p.iface.type ?? "" };
    if (p.iface.options !== undefined) ifaceRow.options = ovsStringMap(p.iface.options);
    if (p.iface.ofportRequest !== undefined) ifaceRow.ofport_request = p.iface.ofportRequest;
    if (p.iface.mtuRequest !== undefined) ifaceRow.mtu_request = p.iface.mtuRequest;
    if (Object.keys(p.iface.externalIds).length > 0)
      ifaceRow.external_ids = ovsStringMap(p.iface.externalIds);
    this.ops.push({ op: "insert", table: "Interface", row: ifaceRow, "uuid-name": iface });
    const port = this.name();
    const portRow: Record<string, OvsdbValue> = {
      name: p.name,
      interfaces: ovsSet([namedUuid(iface)]),
      external_ids: ovsStringMap(p.externalIds),
    };
    if (p.tag !== undefined) portRow.tag = p.tag;
    this.ops.push({ op: "insert", table: "Port", row: portRow, "uuid-name": port });
    return port;
  }

  addBridge(d: DesiredBridge): string {
    this.changes.push({ kind: "add-bridge", bridge: d.name });
    // ovs-vsctl add-br's shape: the bridge's local port, an internal interface of the same name.
    const localIface = this.name();
    this.ops.push({
      op: "insert",
      table: "Interface",
      row: { name: d.name, type: "internal" },
      "uuid-name": localIface,
    });
    const localPort = this.name();
    this.ops.push({
      op: "insert",
      table: "Port",
      row: { name: d.name, interfaces: ovsSet([namedUuid(localIface)]) },
      "uuid-name": localPort,
    });
    const ports: OvsdbAtom[] = [namedUuid(localPort)];
    for (const p of d.ports) {
      if (this.takeFromElsewhere(p, d.name)) {
        ports.push(namedUuid(this.insertPort(p)));
        this.changes.push({ kind: "add-port", bridge: d.name, port: p.name, role: p.role.kind });
      }
    }
    const row: Record<string, OvsdbValue> = {
      name: d.name,
      ports: ovsSet(ports),
      other_config: ovsStringMap(d.otherConfig),
    };
    if (d.datapathType !== undefined) row.datapath_type = d.datapathType;
    if (d.failMode !== undefined) row.fail_mode = d.failMode;
    if (d.protocols !== undefined) row.protocols = ovsSet([...d.protocols]);
    if (d.controller !== undefined) {
      const c = this.name();
      this.ops.push({
        op: "insert",
        table: "Controller",
        row: { target: d.controller },
        "uuid-name": c,
      });
      row.controller = ovsSet([namedUuid(c)]);
      this.changes.push({ kind: "set-controller", bridge: d.name, from: [], to: d.controller });
    }
    const b = this.name();
    this.ops.push({ op: "insert", table: "Bridge", row, "uuid-name": b });
    return b;
  }

  /**
   * Clears the way for desired port `p` on bridge `bridge` when a port of
   * that name sits on another bridge. False when it cannot be taken.
   */
  private takeFromElsewhere(p: DesiredPort, bridge: string): boolean {
    for (const other of this.state.bridges.values()) {
      if (other.name === bridge) continue;
      const o = other.ports.find((x) => x.name === p.name);
      if (o === undefined) continue;
      if (o.externalIds.get(EXTERNAL_ID.role) === undefined) {
        this.conflicts.push(
          `port ${p.name} is on bridge ${other.name}, not created by dvrflow (wanted on ${bridge})`,
        );
        return false;
      }
      this.deletePort(other, o, `moved to ${bridge}`);
    }
    return true;
  }

  deletePort(b: ObservedBridge, o: ObservedPort, reason: string): void {
    if (this.deleted.has(o.uuid)) return;
    this.deleted.add(o.uuid);
    this.ops.push({
      op: "mutate",
      table: "Bridge",
      where: byUuid(b.uuid),
      mutations: [["ports", "delete", ovsSet([uuid(o.uuid)])]],
    });
    this.changes.push({ kind: "delete-port", bridge: b.name, port: o.name, reason });
  }

  updateBridge(d: DesiredBridge, b: ObservedBridge): void {
    const row: Record<string, OvsdbValue> = {};
    const set = (column: string, from: string, to: string, value: OvsdbValue): void => {
      row[column] = value;
      this.changes.push({ kind: "set-bridge", bridge: d.name, column, from, to });
    };
    if (d.datapathType !== undefined && b.datapathType !== d.datapathType) {
      set("datapath_type", b.datapathType || NONE, d.datapathType, d.datapathType);
    }
    if (d.failMode !== undefined && b.failMode !== d.failMode) {
      set("fail_mode", b.failMode ?? NONE, d.failMode, d.failMode);
    }
    if (d.protocols !== undefined) {
      const want = [...d.protocols].sort();
      if (want.join(",") !== b.protocols.join(",")) {
        set("protocols", `[${b.protocols.join(",")}]`, `[${want.join(",")}]`, ovsSet(want));
      }
    }
    const mutations: Mutation[] = [];
    const oc = mergeEdit("other_config", b.otherConfig, d.otherConfig, undefined);
    for (const [k, v] of oc.set) {
      this.changes.push({
        kind: "set-bridge",
        bridge: d.name,
        column: `other_config:${k}`,
        from: b.otherConfig.get(k) ?? NONE,
        to: v,
      });
    }
    mutations.push(...mapMutations(oc));
    if (Object.keys(row).length > 0) {
      this.ops.push({ op: "update", table: "Bridge", where: byUuid(b.uuid), row });
    }
    if (mutations.length > 0) {
      this.ops.push({ op: "mutate", table: "Bridge", where: byUuid(b.uuid), mutations });
    }
    this.updateController(d, b);
    this.updatePorts(d, b);
  }

  private updateController(d: DesiredBridge, b: ObservedBridge): void {
    const target = d.controller;
    if (target === undefined) return;
    const obs = b.controllers;
    if (obs.length === 1 && obs[0]!.target === target) return;
    const keep = obs.find((c) => c.target === target);
    const dropFromBridge: string[] = [];
    if (keep !== undefined) {
      for (const c of obs) if (c !== keep) dropFromBridge.push(c.uuid);
    } else if (obs.length > 0) {
      // Retarget in place: the bridge never has an empty controller set.
      this.ops.push({
        op: "update",
        table: "Controller",
        where: byUuid(obs[0]!.uuid),
        row: { target },
      });
      for (const c of obs.slice(1)) dropFromBridge.push(c.uuid);
    } else {
      const c = this.name();
      this.ops.push({ op: "insert", table: "Controller", row: { target }, "uuid-name": c });
      this.ops.push({
        op: "mutate",
        table: "Bridge",
        where: byUuid(b.uuid),
        mutations: [["controller", "insert", ovsSet([namedUuid(c)])]],
      });
    }
    if (dropFromBridge.length > 0) {
      this.ops.push({
        op: "mutate",
        table: "Bridge",
        where: byUuid(b.uuid),
        mutations: [["controller", "delete", ovsSet(dropFromBridge.map((u) => uuid(u)))]],
      });
    }
    this.changes.push({
      kind: "set-controller",
      bridge: d.name,
      from: obs.map((c) => c.target),
      to: target,
    });
  }

  private updatePorts(d: DesiredBridge, b: ObservedBridge): void {
    const observed = new Map(b.ports.map((p) => [p.name, p]));
    const desiredNames = new Set(d.ports.map((p) => p.name));
    const desiredTunnelHosts = new Map<string, string>();
    for (const p of d.ports)
      if (p.role.kind === "tunnel") desiredTunnelHosts.set(p.role.host, p.name);
    // Removals first: a renamed tunnel port must be gone before its
    // replacement with the same remote_ip appears (same transaction).
    for (const o of b.ports) {
      if (desiredNames.has(o.name) || o.name === b.name) continue;
      const isTunnel = o.interfaces.some((i) => TUNNEL_TYPES.has(i.type));
      if (d.pruneTunnels && isTunnel) {
        const iface = o.interfaces[0];
        const host = tunnelPortHost(
          { name: o.name, ...(iface === undefined ? {} : { options: iface.options }) },
          this.plan.hostsByTunnelIp,
        );
        const canonical = host === undefined ? undefined : desiredTunnelHosts.get(host);
        const reason =
          canonical !== undefined
            ? `tunnel to ${host} is named ${canonical}`
            : host !== undefined
              ? `tunnel to ${host}, which is not a remote host`
              : `tunnel to ${iface?.options.get("remote_ip") ?? "an unknown address"}, no host in the topology`;
        this.deletePort(b, o, reason);
        continue;
      }
      const role = o.externalIds.get(EXTERNAL_ID.role);
      if (role !== undefined) {
        const what = o.externalIds.get(EXTERNAL_ID.port);
        this.deletePort(
          b,
          o,
          what === undefined
            ? `${role} port no longer desired`
            : `port ${what} is no longer on this host`,
        );
      }
    }
    const added: OvsdbAtom[] = [];
    for (const p of d.ports) {
      const o = observed.get(p.name);
      if (o !== undefined) {
        this.updatePort(d.name, o, p);
        continue;
      }
      if (!this.takeFromElsewhere(p, d.name)) continue;
      added.push(namedUuid(this.insertPort(p)));
      this.changes.push({ kind: "add-port", bridge: d.name, port: p.name, role: p.role.kind });
    }
    if (added.length > 0) {
      this.ops.push({
        op: "mutate",
        table: "Bridge",
        where: byUuid(b.uuid),
        mutations: [["ports", "insert", ovsSet(added)]],
      });
    }
  }

  private updatePort(bridge: string, o: ObservedPort, p: DesiredPort): void {
    const change = (column: string, from: string, to: string): void => {
      this.changes.push({ kind: "set-port", bridge, port: p.name, column, from, to });
    };
    const iface = o.interfaces.length === 1 ? o.interfaces[0] : undefined;
    if (iface === undefined || iface.name !== p.name) {
      this.conflicts.push(
        `port ${p.name} on ${bridge} has ${o.interfaces.length} interfaces (${o.interfaces.map((i) => i.name).join(", ")}), expected one named ${p.name}`,
      );
      return;
    }
    const portRow: Record<string, OvsdbValue> = {};
    if (o.tag !== p.tag) {
      portRow.tag = p.tag ?? EMPTY_SET;
      change(
        "tag",
        o.tag === undefined ? NONE : String(o.tag),
        p.tag === undefined ? NONE : String(p.tag),
      );
    }
    if (Object.keys(portRow).length > 0) {
      this.ops.push({ op: "update", table: "Port", where: byUuid(o.uuid), row: portRow });
    }
    const pe = mergeEdit("external_ids", o.externalIds, p.externalIds, EXTERNAL_ID_PREFIX);
    for (const [k, v] of pe.set) change(`external_ids:${k}`, o.externalIds.get(k) ?? NONE, v);
    for (const k of pe.remove) change(`external_ids:${k}`, o.externalIds.get(k) ?? NONE, NONE);
    const pm = mapMutations(pe);
    if (pm.length > 0) {
      this.ops.push({ op: "mutate", table: "Port", where: byUuid(o.uuid), mutations: pm });
    }

    const ifaceRow: Record<string, OvsdbValue> = {};
    if (p.iface.type !== undefined && iface.type !== p.iface.type) {
      ifaceRow.type = p.iface.type;
      change("type", iface.type || NONE, p.iface.type || NONE);
    }
    if (p.iface.options !== undefined && !mapEquals(iface.options, p.iface.options)) {
      ifaceRow.options = ovsStringMap(p.iface.options);
      change("options", formatMap(iface.options), formatMap(p.iface.options));
    }
    if (p.iface.ofportRequest !== undefined && iface.ofportRequest !== p.iface.ofportRequest) {
      ifaceRow.ofport_request = p.iface.ofportRequest;
      change("ofport_request", String(iface.ofportRequest ?? NONE), String(p.iface.ofportRequest));
    }
    // Only set, never cleared: without a desired MTU the column is not ours.
    if (p.iface.mtuRequest !== undefined && iface.mtuRequest !== p.iface.mtuRequest) {
      ifaceRow.mtu_request = p.iface.mtuRequest;
      change("mtu_request", String(iface.mtuRequest ?? NONE), String(p.iface.mtuRequest));
    }
    if (Object.keys(ifaceRow).length > 0) {
      this.ops.push({ op: "update", table: "Interface", where: byUuid(iface.uuid), row: ifaceRow });
    }
    const ie = mergeEdit("external_ids", iface.externalIds, p.iface.externalIds, undefined);
    for (const [k, v] of ie.set)
      change(`interface external_ids:${k}`, iface.externalIds.get(k) ?? NONE, v);
    const im = mapMutations(ie);
    if (im.length > 0) {
      this.ops.push({ op: "mutate", table: "Interface", where: byUuid(iface.uuid), mutations: im });
    }
  }
}

export function diffPlumbing(plan: PlumbPlan, state: ObservedState): PlumbDelta {
  const d = new DeltaBuilder(plan, state);
  const newBridges: OvsdbAtom[] = [];
  for (const want of plan.bridges) {
    const have = state.bridges.get(want.name);
    if (have === undefined) newBridges.push(namedUuid(d.addBridge(want)));
    else d.updateBridge(want, have);
  }
  if (newBridges.length > 0) {
    if (state.rootUuid === undefined) {
      // ovs-vsctl does the same on an empty database (`ovs-vsctl init`).
      d.changes.unshift({ kind: "init-root" });
      d.ops.push({ op: "insert", table: "Open_vSwitch", row: { bridges: ovsSet(newBridges) } });
    } else {
      d.ops.push({
        op: "mutate",
        table: "Open_vSwitch",
        where: byUuid(state.rootUuid),
        mutations: [["bridges", "insert", ovsSet(newBridges)]],
      });
    }
  }
  if (d.conflicts.length > 0) throw new PlumbConflictError(d.conflicts);
  if (d.ops.length === 0) return { changes: [], operations: [] };
  const comment: Operation = { op: "comment", comment: `dvrflow plumb ${plan.host}` };
  return { changes: d.changes, operations: [...d.ops, comment] };
}
