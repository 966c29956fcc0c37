/**
 * What the demo will do, derived from the topology alone: the hosts with
 * their loopback underlay addresses, the simulated VMs, and the test cases
 * with the result each must have.
 *
 * Expected results follow from the topology as Neutron defines them: two
 * VMs on one network reach each other (switched); VMs on two subnets reach
 * each other only when one router has an interface on both (routed, on the
 * source host: DVR); anything else must not get through (another tenant's
 * subnets, or a frame sent straight to another tenant's gateway MAC). A VM
 * reaches its own gateway IP when its subnet has a router interface (the
 * host's replica of the router answers).
 *
 * Cases are picked per kind, up to {@link PER_KIND} (one forged frame),
 * preferring pairs with VMs, hosts and tenants the kind has not shown yet,
 * so the list stays short and still covers both tenants and every host.
 */
import { ipv4ToString } from "../../codec/packet/index.js";
import { indexTopology, type IndexedPort, type TopologyIndex } from "../topology/indexed.js";
import type { Topology } from "../topology/schema.js";
import type { VmSpec } from "./vm.js";

export const CASE_KINDS = [
  "gateway",
  "same-host switched",
  "same-host routed",
  "cross-host switched",
  "cross-host routed",
  "cross-tenant",
  "forged gateway MAC",
] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

export type Expectation = "reply" | "blocked";

export interface DemoCase {
  readonly n: number;
  readonly kind: CaseKind;
  readonly from: VmSpec;
  /** The VM pinged; undefined for a gateway ping. */
  readonly to: VmSpec | undefined;
  readonly dstIp: number;
  readonly expect: Expectation;
  /** The router that routes it (routed cases; the target router of a forged frame). */
  readonly router: string | undefined;
  /** Send to this MAC instead of resolving the next hop (forged frames). */
  readonly dstMac: string | undefined;
  /** Gateway MAC the frame should carry as source on arrival (routed cases). */
  readonly arrivalGatewayMac: string | undefined;
  /** Short label: `a-web-1 → a-db-2`. */
  readonly label: string;
}

export interface DemoHost {
  readonly name: string;
  readonly index: number;
  readonly brIntDpid: bigint;
  readonly brTunDpid: bigint;
  /** The topology's tunnel IP (names the tunnel ports: `vxlan-<hex>`). */
  readonly tunnelIp: number;
  /**
   * Where this host's VXLAN socket is bound: the tunnel IP when it is a
   * loopback address, else 127.0.0.(11+index) (one machine plays every host;
   * the tunnel IP still names the tunnel ports, so the flows are the ones
   * `dvrflow compile` prints).
   */
  readonly underlayIp: string;
}

export interface DemoPlan {
  readonly index: TopologyIndex;
  readonly hosts: readonly DemoHost[];
  readonly vms: readonly VmSpec[];
  readonly cases: readonly DemoCase[];
  /** Hosts whose tunnel IP is not on loopback, so the underlay was remapped. */
  readonly remapped: readonly string[];
}

const PER_KIND = 2;
const LOOPBACK_NET = 0x7f000000;
const LOOPBACK_MASK = 0xff000000;
const FIRST_UNDERLAY_HOST = 11;

function isLoopback(ip: number): boolean {
  return (ip & LOOPBACK_MASK) >>> 0 === LOOPBACK_NET;
}

function vmOf(index: TopologyIndex, p: IndexedPort): VmSpec | undefined {
  const a = p.addresses[0];
  if (a === undefined) return undefined;
  return {
    name: p.name,
    host: p.host,
    network: p.network,
    iface: p.interfaceName,
    mac: p.macText,
    ip: a.ip,
    subnet: { address: a.subnet.cidr.network, prefix: a.subnet.cidr.prefixLength },
    gateway: index.interfaceBySubnet.get(a.subnet.name)?.ip,
  };
}

/** The router with interfaces on both subnets, if any. */
function routerBetween(index: TopologyIndex, a: IndexedPort, b: IndexedPort): string | undefined {
  const sa = a.addresses[0]?.subnet.name;
  const sb = b.addresses[0]?.subnet.name;
  for (const r of index.routers) {
    const subnets = new Set(r.interfaces.map((i) => i.subnet.name));
    if (sa !== undefined && sb !== undefined && subnets.has(sa) && subnets.has(sb)) return r.name;
  }
  return undefined;
}

function routerOf(index: TopologyIndex, p: IndexedPort): string | undefined {
  const s = p.addresses[0]?.subnet.name;
  return s === undefined ? undefined : index.interfaceBySubnet.get(s)?.router;
}

