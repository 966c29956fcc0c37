/**
 * A desired flow set of exactly `n` flows for one bridge, made by our
 * compiler: br-int of `compute-000` in a generated two-host topology sized
 * so that the bridge gets at least `n` flows (about 5 per port: the port's
 * own flows, its ARP responder and DVR neighbour entries), cut to the first
 * `n` in the compiler's order (table, priority, match). Any subset of a
 * bridge's flows is a valid flow table, so the cut changes nothing OVS
 * checks; it only makes "10k" and "100k" exact, as in the anchors.
 */
import { compileHost } from "../src/dvr/compile/index.js";
import type { DesiredFlow } from "../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../src/dvr/offline.js";
import { networksOnHost } from "../src/topology/indexed.js";
import { generateTopology, type TopologyShape } from "./topology-gen.js";

/** Ports a /24 subnet of the generator holds, less some slack for the seeded spread. */
const PORTS_PER_NETWORK = 240;
const FLOWS_PER_PORT_GUESS = 5;

export interface BridgeSet {
  readonly flows: readonly DesiredFlow[];
  readonly shape: TopologyShape;
  /** Flows the bridge had before the cut. */
  readonly compiled: number;
}

export async function bridgeFlowSet(n: number, seed = 1): Promise<BridgeSet> {
  let ports = Math.ceil(n / FLOWS_PER_PORT_GUESS);
  for (let attempt = 0; attempt < 5; attempt++) {
    const shape: TopologyShape = {
      hosts: 2,
      networks: Math.ceil(ports / PORTS_PER_NETWORK),
      ports,
      seed,
    };
    const base = compileInputFromSnapshot(await offlineSnapshot(generateTopology(shape)));
    // As compileAll does: the networks of every host once, not per lookup.
    const networksByHost = new Map(
      base.index.hosts.map((h) => [h.name, new Set(networksOnHost(base.index, h.name))]),
    );
    const input = { ...base, networksByHost };
    const all = compileHost(input, "compute-000").bridges["br-int"];
    if (all.length >= n) return { flows: all.slice(0, n), shape, compiled: all.length };
    ports = Math.ceil((ports * n * 1.1) / all.length);
  }
  throw new Error(`could not generate a bridge of ${n} flows`);
}
