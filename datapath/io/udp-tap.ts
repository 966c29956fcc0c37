/**
 * A switch port whose "wire" is a UDP socket: a tap over UDP, in the manner
 * of QEMU's `-netdev socket,udp=REMOTE,localaddr=LOCAL` (now `-netdev
 * dgram`), which carries a guest NIC's Ethernet frames one per datagram.
 * Frames the bridge transmits on the port go out as one datagram each to
 * `remote`; every datagram that arrives from `remote` enters the port as one
 * frame. It lets an unprivileged process (a simulated VM, a test) sit on a
 * switch port without a Linux interface, root or libpcap.
 *
 * Only datagrams whose source is exactly `remote` are taken: on a shared
 * loopback anything could otherwise inject frames into the bridge. When the
 * socket is bound it sends one empty datagram to `remote` (an empty frame is
 * never a valid frame): the peer learns the port's address from it, so both
 * sides can bind port 0. Empty datagrams are never delivered to the bridge.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { silentLog, type AgentLog } from "../agent/log.js";

export interface UdpEndpoint {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT` (IPv4 or a name; `[v6]:PORT` is not supported: the sockets are udp4). */
export function parseUdpEndpoint(text: string): UdpEndpoint {
  const i = text.lastIndexOf(":");
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`"${text}": expected HOST:PORT`);
  }
  return { host: text.slice(0, i), port };
}

/** Largest frame a datagram may carry here (the UDP payload limit over IPv4). */
const MAX_DATAGRAM = 65507;

export class UdpTapPort {
  readonly name: string;
  private readonly remote: UdpEndpoint;
  private readonly local: UdpEndpoint;
  private readonly log: AgentLog;
  private socket: Socket | null = null;
  readonly counters = { rx: 0, tx: 0, rxForeign: 0, txErrors: 0 };

  constructor(name: string, remote: UdpEndpoint, local?: UdpEndpoint, log: AgentLog = silentLog) {
    this.name = name;
    this.remote = remote;
    this.local = local ?? { host: "127.0.0.1", port: 0 };
    this.log = log;
  }

  /** Binds, says hello to `remote`; `onFrame` gets each frame (valid only during the call). */
  async open(onFrame: (frame: Uint8Array) => void): Promise<UdpEndpoint> {
    const s = createSocket("udp4");
    this.socket = s;
    s.on("message", (msg: Buffer, rinfo: RemoteInfo) => {
      if (rinfo.port !== this.remote.port || rinfo.address !== this.remote.host) {
        this.counters.rxForeign++;
        return;
      }
      if (msg.length === 0) return;
      this.counters.rx++;
      onFrame(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    });
    s.on("error", (err) => this.log.error({ port: this.name, err: err.message }, "udp port error"));
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(this.local.port, this.local.host, () => {
        s.off("error", reject);
        resolve();
      });
    });
    const a = s.address();
    const bound = { host: a.address, port: a.port };
    s.send(new Uint8Array(0), this.remote.port, this.remote.host);
    this.log.info(
      { port: this.name, local: `${bound.host}:${bound.port}`, remote: this.endpointText() },
      "udp port open",
    );
    return bound;
  }

  private endpointText(): string {
    return `${this.remote.host}:${this.remote.port}`;
  }

  /** Sends `frame[0, len)` to the peer. */
  transmit(frame: Uint8Array, len: number): void {
    const s = this.socket;
    if (s === null || len > MAX_DATAGRAM) {
      this.counters.txErrors++;
      return;
    }
    // The bridge reuses its buffer for the next packet: copy before the async send.
    const copy = Buffer.from(frame.subarray(0, len));
    this.counters.tx++;
    s.send(copy, this.remote.port, this.remote.host, (err) => {
      if (err !== null && err !== undefined) this.counters.txErrors++;
    });
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}
