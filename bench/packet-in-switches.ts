/**
 * The packet-in bench's load generator, run as a child process so that it
 * never shares the controller's event loop (nor its heap: the controller
 * process's RSS is the controller's alone).
 *
 * One simulated br-int per host, each on its own TCP connection, each a
 * real userspace bridge (test/controller/helpers.ts `buildHost`: the VM
 * ports numbered as `dvrflow plumb` would) answered by the datapath's
 * OpenFlowHandler, as the controller tests do: HELLO, FEATURES_REPLY with
 * the host's br-int datapath id, PORT_DESC, the flow dumps, the bundle
 * probe (refused: the reconciliation falls back to FLOW_MODs + barriers),
 * echo. Only PACKET_OUTs skip the handler: they are the replies being
 * timed, and are matched to their request from their bytes.
 *
 * The load: "slots", each one ARP request kept in flight (closed loop: the
 * reply re-sends it). A slot is a VM port of the host asking for the address
 * of a port of its network on another host; within a switch every slot asks
 * for a different address, so a reply (its ARP sender IP is the address
 * asked for) names its slot. The PACKET_IN is what OVS sends for an ARP
 * request that a flow in br-int table 40 (DVR_LOCAL_RESPONDER) sends to the
 * controller: reason OFPR_ACTION, the flow's cookie, the pipeline fields in
 * the match (in_port, and the metadata LOCAL_SWITCHING wrote: the network's
 * local VLAN), the whole 42-byte frame. Each slot's message is encoded once
 * and re-sent as is; the resends a read produces go out in one write.
 *
 * Messages (IPC, advanced serialization): parent → {@link ToSwitches},
 * child → {@link FromSwitches}.
 */
import { createConnection, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Framer } from "../codec/framer.js";
import { OFPT } from "../codec/header.js";
import { decodeMessage, encodeMessage, type OfMessage } from "../codec/message.js";
import { OFP_NO_BUFFER } from "../codec/messages/flow-mod.js";
import { encodeMultipartParts } from "../codec/messages/multipart-split.js";
import { OFPR } from "../codec/messages/packet-in.js";
import { ARP, ETH_TYPE } from "../codec/packet/constants.js";
import { arpRequest } from "../codec/packet/index.js";
import { flowModMessage, parseFlow } from "../codec/text/index.js";
import { OpenFlowHandler } from "../datapath/openflow-handler.js";
import { BR_INT } from "../src/dvr/tables.js";
import { macBytes } from "../src/topology/addr.js";
import type { Topology } from "../src/topology/schema.js";
import { buildHost } from "../test/controller/helpers.js";
import type { BenchPort } from "./packet-in-topology.js";

export type ToSwitches =
  | {
      readonly kind: "init";
      readonly port: number;
      readonly topology: Topology;
      readonly localVlans: ReadonlyMap<string, ReadonlyMap<string, number>>;
      readonly hosts: readonly string[];
      readonly ports: readonly BenchPort[];
    }
  | {
      readonly kind: "run";
      readonly inFlight: number;
      readonly warmupMs: number;
      readonly windowMs: number;
    }
  | { readonly kind: "exit" };

export interface RunResult {
  readonly inFlight: number;
  /** Replies received inside the window. */
  readonly replies: number;
  readonly windowMs: number;
  /** Request → PACKET_OUT latency percentiles over the window, ms. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Requests not answered within {@link STALL_MS} (re-sent). */
  readonly lost: number;
  /** Replies whose ARP answer was not the target port's MAC, or not for a slot. */
  readonly wrong: number;
  /** Switches that had slots. */
  readonly switches: number;
  /** This process's CPU time over the window per reply, µs (is the generator the limit?). */
  readonly generatorCpuUsPerReply: number;
}

export type FromSwitches =
  | { readonly kind: "connected" }
  | { readonly kind: "measuring" }
  | { readonly kind: "windowEnd" }
  | { readonly kind: "result"; readonly result: RunResult };

