/**
 * The packet walk ("translation", OVS ofproto-dpif-xlate.c): a parsed packet
 * goes through a bridge's tables, running each hit flow's instructions, and
 * whatever it outputs is staged; at the end the staged frames are handed to
 * the bridges' transmit sinks — or all dropped if the walk failed, as OVS
 * drops the whole packet when translation fails ("Recursion too deep").
 *
 * Semantics copied from OVS 3.1 (checked with ofproto/trace, see
 * test/datapath/ovs-diff.test.ts):
 * - Table miss drops (OpenFlow 1.3+ default, dvr-pipeline.md §0.2 point 2).
 *   A miss after goto still runs the action set.
 * - Instructions in OVS's order: apply, clear, write, write_metadata, goto.
 *   The action set runs at the end of the bridge's walk (action-set.ts).
 * - resubmit and goto_table nest; a nesting "deepens" when it goes to the
 *   same or an earlier table (OVS `xlate_table_action`: `table_id <= old`),
 *   and patch ports always deepen; depth is capped at 64 (MAX_DEPTH) and the
 *   total number of table visits at 64*64 (MAX_RESUBMITS).
 * - Output to the packet's own in_port by number is skipped; OFPP_IN_PORT
 *   sends it back. FLOOD and ALL go to every port but the in_port.
 * - Patch ports run the peer bridge from table 0 with in_port = peer port,
 *   metadata, registers and tunnel fields cleared, and the packet restored
 *   afterwards (OVS `patch_port_output`). Group buckets also work on a copy.
 * - dec_ttl on TTL ≤ 1 stops the flow's instructions; the packet goes to the
 *   controller (reason invalid_ttl) only if the controller asked
 *   (OFPC_INVALID_TTL_TO_CONTROLLER), else it is dropped.
 *
 * No allocation on the fast path: the key, the packet buffer, the staging
 * slots, the copies for patch/group/NORMAL and the action sets are all reused
 * (they grow the first time a deeper nesting is seen). Tracing and packet-ins
 * allocate; they are the slow path.
 */
import { FK, FlowKey } from "../codec/packet/flow-key.js";
import { ETH_TYPE, VLAN } from "../codec/packet/constants.js";
import { decNwTtl, writeNwTtl } from "../codec/packet/rewrite.js";
import { OFPP, OFPCML_NO_BUFFER } from "../codec/ports.js";
import { OFPGT } from "../codec/messages/group-mod.js";
import { OFPPC } from "../codec/messages/port.js";
import { applyMove, applyWrites, readBits } from "./actions/field-access.js";
import { OP, PACKET_IN_REASON, type Op } from "./actions/compile.js";
import { prereqOk } from "./actions/prereq.js";
import { popVlan, pushVlan, syncHeader, syncVlan, REWRITE } from "./actions/rewrite.js";
import { ActionSet } from "./action-set.js";
import type { FlowEntry } from "./flow-entry.js";
import { OFPG, type Group } from "./groups.js";
import { macNumber } from "./normal.js";
import { PacketBuffer } from "./packet.js";
import { NO_TAG, type Port } from "./ports.js";
import type { Bridge } from "./bridge.js";
import { Recorder, type Recording } from "./recorder.js";
import type { RewriteClass } from "./actions/rewrite.js";

/** OVS `MAX_DEPTH`. */
export const MAX_DEPTH = 64;
/** OVS `MAX_RESUBMITS` (MAX_DEPTH squared). */
export const MAX_RESUBMITS = MAX_DEPTH * MAX_DEPTH;
/** resubmit's "current table". */
const TABLE_CURRENT = 255;

/** Why a walk failed (OVS `enum xlate_error`), or null. */
export type XlateError = "recursion_too_deep" | "too_many_resubmits" | "no_buffer_space" | null;

/**
 * Observer of a walk, for ofproto/trace-style output (trace.ts). Only called
 * when set. It receives the same tree OVS builds (`oftrace_node`): bridge,
 * table, action-set and bucket nodes are opened and later closed; actions and
 * notes are leaves of the node open at the time.
 */
export interface Tracer {
  bridge(br: Bridge): void;
  table(tableId: number, entry: FlowEntry | null): void;
  actionSet(): void;
  bucket(index: number): void;
  /** Closes the most recently opened node. */
  close(): void;
  /** An action or instruction as it executes. */
  step(text: string): void;
  op(op: Op): void;
  /** A note: "-> ..." (detail), ">> ..." (warning), ">>>> ... <<<<" (error). */
  note(text: string): void;
  /** A frame leaves by `port` (not patch ports) with the headers in `key`. */
  output(br: Bridge, port: Port, key: FlowKey, tunnel: StagedTunnel | null): void;
  controller(reason: number): void;
  error(text: string): void;
}

