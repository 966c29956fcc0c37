/**
 * A validated topology, indexed for the compiler: addresses parsed to
 * numbers, references resolved, objects grouped by host and network, and
 * the placement rules of Neutron's DVR scheduler.
 *
 * Placement (dvr-pipeline.md §3.1, `l3_dvrscheduler_db`): a router is
 * placed on a host only when the host has a port with an address on one of
 * the router's subnets. A host then carries every network the router joins
 * (Neutron binds a `qr-` port per interface there), plus the networks of
 * its own ports. Iteration orders are sorted by name, so everything derived
 * from an index is deterministic.
 */
import { parseCidr, parseIpv4, parseMac, type Ipv4Cidr } from "./addr.js";
import { portInterface, type Topology } from "./schema.js";

export interface IndexedHost {
  readonly name: string;
  readonly brIntDpid: bigint;
  readonly brTunDpid: bigint;
  readonly tunnelIp: number;
  readonly tunnelIpText: string;
}

export interface IndexedNetwork {
  readonly name: string;
  readonly vni: number;
  /** The network's MTU, when the topology gives one (plumbing sets it on VM ports). */
  readonly mtu: number | undefined;
}

export interface IndexedSubnet {
  readonly name: string;
  readonly network: string;
  readonly cidr: Ipv4Cidr;
  readonly cidrText: string;
}

export interface IndexedInterface {
  readonly router: string;
  readonly subnet: IndexedSubnet;
  readonly network: string;
  /** The gateway MAC, shared by every replica. */
  readonly mac: number;
  readonly macText: string;
  readonly ip: number;
  readonly ipText: string;
}

export interface IndexedRouter {
  readonly name: string;
  /** In declaration order. */
  readonly interfaces: readonly IndexedInterface[];
}

export interface PortAddress {
  readonly ip: number;
  readonly ipText: string;
  readonly subnet: IndexedSubnet;
}

export interface IndexedPort {
  readonly name: string;
  readonly network: string;
  readonly host: string;
  readonly interfaceName: string;
  readonly mac: number;
  readonly macText: string;
  readonly addresses: readonly PortAddress[];
  readonly ofport: number | undefined;
  readonly portSecurity: boolean;
}

export interface TopologyIndex {
  readonly topology: Topology;
  readonly hosts: readonly IndexedHost[];
  readonly networks: ReadonlyMap<string, IndexedNetwork>;
  readonly subnets: ReadonlyMap<string, IndexedSubnet>;
  readonly routers: readonly IndexedRouter[];
  readonly ports: readonly IndexedPort[];
  readonly host: (name: string) => IndexedHost | undefined;
  /** Ports by host name, sorted by port name. */
  readonly portsByHost: ReadonlyMap<string, readonly IndexedPort[]>;
  /** Ports by network name, sorted by port name. */
  readonly portsByNetwork: ReadonlyMap<string, readonly IndexedPort[]>;
  /** The router interface on a subnet. */
  readonly interfaceBySubnet: ReadonlyMap<string, IndexedInterface>;
}

const byName = <T extends { readonly name: string }>(a: T, b: T): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`topology index: ${what} (validate the topology first)`);
  return v;
}

