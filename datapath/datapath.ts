/**
 * A datapath: the bridges of one switch process (a host's br-int and br-tun
 * joined by patch ports, as one ovs-vswitchd holds them), the walk state they
 * share, and the entry points for frames: {@link Datapath.receive} for a frame
 * arriving on a port, {@link Datapath.receiveBatch} for a batch of them,
 * {@link Datapath.receiveVxlan} for a VXLAN packet arriving on a tunnel port,
 * {@link Datapath.packetOut} for OFPT_PACKET_OUT.
 *
 * The fast path (OVS dpif-netdev, performance.md §1.2): a frame's key is
 * looked up in the megaflow cache (megaflow.ts); a hit runs the megaflow's
 * compiled program (megaflow-program.ts) on the frame in place and sends it;
 * a miss walks the tables (pipeline.ts) with recording on and installs a
 * megaflow. Flow, table and port counters of hits are accumulated per
 * megaflow and credited in bulk by {@link Datapath.flushStats} (OVS pushes
 * datapath flow stats to rules from its revalidators): after every
 * `receive()`, every STATS_FLUSH_PACKETS packets of `receiveBatch()`, and
 * before anything reads or resets them (flow changes, expiry, stats
 * requests), so every reader sees exact counters.
 *
 * One Datapath belongs to one thread: the walk state ({@link Xlate}) and the
 * cache are reused for every packet, which is what keeps the fast path
 * allocation-free. Several threads each own a Datapath (bench/datapath.bench.ts
 * measures two workers with per-worker copies of the tables).
 */
import { OfpError } from "../codec/errors.js";
import type { PacketOutMessage } from "../codec/messages/packet-out.js";
import { OFPPC } from "../codec/messages/port.js";
import { HDR, VLAN } from "../codec/packet/constants.js";
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
import { compileActions as compileOps, type Op } from "./actions/compile.js";
import { syncHeader } from "./actions/rewrite.js";
import { KEY_WORDS, PacketBatch } from "./batch.js";
import { Bridge, type BridgeOptions } from "./bridge.js";
import { EXTRACT_FALLBACK, extractKey } from "./extract.js";
import type { FlowEntry } from "./flow-entry.js";
import type { FlowTable } from "./flow-table.js";
import { Megaflow, MegaflowCache, MegaflowPlan } from "./megaflow.js";
import { MFOP, compileActions, popTag, pushTag, setIpv4Ttl } from "./megaflow-program.js";
import { PACKET_CAPACITY } from "./packet.js";
import { Xlate } from "./pipeline.js";
import type { Port } from "./ports.js";
import type { Recording } from "./recorder.js";

/** A growable int32 list (plan signatures are built without allocating when the plan exists). */
class IntList {
  private buf = new Int32Array(256);
  private n = 0;
  reset(): void {
    this.n = 0;
  }
  push(v: number): void {
    if (this.n === this.buf.length) {
      const b = new Int32Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = v;
  }
  pushAll(a: Int32Array): void {
    this.push(a.length);
    for (let i = 0; i < a.length; i++) this.push(a[i]!);
  }
  /** The current contents (a view: valid until the next push). */
  view(): Int32Array {
    return this.buf.subarray(0, this.n);
  }
}

const NORMAL_ACTIONS: readonly Action[] = [{ type: "output", port: OFPP.NORMAL, maxLen: 0 }];

/** Room in front of a single received frame, so a pushed tag moves the MACs, not the payload. */
const RX_HEADROOM = 64;
/** receiveBatch credits megaflow counters once this many packets are pending (see flushStats). */
export const STATS_FLUSH_PACKETS = 4096;

export interface DatapathOptions {
  /** Put the megaflow cache in front of the pipeline (default true). */
  readonly cache?: boolean;
  /** Most megaflows installed at once (the cache is flushed when full). */
  readonly megaflowLimit?: number;
}

export class Datapath {
  readonly bridges = new Map<string, Bridge>();
  /** The megaflow cache, or null when disabled. */
  readonly cache: MegaflowCache | null;
  /** True when the last packet was handled from the cache (no table walk). */
  lastFromCache = false;
  readonly xlate = new Xlate();
  readonly parseCounters = new ParseCounters();
  private readonly parseOptions: ParseOptions = { vlanLimit: 1, counters: this.parseCounters };
  private readonly outer = new FlowKey();
  /** Bumped on changes that flush the cache (groups, ports, configuration); flow changes invalidate precisely. */
  version = 0;
  /** `output:NORMAL`, compiled once, for bridges in fail-open. */
  private normalOps: Op[] | null = null;

