/**
 * A simulated VM: the smallest IPv4 host that can ARP and ping, living on a
 * UDP socket in the demo process whose peer is the VM's port on a switch
 * (a `type: udp` port, datapath/io/udp-tap.ts: one Ethernet frame per
 * datagram, and an empty datagram from the switch when the port opens).
 *
 * What it does, as a Linux guest would for these cases:
 * - answers ARP requests for its address and caches ARP replies;
 * - resolves its next hop before sending (the peer on its own subnet, else
 *   its gateway), up to three ARP requests, unless the caller forces a MAC;
 * - answers ICMP echo requests to its address (resolving the way back the
 *   same way) and matches echo replies to the pings it sent.
 *
 * Every frame it receives is kept (with its arrival time) so the demo can
 * show what actually arrived: the source MAC and TTL a routed packet had at
 * the end of its path.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import { ipv4ToString, macFromString } from "../../codec/packet/index.js";
import {
  arpReply,
  arpRequest,
  icmpEchoReply,
  icmpEchoRequest,
  isArpReply,
  isArpRequest,
  isEchoReply,
  isEchoRequest,
  readFrame,
  type ParsedFrame,
} from "./frames.js";

export interface VmSpec {
  readonly name: string;
  readonly host: string;
  readonly network: string;
  /** The switch port's interface name (e.g. `tapa-web-1`). */
  readonly iface: string;
  readonly mac: string;
  readonly ip: number;
  /** Subnet as (network address, prefix length). */
  readonly subnet: { readonly address: number; readonly prefix: number };
  readonly gateway: number | undefined;
}

export interface Received {
  readonly at: number;
  readonly bytes: Uint8Array;
  readonly frame: ParsedFrame;
}

export interface ArpResult {
  readonly mac: string;
  readonly requests: number;
}

export interface PingResult {
  /** Echo reply received. */
  readonly ok: boolean;
  readonly rttMs: number | undefined;
  /** The next hop and how it was resolved (undefined: ARP failed). */
  readonly nextHop: {
    readonly ip: number;
    readonly mac: string | undefined;
    readonly arp: ArpResult | undefined;
  };
  /** The bytes of the (last) echo request sent, for tracing. */
  readonly request: Uint8Array | undefined;
  /** Requests sent. */
  readonly sent: number;
  readonly reply: Received | undefined;
}

/**
 * What the demo drives a VM through, simulated (SimVm, here) or a real
 * network namespace (NetnsVm, netns.ts): the same cases, checks and report
 * for both.
 */
export interface DemoVm {
  readonly spec: VmSpec;
  /** Every frame the switch delivered to the VM, in order. */
  readonly received: readonly Received[];
  /** Echo requests the VM answered so far. */
  readonly echoesAnswered: number;
  /** Resolves when the VM's switch port is open. */
  readonly attached: Promise<void>;
  /** Forgets every ARP entry (each case starts cold, so its ARP shows). */
  flushArp(): void | Promise<void>;
  /**
   * Pings `dst`: resolves the next hop (or sends straight to `dstMac`),
   * then up to `count` echo requests, stopping at the first reply.
   */
  ping(dst: number, options?: { dstMac?: string; count?: number }): Promise<PingResult>;
  close(): void;
}

const ARP_TRIES = 3;
const ECHO_ID_BASE = 0x4400;

/** True when `ip` is on subnet `s`. */
export function inSubnet(ip: number, s: VmSpec["subnet"]): boolean {
  const mask = s.prefix === 0 ? 0 : (0xffffffff << (32 - s.prefix)) >>> 0;
  return (ip & mask) >>> 0 === (s.address & mask) >>> 0;
}

export class SimVm implements DemoVm {
  readonly spec: VmSpec;
  readonly received: Received[] = [];
  private socket: Socket | null = null;
  private peer: RemoteInfo | undefined;
  private readonly arpCache = new Map<number, string>();
  private readonly macBytes: Uint8Array;
  private waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  private attachedResolve: (() => void) | undefined;
  /** Resolves when the switch port said hello. */
  readonly attached: Promise<void>;
  private seq = 0;
  private readonly echoId: number;
  /** Echo requests answered (the VM's own replies). */
  echoesAnswered = 0;

  constructor(spec: VmSpec, index: number) {
    this.spec = spec;
    this.macBytes = macFromString(spec.mac);
    this.echoId = ECHO_ID_BASE + index;
    this.attached = new Promise((r) => (this.attachedResolve = r));
  }

