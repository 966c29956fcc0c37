/**
 * Desired flows as values, and the small builders that make them.
 *
 * Flows are built straight into codec values (OXM entries, actions,
 * instructions) rather than through ovs-ofctl text: the compiler must
 * produce hundreds of thousands of flows per second, and the text parser
 * does ~20k/s. Tests hold the two together: every compiled flow, printed
 * with codec/text `formatFlow`, parses back (`parseFlow`) to the same
 * FLOW_MOD bytes, and real `ovs-ofctl parse-flows` accepts the text.
 *
 * The table guard ({@link FlowCollector.add}) refuses a `goto` the table
 * does not declare, so the pipeline in tables.ts stays the truth.
 */
import type { Action } from "../../codec/actions.js";
import type { Instruction } from "../../codec/instructions.js";
import { canonicalMatch } from "../../codec/match.js";
import type { FlowModMessage } from "../../codec/messages/flow-mod.js";
import { fieldByName, type Match, type OxmEntry, type OxmField } from "../../codec/oxm.js";
import { OFPCML_NO_BUFFER, OFPP } from "../../codec/ports.js";
import { formatFlow, parseFlow } from "../../codec/text/index.js";
import { ipv4Bytes, macBytes, prefixMask, type Ipv4Cidr } from "../topology/addr.js";
import { cookieFor, type BridgeName, type IntentKind, type Table } from "./tables.js";
import { ValueCache } from "./value-cache.js";

/** Which topology object a flow serves, and what it does (for trace and check). */
export interface FlowOrigin {
  readonly kind: IntentKind;
  /** "port vm-a", "router r1 → subnet red-v4", "host compute-2", "pipeline". */
  readonly object: string;
  /** Catalogue id and purpose: "I19 restore the gateway MAC (dvr east-west)". */
  readonly role: string;
}

export interface DesiredFlow {
  readonly bridge: BridgeName;
  readonly table: Table;
  readonly priority: number;
  readonly cookie: bigint;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
  /** Identity on the switch: table, priority and match (canonical). */
  readonly key: string;
  readonly origin: FlowOrigin;
}

// ---------------------------------------------------------------------------
// Fields and byte helpers
// ---------------------------------------------------------------------------

function field(name: string): OxmField {
  const f = fieldByName(name);
  if (f === undefined) throw new Error(`codec has no field ${name}`);
  return f;
}

/** The OXM fields the DVR pipeline uses. */
export const F = {
  inPort: field("in_port"),
  metadata: field("metadata"),
  tunId: field("tun_id"),
  ethDst: field("eth_dst"),
  ethSrc: field("eth_src"),
  ethType: field("eth_type"),
  vlanVid: field("vlan_vid"),
  ipProto: field("nw_proto"),
  ipv4Src: field("ip_src"),
  ipv4Dst: field("ip_dst"),
  icmpType: field("icmp_type"),
  icmpv6Type: field("icmpv6_type"),
  arpOp: field("arp_op"),
  arpSpa: field("arp_spa"),
  arpTpa: field("arp_tpa"),
  arpSha: field("arp_sha"),
  arpTha: field("arp_tha"),
} as const;

export const ETH_TYPE = { ipv4: 0x0800, arp: 0x0806, ipv6: 0x86dd, vlan: 0x8100 } as const;
export const IP_PROTO = { icmp: 1, icmpv6: 58 } as const;
export const ARP_OP = { request: 1, reply: 2 } as const;
export const ICMP_TYPE = { echoReply: 0, echoRequest: 8 } as const;
export const ICMPV6_TYPE = { routerAdvert: 134, neighborAdvert: 136 } as const;
/** OXM vlan_vid bit saying "a tag is present" (OFPVID_PRESENT). */
export const OFPVID_PRESENT = 0x1000;
export const BROADCAST_MAC = 0xffffffffffff;
/** The I/G bit of the first octet, as a 48-bit mask. */
export const MULTICAST_BIT = 0x010000000000;

