/**
 * Topology loading: the examples are valid; YAML, schema and semantic
 * errors come back with their object path and the line of the offending
 * key; 64-bit datapath ids keep every bit.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssue, formatPath, type TopologyIssue } from "../../src/topology/issues.js";
import { parseTopologyText } from "../../src/topology/loader.js";
import { parseTarget } from "../../src/controller/server.js";
import { parseOvsdbRemote } from "../../src/ovsdb/remote.js";

const ROOT = join(import.meta.dirname, "..", "..");
const example = (name: string) => readFileSync(join(ROOT, "examples", name), "utf8");

/** The 1-based line of the first line containing `needle`. */
function lineOf(text: string, needle: string, from = 0): number {
  const lines = text.split("\n");
  for (let i = from; i < lines.length; i++) if (lines[i]!.includes(needle)) return i + 1;
  throw new Error(`no line with ${needle}`);
}

/** The 1-based line whose trimmed text is exactly `line`. */
function lineIs(text: string, line: string): number {
  const n = text.split("\n").findIndex((l) => l.trim() === line);
  if (n < 0) throw new Error(`no line ${line}`);
  return n + 1;
}

function errors(text: string): TopologyIssue[] {
  return parseTopologyText(text).issues.filter((i) => i.severity === "error");
}

function find(issues: readonly TopologyIssue[], path: string): TopologyIssue {
  const i = issues.find((x) => formatPath(x.path) === path);
  if (i === undefined)
    throw new Error(`no issue at ${path}: ${issues.map((x) => formatIssue(x)).join("; ")}`);
  return i;
}

const BASE = `version: 1
hosts:
  c1:
    datapath_ids: { br-int: 0x1, br-tun: 0x2 }
    tunnel_ip: 198.51.100.1
  c2:
    datapath_ids: { br-int: 0x3, br-tun: 0x4 }
    tunnel_ip: 198.51.100.2
networks:
  blue: { type: vxlan, segmentation_id: 100 }
  red: { type: vxlan, segmentation_id: 200 }
subnets:
  blue-v4: { network: blue, cidr: 203.0.113.0/27, gateway_ip: 203.0.113.1 }
  red-v4: { network: red, cidr: 203.0.113.32/27, gateway_ip: 203.0.113.33 }
routers:
  r1:
    interfaces:
      - { subnet: blue-v4, mac_address: fa:16:3e:00:00:01 }
      - { subnet: red-v4, mac_address: fa:16:3e:00:00:02 }
ports:
  vm1:
    network: blue
    host: c1
    mac_address: fa:16:3e:00:01:01
    fixed_ips: [203.0.113.10]
  vm2:
    network: red
    host: c2
    mac_address: fa:16:3e:00:01:02
    fixed_ips: [203.0.113.40]
`;

describe("examples", () => {
  for (const name of ["two-hosts.yaml", "demo-3-hosts.yaml"]) {
    it(`${name} is valid with no warnings`, () => {
      const r = parseTopologyText(example(name));
      expect(r.issues.map((i) => formatIssue(i))).toEqual([]);
      expect(r.topology).toBeDefined();
    });
  }

  it("uses only the documentation address ranges (never 192.0.2.0/24)", () => {
    for (const name of ["two-hosts.yaml", "demo-3-hosts.yaml"]) {
      const ips = example(name).match(/\b\d+\.\d+\.\d+\.\d+\b/g) ?? [];
      expect(ips.length).toBeGreaterThan(5);
      for (const ip of ips) expect(ip).toMatch(/^(198\.51\.100|203\.0\.113)\./);
    }
  });

  it("the base document of these tests is valid", () => {
    expect(errors(BASE)).toEqual([]);
  });
});

