/**
 * NORMAL, groups, patch ports, VXLAN ports, learn, conjunctions and
 * PACKET_OUT on the switch, each as OVS behaves (dvr-pipeline.md §0.2, §7).
 */
import { describe, expect, it } from "vitest";
import {
  FK,
  buildTcp,
  buildUdp,
  ipv4FromString,
  macFromString,
  vxlanDecap,
  vxlanEncap,
} from "../../codec/packet/index.js";
import { OFPGT, type Bucket } from "../../codec/messages/group-mod.js";
import { OFPPC } from "../../codec/messages/port.js";
import { Datapath } from "../../datapath/datapath.js";
import type { Bridge } from "../../datapath/bridge.js";
import { MAC_ENTRY_IDLE_SECONDS } from "../../datapath/normal.js";
import { trace } from "../../datapath/trace.js";
import {
  CaptureSink,
  addFlows,
  keyOf,
  oneBridge,
  tablePath,
  formatEntry,
} from "./switch-helpers.js";

const mac = (s: string): Uint8Array => macFromString(s);
const A = mac("00:00:00:00:00:0a");
const B = mac("00:00:00:00:00:0b");
const C = mac("00:00:00:00:00:0c");

function udp(
  src: Uint8Array,
  dst: Uint8Array,
  opts: { vid?: number; sport?: number } = {},
): Uint8Array {
  return buildUdp({
    eth: { src, dst, ...(opts.vid === undefined ? {} : { vlan: { vid: opts.vid } }) },
    ip: { kind: "ipv4", src: ipv4FromString("10.0.0.1"), dst: ipv4FromString("10.0.0.2") },
    srcPort: opts.sport ?? 1234,
    dstPort: 80,
  });
}

const vidOf = (f: Uint8Array): number => {
  const t = keyOf(f).w[FK.VLAN_TCI]!;
  return (t & 0x1000) === 0 ? -1 : t & 0xfff;
};

function bucket(actions: Bucket["actions"], extra: Partial<Bucket> = {}): Bucket {
  return { weight: 0, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions, ...extra };
}

function dumpTable(br: Bridge, table: number): string[] {
  return [...br.tables[table]!.entries()].map((e) => formatEntry(e));
}

describe("NORMAL", () => {
  function normalBridge() {
    const dp = new Datapath();
    const br = dp.addBridge({ name: "br-int" });
    br.addPort({ kind: "sink", name: "vm1", ofport: 1, tag: 10 });
    br.addPort({ kind: "sink", name: "vm2", ofport: 2, tag: 10 });
    br.addPort({ kind: "sink", name: "vm3", ofport: 3, tag: 20 });
    br.addPort({ kind: "sink", name: "trunk", ofport: 4 });
    br.addPort({ kind: "sink", name: "t10", ofport: 5, trunks: [10] });
    const sink = new CaptureSink();
    br.sink = sink;
    addFlows(br, ["priority=0,actions=NORMAL"]);
    return { br, sink };
  }

  it("floods within the VLAN, untagged to access ports, tagged to trunks; never to the in_port", () => {
    const { br, sink } = normalBridge();
    br.receive(1, udp(A, B), 0);
    const out = sink.take();
    expect(out.map((s) => s.port).sort((a, b) => a - b)).toEqual([2, 4, 5, 0xfffffffe]);
    const byPort = new Map(out.map((s) => [s.port, s.frame]));
    expect(vidOf(byPort.get(2)!)).toBe(-1);
    expect(vidOf(byPort.get(4)!)).toBe(10);
    expect(vidOf(byPort.get(5)!)).toBe(10);
  });

  it("learns (VLAN, MAC) → port and forwards to the learned port", () => {
    const { br, sink } = normalBridge();
    br.receive(1, udp(A, B), 0);
    sink.take();
    br.receive(4, udp(B, A, { vid: 10 }), 1000);
    const out = sink.take();
    expect(out.map((s) => s.port)).toEqual([1]);
    expect(vidOf(out[0]!.frame)).toBe(-1);
    br.receive(1, udp(A, B), 2000);
    const back = sink.take();
    expect(back.map((s) => s.port)).toEqual([4]);
    expect(vidOf(back[0]!.frame)).toBe(10);
    expect(trace(br, udp(A, B), 1, { nowMs: 2000 })).toContain("-> forwarding to learned port");
  });

  it("keeps VLANs apart and drops VLAN-tagged frames on access ports and foreign VLANs on trunks", () => {
    const { br, sink } = normalBridge();
    br.receive(3, udp(C, B), 0);
    expect(
      sink
        .take()
        .map((s) => s.port)
        .sort((a, b) => a - b),
    ).toEqual([4, 0xfffffffe]);
    br.receive(1, udp(A, B, { vid: 5 }), 0);
    expect(sink.take()).toEqual([]);
    expect(trace(br, udp(A, B, { vid: 5 }), 1)).toContain(
      "dropping VLAN 5 tagged packet received on port vm1 configured as VLAN 10 access port",
    );
    br.receive(5, udp(A, B, { vid: 20 }), 0);
    expect(sink.take()).toEqual([]);
  });

  it("ages learned entries after 300 s", () => {
    const { br, sink } = normalBridge();
    br.receive(2, udp(B, A), 0);
    sink.take();
    br.receive(1, udp(A, B), (MAC_ENTRY_IDLE_SECONDS - 1) * 1000);
    expect(sink.take().map((s) => s.port)).toEqual([2]);
    // A was learned at 299 s, B at 0 s: at 300 s B is gone and the frame floods.
    br.receive(1, udp(A, B), MAC_ENTRY_IDLE_SECONDS * 1000);
    expect(sink.take().length).toBeGreaterThan(1);
    br.expire(MAC_ENTRY_IDLE_SECONDS * 1000 + 299_000);
    expect(br.macs.size).toBe(1);
  });
});

