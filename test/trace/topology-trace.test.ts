/**
 * The topology trace (src/trace/): packets traced through the compiled
 * tables of examples/two-hosts.yaml (and demo-3-hosts.yaml for a second
 * tenant), host to host across the VXLAN tunnel. Expected values come from
 * the topology and the offline snapshot (DVR MACs, gateway MACs, VNIs,
 * ofports), never from a previous run's output.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { microflowPacket } from "../../datapath/microflow.js";
import { defaultOfports, tunnelPortName } from "../../src/dvr/compile/index.js";
import { offlineSnapshot } from "../../src/dvr/offline.js";
import type { StoreSnapshot } from "../../src/store/store.js";
import { indexTopology, type TopologyIndex } from "../../src/topology/indexed.js";
import {
  formatTopologyTrace,
  traceJson,
  traceTopology,
  TraceRequestError,
  type TopologyTrace,
  type TraceOutcome,
} from "../../src/trace/index.js";
import { loadExample } from "../dvr/helpers.js";

interface World {
  snap: StoreSnapshot;
  index: TopologyIndex;
}

async function world(example: string): Promise<World> {
  const t = loadExample(example);
  return { snap: await offlineSnapshot(t), index: indexTopology(t) };
}

const port = (w: World, name: string) => w.index.ports.find((p) => p.name === name)!;
const gateway = (w: World, subnet: string) => w.index.interfaceBySubnet.get(subnet)!;
const host = (w: World, name: string) => w.index.host(name)!;
const ofport = (w: World, h: string, iface: string) =>
  defaultOfports(w.index, h)["br-int"].get(iface)!;

/** `in_port=P,dl_src=…,dl_dst=…,ip,nw_src=…,nw_dst=…,nw_ttl=64`. */
function ipFlow(inPort: string, src: string, dst: string, nwSrc: string, nwDst: string): string {
  return `in_port=${inPort},dl_src=${src},dl_dst=${dst},ip,nw_src=${nwSrc},nw_dst=${nwDst},nw_ttl=64`;
}

function arpRequest(inPort: string, sha: string, spa: string, tpa: string): string {
  return `in_port=${inPort},arp,arp_op=1,dl_src=${sha},dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=${spa},arp_tpa=${tpa},arp_sha=${sha}`;
}

type Output = Extract<TraceOutcome, { kind: "output" }>;
type Tunnel = Extract<TraceOutcome, { kind: "tunnel" }>;
type Stop = Extract<TraceOutcome, { kind: "drop" | "controller" }>;

const outputs = (t: TopologyTrace) => t.outcomes.filter((o): o is Output => o.kind === "output");
const tunnels = (t: TopologyTrace) => t.outcomes.filter((o): o is Tunnel => o.kind === "tunnel");
const drops = (t: TopologyTrace) =>
  t.outcomes.filter((o): o is Stop => o.kind === "drop" || o.kind === "controller");
/** Outputs to VM ports (NORMAL's floods also reach the bridge's LOCAL port). */
const vmOutputs = (t: TopologyTrace) => outputs(t).filter((o) => o.vm !== null);

function edit(o: { edits: readonly { field: string; from: string | null; to: string | null }[] }) {
  return Object.fromEntries(o.edits.map((e) => [e.field, [e.from, e.to]]));
}

