/**
 * The packet-in bench's topology: `hosts` compute hosts, `networks` tenant
 * networks joined by one distributed router, and `portsPerHost` VM ports
 * per host spread round-robin over the networks (all with port security,
 * so every ARP request also passes the controller's spoof checks). Every
 * port's address is known to the intent, so an ARP request for it is
 * answered by the controller's responder fallback.
 *
 * Addresses are private (10.N.0.0/16 per network) because the documentation
 * ranges of the examples are too small for hundreds of ports.
 */
import { formatIpv4 as ipText, formatMac as macText } from "../src/topology/addr.js";
import { TopologySchema, type Topology } from "../src/topology/schema.js";

export interface PacketInTopologyShape {
  readonly hosts: number;
  readonly networks: number;
  readonly portsPerHost: number;
}

/** One VM port of the generated topology, as the load generator needs it. */
export interface BenchPort {
  readonly name: string;
  readonly host: string;
  readonly network: string;
  readonly interfaceName: string;
  /** 48-bit MAC as a number. */
  readonly mac: number;
  readonly ip: number;
}

export const hostName = (h: number): string => `compute-${h}`;
export const networkName = (n: number): string => `net-${n}`;
const BR_INT_DPID_BASE = 0x1000n;
const BR_TUN_DPID_BASE = 0x2000n;
/** Neutron's port base MAC (fa:16:3e): the VM ports' MAC prefix. */
const PORT_MAC_BASE = 0xfa163e000000;
/** Gateway MACs: fa:16:3e:ff:NN:01 (distinct from every VM port's). */
const GATEWAY_MAC_BASE = 0xfa163eff0001;

/** 10.N.0.0/16: network N's subnet; .0.1 is the gateway, VM ports from .1.0 on. */
const subnetBase = (n: number): number => ((10 << 24) | (n << 16)) >>> 0;

/** br-int datapath id of host `h` (the id the simulated switch reports). */
export const brIntDpid = (h: number): bigint => BR_INT_DPID_BASE + BigInt(h);

export function packetInTopology(shape: PacketInTopologyShape): {
  topology: Topology;
  ports: BenchPort[];
} {
  const hosts: Record<string, unknown> = {};
  const networks: Record<string, unknown> = {};
  const subnets: Record<string, unknown> = {};
  const interfaces: unknown[] = [];
  const ports: Record<string, unknown> = {};
  const bench: BenchPort[] = [];
  for (let h = 0; h < shape.hosts; h++) {
    hosts[hostName(h)] = {
      datapath_ids: { "br-int": brIntDpid(h), "br-tun": BR_TUN_DPID_BASE + BigInt(h) },
      tunnel_ip: ipText(((192 << 24) | (168 << 16) | (1 << 8) | (h + 1)) >>> 0),
    };
  }
  for (let n = 0; n < shape.networks; n++) {
    networks[networkName(n)] = { type: "vxlan", segmentation_id: 1000 + n, mtu: 1450 };
    subnets[`${networkName(n)}-v4`] = {
      network: networkName(n),
      cidr: `${ipText(subnetBase(n))}/16`,
      gateway_ip: ipText(subnetBase(n) + 1),
    };
    interfaces.push({
      subnet: `${networkName(n)}-v4`,
      mac_address: macText(GATEWAY_MAC_BASE + n * 0x100),
    });
  }
  for (let h = 0; h < shape.hosts; h++) {
    for (let p = 0; p < shape.portsPerHost; p++) {
      const n = p % shape.networks;
      const name = `vm-${h}-${p}`;
      const mac = PORT_MAC_BASE + h * 0x10000 + p;
      const ip = subnetBase(n) + 0x100 + h * shape.portsPerHost + p;
      const interfaceName = `tap-${h}-${p}`;
      ports[name] = {
        network: networkName(n),
        host: hostName(h),
        interface: interfaceName,
        mac_address: macText(mac),
        fixed_ips: [ipText(ip)],
      };
      bench.push({ name, host: hostName(h), network: networkName(n), interfaceName, mac, ip });
    }
  }
  const topology = TopologySchema.parse({
    version: 1,
    controller: { cookie_prefix: 0xd5, dvr_base_mac: "fa:16:3f:00:00:00" },
    hosts,
    networks,
    subnets,
    routers: { r1: { distributed: true, interfaces } },
    ports,
  });
  return { topology, ports: bench };
}