/** Indexes a topology that passed {@link validateTopology} without errors. */
export function indexTopology(t: Topology): TopologyIndex {
  const hosts: IndexedHost[] = Object.entries(t.hosts)
    .map(([name, h]) => ({
      name,
      brIntDpid: h.datapath_ids["br-int"],
      brTunDpid: h.datapath_ids["br-tun"],
      tunnelIp: must(parseIpv4(h.tunnel_ip), `tunnel ip of ${name}`),
      tunnelIpText: h.tunnel_ip,
    }))
    .sort(byName);
  const networks = new Map<string, IndexedNetwork>(
    Object.entries(t.networks)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, n]) => [name, { name, vni: n.segmentation_id, mtu: n.mtu }]),
  );
  const subnets = new Map<string, IndexedSubnet>();
  for (const [name, s] of Object.entries(t.subnets).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const c = parseCidr(s.cidr);
    if (!c.ok) throw new Error(`topology index: bad cidr ${s.cidr}`);
    subnets.set(name, { name, network: s.network, cidr: c.cidr, cidrText: s.cidr });
  }
  const interfaceBySubnet = new Map<string, IndexedInterface>();
  const routers: IndexedRouter[] = Object.entries(t.routers)
    .map(([name, r]) => ({
      name,
      interfaces: r.interfaces.map((i) => {
        const subnet = must(subnets.get(i.subnet), `subnet ${i.subnet}`);
        const ipText = must(
          i.ip_address ?? t.subnets[i.subnet]?.gateway_ip,
          `gateway of ${i.subnet}`,
        );
        const itf: IndexedInterface = {
          router: name,
          subnet,
          network: subnet.network,
          mac: must(parseMac(i.mac_address), i.mac_address),
          macText: i.mac_address,
          ip: must(parseIpv4(ipText), ipText),
          ipText,
        };
        interfaceBySubnet.set(subnet.name, itf);
        return itf;
      }),
    }))
    .sort(byName);
  const subnetList = [...subnets.values()];
  const ports: IndexedPort[] = Object.entries(t.ports)
    .map(([name, p]) => ({
      name,
      network: p.network,
      host: p.host,
      interfaceName: portInterface(name, p),
      mac: must(parseMac(p.mac_address), p.mac_address),
      macText: p.mac_address,
      addresses: p.fixed_ips.map((ipText) => {
        const ip = must(parseIpv4(ipText), ipText);
        const subnet = must(
          subnetList.find((s) => s.network === p.network && inCidr(s.cidr, ip)),
          `subnet of ${ipText}`,
        );
        return { ip, ipText, subnet };
      }),
      ofport: p.ofport,
      portSecurity: p.port_security,
    }))
    .sort(byName);
  const group = (key: (p: IndexedPort) => string) => {
    const m = new Map<string, IndexedPort[]>();
    for (const p of ports) {
      const k = key(p);
      const l = m.get(k);
      if (l === undefined) m.set(k, [p]);
      else l.push(p);
    }
    return m;
  };
  const hostByName = new Map(hosts.map((h) => [h.name, h]));
  return {
    topology: t,
    hosts,
    networks,
    subnets,
    routers,
    ports,
    host: (name) => hostByName.get(name),
    portsByHost: group((p) => p.host),
    portsByNetwork: group((p) => p.network),
    interfaceBySubnet,
  };
}

function inCidr(c: Ipv4Cidr, ip: number): boolean {
  const mask = c.prefixLength === 0 ? 0 : (0xffffffff << (32 - c.prefixLength)) >>> 0;
  return (ip & mask) >>> 0 === c.network;
}

/** Routers placed on `host`: those with a subnet on which the host has a port address. */
export function routersOnHost(index: TopologyIndex, host: string): IndexedRouter[] {
  const localSubnets = new Set<string>();
  for (const p of index.portsByHost.get(host) ?? []) {
    for (const a of p.addresses) localSubnets.add(a.subnet.name);
  }
  return index.routers.filter((r) => r.interfaces.some((i) => localSubnets.has(i.subnet.name)));
}

/**
 * Networks present on `host` (sorted): its ports' networks and every
 * network a router placed there joins. Each gets a local VLAN on the host.
 */
export function networksOnHost(index: TopologyIndex, host: string): string[] {
  const s = new Set<string>();
  for (const p of index.portsByHost.get(host) ?? []) s.add(p.network);
  for (const r of routersOnHost(index, host)) for (const i of r.interfaces) s.add(i.network);
  return [...s].sort();
}

/** Every (host, network) pair that needs a local VLAN, by host. */
export function localVlanNeeds(index: TopologyIndex): Map<string, string[]> {
  return new Map(index.hosts.map((h) => [h.name, networksOnHost(index, h.name)]));
}