function be(value: number | bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  if (typeof value === "number" && size <= 6) {
    // Exact below 2^53: no bigint on the hot path.
    let v = value;
    for (let i = size - 1; i >= 0; i--) {
      out[i] = v % 256;
      v = Math.floor(v / 256);
    }
    return out;
  }
  let v = BigInt(value);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function bytesFor(f: OxmField, value: number | bigint): Uint8Array {
  if (f.size === 6) return macBytes(Number(value));
  if (f.size === 4 && typeof value === "number") return ipv4Bytes(value);
  return be(value, f.size);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

// ---------------------------------------------------------------------------
// Match builder
// ---------------------------------------------------------------------------

/**
 * Entries and set-field actions are immutable values that recur in many
 * flows (a VM's MAC, a network's VLAN), so they are shared rather than
 * rebuilt: small typed arrays are what a large compile spends its time
 * allocating and collecting. The caches are bounded by generations
 * (value-cache.ts), so a long-running controller does not keep values of
 * objects long gone. {@link VALUE_CACHE_LIMIT} is per generation: the
 * issue's 100 hosts × 50 networks × 2,000 ports use 12,766 distinct entries
 * and 8,402 set-fields in all (about 6 and 4 per port), so it holds about
 * 10,000 ports' worth before a turnover, and a single host's compile
 * (10,148 entries at that scale) keeps every value it reuses.
 */
export const VALUE_CACHE_LIMIT = 1 << 16;
const entryCache = new ValueCache<OxmField, OxmEntry>(VALUE_CACHE_LIMIT);
const setFieldCache = new ValueCache<OxmField, Action>(VALUE_CACHE_LIMIT);

function oxmEntry(f: OxmField, value: number | bigint, mask?: number | bigint): OxmEntry {
  let e = entryCache.get(f, value, mask);
  if (e === undefined) {
    e = {
      field: f,
      value: bytesFor(f, value),
      mask: mask === undefined ? undefined : bytesFor(f, mask),
    };
    entryCache.set(f, value, mask, e);
  }
  return e;
}

/** Chainable match: each call adds one OXM entry; prerequisites are the caller's job. */
export class MatchBuilder {
  readonly entries: OxmEntry[] = [];

  private put(f: OxmField, value: number | bigint, mask?: number | bigint): this {
    this.entries.push(oxmEntry(f, value, mask));
    return this;
  }
  inPort(port: number): this {
    return this.put(F.inPort, port);
  }
  /** `dl_vlan=N`: a tag with VID N. */
  vlan(vid: number): this {
    return this.put(F.vlanVid, OFPVID_PRESENT | vid);
  }
  ethSrc(mac: number): this {
    return this.put(F.ethSrc, mac);
  }
  ethDst(mac: number, mask?: number): this {
    return this.put(F.ethDst, mac, mask);
  }
  ethType(t: number): this {
    return this.put(F.ethType, t);
  }
  arp(): this {
    return this.ethType(ETH_TYPE.arp);
  }
  ip(): this {
    return this.ethType(ETH_TYPE.ipv4);
  }
  icmp(): this {
    return this.ip().put(F.ipProto, IP_PROTO.icmp);
  }
  icmp6(): this {
    return this.ethType(ETH_TYPE.ipv6).put(F.ipProto, IP_PROTO.icmpv6);
  }
  icmpType(t: number): this {
    return this.put(F.icmpType, t);
  }
  icmpv6Type(t: number): this {
    return this.put(F.icmpv6Type, t);
  }
  arpOp(op: number): this {
    return this.put(F.arpOp, op);
  }
  arpSpa(ip: number): this {
    return this.put(F.arpSpa, ip);
  }
  arpTpa(ip: number): this {
    return this.put(F.arpTpa, ip);
  }
  arpTha(mac: number): this {
    return this.put(F.arpTha, mac);
  }
  ipv4Dst(ip: number): this {
    return this.put(F.ipv4Dst, ip);
  }
  ipv4DstPrefix(c: Ipv4Cidr): this {
    if (c.prefixLength === 32) return this.ipv4Dst(c.network);
    return this.put(F.ipv4Dst, c.network, prefixMask(c.prefixLength));
  }
  tunId(vni: number): this {
    return this.put(F.tunId, BigInt(vni));
  }
  metadata(m: { readonly value: bigint; readonly mask: bigint }): this {
    return this.put(F.metadata, m.value, m.mask);
  }
}

export function match(): MatchBuilder {
  return new MatchBuilder();
}

// ---------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------

export const act = {
  output(port: number): Action {
    return { type: "output", port, maxLen: 0 };
  },
  inPort(): Action {
    return { type: "output", port: OFPP.IN_PORT, maxLen: 0 };
  },
  normal(): Action {
    return { type: "output", port: OFPP.NORMAL, maxLen: 0 };
  },
  /**
   * The packet to the controller: whole (`CONTROLLER:65535`, OFPCML_NO_BUFFER)
   * or its first `maxLen` bytes (`CONTROLLER:N`).
   */
  controller(maxLen: number = OFPCML_NO_BUFFER): Action {
    return { type: "output", port: OFPP.CONTROLLER, maxLen };
  },
  pushVlan(): Action {
    return { type: "push_vlan", ethertype: ETH_TYPE.vlan };
  },
  popVlan(): Action {
    return { type: "pop_vlan" };
  },
  /** OFPAT_DEC_NW_TTL (ovs-ofctl `dec_ttl`). */
  decTtl(): Action {
    return { type: "dec_nw_ttl" };
  },
  setField(f: OxmField, value: number | bigint): Action {
    let a = setFieldCache.get(f, value);
    if (a === undefined) {
      a = { type: "set_field", entry: oxmEntry(f, value) };
      setFieldCache.set(f, value, undefined, a);
    }
    return a;
  },
  setVlan(vid: number): Action {
    return act.setField(F.vlanVid, OFPVID_PRESENT | vid);
  },
};

/**
 * Actions that are constant (NXAST_REG_MOVE between fixed fields, the learn
 * action), taken from ovs-ofctl text once at load so their encoding is
 * exactly the text layer's.
 */
function actionsOf(flowText: string): readonly Action[] {
  const p = parseFlow(flowText);
  const apply = p.instructions.find((i) => i.type === "apply_actions");
  if (apply === undefined || apply.type !== "apply_actions")
    throw new Error(`no actions in ${flowText}`);
  return apply.actions;
}

function one(flowText: string): Action {
  const a = actionsOf(flowText)[0];
  if (a === undefined) throw new Error(`no action in ${flowText}`);
  return a;
}

export const MOVE = {
  ethSrcToEthDst: one("actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]"),
  arpShaToArpTha: one("arp,actions=move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]"),
  arpSpaToArpTpa: one("arp,actions=move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]"),
  ipSrcToIpDst: one("ip,actions=move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[]"),
} as const;

const learnCache = new Map<string, Action>();

/**
 * br-tun's MAC learning (T7/T8): learn (VLAN, source MAC) → this tunnel
 * into UCAST_TO_TUN at priority `learnedPriority` with a hard timeout of
 * 300 s and the learned-flow cookie.
 */
export function learnAction(opts: {
  readonly table: number;
  readonly priority: number;
  readonly cookie: bigint;
}): Action {
  const k = `${opts.table}/${opts.priority}/${opts.cookie}`;
  let a = learnCache.get(k);
  if (a === undefined) {
    a = one(
      `actions=learn(table=${opts.table},hard_timeout=300,priority=${opts.priority},` +
        `cookie=0x${opts.cookie.toString(16)},NXM_OF_VLAN_TCI[0..11],` +
        "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[]," +
        "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[])",
    );
    learnCache.set(k, a);
  }
  return a;
}

// ---------------------------------------------------------------------------
// Collector (the table guard)
// ---------------------------------------------------------------------------

export interface FlowSpec<P extends string> {
  readonly priority: P | number;
  readonly match?: MatchBuilder;
  readonly actions?: readonly Action[];
  readonly writeMetadata?: { readonly value: bigint; readonly mask: bigint };
  readonly goto?: Table;
  readonly origin: FlowOrigin;
  /** Cookie object key; default `${origin.kind}/${origin.object}`. */
  readonly cookieKey?: string;
}

/** Thrown when two objects want the same (table, priority, match) with different actions. */
export class FlowConflictError extends Error {
  constructor(
    readonly first: DesiredFlow,
    readonly second: DesiredFlow,
  ) {
    super(
      `flow conflict in ${first.bridge} table ${first.table.name}: ` +
        `${first.origin.object} (${first.origin.role}) and ${second.origin.object} (${second.origin.role}) ` +
        `want the same match with different actions: ${formatDesiredFlow(first)} / ${formatDesiredFlow(second)}`,
    );
    this.name = "FlowConflictError";
  }
}

function instructionsKey(list: readonly Instruction[]): string {
  // Cheap structural identity for duplicate detection (not a wire encoding).
  return JSON.stringify(list, (_k, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? hex(v) : v,
  );
}

/**
 * Each entry's part of a flow's identity key, `field=hex[/hex],`. Entries
 * are shared values (the value cache), so the text is made once per entry,
 * not once per flow that uses it.
 */
const entryKeys = new WeakMap<OxmEntry, string>();

function entryKey(e: OxmEntry, f: OxmField): string {
  let k = entryKeys.get(e);
  if (k === undefined) {
    k = `${f.name}=${hex(e.value)}${e.mask === undefined ? "" : `/${hex(e.mask)}`},`;
    entryKeys.set(e, k);
  }
  return k;
}

/** Collects one bridge's flows, checking each against its table's declaration. */
export class FlowCollector {
  private readonly byKey = new Map<string, DesiredFlow>();
  private readonly cookies = new Map<string, bigint>();

  constructor(
    readonly bridge: BridgeName,
    readonly cookiePrefix: number,
  ) {}

  add<P extends string>(table: Table<P>, spec: FlowSpec<P>): void {
    if (table.bridge !== this.bridge) {
      throw new Error(`table ${table.name} belongs to ${table.bridge}, not ${this.bridge}`);
    }
    const priority =
      typeof spec.priority === "number" ? spec.priority : table.priority[spec.priority];
    if (
      priority === undefined ||
      !Number.isInteger(priority) ||
      priority < 0 ||
      priority > 0xffff
    ) {
      throw new Error(`${table.name}: bad priority ${String(spec.priority)}`);
    }
    const instructions: Instruction[] = [];
    if (spec.actions !== undefined && spec.actions.length > 0) {
      instructions.push({ type: "apply_actions", actions: spec.actions });
    }
    if (spec.writeMetadata !== undefined) {
      instructions.push({
        type: "write_metadata",
        metadata: spec.writeMetadata.value,
        mask: spec.writeMetadata.mask,
      });
    }
    if (spec.goto !== undefined) {
      if (!table.next.includes(spec.goto.id) || spec.goto.bridge !== this.bridge) {
        throw new Error(`${this.bridge} ${table.name} may not go to ${spec.goto.name}`);
      }
      instructions.push({ type: "goto_table", tableId: spec.goto.id });
    }
    const m = canonicalMatch({ entries: spec.match?.entries ?? [] });
    let key = `${table.id}/${priority}/`;
    for (const e of m.entries) if (e.field !== undefined) key += entryKey(e, e.field);
    const flow: DesiredFlow = {
      bridge: this.bridge,
      table,
      priority,
      cookie: this.cookie(
        spec.origin.kind,
        spec.cookieKey ?? `${spec.origin.kind}/${spec.origin.object}`,
      ),
      match: m,
      instructions,
      key,
      origin: spec.origin,
    };
    const prev = this.byKey.get(key);
    if (prev !== undefined) {
      // The same flow wanted twice (e.g. one network reached through two
      // objects) is fine; two different wishes for one match are a bug.
      if (instructionsKey(prev.instructions) !== instructionsKey(flow.instructions)) {
        throw new FlowConflictError(prev, flow);
      }
      return;
    }
    this.byKey.set(key, flow);
  }

  private cookie(kind: IntentKind, objectKey: string): bigint {
    let c = this.cookies.get(objectKey);
    if (c === undefined) {
      c = cookieFor(this.cookiePrefix, kind, objectKey);
      this.cookies.set(objectKey, c);
    }
    return c;
  }

  /** The flows in deterministic order: table, then descending priority, then key. */
  flows(): DesiredFlow[] {
    return [...this.byKey.values()].sort(compareFlows);
  }
}

export function compareFlows(a: DesiredFlow, b: DesiredFlow): number {
  return (
    a.table.id - b.table.id ||
    b.priority - a.priority ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
}

/** The FLOW_MOD (OFPFC_ADD) that installs a desired flow. */
export function toFlowMod(f: DesiredFlow, xid = 0): FlowModMessage {
  return {
    type: "flow_mod",
    xid,
    cookie: f.cookie,
    cookieMask: 0n,
    tableId: f.table.id,
    command: 0,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: f.priority,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: 0xffffffff,
    flags: 0,
    match: f.match,
    instructions: f.instructions,
  };
}

/**
 * The flow as an `ovs-ofctl dump-flows --no-stats` line, which is also valid
 * `add-flows`/`replace-flows` input.
 */
export function formatDesiredFlow(f: DesiredFlow): string {
  return formatFlow(toFlowMod(f));
}
