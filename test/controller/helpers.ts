/**
 * Test-side switch agent: our userspace switch (datapath/ Bridge +
 * OpenFlowHandler) connected to a controller over real TCP, framed with the
 * codec's Framer, the way `dvrflow switch` will do it. One agent per bridge;
 * a host is br-int and br-tun in one Datapath, joined by patch ports, with
 * VM ports (access tags = local VLANs) and VXLAN ports to the other hosts,
 * numbered as `dvrflow plumb` would (defaultOfports).
 *
 * Every message the switch receives and sends is recorded, so tests can
 * count FLOW_MODs and find PACKET_OUTs.
 */
import { createConnection, type Socket } from "node:net";
import { Framer } from "../../codec/framer.js";
import { decodeMessage, encodeMessage, type OfMessage } from "../../codec/message.js";
import { encodeMultipartParts } from "../../codec/messages/multipart-split.js";
import { OFPPR } from "../../codec/messages/port-status.js";
import type { Bridge } from "../../datapath/bridge.js";
import { Datapath } from "../../datapath/datapath.js";
import { OpenFlowHandler } from "../../datapath/openflow-handler.js";
import type { PortSpec } from "../../datapath/ports.js";
import {
  defaultOfports,
  PATCH_INT,
  PATCH_TUN,
  tunnelPortName,
} from "../../src/dvr/compile/index.js";
import { indexTopology } from "../../src/topology/indexed.js";
import type { Topology } from "../../src/topology/schema.js";
import { CaptureSink } from "../datapath/switch-helpers.js";

export class SwitchAgent {
  readonly handler: OpenFlowHandler;
  readonly received: OfMessage[] = [];
  readonly sent: OfMessage[] = [];
  private socket: Socket | undefined;
  private framer = new Framer();
  private closedWaiters: (() => void)[] = [];
  connected = false;

  constructor(readonly bridge: Bridge) {
    this.handler = new OpenFlowHandler(bridge);
  }

  /** Connects and says HELLO; resolves when the TCP connection is up. */
  connect(port: number): Promise<void> {
    this.framer = new Framer();
    const socket = createConnection(port, "127.0.0.1");
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      for (const f of this.framer.push(chunk)) this.onFrame(f);
    });
    socket.on("close", () => {
      this.connected = false;
      for (const w of this.closedWaiters.splice(0)) w();
    });
    socket.on("error", () => undefined);
    return new Promise((resolve) => {
      socket.once("connect", () => {
        this.connected = true;
        this.write({
          type: "hello",
          xid: 1,
          elements: [{ kind: "versionbitmap", bitmaps: [1 << 4] }],
        });
        resolve();
      });
    });
  }

  disconnect(): Promise<void> {
    if (this.socket === undefined || !this.connected) return Promise.resolve();
    const p = new Promise<void>((r) => this.closedWaiters.push(r));
    this.socket.destroy();
    return p;
  }

  /** Resolves when the controller closes the connection. */
  closed(): Promise<void> {
    if (!this.connected) return Promise.resolve();
    return new Promise((r) => this.closedWaiters.push(r));
  }

  /** Adds a port to the bridge and reports it (PORT_STATUS ADD), as OVS does. */
  addPort(spec: PortSpec): void {
    const p = this.bridge.addPort(spec);
    this.write({ type: "port_status", xid: 0, reason: OFPPR.ADD, port: p.describe() });
  }

  removePort(name: string): void {
    const p = this.bridge.portByName(name);
    if (p === undefined) return;
    const desc = p.describe();
    this.bridge.removePort(name);
    this.write({ type: "port_status", xid: 0, reason: OFPPR.DELETE, port: desc });
  }

  /** Forwards what the bridge queued for the controller (packet-ins). */
  flushOutbox(): void {
    for (const m of this.bridge.drainOutbox()) this.write(m);
  }

  flowMods(): Extract<OfMessage, { type: "flow_mod" }>[] {
    return this.received.filter(
      (m): m is Extract<OfMessage, { type: "flow_mod" }> => m.type === "flow_mod",
    );
  }

  private onFrame(frame: Uint8Array): void {
    const msg = decodeMessage(frame, { strict: false });
    this.received.push(msg);
    for (const r of this.handler.handle(msg, Date.now(), frame)) this.write(r);
    this.flushOutbox();
  }

  write(m: OfMessage): void {
    if (this.socket === undefined || !this.connected) return;
    this.sent.push(m);
    if (m.type === "multipart_reply") {
      for (const part of encodeMultipartParts(m)) this.socket.write(part);
    } else {
      this.socket.write(encodeMessage(m));
    }
  }
}

export interface TestHost {
  readonly name: string;
  readonly dp: Datapath;
  readonly brInt: Bridge;
  readonly brTun: Bridge;
  readonly int: SwitchAgent;
  readonly tun: SwitchAgent;
  readonly sink: CaptureSink;
  readonly ofport: (iface: string) => number;
}

/** Builds a host's two bridges as `dvrflow plumb` would, with no flows. */
export function buildHost(
  t: Topology,
  host: string,
  localVlans: ReadonlyMap<string, number>,
): TestHost {
  const index = indexTopology(t);
  const ports = defaultOfports(index, host);
  const h = index.host(host)!;
  const dp = new Datapath();
  const brInt = dp.addBridge({ name: "br-int", datapathId: h.brIntDpid });
  const brTun = dp.addBridge({ name: "br-tun", datapathId: h.brTunDpid });
  brInt.addPort({
    kind: "patch",
    name: PATCH_TUN,
    ofport: 1,
    peerBridge: "br-tun",
    peerPort: PATCH_INT,
  });
  brTun.addPort({
    kind: "patch",
    name: PATCH_INT,
    ofport: 1,
    peerBridge: "br-int",
    peerPort: PATCH_TUN,
  });
  dp.linkPatches();
  for (const p of index.portsByHost.get(host) ?? []) {
    brInt.addPort({
      kind: "sink",
      name: p.interfaceName,
      ofport: ports["br-int"].get(p.interfaceName)!,
      tag: localVlans.get(p.network)!,
    });
  }
  for (const other of index.hosts) {
    if (other.name === host) continue;
    const name = tunnelPortName(other.tunnelIp);
    brTun.addPort({
      kind: "vxlan",
      name,
      ofport: ports["br-tun"].get(name)!,
      remoteIp: other.tunnelIp,
      localIp: h.tunnelIp,
      key: "flow",
    });
  }
  const sink = new CaptureSink();
  brInt.sink = sink;
  brTun.sink = sink;
  return {
    name: host,
    dp,
    brInt,
    brTun,
    int: new SwitchAgent(brInt),
    tun: new SwitchAgent(brTun),
    sink,
    ofport: (iface) => brInt.portByName(iface)!.no,
  };
}

/** Polls `cond` every few ms until it holds (or fails after `ms`). */
export async function until(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
