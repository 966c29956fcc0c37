/**
 * Packet-in handling: the controller's part of the data plane, for what the
 * flows could not do themselves (issue §4).
 *
 * - ARP responder fallback. The flows (br-int table 40) answer ARP for every
 *   known address; a request that still reaches us — flows not yet
 *   installed, a port the switch has just reported — is answered with a
 *   PACKET_OUT carrying the reply (the bytes codec/packet's `arpReply`
 *   builds, written in place: {@link arpReplyFrame}), sent back out of
 *   the port it came in on. Only for addresses the *intent* holds (a port's
 *   fixed IP or a router interface of the requester's network);
 *   anything else gets no reply (reliability.md §4.3 rule 2).
 * - Route miss. A routed packet whose destination has no neighbour flow yet
 *   (br-int table 42's miss, or a frame for a gateway MAC seen before the
 *   routing flows exist) is forwarded by a PACKET_OUT whose actions do what
 *   the missing flows would: decrement the TTL, rewrite the source MAC to the
 *   destination subnet's gateway MAC and the destination MAC to the VM's,
 *   and deliver explicitly (local port, or tagged to patch-tun). The caller
 *   then re-reconciles the bridge, so the next packet takes the flows. The
 *   first packet is not lost.
 *
 * Untrusted input (reliability.md §4.3): a packet-in only triggers lookups
 * in intent and never writes state. ARP from a VM port must carry the
 * port's MAC as Ethernet and ARP sender, and one of its IPs (or 0.0.0.0, an
 * RFC 5227 probe) as sender IP; anything else is dropped as spoofed. A frame
 * that does not parse is dropped. Rate limiting (token buckets per switch
 * and {@link PacketInClass}, {@link PacketInLimiter}) is applied by the
 * caller before this runs.
 *
 * Pure: returns a decision; the connection sends it.
 */
import type { Action } from "../../codec/actions.js";
import { ARP as ARP_CONST, ARP_AT, ETH_TYPE, HDR, VLAN } from "../../codec/packet/constants.js";
import { putU16, putU32 } from "../../codec/writer.js";
import { FK, FlowKey } from "../../codec/packet/flow-key.js";
import { parseFrame, PARSE_STATUS } from "../../codec/packet/parse.js";
import type { PacketInMessage } from "../../codec/messages/packet-in.js";
import type { PacketOutMessage } from "../../codec/messages/packet-out.js";
import { OFP_NO_BUFFER } from "../../codec/messages/flow-mod.js";
import type { MatchEntry } from "../../codec/oxm.js";
import { OFPP } from "../../codec/ports.js";
import { act, F } from "../dvr/flow.js";
import { BR_INT } from "../dvr/tables.js";
import { PATCH_TUN } from "../dvr/compile/ports.js";
import type { BridgeName } from "../dvr/tables.js";
import type { IndexedInterface, IndexedPort, TopologyIndex } from "../topology/indexed.js";

/** Packet-in outcomes, also the `reason` label of the packet-in metric. */
export const PACKET_IN_REASON = {
  arpReply: "arp_reply",
  arpUnknownTarget: "arp_unknown_target",
  arpSpoofed: "arp_spoofed",
  arpNotRequest: "arp_not_request",
  routeForwarded: "route_miss_forwarded",
  routeUnknown: "route_miss_unknown",
  ttlExceeded: "ttl_exceeded",
  noNetwork: "unknown_network",
  portNotOnSwitch: "port_not_on_switch",
  notOnBrInt: "not_br_int",
  malformed: "malformed",
  truncated: "truncated",
  unhandled: "unhandled",
  rateLimited: "rate_limited",
  backpressure: "backpressure",
} as const;
export type PacketInReason = (typeof PACKET_IN_REASON)[keyof typeof PACKET_IN_REASON];

export type PacketInDecision =
  | {
      readonly kind: "reply";
      readonly reason: PacketInReason;
      readonly packetOut: PacketOutMessage;
      readonly resync: boolean;
    }
  | { readonly kind: "drop"; readonly reason: PacketInReason };

type DropDecision = Extract<PacketInDecision, { kind: "drop" }>;

/**
 * One shared, frozen decision per drop reason: dropping allocates nothing,
 * so a flood of packet-ins we refuse (spoofed or unknown ARP) costs no
 * garbage.
 */