describe("groups", () => {
  it("all: every bucket gets its own copy; the packet after the group is unchanged", () => {
    const { br, sink } = oneBridge(4);
    br.groupMod(
      {
        type: "group_mod",
        xid: 0,
        command: 0,
        groupType: OFPGT.ALL,
        groupId: 1,
        buckets: [
          bucket([
            { type: "push_vlan", ethertype: 0x8100 },
            { type: "output", port: 2, maxLen: 0 },
          ]),
          bucket([{ type: "output", port: 3, maxLen: 0 }]),
        ],
      },
      0,
    );
    addFlows(br, ["in_port=1,actions=group:1,output:4"]);
    const f = udp(A, B);
    br.receive(1, f, 0);
    const out = sink.take();
    expect(out.map((s) => s.port)).toEqual([2, 3, 4]);
    expect(out[0]!.frame.length).toBe(f.length + 4);
    expect(Array.from(out[1]!.frame)).toEqual(Array.from(f));
    expect(Array.from(out[2]!.frame)).toEqual(Array.from(f));
    expect(br.groups.get(1)!.packetCount).toBe(1);
  });

  it("fast failover: the first bucket whose watched port is live", () => {
    const { br, sink } = oneBridge(4);
    br.groupMod(
      {
        type: "group_mod",
        xid: 0,
        command: 0,
        groupType: OFPGT.FF,
        groupId: 2,
        buckets: [
          bucket([{ type: "output", port: 2, maxLen: 0 }], { watchPort: 2 }),
          bucket([{ type: "output", port: 3, maxLen: 0 }], { watchPort: 3 }),
        ],
      },
      0,
    );
    addFlows(br, ["in_port=1,actions=group:2"]);
    br.receive(1, udp(A, B), 0);
    expect(sink.take().map((s) => s.port)).toEqual([2]);
    br.ports.get(2)!.config |= OFPPC.PORT_DOWN;
    br.receive(1, udp(A, B), 0);
    expect(sink.take().map((s) => s.port)).toEqual([3]);
  });

  it("select: one live bucket per packet, spread by weight over flows, stable per flow", () => {
    const { br, sink } = oneBridge(4);
    br.groupMod(
      {
        type: "group_mod",
        xid: 0,
        command: 0,
        groupType: OFPGT.SELECT,
        groupId: 3,
        buckets: [
          bucket([{ type: "output", port: 2, maxLen: 0 }], { weight: 1 }),
          bucket([{ type: "output", port: 3, maxLen: 0 }], { weight: 3 }),
        ],
      },
      0,
    );
    addFlows(br, ["in_port=1,actions=group:3"]);
    const counts = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      br.receive(1, udp(A, B, { sport: 1000 + i }), 0);
      const out = sink.take();
      expect(out).toHaveLength(1);
      counts.set(out[0]!.port, (counts.get(out[0]!.port) ?? 0) + 1);
    }
    expect(counts.get(2)! + counts.get(3)!).toBe(400);
    expect(counts.get(3)!).toBeGreaterThan(counts.get(2)!);
    br.receive(1, udp(A, B, { sport: 1007 }), 0);
    const first = sink.take()[0]!.port;
    br.receive(1, udp(A, B, { sport: 1007 }), 0);
    expect(sink.take()[0]!.port).toBe(first);
  });

  it("GROUP_MOD errors as OVS", () => {
    const { br } = oneBridge(2);
    const add = {
      type: "group_mod" as const,
      xid: 0,
      command: 0,
      groupType: 0,
      groupId: 1,
      buckets: [],
    };
    br.groupMod(add, 0);
    expect(() => br.groupMod(add, 0)).toThrow(/OFPGMFC_GROUP_EXISTS/);
    expect(() => br.groupMod({ ...add, command: 1, groupId: 5 }, 0)).toThrow(
      /OFPGMFC_UNKNOWN_GROUP/,
    );
    expect(() => br.groupMod({ ...add, groupId: 9, groupType: 7 }, 0)).toThrow(/OFPGMFC_BAD_TYPE/);
    expect(() => br.groupMod({ ...add, groupId: 9, groupType: OFPGT.INDIRECT }, 0)).toThrow(
      /OFPGMFC_INVALID_GROUP/,
    );
    expect(() => br.groupMod({ ...add, command: 7 }, 0)).toThrow(/OFPGMFC_BAD_COMMAND/);
    br.groupMod({ ...add, command: 2, groupId: 77 }, 0); // deleting a missing group is fine
  });
});

