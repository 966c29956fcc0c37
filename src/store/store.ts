/**
 * The controller's persistent state, behind an interface so that one shared
 * store (a network database) can later serve several controller instances;
 * the embedded default is SQLite (sqlite.ts).
 *
 * A store holds the topology document, a generation counter, the DVR host
 * MAC table (one unique MAC per host, as Neutron's `dvr_host_macs`) and the
 * local VLAN of each network on each host. Every change is one atomic
 * {@link TopologyStore.commit}: the document is validated, the generation
 * bumped, MACs and VLANs allocated or released, all in one transaction. A
 * rejected commit changes nothing.
 *
 * The interface is asynchronous although SQLite is not: a networked store
 * will be.
 */
import type { Topology } from "../topology/schema.js";

export interface StoreSnapshot {
  /** Bumped by every commit that changes the document; 0 = never committed. */
  readonly generation: number;
  readonly topology: Topology;
  /** host → DVR MAC ("fa:16:3f:…"). */
  readonly hostMacs: ReadonlyMap<string, string>;
  /** host → network → local VLAN (1..4094). */
  readonly localVlans: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface CommitOptions {
  /** Optimistic concurrency (API `If-Match`): refuse unless the store is at this generation. */
  readonly expectedGeneration?: number;
}

export interface TopologyStore {
  /** The last committed state, or undefined for an empty store. */
  load(): Promise<StoreSnapshot | undefined>;
  /**
   * Validates and stores `topology`, allocating host MACs and local VLANs.
   * Throws {@link TopologyError}, {@link GenerationConflictError},
   * {@link HostMacAllocationError} or {@link LocalVlanExhaustedError}, and
   * then nothing has changed. An identical document keeps its generation.
   */
  commit(topology: Topology, options?: CommitOptions): Promise<StoreSnapshot>;
  close(): Promise<void>;
}

export class GenerationConflictError extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`generation conflict: expected ${expected}, store is at ${actual}`);
    this.name = "GenerationConflictError";
  }
}

/** Neutron's HostMacAddressGenerationFailure: every attempt collided. */
export class HostMacAllocationError extends Error {
  constructor(
    readonly host: string,
    readonly attempts: number,
  ) {
    super(`could not allocate a unique DVR MAC for host ${host} after ${attempts} attempts`);
    this.name = "HostMacAllocationError";
  }
}

export class LocalVlanExhaustedError extends Error {
  constructor(readonly host: string) {
    super(`host ${host} has no free local VLAN (1..4094)`);
    this.name = "LocalVlanExhaustedError";
  }
}