  // ---- fast-path scratch ----
  /** int32 view of the walk key (the cache compares int32 words). */
  private readonly keyI32: Int32Array;
  /** The key as the walk started (the megaflow's match is taken from it). */
  private readonly startKey = new Uint32Array(FK.SIZE);
  /** The input key of a generic replay. */
  private readonly inKey = new Uint32Array(FK.SIZE);
  /** A single received frame, with headroom, when a program rewrites it. */
  private readonly rxBuf = new Uint8Array(RX_HEADROOM + PACKET_CAPACITY);
  /** The batch {@link receive} uses: one frame of up to PACKET_CAPACITY bytes, with headroom. */
  private readonly one = new PacketBatch(1, RX_HEADROOM + PACKET_CAPACITY, RX_HEADROOM);
  private readonly rxView = new DataView(this.rxBuf.buffer);
  /** For sinks without transmitAt: the frame copied to index 0. */
  private readonly txScratch = new Uint8Array(PACKET_CAPACITY + RX_HEADROOM);
  /** Scratch for megaflow plan signatures. */
  private readonly sig = new IntList();
  private readonly sigRefs: object[] = [];
  /** Megaflows with counters not yet credited. */
  private readonly dirty: (Megaflow | null)[] = [];
  private nDirty = 0;
  /** Packets accounted to megaflows since the last flush. */
  private pending = 0;

