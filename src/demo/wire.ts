/**
 * The tunnels, as seen on the wire: each switch writes what its VXLAN ports
 * send to a capture file (the port's `tx_pcap`, written synchronously, one
 * record per datagram, in the format tcpdump reads), and the demo reads the
 * new records after each case. This is the real traffic between the switch
 * processes, not a prediction: the inner source MAC of a routed frame here
 * is what proves the DVR MAC rewrite, and ARP here would mean ARP crossed a
 * tunnel.
 */
import { existsSync } from "node:fs";
import { ipv4ToString, vxlanDecap, FK } from "../../codec/packet/index.js";
import { readPcapFile } from "../../datapath/io/pcap-file.js";
import { readFrame, type ParsedFrame } from "./frames.js";

export interface WireFrame {
  readonly from: string;
  readonly to: string;
  readonly outerSrc: string;
  readonly outerDst: string;
  readonly vni: number;
  readonly inner: ParsedFrame;
}

interface Tap {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  seen: number;
}

export class Wire {
  private readonly taps: Tap[] = [];
  /** Every frame read so far. */
  readonly all: WireFrame[] = [];

  constructor(private readonly vxlanPort: number) {}

  add(from: string, to: string, file: string): void {
    this.taps.push({ from, to, file, seen: 0 });
  }

  /** Frames sent on any tunnel since the last call. */
  take(): WireFrame[] {
    const out: WireFrame[] = [];
    for (const t of this.taps) {
      if (!existsSync(t.file)) continue;
      let records;
      try {
        records = readPcapFile(t.file).records;
      } catch {
        continue; // a record being written right now: read it next time
      }
      for (const rec of records.slice(t.seen)) {
        const d = vxlanDecap(rec.data, { dstPort: this.vxlanPort });
        if (d.kind !== "vxlan") continue;
        const inner = readFrame(d.inner);
        if (inner === undefined) continue;
        out.push({
          from: t.from,
          to: t.to,
          outerSrc: ipv4ToString(d.outer.w[FK.NW_SRC]!),
          outerDst: ipv4ToString(d.outer.w[FK.NW_DST]!),
          vni: d.vni,
          inner,
        });
      }
      t.seen = records.length;
    }
    this.all.push(...out);
    return out;
  }
}
