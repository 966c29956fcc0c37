/**
 * Test helpers for the switch: a capturing transmit sink, flow loading in
 * ovs-ofctl syntax, and a one-bridge setup with sink ports.
 */
import { readFileSync } from "node:fs";
import { FlowKey, parseFrame } from "../../codec/packet/index.js";
import { flowModMessage, formatFlow, parseFlow, type FlowCommand } from "../../codec/text/index.js";
import type { FlowEntry } from "../../datapath/flow-entry.js";
import type { Bridge, TxSink } from "../../datapath/bridge.js";
import { Datapath } from "../../datapath/datapath.js";
import type { Port } from "../../datapath/ports.js";
import { SHARED } from "../shared-path.js";

export interface Sent {
  readonly bridge: string;
  readonly port: number;
  readonly frame: Uint8Array;
}

export class CaptureSink implements TxSink {
  readonly sent: Sent[] = [];
  transmit(port: Port, frame: Uint8Array, len: number): void {
    this.sent.push({ bridge: port.bridgeName, port: port.no, frame: frame.slice(0, len) });
  }
  take(): Sent[] {
    return this.sent.splice(0, this.sent.length);
  }
}

/** Adds flows given in ovs-ofctl add-flow syntax (or another command). */
export function addFlows(
  br: Bridge,
  flows: readonly string[],
  nowMs = 0,
  command: FlowCommand = "add",
): void {
  for (const f of flows) {
    const t = f.trim();
    if (t === "" || t.startsWith("#")) continue;
    br.flowMod(flowModMessage(parseFlow(t, { command })), nowMs);
  }
}

export function flowMod(text: string, command: FlowCommand = "add") {
  return flowModMessage(parseFlow(text, { command }));
}

export const DVR_FLOWS_FILE = `${SHARED}/dvr-bench/flows.txt`;

export function dvrFlows(): string[] {
  return readFileSync(DVR_FLOWS_FILE, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
}

/** One bridge `br0` with sink ports 1..n capturing into the returned sink. */
export function oneBridge(
  nPorts: number,
  name = "br0",
  portPrefix = "p",
): { dp: Datapath; br: Bridge; sink: CaptureSink } {
  const dp = new Datapath();
  const br = dp.addBridge({ name });
  for (let i = 1; i <= nPorts; i++)
    br.addPort({ kind: "sink", name: `${portPrefix}${i}`, ofport: i });
  const sink = new CaptureSink();
  br.sink = sink;
  return { dp, br, sink };
}

/** The table ids of the flows the last walk hit. */
export function tablePath(dp: Datapath): number[] {
  return dp.xlate.hits.slice(0, dp.xlate.nHits).map((e) => e.tableId);
}

export function keyOf(frame: Uint8Array): FlowKey {
  const k = new FlowKey();
  parseFrame(frame, k);
  return k;
}

/** A flow-table entry in `ovs-ofctl dump-flows --no-stats` form. */
export function formatEntry(e: FlowEntry): string {
  return formatFlow({
    type: "flow_mod",
    xid: 0,
    cookie: e.cookie,
    cookieMask: 0n,
    tableId: e.tableId,
    command: 0,
    idleTimeout: e.idleTimeout,
    hardTimeout: e.hardTimeout,
    priority: e.priority,
    bufferId: 0xffffffff,
    outPort: 0xffffffff,
    outGroup: 0xffffffff,
    flags: e.flags,
    match: e.match,
    instructions: e.instructions,
  });
}