  constructor(options: DatapathOptions = {}) {
    this.cache = options.cache === false ? null : new MegaflowCache(options.megaflowLimit);
    const w = this.xlate.key.w;
    this.keyI32 = new Int32Array(w.buffer, w.byteOffset, w.length);
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

  /** Something other than a flow changed (group, port, configuration): every megaflow goes. */
  changed(): void {
    this.version++;
  }

  /** @internal Flow `e` was added to `table`: drop the megaflows it could change. */
  flowAdded(table: FlowTable, e: FlowEntry): void {
    this.cache?.flowAdded(table, e);
  }

  /** @internal Flow `e` left `table` or its instructions changed: drop the megaflows that hit it. */
  flowRemoved(table: FlowTable, e: FlowEntry): void {
    this.cache?.flowRemoved(table, e);
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
    const port = br.port(portNo);
    if (port === undefined) {
      br.counters.rxUnknownPort++;
      return false;
    }
    if ((port.config & OFPPC.NO_RECV) !== 0) {
      port.counters.rxDropped++;
      return false;
    }
    if (frame.length > PACKET_CAPACITY) {
      br.counters.rxTooBig++;
      port.counters.rxDropped++;
      return false;
    }
    // The batch path with a batch of one (the same code, the same counters).
    const one = this.one;
    one.clear();
    one.add(portNo, frame);
    this.receiveBatch(br, one, nowMs);
    this.flushStats();
    return one.status[0]! >= 0;
  }

  /**
   * A batch of frames arrives on `br` (OVS `dp_netdev_input`): all parsed,
   * all looked up in the megaflow cache, then each hit's program run in
   * place in the batch (frames that miss walk the tables and install a
   * megaflow, in order). Frames dropped at the door are counted as in
   * {@link receive}. A frame a fast program ran on is left in `batch` as it
   * was last sent (the others are unchanged).
   */
  receiveBatch(br: Bridge, batch: PacketBatch, nowMs: number): void {
    const n = batch.count;
    const data = batch.data;
    const view = batch.view;
    const offs = batch.off;
    const lens = batch.len;
    const ports = batch.port;
    const keys = batch.keys;
    const status = batch.status;
    const dirty = batch.dirty;
    const counts = this.parseCounters.counts;
    const cache = this.cache;
    // Without the cache every frame walks, and the walk parses it fully itself.
    const useCache = cache !== null && !br.failOpen;
    // 1. parse all
    let last: Port | undefined;
    let lastNo = -1;
    for (let i = 0; i < n; i++) {
      const no = ports[i]!;
      const port = no === lastNo ? last : br.port(no);
      lastNo = no;
      last = port;
      status[i] = -1;
      if (port === undefined) {
        br.counters.rxUnknownPort++;
        continue;
      }
      if ((port.config & OFPPC.NO_RECV) !== 0) {
        port.counters.rxDropped++;
        continue;
      }
      const len = lens[i]!;
      if (len > PACKET_CAPACITY) {
        br.counters.rxTooBig++;
        port.counters.rxDropped++;
        continue;
      }
      port.counters.rxPackets++;
      port.counters.rxBytes += len;
      if (!useCache) {
        if (len < HDR.ETH) {
          counts[PARSE_STATUS.ETH_TRUNCATED]!++;
          br.counters.rxMalformed++;
          port.counters.rxErrors++;
          continue;
        }
        status[i] = PARSE_STATUS.OK; // parsed for real before the walk
        continue;
      }
      const k = i * KEY_WORDS;
      if (dirty[i] !== 0) {
        keys.fill(0, k, k + KEY_WORDS);
        dirty[i] = 0;
      }
      keys[k + FK.IN_PORT] = port.no;
      let st = extractKey(data, view, offs[i]!, len, keys, k);
      if (st === EXTRACT_FALLBACK) {
        st = this.fullParse(data, offs[i]!, len, port.no);
        keys.set(this.keyI32, k);
        dirty[i] = 1;
      } else {
        counts[st]!++;
      }
      if (st === PARSE_STATUS.ETH_TRUNCATED) {
        br.counters.rxMalformed++;
        port.counters.rxErrors++;
        continue;
      }
      status[i] = st;
    }
    // 2. look all up
    const found = batch.found;
    if (useCache) {
      if (cache.version !== this.version) cache.clear(this.version);
      for (let i = 0; i < n; i++) {
        const st = status[i]!;
        const k = i * KEY_WORDS;
        found[i] = st < 0 ? null : cache.lookup(keys, k, keys[k + FK.IN_PORT]!, st);
      }
    } else {
      for (let i = 0; i < n; i++) found[i] = null;
    }
    // 3. act on all, in order (found[] keeps its references until the next batch overwrites them)
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const st = status[i]!;
      if (st < 0) continue;
      const mf = found[i]!;
      const off = offs[i]!;
      const len = lens[i]!;
      // A megaflow invalidated since the lookup (a learn() earlier in the batch) is a miss.
      if (mf !== null && mf.valid) {
        hits++;
        this.account(mf, len, nowMs);
        if (batch === this.one) this.reportHit(mf.plan);
        if (mf.plan.fast !== null) {
          this.runFast(mf.plan, data, view, off, len, batch, i);
        } else {
          // The generic replay needs the whole key with its header offsets.
          this.fullParse(data, off, len, keys[i * KEY_WORDS + FK.IN_PORT]!);
          this.replayGeneric(mf.plan);
        }
        continue;
      }
      // The walk (process() looks again first: a miss earlier in the batch may have installed it).
      const inPort = useCache ? keys[i * KEY_WORDS + FK.IN_PORT]! : br.port(ports[i]!)!.no;
      const full = this.fullParse(data, off, len, inPort);
      this.process(br, data, off, len, full, true, nowMs);
    }
    if (cache !== null) cache.hits += hits;
    if (this.pending >= STATS_FLUSH_PACKETS) this.flushStats();
  }

  /** For receive(): the walk state reports the flows the packet hit, as after a walk. */
  private reportHit(plan: MegaflowPlan): void {
    const x = this.xlate;
    this.lastFromCache = true;
    const hits = plan.hits;
    for (let i = 0; i < hits.length; i++) {
      if (i < x.hits.length) x.hits[i] = hits[i]!;
      else x.hits.push(hits[i]!);
    }
    x.nHits = hits.length;
  }

