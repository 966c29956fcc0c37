/**
 * A bridge: ports, tables 0–253, groups, the MAC table for NORMAL, counters
 * and the messages it sends on its own (packet-in, flow-removed). Pure: no
 * sockets, no timers — time comes in as `nowMs` arguments, frames leave
 * through a {@link TxSink}, and messages wait in {@link Bridge.outbox} for
 * whoever speaks OpenFlow for the bridge.
 *
 * Bridges live in a {@link Datapath}, which owns the per-thread walk state and
 * joins patch ports; build one with `datapath.addBridge(...)`.
 */
import { OfpError } from "../codec/errors.js";
import type { LearnAction } from "../codec/actions.js";
import { entry as oxmEntry } from "../codec/match.js";
import type { FlowModMessage } from "../codec/messages/flow-mod.js";
import { OFPGC, type GroupModMessage } from "../codec/messages/group-mod.js";
import { OFPRR } from "../codec/messages/flow-removed.js";
import { OFPPC } from "../codec/messages/port.js";
import type { PacketInMessage } from "../codec/messages/packet-in.js";
import type { OfMessage } from "../codec/message.js";
import { fieldByName, type OxmEntry } from "../codec/oxm.js";
import {
  ETH_TYPE,
  HDR,
  IP_PROTO,
  VXLAN_FLAG_I,
  VXLAN_UDP_PORT,
} from "../codec/packet/constants.js";
import { setIpv4HeaderChecksum } from "../codec/packet/checksum.js";
import { FK, type FlowKey } from "../codec/packet/flow-key.js";
import { vxlanSourcePort } from "../codec/packet/vxlan.js";
import { OFPP, OFPCML_NO_BUFFER } from "../codec/ports.js";
import type { CompileContext } from "./actions/compile.js";
import type { FlowEntry } from "./flow-entry.js";
import { applyFlowMod, entryUsesGroup, flowRemovedFor, prepareMatch } from "./flow-mod.js";
import { FlowTable } from "./flow-table.js";
import { compileBuckets, Group, OFPG } from "./groups.js";
import { learnedFlowMod } from "./learn.js";
import { formatInstructions } from "../codec/text/actions-format.js";
import { MacTable } from "./normal.js";
import { PacketBuffer } from "./packet.js";
import { ProgramCache } from "./program-intern.js";
import { MAX_OFPORT, Port, type PortSpec } from "./ports.js";
import type { Datapath } from "./datapath.js";
import type { StagedTunnel } from "./pipeline.js";

/** Port numbers below this are also kept in {@link Bridge.portArray}. */
export const PORT_ARRAY_SIZE = 1024;

/** OpenFlow tables a controller can use (OVS hides 254). */
export const N_TABLES = 254;
/** OF1.3 default miss_send_len (`OFP_DEFAULT_MISS_SEND_LEN`). */
export const DEFAULT_MISS_SEND_LEN = 128;
/** OF1.1–1.3 `OFPC_INVALID_TTL_TO_CONTROLLER` (switch-config flag). */
export const OFPC_INVALID_TTL_TO_CONTROLLER = 1 << 2;

/** Where frames leave the pure core. `frame` is valid only during the call. */
export interface TxSink {
  transmit(port: Port, frame: Uint8Array, len: number): void;
  /**
   * Optional: the frame at `buf[off, off + len)`, also valid only during the
   * call. The megaflow fast path sends frames in place with it (no copy);
   * without it, a frame not at offset 0 is copied first.
   */
  transmitAt?(port: Port, buf: Uint8Array, off: number, len: number): void;
}

/** Bytes in front of the inner frame of a VXLAN-over-IPv4 packet: Ethernet, IPv4, UDP, VXLAN. */
export const VXLAN_ENCAP_LEN = HDR.ETH + HDR.IPV4_MIN + HDR.UDP + HDR.VXLAN;
/** TTL and flags OVS gives tunnel packets by default (ttl 64, DF set: `df_default=true`). */
const TUNNEL_TTL = 64;
const IPV4_DF = 0x4000;

export interface BridgeOptions {
  readonly name: string;
  /** 64-bit datapath id. Default: derived from the name. */
  readonly datapathId?: bigint;
  /** Per-table flow limit (OFPFMFC_TABLE_FULL beyond it). */
  readonly maxFlowsPerTable?: number;
  /** The bridge's own port (OFPP_LOCAL, an internal port named like the bridge). Default true. */
  readonly localPort?: boolean;
}

