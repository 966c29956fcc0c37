/**
 * The pure half of plumbing: the plan derived from a topology, the diff
 * rules on hand-made OVSDB states (controller never flapped, maps merged,
 * ownership), tunnel-port mapping, and the ovs-vsctl script's syntax.
 */
import { describe, expect, it } from "vitest";
import { defaultOfports, tunnelPortName } from "../../src/dvr/compile/ports.js";
import { indexTopology } from "../../src/topology/indexed.js";
import { parseIpv4 } from "../../src/topology/addr.js";
import {
  diffPlumbing,
  formatChange,
  mapTunnelPorts,
  planPlumbing,
  PlumbConflictError,
  PlumbPlanError,
  remoteIpFromTunnelName,
  renderVsctlScript,
  tunnelPortHost,
  type ObservedBridge,
  type ObservedPort,
  type ObservedState,
  type PlumbPlan,
} from "../../src/plumb/index.js";
import { planFor, twoHosts, withHost3 } from "./helpers.js";

let uuidCounter = 0;
const fakeUuid = (): string => `00000000-0000-4000-8000-${String(++uuidCounter).padStart(12, "0")}`;

/** The OVSDB state a plan would leave behind, built by hand (as if applied). */
function appliedState(plan: PlumbPlan): ObservedState {
  const bridges = new Map<string, ObservedBridge>();
  for (const d of plan.bridges) {
    const ports: ObservedPort[] = d.ports.map((p) => ({
      uuid: fakeUuid(),
      name: p.name,
      tag: p.tag,
      externalIds: new Map(Object.entries(p.externalIds)),
      interfaces: [
        {
          uuid: fakeUuid(),
          name: p.name,
          type: p.iface.type ?? "",
          options: new Map(Object.entries(p.iface.options ?? {})),
          ofportRequest: p.iface.ofportRequest,
          mtuRequest: p.iface.mtuRequest,
          ofport: undefined,
          externalIds: new Map(Object.entries(p.iface.externalIds)),
        },
      ],
    }));
    bridges.set(d.name, {
      uuid: fakeUuid(),
      name: d.name,
      datapathType: d.datapathType ?? "",
      failMode: d.failMode,
      protocols: [...(d.protocols ?? [])],
      otherConfig: new Map(Object.entries(d.otherConfig)),
      controllers: d.controller === undefined ? [] : [{ uuid: fakeUuid(), target: d.controller }],
      ports,
    });
  }
  return { rootUuid: fakeUuid(), bridges };
}

function editBridge(
  s: ObservedState,
  name: string,
  f: (b: ObservedBridge) => ObservedBridge,
): ObservedState {
  const bridges = new Map(s.bridges);
  bridges.set(name, f(s.bridges.get(name)!));
  return { ...s, bridges };
}