  /** parseFrame of `data[off, off+len)` into the walk key (metadata cleared, in_port set); returns the status. */
  private fullParse(data: Uint8Array, off: number, len: number, inPort: number): number {
    const x = this.xlate;
    x.pkt.load(data, off, len);
    const key = x.key;
    key.w.fill(0, 0, FK.PACKET_START);
    key.w[FK.IN_PORT] = inPort;
    return parseFrame(x.pkt.frame(), key, this.parseOptions);
  }

  /**
   * Runs the parsed packet in the walk key (frame at `src[off, off+len)`, or
   * already in the walk's buffer when `loaded`): from the megaflow cache when
   * possible, else through the tables, installing a megaflow.
   */
  private process(
    br: Bridge,
    src: Uint8Array,
    off: number,
    len: number,
    status: number,
    loaded: boolean,
    nowMs: number,
  ): void {
    const x = this.xlate;
    if (br.failOpen) {
      // Fail-open: NORMAL above every flow (OVS's hidden fail-open rule).
      this.lastFromCache = false;
      if (!loaded) x.pkt.load(src, off, len);
      x.runOps(br, (this.normalOps ??= compileOps(NORMAL_ACTIONS, br.compileContext)), nowMs);
      return;
    }
    const cache = this.cache;
    if (cache === null) {
      this.lastFromCache = false;
      if (!loaded) x.pkt.load(src, off, len);
      x.run(br, nowMs);
      return;
    }
    if (cache.version !== this.version) cache.clear(this.version);
    const w = x.key.w;
    const mf = cache.lookup(this.keyI32, 0, w[FK.IN_PORT]! | 0, status);
    if (mf !== null) {
      cache.hits++;
      this.lastFromCache = true;
      this.account(mf, len, nowMs);
      // The walk state reports the flows this packet hit (as after a walk).
      const plan = mf.plan;
      const hits = plan.hits;
      for (let i = 0; i < hits.length; i++) {
        if (i < x.hits.length) x.hits[i] = hits[i]!;
        else x.hits.push(hits[i]!);
      }
      x.nHits = hits.length;
      if (plan.fast !== null) {
        if (plan.modifies) {
          const buf = this.rxBuf;
          buf.set(loaded ? x.pkt.buf.subarray(0, len) : src.subarray(off, off + len), RX_HEADROOM);
          this.runFast(plan, buf, this.rxView, RX_HEADROOM, len, null, 0);
        } else if (loaded) {
          // Outputs only: the view is not used.
          this.runFast(plan, x.pkt.buf, this.rxView, 0, len, null, 0);
        } else {
          this.runFast(plan, src, this.rxView, off, len, null, 0);
        }
      } else {
        if (!loaded) x.pkt.load(src, off, len);
        this.replayGeneric(plan);
      }
      return;
    }
    cache.misses++;
    this.lastFromCache = false;
    if (!loaded) x.pkt.load(src, off, len);
    const version = this.version;
    this.startKey.set(w);
    x.recording = true;
    x.run(br, nowMs);
    x.recording = false;
    const rec = x.takeRecording();
    // A walk that changed the tables (learn) is not cached.
    if (rec !== null && this.version === version) this.install(rec, status);
  }