export function planDemo(topology: Topology): DemoPlan {
  const index = indexTopology(topology);
  const remapped: string[] = [];
  const hosts = index.hosts.map((h, i): DemoHost => {
    const loop = isLoopback(h.tunnelIp);
    if (!loop) remapped.push(h.name);
    return {
      name: h.name,
      index: i,
      brIntDpid: h.brIntDpid,
      brTunDpid: h.brTunDpid,
      tunnelIp: h.tunnelIp,
      underlayIp: loop ? h.tunnelIpText : `127.0.0.${FIRST_UNDERLAY_HOST + i}`,
    };
  });
  const ports = [...index.ports]
    .filter((p) => p.addresses.length > 0)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const vms = new Map<string, VmSpec>();
  for (const p of ports) {
    const v = vmOf(index, p);
    if (v !== undefined) vms.set(p.name, v);
  }

  type Candidate = Omit<DemoCase, "n">;
  const byKind = new Map<CaseKind, Candidate[]>(CASE_KINDS.map((k) => [k, []]));
  const add = (c: Candidate) => byKind.get(c.kind)!.push(c);
  for (const a of ports) {
    const from = vms.get(a.name)!;
    if (from.gateway !== undefined) {
      add({
        kind: "gateway",
        from,
        to: undefined,
        dstIp: from.gateway,
        expect: "reply",
        router: routerOf(index, a),
        dstMac: undefined,
        arrivalGatewayMac: undefined,
        label: `${a.name} → ${ipv4ToString(from.gateway)} (gateway)`,
      });
    }
    for (const b of ports) {
      if (a === b) continue;
      const to = vms.get(b.name)!;
      const sameHost = a.host === b.host;
      const base = { from, to, dstIp: to.ip, dstMac: undefined, label: `${a.name} → ${b.name}` };
      if (a.network === b.network) {
        add({
          ...base,
          kind: sameHost ? "same-host switched" : "cross-host switched",
          expect: "reply",
          router: undefined,
          arrivalGatewayMac: undefined,
        });
        continue;
      }
      const router = routerBetween(index, a, b);
      if (router !== undefined) {
        const iface = index.interfaceBySubnet.get(b.addresses[0]!.subnet.name)!;
        add({
          ...base,
          kind: sameHost ? "same-host routed" : "cross-host routed",
          expect: "reply",
          router,
          arrivalGatewayMac: iface.macText,
        });
        continue;
      }
      add({
        ...base,
        kind: "cross-tenant",
        expect: "blocked",
        router: undefined,
        arrivalGatewayMac: undefined,
      });
      // The same target, addressed straight to the router that does serve its subnet.
      const theirs = index.interfaceBySubnet.get(b.addresses[0]!.subnet.name);
      if (theirs !== undefined) {
        add({
          ...base,
          kind: "forged gateway MAC",
          expect: "blocked",
          router: theirs.router,
          dstMac: theirs.macText,
          arrivalGatewayMac: undefined,
          label: `${a.name} → ${b.name} via ${theirs.router}'s MAC`,
        });
      }
    }
  }

  const cases: DemoCase[] = [];
  for (const kind of CASE_KINDS) {
    const picked = pick(
      byKind.get(kind)!,
      kind === "forged gateway MAC" ? 1 : PER_KIND,
      (v) =>
        routerOf(
          index,
          index.ports.find((p) => p.name === v.name)!,
        ) ?? v.network,
    );
    for (const c of picked) cases.push({ ...c, n: cases.length + 1 });
  }
  return { index, hosts, vms: [...vms.values()], cases, remapped };
}

/**
 * Up to `n` candidates, greedily: each pick is the first (in port-name
 * order) that brings the most that is new to the list: a source or target
 * VM, a source or target host, a tenant (the source subnet's router).
 */
function pick<T extends { from: VmSpec; to: VmSpec | undefined }>(
  all: readonly T[],
  n: number,
  tenantOf: (v: VmSpec) => string,
): T[] {
  const out: T[] = [];
  const seen = new Set<string>();
  const traits = (c: T): string[] => [
    `vm:${c.from.name}`,
    `vm:${c.to?.name ?? "-"}`,
    `src-host:${c.from.host}`,
    `dst-host:${c.to?.host ?? c.from.host}`,
    `tenant:${tenantOf(c.from)}`,
  ];
  while (out.length < n) {
    let best: T | undefined;
    let bestScore = -1;
    for (const c of all) {
      if (out.includes(c)) continue;
      const score = traits(c).filter((t) => !seen.has(t)).length;
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    if (best === undefined) break;
    out.push(best);
    for (const t of traits(best)) seen.add(t);
  }
  return out;
}