/** Outer-header data for a frame staged on a VXLAN port. */
export interface StagedTunnel {
  tunIdHi: number;
  tunIdLo: number;
  src: number;
  dst: number;
}

/** A frame waiting for the end of the walk. */
class TxSlot {
  readonly buf = new PacketBuffer();
  bridge: Bridge | null = null;
  port: Port | null = null;
  isTunnel = false;
  readonly tunnel: StagedTunnel = { tunIdHi: 0, tunIdLo: 0, src: 0, dst: 0 };
}

/** A saved (frame, key) pair, for clone semantics; with the written bits when recording. */
class Snapshot {
  readonly buf = new PacketBuffer();
  readonly key = new FlowKey();
  readonly written = new Uint32Array(FK.SIZE);
}

/** Per-walk state; one instance per thread, reused for every packet. */
export class Xlate {
  readonly key = new FlowKey();
  readonly pkt = new PacketBuffer();
  nowMs = 0;
  depth = 0;
  resubmits = 0;
  error: XlateError = null;
  /** `exit` action seen: stop everything. */
  exit = false;
  bridge: Bridge | null = null;
  tableId = 0;
  /** The flow entry whose actions are running (packet-in cookie and reason). */
  rule: FlowEntry | null = null;
  trace: Tracer | null = null;
  /**
   * Trace mode (ofproto/trace): walk and report, but change nothing — no
   * counters, no learn() flows, no packet-ins, nothing transmitted. (MAC
   * learning for NORMAL still happens, as in OVS's ofproto/trace.)
   */
  dryRun = false;
  /** Flow entries hit, in order (for caches and tests); `nHits` are valid, cleared per walk. */
  readonly hits: FlowEntry[] = [];
  nHits = 0;
  /** Set when the walk had effects beyond the packet (learn, packet-in): not cacheable. */
  sideEffects = false;
  /**
   * The output port in the action set (OVS `flow.actset_output`), or -1 when
   * unset. Part of OVS's flow, so ofproto/trace's "Final flow" is not
   * "unchanged" once write_actions(output:N) ran.
   */
  actsetOutput = -1;
  /**
   * The key bits actions wrote during the walk (OVS's wildcard masks as
   * `commit_odp_actions` sees them): for traces, so a partial write prints as
   * a masked set (`set(ipv4(tos=0xb8/0xfc))`), and for megaflow recording.
   * Kept current when tracing or recording.
   */
  readonly written = new Uint32Array(FK.SIZE);

  // ---- recording for the megaflow cache (recorder.ts); slow path only ----
  /** Record what the walk consults and does so the datapath can install a megaflow. */
  recording = false;
  /** The recorder, valid while `recording` (null otherwise: the hooks cost one test). */
  rec: Recorder | null = null;
  private readonly recorder = new Recorder(this.written);

  private readonly staged: TxSlot[] = [];
  private nStaged = 0;
  private readonly snaps: Snapshot[] = [];
  private sp = 0;
  private readonly actionSets: ActionSet[] = [];
  private level = -1;

  // ------------------------------------------------------------ entry point

  /**
   * Walks the packet in `this.pkt`/`this.key` (parsed, in_port and tunnel
   * metadata set by the caller) through `br`, then transmits or drops.
   */
  run(br: Bridge, nowMs: number): void {
    this.nowMs = nowMs;
    this.depth = 0;
    this.resubmits = 0;
    this.error = null;
    this.exit = false;
    this.nStaged = 0;
    this.sp = 0;
    this.level = -1;
    this.nHits = 0;
    this.sideEffects = false;
    this.actsetOutput = -1;
    if (this.trace !== null) this.written.fill(0);
    if (this.recording) {
      this.rec = this.recorder;
      this.recorder.begin(this.key.w, this.pkt.len);
    } else {
      this.rec = null;
    }
    this.walkBridge(br, true);
    if (this.error !== null) {
      this.trace?.error(this.error);
      for (let i = 0; i < this.nStaged; i++) this.staged[i]!.port!.counters.txDropped++;
      this.nStaged = 0;
      return;
    }
    this.flush();
  }

  /** Runs `ops` (a PACKET_OUT's actions) on the packet as if a flow in table 0 of `br` had them. */
  runOps(br: Bridge, ops: readonly Op[], nowMs: number): void {
    this.nowMs = nowMs;
    this.depth = 0;
    this.resubmits = 0;
    this.error = null;
    this.exit = false;
    this.nStaged = 0;
    this.sp = 0;
    this.level = 0;
    this.nHits = 0;
    this.sideEffects = false;
    this.bridge = br;
    this.tableId = 0;
    this.rule = null;
    let set = this.actionSets[0];
    if (set === undefined) this.actionSets[0] = set = new ActionSet();
    set.clear();
    this.execOps(ops);
    this.bridge = null;
    this.level = -1;
    if (this.error !== null) {
      this.nStaged = 0;
      return;
    }
    this.flush();
  }

