/**
 * The DVR bench flows (../shared/dvr-bench/flows.txt, 112 flows) on our
 * switch: routed packets walk 0 → 25 → 60 → 61 → 62 and leave with the
 * gateway MAC as source, the VM MAC as destination, TTL-1 and no VLAN tag;
 * east-west packets walk 0 → 25 → 60; broadcast ARP walks 0 → 24 → 25 → 60
 * and floods the network's other ports (never back to the in_port). The
 * expected values come from ofproto/trace on OVS 3.1 with the same flows.
 */
import { describe, expect, it } from "vitest";
import {
  FK,
  arpRequest,
  buildUdp,
  ipv4FromString,
  macFromString,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
} from "../../codec/packet/index.js";
import { addFlows, dvrFlows, keyOf, oneBridge, tablePath } from "./switch-helpers.js";

const mac = (i: number): Uint8Array => macFromString(`fa:16:3e:00:00:0${i}`);
const ipOf = (i: number): number =>
  ipv4FromString(i <= 4 ? `10.0.1.${10 + i}` : `10.0.2.${10 + i}`);
const GW1 = macFromString("fa:16:3e:ff:00:01");
const GW2 = macFromString("fa:16:3e:ff:00:02");

function udp(src: number, dstMac: Uint8Array, dstIp: number, ttl = 64): Uint8Array {
  return buildUdp({
    eth: { src: mac(src), dst: dstMac },
    ip: { kind: "ipv4", src: ipOf(src), dst: dstIp, ttl },
    srcPort: 1000 + src,
    dstPort: 2000,
    payload: new Uint8Array([1, 2, 3, 4]),
  });
}

function setup() {
  const s = oneBridge(8);
  addFlows(s.br, dvrFlows());
  return s;
}

describe("DVR bench flows", () => {
  it("installs all 112 flows in 10 tables", () => {
    const { br } = setup();
    expect(br.flowCount).toBe(112);
    const used = br.tables.filter((t) => t.size > 0).map((t) => t.id);
    expect(used).toEqual([0, 1, 3, 4, 9, 24, 25, 60, 61, 62]);
  });

  it("routes net2 → net1 through 0,25,60,61,62 with the DVR rewrites", () => {
    const { dp, br, sink } = setup();
    const frame = udp(5, GW2, ipOf(2));
    expect(br.receive(5, frame, 0)).toBe(true);
    expect(tablePath(dp)).toEqual([0, 25, 60, 61, 62]);
    const out = sink.take();
    expect(out.map((s) => s.port)).toEqual([2]);
    const f = out[0]!.frame;
    expect(f.length).toBe(frame.length);
    const k = keyOf(f);
    expect(k.w[FK.VLAN_TCI]).toBe(0);
    expect(k.w[FK.ETH_TYPE]).toBe(0x0800);
    expect(Array.from(f.subarray(0, 6))).toEqual(Array.from(mac(2)));
    expect(Array.from(f.subarray(6, 12))).toEqual(Array.from(GW1));
    expect(k.w[FK.NW_TTL]).toBe(63);
    expect(k.w[FK.NW_DST]).toBe(ipOf(2));
    expect(verifyIpv4HeaderChecksum(f, 14)).toBe(true);
    expect(
      verifyL4Checksum(f, { l3: 14, l4: 34, end: f.length, proto: 17, ipv6: false } as never),
    ).toBe(true);
  });

  it("switches east-west in the same network through 0,25,60 untouched", () => {
    const { dp, br, sink } = setup();
    const frame = udp(5, mac(6), ipOf(6));
    br.receive(5, frame, 0);
    expect(tablePath(dp)).toEqual([0, 25, 60]);
    const out = sink.take();
    expect(out.map((s) => s.port)).toEqual([6]);
    expect(Array.from(out[0]!.frame)).toEqual(Array.from(frame));
  });

  it("floods broadcast ARP through 0,24,25,60 to the network's other ports", () => {
    const { dp, br, sink } = setup();
    const frame = arpRequest({ sha: mac(1), spa: ipOf(1), tpa: ipOf(2) });
    br.receive(1, frame, 0);
    expect(tablePath(dp)).toEqual([0, 24, 25, 60]);
    const out = sink.take();
    expect(out.map((s) => s.port)).toEqual([2, 3, 4]);
    for (const s of out) expect(Array.from(s.frame)).toEqual(Array.from(frame));
  });

  it("drops spoofed ARP (wrong arp_spa) in table 24", () => {
    const { dp, br, sink } = setup();
    br.receive(1, arpRequest({ sha: mac(1), spa: ipOf(3), tpa: ipOf(2) }), 0);
    expect(tablePath(dp)).toEqual([0, 24]);
    expect(sink.take()).toEqual([]);
  });

  it("drops a routed packet to an unknown host of 10.0.0.0/16 in table 61", () => {
    const { dp, br, sink } = setup();
    br.receive(5, udp(5, GW2, ipv4FromString("10.0.1.99")), 0);
    expect(tablePath(dp)).toEqual([0, 25, 60, 61]);
    expect(sink.take()).toEqual([]);
  });

  it("counts packets and bytes on the flows, tables and ports it used", () => {
    const { br } = setup();
    const frame = udp(5, mac(6), ipOf(6));
    for (let i = 0; i < 3; i++) br.receive(5, frame, 0);
    const hit = [...br.tables[60]!.entries()].find((e) => e.packetCount > 0)!;
    expect(hit.packetCount).toBe(3);
    expect(hit.byteCount).toBe(3 * (frame.length + 4)); // tagged inside the pipeline
    expect(br.tables[0]!.lookupCount).toBe(3);
    expect(br.tables[0]!.matchedCount).toBe(3);
    expect(br.ports.get(5)!.counters.rxPackets).toBe(3);
    expect(br.ports.get(6)!.counters.txPackets).toBe(3);
  });
});
