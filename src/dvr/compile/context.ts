/**
 * What the bridge compilers need to know about one host, resolved once:
 * its DVR MAC and its peers', local VLANs, placed routers, networks, and
 * port numbers (with a record of flows skipped for ports the switch lacks:
 * Neutron bug #1938685, never install `output:-1`).
 */
import type { IndexedHost, IndexedRouter, TopologyIndex } from "../../topology/indexed.js";
import { networksOnHost, routersOnHost } from "../../topology/indexed.js";
import type { BridgeName } from "../tables.js";
import { peersOf, type HostOfports } from "./ports.js";

export interface CompileInput {
  readonly index: TopologyIndex;
  /** host → DVR MAC (48-bit number), for every host. */
  readonly hostMacs: ReadonlyMap<string, number>;
  /** host → network → local VLAN, for every network present on the host. */
  readonly localVlans: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** host → its bridges' port numbers; a host without an entry uses `defaultOfports`. */
  readonly ofports?: ReadonlyMap<string, HostOfports>;
  /**
   * Networks present on each host. When absent they come from
   * {@link networksOn}, computed once per index and host, so callers need
   * not pass it.
   */
  readonly networksByHost?: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface Peer {
  readonly host: IndexedHost;
  readonly dvrMac: number;
  /** Name of the VXLAN port to this peer on br-tun. */
  readonly tunnelPort: string;
}

/** A flow not compiled because a port it needs is missing on the switch. */
export interface SkippedFlow {
  readonly bridge: BridgeName;
  readonly port: string;
  readonly reason: string;
}

export class HostContext {
  readonly host: IndexedHost;
  readonly dvrMac: number;
  readonly peers: readonly Peer[];
  readonly routers: readonly IndexedRouter[];
  /** Networks present here, sorted. */
  readonly networks: readonly string[];
  readonly skipped: SkippedFlow[] = [];
  private readonly vlans: ReadonlyMap<string, number>;

  constructor(
    readonly index: TopologyIndex,
    readonly input: CompileInput,
    hostName: string,
    readonly ofports: HostOfports,
    readonly cookiePrefix: number,
  ) {
    const host = index.host(hostName);
    if (host === undefined) throw new Error(`unknown host ${hostName}`);
    this.host = host;
    this.dvrMac = macOf(input, hostName);
    this.peers = peersOf(index, hostName).map((p) => ({
      host: p.host,
      dvrMac: macOf(input, p.host.name),
      tunnelPort: p.port,
    }));
    this.routers = routersOnHost(index, hostName);
    this.networks = networksOn(index, hostName).sorted;
    this.vlans = input.localVlans.get(hostName) ?? new Map();
    for (const n of this.networks) {
      if (!this.vlans.has(n)) throw new Error(`no local VLAN for network ${n} on host ${hostName}`);
    }
  }

  /** The local VLAN of a network present on this host. */
  lv(network: string): number {
    const v = this.vlans.get(network);
    if (v === undefined) throw new Error(`network ${network} is not on host ${this.host.name}`);
    return v;
  }

  /** The ofport of `port` on `bridge`, or undefined (and the flow is recorded as skipped). */
  ofport(bridge: BridgeName, port: string, what: string): number | undefined {
    const n = this.ofports[bridge].get(port);
    if (n === undefined) this.skipped.push({ bridge, port, reason: what });
    return n;
  }

  /** Is `network` present on `host` (for flooding lists and l2pop)? */
  networkOn(host: string, network: string): boolean {
    const known = this.input.networksByHost?.get(host) ?? networksOn(this.index, host).set;
    return known.has(network);
  }
}

/** The networks present on one host, sorted and as a set. */
export interface HostNetworks {
  readonly sorted: readonly string[];
  readonly set: ReadonlySet<string>;
}

/**
 * `networksOnHost` of each (index, host), computed on first use. A
 * TopologyIndex is never changed once built (a new topology is a new
 * index), so the answers hold for the index's lifetime, and the WeakMap
 * lets them go with it. Every caller of `compileHost` shares them: the
 * controller's per-bridge compile, its dry run, `dvrflow compile`, trace.
 * Without it each host's compile walked every peer's ports and routers again
 * for each of its networks (br-tun's flooding lists).
 */
const networksMemo = new WeakMap<TopologyIndex, Map<string, HostNetworks>>();

export function networksOn(index: TopologyIndex, host: string): HostNetworks {
  let byHost = networksMemo.get(index);
  if (byHost === undefined) networksMemo.set(index, (byHost = new Map()));
  let n = byHost.get(host);
  if (n === undefined) {
    const sorted = networksOnHost(index, host);
    n = { sorted, set: new Set(sorted) };
    byHost.set(host, n);
  }
  return n;
}

function macOf(input: CompileInput, host: string): number {
  const m = input.hostMacs.get(host);
  if (m === undefined) throw new Error(`no DVR MAC for host ${host}`);
  return m;
}