export interface BridgeConfig {
  /** OFPC_* flags from SET_CONFIG. */
  flags: number;
  missSendLen: number;
  /** Send packets whose TTL dec_ttl finds invalid to the controller (OFPC_INVALID_TTL_TO_CONTROLLER). */
  invalidTtlToController: boolean;
}

/** Bridge-level drop counters (malformed input never crashes the switch, issue §4). */
export class BridgeCounters {
  rxMalformed = 0;
  rxUnknownPort = 0;
  rxTooBig = 0;
  packetIns = 0;
}

export class Bridge {
  readonly name: string;
  readonly datapathId: bigint;
  readonly datapath: Datapath;
  readonly tables: FlowTable[] = [];
  readonly ports = new Map<number, Port>();
  /** Ports by number, ascending (flooding order). */
  portList: Port[] = [];
  /** Ports by number below {@link PORT_ARRAY_SIZE}, for the packet path (no Map lookup). */
  readonly portArray: (Port | undefined)[] = new Array<Port | undefined>(PORT_ARRAY_SIZE);
  readonly groups = new Map<number, Group>();
  readonly macs = new MacTable();
  readonly config: BridgeConfig = {
    flags: 0,
    missSendLen: DEFAULT_MISS_SEND_LEN,
    invalidTtlToController: false,
  };
  readonly counters = new BridgeCounters();
  /** Asynchronous messages for the controller (packet_in, flow_removed), oldest first. */
  readonly outbox: OfMessage[] = [];
  /** Where frames go; null drops them (after counting). */
  sink: TxSink | null = null;
  /** Bumped on every flow, group or port change. */
  version = 0;
  /**
   * Fail-open (fail_mode=standalone with the controllers gone, see
   * agent/fail-mode.ts): every packet entering the bridge is switched by
   * NORMAL, above all flows, as OVS's hidden fail-open flow does.
   */
  failOpen = false;
  readonly compileContext: CompileContext;
  /** Compiled instructions shared by flows with equal ones (cleared when groups change). */
  readonly programs = new ProgramCache();
  private readonly timed = new Set<FlowEntry>();
  private readonly encap = new PacketBuffer();
  readonly createdMs: number;

  constructor(options: BridgeOptions, datapath: Datapath, nowMs = 0) {
    this.name = options.name;
    this.datapath = datapath;
    this.datapathId = options.datapathId ?? dpidFromName(options.name);
    for (let i = 0; i < N_TABLES; i++) {
      const t = new FlowTable(i);
      if (options.maxFlowsPerTable !== undefined) t.maxEntries = options.maxFlowsPerTable;
      this.tables.push(t);
    }
    this.compileContext = { hasGroup: (id) => this.groups.has(id >>> 0) };
    this.createdMs = nowMs;
    if (options.localPort !== false) {
      this.addPort({ kind: "internal", name: options.name, ofport: OFPP.LOCAL }, nowMs);
    }
  }

  changed(): void {
    this.version++;
    this.datapath.changed();
  }

  /** Enters or leaves fail-open (flushes the caches). */
  setFailOpen(on: boolean): void {
    if (this.failOpen === on) return;
    this.failOpen = on;
    this.changed();
  }

  // ------------------------------------------------------------ ports

  addPort(spec: PortSpec, nowMs = 0): Port {
    if (this.portByName(spec.name) !== undefined)
      throw new Error(`port ${spec.name} exists on ${this.name}`);
    let no = spec.ofport;
    if (no === undefined) {
      no = 1;
      while (this.ports.has(no)) no++;
    }
    if (no !== OFPP.LOCAL && (no < 1 || no > MAX_OFPORT)) throw new RangeError(`ofport ${no}`);
    if (this.ports.has(no)) throw new Error(`ofport ${no} is taken on ${this.name}`);
    const p = new Port(spec, no, nowMs);
    p.bridgeName = this.name;
    this.ports.set(p.no, p);
    if (p.no < PORT_ARRAY_SIZE) this.portArray[p.no] = p;
    this.portList = [...this.ports.values()].sort((a, b) => a.no - b.no);
    this.datapath.linkPatches();
    this.changed();
    return p;
  }