describe("topology trace on examples/two-hosts.yaml", () => {
  let w: World;
  beforeAll(async () => {
    w = await world("two-hosts.yaml");
  });

  it("routes east/west across hosts: DVR MAC on the tunnel, TTL-1, gateway MAC restored on arrival", () => {
    const a1 = port(w, "vm-a1");
    const b2 = port(w, "vm-b2");
    const gwBlue = gateway(w, "blue-v4");
    const gwRed = gateway(w, "red-v4");
    const dvr1 = w.snap.hostMacs.get("compute-1")!;
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow("vm-a1", a1.macText, gwBlue.macText, "203.0.113.10", "203.0.113.75"),
    });
    expect(t.legs.map((l) => l.host)).toEqual(["compute-1", "compute-2"]);
    expect(t.outcomes.map((o) => o.kind)).toEqual(["tunnel", "output"]);

    // compute-1: routed by r1 (table 41), neighbour entry (42), out with the host's DVR MAC (br-tun 1).
    const hops1 = t.legs[0]!.hops;
    const route = hops1.find((h) => h.tableName === "DVR_ROUTING")!;
    expect(route.origin).toMatchObject({ kind: "route", object: "router r1: blue-v4 → red-v4" });
    expect(hops1.find((h) => h.bridge === "br-tun" && h.table === 1)!.origin!.role).toMatch(
      /^T22 /,
    );

    const tun = tunnels(t)[0]!;
    expect(tun.port).toBe(tunnelPortName(host(w, "compute-2").tunnelIp));
    expect(tun.to).toBe("compute-2");
    expect(tun.status).toBe("followed");
    expect(tun.tunnel).toEqual({
      tunId: BigInt(w.index.networks.get("red")!.vni),
      src: host(w, "compute-1").tunnelIp,
      dst: host(w, "compute-2").tunnelIp,
    });
    expect(edit(tun)).toEqual({
      dl_src: [a1.macText, dvr1],
      dl_dst: [gwBlue.macText, b2.macText],
      nw_ttl: ["64", "63"],
    });

    // compute-2: arrives on its tunnel port from compute-1, I19 restores the gateway MAC, I20 delivers.
    const leg2 = t.legs[1]!;
    expect(leg2.arrival).toMatchObject({ from: "compute-1", fromLeg: 0, port: tun.port });
    expect(leg2.inPortName).toBe(tunnelPortName(host(w, "compute-1").tunnelIp));
    expect(leg2.flow).toContain(`tun_id=0x${w.index.networks.get("red")!.vni.toString(16)}`);
    expect(leg2.hops.find((h) => h.bridge === "br-int" && h.table === 1)!.origin!.role).toBe(
      `I19 restore gateway MAC ${gwRed.macText} of router r1`,
    );
    const out = outputs(t)[0]!;
    expect(out).toMatchObject({
      host: "compute-2",
      bridge: "br-int",
      port: ofport(w, "compute-2", b2.interfaceName),
      portName: b2.interfaceName,
      vm: "vm-b2",
    });
    expect(edit(out)).toEqual({ dl_src: [dvr1, gwRed.macText] });
    expect(formatTopologyTrace(t, "minimal")).toBe(
      `compute-1: dl_src=${dvr1},dl_dst=${b2.macText},nw_ttl=63 → ${tun.port} to compute-2 (tun_id=0x3ea)\n` +
        `compute-2: dl_src=${gwRed.macText} → port ${b2.interfaceName} (vm-b2)\n` +
        `Output: port ${b2.interfaceName} (vm-b2) on compute-2\n`,
    );
  });

  it("switches within a subnet across hosts: no edits, the network's VNI, no DVR MAC", () => {
    const a1 = port(w, "vm-a1");
    const a2 = port(w, "vm-a2");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow("tap-vm-a1", a1.macText, a2.macText, "203.0.113.10", "203.0.113.11"),
    });
    const tun = tunnels(t);
    expect(tun).toHaveLength(1);
    expect(tun[0]!.tunnel.tunId).toBe(BigInt(w.index.networks.get("blue")!.vni));
    expect(tun[0]!.edits).toEqual([]);
    // NORMAL on compute-2 delivers to vm-a2 only (its access VLAN); the frame is unchanged.
    const vm = vmOutputs(t);
    expect(vm.map((o) => [o.host, o.portName, o.edits.length])).toEqual([
      ["compute-2", a2.interfaceName, 0],
    ]);
    expect(t.legs[0]!.hops.some((h) => h.tableName === "DVR_ROUTING" && h.priority === 0)).toBe(
      true,
    );
    expect(drops(t)).toEqual([]);
  });

  it("answers ARP for the gateway on the host: back out of in_port, never to a tunnel", () => {
    const a1 = port(w, "vm-a1");
    const gw = gateway(w, "blue-v4");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: arpRequest("vm-a1", a1.macText, "203.0.113.10", gw.ipText),
    });
    expect(t.legs).toHaveLength(1);
    expect(tunnels(t)).toEqual([]);
    const outs = outputs(t);
    expect(outs).toHaveLength(1);
    expect(outs[0]).toMatchObject({
      host: "compute-1",
      port: ofport(w, "compute-1", a1.interfaceName),
      vm: "vm-a1",
    });
    expect(edit(outs[0]!)).toEqual({
      dl_src: [a1.macText, gw.macText],
      dl_dst: ["ff:ff:ff:ff:ff:ff", a1.macText],
      arp_spa: ["203.0.113.10", gw.ipText],
      arp_tpa: [gw.ipText, "203.0.113.10"],
      arp_op: ["1", "2"],
      arp_sha: [a1.macText, gw.macText],
      arp_tha: ["00:00:00:00:00:00", a1.macText],
    });
    const responder = t.legs[0]!.hops.find((h) => h.tableName === "DVR_LOCAL_RESPONDER")!;
    expect(responder.origin).toMatchObject({
      kind: "router_interface",
      object: "router r1 → subnet blue-v4",
    });
  });

  it("answers ARP for a VM on the other host locally too (l2pop data), with that VM's MAC", () => {
    const a1 = port(w, "vm-a1");
    const a2 = port(w, "vm-a2");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: arpRequest("vm-a1", a1.macText, "203.0.113.10", a2.addresses[0]!.ipText),
    });
    expect(tunnels(t)).toEqual([]);
    expect(outputs(t).map((o) => o.vm)).toEqual(["vm-a1"]);
    expect(edit(outputs(t)[0]!).arp_sha).toEqual([a1.macText, a2.macText]);
  });

  it("drops a routed packet for an unknown destination, naming the flow and why", () => {
    const a1 = port(w, "vm-a1");
    const gw = gateway(w, "blue-v4");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow("vm-a1", a1.macText, gw.macText, "203.0.113.10", "192.0.2.5"),
    });
    expect(vmOutputs(t)).toEqual([]);
    expect(tunnels(t)).toEqual([]);
    expect(drops(t)).toEqual([
      {
        kind: "drop",
        leg: 0,
        host: "compute-1",
        bridge: "br-tun",
        table: 1,
        priority: 2,
        reason: "router r1 → subnet blue-v4: T21 unicast to the gateway never leaves the host",
      },
    ]);
    expect(formatTopologyTrace(t, "minimal")).toContain(
      "Dropped: br-tun table 1 priority 2 on compute-1 (router r1 → subnet blue-v4: T21",
    );
  });

  it("drops a spoofed source MAC at port security, and nothing leaves", () => {
    const gw = gateway(w, "blue-v4");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow("vm-a1", "fa:16:3e:66:66:66", gw.macText, "203.0.113.10", "203.0.113.75"),
    });
    expect(outputs(t)).toEqual([]);
    expect(tunnels(t)).toEqual([]);
    expect(drops(t)).toMatchObject([{ kind: "drop", bridge: "br-int", table: 25, priority: 0 }]);
    expect(t.legs[0]!.hops.at(-1)!.origin!.object).toBe("pipeline");
  });

  it("sends a routed packet without a neighbour entry to the controller", () => {
    const a1 = port(w, "vm-a1");
    const gw = gateway(w, "blue-v4");
    // In red-v4 (routed), but no port has the address.
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow("vm-a1", a1.macText, gw.macText, "203.0.113.10", "203.0.113.70"),
    });
    expect(drops(t)).toMatchObject([
      { kind: "controller", bridge: "br-int", table: 42, priority: 0 },
    ]);
  });

  it("prints an origin line under every table line of the detailed form", () => {
    const a1 = port(w, "vm-a1");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow(
        "vm-a1",
        a1.macText,
        gateway(w, "blue-v4").macText,
        "1.1.1.1",
        "203.0.113.75",
      ),
    });
    const text = formatTopologyTrace(t, "detailed");
    const lines = text.split("\n");
    const tableLines = lines.flatMap((l, i) => (/^\s*\d+\. /.test(l) ? [i] : []));
    const hops = t.legs.flatMap((l) => l.hops);
    expect(tableLines.length).toBe(hops.length);
    expect(tableLines.length).toBeGreaterThan(10);
    tableLines.forEach((i, n) => {
      const h = hops[n]!;
      expect(lines[i]).toContain(`cookie 0x${h.cookie!.toString(16)}`);
      expect(lines[i + 1]!.trim()).toBe(`# ${h.origin!.object}: ${h.origin!.role}`);
    });
    expect(lines.filter((l) => /^bridge\("br-(int|tun)"\) @ compute-[12]$/.test(l))).toHaveLength(
      4,
    );
    expect(lines.at(-2)).toBe(
      `Output: port ${port(w, "vm-b2").interfaceName} (vm-b2) on compute-2`,
    );
  });

  it("summary prints one line per flow hit, naming host, bridge, table and origin", () => {
    const a1 = port(w, "vm-a1");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow(
        "vm-a1",
        a1.macText,
        gateway(w, "blue-v4").macText,
        "203.0.113.10",
        "203.0.113.75",
      ),
    });
    const lines = formatTopologyTrace(t, "summary").trimEnd().split("\n");
    const hopLines = lines.filter((l) => / table \d+ /.test(l) && l.startsWith("compute-"));
    const hops = t.legs.flatMap((l) => l.hops);
    expect(hopLines).toHaveLength(hops.length);
    expect(hopLines[3]).toBe(
      "compute-1 br-int table 41 (DVR_ROUTING) priority 4122 → router r1: blue-v4 → red-v4: route 203.0.113.64/26 (dvr east-west)",
    );
    expect(lines).toContain(
      `Tunnel: compute-1 → compute-2 on vxlan-c633640c (tun_id=0x3ea, tun_src=198.51.100.11, tun_dst=198.51.100.12)`,
    );
  });

  it("json is plain data that round-trips, with the values of the hops", () => {
    const a1 = port(w, "vm-a1");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow(
        "vm-a1",
        a1.macText,
        gateway(w, "blue-v4").macText,
        "203.0.113.10",
        "203.0.113.75",
      ),
    });
    const text = formatTopologyTrace(t, "json");
    const parsed = JSON.parse(text) as ReturnType<typeof traceJson>;
    expect(parsed).toEqual(traceJson(t));
    expect(JSON.stringify(parsed, null, 2) + "\n").toBe(text);
    const hops = parsed.legs.flatMap((l) => l.hops);
    expect(hops.map((h) => [h.host, h.bridge, h.table])).toEqual(
      t.legs.flatMap((l) => l.hops.map((h) => [h.host, h.bridge, h.table])),
    );
    expect(hops[0]).toMatchObject({
      host: "compute-1",
      bridge: "br-int",
      table: 0,
      priority: 9,
      cookie: `0x${t.legs[0]!.hops[0]!.cookie!.toString(16)}`,
      origin: { kind: "local_port", object: "port vm-a1" },
    });
    expect(parsed.legs[1]!.arrival).toEqual({
      from: "compute-1",
      from_leg: 0,
      port: "vxlan-c633640c",
      tun_id: "0x3ea",
      tun_src: "198.51.100.11",
      tun_dst: "198.51.100.12",
    });
    expect(parsed.outcomes.at(-1)).toMatchObject({ kind: "output", port_name: "tap-vm-b2" });
  });

  it("stops at the hop limit and says so", () => {
    const a1 = port(w, "vm-a1");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow(
        "vm-a1",
        a1.macText,
        gateway(w, "blue-v4").macText,
        "203.0.113.10",
        "203.0.113.75",
      ),
      maxHops: 0,
    });
    expect(t.legs).toHaveLength(1);
    expect(tunnels(t).map((o) => [o.status, o.next])).toEqual([["hop_limit", null]]);
    expect(formatTopologyTrace(t, "minimal").trimEnd().split("\n").at(-1)).toBe(
      "Tunnel: vxlan-c633640c on compute-1 to compute-2 not followed (hop limit 0)",
    );
  });

  it("takes in_port as VM name, interface name or number, and a frame in hex, alike", () => {
    const a1 = port(w, "vm-a1");
    const rest = ipFlow(
      "X",
      a1.macText,
      gateway(w, "blue-v4").macText,
      "203.0.113.10",
      "203.0.113.75",
    ).replace(/^in_port=X,/, "");
    const no = ofport(w, "compute-1", a1.interfaceName);
    const forms = ["vm-a1", "tap-vm-a1", String(no)].map((p) =>
      formatTopologyTrace(
        traceTopology(w.snap, { host: "compute-1", microflow: `in_port=${p},${rest}` }),
        "detailed",
      ),
    );
    expect(forms[1]).toBe(forms[0]);
    expect(forms[2]).toBe(forms[0]);
    const hex = Buffer.from(microflowPacket(`in_port=${no},${rest}`).frame).toString("hex");
    const fromHex = traceTopology(w.snap, {
      host: "compute-1",
      microflow: "in_port=vm-a1",
      packetHex: hex,
    });
    expect(formatTopologyTrace(fromHex, "detailed")).toBe(forms[0]);
  });

  it("starts on br-tun when in_port is a tunnel port, with the hosts' addresses as tunnel metadata", () => {
    const b2 = port(w, "vm-b2");
    const dvr1 = w.snap.hostMacs.get("compute-1")!;
    const from1 = tunnelPortName(host(w, "compute-1").tunnelIp);
    const t = traceTopology(w.snap, {
      host: "compute-2",
      microflow: `in_port=${from1},tun_id=0x3ea,dl_src=${dvr1},dl_dst=${b2.macText},ip,nw_src=203.0.113.10,nw_dst=203.0.113.75,nw_ttl=63`,
    });
    expect(t.legs[0]!.bridge).toBe("br-tun");
    expect(t.legs[0]!.flow).toContain("tun_src=198.51.100.11,tun_dst=198.51.100.12");
    expect(vmOutputs(t).map((o) => o.vm)).toEqual(["vm-b2"]);
  });

  it("refuses an unknown host, a port of another host, an unknown port, no in_port", () => {
    const req = (host: string, microflow: string) => () =>
      traceTopology(w.snap, { host, microflow });
    expect(req("compute-9", "in_port=vm-a1")).toThrow(
      /no host "compute-9" \(hosts: compute-1, compute-2\)/,
    );
    expect(req("compute-1", "in_port=vm-b2,ip")).toThrow(
      "port vm-b2 is on compute-2, not on compute-1",
    );
    expect(req("compute-1", "in_port=tap-nope,ip")).toThrow(/no port "tap-nope" on compute-1/);
    expect(req("compute-1", "in_port=99,ip")).toThrow(/no port 99 on br-int of compute-1/);
    expect(req("compute-1", "ip,nw_dst=1.2.3.4")).toThrow(/needs in_port=/);
    expect(req("compute-1", "in_port=vm-a1,bogus_field=1")).toThrow(TraceRequestError);
  });
});

describe("topology trace across tenants (examples/demo-3-hosts.yaml)", () => {
  it("a packet to another tenant's subnet through the own gateway is not routed and goes nowhere", async () => {
    const w = await world("demo-3-hosts.yaml");
    const from = port(w, "a-web-1");
    const to = port(w, "b-web-2");
    const t = traceTopology(w.snap, {
      host: "compute-1",
      microflow: ipFlow(
        "a-web-1",
        from.macText,
        gateway(w, "a-web-v4").macText,
        from.addresses[0]!.ipText,
        to.addresses[0]!.ipText,
      ),
    });
    expect(t.legs[0]!.hops.find((h) => h.tableName === "DVR_ROUTING")).toMatchObject({
      priority: 0,
      origin: { role: "not routed: switched" },
    });
    expect(vmOutputs(t)).toEqual([]);
    expect(tunnels(t)).toEqual([]);
    expect(drops(t)).toMatchObject([
      {
        kind: "drop",
        bridge: "br-tun",
        table: 1,
        reason:
          "router tenant-a → subnet a-web-v4: T21 unicast to the gateway never leaves the host",
      },
    ]);
  });
});