describe("planPlumbing", () => {
  it("derives br-int, br-tun, patch, VXLAN and VM ports of a host from the topology and store", async () => {
    const t = twoHosts();
    const { plan, snapshot } = await planFor(t, "compute-1", {
      controller: "tcp:127.0.0.1:6653",
      datapathType: "netdev",
    });
    const [brInt, brTun] = plan.bridges;
    expect(plan.bridges.map((b) => b.name)).toEqual(["br-int", "br-tun"]);
    for (const [b, dpid] of [
      [brInt!, t.hosts["compute-1"]!.datapath_ids["br-int"]],
      [brTun!, t.hosts["compute-1"]!.datapath_ids["br-tun"]],
    ] as const) {
      expect(b.failMode).toBe("secure");
      expect(b.protocols).toEqual(["OpenFlow13"]);
      expect(b.datapathType).toBe("netdev");
      expect(b.controller).toBe("tcp:127.0.0.1:6653");
      expect(b.otherConfig).toEqual({
        "datapath-id": dpid.toString(16).padStart(16, "0"),
        "disable-in-band": "true",
      });
    }
    const offline = defaultOfports(indexTopology(t), "compute-1");
    const vlans = snapshot.localVlans.get("compute-1")!;
    expect(brInt!.ports.map((p) => [p.name, p.tag, p.iface.ofportRequest])).toEqual([
      ["patch-tun", undefined, offline["br-int"].get("patch-tun")],
      ["tap-vm-a1", vlans.get("blue"), offline["br-int"].get("tap-vm-a1")],
      ["tap-vm-b1", vlans.get("red"), offline["br-int"].get("tap-vm-b1")],
    ]);
    expect(vlans.get("blue")).not.toBe(vlans.get("red"));
    expect(brInt!.ports[0]!.iface).toMatchObject({ type: "patch", options: { peer: "patch-int" } });
    expect(brInt!.ports[1]!.iface.externalIds).toEqual({
      "iface-id": "vm-a1",
      "attached-mac": "fa:16:3e:aa:00:01",
    });
    const tun = brTun!.ports[1]!;
    expect(tun.name).toBe(tunnelPortName(parseIpv4("198.51.100.12")!));
    expect(tun.name).toBe("vxlan-c633640c");
    expect(tun.iface.type).toBe("vxlan");
    expect(tun.iface.ofportRequest).toBe(offline["br-tun"].get("vxlan-c633640c"));
    expect(tun.iface.options).toEqual({
      remote_ip: "198.51.100.12",
      local_ip: "198.51.100.11",
      in_key: "flow",
      out_key: "flow",
      df_default: "true",
      egress_pkt_mark: "0",
    });
    expect(brTun!.ports[0]!.iface.options).toEqual({ peer: "patch-tun" });
    expect(plan.hostCommands).toEqual([]);
  });

  it("numbers tunnel ports like the offline compiler when hosts are added", async () => {
    const t = withHost3(twoHosts());
    const { plan } = await planFor(t, "compute-2");
    const offline = defaultOfports(indexTopology(t), "compute-2");
    const tunnels = plan.bridges[1]!.ports.filter((p) => p.role.kind === "tunnel");
    expect(tunnels.map((p) => [p.name, p.iface.ofportRequest])).toEqual(
      [...offline["br-tun"]].filter(([n]) => n.startsWith("vxlan-")),
    );
    expect(tunnels.map((p) => p.role)).toEqual([
      { kind: "tunnel", host: "compute-1", remoteIp: "198.51.100.11" },
      { kind: "tunnel", host: "compute-3", remoteIp: "198.51.100.13" },
    ]);
  });

  it("adds dst_port, df_default=false, VM interface types and br-phy when asked", async () => {
    const { plan } = await planFor(twoHosts(), "compute-2", {
      tunnelDstPort: 4790,
      dontFragment: false,
      vmInterfaceType: "internal",
      datapathType: "netdev",
      underlay: { interfaces: ["veth-u2"], prefixLength: 27 },
    });
    const tun = plan.bridges[1]!.ports[1]!;
    expect(tun.iface.options).toMatchObject({
      dst_port: "4790",
      df_default: "false",
      local_ip: "198.51.100.12",
    });
    expect(plan.bridges[0]!.ports[1]!.iface.type).toBe("internal");
    const phy = plan.bridges[2]!;
    expect(phy).toMatchObject({
      name: "br-phy",
      datapathType: "netdev",
      controller: undefined,
      failMode: undefined,
    });
    expect(phy.ports.map((p) => p.name)).toEqual(["veth-u2"]);
    expect(plan.hostCommands).toEqual([
      "ip addr replace 198.51.100.12/27 dev br-phy",
      "ip link set br-phy up",
    ]);
    // The default port is left out, as Neutron does.
    const { plan: p2 } = await planFor(twoHosts(), "compute-2", { tunnelDstPort: 4789 });
    expect(p2.bridges[1]!.ports[1]!.iface.options).not.toHaveProperty("dst_port");
  });

  it("refuses unknown hosts, bad controller targets and missing local VLANs", async () => {
    const t = twoHosts();
    await expect(planFor(t, "compute-9")).rejects.toThrow(PlumbPlanError);
    await expect(planFor(t, "compute-1", { controller: "http://x" })).rejects.toThrow(
      /controller target/,
    );
    expect(() =>
      planPlumbing({
        index: indexTopology(t),
        host: "compute-1",
        localVlans: new Map([["blue", 1]]),
      }),
    ).toThrow(/no local VLAN for network red/);
    const { plan } = await planFor(t, "compute-1", {
      controller: "unix:/var/run/openvswitch/ctl.sock",
    });
    expect(plan.notes.join()).toMatch(/run directory/);
  });
});