  /** The staged frames of the last walk that ended in error are gone; this delivers a good walk's. */
  private flush(): void {
    if (this.dryRun) {
      this.nStaged = 0;
      return;
    }
    for (let i = 0; i < this.nStaged; i++) {
      const s = this.staged[i]!;
      s.bridge!.transmit(s.port!, s.buf, s.isTunnel ? s.tunnel : null);
    }
    this.nStaged = 0;
  }

  // ------------------------------------------------------------ bridges and tables

  /**
   * Walks `br` from table 0, then runs its action set. `top`: the bridge the
   * packet entered (OVS leaves the trace inside its table 0 node, so the
   * action set prints under it; a patch-port bridge is closed like any node).
   */
  private walkBridge(br: Bridge, top: boolean): void {
    const prevBridge = this.bridge;
    const prevTable = this.tableId;
    this.bridge = br;
    this.tableId = 0;
    this.level++;
    let set = this.actionSets[this.level];
    if (set === undefined) {
      set = new ActionSet();
      this.actionSets[this.level] = set;
    }
    set.clear();
    this.trace?.bridge(br);
    this.visitTable(0, !top);
    if (set.size !== 0 && this.error === null) {
      const plan = set.resolve();
      set.clear();
      if (plan.length !== 0) {
        this.trace?.actionSet();
        this.execOps(plan);
        this.trace?.close();
      }
    }
    if (!top) this.trace?.close();
    this.level--;
    this.bridge = prevBridge;
    this.tableId = prevTable;
  }

  private actionSet(): ActionSet {
    return this.actionSets[this.level]!;
  }

  /** OVS `xlate_resubmit_resource_check`. */
  private resourcesOk(): boolean {
    if (this.depth >= MAX_DEPTH) {
      this.error = "recursion_too_deep";
      this.trace?.note(`>>>> over max translation depth ${MAX_DEPTH} <<<<`);
      return false;
    }
    if (this.resubmits >= MAX_RESUBMITS) {
      this.error = "too_many_resubmits";
      this.trace?.note(`>>>> over ${MAX_RESUBMITS} resubmit actions <<<<`);
      return false;
    }
    return true;
  }

  /**
   * Looks the packet up in `tableId` of the current bridge and runs the hit
   * flow. `closeTrace`: close the trace node afterwards (every visit but the
   * entry bridge's first, as OVS's xlate_table_action restores its trace).
   */
  private visitTable(tableId: number, closeTrace: boolean, lookupInPort = -1): void {
    const br = this.bridge!;
    const deepens = tableId <= this.tableId && this.rule !== null;
    if (deepens) this.depth++;
    const prevTable = this.tableId;
    const prevRule = this.rule;
    this.tableId = tableId;
    const table = br.tables[tableId];
    const w = this.key.w;
    const inPort = w[FK.IN_PORT]!;
    // resubmit(port,table): the port is used for the lookup only (OVS
    // rule_dpif_lookup_from_table); the actions see the packet's own in_port.
    if (lookupInPort >= 0) w[FK.IN_PORT] = lookupInPort;
    const entry = table === undefined ? null : table.lookup(w, !this.dryRun);
    w[FK.IN_PORT] = inPort;
    const rec = this.rec;
    if (rec !== null && table !== undefined)
      rec.lookup(table, entry, w, lookupInPort, this.pkt.len);
    this.trace?.table(tableId, entry);
    if (entry === null) {
      this.trace?.step("drop");
    } else {
      if (!this.dryRun) {
        entry.packetCount++;
        entry.byteCount += this.pkt.len;
        entry.usedMs = this.nowMs;
      }
      if (this.nHits < this.hits.length) this.hits[this.nHits] = entry;
      else this.hits.push(entry);
      this.nHits++;
      this.rule = entry;
      this.runProgram(entry);
    }
    if (closeTrace) this.trace?.close();
    this.rule = prevRule;
    this.tableId = prevTable;
    if (deepens) this.depth--;
  }

  /** A nested table visit from resubmit/goto/output:TABLE, with the resource checks. */
  private enterTable(tableId: number, lookupInPort = -1): void {
    if (!this.resourcesOk()) return;
    this.resubmits++;
    this.visitTable(tableId, true, lookupInPort);
  }