/** br-int table 40: where a flow would hand an unanswered ARP request to the controller. */
const ARP_TABLE = BR_INT.DVR_LOCAL_RESPONDER.id;
/** The cookie of that (foreign) flow, as in test/controller/e2e.test.ts. */
const FLOW_COOKIE = 0x42n;
/** A request unanswered this long is counted lost and re-sent. */
export const STALL_MS = 2000;
/** Latency histogram: 1 µs buckets up to 200 ms, then one overflow bucket. */
const HIST_US = 200_000;

const ETH_HDR = 14;
const VLAN_HDR = 4;
const ARP_OP_AT = 6;
const ARP_SHA_AT = 8;
const ARP_SPA_AT = 14;
/** ofp_packet_out: actions_len at 16, actions from 24. */
const PO_ACTIONS_LEN_AT = 16;
const PO_ACTIONS_AT = 24;

const hist = new Uint32Array(HIST_US + 1);

interface Run {
  readonly warmEnd: number;
  readonly end: number;
  counted: number;
  lost: number;
  wrong: number;
  outstanding: number;
  maxLatency: number;
  finished: boolean;
  /** Which of "measuring" and "windowEnd" the parent has been told (they must precede the result). */
  told: number;
  cpuAtStart: NodeJS.CpuUsage | undefined;
  cpuInWindow: NodeJS.CpuUsage | undefined;
}

let run: Run | undefined;

interface Slot {
  readonly bytes: Buffer;
  /** The target port's MAC: the answer the reply must carry. */
  readonly answer: number;
  sentAt: number;
  busy: boolean;
}

class LoadSwitch {
  private socket: Socket | undefined;
  private readonly framer = new Framer();
  private readonly handler: OpenFlowHandler;
  /** Slots by the target IP they ask for. */
  private readonly slots = new Map<number, Slot>();
  private readonly active: Slot[] = [];
  /** Resends collected while one read is processed. */
  private readonly pending: Buffer[] = [];

  constructor(
    readonly host: string,
    private readonly drainOutbox: () => void,
    handler: OpenFlowHandler,
    readonly ofport: (iface: string) => number,
    readonly lv: (network: string) => number,
  ) {
    this.handler = handler;
  }