  /** Binds the VM's socket on 127.0.0.1; the port the switch must send to. */
  async bind(): Promise<number> {
    const s = createSocket("udp4");
    this.socket = s;
    s.on("message", (msg: Buffer, rinfo: RemoteInfo) => this.onDatagram(msg, rinfo));
    s.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(0, "127.0.0.1", () => {
        s.off("error", reject);
        resolve();
      });
    });
    return s.address().port;
  }

  get isAttached(): boolean {
    return this.peer !== undefined;
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.peer === undefined) {
      // The switch's hello (an empty datagram) tells us where its port is.
      if (msg.length !== 0) return;
      this.peer = rinfo;
      this.attachedResolve?.();
      return;
    }
    if (rinfo.port !== this.peer.port || rinfo.address !== this.peer.address) return;
    if (msg.length === 0) return;
    const bytes = Uint8Array.from(msg);
    const frame = readFrame(bytes);
    if (frame === undefined) return;
    const r: Received = { at: performance.now(), bytes, frame };
    this.received.push(r);
    this.handle(r);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(r)) return true;
      w.resolve(r);
      return false;
    });
  }

  private handle(r: Received): void {
    const f = r.frame;
    if (f.dst !== this.spec.mac && f.dst !== "ff:ff:ff:ff:ff:ff") return;
    if (isArpRequest(f) && f.arp!.tpa === this.spec.ip) {
      this.arpCache.set(f.arp!.spa, f.arp!.sha);
      this.send(
        arpReply({
          sha: this.macBytes,
          spa: this.spec.ip,
          tha: macFromString(f.arp!.sha),
          tpa: f.arp!.spa,
        }),
      );
    } else if (isArpReply(f) && f.arp!.tha === this.spec.mac) {
      this.arpCache.set(f.arp!.spa, f.arp!.sha);
    } else if (isEchoRequest(f) && f.ipv4!.dst === this.spec.ip) {
      void this.answerEcho(r);
    }
  }

  private async answerEcho(r: Received): Promise<void> {
    const ip = r.frame.ipv4!;
    const echo = r.frame.echo!;
    const hop = this.nextHopFor(ip.src);
    const mac = (await this.resolve(hop))?.mac;
    if (mac === undefined) return;
    this.echoesAnswered++;
    this.send(
      icmpEchoReply({
        eth: { src: this.macBytes, dst: macFromString(mac) },
        ip: { kind: "ipv4", src: this.spec.ip, dst: ip.src, ttl: 64 },
        id: echo.id,
        seq: echo.seq,
        payload: payloadOf(r.bytes),
      }),
    );
  }

  /** The next hop for `dst`: itself on the VM's subnet, else the gateway. */
  nextHopFor(dst: number): number {
    if (inSubnet(dst, this.spec.subnet) || this.spec.gateway === undefined) return dst;
    return this.spec.gateway;
  }

  send(frame: Uint8Array): void {
    const s = this.socket;
    const p = this.peer;
    if (s === null || p === undefined) return;
    s.send(frame, p.port, p.address);
  }

  /** Waits for the next frame satisfying `pred` (undefined after `timeoutMs`). */
  waitFor(pred: (r: Received) => boolean, timeoutMs: number): Promise<Received | undefined> {
    return new Promise((resolve) => {
      const w = {
        pred,
        resolve: (r: Received) => {
          clearTimeout(t);
          resolve(r);
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** The cached MAC of `ip`, or ARP for it (three requests, `perTryMs` apart). */
  async resolve(ip: number, perTryMs = 250): Promise<ArpResult | undefined> {
    const cached = this.arpCache.get(ip);
    if (cached !== undefined) return { mac: cached, requests: 0 };
    for (let i = 1; i <= ARP_TRIES; i++) {
      const reply = this.waitFor(
        (r) => isArpReply(r.frame) && r.frame.arp!.spa === ip && r.frame.dst === this.spec.mac,
        perTryMs,
      );
      this.send(arpRequest({ sha: this.macBytes, spa: this.spec.ip, tpa: ip }));
      const got = await reply;
      if (got !== undefined) return { mac: got.frame.arp!.sha, requests: i };
    }
    return undefined;
  }

  /** Forgets every ARP entry (each case starts cold, so its ARP shows). */
  flushArp(): void {
    this.arpCache.clear();
  }

  /**
   * Pings `dst`: resolves the next hop (or uses `dstMac`), then sends up to
   * `count` echo requests `intervalMs` apart and stops at the first reply.
   */
  async ping(
    dst: number,
    options: { dstMac?: string; count?: number; intervalMs?: number } = {},
  ): Promise<PingResult> {
    const hopIp = this.nextHopFor(dst);
    let arp: ArpResult | undefined;
    let mac = options.dstMac;
    if (mac === undefined) {
      arp = await this.resolve(hopIp);
      mac = arp?.mac;
    }
    const nextHop = { ip: hopIp, mac, arp };
    if (mac === undefined) {
      return {
        ok: false,
        rttMs: undefined,
        nextHop,
        request: undefined,
        sent: 0,
        reply: undefined,
      };
    }
    const count = options.count ?? 3;
    const interval = options.intervalMs ?? 300;
    let request: Uint8Array | undefined;
    for (let i = 0; i < count; i++) {
      const seq = ++this.seq;
      request = icmpEchoRequest({
        eth: { src: this.macBytes, dst: macFromString(mac) },
        ip: { kind: "ipv4", src: this.spec.ip, dst, ttl: 64, id: seq },
        id: this.echoId,
        seq,
        payload: new TextEncoder().encode(`dvrflow demo ${this.spec.name} #${seq}`),
      });
      const reply = this.waitFor(
        (r) =>
          isEchoReply(r.frame) &&
          r.frame.echo!.id === this.echoId &&
          r.frame.echo!.seq === seq &&
          r.frame.ipv4!.src === dst,
        interval,
      );
      const t0 = performance.now();
      this.send(request);
      const got = await reply;
      if (got !== undefined) {
        return {
          ok: true,
          rttMs: got.at - t0,
          nextHop,
          request,
          sent: i + 1,
          reply: got,
        };
      }
    }
    return { ok: false, rttMs: undefined, nextHop, request, sent: count, reply: undefined };
  }

  toString(): string {
    return `${this.spec.name} (${ipv4ToString(this.spec.ip)})`;
  }
}

/** The ICMP echo data of a request (after the 8-byte echo header), to echo it back. */
function payloadOf(bytes: Uint8Array): Uint8Array {
  const f = readFrame(bytes);
  if (f?.ipv4 === undefined) return new Uint8Array(0);
  let o = 14;
  if (f.vlan !== undefined) o += 4;
  const ihl = (bytes[o]! & 0x0f) * 4;
  const total = (bytes[o + 2]! << 8) | bytes[o + 3]!;
  return bytes.slice(o + ihl + 8, o + total);
}
