/**
 * Shared set-up for the DVR compiler tests: example topologies, their
 * offline state (derived MACs, lowest-first VLANs) and compiled flows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  compileAll,
  compileHost,
  type HostFlows,
  type HostOfports,
} from "../../src/dvr/compile/index.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import { parseTopologyText } from "../../src/topology/loader.js";
import type { Topology } from "../../src/topology/schema.js";

export const ROOT = join(import.meta.dirname, "..", "..");

export function exampleText(name: string): string {
  return readFileSync(join(ROOT, "examples", name), "utf8");
}

export function loadExample(name: string): Topology {
  const r = parseTopologyText(exampleText(name));
  if (r.topology === undefined || r.issues.some((i) => i.severity === "error")) {
    throw new Error(`example ${name} is invalid`);
  }
  return structuredClone(r.topology);
}

/** Compiles every host of a topology with offline state. */
export async function compileTopology(
  t: Topology,
  ofports?: ReadonlyMap<string, HostOfports>,
): Promise<HostFlows[]> {
  const snap = await offlineSnapshot(t);
  return compileAll(compileInputFromSnapshot(snap, ofports));
}

export async function compileOne(
  t: Topology,
  host: string,
  ofports?: ReadonlyMap<string, HostOfports>,
) {
  const snap = await offlineSnapshot(t);
  return compileHost(compileInputFromSnapshot(snap, ofports), host);
}