describe("tunnel port mapping", () => {
  const hosts = new Map([
    ["198.51.100.11", "compute-1"],
    ["198.51.100.12", "compute-2"],
  ]);
  it("reads Neutron's names and prefers OVSDB's remote_ip", () => {
    expect(remoteIpFromTunnelName("vxlan-c633640c")).toBe("198.51.100.12");
    expect(remoteIpFromTunnelName("gre-cb007101")).toBe("203.0.113.1");
    expect(remoteIpFromTunnelName("vxlan-c633640")).toBeUndefined();
    expect(remoteIpFromTunnelName("patch-int")).toBeUndefined();
    expect(tunnelPortHost({ name: "vxlan-c633640c" }, hosts)).toBe("compute-2");
    expect(
      tunnelPortHost({ name: "tun-b", options: new Map([["remote_ip", "198.51.100.11"]]) }, hosts),
    ).toBe("compute-1");
    // OVSDB data wins over a misleading name.
    expect(
      tunnelPortHost(
        { name: "vxlan-c633640c", options: new Map([["remote_ip", "198.51.100.11"]]) },
        hosts,
      ),
    ).toBe("compute-1");
    expect(
      mapTunnelPorts(
        [{ name: "vxlan-c633640c" }, { name: "vxlan-c6336499" }, { name: "patch-int" }],
        hosts,
      ),
    ).toEqual(new Map([["vxlan-c633640c", "compute-2"]]));
  });
});

