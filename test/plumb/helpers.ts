/** Shared set-up of the plumbing tests: example topologies and their plans. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { offlineSnapshot } from "../../src/dvr/offline.js";
import { planFromSnapshot, type PlumbOptions, type PlumbPlan } from "../../src/plumb/index.js";
import { parseTopologyText } from "../../src/topology/loader.js";
import type { Topology } from "../../src/topology/schema.js";
import type { StoreSnapshot } from "../../src/store/store.js";

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
