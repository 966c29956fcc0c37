/**
 * Shared setup of the datapath bench (main thread and workers): the DVR
 * table set of shared/dvr-bench/flows.txt in one bridge with ports 1–8, a
 * counting transmit sink, and the packet ring.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SHARED } from "../test/shared-path.js";
import { flowModMessage, parseFlow } from "../codec/text/flow.js";
import type { Bridge, TxSink } from "../datapath/bridge.js";
import { Datapath, type DatapathOptions } from "../datapath/datapath.js";
import type { Port } from "../datapath/ports.js";
import { N_PORTS, type MixFlow } from "./dvr-mix.js";

export const DVR_FLOWS = join(SHARED, "dvr-bench", "flows.txt");

/** Counts what leaves (and keeps a checksum of the bytes so nothing is optimised away). */
export class CountingSink implements TxSink {
  packets = 0;
  bytes = 0;
  check = 0;
  transmit(port: Port, frame: Uint8Array, len: number): void {
    this.packets++;
    this.bytes += len;
    this.check = (this.check + frame[len - 1]! + port.no) | 0;
  }
  transmitAt(port: Port, buf: Uint8Array, off: number, len: number): void {
    this.packets++;
    this.bytes += len;
    this.check = (this.check + buf[off + len - 1]! + port.no) | 0;
  }
}

export function dvrFlowLines(): string[] {
  return readFileSync(DVR_FLOWS, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"));
}

export interface DvrSwitch {
  readonly dp: Datapath;
  readonly br: Bridge;
  readonly sink: CountingSink;
}

/** The DVR switch: flows.txt parsed with codec/text parseFlow, ports 1–8. */
export function dvrSwitch(options: DatapathOptions = {}, lines = dvrFlowLines()): DvrSwitch {
  const dp = new Datapath(options);
  const br = dp.addBridge({ name: "br-int" });
  for (let p = 1; p <= N_PORTS; p++) br.addPort({ kind: "sink", name: `vm${p}`, ofport: p });
  for (const l of lines) br.flowMod(flowModMessage(parseFlow(l, { command: "add" })), 0);
  const sink = new CountingSink();
  br.sink = sink;
  return { dp, br, sink };
}

/** Bytes per ring slot: a 64-byte-class frame with room in front (headroom) for a pushed tag. */
export const RING_SLOT = 128;
export const RING_HEADROOM = 32;

/**
 * The raw frames of a packet sequence in one preallocated buffer (fixed
 * slots, structure of arrays). `frames[i]` are views into it, made once, for
 * the single-packet API.
 */
export interface Ring {
  readonly n: number;
  readonly data: Uint8Array;
  readonly port: Int32Array;
  readonly len: Int32Array;
  readonly frames: Uint8Array[];
}

export function buildRing(pkts: readonly MixFlow[], shared = false): Ring {
  const n = pkts.length;
  const bytes = n * RING_SLOT;
  const data = new Uint8Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const port = new Int32Array(shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  const len = new Int32Array(shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  for (let i = 0; i < n; i++) {
    const p = pkts[i]!;
    data.set(p.frame, i * RING_SLOT + RING_HEADROOM);
    port[i] = p.inPort;
    len[i] = p.frame.length;
  }
  return ringViews(n, data, port, len);
}

export function ringViews(n: number, data: Uint8Array, port: Int32Array, len: Int32Array): Ring {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * RING_SLOT + RING_HEADROOM;
    frames.push(data.subarray(o, o + len[i]!));
  }
  return { n, data, port, len, frames };
}