  /** Runs a hit flow's instructions in OVS's order. */
  private runProgram(e: FlowEntry): void {
    const p = e.program;
    const tail = p.clear || p.write !== null || p.metadata !== null || p.gotoTable >= 0;
    if (!tail && p.apply.length === 0) {
      this.trace?.step("drop");
      return;
    }
    if (p.apply.length !== 0 && this.execOps(p.apply)) return;
    if (this.exit || this.error !== null) return;
    const t = this.trace;
    if (p.clear) {
      if (t !== null) {
        t.step("clear_actions");
        t.note(actionSetNote("was", this.actionSet()));
      }
      this.actionSet().clear();
      this.actsetOutput = -1;
    }
    if (p.write !== null) {
      this.actionSet().write(p.write);
      for (const o of p.write) if (o.code === OP.OUTPUT) this.actsetOutput = o.port;
      if (t !== null) {
        t.step(`write_actions(${p.write.map(formatOp).join(",")})`);
        t.note(actionSetNote("is", this.actionSet()));
      }
    }
    if (p.metadata !== null) {
      const m = p.metadata;
      const w = this.key.w;
      if (this.rec !== null) {
        this.written[FK.METADATA_HI]! |= m.maskHi;
        this.written[FK.METADATA_LO]! |= m.maskLo;
      }
      w[FK.METADATA_HI] = (w[FK.METADATA_HI]! & ~m.maskHi) | (m.valueHi & m.maskHi);
      w[FK.METADATA_LO] = (w[FK.METADATA_LO]! & ~m.maskLo) | (m.valueLo & m.maskLo);
      t?.step(`write_metadata:${formatMetadata(m)}`);
    }
    if (p.gotoTable >= 0) {
      t?.step(`goto_table:${p.gotoTable}`);
      this.enterTable(p.gotoTable);
    }
  }

  // ------------------------------------------------------------ actions

