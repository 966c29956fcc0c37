/**
 * The DVR pipeline as data: every table of br-int and br-tun with its
 * number, name, role, the tables it may jump to and its named priorities;
 * the metadata bits; the cookie layout. Numbers appear here and nowhere
 * else (style.md §2.4).
 *
 * Table numbers are Neutron's (neutron-lib `ovs_constants.py`, see
 * dvr-pipeline.md §1.1) so `ovs-ofctl dump-flows` reads like a Neutron
 * host. Three br-int tables are ours: Neutron routes in a Linux namespace
 * (`qrouter-…`), we route in OpenFlow (dvr-pipeline.md §5.4 and §7):
 *
 *   40 DVR_LOCAL_RESPONDER  ARP replies for every known IP of the network and
 *                           ICMP echo replies for gateway IPs, on the host;
 *                           ARP requests no flow answers are copied to the
 *                           controller (its fallback responder) and switched
 *   41 DVR_ROUTING          source network + gateway MAC + destination prefix
 *                           → dec_ttl, eth_src = destination gateway MAC
 *   42 DVR_NEIGHBOR         destination network + IP → eth_dst = VM MAC,
 *                           explicit delivery (local port, or tagged to patch-tun)
 *
 * br-int walk of a VM's frame: 0 → 24 (ARP) → 25 → 40 → 41 → 42 (routed) or
 * 58 → 59 → 60 NORMAL (switched). From patch-tun: 0 → 1 (peer DVR MAC:
 * restore the gateway MAC) → 58 → 59 → 60 (I20 direct delivery).
 */

export type BridgeName = "br-int" | "br-tun";
export const BRIDGE_NAMES: readonly BridgeName[] = ["br-int", "br-tun"];

interface TableDecl {
  readonly name: string;
  readonly id: number;
  /** Neutron's constant, when the table is Neutron's. */
  readonly neutron?: string;
  readonly role: string;
  /** Tables a flow here may `goto` (OpenFlow: only higher numbers). */
  readonly next: readonly string[];
  readonly priority: Readonly<Record<string, number>>;
}

export interface Table<P extends string = string> {
  readonly bridge: BridgeName;
  readonly name: string;
  readonly id: number;
  readonly neutron: string | undefined;
  readonly role: string;
  readonly next: readonly number[];
  readonly priority: Readonly<Record<P, number>>;
}

type Tables<D extends readonly TableDecl[]> = {
  readonly [E in D[number] as E["name"]]: Table<keyof E["priority"] & string>;
};

/**
 * Checks a bridge's declaration when the module loads: unique names and
 * numbers, `next` names declared tables with higher numbers (OpenFlow
 * refuses backward gotos: OFPBIC_BAD_TABLE_ID), priorities fit 16 bits.
 */
function defineTables<const D extends readonly TableDecl[]>(
  bridge: BridgeName,
  decls: D,
): Tables<D> {
  const byName = new Map<string, TableDecl>();
  const ids = new Set<number>();
  for (const d of decls) {
    if (byName.has(d.name)) throw new Error(`${bridge}: table ${d.name} declared twice`);
    if (ids.has(d.id)) throw new Error(`${bridge}: table number ${d.id} used twice`);
    if (d.id < 0 || d.id > 253)
      throw new Error(`${bridge}: table ${d.name} number ${d.id} out of range`);
    for (const [k, p] of Object.entries(d.priority)) {
      if (!Number.isInteger(p) || p < 0 || p > 0xffff)
        throw new Error(`${bridge}: ${d.name}.${k} = ${p}`);
    }
    byName.set(d.name, d);
    ids.add(d.id);
  }
  const out: Record<string, Table> = {};
  for (const d of decls) {
    const next = d.next.map((n) => {
      const t = byName.get(n);
      if (t === undefined) throw new Error(`${bridge}: ${d.name} → unknown table ${n}`);
      if (t.id <= d.id)
        throw new Error(`${bridge}: ${d.name} (${d.id}) → ${n} (${t.id}) goes backwards`);
      return t.id;
    });
    out[d.name] = Object.freeze({
      bridge,
      name: d.name,
      id: d.id,
      neutron: d.neutron,
      role: d.role,
      next,
      priority: d.priority,
    });
  }
  return out as Tables<D>;
}

