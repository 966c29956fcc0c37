/**
 * A datapath: the bridges of one switch process (a host's br-int and br-tun
 * joined by patch ports, as one ovs-vswitchd holds them), the walk state they
 * share, and the entry points for frames: {@link Datapath.receive} for a frame
 * arriving on a port, {@link Datapath.receiveVxlan} for a VXLAN packet
 * arriving on a tunnel port, {@link Datapath.packetOut} for OFPT_PACKET_OUT.
 *
 * One Datapath belongs to one thread: the walk state ({@link Xlate}) is
 * reused for every packet, which is what keeps the fast path allocation-free.
 */
import { OfpError } from "../codec/errors.js";
import type { PacketOutMessage } from "../codec/messages/packet-out.js";
import { OFPPC } from "../codec/messages/port.js";
import { FK, FlowKey } from "../codec/packet/flow-key.js";
import {
  ParseCounters,
  PARSE_STATUS,
  parseFrame,
  type ParseOptions,
} from "../codec/packet/parse.js";
import { vxlanTunnelInto } from "../codec/packet/vxlan.js";
import { OFPP } from "../codec/ports.js";
import type { Action } from "../codec/actions.js";
import { compileActions, type Op } from "./actions/compile.js";
import { Bridge, type BridgeOptions } from "./bridge.js";
import { Xlate } from "./pipeline.js";
import { ExactMatchCache, type CachedWalk } from "./flow-cache.js";
import { syncHeader } from "./actions/rewrite.js";

const NORMAL_ACTIONS: readonly Action[] = [{ type: "output", port: OFPP.NORMAL, maxLen: 0 }];

export interface DatapathOptions {
  /** Put the exact-match cache in front of the pipeline (default true). */
  readonly cache?: boolean;
}

export class Datapath {
  readonly bridges = new Map<string, Bridge>();
  /** The exact-match cache, or null when disabled. */
  readonly cache: ExactMatchCache | null;
  /** True when the last packet was handled from the cache (no table walk). */
  lastFromCache = false;
  private readonly cacheKey = new Uint32Array(FK.SIZE);
  readonly xlate = new Xlate();
  readonly parseCounters = new ParseCounters();
  private readonly parseOptions: ParseOptions = { vlanLimit: 1, counters: this.parseCounters };
  private readonly outer = new FlowKey();
  /** Bumped on any change in any bridge (flows, groups, ports). */
  version = 0;
  /** `output:NORMAL`, compiled once, for bridges in fail-open. */
  private normalOps: Op[] | null = null;

  constructor(options: DatapathOptions = {}) {
    this.cache = options.cache === false ? null : new ExactMatchCache();
  }

  addBridge(options: BridgeOptions, nowMs = 0): Bridge {
    if (this.bridges.has(options.name)) throw new Error(`bridge ${options.name} exists`);
    const br = new Bridge(options, this, nowMs);
    this.bridges.set(br.name, br);
    this.linkPatches();
    return br;
  }

  bridge(name: string): Bridge {
    const br = this.bridges.get(name);
    if (br === undefined) throw new Error(`no bridge ${name}`);
    return br;
  }

  changed(): void {
    this.version++;
  }

  /** Joins every patch port whose peer exists and names it back (OVS options:peer). */
  linkPatches(): void {
    for (const br of this.bridges.values()) {
      for (const p of br.ports.values()) {
        if (p.spec.kind !== "patch" || p.peer !== null) continue;
        const other = this.bridges.get(p.spec.peerBridge)?.portByName(p.spec.peerPort);
        if (other === undefined || other.spec.kind !== "patch") continue;
        if (other.spec.peerBridge !== br.name || other.spec.peerPort !== p.name) continue;
        p.peer = other;
        other.peer = p;
      }
    }
  }