const DROP = Object.freeze(
  Object.fromEntries(
    Object.values(PACKET_IN_REASON).map((reason) => [
      reason,
      Object.freeze({ kind: "drop", reason } as const),
    ]),
  ),
) as Readonly<Record<PacketInReason, DropDecision>>;

/** What the intent says about one address on one network. */
interface Owner {
  readonly mac: number;
  readonly port?: IndexedPort;
  readonly gateway?: IndexedInterface;
}

/**
 * The lookups packet-ins need, built once per topology generation from the
 * index and the host's local VLANs.
 */
export class PacketInIntent {
  /** network → IP → owner. */
  private readonly owners = new Map<string, Map<number, Owner>>();
  /** gateway MAC → router interfaces with it. */
  private readonly gatewaysByMac = new Map<number, IndexedInterface[]>();
  /** host → interface name → port. */
  private readonly portsByIface = new Map<string, Map<string, IndexedPort>>();
  private readonly lvToNetwork = new Map<string, Map<number, string>>();

  constructor(
    readonly index: TopologyIndex,
    readonly localVlans: ReadonlyMap<string, ReadonlyMap<string, number>>,
  ) {
    const own = (network: string, ip: number, o: Owner) => {
      let m = this.owners.get(network);
      if (m === undefined) this.owners.set(network, (m = new Map()));
      if (!m.has(ip)) m.set(ip, o);
    };
    for (const r of index.routers) {
      for (const i of r.interfaces) {
        own(i.network, i.ip, { mac: i.mac, gateway: i });
        const l = this.gatewaysByMac.get(i.mac);
        if (l === undefined) this.gatewaysByMac.set(i.mac, [i]);
        else l.push(i);
      }
    }
    for (const p of index.ports) {
      for (const a of p.addresses) own(p.network, a.ip, { mac: p.mac, port: p });
      let m = this.portsByIface.get(p.host);
      if (m === undefined) this.portsByIface.set(p.host, (m = new Map()));
      m.set(p.interfaceName, p);
    }
    for (const [host, nets] of localVlans) {
      this.lvToNetwork.set(host, new Map([...nets].map(([n, lv]) => [lv, n])));
    }
  }

  owner(network: string, ip: number): Owner | undefined {
    return this.owners.get(network)?.get(ip);
  }

  port(host: string, iface: string): IndexedPort | undefined {
    return this.portsByIface.get(host)?.get(iface);
  }

  networkOfLv(host: string, lv: number): string | undefined {
    return this.lvToNetwork.get(host)?.get(lv);
  }

  lvOf(host: string, network: string): number | undefined {
    return this.localVlans.get(host)?.get(network);
  }

  gateways(mac: number): readonly IndexedInterface[] {
    return this.gatewaysByMac.get(mac) ?? [];
  }
}

/** The switch-side facts a packet-in is read against. */
export interface PacketInSwitch {
  readonly host: string;
  readonly bridge: BridgeName;
  /** Port name of a port number on this bridge. */
  portName(no: number): string | undefined;
  /** Port number of a port name on this bridge. */
  portNumber(name: string): number | undefined;
}

const key = new FlowKey();
const NEIGHBOR_TABLE = BR_INT.DVR_NEIGHBOR.id;

function be(b: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < b.length && i < 6; i++) v = v * 256 + b[i]!;
  return v;
}

function field(entries: readonly MatchEntry[], name: string): Uint8Array | undefined {
  for (const e of entries) if (e.field !== undefined && e.field.name === name) return e.value;
  return undefined;
}

const mac48 = (hi: number, lo: number) => hi * 0x1_0000_0000 + lo;

