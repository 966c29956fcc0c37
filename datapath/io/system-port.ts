/**
 * A Linux network interface as a switch port (OVS Interface type "system"),
 * e.g. the host end of a veth pair whose other end lives in a network
 * namespace: frames the interface receives enter the bridge, frames the
 * bridge sends to the port are injected on the interface.
 *
 * How: libpcap through the npm package `cap` (a small native binding; it opens
 * the device in promiscuous, immediate mode and injects with
 * `pcap_sendpacket`). It is loaded on first use, so a switch without system
 * ports runs where the binding is not built. Linux does not deliver the
 * frames we inject back to our own capture socket, so nothing loops. Frames
 * the host stack itself sends out of the interface would be captured too:
 * libpcap's `inbound` filter matches nothing on Ethernet devices (checked with
 * libpcap 1.10.3) and `cap` does not expose `pcap_setdirection`, so, as for
 * any port of a bridge, give the host side no IP address and disable IPv6 on
 * it (`sysctl net.ipv6.conf.IF.disable_ipv6=1`).
 *
 * Needs CAP_NET_RAW (root). Checksums are not fixed here: turn TX checksum
 * offload off on the namespace side (`ethtool -K IF tx off`), or its packets
 * arrive with partial checksums, as with any AF_PACKET switch.
 */
import { createRequire } from "node:module";
import { silentLog, type AgentLog } from "../agent/log.js";

/** The part of the `cap` package's API we use. */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  send(buffer: Buffer, size: number): void;
  close(): void;
  on(event: "packet", cb: (nbytes: number, truncated: boolean) => void): void;
  setMinBytes?(n: number): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

let capModule: CapModule | null | undefined;

/** The `cap` binding, or null (with the reason) when it is not installed or not built. */
export function loadCap(): { cap: CapModule | null; error: string | null } {
  if (capModule !== undefined) return { cap: capModule, error: null };
  try {
    const require = createRequire(import.meta.url);
    capModule = require("cap") as CapModule;
    return { cap: capModule, error: null };
  } catch (err) {
    return { cap: null, error: String(err) };
  }
}

/** Capture buffer in the kernel (bytes). */
const KERNEL_BUFFER = 4 << 20;
/** Largest frame we take (the pure switch's buffer limit is below this). */
const SNAP = 65535;

export class SystemPort {
  readonly ifname: string;
  private handle: CapHandle | null = null;
  private readonly buf = Buffer.alloc(SNAP);
  private readonly log: AgentLog;
  readonly counters = { rx: 0, tx: 0, txErrors: 0, rxTruncated: 0 };

  constructor(ifname: string, log: AgentLog = silentLog) {
    this.ifname = ifname;
    this.log = log;
  }

  /** Opens the interface; `onFrame` gets each received frame (valid only during the call). */
  open(onFrame: (frame: Uint8Array) => void): void {
    const { cap, error } = loadCap();
    if (cap === null) {
      throw new Error(
        `system port ${this.ifname}: the npm package "cap" (libpcap binding) is not available: ${error}`,
      );
    }
    const h = new cap.Cap();
    const link = h.open(this.ifname, "", KERNEL_BUFFER, this.buf);
    if (link !== "ETHERNET") {
      h.close();
      throw new Error(`system port ${this.ifname}: link type ${link} is not Ethernet`);
    }
    h.setMinBytes?.(0);
    h.on("packet", (nbytes, truncated) => {
      if (truncated) {
        this.counters.rxTruncated++;
        return;
      }
      this.counters.rx++;
      onFrame(new Uint8Array(this.buf.buffer, this.buf.byteOffset, nbytes));
    });
    this.handle = h;
    this.log.info({ ifname: this.ifname }, "system port open");
  }

  /** Injects `frame[0, len)` on the interface. */
  transmit(frame: Uint8Array, len: number): void {
    const h = this.handle;
    if (h === null) return;
    try {
      h.send(Buffer.from(frame.buffer, frame.byteOffset, len), len);
      this.counters.tx++;
    } catch (err) {
      this.counters.txErrors++;
      this.log.debug({ ifname: this.ifname, err: String(err) }, "inject failed");
    }
  }

  close(): void {
    this.handle?.close();
    this.handle = null;
  }
}
