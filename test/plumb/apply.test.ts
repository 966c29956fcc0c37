/**
 * applyPlumbing against a private ovsdb-server, checked through ovs-vsctl
 * (an independent reader): the state a plan produces, idempotence, the
 * exact delta of topology changes, drift repair, ownership (foreign ports
 * and keys survive), tunnel ports found by remote_ip, and the controller
 * rule (retargeted in place, never removed).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OvsdbClient } from "../../src/ovsdb/client.js";
import {
  applyPlumbing,
  formatChange,
  PlumbConflictError,
  type PlumbOptions,
} from "../../src/plumb/index.js";
import {
  ovsdbAvailable,
  startOvsdbServer,
  vsctlState,
  type PrivateOvsdb,
} from "../ovsdb/ovsdb-server.js";
import { planFor, twoHosts, withHost3, withoutPort } from "./helpers.js";

const CTL = "tcp:127.0.0.1:6653";
const OPTS: PlumbOptions = { controller: CTL, datapathType: "netdev" };

describe.skipIf(!ovsdbAvailable())("applyPlumbing against ovsdb-server", () => {
  let srv: PrivateOvsdb;
  let client: OvsdbClient;
  beforeAll(async () => {
    srv = await startOvsdbServer();
    client = await OvsdbClient.connect(srv.remote);
  });
  afterAll(async () => {
    await client?.close();
    await srv?.stop();
  });

  const get = (...args: string[]): string => srv.vsctl("get", ...args).trim();
  const apply = async (t = twoHosts(), opts: PlumbOptions = OPTS) => {
    const { plan, snapshot } = await planFor(t, "compute-1", opts);
    return { result: await applyPlumbing(client, plan), snapshot };
  };

  it("plumbs a fresh database: bridges, ports, options, tags, datapath ids, controller, fail mode", async () => {
    const { result, snapshot } = await apply();
    expect(result.applied).toBe(true);
    expect(result.changes.filter((c) => c.kind === "add-port")).toHaveLength(5);
    const vlans = snapshot.localVlans.get("compute-1")!;

    expect(srv.vsctl("list-br").trim().split("\n")).toEqual(["br-int", "br-tun"]);
    expect(srv.vsctl("list-ports", "br-int").trim().split("\n")).toEqual([
      "patch-tun",
      "tap-vm-a1",
      "tap-vm-b1",
    ]);
    expect(srv.vsctl("list-ports", "br-tun").trim().split("\n")).toEqual([
      "patch-int",
      "vxlan-c633640c",
    ]);
    expect(get("bridge", "br-int", "other_config:datapath-id")).toBe('"0000000000000011"');
    expect(get("bridge", "br-tun", "other_config:datapath-id")).toBe('"0000000000000012"');
    expect(get("bridge", "br-int", "other_config:disable-in-band")).toBe('"true"');
    expect(get("bridge", "br-int", "datapath_type")).toBe("netdev");
    expect(get("bridge", "br-int", "protocols")).toBe("[OpenFlow13]");
    expect(srv.vsctl("get-fail-mode", "br-int").trim()).toBe("secure");
    expect(srv.vsctl("get-fail-mode", "br-tun").trim()).toBe("secure");
    expect(srv.vsctl("get-controller", "br-int").trim()).toBe(CTL);
    expect(srv.vsctl("get-controller", "br-tun").trim()).toBe(CTL);
    expect(get("interface", "patch-tun", "type")).toBe("patch");
    expect(get("interface", "patch-tun", "options")).toBe("{peer=patch-int}");
    expect(get("interface", "patch-int", "options")).toBe("{peer=patch-tun}");
    expect(get("interface", "patch-tun", "ofport_request")).toBe("1");
    expect(get("interface", "vxlan-c633640c", "type")).toBe("vxlan");
    expect(get("interface", "vxlan-c633640c", "options")).toBe(
      '{df_default="true", egress_pkt_mark="0", in_key=flow, local_ip="198.51.100.11", out_key=flow, remote_ip="198.51.100.12"}',
    );
    expect(get("interface", "vxlan-c633640c", "ofport_request")).toBe("10");
    expect(get("port", "tap-vm-a1", "tag")).toBe(String(vlans.get("blue")));
    expect(get("port", "tap-vm-b1", "tag")).toBe(String(vlans.get("red")));
    expect(get("port", "patch-tun", "tag")).toBe("[]");
    expect(get("interface", "tap-vm-a1", "ofport_request")).toBe("10");
    expect(get("interface", "tap-vm-b1", "ofport_request")).toBe("11");
    expect(get("interface", "tap-vm-a1", "external_ids:attached-mac")).toBe('"fa:16:3e:aa:00:01"');
    // Each bridge has its local port, as ovs-vsctl add-br makes it.
    expect(get("interface", "br-int", "type")).toBe("internal");
    const show = srv.vsctl("show");
    expect(show).toContain(
      'Bridge br-tun\n        Controller "tcp:127.0.0.1:6653"\n        fail_mode: secure\n        datapath_type: netdev',
    );
    expect(result.tunnelPorts).toEqual(new Map([["vxlan-c633640c", "compute-2"]]));
  });

  it("re-applying changes nothing and sends no transaction", async () => {
    const before = vsctlState(srv);
    const ctlUuid = get("bridge", "br-int", "controller");
    const { result } = await apply();
    expect(result.changes).toEqual([]);
    expect(result.applied).toBe(false);
    expect(result.operations).toBe(0);
    expect(vsctlState(srv)).toEqual(before);
    expect(get("bridge", "br-int", "controller")).toBe(ctlUuid);
  });

  it("a new remote host adds exactly its tunnel port", async () => {
    const before = vsctlState(srv);
    const { result } = await apply(withHost3(twoHosts()));
    expect(result.changes.map(formatChange)).toEqual(["add tunnel port vxlan-c633640d to br-tun"]);
    const after = vsctlState(srv);
    expect(Object.keys(after["br-tun"]!.ports).sort()).toEqual([
      "br-tun",
      "patch-int",
      "vxlan-c633640c",
      "vxlan-c633640d",
    ]);
    expect(after["br-tun"]!.ports["vxlan-c633640d"]!.interfaces["vxlan-c633640d"]).toMatchObject({
      type: "vxlan",
      ofport_request: 11,
      options: { remote_ip: "198.51.100.13", local_ip: "198.51.100.11" },
    });
    // Everything else untouched.
    delete after["br-tun"]!.ports["vxlan-c633640d"];
    expect(after).toEqual(before);
  });

  it("a removed host's tunnel and a removed VM port are deleted, and nothing else", async () => {
    const before = vsctlState(srv); // with compute-3
    const { result } = await apply(withoutPort(twoHosts(), "vm-b1"));
    expect(result.changes.map(formatChange).sort()).toEqual([
      "delete port tap-vm-b1 from br-int (port vm-b1 is no longer on this host)",
      "delete port vxlan-c633640d from br-tun (tunnel to 198.51.100.13, no host in the topology)",
    ]);
    const after = vsctlState(srv);
    delete before["br-int"]!.ports["tap-vm-b1"];
    delete before["br-tun"]!.ports["vxlan-c633640d"];
    expect(after).toEqual(before);
    expect(srv.vsctl("--columns=name", "find", "Interface", "name=tap-vm-b1").trim()).toBe("");
  });

  it("repairs drift in what it owns and leaves foreign ports and keys alone", async () => {
    await apply();
    srv.vsctl("set", "port", "tap-vm-a1", "tag=99");
    srv.vsctl("set", "interface", "patch-tun", "options:peer=elsewhere");
    srv.vsctl("set-fail-mode", "br-int", "standalone");
    srv.vsctl(
      "set",
      "bridge",
      "br-tun",
      "other_config:datapath-id=00000000000000aa",
      "other_config:mac-aging-time=10",
    );
    srv.vsctl("add-port", "br-int", "foreign0", "--", "set", "port", "foreign0", "tag=7");
    srv.vsctl("set", "interface", "tap-vm-a1", "external_ids:nova-key=kept");
    const { result, snapshot } = await apply();
    const blue = snapshot.localVlans.get("compute-1")!.get("blue");
    expect(result.changes.map(formatChange).sort()).toEqual(
      [
        "bridge br-int: fail_mode standalone -> secure",
        "port patch-tun on br-int: options {peer=elsewhere} -> {peer=patch-int}",
        `port tap-vm-a1 on br-int: tag 99 -> ${blue}`,
        "bridge br-tun: other_config:datapath-id 00000000000000aa -> 0000000000000012",
      ].sort(),
    );
    expect(srv.vsctl("get-fail-mode", "br-int").trim()).toBe("secure");
    expect(get("port", "foreign0", "tag")).toBe("7");
    expect(get("bridge", "br-tun", "other_config:mac-aging-time")).toBe('"10"');
    expect(get("interface", "tap-vm-a1", "external_ids:nova-key")).toBe("kept");
    expect((await apply()).result.changes).toEqual([]);
  });

  it("finds tunnel ports by remote_ip: renamed ones are replaced, stale ones removed", async () => {
    srv.vsctl("del-port", "br-tun", "vxlan-c633640c");
    srv.vsctl(
      "add-port",
      "br-tun",
      "tun-c2",
      "--",
      "set",
      "interface",
      "tun-c2",
      "type=vxlan",
      "options:remote_ip=198.51.100.12",
    );
    srv.vsctl(
      "add-port",
      "br-tun",
      "vxlan-cb007163",
      "--",
      "set",
      "interface",
      "vxlan-cb007163",
      "type=vxlan",
      "options:remote_ip=203.0.113.99",
    );
    srv.vsctl("add-port", "br-tun", "plain0"); // not a tunnel, not ours: stays
    const { result } = await apply();
    expect(result.changes.map(formatChange)).toEqual([
      "delete port tun-c2 from br-tun (tunnel to compute-2 is named vxlan-c633640c)",
      "delete port vxlan-cb007163 from br-tun (tunnel to 203.0.113.99, no host in the topology)",
      "add tunnel port vxlan-c633640c to br-tun",
    ]);
    expect(srv.vsctl("list-ports", "br-tun").trim().split("\n")).toEqual([
      "patch-int",
      "plain0",
      "vxlan-c633640c",
    ]);
    expect(result.tunnelPorts).toEqual(new Map([["vxlan-c633640c", "compute-2"]]));
    srv.vsctl("del-port", "br-tun", "plain0");
  });

  it("retargets the controller in place, and leaves it alone when none is given", async () => {
    const row = get("bridge", "br-int", "controller");
    const { result } = await apply(twoHosts(), { ...OPTS, controller: "tcp:127.0.0.1:6654" });
    expect(result.changes.map(formatChange)).toEqual([
      "bridge br-int: controller [tcp:127.0.0.1:6653] -> tcp:127.0.0.1:6654",
      "bridge br-tun: controller [tcp:127.0.0.1:6653] -> tcp:127.0.0.1:6654",
    ]);
    expect(get("bridge", "br-int", "controller")).toBe(row);
    expect(srv.vsctl("get-controller", "br-int").trim()).toBe("tcp:127.0.0.1:6654");
    const { result: none } = await apply(twoHosts(), { datapathType: "netdev" });
    expect(none.changes).toEqual([]);
    expect(srv.vsctl("get-controller", "br-int").trim()).toBe("tcp:127.0.0.1:6654");
  });

  it("a dry run reports without writing; a conflict applies nothing", async () => {
    srv.vsctl("set", "port", "tap-vm-a1", "tag=42");
    const { plan } = await planFor(twoHosts(), "compute-1", OPTS);
    const dry = await applyPlumbing(client, plan, { dryRun: true });
    expect(dry.applied).toBe(false);
    expect(dry.changes.map(formatChange)).toContain(
      "bridge br-int: controller [tcp:127.0.0.1:6654] -> tcp:127.0.0.1:6653",
    );
    expect(get("port", "tap-vm-a1", "tag")).toBe("42");

    // tap-vm-b1 exists on a bridge dvrflow does not own: refused as a whole.
    srv.vsctl("del-port", "br-int", "tap-vm-b1");
    srv.vsctl("add-br", "br-x", "--", "add-port", "br-x", "tap-vm-b1");
    const before = vsctlState(srv);
    await expect(applyPlumbing(client, plan)).rejects.toThrow(PlumbConflictError);
    expect(vsctlState(srv)).toEqual(before);
    srv.vsctl("del-br", "br-x");
    const fixed = await applyPlumbing(client, plan);
    expect(fixed.changes.map(formatChange)).toContain("add vm port tap-vm-b1 to br-int");
    expect(get("port", "tap-vm-a1", "tag")).not.toBe("42");
  });
});
