/**
 * The compiled flows of examples/two-hosts.yaml, loaded into two of our
 * userspace switches (each host: br-int and br-tun joined by patch ports,
 * VM ports with their access tags, a VXLAN port to the other host), and
 * packets walked through them. This is the behaviour dvr-pipeline.md §7
 * saw on real OVS: a routed frame leaves the source host with that host's
 * DVR MAC as inner source (never the gateway MAC) in the destination
 * network's VNI, and arrives with the gateway MAC restored; ARP for known
 * addresses and ping to the gateway are answered on the host.
 */
import { describe, expect, it } from "vitest";
import {
  FK,
  arpRequest,
  buildUdp,
  icmpEchoRequest,
  ipv4FromString,
  macFromString,
  macToString,
  verifyIpv4HeaderChecksum,
} from "../../codec/packet/index.js";
import type { Bridge } from "../../datapath/bridge.js";
import { Datapath } from "../../datapath/datapath.js";
import {
  defaultOfports,
  PATCH_INT,
  PATCH_TUN,
  type HostFlows,
} from "../../src/dvr/compile/index.js";
import { toFlowMod } from "../../src/dvr/flow.js";
import { parseIpv4 } from "../../src/topology/addr.js";
import { indexTopology } from "../../src/topology/indexed.js";
import type { Topology } from "../../src/topology/schema.js";
import { CaptureSink, keyOf } from "../datapath/switch-helpers.js";
import { compileTopology, loadExample } from "./helpers.js";

const GW_BLUE = "fa:16:3e:00:01:01";
const GW_RED = "fa:16:3e:00:02:01";
const DVR_MAC = { "compute-1": "fa:16:3f:00:00:01", "compute-2": "fa:16:3f:00:00:02" } as const;
const VNI_RED = 1002;
/** Ethernet + IPv4 + UDP + VXLAN in front of the inner frame. */
const VXLAN_OVERHEAD = 14 + 20 + 8 + 8;

interface Host {
  readonly name: string;
  readonly dp: Datapath;
  readonly brInt: Bridge;
  readonly brTun: Bridge;
  readonly sink: CaptureSink;
  readonly ofport: (iface: string) => number;
}

/** Builds a host's switch as `dvrflow plumb` would (default port numbers) and loads its flows. */
function buildHost(t: Topology, flows: HostFlows): Host {
  const index = indexTopology(t);
  const ports = defaultOfports(index, flows.host);
  const lv = new Map(flows.networks.map((n) => [n.name, n.localVlan]));
  const dp = new Datapath();
  const brInt = dp.addBridge({ name: "br-int" });
  const brTun = dp.addBridge({ name: "br-tun" });
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
  for (const p of index.portsByHost.get(flows.host) ?? []) {
    brInt.addPort({
      kind: "sink",
      name: p.interfaceName,
      ofport: ports["br-int"].get(p.interfaceName)!,
      tag: lv.get(p.network)!,
    });
  }
  const self = index.host(flows.host)!;
  for (const h of index.hosts) {
    if (h.name === flows.host) continue;
    const name = `vxlan-${h.tunnelIp.toString(16).padStart(8, "0")}`;
    brTun.addPort({
      kind: "vxlan",
      name,
      ofport: ports["br-tun"].get(name)!,
      remoteIp: h.tunnelIp,
      localIp: self.tunnelIp,
      key: "flow",
    });
  }
  for (const f of flows.bridges["br-int"]) brInt.flowMod(toFlowMod(f), 0);
  for (const f of flows.bridges["br-tun"]) brTun.flowMod(toFlowMod(f), 0);
  const sink = new CaptureSink();
  brInt.sink = sink;
  brTun.sink = sink;
  return {
    name: flows.host,
    dp,
    brInt,
    brTun,
    sink,
    ofport: (iface) => ports["br-int"].get(iface)!,
  };
}

async function twoHosts() {
  const t = loadExample("two-hosts.yaml");
  const compiled = await compileTopology(t);
  const [c1, c2] = compiled.map((f) => buildHost(t, f));
  return { c1: c1!, c2: c2! };
}

