/**
 * Copies a running OpenFlow 1.3 switch's tables into a local bridge, for
 * `dvrflow trace --switch`: connect as a controller would, HELLO, then
 * PORT_DESC, GROUP_DESC and FLOW (all tables) multipart requests, reassemble
 * the replies (`MultipartAssembler`, REPLY_MORE), and replay them as
 * PORT/GROUP_MOD/FLOW_MOD on a fresh bridge. Works against our switch and
 * against Open vSwitch. Read-only: nothing is sent that changes the switch.
 */
import { connect } from "node:net";
import { Framer } from "../../codec/framer.js";
import { decodeMessage, encodeMessage, type OfMessage } from "../../codec/message.js";
import { OFP13_VERSION } from "../../codec/header.js";
import { errorName } from "../../codec/messages/error.js";
import { OFPFC, OFPG_ANY } from "../../codec/messages/flow-mod.js";
import { OFPGC } from "../../codec/messages/group-mod.js";
import { makeHello } from "../../codec/messages/hello.js";
import type { MultipartReplyBody } from "../../codec/messages/multipart.js";
import type { FlowStats } from "../../codec/messages/multipart-flow.js";
import { MultipartAssembler } from "../../codec/multipart-assembler.js";
import { OFPP } from "../../codec/ports.js";
import type { Bridge } from "../bridge.js";
import { Datapath } from "../datapath.js";
import type { ActiveTarget } from "./targets.js";
import { flowDumpRequest } from "../../codec/messages/multipart.js";

const NO_BUFFER = 0xffffffff;

type Reply<K extends MultipartReplyBody["kind"]> = Extract<MultipartReplyBody, { kind: K }>;

interface Dump {
  ports: Reply<"port_desc">["entries"];
  groups: Reply<"group_desc">["entries"];
  flows: Reply<"flow">["entries"];
}

/** Fetches ports, groups and flows from the switch at `target`. */
export function dumpSwitch(target: ActiveTarget, timeoutMs = 10_000): Promise<Dump> {
  return new Promise((resolve, reject) => {
    const s =
      target.kind === "tcp"
        ? connect({ host: target.host, port: target.port })
        : connect({ path: target.path });
    const framer = new Framer();
    const asm = new MultipartAssembler({ timeoutMs });
    const dump: Partial<Dump> = {};
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      if (err !== null) reject(err);
      else resolve(dump as Dump);
    };
    const timer = setTimeout(() => finish(new Error("switch did not answer in time")), timeoutMs);
    const send = (m: OfMessage): void => {
      s.write(encodeMessage(m));
    };
    const requests = (): void => {
      send({ type: "multipart_request", xid: 2, flags: 0, body: { kind: "port_desc" } });
      send({ type: "multipart_request", xid: 3, flags: 0, body: { kind: "group_desc" } });
      send(flowDumpRequest(4));
    };
    s.on("connect", () => send(makeHello(1, [OFP13_VERSION])));
    s.on("error", (e) => finish(e));
    s.on("close", () => finish(new Error("switch closed the connection")));
    s.on("data", (chunk: Buffer) => {
      try {
        for (const f of framer.push(new Uint8Array(chunk))) {
          const m = decodeMessage(f, { strict: false });
          if (m.type === "hello") requests();
          else if (m.type === "echo_request")
            send({ type: "echo_reply", xid: m.xid, data: m.data });
          else if (m.type === "error")
            finish(new Error(`switch sent ${errorName(m) ?? "an error"} (xid ${m.xid})`));
          else if (m.type === "multipart_reply") {
            const whole = asm.push(m, Date.now());
            if (whole === undefined) continue;
            const b = whole.body;
            if (b.kind === "port_desc") dump.ports = b.entries;
            else if (b.kind === "group_desc") dump.groups = b.entries;
            else if (b.kind === "flow") dump.flows = b.entries;
            if (dump.ports && dump.groups && dump.flows) finish(null);
          }
        }
      } catch (e) {
        finish(e as Error);
      }
    });
  });
}

/** A local bridge holding a copy of the switch's ports, groups and flows. */
export async function snapshotSwitch(
  target: ActiveTarget,
  options: { name?: string; timeoutMs?: number } = {},
): Promise<Bridge> {
  const d = await dumpSwitch(target, options.timeoutMs);
  const dp = new Datapath({ cache: false });
  const br = dp.addBridge({ name: options.name ?? "br0", localPort: false });
  for (const p of d.ports) {
    br.addPort({
      kind: p.portNo >>> 0 === OFPP.LOCAL ? "internal" : "sink",
      name: p.name,
      ofport: p.portNo >>> 0,
      hwAddr: p.hwAddr,
    });
  }
  // Groups may chain to groups: retry until no progress.
  let pending = [...d.groups];
  while (pending.length > 0) {
    const next = [];
    for (const g of pending) {
      try {
        br.groupMod(
          {
            type: "group_mod",
            xid: 0,
            command: OFPGC.ADD,
            groupType: g.groupType,
            groupId: g.groupId,
            buckets: g.buckets,
          },
          0,
        );
      } catch {
        next.push(g);
      }
    }
    if (next.length === pending.length)
      throw new Error(`cannot rebuild groups ${next.map((g) => g.groupId).join(", ")}`);
    pending = next;
  }
  addDumpedFlows(br, d.flows);
  return br;
}

/**
 * Installs flows read from a switch's flow dump into `br`, each as the ADD
 * FLOW_MOD that re-creates it (counters and timeouts start afresh: a replica
 * for tracing, not a migration).
 */
export function addDumpedFlows(br: Bridge, flows: readonly FlowStats[]): void {
  for (const f of flows) {
    br.flowMod(
      {
        type: "flow_mod",
        xid: 0,
        cookie: f.cookie,
        cookieMask: 0n,
        tableId: f.tableId,
        command: OFPFC.ADD,
        idleTimeout: 0,
        hardTimeout: 0,
        priority: f.priority,
        bufferId: NO_BUFFER,
        outPort: OFPP.ANY,
        outGroup: OFPG_ANY,
        flags: 0,
        match: f.match,
        instructions: f.instructions,
      },
      0,
    );
  }
}
