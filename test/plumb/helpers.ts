/** Shared set-up of the plumbing tests: example topologies and their plans. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { offlineSnapshot } from "../../src/dvr/offline.js";
import { planFromSnapshot, type PlumbOptions, type PlumbPlan } from "../../src/plumb/index.js";
import { parseTopologyText } from "../../src/topology/loader.js";
import type { Topology } from "../../src/topology/schema.js";
import type { StoreSnapshot } from "../../src/store/store.js";
import { vsctlList, type PrivateOvsdb } from "../ovsdb/ovsdb-server.js";

export const ROOT = join(import.meta.dirname, "..", "..");

export function twoHostsText(): string {
  return readFileSync(join(ROOT, "examples", "two-hosts.yaml"), "utf8");
}

export function loadText(text: string): Topology {
  const r = parseTopologyText(text);
  if (r.topology === undefined || r.issues.some((i) => i.severity === "error")) {
    throw new Error(`invalid topology: ${JSON.stringify(r.issues)}`);
  }
  return structuredClone(r.topology);
}

export function twoHosts(): Topology {
  return loadText(twoHostsText());
}

/** Adds a third host (sorting after the others, so existing tunnel numbers stay). */
export function withHost3(t: Topology): Topology {
  const c = structuredClone(t);
  c.hosts["compute-3"] = {
    datapath_ids: { "br-int": 0x31n, "br-tun": 0x32n },
    tunnel_ip: "198.51.100.13",
  };
  return c;
}

export function withoutPort(t: Topology, port: string): Topology {
  const c = structuredClone(t);
  delete c.ports[port];
  return c;
}

export async function planFor(
  t: Topology,
  host: string,
  options: PlumbOptions = {},
): Promise<{ plan: PlumbPlan; snapshot: StoreSnapshot }> {
  const snapshot = await offlineSnapshot(t);
  return { plan: planFromSnapshot(snapshot, host, options), snapshot };
}

/** Sets (or, with undefined, removes) a network's `mtu`. */
export function withMtu(t: Topology, network: string, mtu: number | undefined): Topology {
  const c = structuredClone(t);
  const n = c.networks[network];
  if (n === undefined) throw new Error(`no network ${network}`);
  if (mtu === undefined) delete n.mtu;
  else n.mtu = mtu;
  return c;
}

/**
 * Interface.mtu_request of every interface, by name (null when empty), read
 * with ovs-vsctl: the column vsctlState leaves out.
 */
export function mtuRequests(s: PrivateOvsdb): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const r of vsctlList(s, "Interface")) {
    // ovs-vsctl's JSON for an optional integer: the integer, or ["set", []] when empty.
    const v = r.mtu_request;
    const one = Array.isArray(v) && v[0] === "set" && Array.isArray(v[1]) ? v[1][0] : v;
    if (typeof one !== "number" && one !== undefined)
      throw new Error(`mtu_request of ${String(r.name)}: ${JSON.stringify(v)}`);
    out[String(r.name)] = one ?? null;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