  /** A frame arrives on `portNo` of `br`. False when dropped before the pipeline. */
  receive(br: Bridge, portNo: number, frame: Uint8Array, nowMs: number): boolean {
    const port = br.ports.get(portNo >>> 0);
    if (port === undefined) {
      br.counters.rxUnknownPort++;
      return false;
    }
    if ((port.config & OFPPC.NO_RECV) !== 0) {
      port.counters.rxDropped++;
      return false;
    }
    const x = this.xlate;
    if (!x.pkt.load(frame)) {
      br.counters.rxTooBig++;
      port.counters.rxDropped++;
      return false;
    }
    port.counters.rxPackets++;
    port.counters.rxBytes += frame.length;
    const key = x.key;
    // parseFrame zeroes the packet section itself; only the metadata needs clearing.
    key.w.fill(0, 0, FK.PACKET_START);
    key.w[FK.IN_PORT] = port.no;
    if (parseFrame(x.pkt.frame(), key, this.parseOptions) === PARSE_STATUS.ETH_TRUNCATED) {
      br.counters.rxMalformed++;
      port.counters.rxErrors++;
      return false;
    }
    this.process(br, nowMs);
    return true;
  }

  /** Runs the parsed packet in the walk state: from the cache when possible, else through the tables. */
  private process(br: Bridge, nowMs: number): void {
    const x = this.xlate;
    if (br.failOpen) {
      // Fail-open: NORMAL above every flow (OVS's hidden fail-open rule).
      this.lastFromCache = false;
      x.runOps(br, (this.normalOps ??= compileActions(NORMAL_ACTIONS, br.compileContext)), nowMs);
      return;
    }
    const cache = this.cache;
    if (cache === null) {
      this.lastFromCache = false;
      x.run(br, nowMs);
      return;
    }
    const version = this.version;
    const walk = cache.lookup(x.key, version);
    if (walk !== null) {
      this.lastFromCache = true;
      this.replay(walk, nowMs);
      return;
    }
    this.lastFromCache = false;
    this.cacheKey.set(x.key.w);
    x.recording = true;
    x.run(br, nowMs);
    const rec = x.takeRecording(version);
    x.recording = false;
    // A walk that changed the tables (learn) is not cached.
    if (rec !== null && this.version === version) cache.insert(this.cacheKey, rec);
  }

  /** Replays a cached walk on the packet in the walk state: header commits and outputs, then the counters. */
  private replay(walk: CachedWalk, nowMs: number): void {
    const x = this.xlate;
    const key = x.key;
    const w = key.w;
    const pkt = x.pkt;
    const len = pkt.len;
    const outs = walk.outputs;
    for (let o = 0; o < outs.length; o++) {
      const out = outs[o]!;
      const words = out.words;
      for (let i = 0; i < words.length; i += 2) w[words[i]!] = words[i + 1]!;
      const classes = out.classes;
      for (let c = 0; c < classes.length; c++) syncHeader(pkt, key, classes[c]!);
      out.bridge.transmit(out.port, pkt, out.tunnel);
    }
    const hits = walk.hits;
    for (let i = 0; i < hits.length; i++) {
      const e = hits[i]!;
      e.packetCount++;
      e.byteCount += len + walk.hitLenDelta[i]!;
      e.usedMs = nowMs;
    }
    const tables = walk.tables;
    for (let i = 0; i < tables.length; i++) {
      const t = tables[i]!;
      t.lookupCount++;
      t.matchedCount += walk.tableMatched[i]!;
    }
  }

  /**
   * A VXLAN packet (whole outer frame) arrives on tunnel port `portNo`: the
   * inner frame enters the pipeline with tun_id = VNI and tun_src/tun_dst =
   * the outer IPv4 addresses (OVS tunnel receive). Non-VXLAN frames are dropped.
   */
  receiveVxlan(br: Bridge, portNo: number, outerFrame: Uint8Array, nowMs: number): boolean {
    const port = br.ports.get(portNo >>> 0);
    if (port === undefined || port.spec.kind !== "vxlan") {
      br.counters.rxUnknownPort++;
      return false;
    }
    const outer = this.outer;
    outer.clear();
    parseFrame(outerFrame, outer);
    const x = this.xlate;
    const key = x.key;
    key.clear();
    const ofs = vxlanTunnelInto(outerFrame, outer, key);
    if (ofs < 0) {
      br.counters.rxMalformed++;
      port.counters.rxErrors++;
      return false;
    }
    const spec = port.spec;
    if (typeof spec.key === "number" && key.w[FK.TUN_ID_LO] !== spec.key) {
      port.counters.rxDropped++;
      return false;
    }
    return this.enterInner(br, port.no, outerFrame, ofs, outer.l3End, nowMs);
  }

