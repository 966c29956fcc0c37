/**
 * VXLAN over real UDP (RFC 7348; OVS `netdev-vport` vxlan): the tunnel ports
 * of every bridge in the process share one UDP socket per local port (4789 by
 * default), bound to the underlay address (`local_ip`, default any).
 *
 * Transmit: the pure bridge builds the whole outer frame (Ethernet, IPv4,
 * UDP, VXLAN, inner frame; bridge.ts `encapVxlan`) with the outer destination
 * taken from the port's `remote_ip` or, with `remote_ip=flow`, from tun_dst.
 * Here the kernel does the outer IP/UDP: the VXLAN header and inner frame go
 * out as one datagram to (outer IPv4 dst, outer UDP dst port).
 *
 * Receive: a datagram from `src` is matched to a tunnel port as OVS does
 * (`tnl_port_receive`): a port whose remote_ip is `src` first, then a
 * `remote_ip=flow` port; a port with a fixed key also needs the VNI to match.
 * The payload enters that port with tun_id = VNI, tun_src = src and tun_dst =
 * our local address. Datagrams no port claims are counted and dropped.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { HDR, VXLAN_UDP_PORT } from "../../codec/packet/constants.js";
import { ipv4FromString, ipv4ToString } from "../../codec/packet/addr.js";
import type { Bridge } from "../bridge.js";
import type { Datapath } from "../datapath.js";
import type { Port } from "../ports.js";
import { silentLog, type AgentLog } from "../agent/log.js";

/** Offset of the VXLAN header in the outer frame the bridge builds. */
const VXLAN_OFS = HDR.ETH + HDR.IPV4_MIN + HDR.UDP;
const OUTER_DST_IP = HDR.ETH + 16;
const OUTER_DST_PORT = HDR.ETH + HDR.IPV4_MIN + 2;

export interface VxlanUdpOptions {
  /** Underlay address to bind (dotted IPv4). Default 0.0.0.0. */
  readonly localIp?: string;
  /** UDP ports to listen on. Default [4789]. */
  readonly ports?: readonly number[];
  readonly log?: AgentLog;
  readonly clock: () => number;
  /** Called after each received datagram was processed. */
  readonly onActivity?: () => void;
}

export class VxlanUdp {
  private readonly dp: Datapath;
  private readonly sockets = new Map<number, Socket>();
  private readonly localIp: string;
  private readonly localIpNum: number;
  private readonly log: AgentLog;
  private readonly clock: () => number;
  private readonly onActivity: () => void;
  readonly counters = { rxDatagrams: 0, rxUnclaimed: 0, txDatagrams: 0, txErrors: 0 };

  constructor(dp: Datapath, options: VxlanUdpOptions) {
    this.dp = dp;
    this.localIp = options.localIp ?? "0.0.0.0";
    this.localIpNum = ipv4FromString(this.localIp);
    this.log = options.log ?? silentLog;
    this.clock = options.clock;
    this.onActivity = options.onActivity ?? (() => undefined);
    for (const p of options.ports ?? [VXLAN_UDP_PORT]) this.sockets.set(p, createSocket("udp4"));
  }

  /** Binds every UDP socket. */
  async start(): Promise<void> {
    for (const [port, s] of this.sockets) {
      s.on("message", (msg: Buffer, rinfo: RemoteInfo) => this.receive(msg, rinfo, port));
      s.on("error", (err) => this.log.error({ err: err.message, port }, "vxlan socket error"));
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.bind(port, this.localIp, () => {
          s.off("error", reject);
          resolve();
        });
      });
      this.log.info({ localIp: this.localIp, port }, "vxlan listening");
    }
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  /** A tunnel port transmits `frame[0, len)` (the outer frame the bridge built). */
  transmit(frame: Uint8Array, len: number): void {
    if (len <= VXLAN_OFS) return;
    const dst =
      ((frame[OUTER_DST_IP]! << 24) |
        (frame[OUTER_DST_IP + 1]! << 16) |
        (frame[OUTER_DST_IP + 2]! << 8) |
        frame[OUTER_DST_IP + 3]!) >>>
      0;
    const dport = (frame[OUTER_DST_PORT]! << 8) | frame[OUTER_DST_PORT + 1]!;
    if (dst === 0) {
      this.counters.txErrors++;
      return;
    }
    // Send from the socket bound to the same UDP port when there is one (the
    // usual case, dport == 4789 on both ends), else from any of ours.
    const s = this.sockets.get(dport) ?? this.sockets.values().next().value;
    if (s === undefined) return;
    // The bridge reuses its buffer for the next packet: copy before the async send.
    const payload = Buffer.from(frame.subarray(VXLAN_OFS, len));
    this.counters.txDatagrams++;
    s.send(payload, dport, ipv4ToString(dst), (err) => {
      if (err !== null && err !== undefined) {
        this.counters.txErrors++;
        this.log.debug({ err: err.message }, "vxlan send failed");
      }
    });
  }

  private receive(msg: Buffer, rinfo: RemoteInfo, localPort: number): void {
    this.counters.rxDatagrams++;
    if (rinfo.family !== "IPv4" || msg.length < HDR.VXLAN) {
      this.counters.rxUnclaimed++;
      return;
    }
    const payload = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    const src = ipv4FromString(rinfo.address);
    const vni = (payload[4]! << 16) | (payload[5]! << 8) | payload[6]!;
    const hit = this.findPort(src, vni, localPort);
    if (hit === null) {
      this.counters.rxUnclaimed++;
      return;
    }
    const spec = hit.port.spec;
    const local =
      this.localIpNum !== 0 ? this.localIpNum : spec.kind === "vxlan" ? (spec.localIp ?? 0) : 0;
    this.dp.receiveVxlanPayload(hit.bridge, hit.port.no, payload, src, local, this.clock());
    this.onActivity();
  }

  /** OVS `tnl_port_receive` order: exact remote_ip, then remote_ip=flow. */
  private findPort(
    src: number,
    vni: number,
    udpPort: number,
  ): { bridge: Bridge; port: Port } | null {
    let flowHit: { bridge: Bridge; port: Port } | null = null;
    for (const br of this.dp.bridges.values()) {
      for (const p of br.portList) {
        const s = p.spec;
        if (s.kind !== "vxlan") continue;
        if ((s.dstPort ?? VXLAN_UDP_PORT) !== udpPort) continue;
        if (typeof s.key === "number" && s.key !== vni) continue;
        if (s.remoteIp === "flow") {
          flowHit ??= { bridge: br, port: p };
          continue;
        }
        if (s.remoteIp >>> 0 === src) return { bridge: br, port: p };
      }
    }
    return flowHit;
  }
}