/** Decides what to do with one packet-in. */
export function handlePacketIn(
  intent: PacketInIntent,
  sw: PacketInSwitch,
  msg: PacketInMessage,
): PacketInDecision {
  if (sw.bridge !== "br-int") return DROP[PACKET_IN_REASON.notOnBrInt];
  const inPortBytes = field(msg.match.entries, "in_port");
  if (inPortBytes === undefined) return DROP[PACKET_IN_REASON.malformed];
  const inPort = be(inPortBytes) >>> 0;
  key.clear();
  if (parseFrame(msg.data, key) !== PARSE_STATUS.OK) {
    return DROP[PACKET_IN_REASON.malformed];
  }
  const w = key.w;
  const metadata = field(msg.match.entries, "metadata");
  // The network: the pipeline's metadata when set (the local VLAN, tables.ts
  // META), else the VM port it came in on, else its VLAN tag (patch-tun).
  const inPortName = sw.portName(inPort);
  const vmPort = inPortName === undefined ? undefined : intent.port(sw.host, inPortName);
  let network: string | undefined;
  if (metadata !== undefined)
    network = intent.networkOfLv(sw.host, metadata[7]! | ((metadata[6]! & 0x0f) << 8));
  network ??= vmPort?.network;
  if (network === undefined && (w[FK.VLAN_TCI]! & 0x1000) !== 0) {
    network = intent.networkOfLv(sw.host, w[FK.VLAN_TCI]! & 0x0fff);
  }
  if (network === undefined) return DROP[PACKET_IN_REASON.noNetwork];

  const ethType = w[FK.ETH_TYPE]!;
  if (ethType === ETH_TYPE.ARP) return arp(intent, inPort, vmPort, network);
  if (ethType === ETH_TYPE.IPV4) {
    // A frame cut to miss_send_len cannot be forwarded.
    if (msg.data.byteLength < msg.totalLen) return DROP[PACKET_IN_REASON.truncated];
    return routeMiss(intent, sw, inPort, network, msg.tableId === NEIGHBOR_TABLE);
  }
  return DROP[PACKET_IN_REASON.unhandled];
}

function arp(
  intent: PacketInIntent,
  inPort: number,
  vmPort: IndexedPort | undefined,
  network: string,
): PacketInDecision {
  const w = key.w;
  if (w[FK.ARP_OP] !== ARP_CONST.OP_REQUEST) return DROP[PACKET_IN_REASON.arpNotRequest];
  const sha = mac48(w[FK.ARP_SHA_HI]!, w[FK.ARP_SHA_LO]!);
  const ethSrc = mac48(w[FK.ETH_SRC_HI]!, w[FK.ETH_SRC_LO]!);
  const spa = w[FK.ARP_SPA]!;
  const tpa = w[FK.ARP_TPA]!;
  if (vmPort !== undefined && vmPort.portSecurity) {
    if (sha !== vmPort.mac || ethSrc !== vmPort.mac || !claims(vmPort, spa)) {
      return DROP[PACKET_IN_REASON.arpSpoofed];
    }
  }
  const owner = intent.owner(network, tpa);
  // A VM asking for its own address (a gratuitous ARP or a DAD probe) gets no answer.
  if (owner === undefined || (owner.port !== undefined && owner.port === vmPort)) {
    return DROP[PACKET_IN_REASON.arpUnknownTarget];
  }
  const tci = w[FK.VLAN_TCI]!;
  const vid = (tci & VLAN.CFI) !== 0 ? tci & VLAN.VID_MASK : UNTAGGED;
  return {
    kind: "reply",
    reason: PACKET_IN_REASON.arpReply,
    packetOut: packetOut(inPort, OUT_IN_PORT, arpReplyFrame(owner.mac, tpa, ethSrc, spa, vid)),
    resync: false,
  };
}

/** The sender IP of an ARP from a port-secured VM: one of its IPs, or 0.0.0.0 (RFC 5227 probe). */
function claims(port: IndexedPort, spa: number): boolean {
  if (spa === 0) return true;
  for (const a of port.addresses) if (a.ip === spa) return true;
  return false;
}

/** The one action of an ARP reply: back out of the port the request came in on. */
const OUT_IN_PORT: readonly Action[] = Object.freeze([Object.freeze(act.inPort())]);
const UNTAGGED = -1;

/**
 * "`ip` is at `mac`", unicast to the asker: the frame codec/packet's
 * `arpReply` builds (RFC 826 reply, Ethernet source = sender hardware
 * address, destination and target hardware address = the request's
 * Ethernet source, an 802.1Q tag with the request's VID when it had one,
 * no padding), written field by field into one fresh array. This is the
 * hot path of a packet-in flood, where the builder's option objects cost
 * more than the reply itself.
 */
