/**
 * A running switch process (what `dvrflow switch` starts; one ovs-vswitchd):
 * the pure {@link Datapath} with its bridges and ports from a
 * {@link SwitchConfig}, the real I/O behind the ports (VXLAN over UDP, Linux
 * interfaces through libpcap, pcap files, taps over UDP), one {@link BridgeAgent} per bridge
 * for OpenFlow, and the clock.
 *
 * Time: one interval timer ticks every `tickMs` (default 100 ms): the
 * connections' keep-alive and fail mode on every tick, flow expiry
 * (`bridge.expire`, idle/hard timeouts with FLOW_REMOVED) and MAC ageing once
 * a second. The clock is monotonic milliseconds (`performance.now()`),
 * injectable for tests.
 *
 * Asynchronous messages a packet causes (packet-ins) are flushed to the
 * connections once per event-loop turn after the packets that caused them.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import type { Bridge, TxSink } from "../bridge.js";
import { Datapath } from "../datapath.js";
import type { Port } from "../ports.js";
import { PcapWriter, readPcapFile, type PcapRecord } from "../io/pcap-file.js";
import { SystemPort } from "../io/system-port.js";
import { UdpTapPort, parseUdpEndpoint } from "../io/udp-tap.js";
import { VxlanUdp } from "../io/vxlan-udp.js";
import { BridgeAgent } from "./bridge-agent.js";
import type { ChannelLimits } from "./channel.js";
import { buildBridges, loadFlowsText, type SwitchConfig } from "./config.js";
import { silentLog, type AgentLog } from "./log.js";
import { parseActiveTarget, parsePassiveTarget } from "./targets.js";

export interface RuntimeOptions {
  readonly log?: AgentLog;
  readonly clock?: () => number;
  /** Exact-match cache in front of the tables (default true). */
  readonly cache?: boolean;
  readonly tickMs?: number;
  readonly limits?: ChannelLimits;
  /** Extra pcap attachments from flags: frames from `file` enter `port` of `bridge`. */
  readonly pcapIn?: readonly PcapAttachment[];
  /** Extra pcap attachments: frames `port` transmits are written to `file`. */
  readonly pcapOut?: readonly PcapAttachment[];
}

export interface PcapAttachment {
  readonly bridge: string;
  /** Port name or number. */
  readonly port: string;
  readonly file: string;
}

type Tx = (frame: Uint8Array, len: number) => void;

/** The transmit sink of every bridge: per port, the I/O that carries its frames. */
class PortRouter implements TxSink {
  readonly routes = new Map<Port, Tx[]>();
  add(port: Port, tx: Tx): void {
    const list = this.routes.get(port);
    if (list === undefined) this.routes.set(port, [tx]);
    else list.push(tx);
  }
  transmit(port: Port, frame: Uint8Array, len: number): void {
    const list = this.routes.get(port);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) list[i]!(frame, len);
  }
}

/** A frame from a capture file, bound for a port. */
interface PendingFrame {
  readonly bridge: Bridge;
  readonly port: Port;
  readonly record: PcapRecord;
}

export class SwitchRuntime {
  readonly config: SwitchConfig;
  readonly dp: Datapath;
  readonly log: AgentLog;
  readonly clock: () => number;
  bridges = new Map<string, Bridge>();
  readonly agents = new Map<string, BridgeAgent>();
  vxlan: VxlanUdp | null = null;
  readonly systemPorts: SystemPort[] = [];
  readonly udpPorts: UdpTapPort[] = [];
  /** udp ports waiting to be bound (openPorts is synchronous; start awaits them). */
  private udpPending: { br: Bridge; port: Port; tap: UdpTapPort }[] = [];
  private readonly writers: PcapWriter[] = [];
  private readonly router = new PortRouter();
  private readonly options: RuntimeOptions;
  private timer: NodeJS.Timeout | null = null;
  private lastExpireMs = 0;
  private flushQueued = false;
  private pcapInputs: PendingFrame[] = [];

