/**
 * The small pure parts of the switch program: rconn's reconnect backoff,
 * fail-open timing, fail-open forwarding in the datapath, connection
 * targets, the switch config, pcap files, and microflow packets.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildUdp,
  FK,
  FlowKey,
  ipv4FromString,
  macFromString,
  parseFrame,
} from "../../codec/packet/index.js";
import { Backoff } from "../../datapath/agent/backoff.js";
import { FailOpen } from "../../datapath/agent/fail-mode.js";
import { parseActiveTarget, parsePassiveTarget } from "../../datapath/agent/targets.js";
import { parsePortFlag, parseSwitchConfig, buildBridges } from "../../datapath/agent/config.js";
import { Datapath } from "../../datapath/datapath.js";
import { formatFlowKey } from "../../datapath/flow-format.js";
import { microflowPacket } from "../../datapath/microflow.js";
import { parsePcap, pcapGlobalHeader, pcapRecord } from "../../datapath/io/pcap-file.js";
import { oneBridge } from "../datapath/switch-helpers.js";

describe("reconnect backoff (OVS rconn)", () => {
  it("retries a controller that refuses at once after 1, 2, 4, 8, 8 s", () => {
    const b = new Backoff(8000);
    let now = 0;
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      b.attempt(now);
      now += 3; // refused almost at once
      const d = b.disconnected(now);
      delays.push(d);
      now += d;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it("resets to 1 s after a connection that lived past its backoff", () => {
    const b = new Backoff(8000);
    let now = 0;
    for (let i = 0; i < 4; i++) {
      b.attempt(now);
      now += b.disconnected(now + 1) + 1;
    }
    expect(b.backoffMs).toBe(8000);
    b.attempt(now);
    expect(b.disconnected(now + 60_000)).toBe(1000);
  });

  it("honours a smaller max_backoff", () => {
    const b = new Backoff(2000);
    const d: number[] = [];
    let now = 0;
    for (let i = 0; i < 4; i++) {
      b.attempt(now);
      d.push(b.disconnected(now));
      now += d[d.length - 1]!;
    }
    expect(d).toEqual([1000, 2000, 2000, 2000]);
  });
});

describe("fail mode", () => {
  it("standalone fails open after 3 probe intervals without a controller and recovers on connect", () => {
    const f = new FailOpen("standalone", 5000, 0);
    expect(f.update(0, 14_999)).toBeNull();
    expect(f.update(0, 15_000)).toBe("enter");
    expect(f.isActive).toBe(true);
    expect(f.update(1, 20_000)).toBe("leave");
    expect(f.update(0, 21_000)).toBeNull();
    expect(f.update(0, 36_000)).toBe("enter");
  });

  it("secure never fails open", () => {
    const f = new FailOpen("secure", 5000, 0);
    expect(f.update(0, 1e9)).toBeNull();
    expect(f.isActive).toBe(false);
  });

  it("a bridge in fail-open floods by NORMAL above its flows; out of it the table (empty: drop) rules again", () => {
    const { br, sink } = oneBridge(3);
    const frame = buildUdp({
      eth: { src: macFromString("00:00:00:00:00:01"), dst: macFromString("00:00:00:00:00:02") },
      ip: { kind: "ipv4", src: ipv4FromString("10.0.0.1"), dst: ipv4FromString("10.0.0.2") },
      srcPort: 1,
      dstPort: 2,
    });
    br.receive(1, frame, 0);
    expect(sink.take()).toHaveLength(0);
    br.setFailOpen(true);
    br.receive(1, frame, 1);
    expect(
      sink
        .take()
        .map((s) => s.port)
        .sort(),
    ).toEqual([2, 3, 0xfffffffe].sort());
    br.setFailOpen(false);
    br.receive(1, frame, 2);
    expect(sink.take()).toHaveLength(0);
  });
});

describe("targets", () => {
  it("parses OVS's active and passive syntaxes", () => {
    expect(parseActiveTarget("tcp:127.0.0.1:6653")).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 6653,
    });
    expect(parseActiveTarget("tcp:127.0.0.1")).toEqual({
      kind: "tcp",
      host: "127.0.0.1",
      port: 6653,
    });
    expect(parseActiveTarget("unix:/run/c.sock")).toEqual({ kind: "unix", path: "/run/c.sock" });
    expect(parsePassiveTarget("ptcp:6654:127.0.0.1")).toEqual({
      kind: "ptcp",
      port: 6654,
      host: "127.0.0.1",
    });
    expect(parsePassiveTarget("ptcp:0")).toEqual({ kind: "ptcp", port: 0, host: "0.0.0.0" });
    expect(parsePassiveTarget("punix:/tmp/br0.mgmt")).toEqual({
      kind: "punix",
      path: "/tmp/br0.mgmt",
    });
    expect(() => parseActiveTarget("ssl:1.2.3.4")).toThrow(/tcp:HOST/);
    expect(() => parsePassiveTarget("ptcp:99999")).toThrow(/out of range/);
  });
});

describe("switch config", () => {
  const yaml = `
vxlan: { local_ip: 127.0.0.11 }
bridges:
  - name: br-int
    dpid: 0x1
    listen: ptcp:0:127.0.0.1
    ports:
      - { name: vm-a, type: internal, ofport: 1, tag: 10 }
      - { name: patch-tun, type: patch, ofport: 2, peer: patch-int }
  - name: br-tun
    dpid: "0x2"
    controller: [tcp:127.0.0.1:6653]
    fail_mode: standalone
    ports:
      - { name: patch-int, type: patch, ofport: 1, peer: patch-tun }
      - { name: vx1, type: vxlan, ofport: 5, remote_ip: 127.0.0.12, key: flow }
`;

  it("builds bridges joined by patch ports, with datapath ids and tunnel ports", () => {
    const cfg = parseSwitchConfig(yaml);
    const dp = new Datapath();
    const bridges = buildBridges(cfg, dp);
    const brInt = bridges.get("br-int")!;
    const brTun = bridges.get("br-tun")!;
    expect(brInt.datapathId).toBe(1n);
    expect(brTun.datapathId).toBe(2n);
    expect(brInt.portByName("patch-tun")!.peer).toBe(brTun.portByName("patch-int"));
    const vx = brTun.ports.get(5)!.spec;
    expect(vx).toMatchObject({
      kind: "vxlan",
      remoteIp: ipv4FromString("127.0.0.12"),
      key: "flow",
      localIp: ipv4FromString("127.0.0.11"),
      dstPort: 4789,
    });
    expect(brInt.ports.get(1)!.tag).toBe(10);
    expect(cfg.bridges[1]!.failMode).toBe("standalone");
    expect(cfg.bridges[0]!.failMode).toBe("secure");
  });

  it("rejects unknown keys, one-sided patches and vxlan ports without remote_ip, naming the place", () => {
    expect(() => parseSwitchConfig(yaml.replace("tag: 10", "vlan: 10"))).toThrow(
      /bridges\[0\]\.ports\[0\]/,
    );
    expect(() => parseSwitchConfig(yaml.replace("peer: patch-tun", "peer: vm-a"))).toThrow(
      /name it back|peer/,
    );
    expect(() => parseSwitchConfig(yaml.replace("remote_ip: 127.0.0.12, ", ""))).toThrow(
      /needs remote_ip/,
    );
  });

  it("reads --port flags in the ecosystem.md syntax", () => {
    expect(parsePortFlag("10=vxlan-c2:remote_ip=127.0.0.12,key=flow")).toMatchObject({
      name: "vxlan-c2",
      ofport: 10,
      type: "vxlan",
      remoteIp: "127.0.0.12",
      key: "flow",
    });
    expect(parsePortFlag("1=tap-vm-a")).toMatchObject({
      name: "tap-vm-a",
      ofport: 1,
      type: "system",
    });
    expect(parsePortFlag("2=patch-tun:peer=patch-int")).toMatchObject({
      type: "patch",
      peer: "patch-int",
    });
    expect(() => parsePortFlag("1=x:bogus")).toThrow(/OPT=VALUE/);
  });
});

describe("pcap files", () => {
  it("round-trips frames and timestamps", () => {
    const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(70).fill(9)];
    const bytes = new Uint8Array([
      ...pcapGlobalHeader(),
      ...pcapRecord(frames[0]!, 1_700_000_000_123.456),
      ...pcapRecord(frames[1]!, 1_700_000_001_000),
    ]);
    const cap = parsePcap(bytes);
    expect(cap.linkType).toBe(1);
    expect(cap.records.map((r) => [...r.data])).toEqual(frames.map((f) => [...f]));
    expect(cap.records[0]!.timeMs).toBeCloseTo(1_700_000_000_123.456, 3);
  });

  it("is read by tcpdump as an Ethernet capture", () => {
    if (spawnSync("tcpdump", ["--version"]).status !== 0) return;
    const dir = mkdtempSync(join(tmpdir(), "dvrflow-pcap-"));
    try {
      const frame = buildUdp({
        eth: { src: macFromString("00:00:00:00:00:01"), dst: macFromString("00:00:00:00:00:02") },
        ip: {
          kind: "ipv4",
          src: ipv4FromString("203.0.113.1"),
          dst: ipv4FromString("203.0.113.2"),
        },
        srcPort: 1000,
        dstPort: 2000,
      });
      const file = join(dir, "a.pcap");
      writeFileSync(file, new Uint8Array([...pcapGlobalHeader(), ...pcapRecord(frame, 0)]));
      const out = spawnSync("tcpdump", ["-n", "-r", file], { encoding: "utf8" }).stdout;
      expect(out).toContain("203.0.113.1.1000 > 203.0.113.2.2000: UDP");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a file that is not pcap", () => {
    expect(() => parsePcap(new Uint8Array(24))).toThrow(/magic/);
  });
});

describe("microflow packets (ofproto/trace syntax)", () => {
  const cases: readonly (readonly [string, string])[] = [
    [
      "in_port=3,dl_src=fa:16:3e:00:00:01,dl_dst=fa:16:3e:00:00:02,ip,nw_src=10.0.1.5,nw_dst=10.0.2.5,nw_ttl=64",
      "ip,in_port=3,vlan_tci=0x0000,dl_src=fa:16:3e:00:00:01,dl_dst=fa:16:3e:00:00:02,nw_src=10.0.1.5,nw_dst=10.0.2.5,nw_proto=0,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no",
    ],
    [
      "in_port=1,tcp,nw_src=1.2.3.4,tp_src=80,tp_dst=1234",
      "tcp,in_port=1,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,nw_src=1.2.3.4,nw_dst=0.0.0.0,nw_tos=0,nw_ecn=0,nw_ttl=0,nw_frag=no,tp_src=80,tp_dst=1234,tcp_flags=0",
    ],
    [
      "in_port=2,dl_vlan=5,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1",
      "arp,in_port=2,dl_vlan=5,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:00,arp_tha=00:00:00:00:00:00",
    ],
  ];
  for (const [text, flow] of cases) {
    it(`composes a frame that parses back to the microflow: ${text}`, () => {
      const mf = microflowPacket(text);
      const key = new FlowKey();
      parseFrame(mf.frame, key);
      key.w[FK.IN_PORT] = mf.inPort;
      expect(formatFlowKey(key)).toBe(flow);
    });
  }

  it("reports fields a frame cannot carry and returns tunnel metadata", () => {
    const mf = microflowPacket("in_port=1,reg0=5,tun_id=0x64,tun_src=198.51.100.1,ip");
    expect(mf.ignored).toEqual(["reg0"]);
    expect(mf.tunnel).toEqual({ tunId: 0x64n, src: ipv4FromString("198.51.100.1"), dst: 0 });
  });
});