function arpReplyFrame(
  mac: number,
  ip: number,
  askerMac: number,
  askerIp: number,
  vid: number,
): Uint8Array {
  const l3 = vid === UNTAGGED ? HDR.ETH : HDR.ETH + HDR.VLAN_TAG;
  const f = new Uint8Array(l3 + HDR.ARP_ETH_IPV4);
  putMac(f, ETH_AT.dst, askerMac);
  putMac(f, ETH_AT.src, mac);
  if (vid !== UNTAGGED) {
    putU16(f, ETH_AT.tpid, ETH_TYPE.VLAN);
    putU16(f, ETH_AT.tci, vid); // PCP 0, DEI 0, as arpReply's `{ vid }` tag
  }
  putU16(f, l3 - ETH_TYPE_LEN, ETH_TYPE.ARP);
  putU16(f, l3 + ARP_AT.htype, ARP_CONST.HTYPE_ETHERNET);
  putU16(f, l3 + ARP_AT.ptype, ETH_TYPE.IPV4);
  f[l3 + ARP_AT.hlen] = MAC_LEN;
  f[l3 + ARP_AT.plen] = IPV4_LEN;
  putU16(f, l3 + ARP_AT.oper, ARP_CONST.OP_REPLY);
  putMac(f, l3 + ARP_AT.sha, mac);
  putU32(f, l3 + ARP_AT.spa, ip);
  putMac(f, l3 + ARP_AT.tha, askerMac);
  putU32(f, l3 + ARP_AT.tpa, askerIp);
  return f;
}

/** Ethernet header offsets; the 802.1Q TPID and TCI when tagged (IEEE 802.1Q §9.6). */
const ETH_AT = { dst: 0, src: 6, tpid: 12, tci: 14 } as const;
const ETH_TYPE_LEN = 2;
const MAC_LEN = 6;
const IPV4_LEN = 4;
const TWO_32 = 0x1_0000_0000;

/** A 48-bit MAC held as a number (topology/addr.ts). */
function putMac(b: Uint8Array, o: number, mac: number): void {
  putU16(b, o, Math.floor(mac / TWO_32));
  putU32(b, o + 2, mac % TWO_32);
}

function routeMiss(
  intent: PacketInIntent,
  sw: PacketInSwitch,
  inPort: number,
  network: string,
  routed: boolean,
): PacketInDecision {
  const w = key.w;
  const dst = w[FK.NW_DST]!;
  const actions: Action[] = [];
  let dstNetwork = network;
  if (!routed) {
    // Not routed yet: the frame must be for a gateway MAC of a router on its
    // network, and the destination in another subnet of that router.
    const ethDst = mac48(w[FK.ETH_DST_HI]!, w[FK.ETH_DST_LO]!);
    const src = intent.gateways(ethDst).find((i) => i.network === network);
    if (src === undefined) return DROP[PACKET_IN_REASON.unhandled];
    const router = intent.index.routers.find((r) => r.name === src.router);
    const out = router?.interfaces.find((i) => inCidr(i.subnet.cidr, dst));
    if (out === undefined) return DROP[PACKET_IN_REASON.routeUnknown];
    if (w[FK.NW_TTL]! <= 1) return DROP[PACKET_IN_REASON.ttlExceeded];
    actions.push(act.decTtl(), act.setField(F.ethSrc, out.mac));
    dstNetwork = out.network;
  }
  const owner = intent.owner(dstNetwork, dst);
  if (owner?.port === undefined) return DROP[PACKET_IN_REASON.routeUnknown];
  const q = owner.port;
  actions.push(act.setField(F.ethDst, q.mac));
  if (q.host === sw.host) {
    const out = sw.portNumber(q.interfaceName);
    if (out === undefined) return DROP[PACKET_IN_REASON.portNotOnSwitch];
    actions.push(act.output(out));
  } else {
    const patch = sw.portNumber(PATCH_TUN);
    const lv = intent.lvOf(sw.host, dstNetwork);
    if (patch === undefined || lv === undefined) return DROP[PACKET_IN_REASON.portNotOnSwitch];
    actions.push(act.pushVlan(), act.setVlan(lv), act.output(patch));
  }
  return {
    kind: "reply",
    reason: PACKET_IN_REASON.routeForwarded,
    packetOut: packetOut(inPort, actions, null),
    resync: true,
  };
}

function inCidr(
  c: { readonly network: number; readonly prefixLength: number },
  ip: number,
): boolean {
  const mask = c.prefixLength === 0 ? 0 : (0xffffffff << (32 - c.prefixLength)) >>> 0;
  return (ip & mask) >>> 0 === c.network;
}

/** `data` null: the packet-in's own frame (filled by the caller). */
function packetOut(
  inPort: number,
  actions: readonly Action[],
  data: Uint8Array | null,
): PacketOutMessage {
  return {
    type: "packet_out",
    xid: 0,
    bufferId: OFP_NO_BUFFER,
    inPort: inPort === 0 ? OFPP.CONTROLLER : inPort,
    actions,
    data: data ?? new Uint8Array(0),
  };
}