  removePort(name: string): void {
    const p = this.portByName(name);
    if (p === undefined) return;
    this.ports.delete(p.no);
    if (p.no < PORT_ARRAY_SIZE) this.portArray[p.no] = undefined;
    this.portList = this.portList.filter((x) => x !== p);
    this.macs.flushPort(p);
    if (p.peer !== null) p.peer.peer = null;
    this.changed();
  }

  /** The port numbered `no` (unsigned), or undefined. */
  port(no: number): Port | undefined {
    return no >= 0 && no < PORT_ARRAY_SIZE ? this.portArray[no] : this.ports.get(no >>> 0);
  }

  portByName(name: string): Port | undefined {
    for (const p of this.ports.values()) if (p.name === name) return p;
    return undefined;
  }

  /** The bridge owning the peer of a patch port. */
  peerBridge(peer: Port): Bridge | undefined {
    return this.datapath.bridges.get(peer.bridgeName);
  }

  // ------------------------------------------------------------ flow table

  flowMod(fm: FlowModMessage, nowMs: number): void {
    applyFlowMod(this, fm, nowMs);
  }

  /** @internal Inserts a compiled entry (flow-mod.ts has checked everything). */
  insertEntry(e: FlowEntry): void {
    this.datapath.flushStats();
    const table = this.tables[e.tableId]!;
    table.insert(e);
    if (e.idleTimeout !== 0 || e.hardTimeout !== 0) this.timed.add(e);
    this.version++;
    this.datapath.flowAdded(table, e);
  }

  /** @internal The instructions of `e` changed (OFPFC_MODIFY): what was cached from it goes. */
  flowModified(e: FlowEntry): void {
    this.datapath.flushStats();
    this.version++;
    this.datapath.flowRemoved(this.tables[e.tableId]!, e);
  }

  /** @internal Removes an entry; with a reason, sends FLOW_REMOVED when the flow asked for it. */
  removeEntry(e: FlowEntry, reason?: number, nowMs = 0): void {
    this.datapath.flushStats();
    const table = this.tables[e.tableId]!;
    if (!table.remove(e)) return;
    this.timed.delete(e);
    if (reason !== undefined && (e.flags & 1) !== 0)
      this.outbox.push(flowRemovedFor(e, reason, nowMs));
    this.version++;
    this.datapath.flowRemoved(table, e);
  }

  /** Number of flows in all tables. */
  get flowCount(): number {
    let n = 0;
    for (const t of this.tables) n += t.size;
    return n;
  }

  /**
   * Expires flows whose idle or hard timeout has passed (FLOW_REMOVED with
   * OFPRR_IDLE_TIMEOUT / OFPRR_HARD_TIMEOUT when asked) and aged MAC entries.
   * Call it periodically with the current time; returns the flows removed.
   */
  expire(nowMs: number): number {
    this.datapath.flushStats();
    let n = 0;
    for (const e of [...this.timed]) {
      const why = e.expiry(nowMs);
      if (why < 0) continue;
      this.removeEntry(e, why === 0 ? OFPRR.IDLE_TIMEOUT : OFPRR.HARD_TIMEOUT, nowMs);
      n++;
    }
    if (this.macs.expire(nowMs) > 0) this.changed();
    return n;
  }

  /** Installs the flow a learn action describes (refreshing an identical one, as OVS). */
  learn(a: LearnAction, w: Uint32Array, nowMs: number): void {
    const fm = learnedFlowMod(a, w);
    try {
      const table = this.tables[fm.tableId];
      if (table !== undefined) {
        const prepared = prepareMatch(fm.match);
        const existing = table.find(prepared.compiled, prepared.conjId, fm.priority);
        if (existing !== null && sameActions(existing, fm) && existing.cookie === fm.cookie) {
          existing.modifiedMs = nowMs;
          existing.usedMs = nowMs;
          return;
        }
      }
      applyFlowMod(this, fm, nowMs);
    } catch (err) {
      // OVS logs and drops a learned flow it cannot install; so do we.
      if (!(err instanceof OfpError)) throw err;
    }
  }

  // ------------------------------------------------------------ groups