describe("patch and VXLAN ports: br-int ↔ br-tun", () => {
  const LOCAL_IP = ipv4FromString("192.0.2.1");
  const REMOTE_IP = ipv4FromString("192.0.2.2");

  function host() {
    const dp = new Datapath();
    const brInt = dp.addBridge({ name: "br-int" });
    const brTun = dp.addBridge({ name: "br-tun" });
    brInt.addPort({ kind: "sink", name: "vm1", ofport: 1 });
    brInt.addPort({
      kind: "patch",
      name: "patch-tun",
      ofport: 2,
      peerBridge: "br-tun",
      peerPort: "patch-int",
    });
    brInt.addPort({ kind: "sink", name: "vm3", ofport: 3 });
    brTun.addPort({
      kind: "patch",
      name: "patch-int",
      ofport: 1,
      peerBridge: "br-int",
      peerPort: "patch-tun",
    });
    brTun.addPort({
      kind: "vxlan",
      name: "vxlan-c0000202",
      ofport: 10,
      remoteIp: REMOTE_IP,
      localIp: LOCAL_IP,
      key: "flow",
    });
    const sink = new CaptureSink();
    brInt.sink = sink;
    brTun.sink = sink;
    return { dp, brInt, brTun, sink };
  }

  it("joins the peers and continues in the peer's table 0 with in_port = peer, metadata and registers cleared", () => {
    const { brInt, brTun, sink } = host();
    expect(brInt.ports.get(2)!.peer).toBe(brTun.ports.get(1));
    addFlows(brInt, [
      "in_port=1,actions=load:0x5->NXM_NX_REG0[],write_metadata:0x7,goto_table:1",
      "table=1,actions=push_vlan:0x8100,set_field:4097->vlan_vid,output:2,pop_vlan,output:3",
    ]);
    addFlows(brTun, [
      "table=0,in_port=1,reg0=0,metadata=0,actions=goto_table:2",
      "table=2,dl_vlan=1,actions=pop_vlan,set_field:0x3e9->tun_id,output:10",
    ]);
    const f = udp(A, B);
    brInt.receive(1, f, 0);
    const out = sink.take();
    expect(out.map((s) => `${s.bridge}:${s.port}`)).toEqual(["br-tun:10", "br-int:3"]);
    // The frame after the patch port is br-int's, not br-tun's.
    expect(Array.from(out[1]!.frame)).toEqual(Array.from(f));
    const d = vxlanDecap(out[0]!.frame);
    if (d.kind !== "vxlan") throw new Error("not VXLAN");
    expect(d.vni).toBe(0x3e9);
    expect(d.outer.w[FK.NW_SRC]).toBe(LOCAL_IP);
    expect(d.outer.w[FK.NW_DST]).toBe(REMOTE_IP);
    expect(Array.from(d.inner)).toEqual(Array.from(f));
    expect(brInt.ports.get(2)!.counters.txPackets).toBe(1);
    expect(brTun.ports.get(1)!.counters.rxPackets).toBe(1);
    const text = trace(brInt, f, 1);
    expect(text).toContain('bridge("br-tun")');
    expect(text).toContain("set(tunnel(tun_id=0x3e9,src=192.0.2.1,dst=192.0.2.2)),10");
  });

  it("VXLAN input sets tun_id/tun_src/tun_dst; br-tun learns the way back (T7/T8), as OVS shows it", () => {
    const { dp, brInt, brTun, sink } = host();
    addFlows(brTun, [
      "table=0,in_port=10,actions=goto_table:4",
      "table=4,tun_id=0x3e9,actions=push_vlan:0x8100,set_field:4097->vlan_vid,goto_table:10",
      "table=10,priority=1,cookie=0x55,actions=learn(table=20,hard_timeout=300,priority=1,cookie=0x55,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:1",
      "table=0,in_port=1,actions=goto_table:20",
    ]);
    addFlows(brInt, [
      "in_port=2,vlan_tci=0x1000/0x1000,actions=pop_vlan,output:1",
      "in_port=1,actions=push_vlan:0x8100,set_field:4097->vlan_vid,output:2",
    ]);
    const inner = udp(C, A);
    const outer = vxlanEncap(inner, {
      eth: { src: mac("02:00:00:00:00:02"), dst: mac("02:00:00:00:00:01") },
      ip: { kind: "ipv4", src: REMOTE_IP, dst: LOCAL_IP },
      vni: 0x3e9,
    });
    expect(dp.receiveVxlan(brTun, 10, outer, 1000)).toBe(true);
    const delivered = sink.take();
    expect(delivered.map((s) => `${s.bridge}:${s.port}`)).toEqual(["br-int:1"]);
    expect(Array.from(delivered[0]!.frame)).toEqual(Array.from(inner));
    expect(dumpTable(brTun, 20)).toEqual([
      "cookie=0x55, table=20, hard_timeout=300, priority=1,vlan_tci=0x0001/0x0fff,dl_dst=00:00:00:00:00:0c actions=load:0->NXM_OF_VLAN_TCI[],load:0x3e9->NXM_NX_TUN_ID[],output:10",
    ]);
    // The reply goes back over the learned flow, untagged, VNI 0x3e9.
    brInt.receive(1, udp(A, C), 2000);
    const back = sink.take();
    expect(back.map((s) => `${s.bridge}:${s.port}`)).toEqual(["br-tun:10"]);
    const d = vxlanDecap(back[0]!.frame);
    if (d.kind !== "vxlan") throw new Error("not VXLAN");
    expect(d.vni).toBe(0x3e9);
    expect(keyOf(d.inner).w[FK.VLAN_TCI]).toBe(0);
    // Learning again refreshes the flow (no duplicate) and its hard timeout restarts.
    dp.receiveVxlan(brTun, 10, outer, 250_000);
    expect(dumpTable(brTun, 20)).toHaveLength(1);
    expect(brTun.expire(300_000)).toBe(0);
    expect(brTun.expire(550_000)).toBe(1);
  });

  it("a remote_ip=flow port takes tun_dst from the flow and drops without one", () => {
    const { dp } = host();
    const br = dp.addBridge({ name: "br-x" });
    br.addPort({
      kind: "vxlan",
      name: "vx",
      ofport: 5,
      remoteIp: "flow",
      localIp: LOCAL_IP,
      key: "flow",
    });
    br.addPort({ kind: "sink", name: "in", ofport: 1 });
    const sink = new CaptureSink();
    br.sink = sink;
    addFlows(br, [
      "in_port=1,dl_dst=00:00:00:00:00:0b,actions=set_field:0x64->tun_id,set_field:198.51.100.7->tun_dst,output:5",
      "in_port=1,dl_dst=00:00:00:00:00:0c,actions=output:5",
    ]);
    br.receive(1, udp(A, B), 0);
    const d = vxlanDecap(sink.take()[0]!.frame);
    if (d.kind !== "vxlan") throw new Error("not VXLAN");
    expect(d.vni).toBe(0x64);
    expect(d.outer.w[FK.NW_DST]).toBe(ipv4FromString("198.51.100.7"));
    br.receive(1, udp(A, C), 0);
    expect(sink.take()).toEqual([]);
  });
});

