/**
 * The controller's ARP responder fallback, reached from compiled flows only
 * (issue 5 §4: "what the flows cannot answer reaches the controller, which
 * replies with a packet-out"). A controller and examples/two-hosts.yaml's
 * hosts as our userspace switch over TCP (rig.ts); no hand-installed flow.
 *
 * The window the fallback covers is made deterministic by deleting one
 * responder flow (the gateway's) from compute-1's br-int behind the
 * controller's back, with the periodic audit off so nothing puts it back:
 * the switch then holds every compiled flow but that one, as during a
 * reconcile that has not reached it yet.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { OfMessage } from "../../codec/message.js";
import {
  ETH_TYPE,
  FK,
  FlowKey,
  HDR,
  arpRequest,
  ipv4FromString,
  macFromString,
  macToString,
  parseFrame,
} from "../../codec/packet/index.js";
import { OFPR } from "../../codec/messages/packet-in.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { ARP_PACKET_IN_LEN } from "../../src/dvr/compile/br-int.js";
import { BR_INT, cookieFor } from "../../src/dvr/tables.js";
import { tunnelPortName } from "../../src/dvr/compile/index.js";
import type { TestHost } from "./helpers.js";
import { until } from "./helpers.js";
import { installed, startRig, type Rig } from "./rig.js";

type PacketIn = Extract<OfMessage, { type: "packet_in" }>;
type PacketOut = Extract<OfMessage, { type: "packet_out" }>;

const VM_A1_MAC = "fa:16:3e:aa:00:01";
const VM_A1_IP = "203.0.113.10";
const GW_BLUE_MAC = "fa:16:3e:00:01:01";
const GW_BLUE_IP = "203.0.113.1";
/** In blue-v4 (203.0.113.0/26), owned by no port or router in the topology. */
const UNKNOWN_IP = "203.0.113.50";
/** Ethernet's minimum frame without FCS: what a VM's ARP request is padded to on the wire. */
const MIN_FRAME = 60;

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function rig(): Promise<Rig> {
  // The audit would re-add the deleted flow; switch it off.
  const r = await startRig({ controller: { auditIntervalMs: 0 } });
  rigs.push(r);
  return r;
}

/** vm-a1's ARP request for `tpa`, padded as it is on the wire; unicast to `dst` when given. */
function requestFromVmA1(tpa: string, dst?: string): Uint8Array {
  const req = arpRequest({
    sha: macFromString(VM_A1_MAC),
    spa: ipv4FromString(VM_A1_IP),
    tpa: ipv4FromString(tpa),
  });
  const frame = new Uint8Array(Math.max(MIN_FRAME, req.length));
  frame.set(req);
  if (dst !== undefined) frame.set(macFromString(dst), 0);
  return frame;
}

function packetIns(h: TestHost): PacketIn[] {
  return h.int.sent.filter((m): m is PacketIn => m.type === "packet_in");
}

function packetOuts(h: TestHost): PacketOut[] {
  return h.int.received.filter((m): m is PacketOut => m.type === "packet_out");
}

/** `dump-flows` lines of br-int table 40 that answer ARP for `ip`. */
function responderFlows(h: TestHost, ip: string): string[] {
  return installed(h.int).filter(
    (l) => /\btable=40,/.test(l) && l.includes(`arp_tpa=${ip},`) && l.includes("arp_op=1"),
  );
}

/** compute-1's br-tun port number of the VXLAN tunnel to `peer`. */
function vxlanTo(r: Rig, h: TestHost, peer: string): number {
  const name = tunnelPortName(ipv4FromString(r.t.hosts[peer]!.tunnel_ip));
  return h.brTun.portByName(name)!.no;
}

function sendFromVmA1(h: TestHost, frame: Uint8Array): void {
  h.brInt.receive(h.ofport("tap-vm-a1"), frame, 0);
  h.int.flushOutbox();
}

async function packetInCount(r: Rig, reason: string): Promise<number> {
  const text = await r.metrics.text();
  const m = new RegExp(
    `of_packet_ins_total\\{[^}]*reason="${reason}"[^}]*table="40"[^}]*\\} (\\d+)`,
  ).exec(text);
  return m === null ? 0 : Number(m[1]);
}

async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 3000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

function arpFields(frame: Uint8Array) {
  const key = new FlowKey();
  expect(parseFrame(frame, key)).toBe(0);
  return {
    ethType: key.w[FK.ETH_TYPE],
    op: key.w[FK.ARP_OP],
    spa: key.w[FK.ARP_SPA],
    tpa: key.w[FK.ARP_TPA],
    ethSrc: macToString(frame, 6),
    ethDst: macToString(frame, 0),
    sha: macToString(frame, HDR.ETH + 8),
    tha: macToString(frame, HDR.ETH + 18),
  };
}