  /** Runs `ops`; true when the rest of the flow's instructions must be skipped. */
  private execOps(ops: readonly Op[]): boolean {
    const key = this.key;
    const w = key.w;
    const pkt = this.pkt;
    const rec = this.rec;
    const track = rec !== null || this.trace !== null;
    const n = ops.length;
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      if (this.trace !== null) this.trace.op(op);
      switch (op.code) {
        case OP.OUTPUT:
          this.output(op.port, op.maxLen);
          break;
        case OP.OUTPUT_REG:
          rec?.readRuns(op.runs);
          this.output(readBits(w, op.runs), op.maxLen);
          break;
        case OP.CONTROLLER:
          this.toController(op.maxLen, op.reason);
          break;
        case OP.GROUP:
          this.group(op.port);
          break;
        case OP.PUSH_VLAN:
          // A second tag is not expressible as a header diff: do not cache such walks.
          if (key.vlanOfs >= 0) this.sideEffects = true;
          if (!pushVlan(pkt, key, op.port)) {
            this.error = "no_buffer_space";
            return true;
          }
          if (rec !== null) this.wroteVlan();
          break;
        case OP.POP_VLAN:
          if ((w[FK.VLAN_TCI2]! & VLAN.CFI) !== 0) this.sideEffects = true;
          popVlan(pkt, key);
          if (rec !== null) this.wroteVlan();
          break;
        case OP.SET:
          rec?.readPrereq(op.prereq);
          if (prereqOk(op.prereq, w)) {
            applyWrites(w, op.writes);
            if (track) for (const x of op.writes) this.written[x.word]! |= x.clear;
            syncHeader(pkt, key, op.rewrite);
          } else {
            this.trace?.note(`>> unmet prerequisites for ${opFieldName(op)}, set_field ignored`);
          }
          break;
        case OP.MOVE:
          if (rec !== null) {
            rec.readPrereq(op.prereq);
            rec.readPrereq(op.prereq2);
          }
          if (prereqOk(op.prereq, w) && prereqOk(op.prereq2, w)) {
            rec?.readMoveSources(op.moves);
            applyMove(w, op.moves);
            if (track) {
              for (const m of op.moves) {
                this.written[m.dstWord]! |= (m.nBits >= 32 ? -1 : (1 << m.nBits) - 1) << m.dstShift;
              }
            }
            syncHeader(pkt, key, op.rewrite);
          }
          break;
        case OP.DEC_TTL:
          rec?.read(FK.NW_TTL, 0xff);
          this.written[FK.NW_TTL] = 0xff;
          if (this.decTtl()) return true;
          break;
        case OP.SET_NW_TTL: {
          rec?.read(FK.ETH_TYPE, -1);
          const et = w[FK.ETH_TYPE];
          if (et === ETH_TYPE.IPV4 || et === ETH_TYPE.IPV6) {
            w[FK.NW_TTL] = op.port;
            this.written[FK.NW_TTL] = 0xff;
            writeNwTtl(pkt.frame(), key);
          }
          break;
        }
        case OP.RESUBMIT:
          this.resubmit(op.port, op.table);
          break;
        case OP.LEARN:
          this.sideEffects = true;
          if (!this.dryRun) this.bridge!.learn(op.learn!, w, this.nowMs);
          break;
        case OP.NOP:
          break;
        case OP.EXIT:
          this.exit = true;
          return true;
      }
      if (this.exit || this.error !== null) return true;
    }
    return false;
  }

  private resubmit(inPort: number, table: number): void {
    this.enterTable(
      table === TABLE_CURRENT ? this.tableId : table,
      inPort === OFPP.IN_PORT ? -1 : inPort,
    );
  }

  /** dec_ttl; true when TTL was invalid and the flow must stop. */
  private decTtl(): boolean {
    const w = this.key.w;
    const et = w[FK.ETH_TYPE];
    if (et !== ETH_TYPE.IPV4 && et !== ETH_TYPE.IPV6) return false;
    if (decNwTtl(this.pkt.frame(), this.key)) return false;
    this.trace?.note(`>> ${et === ETH_TYPE.IPV4 ? "IPv4" : "IPv6"} decrement TTL exception`);
    // The outcome depends on the controller's config, which is not part of the cache's version.
    this.sideEffects = true;
    if (this.bridge!.config.invalidTtlToController) {
      this.packetIn(PACKET_IN_REASON.INVALID_TTL, OFPCML_NO_BUFFER);
    }
    return true;
  }

  // ------------------------------------------------------------ output

  private output(portNo: number, maxLen: number): void {
    const br = this.bridge!;
    const inPort = this.key.w[FK.IN_PORT]!;
    switch (portNo) {
      case OFPP.IN_PORT: {
        const p = br.ports.get(inPort);
        if (p !== undefined) this.toPort(p);
        return;
      }
      case OFPP.TABLE:
        this.enterTable(0);
        return;
      case OFPP.NORMAL:
        this.normal();
        return;
      case OFPP.FLOOD:
      case OFPP.ALL:
        for (const p of br.portList) if (p.no !== inPort) this.toPort(p);
        return;
      case OFPP.CONTROLLER:
        this.toController(maxLen, -1);
        return;
      default: {
        if (portNo === inPort) {
          this.trace?.note(">> skipping output to input port");
          return;
        }
        const p = br.ports.get(portNo);
        if (p === undefined) {
          this.trace?.note(`>> Nonexistent output port`);
          return;
        }
        this.toPort(p);
      }
    }
  }

  /** Sends the current frame out of `port` (patch: into the peer bridge). */
  private toPort(port: Port): void {
    if ((port.config & OFPPC.NO_FWD) !== 0) {
      this.trace?.note(">> OFPPC_NO_FWD set, skipping output");
      return;
    }
    if (port.kind === "patch") {
      this.patch(port);
      return;
    }
    const slot = this.stageSlot();
    slot.buf.copyFrom(this.pkt);
    slot.bridge = this.bridge;
    slot.port = port;
    slot.isTunnel = false;
    if (port.spec.kind === "vxlan") {
      const spec = port.spec;
      const w = this.key.w;
      const t = slot.tunnel;
      t.dst = spec.remoteIp === "flow" ? w[FK.TUN_DST]! : spec.remoteIp;
      t.src = spec.localIp ?? w[FK.TUN_SRC]!;
      t.tunIdHi = spec.key === "flow" ? w[FK.TUN_ID_HI]! : 0;
      t.tunIdLo = spec.key === "flow" ? w[FK.TUN_ID_LO]! : spec.key;
      const rec = this.rec;
      if (rec !== null) {
        if (spec.remoteIp === "flow") rec.read(FK.TUN_DST, -1);
        if (spec.localIp === undefined) rec.read(FK.TUN_SRC, -1);
        if (spec.key === "flow") {
          rec.read(FK.TUN_ID_HI, -1);
          rec.read(FK.TUN_ID_LO, -1);
        }
      }
      if (t.dst === 0) {
        // OVS: no route for the tunnel destination; the output is dropped.
        this.trace?.note(">> native tunnel routing failed");
        this.nStaged--;
        return;
      }
      slot.isTunnel = true;
      rec?.output(this.bridge!, port, t, w, this.pkt.len);
      this.trace?.output(this.bridge!, port, this.key, t);
      return;
    }
    this.rec?.output(this.bridge!, port, null, this.key.w, this.pkt.len);
    this.trace?.output(this.bridge!, port, this.key, null);
  }

  private stageSlot(): TxSlot {
    let s = this.staged[this.nStaged];
    if (s === undefined) {
      s = new TxSlot();
      this.staged.push(s);
    }
    this.nStaged++;
    return s;
  }

  /** OVS `patch_port_output`. */
  private patch(port: Port): void {
    const peer = port.peer;
    const peerBr = peer === null ? undefined : this.bridge!.peerBridge(peer);
    if (peer === null || peerBr === undefined) {
      this.trace?.note(">> patch port has no peer");
      return;
    }
    if (!this.resourcesOk()) return;
    if (!this.dryRun) {
      port.counters.txPackets++;
      port.counters.txBytes += this.pkt.len;
      peer.counters.rxPackets++;
      peer.counters.rxBytes += this.pkt.len;
    }
    this.rec?.patch(port, peer, this.pkt.len);
    this.save();
    const w = this.key.w;
    if (this.rec !== null) {
      // The peer bridge starts from cleared metadata: constants, not packet bits.
      const wr = this.written;
      wr[FK.METADATA_HI] = wr[FK.METADATA_LO] = -1;
      wr[FK.TUN_ID_HI] = wr[FK.TUN_ID_LO] = wr[FK.TUN_SRC] = wr[FK.TUN_DST] = -1;
      wr.fill(-1, FK.REG0, FK.REG0 + 16);
      wr[FK.IN_PORT] = -1;
    }
    w[FK.METADATA_HI] = 0;
    w[FK.METADATA_LO] = 0;
    w[FK.TUN_ID_HI] = 0;
    w[FK.TUN_ID_LO] = 0;
    w[FK.TUN_SRC] = 0;
    w[FK.TUN_DST] = 0;
    w.fill(0, FK.REG0, FK.REG0 + 16);
    w[FK.IN_PORT] = peer.no;
    const prevRule = this.rule;
    this.rule = null;
    this.depth++;
    this.resubmits++;
    this.walkBridge(peerBr, false);
    this.depth--;
    this.rule = prevRule;
    this.restore();
  }

  private save(): void {
    let s = this.snaps[this.sp];
    if (s === undefined) {
      s = new Snapshot();
      this.snaps.push(s);
    }
    s.buf.copyFrom(this.pkt);
    s.key.copyFrom(this.key);
    if (this.rec !== null) s.written.set(this.written);
    this.sp++;
  }

  private restore(): void {
    const s = this.snaps[--this.sp]!;
    this.pkt.copyFrom(s.buf);
    this.key.copyFrom(s.key);
    if (this.rec !== null) this.written.set(s.written);
  }

  /** push/pop VLAN rewrote every VLAN word from constants and the (exact) VLAN structure. */
  private wroteVlan(): void {
    const wr = this.written;
    wr[FK.VLAN_TCI] = wr[FK.VLAN_TPID] = wr[FK.VLAN_TCI2] = wr[FK.VLAN_TPID2] = -1;
  }

  /** The walk just run, for the megaflow cache; null when it must not be cached. */
  takeRecording(): Recording | null {
    const rec = this.rec;
    this.rec = null;
    if (rec === null || this.sideEffects || this.error !== null) return null;
    return rec.finish();
  }

  // ------------------------------------------------------------ controller

  private toController(maxLen: number, reason: number): void {
    let r = reason;
    if (r < 0) {
      // OVS reports a table-miss flow's packet-ins as no_match (OF1.3 §5.4).
      const e = this.rule;
      r =
        e !== null && e.priority === 0 && e.compiled.words.length === 0 && e.conjId < 0
          ? PACKET_IN_REASON.NO_MATCH
          : PACKET_IN_REASON.ACTION;
    }
    this.packetIn(r, maxLen);
  }

  private packetIn(reason: number, maxLen: number): void {
    this.sideEffects = true;
    this.trace?.controller(reason);
    if (this.dryRun) return;
    const br = this.bridge!;
    const rule = this.rule;
    br.emitPacketIn(
      this.pkt,
      this.key,
      reason,
      this.tableId,
      rule === null ? 0xffffffffffffffffn : rule.cookie,
      maxLen,
    );
  }

  // ------------------------------------------------------------ groups

  private group(id: number): void {
    const g = this.bridge!.groups.get(id);
    if (g === undefined) return;
    // Liveness and bucket counters make group walks uncacheable.
    this.sideEffects = true;
    if (!this.dryRun) {
      g.packetCount++;
      g.byteCount += this.pkt.len;
    }
    switch (g.type) {
      case OFPGT.ALL:
        for (let i = 0; i < g.buckets.length; i++) this.bucket(g, i);
        return;
      case OFPGT.INDIRECT:
        if (g.buckets.length > 0) this.bucket(g, 0);
        return;
      case OFPGT.SELECT: {
        const i = this.selectBucket(g);
        if (i >= 0) this.bucket(g, i);
        return;
      }
      case OFPGT.FF:
        for (let i = 0; i < g.buckets.length; i++) {
          if (this.bucketLive(g, i, 0)) {
            this.bucket(g, i);
            return;
          }
        }
        return;
    }
  }

  /** Runs bucket `i` of `g` on a copy of the packet (each bucket sees the original). */
  private bucket(g: Group, i: number): void {
    const b = g.buckets[i]!;
    if (!this.dryRun) {
      b.packetCount++;
      b.byteCount += this.pkt.len;
    }
    this.trace?.bucket(i);
    this.save();
    this.execOps(b.ops);
    this.trace?.close();
    this.restore();
  }

  /** OF1.3 §5.6.1 liveness: the watched port is live, or the watched group has a live bucket. */
  private bucketLive(g: Group, i: number, depth: number): boolean {
    const b = g.buckets[i]!.bucket;
    const br = this.bridge!;
    if (b.watchPort >>> 0 !== OFPP.ANY) {
      const p = br.ports.get(b.watchPort >>> 0);
      if (p === undefined || !p.isLive()) return false;
    }
    if (b.watchGroup >>> 0 !== OFPG.ANY) {
      const wg = br.groups.get(b.watchGroup >>> 0);
      if (wg === undefined || depth > 8) return false;
      let any = false;
      for (let j = 0; j < wg.buckets.length && !any; j++) any = this.bucketLive(wg, j, depth + 1);
      if (!any) return false;
    }
    return true;
  }

  /**
   * Select group: highest weighted score of a hash of the L2–L4 fields and the
   * bucket index (OVS `group_best_live_bucket` does the same with its own
   * hash, so the chosen bucket can differ from OVS's; the spread is similar).
   */
  private selectBucket(g: Group): number {
    const w = this.key.w;
    let h = 0x9e3779b9;
    const words = [
      FK.ETH_SRC_LO,
      FK.ETH_DST_LO,
      FK.ETH_TYPE,
      FK.NW_SRC,
      FK.NW_DST,
      FK.NW_PROTO,
      FK.TP_SRC,
      FK.TP_DST,
    ];
    for (let k = 0; k < words.length; k++) h = Math.imul(h ^ w[words[k]!]!, 0x01000193);
    let best = -1;
    let bestScore = -1;
    for (let i = 0; i < g.buckets.length; i++) {
      const b = g.buckets[i]!.bucket;
      if (b.weight === 0 || !this.bucketLive(g, i, 0)) continue;
      const score = ((Math.imul(h ^ i, 0x5bd1e995) >>> 16) & 0xffff) * b.weight;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }

  // ------------------------------------------------------------ NORMAL

  /** OVS `xlate_normal` (see normal.ts for the MAC table). */
  private normal(): void {
    // NORMAL reads and writes the MAC table: not cacheable.
    this.sideEffects = true;
    const br = this.bridge!;
    const key = this.key;
    const w = key.w;
    const t = this.trace;
    const inPort = br.ports.get(w[FK.IN_PORT]!);
    if (inPort === undefined) {
      t?.note("-> no input bundle, dropping");
      return;
    }
    const tci = w[FK.VLAN_TCI]!;
    const vid = (tci & VLAN.CFI) !== 0 ? tci & VLAN.VID_MASK : 0;
    let vlan: number;
    if (inPort.tag !== NO_TAG) {
      if (vid !== 0) {
        t?.note(
          `-> dropping VLAN ${vid} tagged packet received on port ${inPort.name} configured as VLAN ${inPort.tag} access port`,
        );
        return;
      }
      vlan = inPort.tag;
    } else {
      vlan = vid;
      if (!inPort.includesVlan(vlan)) {
        t?.note(
          `-> dropping VLAN ${vlan} packet received on port ${inPort.name} not configured for trunking VLAN ${vlan}`,
        );
        return;
      }
    }
    const srcHi = w[FK.ETH_SRC_HI]!;
    if ((srcHi & 0x0100) === 0) {
      // OVS `update_learning_table`. ofproto/trace learns too (OVS 3.1 does: a traced
      // packet's source MAC is in the table afterwards), so a dry run learns as well.
      const src = macNumber(srcHi, w[FK.ETH_SRC_LO]!);
      const learned = br.macs.learn(vlan, src, inPort, this.nowMs);
      if (learned && t !== null) {
        t.note(
          `-> learned that ${macText(srcHi, w[FK.ETH_SRC_LO]!)} is on port ${inPort.name} in VLAN ${vlan}`,
        );
      }
    }
    // Multicast destinations are never learned, so they always flood (no IGMP snooping).
    const out = br.macs.lookup(vlan, macNumber(w[FK.ETH_DST_HI]!, w[FK.ETH_DST_LO]!), this.nowMs);
    if (out !== null) {
      if (out === inPort) {
        t?.note("-> learned port is input port, dropping");
        return;
      }
      t?.note("-> forwarding to learned port");
      this.normalOutput(out, vlan);
      return;
    }
    t?.note("-> no learned MAC for destination, flooding");
    for (const p of br.portList) {
      if (p === inPort || !p.includesVlan(vlan) || p.no === OFPP_NONE) continue;
      this.normalOutput(p, vlan);
    }
  }

  /** OVS `output_normal`: tag or untag per the out port's mode, output, then put the VLAN back. */
  private normalOutput(p: Port, vlan: number): void {
    const w = this.key.w;
    const oldTci = w[FK.VLAN_TCI]!;
    const oldTpid = w[FK.VLAN_TPID]!;
    const vid = p.tag !== NO_TAG ? 0 : vlan;
    const newTci = vid === 0 ? 0 : (oldTci & 0xe000) | VLAN.CFI | vid;
    if (newTci !== oldTci) {
      w[FK.VLAN_TCI] = newTci;
      syncVlan(this.pkt, this.key);
    }
    this.toPort(p);
    if (newTci !== oldTci) {
      w[FK.VLAN_TCI] = oldTci;
      w[FK.VLAN_TPID] = oldTpid;
      syncHeader(this.pkt, this.key, REWRITE.VLAN);
    }
  }
}