/**
 * Routing priorities: longest prefix wins, so a route's priority is this
 * band plus its prefix length (OVN `lr_in_ip_routing` does the same). One
 * band is enough while routes come only from directly connected subnets.
 */
export const ROUTE_PRIORITY_BAND = 0x1000;

export const BR_INT = defineTables("br-int", [
  {
    name: "LOCAL_SWITCHING",
    id: 0,
    neutron: "LOCAL_SWITCHING",
    role: "classifier: dead VLAN and dead ports, frames from peer DVR MACs, VM ports into port security",
    next: ["DVR_TO_SRC_MAC", "ARP_SPOOF", "MAC_SPOOF", "DVR_LOCAL_RESPONDER", "PACKET_RATE_LIMIT"],
    priority: { miss: 0, peerDvrMac: 2, deadPort: 2, vmPort: 9, vmArp: 10, deadVlan: 65535 },
  },
  {
    name: "DVR_TO_SRC_MAC",
    id: 1,
    neutron: "DVR_TO_SRC_MAC",
    role: "routed frames from a peer host: restore the gateway MAC as source (I19)",
    next: ["PACKET_RATE_LIMIT"],
    priority: { drop: 1, restore: 20 },
  },
  {
    name: "CANARY",
    id: 23,
    neutron: "CANARY_TABLE",
    role: "one drop flow; its absence means the switch lost its flows",
    next: [],
    priority: { canary: 0 },
  },
  {
    name: "ARP_SPOOF",
    id: 24,
    neutron: "ARP_SPOOF_TABLE",
    role: "ARP from a VM must claim one of the VM's IPs",
    next: ["MAC_SPOOF"],
    priority: { drop: 0, allow: 2 },
  },
  {
    name: "MAC_SPOOF",
    id: 25,
    neutron: "MAC_SPOOF_TABLE",
    role: "frames from a VM must carry the VM's MAC",
    next: ["DVR_LOCAL_RESPONDER"],
    priority: { drop: 0, allow: 2 },
  },
  {
    name: "DVR_LOCAL_RESPONDER",
    id: 40,
    role: "answers ARP for known IPs and ICMP echo for gateway IPs on the host; copies other ARP requests to the controller",
    next: ["DVR_ROUTING", "PACKET_RATE_LIMIT"],
    priority: { miss: 0, arpToController: 1, reply: 100, gratuitous: 110 },
  },
  {
    name: "DVR_ROUTING",
    id: 41,
    role: "the distributed router: gateway MAC + destination prefix → next hop network",
    next: ["DVR_NEIGHBOR", "PACKET_RATE_LIMIT"],
    priority: { miss: 0, route: ROUTE_PRIORITY_BAND },
  },
  {
    name: "DVR_NEIGHBOR",
    id: 42,
    role: "static ARP of the routers: destination IP → VM MAC, explicit delivery",
    next: [],
    priority: { miss: 0, neighbor: 100 },
  },
  {
    name: "PACKET_RATE_LIMIT",
    id: 58,
    neutron: "PACKET_RATE_LIMIT",
    role: "QoS packet-rate meters (pass-through)",
    next: ["BANDWIDTH_RATE_LIMIT"],
    priority: { miss: 0 },
  },
  {
    name: "BANDWIDTH_RATE_LIMIT",
    id: 59,
    neutron: "BANDWIDTH_RATE_LIMIT",
    role: "QoS bandwidth meters (pass-through)",
    next: ["TRANSIENT"],
    priority: { miss: 0 },
  },
  {
    name: "TRANSIENT",
    id: 60,
    neutron: "TRANSIENT_TABLE",
    role: "final switching: NORMAL, or direct delivery of frames from peers (I20)",
    next: [],
    priority: { normal: 1, dvrDirect: 20 },
  },
] as const);