describe("diffPlumbing on hand-made states", () => {
  it("finds nothing to do on the state the plan describes", async () => {
    const { plan } = await planFor(twoHosts(), "compute-1", { controller: "tcp:127.0.0.1:6653" });
    expect(diffPlumbing(plan, appliedState(plan))).toEqual({ changes: [], operations: [] });
  });

  it("builds a fresh database in one transaction, root row included", async () => {
    const { plan } = await planFor(twoHosts(), "compute-1", { controller: "tcp:127.0.0.1:6653" });
    const d = diffPlumbing(plan, { rootUuid: undefined, bridges: new Map() });
    expect(d.changes.map(formatChange)).toEqual([
      "create the Open_vSwitch root row",
      "add bridge br-int",
      "add patch port patch-tun to br-int",
      "add vm port tap-vm-a1 to br-int",
      "add vm port tap-vm-b1 to br-int",
      "bridge br-int: controller [] -> tcp:127.0.0.1:6653",
      "add bridge br-tun",
      "add patch port patch-int to br-tun",
      "add tunnel port vxlan-c633640c to br-tun",
      "bridge br-tun: controller [] -> tcp:127.0.0.1:6653",
    ]);
    expect(
      d.operations.filter((o) => o.op === "insert").map((o) => (o.op === "insert" ? o.table : "")),
    ).toEqual([
      "Interface",
      "Port",
      "Interface",
      "Port",
      "Interface",
      "Port",
      "Interface",
      "Port",
      "Controller",
      "Bridge",
      "Interface",
      "Port",
      "Interface",
      "Port",
      "Interface",
      "Port",
      "Controller",
      "Bridge",
      "Open_vSwitch",
    ]);
  });

  it("retargets a controller in place and never empties the controller set", async () => {
    const { plan } = await planFor(twoHosts(), "compute-1", { controller: "tcp:127.0.0.1:6653" });
    const base = appliedState(plan);
    const old = base.bridges.get("br-int")!.controllers[0]!;
    const moved = editBridge(base, "br-int", (b) => ({
      ...b,
      controllers: [{ uuid: old.uuid, target: "tcp:127.0.0.1:6000" }],
    }));
    const d = diffPlumbing(plan, moved);
    expect(d.changes).toEqual([
      {
        kind: "set-controller",
        bridge: "br-int",
        from: ["tcp:127.0.0.1:6000"],
        to: "tcp:127.0.0.1:6653",
      },
    ]);
    expect(d.operations.filter((o) => o.op !== "comment")).toEqual([
      {
        op: "update",
        table: "Controller",
        where: [["_uuid", "==", ["uuid", old.uuid]]],
        row: { target: "tcp:127.0.0.1:6653" },
      },
    ]);

    // The wanted target plus a stray one: only the stray row goes.
    const stray = { uuid: fakeUuid(), target: "tcp:127.0.0.1:7000" };
    const two = editBridge(base, "br-int", (b) => ({ ...b, controllers: [old, stray] }));
    const d2 = diffPlumbing(plan, two);
    expect(d2.operations.filter((o) => o.op !== "comment")).toEqual([
      {
        op: "mutate",
        table: "Bridge",
        where: [["_uuid", "==", ["uuid", base.bridges.get("br-int")!.uuid]]],
        mutations: [["controller", "delete", ["set", [["uuid", stray.uuid]]]]],
      },
    ]);

    // No controller in the plan: controllers found are left alone.
    const { plan: noCtl } = await planFor(twoHosts(), "compute-1");
    expect(diffPlumbing(noCtl, two).changes).toEqual([]);
  });

  it("merges other_config and external_ids key by key and removes stale dvrflow keys", async () => {
    const { plan } = await planFor(twoHosts(), "compute-1");
    const base = appliedState(plan);
    const s = editBridge(base, "br-int", (b) => ({
      ...b,
      otherConfig: new Map([
        ["datapath-id", "00000000000000ff"],
        ["disable-in-band", "true"],
        ["mac-table-size", "5000"],
      ]),
      ports: b.ports.map((p) =>
        p.name === "tap-vm-a1"
          ? { ...p, externalIds: new Map([...p.externalIds, ["dvrflow-old", "x"], ["nova", "y"]]) }
          : p,
      ),
    }));
    const d = diffPlumbing(plan, s);
    expect(d.changes.map(formatChange)).toEqual([
      "bridge br-int: other_config:datapath-id 00000000000000ff -> 0000000000000011",
      "port tap-vm-a1 on br-int: external_ids:dvrflow-old x -> (none)",
    ]);
    const mutates = d.operations.filter((o) => o.op === "mutate");
    expect(mutates.map((o) => (o.op === "mutate" ? o.mutations : []))).toEqual([
      [
        ["other_config", "delete", ["set", ["datapath-id"]]],
        ["other_config", "insert", ["map", [["datapath-id", "0000000000000011"]]]],
      ],
      [["external_ids", "delete", ["set", ["dvrflow-old"]]]],
    ]);
  });

  it("refuses to take a port dvrflow does not own from another bridge, and moves one it owns", async () => {
    const { plan } = await planFor(twoHosts(), "compute-1");
    const base = appliedState(plan);
    const brInt = base.bridges.get("br-int")!;
    const vm = brInt.ports.find((p) => p.name === "tap-vm-a1")!;
    const foreign: ObservedBridge = {
      uuid: fakeUuid(),
      name: "br-x",
      datapathType: "",
      failMode: undefined,
      protocols: [],
      otherConfig: new Map(),
      controllers: [],
      ports: [{ ...vm, externalIds: new Map() }],
    };
    const without = editBridge(base, "br-int", (b) => ({
      ...b,
      ports: b.ports.filter((p) => p !== vm),
    }));
    const bridges = new Map(without.bridges).set("br-x", foreign);
    expect(() => diffPlumbing(plan, { ...without, bridges })).toThrow(PlumbConflictError);

    const owned = new Map(bridges).set("br-x", { ...foreign, ports: [vm] });
    expect(diffPlumbing(plan, { ...without, bridges: owned }).changes.map(formatChange)).toEqual([
      "delete port tap-vm-a1 from br-x (moved to br-int)",
      "add vm port tap-vm-a1 to br-int",
    ]);
  });
});

describe("renderVsctlScript", () => {
  it("quotes values ovs-vsctl would misparse and words the shell would split", async () => {
    const { plan } = await planFor(twoHosts(), "compute-1", { controller: "tcp:127.0.0.1:6653" });
    const script = renderVsctlScript(plan);
    expect(script).toContain(`'external_ids:attached-mac="fa:16:3e:aa:00:01"'`);
    expect(script).toContain("--may-exist add-br br-int \\\n  -- set-fail-mode br-int secure");
    expect(script).toContain("options:remote_ip=198.51.100.12");
    expect(script.trimEnd().split("\n").slice(-2)).toEqual([
      "ovs-vsctl set-controller br-int tcp:127.0.0.1:6653",
      "ovs-vsctl set-controller br-tun tcp:127.0.0.1:6653",
    ]);
  });
});