  constructor(config: SwitchConfig, options: RuntimeOptions = {}) {
    this.config = config;
    this.options = options;
    this.log = options.log ?? silentLog;
    const t0 = performance.now();
    // Whole milliseconds, as OVS's time_msec(): flow durations print as OVS prints them.
    this.clock = options.clock ?? (() => Math.floor(performance.now() - t0));
    this.dp = new Datapath({ cache: options.cache });
  }

  /**
   * Builds the bridges, loads flows, opens every port's I/O and every
   * OpenFlow endpoint. Resolves once listeners are bound (their addresses are
   * in `agents.get(name).addresses`). Throws, having closed what it opened,
   * when a port or endpoint cannot be opened.
   */
  async start(): Promise<void> {
    try {
      await this.startInner();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startInner(): Promise<void> {
    const now = this.clock();
    this.bridges = buildBridges(this.config, this.dp, now);
    for (const b of this.config.bridges) {
      const br = this.bridges.get(b.name)!;
      br.sink = this.router;
      // OVS `connmgr_flushed`: a standalone bridge with no controller starts as a
      // learning switch, through a visible flow.
      if (b.failMode === "standalone" && b.controllers.length === 0) {
        br.flowMod(flowModMessage(parseFlow("priority=0,actions=NORMAL")), now);
      }
      if (b.flows !== undefined) {
        const n = loadFlowsText(br, readFileSync(b.flows, "utf8"), now, b.flows);
        this.log.info({ bridge: b.name, flows: n, file: b.flows }, "flows loaded");
      }
    }
    this.openPorts();
    if (this.vxlan !== null) await this.vxlan.start();
    for (const { br, port, tap } of this.udpPending.splice(0)) {
      await tap.open((frame) => this.receive(br, port, frame));
    }
    for (const b of this.config.bridges) {
      const agent = new BridgeAgent(this.bridges.get(b.name)!, {
        controllers: b.controllers.map(parseActiveTarget),
        listeners: b.listen.map(parsePassiveTarget),
        failMode: b.failMode,
        probeIntervalMs: this.config.probeInterval * 1000,
        maxBackoffMs: this.config.maxBackoff * 1000,
        limits: this.options.limits,
        log: this.log,
        clock: this.clock,
      });
      this.agents.set(b.name, agent);
      await agent.start();
    }
    this.lastExpireMs = this.clock();
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 100);
    this.timer.unref?.();
    this.log.info(
      {
        bridges: this.config.bridges.map((b) => ({
          name: b.name,
          dpid: `0x${this.bridges.get(b.name)!.datapathId.toString(16).padStart(16, "0")}`,
          ports: this.bridges.get(b.name)!.portList.map((p) => `${p.no}:${p.name}`),
        })),
      },
      "switch started",
    );
  }

  /** Opens the I/O of every port (and the extra pcap attachments). */
  private openPorts(): void {
    const vxlanPorts = new Set<number>();
    for (const b of this.config.bridges) {
      const br = this.bridges.get(b.name)!;
      for (const pc of b.ports) {
        const port = br.portByName(pc.name)!;
        if (pc.type === "vxlan") {
          const spec = port.spec;
          if (spec.kind === "vxlan") vxlanPorts.add(spec.dstPort ?? this.config.vxlan.port);
        } else if (pc.type === "system") {
          const sp = new SystemPort(pc.interface ?? pc.name, this.log);
          this.systemPorts.push(sp);
          sp.open((frame) => this.receive(br, port, frame));
          this.router.add(port, (f, n) => sp.transmit(f, n));
        } else if (pc.type === "udp") {
          const tap = new UdpTapPort(
            pc.name,
            parseUdpEndpoint(pc.remote ?? ""),
            pc.local === undefined ? undefined : parseUdpEndpoint(pc.local),
            this.log,
          );
          this.udpPorts.push(tap);
          this.udpPending.push({ br, port, tap });
          this.router.add(port, (f, n) => tap.transmit(f, n));
        }
        if (pc.rxPcap !== undefined) this.addPcapIn(br, port, pc.rxPcap);
        if (pc.txPcap !== undefined) this.addPcapOut(port, pc.txPcap);
      }
    }
    for (const a of this.options.pcapIn ?? []) {
      const { br, port } = this.resolvePort(a);
      this.addPcapIn(br, port, a.file);
    }
    for (const a of this.options.pcapOut ?? []) this.addPcapOut(this.resolvePort(a).port, a.file);
    if (vxlanPorts.size > 0) {
      const vx = new VxlanUdp(this.dp, {
        localIp: this.config.vxlan.localIp,
        ports: [...vxlanPorts],
        log: this.log,
        clock: this.clock,
        onActivity: () => this.scheduleFlush(),
      });
      this.vxlan = vx;
      for (const br of this.bridges.values()) {
        for (const p of br.portList) {
          if (p.spec.kind === "vxlan") this.router.add(p, (f, n) => vx.transmit(f, n));
        }
      }
    }
  }

  private resolvePort(a: PcapAttachment): { br: Bridge; port: Port } {
    const br = this.bridges.get(a.bridge);
    if (br === undefined) throw new Error(`pcap: no bridge ${a.bridge}`);
    const port = /^\d+$/.test(a.port) ? br.ports.get(Number(a.port)) : br.portByName(a.port);
    if (port === undefined) throw new Error(`pcap: no port ${a.port} on ${a.bridge}`);
    return { br, port };
  }

  private addPcapIn(br: Bridge, port: Port, file: string): void {
    const cap = readPcapFile(file);
    for (const record of cap.records) this.pcapInputs.push({ bridge: br, port, record });
    this.log.info(
      { bridge: br.name, port: port.name, file, frames: cap.records.length },
      "pcap input",
    );
  }

  private addPcapOut(port: Port, file: string): void {
    const w = new PcapWriter(file);
    this.writers.push(w);
    this.router.add(port, (f, n) => w.write(f.subarray(0, n), Date.now()));
  }

  /** Frames from every pcap input, in capture-time order (stable across files). */
  private sortedInputs(): PendingFrame[] {
    const list = this.pcapInputs;
    this.pcapInputs = [];
    return list
      .map((f, i) => ({ f, i }))
      .sort((a, b) => a.f.record.timeMs - b.f.record.timeMs || a.i - b.i)
      .map((x) => x.f);
  }

  /** Sends the pcap input frames into their ports now (a live switch replays its rx_pcap files at start). */
  replayPcapInputs(): number {
    const frames = this.sortedInputs();
    for (const f of frames) this.receive(f.bridge, f.port, f.record.data);
    return frames.length;
  }

  /**
   * Offline run: every pcap input frame enters its port with the switch's
   * time set from the capture's timestamps (relative to the first frame), so
   * idle timeouts behave as in the capture; then flows expire at the end.
   */
  runOffline(): { frames: number } {
    const frames = this.sortedInputs();
    const t0 = frames[0]?.record.timeMs ?? 0;
    let now = 0;
    for (const f of frames) {
      now = f.record.timeMs - t0;
      this.dp.receive(f.bridge, f.port.no, f.record.data, now);
    }
    for (const br of this.bridges.values()) br.expire(now);
    for (const a of this.agents.values()) a.flushAsync();
    return { frames: frames.length };
  }

  /** One frame arrives on `port` now. */
  receive(br: Bridge, port: Port, frame: Uint8Array): void {
    this.dp.receive(br, port.no, frame, this.clock());
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      for (const a of this.agents.values()) a.flushAsync();
    });
  }

  /** Periodic work (the interval timer calls it; tests may call it with their own clock). */
  tick(): void {
    const now = this.clock();
    for (const a of this.agents.values()) a.tick(now);
    if (now - this.lastExpireMs >= 1000) {
      this.lastExpireMs = now;
      for (const br of this.bridges.values()) br.expire(now);
      for (const a of this.agents.values()) a.flushAsync();
    }
  }

  /** Address a listener of `bridge` is bound to (the first), e.g. for ptcp:0. */
  listenAddress(bridge: string): { port?: number; host?: string; path?: string } | undefined {
    return this.agents.get(bridge)?.addresses[0];
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const a of this.agents.values()) await a.stop();
    for (const sp of this.systemPorts) sp.close();
    for (const tap of this.udpPorts) tap.close();
    this.vxlan?.close();
    for (const w of this.writers) w.close();
  }
}