export const BR_TUN = defineTables("br-tun", [
  {
    name: "LOCAL_SWITCHING",
    id: 0,
    neutron: "LOCAL_SWITCHING",
    role: "sorts by in_port: patch-int to DVR_PROCESS, tunnels to VXLAN_TUN_TO_LV",
    next: ["DVR_PROCESS", "VXLAN_TUN_TO_LV"],
    priority: { drop: 0, fromPatch: 1, fromTunnel: 1 },
  },
  {
    name: "DVR_PROCESS",
    id: 1,
    neutron: "DVR_PROCESS",
    role: "routed frames leave with this host's DVR MAC; unicast to a gateway MAC never leaves",
    next: ["PATCH_LV_TO_TUN"],
    priority: { miss: 0, fromGateway: 1, toGateway: 2 },
  },
  {
    name: "PATCH_LV_TO_TUN",
    id: 2,
    neutron: "PATCH_LV_TO_TUN",
    role: "splits outbound frames: unicast, multicast, broadcast ARP",
    next: ["UCAST_TO_TUN", "ARP_RESPONDER", "FLOOD_TO_TUN"],
    priority: { split: 0, arpBroadcast: 1 },
  },
  {
    name: "VXLAN_TUN_TO_LV",
    id: 4,
    neutron: "VXLAN_TUN_TO_LV",
    role: "VNI → local VLAN",
    next: ["DVR_NOT_LEARN"],
    priority: { drop: 0, network: 1 },
  },
  {
    name: "DVR_NOT_LEARN",
    id: 9,
    neutron: "DVR_NOT_LEARN",
    role: "frames from peer DVR MACs go to br-int without learning",
    next: ["LEARN_FROM_TUN"],
    priority: { miss: 0, peerDvrMac: 1 },
  },
  {
    name: "LEARN_FROM_TUN",
    id: 10,
    neutron: "LEARN_FROM_TUN",
    role: "learn the sender's tunnel into UCAST_TO_TUN, then to br-int",
    next: [],
    priority: { learn: 1, announcement: 2 },
  },
  {
    name: "UCAST_TO_TUN",
    id: 20,
    neutron: "UCAST_TO_TUN",
    role: "unicast to the tunnel of the destination's host (l2pop; learned below)",
    next: ["FLOOD_TO_TUN"],
    priority: { miss: 0, learned: 1, l2pop: 2 },
  },
  {
    name: "ARP_RESPONDER",
    id: 21,
    neutron: "ARP_RESPONDER",
    role: "answers broadcast ARP for remote ports from l2pop data",
    next: ["FLOOD_TO_TUN"],
    priority: { miss: 0, reply: 1 },
  },
  {
    name: "FLOOD_TO_TUN",
    id: 22,
    neutron: "FLOOD_TO_TUN",
    role: "floods to the network's tunnels; ARP for gateway IPs never leaves",
    next: [],
    priority: { drop: 0, flood: 1, gatewayArpDrop: 3 },
  },
] as const);

/** The tables of a bridge, in number order. */
export function tablesOf(bridge: BridgeName): readonly Table[] {
  const all: Table[] = Object.values(bridge === "br-int" ? BR_INT : BR_TUN);
  return all.sort((a, b) => a.id - b.id);
}

/** A table by bridge and number (for trace and check output). */
export function tableById(bridge: BridgeName, id: number): Table | undefined {
  return tablesOf(bridge).find((t) => t.id === id);
}