  groupMod(m: GroupModMessage, nowMs: number): void {
    // Compiling checks group existence: programs compiled before this change may not hold after it.
    this.programs.clear();
    const id = m.groupId >>> 0;
    switch (m.command) {
      case OFPGC.ADD: {
        if (id > OFPG.MAX)
          throw new OfpError("OFPGMFC_INVALID_GROUP", `group id 0x${id.toString(16)}`);
        if (this.groups.has(id)) throw new OfpError("OFPGMFC_GROUP_EXISTS", `group ${id} exists`);
        this.groups.set(
          id,
          new Group(id, m.groupType, compileBuckets(m, this.compileContext), nowMs),
        );
        break;
      }
      case OFPGC.MODIFY: {
        if (id > OFPG.MAX)
          throw new OfpError("OFPGMFC_INVALID_GROUP", `group id 0x${id.toString(16)}`);
        const old = this.groups.get(id);
        if (old === undefined)
          throw new OfpError("OFPGMFC_UNKNOWN_GROUP", `group ${id} does not exist`);
        const g = new Group(id, m.groupType, compileBuckets(m, this.compileContext), old.createdMs);
        g.packetCount = old.packetCount;
        g.byteCount = old.byteCount;
        this.groups.set(id, g);
        break;
      }
      case OFPGC.DELETE: {
        if (id !== OFPG.ALL && id > OFPG.MAX) {
          throw new OfpError("OFPGMFC_INVALID_GROUP", `group id 0x${id.toString(16)}`);
        }
        const ids = id === OFPG.ALL ? [...this.groups.keys()] : this.groups.has(id) ? [id] : [];
        for (const g of ids) {
          // OF1.3 §6.5: flows that forward to a deleted group are removed too.
          for (const t of this.tables) {
            for (const e of [...t.entries()]) {
              if (entryUsesGroup(e, g)) this.removeEntry(e, OFPRR.GROUP_DELETE, nowMs);
            }
          }
          this.groups.delete(g);
        }
        break;
      }
      default:
        throw new OfpError("OFPGMFC_BAD_COMMAND", `group_mod command ${m.command}`);
    }
    this.changed();
  }

  // ------------------------------------------------------------ I/O

  /** Receives a frame on port `portNo` and runs it through the pipeline. False when dropped at the door. */
  receive(portNo: number, frame: Uint8Array, nowMs: number): boolean {
    return this.datapath.receive(this, portNo, frame, nowMs);
  }

  /** @internal Delivers a frame the walk staged (encapsulating on VXLAN ports). */
  transmit(port: Port, buf: PacketBuffer, tunnel: StagedTunnel | null): void {
    port.counters.txPackets++;
    port.counters.txBytes += buf.len;
    const sink = this.sink;
    if (sink === null) return;
    if (tunnel === null) {
      sink.transmit(port, buf.buf, buf.len);
      return;
    }
    const n = this.encapVxlan(port, buf, tunnel);
    if (n > 0) sink.transmit(port, this.encap.buf, n);
    else port.counters.txDropped++;
  }

  /** Builds Ethernet/IPv4/UDP/VXLAN + inner frame into the scratch buffer; returns its length. */
  private encapVxlan(port: Port, inner: PacketBuffer, t: StagedTunnel): number {
    const spec = port.spec;
    if (spec.kind !== "vxlan") return 0;
    const total = VXLAN_ENCAP_LEN + inner.len;
    const b = this.encap.buf;
    if (total > b.length) return 0;
    b.fill(0, 0, VXLAN_ENCAP_LEN);
    if (spec.remoteMac !== undefined) b.set(spec.remoteMac.subarray(0, 6), 0);
    b.set((spec.localMac ?? port.hwAddr).subarray(0, 6), 6);
    b[12] = ETH_TYPE.IPV4 >>> 8;
    b[13] = ETH_TYPE.IPV4 & 0xff;
    const ip = HDR.ETH;
    const ipLen = total - HDR.ETH;
    b[ip] = 0x45;
    b[ip + 2] = ipLen >>> 8;
    b[ip + 3] = ipLen;
    b[ip + 6] = IPV4_DF >>> 8;
    b[ip + 8] = TUNNEL_TTL;
    b[ip + 9] = IP_PROTO.UDP;
    wr32(b, ip + 12, t.src);
    wr32(b, ip + 16, t.dst);
    setIpv4HeaderChecksum(b, ip);
    const udp = ip + HDR.IPV4_MIN;
    const sport = vxlanSourcePort(inner.frame());
    const dport = spec.dstPort ?? VXLAN_UDP_PORT;
    b[udp] = sport >>> 8;
    b[udp + 1] = sport;
    b[udp + 2] = dport >>> 8;
    b[udp + 3] = dport;
    const udpLen = total - udp;
    b[udp + 4] = udpLen >>> 8;
    b[udp + 5] = udpLen;
    const vx = udp + HDR.UDP;
    b[vx] = VXLAN_FLAG_I;
    b[vx + 4] = t.tunIdLo >>> 16;
    b[vx + 5] = t.tunIdLo >>> 8;
    b[vx + 6] = t.tunIdLo;
    b.set(inner.buf.subarray(0, inner.len), VXLAN_ENCAP_LEN);
    return total;
  }