  /**
   * The UDP layer's entry: a VXLAN payload (VXLAN header + inner frame) from
   * `srcIp` to `dstIp` (host-order IPv4) arrived on tunnel port `portNo`.
   */
  receiveVxlanPayload(
    br: Bridge,
    portNo: number,
    payload: Uint8Array,
    srcIp: number,
    dstIp: number,
    nowMs: number,
  ): boolean {
    const port = br.ports.get(portNo >>> 0);
    if (
      port === undefined ||
      port.spec.kind !== "vxlan" ||
      payload.length < 8 ||
      (payload[0]! & 0x08) === 0
    ) {
      br.counters.rxMalformed++;
      return false;
    }
    const vni = (payload[4]! << 16) | (payload[5]! << 8) | payload[6]!;
    const key = this.xlate.key;
    key.clear();
    key.w[FK.TUN_ID_LO] = vni;
    key.w[FK.TUN_SRC] = srcIp;
    key.w[FK.TUN_DST] = dstIp;
    return this.enterInner(br, port.no, payload, 8, payload.length, nowMs);
  }

  private enterInner(
    br: Bridge,
    portNo: number,
    buf: Uint8Array,
    start: number,
    end: number,
    nowMs: number,
  ): boolean {
    const port = br.ports.get(portNo)!;
    const x = this.xlate;
    if (!x.pkt.load(buf, start, end - start)) {
      port.counters.rxDropped++;
      return false;
    }
    port.counters.rxPackets++;
    port.counters.rxBytes += end - start;
    const key = x.key;
    key.w[FK.IN_PORT] = port.no;
    if (parseFrame(x.pkt.frame(), key, this.parseOptions) === PARSE_STATUS.ETH_TRUNCATED) {
      br.counters.rxMalformed++;
      return false;
    }
    this.process(br, nowMs);
    return true;
  }

  /**
   * OFPT_PACKET_OUT: runs `msg.actions` on `msg.data` as if it had arrived on
   * `msg.inPort` (OFPP_CONTROLLER and OFPP_LOCAL allowed; output:TABLE runs the
   * pipeline). Throws the OfpError OVS sends for a bad message.
   */
  packetOut(br: Bridge, msg: PacketOutMessage, nowMs: number): void {
    if (msg.bufferId >>> 0 !== 0xffffffff) {
      throw new OfpError("OFPBRC_BUFFER_UNKNOWN", `buffer ${msg.bufferId} (no buffers here)`);
    }
    const inPort = msg.inPort >>> 0;
    if (
      inPort >= 0xff00 &&
      inPort !== OFPP.CONTROLLER &&
      inPort !== OFPP.LOCAL &&
      inPort !== OFPP.ANY
    ) {
      throw new OfpError("OFPBRC_BAD_PORT", `packet_out in_port 0x${inPort.toString(16)}`);
    }
    const ops = compileActions(msg.actions, br.compileContext);
    const x = this.xlate;
    if (!x.pkt.load(msg.data)) throw new OfpError("OFPBRC_BAD_LEN", "packet_out data too large");
    const key = x.key;
    key.clear();
    key.w[FK.IN_PORT] = inPort === OFPP.ANY ? OFPP.CONTROLLER : inPort;
    parseFrame(x.pkt.frame(), key, this.parseOptions);
    x.runOps(br, ops, nowMs);
  }
}