describe("schema errors name the path and the line", () => {
  it("rejects a bad IP at its line", () => {
    const text = BASE.replace("tunnel_ip: 198.51.100.2", "tunnel_ip: 198.51.100");
    const i = find(errors(text), "hosts.c2.tunnel_ip");
    expect(i.message).toContain("not an IPv4 address");
    expect(i.line).toBe(lineIs(text, "tunnel_ip: 198.51.100"));
  });

  it("rejects unknown fields at the field's own line", () => {
    const text = BASE.replace(
      "    fixed_ips: [203.0.113.40]",
      "    fixed_ips: [203.0.113.40]\n    security_groups: [default]",
    );
    const i = find(errors(text), "ports.vm2.security_groups");
    expect(i.message).toContain("unknown field");
    expect(i.line).toBe(lineOf(text, "security_groups"));
  });

  it("rejects VLAN networks and IPv6 subnets as not in version 1", () => {
    const text = BASE.replace("red: { type: vxlan", "red: { type: vlan").replace(
      "cidr: 203.0.113.0/27",
      "cidr: 2001:db8::/64",
    );
    const es = errors(text);
    expect(find(es, "networks.red.type").line).toBe(lineOf(text, "red: { type: vlan"));
    expect(find(es, "subnets.blue-v4.cidr").message).toContain("IPv6");
  });

  it("rejects a CIDR with host bits and a MAC with a typo", () => {
    const text = BASE.replace("203.0.113.32/27", "203.0.113.33/27").replace(
      "fa:16:3e:00:01:02",
      "fa:16:3e:00:01",
    );
    const es = errors(text);
    expect(find(es, "subnets.red-v4.cidr").message).toContain("host bits");
    const mac = find(es, "ports.vm2.mac_address");
    expect(mac.line).toBe(lineIs(text, "mac_address: fa:16:3e:00:01"));
  });

  it("reports YAML syntax errors with a line", () => {
    const r = parseTopologyText("version: 1\nhosts:\n  c1: [\n");
    expect(r.topology).toBeUndefined();
    expect(r.issues[0]!.message).toMatch(/^YAML: /);
    expect(r.issues[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it("refuses duplicate keys (a second host of the same name)", () => {
    const text = BASE.replace("  c2:\n", "  c1:\n");
    expect(parseTopologyText(text).issues.some((i) => /unique|duplicate/i.test(i.message))).toBe(
      true,
    );
  });

  it("keeps all 64 bits of a datapath id", () => {
    const text = BASE.replace("br-int: 0x1,", "br-int: 0xfedcba9876543211,");
    const r = parseTopologyText(text);
    expect(r.topology!.hosts["c1"]!.datapath_ids["br-int"]).toBe(0xfedcba9876543211n);
  });
});

describe("timers in seconds", () => {
  const withTimers = (lines: string) =>
    BASE.replace("version: 1\n", `version: 1\ncontroller:\n${lines}`);

  it("take YAML integers (read as bigint) as well as decimals", () => {
    const r = parseTopologyText(withTimers("  echo_interval: 5\n  audit_interval: 30\n"));
    expect(r.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(r.topology!.controller.echo_interval).toBe(5);
    expect(r.topology!.controller.audit_interval).toBe(30);
    const d = parseTopologyText(withTimers("  echo_interval: 2.5\n  audit_interval: 0\n"));
    expect(d.topology!.controller.echo_interval).toBe(2.5);
    expect(d.topology!.controller.audit_interval).toBe(0);
  });

  it("reject a zero echo interval, negative or day-long timers, at their line", () => {
    const text = withTimers("  echo_interval: 0\n  audit_interval: 100000\n");
    const issues = errors(text);
    expect(find(issues, "controller.echo_interval").line).toBe(lineIs(text, "echo_interval: 0"));
    expect(find(issues, "controller.audit_interval").message).toMatch(/seconds from 0 up to 86400/);
    expect(errors(withTimers("  audit_interval: -1\n"))).toHaveLength(1);
  });
});

describe("connection targets are checked with the grammar run and plumb use", () => {
  const withListen = (listen: string) =>
    BASE.replace("version: 1\n", `version: 1\ncontroller:\n  listen: "${listen}"\n`);
  const withOvsdb = (remote: string) =>
    BASE.replace(
      "    tunnel_ip: 198.51.100.2\n",
      `    tunnel_ip: 198.51.100.2\n    ovsdb: "${remote}"\n`,
    );

  it("accepts every listener form parseTarget accepts, and the value stays as written", () => {
    for (const listen of [
      "tcp:127.0.0.1:6653",
      "tcp:[::1]:6653",
      "tcp:controller.example:6653",
      "ptcp:6653",
      "ptcp:6653:127.0.0.1",
      "tcp:127.0.0.1:0",
      "unix:/var/run/openvswitch/dvrflow.sock",
      "punix:/run/of.sock",
    ]) {
      const r = parseTopologyText(withListen(listen));
      expect(errors(withListen(listen)), listen).toEqual([]);
      expect(r.topology?.controller.listen).toBe(listen);
      expect(() => parseTarget(listen)).not.toThrow();
    }
  });

  it("rejects a listener run would refuse, at controller.listen's line, with parseTarget's reason", () => {
    for (const [listen, reason] of [
      ["tls:0.0.0.0:6653", "expected tcp:HOST:PORT or unix:PATH"],
      ["tcp:127.0.0.1:70000", "bad port"],
      ["tcp:127.0.0.1:66x", "bad port"],
      ["tcp:::1:6653", "IPv6 address goes in brackets"],
      ["tcp:1.2.3.4:6653:9", "IPv6 address goes in brackets"],
      ["tcp:[::1]:99999", "bad port"],
      ["tcp:[nope]:6653", "not an IPv6 address"],
      ["tcp:bad host:6653", "not a host name or IPv4 address"],
      ["unix:", "unix socket path missing"],
      ["6653", "expected tcp:HOST:PORT"],
    ] as const) {
      const text = withListen(listen);
      const i = find(errors(text), "controller.listen");
      expect(i.message, listen).toContain(reason);
      expect(i.line, listen).toBe(lineOf(text, "listen:"));
      expect(() => parseTarget(listen), listen).toThrow(i.message);
    }
  });

  it("accepts OVSDB remotes the client dials and rejects the others at hosts.<h>.ovsdb's line", () => {
    for (const remote of [
      "tcp:198.51.100.2:6640",
      "tcp:198.51.100.2",
      "tcp:[::1]:6641",
      "unix:/run/openvswitch/db.sock",
    ]) {
      expect(errors(withOvsdb(remote)), remote).toEqual([]);
      expect(parseTopologyText(withOvsdb(remote)).topology?.hosts.c2?.ovsdb).toBe(remote);
    }
    for (const [remote, reason] of [
      ["ssl:198.51.100.2:6640", "ssl: remotes are not supported"],
      ["ptcp:6640", "an OVSDB remote is tcp:HOST[:PORT] or unix:PATH"],
      ["tcp:198.51.100.2:0", "bad port 0"],
      ["tcp:198.51.100.2:6640:1", "expected tcp:HOST[:PORT]"],
      ["unix:", "unix: needs a socket path"],
      ["", "an OVSDB remote is"],
    ] as const) {
      const text = withOvsdb(remote);
      const i = find(errors(text), "hosts.c2.ovsdb");
      expect(i.message, remote).toContain(reason);
      expect(i.line, remote).toBe(lineOf(text, "ovsdb:"));
      expect(() => parseOvsdbRemote(remote), remote).toThrow(i.message);
    }
  });
});

describe("network mtu", () => {
  const withMtu = (mtu: string) =>
    BASE.replace(
      "red: { type: vxlan, segmentation_id: 200 }",
      `red: { type: vxlan, segmentation_id: 200, mtu: ${mtu} }`,
    );

  it("accepts 68..9000 and rejects the rest at its line", () => {
    expect(parseTopologyText(withMtu("1450")).topology?.networks.red?.mtu).toBe(1450);
    for (const bad of ["67", "9001", "1450.5", '"1450"']) {
      const text = withMtu(bad);
      const i = find(errors(text), "networks.red.mtu");
      expect(i.line, bad).toBe(lineOf(text, "red: {"));
    }
  });

  it("warns, without failing, when a VXLAN network needs more than a 1500-byte underlay", () => {
    const at = (mtu: string) =>
      parseTopologyText(withMtu(mtu)).issues.filter(
        (i) => formatPath(i.path) === "networks.red.mtu",
      );
    expect(at("1450")).toEqual([]);
    expect(at("1400")).toEqual([]);
    const text = withMtu("1451");
    const [w, ...rest] = at("1451");
    expect(rest).toEqual([]);
    expect(w?.severity).toBe("warning");
    expect(w?.line).toBe(lineOf(text, "red: {"));
    expect(w?.message).toContain("needs an underlay MTU of at least mtu+50 = 1501");
    expect(find(parseTopologyText(withMtu("9000")).issues, "networks.red.mtu").message).toContain(
      "mtu+50 = 9050",
    );
    expect(errors(withMtu("9000"))).toEqual([]);
  });
});

describe("semantic errors name the path and the line", () => {
  it("unknown references", () => {
    const text = BASE.replace("network: red\n    host: c2", "network: green\n    host: c9").replace(
      "subnet: red-v4,",
      "subnet: red-v6,",
    );
    const es = errors(text);
    expect(find(es, "ports.vm2.network").message).toBe('unknown network "green"');
    expect(find(es, "ports.vm2.host").message).toBe('unknown host "c9"');
    expect(find(es, "ports.vm2.host").line).toBe(lineOf(text, "host: c9"));
    expect(find(es, "routers.r1.interfaces[1].subnet").message).toBe('unknown subnet "red-v6"');
  });

  it("duplicate MACs across ports, router interfaces and host DVR MACs", () => {
    const text = BASE.replace("fa:16:3e:00:01:02", "fa:16:3e:00:00:01").replace(
      "tunnel_ip: 198.51.100.2",
      "tunnel_ip: 198.51.100.2\n    dvr_mac: fa:16:3e:00:01:01",
    );
    const es = errors(text);
    expect(find(es, "ports.vm2.mac_address").message).toContain("router r1 interface on blue-v4");
    expect(find(es, "ports.vm1.mac_address").message).toContain("host c2");
  });

  it("duplicate IPs on a network, IPs outside every subnet, network/broadcast addresses", () => {
    const text = BASE.replace(
      "fixed_ips: [203.0.113.40]",
      "fixed_ips: [203.0.113.33, 203.0.113.99, 203.0.113.63]",
    );
    const es = errors(text);
    expect(find(es, "ports.vm2.fixed_ips[0]").message).toContain("already used by router r1");
    expect(find(es, "ports.vm2.fixed_ips[1]").message).toBe(
      "203.0.113.99 is in no subnet of network red",
    );
    expect(find(es, "ports.vm2.fixed_ips[2]").message).toContain("broadcast address");
    expect(find(es, "ports.vm2.fixed_ips[1]").line).toBe(lineOf(text, "203.0.113.99"));
  });

  it("overlapping subnets on one router, and one router per subnet", () => {
    const text = BASE.replace(
      "cidr: 203.0.113.32/27, gateway_ip: 203.0.113.33",
      "cidr: 203.0.113.0/26, gateway_ip: 203.0.113.33",
    );
    const es = errors(text);
    expect(find(es, "routers.r1.interfaces[1].subnet").message).toContain("overlaps blue-v4");
    const two = BASE.replace(
      "      - { subnet: red-v4, mac_address: fa:16:3e:00:00:02 }",
      "      - { subnet: red-v4, mac_address: fa:16:3e:00:00:02 }\n  r2:\n    interfaces:\n      - { subnet: red-v4, mac_address: fa:16:3e:00:00:03 }",
    );
    expect(find(errors(two), "routers.r2.interfaces[0].subnet").message).toContain(
      "already attached to router r1",
    );
  });

  it("duplicate VNIs, tunnel IPs and datapath ids", () => {
    const text = BASE.replace("segmentation_id: 200", "segmentation_id: 100")
      .replace("tunnel_ip: 198.51.100.2", "tunnel_ip: 198.51.100.1")
      .replace("br-int: 0x3", "br-int: 0x2");
    const es = errors(text);
    expect(find(es, "networks.red.segmentation_id").message).toContain("also used by network blue");
    expect(find(es, "hosts.c2.tunnel_ip").message).toContain("host c1");
    expect(find(es, "hosts.c2.datapath_ids.br-int").message).toContain("c1 br-tun");
  });

  it("a port with two gateway MACs on one network (DVR restores one)", () => {
    const text = BASE.replace(
      "red-v4: { network: red, cidr: 203.0.113.32/27",
      "red-v4: { network: blue, cidr: 203.0.113.32/27",
    )
      .replace("fixed_ips: [203.0.113.10]", "fixed_ips: [203.0.113.10, 203.0.113.41]")
      .replace("network: red\n    host: c2", "network: blue\n    host: c2");
    // Two interfaces of one router on one network: each subnet has its own gateway MAC.
    expect(find(errors(text), "ports.vm1.fixed_ips").message).toContain("different gateway MACs");
  });

  it("dvr_base_mac must differ from Neutron's port base", () => {
    const text = BASE.replace(
      "version: 1\n",
      "version: 1\ncontroller:\n  dvr_base_mac: fa:16:3e:00:00:00\n",
    );
    expect(find(errors(text), "controller.dvr_base_mac").line).toBe(3);
  });

  it("warns (without failing) about hosts with no ports", () => {
    const text = BASE.replace("host: c2", "host: c1");
    const r = parseTopologyText(text);
    expect(r.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(find(r.issues, "hosts.c2").severity).toBe("warning");
  });
});
