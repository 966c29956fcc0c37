/**
 * The state an offline command (`compile`, `check`, later `trace`) needs
 * besides the topology: host MACs and local VLANs, as the controller would
 * have them.
 *
 * With a store path, the controller's allocations are read and reused; what
 * is missing is allocated on a throwaway in-memory copy, so an offline
 * command never writes the store. Without one, MACs are derived from the
 * host names (a seeded draw within dvr_base_mac, collisions retried) and
 * VLANs numbered lowest-first in network-name order: the same topology
 * always compiles to the same flows.
 */
import { existsSync } from "node:fs";
import { parseMac } from "../topology/addr.js";
import { indexTopology } from "../topology/indexed.js";
import type { Topology } from "../topology/schema.js";
import { seededRandomBytes } from "../store/mac-alloc.js";
import { SqliteStore } from "../store/sqlite.js";
import type { StoreSnapshot } from "../store/store.js";
import type { CompileInput, HostOfports } from "./compile/index.js";

export interface OfflineOptions {
  /** The controller's SQLite store, read only. */
  readonly storePath?: string;
}

export async function offlineSnapshot(
  topology: Topology,
  options: OfflineOptions = {},
): Promise<StoreSnapshot> {
  const scratch = new SqliteStore(":memory:", { macRandom: (host) => seededRandomBytes(host) });
  try {
    if (options.storePath !== undefined) {
      if (!existsSync(options.storePath)) throw new Error(`no store at ${options.storePath}`);
      const real = new SqliteStore(options.storePath);
      try {
        const snap = await real.load();
        if (snap !== undefined) scratch.importAllocations(snap);
      } finally {
        await real.close();
      }
    }
    return await scratch.commit(topology);
  } finally {
    await scratch.close();
  }
}

/** Compiler input from a store snapshot (and, at run time, the switches' port numbers). */
export function compileInputFromSnapshot(
  snapshot: StoreSnapshot,
  ofports?: ReadonlyMap<string, HostOfports>,
): CompileInput {
  const hostMacs = new Map<string, number>();
  for (const [h, m] of snapshot.hostMacs) {
    const v = parseMac(m);
    if (v === undefined) throw new Error(`bad stored MAC ${m} for ${h}`);
    hostMacs.set(h, v);
  }
  return {
    index: indexTopology(snapshot.topology),
    hostMacs,
    localVlans: snapshot.localVlans,
    ...(ofports === undefined ? {} : { ofports }),
  };
}