  /** Builds and installs the megaflow of a recorded walk (sharing the plan of an identical walk). */
  private install(rec: Recording, status: number): void {
    const input = this.startKey;
    const cache = this.cache!;
    // The signature: every number and object the plan depends on.
    const sig = this.sig;
    sig.reset();
    sig.push(status);
    sig.push(input[FK.VLAN_TCI]! & VLAN.CFI);
    sig.push(input[FK.VLAN_TPID]!);
    sig.push(input[FK.ETH_TYPE]!);
    sig.push(rec.visits.length);
    const refs = this.sigRefs;
    refs.length = 0;
    for (const v of rec.visits) {
      sig.push(v.entry === null ? -1 : v.entry.id);
      sig.pushAll(v.writes);
      refs.push(v.table);
    }
    sig.push(rec.outputs.length);
    for (const out of rec.outputs) {
      sig.push(out.lenDelta);
      sig.pushAll(out.writes);
      const t = out.tunnel;
      if (t === null) sig.push(0);
      else {
        sig.push(1);
        sig.push(t.tunIdHi);
        sig.push(t.tunIdLo);
        sig.push(t.src);
        sig.push(t.dst);
      }
      refs.push(out.port, out.bridge);
    }
    for (const d of rec.hitLenDelta) sig.push(d);
    sig.push(rec.patchTx.length);
    for (let i = 0; i < rec.patchTx.length; i++) {
      sig.push(rec.patchLenDelta[i]!);
      refs.push(rec.patchTx[i]!, rec.patchRx[i]!);
    }
    const plan = cache.plan(sig.view(), refs, (hash, sigInts, sigRefs) => {
      const actions = compileActions(rec.outputs, input, status);
      const txPorts: Port[] = [];
      const txDelta: number[] = [];
      if (actions.fast !== null) {
        for (const out of rec.outputs) {
          txPorts.push(out.port);
          txDelta.push(out.lenDelta);
        }
      }
      for (let i = 0; i < rec.patchTx.length; i++) {
        txPorts.push(rec.patchTx[i]!);
        txDelta.push(rec.patchLenDelta[i]!);
      }
      return new MegaflowPlan({
        hash,
        sigInts,
        sigRefs,
        fast: actions.fast,
        outPorts: actions.outPorts,
        outBridges: actions.outBridges,
        modifies: actions.modifies,
        generic: actions.generic,
        hits: rec.hits,
        hitLenDelta: Int32Array.from(rec.hitLenDelta),
        tables: rec.visits.map((v) => v.table),
        tableMatched: Uint8Array.from(rec.visits, (v) => (v.entry === null ? 0 : 1)),
        visitEntries: rec.visits.map((v) => v.entry),
        visitWrites: rec.visits.map((v) => v.writes),
        txPorts,
        txLenDelta: Int32Array.from(txDelta),
        rxPorts: rec.patchRx,
        rxLenDelta: Int32Array.from(rec.patchLenDelta),
      });
    });
    cache.insert(rec.wc, input, status, plan);
  }

  /** Counts a packet of `len` bytes against `mf` (credited to flows, tables and ports at the flush). */
  private account(mf: Megaflow, len: number, nowMs: number): void {
    mf.packets++;
    mf.bytes += len;
    mf.usedMs = nowMs;
    this.pending++;
    if (!mf.dirty) {
      mf.dirty = true;
      const i = this.nDirty++;
      if (i < this.dirty.length) this.dirty[i] = mf;
      else this.dirty.push(mf);
    }
  }

  /**
   * Runs a fast program on the frame at `buf[off, off+len)` (`v` a DataView
   * of the same bytes), in place. When the frame belongs to `batch` (slot
   * `slot`), its new start and length are written back.
   */
  private runFast(
    mf: MegaflowPlan,
    buf: Uint8Array,
    v: DataView,
    off: number,
    len: number,
    batch: PacketBatch | null,
    slot: number,
  ): void {
    const p = mf.fast!;
    let pc = 0;
    for (;;) {
      switch (p[pc]) {
        case MFOP.OUTPUT: {
          const idx = p[pc + 1]!;
          const sink = mf.outBridges[idx]!.sink;
          if (sink !== null) {
            const port = mf.outPorts[idx]!;
            if (sink.transmitAt !== undefined) {
              sink.transmitAt(port, buf, off, len);
            } else if (off === 0) {
              sink.transmit(port, buf, len);
            } else {
              const t = this.txScratch;
              t.set(buf.subarray(off, off + len), 0);
              sink.transmit(port, t, len);
            }
          }
          pc += 2;
          break;
        }
        case MFOP.ETH_DST:
          v.setUint16(off, p[pc + 1]!);
          v.setInt32(off + 2, p[pc + 2]!);
          pc += 3;
          break;
        case MFOP.ETH_SRC:
          v.setUint16(off + 6, p[pc + 1]!);
          v.setInt32(off + 8, p[pc + 2]!);
          pc += 3;
          break;
        case MFOP.PUSH_VLAN:
          off = pushTag(buf, off, len, p[pc + 1]!, p[pc + 2]!);
          len += 4;
          pc += 3;
          break;
        case MFOP.POP_VLAN:
          off = popTag(buf, off);
          len -= 4;
          pc += 1;
          break;
        case MFOP.SET_TCI: {
          const t = off + 14;
          v.setUint16(t, ((v.getUint16(t) & ~p[pc + 1]!) | p[pc + 2]!) & 0xefff);
          pc += 3;
          break;
        }
        case MFOP.IPV4_TTL:
          setIpv4Ttl(v, off + p[pc + 1]!, p[pc + 2]!);
          pc += 3;
          break;
        default:
          if (batch !== null) {
            batch.off[slot] = off;
            batch.len[slot] = len;
          }
          return;
      }
    }
  }