describe("conjunctive matches", () => {
  it("matches when every clause has a matching flow, else falls back", () => {
    const { dp, br, sink } = oneBridge(3);
    addFlows(br, [
      "priority=10,ip,nw_src=10.0.0.1,actions=conjunction(7,1/2)",
      "priority=10,ip,nw_src=10.0.0.2,actions=conjunction(7,1/2)",
      "priority=10,tcp,tp_dst=80,actions=conjunction(7,2/2)",
      "priority=10,tcp,tp_dst=443,actions=conjunction(7,2/2)",
      "priority=10,conj_id=7,ip,actions=output:2",
      "priority=1,actions=output:3",
    ]);
    const tcp = (src: string, dport: number): Uint8Array =>
      buildTcp({
        eth: { src: A, dst: B },
        ip: { kind: "ipv4", src: ipv4FromString(src), dst: ipv4FromString("10.9.9.9") },
        srcPort: 999,
        dstPort: dport,
      });
    br.receive(1, tcp("10.0.0.1", 80), 0);
    expect(sink.take().map((s) => s.port)).toEqual([2]);
    br.receive(1, tcp("10.0.0.2", 443), 0);
    expect(sink.take().map((s) => s.port)).toEqual([2]);
    br.receive(1, tcp("10.0.0.1", 22), 0);
    expect(sink.take().map((s) => s.port)).toEqual([3]);
    br.receive(1, tcp("10.0.0.3", 80), 0);
    expect(sink.take().map((s) => s.port)).toEqual([3]);
    expect(tablePath(dp)).toEqual([0]);
  });
});

describe("packet-out", () => {
  it("runs the actions on the data; output:TABLE runs the pipeline", () => {
    const { dp, br, sink } = oneBridge(3);
    addFlows(br, ["in_port=3,actions=output:2"]);
    const data = udp(A, B);
    dp.packetOut(
      br,
      {
        type: "packet_out",
        xid: 1,
        bufferId: 0xffffffff,
        inPort: 0xfffffffd,
        actions: [{ type: "output", port: 1, maxLen: 0 }],
        data,
      },
      0,
    );
    expect(sink.take().map((s) => s.port)).toEqual([1]);
    dp.packetOut(
      br,
      {
        type: "packet_out",
        xid: 1,
        bufferId: 0xffffffff,
        inPort: 3,
        actions: [{ type: "output", port: 0xfffffff9, maxLen: 0 }],
        data,
      },
      0,
    );
    expect(sink.take().map((s) => s.port)).toEqual([2]);
    expect(() =>
      dp.packetOut(
        br,
        { type: "packet_out", xid: 1, bufferId: 7, inPort: 3, actions: [], data },
        0,
      ),
    ).toThrow(/OFPBRC_BUFFER_UNKNOWN/);
  });
});