  /** @internal Queues a PACKET_IN (OF1.3 §7.4.1) as OVS builds it: pipeline fields in the match, no buffering. */
  emitPacketIn(
    pkt: PacketBuffer,
    key: FlowKey,
    reason: number,
    tableId: number,
    cookie: bigint,
    maxLen: number,
  ): void {
    const inPort = this.ports.get(key.w[FK.IN_PORT]!);
    if (inPort !== undefined && (inPort.config & OFPPC.NO_PACKET_IN) !== 0) return;
    const len = maxLen === OFPCML_NO_BUFFER ? pkt.len : Math.min(pkt.len, maxLen);
    const msg: PacketInMessage = {
      type: "packet_in",
      xid: 0,
      bufferId: 0xffffffff,
      totalLen: pkt.len,
      reason,
      tableId,
      cookie,
      match: { entries: pipelineFields(key) },
      data: pkt.buf.slice(0, len),
    };
    this.counters.packetIns++;
    this.outbox.push(msg);
  }

  /** Takes the queued asynchronous messages. */
  drainOutbox(): OfMessage[] {
    return this.outbox.splice(0, this.outbox.length);
  }
}

function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  wr32(b, 0, v);
  return b;
}

/** in_port always, then the non-zero metadata OVS reports in a packet-in match. */
function pipelineFields(key: FlowKey): OxmEntry[] {
  const w = key.w;
  const out: OxmEntry[] = [oxmEntry(fieldByName("in_port")!, u32Bytes(w[FK.IN_PORT]!))];
  if (w[FK.METADATA_HI] !== 0 || w[FK.METADATA_LO] !== 0) {
    const b = new Uint8Array(8);
    wr32(b, 0, w[FK.METADATA_HI]!);
    wr32(b, 4, w[FK.METADATA_LO]!);
    out.push(oxmEntry(fieldByName("metadata")!, b));
  }
  if (w[FK.TUN_ID_HI] !== 0 || w[FK.TUN_ID_LO] !== 0) {
    const b = new Uint8Array(8);
    wr32(b, 0, w[FK.TUN_ID_HI]!);
    wr32(b, 4, w[FK.TUN_ID_LO]!);
    out.push(oxmEntry(fieldByName("tun_id")!, b));
  }
  if (w[FK.TUN_SRC] !== 0) out.push(oxmEntry(fieldByName("tun_src")!, u32Bytes(w[FK.TUN_SRC]!)));
  if (w[FK.TUN_DST] !== 0) out.push(oxmEntry(fieldByName("tun_dst")!, u32Bytes(w[FK.TUN_DST]!)));
  for (let i = 0; i < 16; i++) {
    const v = w[FK.REG0 + i]!;
    if (v !== 0) out.push(oxmEntry(fieldByName(`reg${i}`)!, u32Bytes(v)));
  }
  if (w[FK.PKT_MARK] !== 0) out.push(oxmEntry(fieldByName("pkt_mark")!, u32Bytes(w[FK.PKT_MARK]!)));
  return out;
}

function sameActions(e: FlowEntry, fm: FlowModMessage): boolean {
  return formatInstructions(e.instructions) === formatInstructions(fm.instructions);
}

/** A stable 48-bit datapath id from a name (OVS derives it from the bridge MAC). */
export function dpidFromName(name: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < name.length; i++)
    h = ((h ^ BigInt(name.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffn;
  return h;
}
