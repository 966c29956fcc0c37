/**
 * The current vswitch state, read from OVSDB in one `transact` of selects
 * (one consistent snapshot: the server runs a transaction atomically), and
 * resolved into bridges → ports → interfaces by uuid.
 */
import type { OvsdbClient } from "../ovsdb/client.js";
import {
  readOptionalInteger,
  readOptionalString,
  readString,
  readStringMap,
  readStringSet,
  readUuid,
  readUuidSet,
} from "../ovsdb/datum.js";
import type { Operation } from "../ovsdb/operations.js";
import { VSWITCH_DB } from "./model.js";

export interface ObservedInterface {
  readonly uuid: string;
  readonly name: string;
  readonly type: string;
  readonly options: ReadonlyMap<string, string>;
  readonly ofportRequest: number | undefined;
  readonly mtuRequest: number | undefined;
  /** Assigned by ovs-vswitchd; absent without one. */
  readonly ofport: number | undefined;
  readonly externalIds: ReadonlyMap<string, string>;
}

export interface ObservedPort {
  readonly uuid: string;
  readonly name: string;
  readonly tag: number | undefined;
  readonly externalIds: ReadonlyMap<string, string>;
  readonly interfaces: readonly ObservedInterface[];
}

export interface ObservedController {
  readonly uuid: string;
  readonly target: string;
}

export interface ObservedBridge {
  readonly uuid: string;
  readonly name: string;
  readonly datapathType: string;
  readonly failMode: string | undefined;
  readonly protocols: readonly string[];
  readonly otherConfig: ReadonlyMap<string, string>;
  readonly controllers: readonly ObservedController[];
  /** Sorted by name. */
  readonly ports: readonly ObservedPort[];
}

export interface ObservedState {
  /** The Open_vSwitch row, absent in a fresh database. */
  readonly rootUuid: string | undefined;
  readonly bridges: ReadonlyMap<string, ObservedBridge>;
}

const COLUMNS = {
  Open_vSwitch: ["_uuid", "bridges"],
  Bridge: [
    "_uuid",
    "name",
    "datapath_type",
    "fail_mode",
    "protocols",
    "other_config",
    "controller",
    "ports",
  ],
  Port: ["_uuid", "name", "tag", "external_ids", "interfaces"],
  Interface: [
    "_uuid",
    "name",
    "type",
    "options",
    "ofport_request",
    "mtu_request",
    "ofport",
    "external_ids",
  ],
  Controller: ["_uuid", "target"],
} as const;
const TABLES = Object.keys(COLUMNS) as (keyof typeof COLUMNS)[];

export async function readOvsState(client: OvsdbClient): Promise<ObservedState> {
  const ops: Operation[] = TABLES.map((table) => ({
    op: "select",
    table,
    where: [],
    columns: COLUMNS[table],
  }));
  const results = await client.transact(VSWITCH_DB, ops);
  const rows = (i: number): Record<string, unknown>[] => [...(results[i]?.rows ?? [])];
  return resolveState(rows(0), rows(1), rows(2), rows(3), rows(4));
}

/** Pure: builds the tree from the raw rows of the five tables. */
export function resolveState(
  roots: readonly Record<string, unknown>[],
  bridgeRows: readonly Record<string, unknown>[],
  portRows: readonly Record<string, unknown>[],
  ifaceRows: readonly Record<string, unknown>[],
  controllerRows: readonly Record<string, unknown>[],
): ObservedState {
  const ifaces = new Map<string, ObservedInterface>();
  for (const r of ifaceRows) {
    const uuid = readUuid(r._uuid);
    const ofport = readOptionalInteger(r.ofport);
    ifaces.set(uuid, {
      uuid,
      name: readString(r.name),
      type: readString(r.type),
      options: readStringMap(r.options),
      ofportRequest: readOptionalInteger(r.ofport_request),
      mtuRequest: readOptionalInteger(r.mtu_request),
      // ofport -1 means "failed to attach"; 0 is never valid.
      ofport: ofport !== undefined && ofport > 0 ? ofport : undefined,
      externalIds: readStringMap(r.external_ids),
    });
  }
  const ports = new Map<string, ObservedPort>();
  for (const r of portRows) {
    const uuid = readUuid(r._uuid);
    ports.set(uuid, {
      uuid,
      name: readString(r.name),
      tag: readOptionalInteger(r.tag),
      externalIds: readStringMap(r.external_ids),
      interfaces: readUuidSet(r.interfaces)
        .map((u) => ifaces.get(u))
        .filter((i): i is ObservedInterface => i !== undefined),
    });
  }
  const controllers = new Map<string, ObservedController>();
  for (const r of controllerRows) {
    const uuid = readUuid(r._uuid);
    controllers.set(uuid, { uuid, target: readString(r.target) });
  }
  const root = roots[0];
  const attached = new Set(root === undefined ? [] : readUuidSet(root.bridges));
  const bridges = new Map<string, ObservedBridge>();
  for (const r of bridgeRows) {
    const uuid = readUuid(r._uuid);
    if (!attached.has(uuid)) continue; // unreachable rows are garbage, not bridges
    const name = readString(r.name);
    bridges.set(name, {
      uuid,
      name,
      datapathType: readString(r.datapath_type),
      failMode: readOptionalString(r.fail_mode),
      protocols: readStringSet(r.protocols).sort(),
      otherConfig: readStringMap(r.other_config),
      controllers: readUuidSet(r.controller)
        .map((u) => controllers.get(u))
        .filter((c): c is ObservedController => c !== undefined)
        .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)),
      ports: readUuidSet(r.ports)
        .map((u) => ports.get(u))
        .filter((p): p is ObservedPort => p !== undefined)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    });
  }
  return { rootUuid: root === undefined ? undefined : readUuid(root._uuid), bridges };
}