/** A PACKET_OUT that forwards the packet-in's frame itself (route miss). */
export function withFrame(po: PacketOutMessage, frame: Uint8Array): PacketOutMessage {
  return po.data.byteLength > 0 ? po : { ...po, data: frame };
}

/**
 * Rate-limit classes of packet-ins, told apart by the flow that sent them
 * (the switch's table id, not the VM-controlled frame) before anything is
 * parsed. Each has its own bucket per switch, so a VM that ARP-scans its
 * subnet (every unanswered request reaches br-int table 40's
 * controller flow) uses up the ARP bucket only, and route misses (table 42)
 * are still forwarded. Also the `class` label of the packet-in metric.
 */
export const PACKET_IN_CLASS = {
  /** br-int DVR_LOCAL_RESPONDER: ARP requests no responder flow answered. */
  arp: "arp",
  /** br-int DVR_NEIGHBOR: routed packets with no neighbour flow yet. */
  routeMiss: "route_miss",
  /** Anything else (no compiled flow sends it: dropped after parsing). */
  other: "other",
} as const;
export type PacketInClass = (typeof PACKET_IN_CLASS)[keyof typeof PACKET_IN_CLASS];
export const PACKET_IN_CLASSES: readonly PacketInClass[] = Object.values(PACKET_IN_CLASS);

const ARP_TABLE = BR_INT.DVR_LOCAL_RESPONDER.id;

/** The class of a packet-in from `bridge`'s table `tableId`. */
export function packetInClass(bridge: BridgeName, tableId: number): PacketInClass {
  if (bridge !== "br-int") return PACKET_IN_CLASS.other;
  if (tableId === ARP_TABLE) return PACKET_IN_CLASS.arp;
  if (tableId === NEIGHBOR_TABLE) return PACKET_IN_CLASS.routeMiss;
  return PACKET_IN_CLASS.other;
}

/** One token bucket's settings: packet-ins per second, and how many may be banked. */
export interface PacketInLimit {
  readonly rate: number;
  readonly burst: number;
}

/**
 * Per switch and class. Route misses keep the single bucket's settings of
 * before the split (1000/s, burst 200), and so do the other classes: each
 * class can no longer eat the others' budget.
 */
export const DEFAULT_PACKET_IN_LIMIT: PacketInLimit = Object.freeze({ rate: 1000, burst: 200 });

export type PacketInLimits = Readonly<Record<PacketInClass, PacketInLimit>>;

/** `limits` over {@link DEFAULT_PACKET_IN_LIMIT}, or over `fallback` when given. */
export function packetInLimits(
  limits: Partial<Record<PacketInClass, PacketInLimit>> = {},
  fallback: PacketInLimit = DEFAULT_PACKET_IN_LIMIT,
): PacketInLimits {
  return Object.freeze({
    arp: limits.arp ?? fallback,
    route_miss: limits.route_miss ?? fallback,
    other: limits.other ?? fallback,
  });
}

/** One switch's packet-in buckets, one per {@link PacketInClass}. */
export class PacketInLimiter {
  private readonly arp: TokenBucket;
  private readonly routeMiss: TokenBucket;
  private readonly other: TokenBucket;

  constructor(limits: PacketInLimits) {
    this.arp = new TokenBucket(limits.arp.rate, limits.arp.burst);
    this.routeMiss = new TokenBucket(limits.route_miss.rate, limits.route_miss.burst);
    this.other = new TokenBucket(limits.other.rate, limits.other.burst);
  }

  /** Takes a token of `cls`'s bucket at `now` (ms); false = over the limit, drop. */
  take(cls: PacketInClass, now: number): boolean {
    switch (cls) {
      case PACKET_IN_CLASS.arp:
        return this.arp.take(now);
      case PACKET_IN_CLASS.routeMiss:
        return this.routeMiss.take(now);
      case PACKET_IN_CLASS.other:
        return this.other.take(now);
      default: {
        const never: never = cls;
        throw new Error(`unknown packet-in class ${String(never)}`);
      }
    }
  }
}

/**
 * A token bucket: `rate` tokens per second, at most `burst` banked. Time is
 * an argument (ms), so tests need no clock.
 */
export class TokenBucket {
  private tokens: number;
  private last: number | undefined;

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(now: number): boolean {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    }
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
