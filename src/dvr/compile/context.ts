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
  /** Networks present on each host; computed when absent (compileAll passes it once). */
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
    this.networks = networksOnHost(index, hostName);
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
    const known = this.input.networksByHost?.get(host);
    if (known !== undefined) return known.has(network);
    return networksOnHost(this.index, host).includes(network);
  }
}

function macOf(input: CompileInput, host: string): number {
  const m = input.hostMacs.get(host);
  if (m === undefined) throw new Error(`no DVR MAC for host ${host}`);
  return m;
}