describe("ARP responder fallback through compiled flows", () => {
  it("a known address whose responder flow is absent is answered by the controller's packet-out", async () => {
    const r = await rig();
    const c1 = r.hosts[0];
    const vxlan = vxlanTo(r, c1, "compute-2");
    const vmPort = c1.ofport("tap-vm-a1");

    // With every flow in place the flows answer: nothing reaches the controller.
    sendFromVmA1(c1, requestFromVmA1(GW_BLUE_IP));
    const byFlows = c1.sink.take();
    expect(byFlows.filter((s) => s.bridge === "br-int" && s.port === vmPort)).toHaveLength(1);
    expect(packetIns(c1)).toHaveLength(0);

    // Take the gateway's responder flow away (the window a reconcile closes).
    const gw = responderFlows(c1, GW_BLUE_IP);
    expect(gw).toHaveLength(1);
    // `del-flows --strict` syntax: the match, the cookie as an exact match, no actions.
    const spec = gw[0]!
      .replace(/ actions=.*$/, "")
      .replace(/^cookie=(0x[0-9a-f]+)/, "cookie=$1/0xffffffffffffffff");
    c1.brInt.flowMod(flowModMessage(parseFlow(spec, { command: "delete_strict" })), 0);
    expect(responderFlows(c1, GW_BLUE_IP)).toHaveLength(0);

    // Broadcast, then unicast (the kernel's re-validation probe goes to the cached MAC).
    for (const [n, frame] of [
      [1, requestFromVmA1(GW_BLUE_IP)],
      [2, requestFromVmA1(GW_BLUE_IP, GW_BLUE_MAC)],
    ] as const) {
      sendFromVmA1(c1, frame);
      // The compiled fallback flow sent the headers only, from table 40, as an action.
      const pin = packetIns(c1).at(-1)!;
      expect(packetIns(c1)).toHaveLength(n);
      expect(pin.tableId).toBe(BR_INT.DVR_LOCAL_RESPONDER.id);
      expect(pin.reason).toBe(OFPR.ACTION);
      expect(pin.cookie).toBe(
        cookieFor(r.t.controller.cookie_prefix, "pipeline", "pipeline/br-int/arp-to-controller"),
      );
      expect(pin.totalLen).toBe(MIN_FRAME);
      expect(pin.data.byteLength).toBe(ARP_PACKET_IN_LEN);

      await until(() => packetOuts(c1).length === n, 3000, `packet-out ${n}`);
      const po = packetOuts(c1).at(-1)!;
      expect(po.inPort).toBe(vmPort);
      const reply = arpFields(po.data);
      expect(reply).toEqual({
        ethType: ETH_TYPE.ARP,
        op: 2,
        spa: ipv4FromString(GW_BLUE_IP),
        tpa: ipv4FromString(VM_A1_IP),
        ethSrc: GW_BLUE_MAC,
        ethDst: VM_A1_MAC,
        sha: GW_BLUE_MAC,
        tha: VM_A1_MAC,
      });
      // The switch put exactly that reply on vm-a1's port; the request
      // itself was switched but never crossed the tunnel (br-tun T23/T21).
      const out = c1.sink.take();
      const toVm = out.filter((s) => s.bridge === "br-int" && s.port === vmPort);
      expect(toVm).toHaveLength(1);
      expect(arpFields(toVm[0]!.frame)).toEqual(reply);
      expect(out.filter((s) => s.bridge === "br-tun" && s.port === vxlan)).toEqual([]);
    }
    await eventually(async () => (await packetInCount(r, "arp_reply")) === 2, "arp_reply count");
  });

  it("an unknown address reaches the controller, gets no reply from it, and is switched as in Neutron", async () => {
    const r = await rig();
    const c1 = r.hosts[0];
    const vxlan = vxlanTo(r, c1, "compute-2");
    expect(responderFlows(c1, UNKNOWN_IP)).toHaveLength(0);

    sendFromVmA1(c1, requestFromVmA1(UNKNOWN_IP));
    expect(packetIns(c1)).toHaveLength(1);
    expect(packetIns(c1)[0]!.tableId).toBe(BR_INT.DVR_LOCAL_RESPONDER.id);
    await eventually(
      async () => (await packetInCount(r, "arp_unknown_target")) === 1,
      "arp_unknown_target count",
    );
    // Give a wrong packet-out time to arrive before asserting there is none.
    await new Promise((res) => setTimeout(res, 100));
    expect(packetOuts(c1)).toEqual([]);

    // Neutron's path for an address its responder does not know: flooded to
    // the network's tunnels (br-tun T3 → T10 → T17), VNI of blue.
    const out = c1.sink.take();
    expect(out.filter((s) => s.bridge === "br-int" && s.port === c1.ofport("tap-vm-a1"))).toEqual(
      [],
    );
    const tunnelled = out.filter((s) => s.bridge === "br-tun" && s.port === vxlan);
    expect(tunnelled).toHaveLength(1);
  });
});