  /** Replays a generic megaflow on the packet in the walk state (frame in `xlate.pkt`, key parsed). */
  private replayGeneric(mf: MegaflowPlan): void {
    const x = this.xlate;
    const key = x.key;
    const w = key.w;
    const pkt = x.pkt;
    const input = this.inKey;
    input.set(w);
    const outs = mf.generic!;
    for (let o = 0; o < outs.length; o++) {
      const out = outs[o]!;
      const writes = out.writes;
      for (let i = 0; i < writes.length; i += 3) {
        const word = writes[i]!;
        const m = writes[i + 1]!;
        w[word] = (input[word]! & ~m) | writes[i + 2]!;
      }
      const classes = out.classes;
      for (let c = 0; c < classes.length; c++) syncHeader(pkt, key, classes[c]!);
      out.bridge.transmit(out.port, pkt, out.tunnel);
    }
  }

  /** Credits the counters of every megaflow hit since the last flush (flows, tables, ports). */
  flushStats(): void {
    this.pending = 0;
    const dirty = this.dirty;
    for (let d = 0; d < this.nDirty; d++) {
      const flow = dirty[d]!;
      dirty[d] = null;
      const n = flow.packets;
      const bytes = flow.bytes;
      flow.packets = 0;
      flow.bytes = 0;
      flow.dirty = false;
      const mf = flow.plan;
      const hits = mf.hits;
      for (let i = 0; i < hits.length; i++) {
        const e = hits[i]!;
        e.packetCount += n;
        e.byteCount += bytes + n * mf.hitLenDelta[i]!;
        if (flow.usedMs > e.usedMs) e.usedMs = flow.usedMs;
      }
      const tables = mf.tables;
      for (let i = 0; i < tables.length; i++) {
        const t = tables[i]!;
        t.lookupCount += n;
        t.matchedCount += n * mf.tableMatched[i]!;
      }
      const tx = mf.txPorts;
      for (let i = 0; i < tx.length; i++) {
        const c = tx[i]!.counters;
        c.txPackets += n;
        c.txBytes += bytes + n * mf.txLenDelta[i]!;
      }
      const rx = mf.rxPorts;
      for (let i = 0; i < rx.length; i++) {
        const c = rx[i]!.counters;
        c.rxPackets += n;
        c.rxBytes += bytes + n * mf.rxLenDelta[i]!;
      }
    }
    this.nDirty = 0;
    this.cache?.maybeRerank();
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
    const status = parseFrame(x.pkt.frame(), key, this.parseOptions);
    if (status === PARSE_STATUS.ETH_TRUNCATED) {
      br.counters.rxMalformed++;
      return false;
    }
    this.process(br, x.pkt.buf, 0, x.pkt.len, status, true, nowMs);
    this.flushStats();
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
    const ops = compileOps(msg.actions, br.compileContext);
    const x = this.xlate;
    if (!x.pkt.load(msg.data)) throw new OfpError("OFPBRC_BAD_LEN", "packet_out data too large");
    const key = x.key;
    key.clear();
    key.w[FK.IN_PORT] = inPort === OFPP.ANY ? OFPP.CONTROLLER : inPort;
    parseFrame(x.pkt.frame(), key, this.parseOptions);
    x.runOps(br, ops, nowMs);
  }
}