/** Header class of each FlowKey word (what a changed word needs resynced on the wire). */
export const WORD_CLASS: readonly RewriteClass[] = (() => {
  const t: RewriteClass[] = new Array<RewriteClass>(FK.SIZE).fill(REWRITE.NONE);
  const set = (from: number, n: number, c: RewriteClass): void => {
    for (let i = 0; i < n; i++) t[from + i] = c;
  };
  set(FK.ETH_SRC_HI, 2, REWRITE.ETH_SRC);
  set(FK.ETH_DST_HI, 2, REWRITE.ETH_DST);
  set(FK.VLAN_TCI, 4, REWRITE.VLAN); // TCI, TPID, TCI2, TPID2
  set(FK.NW_SRC, 1, REWRITE.IPV4_SRC);
  set(FK.NW_DST, 1, REWRITE.IPV4_DST);
  set(FK.IPV6_SRC0, 4, REWRITE.IPV6_SRC);
  set(FK.IPV6_DST0, 4, REWRITE.IPV6_DST);
  set(FK.IPV6_LABEL, 1, REWRITE.IPV6_LABEL);
  set(FK.NW_TOS, 1, REWRITE.NW_TOS);
  set(FK.NW_TTL, 1, REWRITE.NW_TTL);
  set(FK.TP_SRC, 1, REWRITE.TP_SRC);
  set(FK.TP_DST, 1, REWRITE.TP_DST);
  set(FK.ICMP_TYPE, 2, REWRITE.ICMP);
  set(FK.ARP_OP, 7, REWRITE.ARP);
  set(FK.ND_TARGET0, 4, REWRITE.ND_TARGET);
  set(FK.ND_SLL_HI, 4, REWRITE.ND_LL);
  return t;
})();

