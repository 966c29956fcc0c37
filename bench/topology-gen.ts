/**
 * A generated DVR topology for the controller benches (issue 5: "100 hosts ×
 * 50 networks × 2,000 ports"): deterministic for a given seed, and checked by
 * the same schema and semantic validation as a config file, so the compiler
 * sees nothing a user could not write.
 *
 * Shape, Neutron-like:
 * - hosts `compute-NNN`, tunnel IPs 10.0.x.y (one underlay /16), datapath
 *   ids derived from the host number;
 * - networks `net-NNN` (VXLAN, VNI 1000 + n), one /24 subnet each
 *   (10.(128 + n/256).(n%256).0/24; gateway .1, ports from .2);
 * - routers of `subnetsPerRouter` consecutive subnets each (every subnet
 *   routed), gateway MACs fa:16:3e:ff:RR:II;
 * - ports `pNNNNN` on a seeded random network and host, MACs
 *   fa:16:3e:PP:PP:PP, one fixed IP each.
 * Addresses come from RFC 1918 space: 2,000 ports do not fit the RFC 5737
 * documentation ranges the examples use.
 */
import { formatMac } from "../src/topology/addr.js";
import { TopologySchema, type Topology, type TopologyInput } from "../src/topology/schema.js";
import { validateTopology } from "../src/topology/validate.js";

export interface TopologyShape {
  readonly hosts: number;
  readonly networks: number;
  readonly ports: number;
  /** Subnets joined by each router (all subnets are routed). Default 5. */
  readonly subnetsPerRouter?: number;
  /** Default 1. */
  readonly seed?: number;
}

/** The cookie_prefix of every generated topology (the default, 0xd5). */
export const COOKIE_PREFIX = 0xd5;

/** The issue's scale. */
export const ISSUE5_SHAPE: TopologyShape = { hosts: 100, networks: 50, ports: 2000 };

/** xorshift32: small, fast and the same on every platform. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");
const PORT_MAC_BASE = 0xfa163e000000;
const ROUTER_MAC_BASE = 0xfa163eff0000;
/** Ports per /24 subnet: .1 is the gateway, .255 the broadcast. */
const HOSTS_PER_SUBNET = 253;

function subnetCidr(n: number): { cidr: string; gateway: string; ip: (k: number) => string } {
  const prefix = `10.${128 + (n >> 8)}.${n & 0xff}`;
  return { cidr: `${prefix}.0/24`, gateway: `${prefix}.1`, ip: (k) => `${prefix}.${k + 2}` };
}

/** A validated topology of the given shape. Throws if validation finds an error. */
export function generateTopology(shape: TopologyShape): Topology {
  const rnd = rng(shape.seed ?? 1);
  const perRouter = shape.subnetsPerRouter ?? 5;
  const hostName = (h: number) => `compute-${pad(h, 3)}`;
  const netName = (n: number) => `net-${pad(n, 3)}`;

  const hosts: NonNullable<TopologyInput["hosts"]> = {};
  for (let h = 0; h < shape.hosts; h++) {
    const id = BigInt(h + 1) << 8n;
    hosts[hostName(h)] = {
      datapath_ids: { "br-int": id | 1n, "br-tun": id | 2n },
      tunnel_ip: `10.0.${(h + 1) >> 8}.${(h + 1) & 0xff}`,
    };
  }

  const networks: NonNullable<TopologyInput["networks"]> = {};
  const subnets: NonNullable<TopologyInput["subnets"]> = {};
  for (let n = 0; n < shape.networks; n++) {
    networks[netName(n)] = { type: "vxlan", segmentation_id: 1000 + n, mtu: 1450 };
    const s = subnetCidr(n);
    subnets[`${netName(n)}-v4`] = { network: netName(n), cidr: s.cidr, gateway_ip: s.gateway };
  }

  const routers: NonNullable<TopologyInput["routers"]> = {};
  for (let r = 0; r * perRouter < shape.networks; r++) {
    const interfaces = [];
    for (let i = 0; i < perRouter && r * perRouter + i < shape.networks; i++) {
      interfaces.push({
        subnet: `${netName(r * perRouter + i)}-v4`,
        mac_address: formatMac(ROUTER_MAC_BASE + r * 256 + i),
      });
    }
    routers[`router-${pad(r, 3)}`] = { distributed: true, interfaces };
  }

  const ports: NonNullable<TopologyInput["ports"]> = {};
  const used = new Array<number>(shape.networks).fill(0);
  for (let p = 0; p < shape.ports; p++) {
    let n = Math.floor(rnd() * shape.networks);
    // A full subnet sends the port to the next network with room.
    for (let tries = 0; used[n]! >= HOSTS_PER_SUBNET; tries++) {
      if (tries >= shape.networks) throw new Error("more ports than the subnets can address");
      n = (n + 1) % shape.networks;
    }
    const k = used[n]!;
    used[n] = k + 1;
    ports[`p${pad(p, 5)}`] = {
      network: netName(n),
      host: hostName(Math.floor(rnd() * shape.hosts)),
      mac_address: formatMac(PORT_MAC_BASE + p + 1),
      fixed_ips: [subnetCidr(n).ip(k)],
    };
  }

  const topology = TopologySchema.parse({
    version: 1,
    controller: { cookie_prefix: COOKIE_PREFIX, dvr_base_mac: "fa:16:3f:00:00:00" },
    hosts,
    networks,
    subnets,
    routers,
    ports,
  } satisfies TopologyInput);
  const errors = validateTopology(topology).filter((i) => i.severity === "error");
  if (errors.length > 0) {
    throw new Error(
      `generated topology is invalid: ${errors
        .slice(0, 3)
        .map((e) => `${e.path.join(".")}: ${e.message}`)
        .join("; ")}`,
    );
  }
  return topology;
}