  connect(port: number): Promise<void> {
    const socket = createConnection(port, "127.0.0.1");
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => {
      console.error(`switch ${this.host}: ${e.message}`);
    });
    return new Promise((resolve) => {
      socket.once("connect", () => {
        this.write({
          type: "hello",
          xid: 1,
          elements: [{ kind: "versionbitmap", bitmaps: [1 << 4] }],
        });
        resolve();
      });
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  get slotCount(): number {
    return this.active.length;
  }

  /** Makes a slot: `requester` asks for `target`'s address. */
  addSlot(requester: BenchPort, target: BenchPort): void {
    if (this.slots.has(target.ip)) throw new Error(`${this.host}: ${target.name} asked twice`);
    const frame = arpRequest({ sha: macBytes(requester.mac), spa: requester.ip, tpa: target.ip });
    const inPort = this.ofport(requester.interfaceName);
    const lv = this.lv(requester.network);
    const msg: OfMessage = {
      type: "packet_in",
      xid: 0,
      bufferId: OFP_NO_BUFFER,
      totalLen: frame.byteLength,
      reason: OFPR.ACTION,
      tableId: ARP_TABLE,
      cookie: FLOW_COOKIE,
      match: flowModMessage(parseFlow(`in_port=${inPort},metadata=${lv},actions=drop`)).match,
      data: frame,
    };
    const slot: Slot = {
      bytes: Buffer.from(encodeMessage(msg)),
      answer: target.mac,
      sentAt: 0,
      busy: false,
    };
    this.slots.set(target.ip, slot);
    this.active.push(slot);
  }

  clearSlots(): void {
    this.slots.clear();
    this.active.length = 0;
  }

  /** Sends every slot's request (the start of a run). */
  prime(now: number): void {
    for (const s of this.active) this.send(s, now);
    this.flush();
  }

  /** Re-sends requests unanswered for {@link STALL_MS}. */
  watchdog(now: number, r: Run): void {
    for (const s of this.active) {
      if (!s.busy || now - s.sentAt < STALL_MS) continue;
      r.lost++;
      s.busy = false;
      r.outstanding--;
      if (now < r.end) this.send(s, now);
    }
    this.flush();
  }

  private send(s: Slot, now: number): void {
    s.sentAt = now;
    s.busy = true;
    if (run !== undefined) run.outstanding++;
    this.pending.push(s.bytes);
  }

  private flush(): void {
    const p = this.pending;
    if (p.length === 0 || this.socket === undefined) return;
    this.socket.write(p.length === 1 ? p[0]! : Buffer.concat(p));
    p.length = 0;
  }

  private onData(chunk: Buffer): void {
    for (const f of this.framer.push(chunk)) {
      if (f[1] === OFPT.PACKET_OUT) this.onPacketOut(f);
      else this.control(f);
    }
    this.flush();
  }

  /** Matches a reply to its slot, times it, and re-sends the slot's request. */
  private onPacketOut(f: Uint8Array): void {
    const now = performance.now();
    const r = run;
    const data = PO_ACTIONS_AT + ((f[PO_ACTIONS_LEN_AT]! << 8) | f[PO_ACTIONS_LEN_AT + 1]!);
    const tagged = ((f[data + 12]! << 8) | f[data + 13]!) === ETH_TYPE.VLAN;
    const arp = data + ETH_HDR + (tagged ? VLAN_HDR : 0);
    const spa =
      ((f[arp + ARP_SPA_AT]! << 24) |
        (f[arp + ARP_SPA_AT + 1]! << 16) |
        (f[arp + ARP_SPA_AT + 2]! << 8) |
        f[arp + ARP_SPA_AT + 3]!) >>>
      0;
    const s = this.slots.get(spa);
    if (r === undefined || s === undefined || !s.busy) {
      if (r !== undefined) r.wrong++;
      return;
    }
    let sha = 0;
    for (let i = 0; i < 6; i++) sha = sha * 256 + f[arp + ARP_SHA_AT + i]!;
    const op = (f[arp + ARP_OP_AT]! << 8) | f[arp + ARP_OP_AT + 1]!;
    if (sha !== s.answer || op !== ARP.OP_REPLY) r.wrong++;
    s.busy = false;
    r.outstanding--;
    if (now >= r.warmEnd && now < r.end) {
      const ms = now - s.sentAt;
      r.counted++;
      hist[Math.min(HIST_US, Math.round(ms * 1000))]!++;
      if (ms > r.maxLatency) r.maxLatency = ms;
    }
    if (now < r.end) this.send(s, now);
    else if (r.outstanding === 0) finish(r);
  }

  /** Everything else goes to the userspace switch's OpenFlow handler. */
  private control(f: Uint8Array): void {
    const msg = decodeMessage(f, { strict: false });
    for (const reply of this.handler.handle(msg, Date.now(), f)) this.write(reply);
    this.drainOutbox();
  }

  private write(m: OfMessage): void {
    if (this.socket === undefined) return;
    if (m.type === "multipart_reply") {
      for (const part of encodeMultipartParts(m)) this.socket.write(part);
    } else {
      this.socket.write(encodeMessage(m));
    }
  }
}

let switches: LoadSwitch[] = [];
let ports: readonly BenchPort[] = [];

function send(m: FromSwitches): void {
  process.send!(m);
}

function percentile(q: number, total: number): number {
  const want = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i <= HIST_US; i++) {
    seen += hist[i]!;
    if (seen >= want) return i / 1000;
  }
  return HIST_US / 1000;
}

let watchdogTimer: ReturnType<typeof setInterval> | undefined;
let finishTimer: ReturnType<typeof setTimeout> | undefined;

/** Tells the parent the window's start (phase 1) or end (phase 2), once each, in order. */
function tell(r: Run, phase: 1 | 2): void {
  while (r.told < phase) {
    r.told++;
    if (r.told === 1) r.cpuAtStart = process.cpuUsage();
    else r.cpuInWindow = process.cpuUsage(r.cpuAtStart);
    send({ kind: r.told === 1 ? "measuring" : "windowEnd" });
  }
}

function finish(r: Run): void {
  if (r.finished) return;
  r.finished = true;
  tell(r, 2);
  clearInterval(watchdogTimer);
  clearTimeout(finishTimer);
  const active = switches.filter((s) => s.slotCount > 0).length;
  const result: RunResult = {
    inFlight: switches.reduce((n, s) => n + s.slotCount, 0),
    replies: r.counted,
    windowMs: r.end - r.warmEnd,
    p50: percentile(0.5, r.counted),
    p99: percentile(0.99, r.counted),
    max: r.maxLatency,
    lost: r.lost + r.outstanding,
    wrong: r.wrong,
    switches: active,
    generatorCpuUsPerReply:
      r.cpuInWindow === undefined || r.counted === 0
        ? Infinity
        : (r.cpuInWindow.user + r.cpuInWindow.system) / r.counted,
  };
  run = undefined;
  send({ kind: "result", result });
}

/**
 * Spreads `inFlight` slots over the switches round-robin. Slot j of a switch:
 * its (j mod L)-th VM port asks for the next not-yet-asked port of the same
 * network on another host.
 */
function assignSlots(inFlight: number): void {
  for (const s of switches) s.clearSlots();
  const cursor = new Map<string, number>();
  const perSwitch = new Map<LoadSwitch, number>();
  for (let i = 0; i < inFlight; i++) {
    const sw = switches[i % switches.length]!;
    const j = perSwitch.get(sw) ?? 0;
    perSwitch.set(sw, j + 1);
    const local = ports.filter((p) => p.host === sw.host);
    const requester = local[j % local.length]!;
    const remote = ports.filter((p) => p.network === requester.network && p.host !== sw.host);
    const key = `${sw.host}/${requester.network}`;
    const c = cursor.get(key) ?? 0;
    const target = remote[c];
    if (target === undefined) throw new Error(`not enough ports for ${inFlight} in flight`);
    cursor.set(key, c + 1);
    sw.addSlot(requester, target);
  }
}

function startRun(inFlight: number, warmupMs: number, windowMs: number): void {
  hist.fill(0);
  assignSlots(inFlight);
  const t0 = performance.now();
  const r: Run = {
    warmEnd: t0 + warmupMs,
    end: t0 + warmupMs + windowMs,
    counted: 0,
    lost: 0,
    wrong: 0,
    outstanding: 0,
    maxLatency: 0,
    finished: false,
    told: 0,
    cpuAtStart: undefined,
    cpuInWindow: undefined,
  };
  run = r;
  for (const s of switches) s.prime(t0);
  setTimeout(() => tell(r, 1), warmupMs);
  setTimeout(() => tell(r, 2), warmupMs + windowMs);
  watchdogTimer = setInterval(() => {
    const now = performance.now();
    for (const s of switches) s.watchdog(now, r);
    if (now >= r.end && r.outstanding === 0) finish(r);
  }, 100);
  finishTimer = setTimeout(() => finish(r), warmupMs + windowMs + STALL_MS + 500);
}

process.on("message", (m: ToSwitches) => {
  switch (m.kind) {
    case "init": {
      ports = m.ports;
      switches = m.hosts.map((host) => {
        const h = buildHost(m.topology, host, m.localVlans.get(host)!);
        const lvs = m.localVlans.get(host)!;
        return new LoadSwitch(
          host,
          () => h.brInt.drainOutbox(),
          new OpenFlowHandler(h.brInt),
          h.ofport,
          (network) => lvs.get(network)!,
        );
      });
      void Promise.all(switches.map((s) => s.connect(m.port))).then(() =>
        send({ kind: "connected" }),
      );
      return;
    }
    case "run":
      startRun(m.inFlight, m.warmupMs, m.windowMs);
      return;
    case "exit":
      for (const s of switches) s.close();
      process.disconnect();
      return;
    default: {
      const never: never = m;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});