/** Not a port (placeholder so NORMAL never floods to a reserved number). */
const OFPP_NONE = OFPP.ANY;

function hex2(v: number): string {
  return (v & 0xff).toString(16).padStart(2, "0");
}

function macText(hi: number, lo: number): string {
  return [hi >>> 8, hi, lo >>> 24, lo >>> 16, lo >>> 8, lo].map(hex2).join(":");
}

function formatMetadata(m: {
  valueHi: number;
  valueLo: number;
  maskHi: number;
  maskLo: number;
}): string {
  const v = (BigInt(m.valueHi >>> 0) << 32n) | BigInt(m.valueLo >>> 0);
  const k = (BigInt(m.maskHi >>> 0) << 32n) | BigInt(m.maskLo >>> 0);
  // printf's %#x, as OVS: 0 prints as "0".
  const hex = (x: bigint): string => (x === 0n ? "0" : `0x${x.toString(16)}`);
  return k === 0xffffffffffffffffn ? hex(v) : `${hex(v)}/${hex(k)}`;
}

/** Set by trace.ts (avoids a runtime import of the text layer on the packet path). */
let opFormatter: (op: Op) => string = (op) => op.action.type;
export function setOpFormatter(f: (op: Op) => string): void {
  opFormatter = f;
}
function formatOp(op: Op): string {
  return opFormatter(op);
}

/** OVS `xlate_report_action_set`: what the set would execute, or "empty". */
function actionSetNote(verb: "is" | "was", set: ActionSet): string {
  const plan = set.preview();
  return plan.length === 0
    ? `-> action set ${verb} empty`
    : `-> action set ${verb}: ${plan.map(formatOp).join(",")}`;
}

function opFieldName(op: Op): string {
  const a = op.action;
  if (a.type === "set_field" || a.type === "reg_load2") return a.entry.field?.name ?? "?";
  if (a.type === "reg_load") return a.dst.field.name;
  return a.type;
}