/*
 * Metadata (br-int only; OpenFlow 1.3 `metadata`, 64 bits):
 *
 *   63                                         12 11          0
 *  +---------------------------------------------+-------------+
 *  |                  reserved (0)               |  network LV |
 *  +---------------------------------------------+-------------+
 *
 * `network` is the local VLAN of a network on this host. LOCAL_SWITCHING
 * writes the source network of a VM port's frame; DVR_LOCAL_RESPONDER and
 * DVR_ROUTING read it; DVR_ROUTING overwrites it with the destination
 * network, which DVR_NEIGHBOR reads. A VM frame carries no VLAN header inside
 * the tables (its access tag lives in NORMAL only, dvr-pipeline.md §0.2),
 * so this is how the router knows where a frame came from — and why a VM
 * of one tenant cannot reach another tenant's router by its MAC.
 */
export const META = {
  networkMask: 0xfffn,
  network(localVlan: number): { readonly value: bigint; readonly mask: bigint } {
    return { value: BigInt(localVlan) & 0xfffn, mask: 0xfffn };
  },
} as const;

/*
 * Cookies (ecosystem.md §4.5):
 *
 *   63      56 55     48 47                              16 15          0
 *  +----------+---------+----------------------------------+-------------+
 *  |  prefix  |  kind   |   object id (FNV-1a 32 of name)  |  reserved   |
 *  +----------+---------+----------------------------------+-------------+
 *
 * - prefix: `controller.cookie_prefix` (default 0xd5). Flows without it are
 *   not ours and are never touched.
 * - kind: which kind of topology object the flow serves ({@link INTENT}).
 *   `learned` marks flows the switch made with br-tun's `learn` action:
 *   neither diffed nor deleted by reconciliation.
 * - object id: a hash of the object's name, so "every flow of port vm-a" is
 *   one masked delete and a dumped flow maps back to its object. Cookies are
 *   deterministic: a controller restart computes the same ones (Neutron
 *   draws random cookies per start and re-adds every flow; we must not).
 * - reserved: generation bits for the re-add-and-sweep fallback (§4.4).
 */
export const INTENT = {
  pipeline: 0x01,
  peer_host: 0x02,
  network: 0x03,
  tunnel: 0x04,
  local_port: 0x05,
  remote_port: 0x06,
  router_interface: 0x07,
  route: 0x08,
  neighbor: 0x09,
  learned: 0x7f,
} as const;
export type IntentKind = keyof typeof INTENT;

export const COOKIE = {
  prefixShift: 56n,
  kindShift: 48n,
  objectShift: 16n,
  /** Matches the owner byte: `cookie=P<<56/OWNER_MASK` selects all our flows. */
  ownerMask: 0xff00_0000_0000_0000n,
  /** Owner and kind. */
  kindMask: 0xffff_0000_0000_0000n,
  /** Owner, kind and object. */
  objectMask: 0xffff_ffff_ffff_0000n,
} as const;

/** 32-bit FNV-1a of a string's UTF-16 code units (stable across runs and hosts). */
export function objectId(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function cookieFor(prefix: number, kind: IntentKind, objectKey: string): bigint {
  return (
    (BigInt(prefix & 0xff) << COOKIE.prefixShift) |
    (BigInt(INTENT[kind]) << COOKIE.kindShift) |
    (BigInt(objectId(objectKey)) << COOKIE.objectShift)
  );
}

/** The cookie the `learn` action gives the flows it creates. */
export function learnedCookie(prefix: number): bigint {
  return (
    (BigInt(prefix & 0xff) << COOKIE.prefixShift) | (BigInt(INTENT.learned) << COOKIE.kindShift)
  );
}

export function isOurs(cookie: bigint, prefix: number): boolean {
  return (cookie & COOKIE.ownerMask) >> COOKIE.prefixShift === BigInt(prefix & 0xff);
}

/** A flow made by the switch's `learn` action under our prefix. */
export function isLearned(cookie: bigint, prefix: number): boolean {
  return (cookie & COOKIE.kindMask) === learnedCookie(prefix);
}

/** The intent kind encoded in one of our cookies. */
export function intentOf(cookie: bigint): IntentKind | undefined {
  const k = Number((cookie >> COOKIE.kindShift) & 0xffn);
  return (Object.keys(INTENT) as IntentKind[]).find((n) => INTENT[n] === k);
}