const ip = (s: string) => ipv4FromString(s);
const mac = (s: string) => macFromString(s);

function udp(srcMac: string, dstMac: string, src: string, dst: string, ttl = 64): Uint8Array {
  return buildUdp({
    eth: { src: mac(srcMac), dst: mac(dstMac) },
    ip: { kind: "ipv4", src: ip(src), dst: ip(dst), ttl },
    srcPort: 40000,
    dstPort: 5001,
    payload: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
  });
}

const ethDst = (f: Uint8Array) => macToString(f, 0);
const ethSrc = (f: Uint8Array) => macToString(f, 6);

describe("two hosts on our switch, flows from the compiler", () => {
  it("flows install without error on both bridges of both hosts", async () => {
    const { c1, c2 } = await twoHosts();
    for (const h of [c1, c2]) {
      expect(h.brInt.outbox.filter((m) => m.type === "error")).toEqual([]);
      expect(h.brTun.outbox.filter((m) => m.type === "error")).toEqual([]);
      expect(h.brInt.flowCount).toBeGreaterThan(40);
    }
  });

  it("cross-host routed: DVR MAC of the source host on the tunnel, gateway MAC restored on arrival", async () => {
    const { c1, c2 } = await twoHosts();
    // vm-a1 (blue, compute-1) → vm-b2 (red, compute-2) through its gateway.
    const frame = udp("fa:16:3e:aa:00:01", GW_BLUE, "203.0.113.10", "203.0.113.75");
    c1.brInt.receive(c1.ofport("tap-vm-a1"), frame, 0);
    const out1 = c1.sink.take();
    expect(out1.map((s) => `${s.bridge}:${s.port}`)).toEqual(["br-tun:10"]);
    const outer = out1[0]!.frame;
    // Outer: VXLAN to compute-2's tunnel IP, in the destination network's VNI.
    const ko = keyOf(outer);
    expect(ko.w[FK.NW_DST]).toBe(parseIpv4("198.51.100.12"));
    expect(ko.w[FK.NW_SRC]).toBe(parseIpv4("198.51.100.11"));
    const vni =
      (outer[VXLAN_OVERHEAD - 4]! << 16) |
      (outer[VXLAN_OVERHEAD - 3]! << 8) |
      outer[VXLAN_OVERHEAD - 2]!;
    expect(vni).toBe(VNI_RED);
    // Inner: this host's DVR MAC as source, never the gateway MAC; no VLAN tag; TTL 63.
    const inner = outer.subarray(VXLAN_OVERHEAD);
    expect(ethSrc(inner)).toBe(DVR_MAC["compute-1"]);
    expect(ethDst(inner)).toBe("fa:16:3e:bb:00:02");
    const ki = keyOf(inner);
    expect(ki.w[FK.VLAN_TCI]).toBe(0);
    expect(ki.w[FK.NW_TTL]).toBe(63);
    const hex = Buffer.from(outer).toString("hex");
    for (const gw of [GW_BLUE, GW_RED]) expect(hex).not.toContain(gw.replace(/:/g, ""));

    // compute-2 receives it on its tunnel port.
    expect(c2.dp.receiveVxlan(c2.brTun, 10, Uint8Array.from(outer), 0)).toBe(true);
    const out2 = c2.sink.take();
    expect(out2.map((s) => `${s.bridge}:${s.port}`)).toEqual([`br-int:${c2.ofport("tap-vm-b2")}`]);
    const got = out2[0]!.frame;
    expect(ethSrc(got)).toBe(GW_RED);
    expect(ethDst(got)).toBe("fa:16:3e:bb:00:02");
    const kg = keyOf(got);
    expect(kg.w[FK.VLAN_TCI]).toBe(0);
    expect(kg.w[FK.NW_TTL]).toBe(63);
    expect(kg.w[FK.NW_SRC]).toBe(ip("203.0.113.10"));
    expect(verifyIpv4HeaderChecksum(got, 14)).toBe(true);
    // Nothing learned the gateway MAC on the way (routed frames skip NORMAL).
    expect(got.length).toBe(frame.length);
  });

  it("same-host routed: delivered on the local port with the destination gateway MAC, nothing on the tunnel", async () => {
    const { c1 } = await twoHosts();
    c1.brInt.receive(
      c1.ofport("tap-vm-a1"),
      udp("fa:16:3e:aa:00:01", GW_BLUE, "203.0.113.10", "203.0.113.74"),
      0,
    );
    const out = c1.sink.take();
    expect(out.map((s) => `${s.bridge}:${s.port}`)).toEqual([`br-int:${c1.ofport("tap-vm-b1")}`]);
    expect(ethSrc(out[0]!.frame)).toBe(GW_RED);
    expect(ethDst(out[0]!.frame)).toBe("fa:16:3e:bb:00:01");
    expect(keyOf(out[0]!.frame).w[FK.NW_TTL]).toBe(63);
  });

  it("answers ARP for the gateway and for a remote VM on the host; nothing crosses the tunnel", async () => {
    const { c1 } = await twoHosts();
    const port = c1.ofport("tap-vm-a1");
    for (const [target, owner] of [
      ["203.0.113.1", GW_BLUE],
      ["203.0.113.11", "fa:16:3e:aa:00:02"],
    ] as const) {
      const req = arpRequest({
        sha: mac("fa:16:3e:aa:00:01"),
        spa: ip("203.0.113.10"),
        tpa: ip(target),
      });
      c1.brInt.receive(port, req, 0);
      const out = c1.sink.take();
      expect(out.map((s) => `${s.bridge}:${s.port}`)).toEqual([`br-int:${port}`]);
      const k = keyOf(out[0]!.frame);
      expect(k.w[FK.ARP_OP]).toBe(2);
      expect(k.w[FK.ARP_SPA]).toBe(ip(target));
      expect(ethSrc(out[0]!.frame)).toBe(owner);
      expect(ethDst(out[0]!.frame)).toBe("fa:16:3e:aa:00:01");
      expect(macToString(out[0]!.frame, 14 + 8)).toBe(owner); // arp_sha
    }
  });

  it("a spoofed ARP (claiming another VM's address) is dropped", async () => {
    const { c1 } = await twoHosts();
    const req = arpRequest({
      sha: mac("fa:16:3e:aa:00:01"),
      spa: ip("203.0.113.11"),
      tpa: ip("203.0.113.1"),
    });
    c1.brInt.receive(c1.ofport("tap-vm-a1"), req, 0);
    expect(c1.sink.take()).toEqual([]);
  });

  it("answers ping to the gateway on the host", async () => {
    const { c1 } = await twoHosts();
    const port = c1.ofport("tap-vm-a1");
    const echo = icmpEchoRequest({
      eth: { src: mac("fa:16:3e:aa:00:01"), dst: mac(GW_BLUE) },
      ip: { kind: "ipv4", src: ip("203.0.113.10"), dst: ip("203.0.113.1"), ttl: 64 },
      id: 7,
      seq: 1,
    });
    c1.brInt.receive(port, echo, 0);
    const out = c1.sink.take();
    expect(out.map((s) => `${s.bridge}:${s.port}`)).toEqual([`br-int:${port}`]);
    const k = keyOf(out[0]!.frame);
    expect(k.w[FK.ICMP_TYPE]).toBe(0);
    expect(k.w[FK.NW_SRC]).toBe(ip("203.0.113.1"));
    expect(k.w[FK.NW_DST]).toBe(ip("203.0.113.10"));
    expect(ethSrc(out[0]!.frame)).toBe(GW_BLUE);
    expect(ethDst(out[0]!.frame)).toBe("fa:16:3e:aa:00:01");
    expect(verifyIpv4HeaderChecksum(out[0]!.frame, 14)).toBe(true);
  });
});
