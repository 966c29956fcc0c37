/**
 * Real `ping` between network namespaces across `dvrflow switch` processes
 * (issue §5, the namespace test). Needs root, `ip netns`, ethtool and the
 * libpcap binding (`cap`); it skips loudly otherwise, and fails instead of
 * skipping when DVRFLOW_REQUIRE_SYSTEM_TOOLS=1 (CI runs as root).
 *
 * 1. Two namespaces, each with a veth whose other end is a port of one
 *    switch in fail_mode=standalone (OVS's `priority=0 actions=NORMAL`): they
 *    ping each other.
 * 2. The same two namespaces on two switch processes joined by VXLAN over
 *    loopback (127.0.0.21 ↔ 127.0.0.22), flows installed with real
 *    `ovs-ofctl`: the ping crosses the tunnel.
 * 3. One hop where the far end of the tunnel is real Open vSwitch
 *    (ovs-vswitchd --disable-system, datapath_type=netdev, its own run dir),
 *    which terminates VXLAN only on an address held by its own netdev bridge
 *    br-phy (dvr-pipeline.md §7). So that no test address lands on the host,
 *    each side runs in its own "hypervisor" namespace joined by an underlay
 *    veth (198.51.100.1 ↔ 198.51.100.2): our switch in one, ovs-vswitchd in
 *    the other; the VM namespaces hang off them.
 *
 * Addresses: VMs 203.0.113.0/24, underlay 198.51.100.0/24. TX checksum
 * offload is off on every veth, host-side veths have no address and no IPv6
 * (system-port.ts explains why). Everything created is removed in afterAll,
 * failed or not.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { loadCap } from "../../datapath/io/system-port.js";
import { skipLoudly } from "../helpers/tools.js";
import { SwitchProcess } from "./switch-process.js";

function why(): string | null {
  if (process.getuid?.() !== 0) return "not root";
  for (const tool of ["ip", "ethtool", "ping", "ovs-ofctl"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool} || test -x /usr/sbin/${tool}`]).status !== 0)
      return `${tool} missing`;
  }
  if (spawnSync("ip", ["netns", "list"]).status !== 0) return "ip netns unavailable";
  const { error } = loadCap();
  if (error !== null) return `libpcap binding (npm cap) unavailable: ${error}`;
  return null;
}

const SKIP = why();
if (SKIP !== null) skipLoudly("switch/netns (namespace ping tests)", SKIP);

const ID = String(process.pid % 100000);
const created = { netns: [] as string[], links: [] as string[] };

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
function ipc(...args: string[]): string {
  return run("ip", args);
}
function inNs(ns: string, cmd: string, ...args: string[]): string {
  return run("ip", ["netns", "exec", ns, cmd, ...args]);
}

function addNetns(name: string): string {
  ipc("netns", "add", name);
  created.netns.push(name);
  ipc("-n", name, "link", "set", "lo", "up");
  return name;
}

/** A link's side made quiet and offload-free: up, no IPv6, TX checksum offload off. */
function prepare(ns: string | null, dev: string): void {
  const exec = (cmd: string, ...a: string[]): string =>
    ns === null ? run(cmd, a) : inNs(ns, cmd, ...a);
  exec("sysctl", "-qw", `net.ipv6.conf.${dev}.disable_ipv6=1`);
  exec("ip", "link", "set", dev, "up");
  exec("ethtool", "-K", dev, "tx", "off");
}

/**
 * A veth pair: `host` stays in `hostNs` (null = this namespace) as a switch
 * port; `inner` goes to `ns`, with `addr` (CIDR) on it.
 */
function veth(host: string, hostNs: string | null, inner: string, ns: string, addr: string): void {
  ipc("link", "add", host, "type", "veth", "peer", "name", inner);
  created.links.push(host);
  if (hostNs !== null) ipc("link", "set", host, "netns", hostNs);
  ipc("link", "set", inner, "netns", ns);
  prepare(hostNs, host);
  prepare(ns, inner);
  ipc("-n", ns, "addr", "add", addr, "dev", inner);
}

function ping(ns: string, dst: string, count = 3): { ok: boolean; out: string } {
  const r = spawnSync(
    "ip",
    ["netns", "exec", ns, "ping", "-c", String(count), "-i", "0.2", "-W", "2", dst],
    {
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

function ofctl(target: string, cmd: string, ...args: string[]): string {
  return run("ovs-ofctl", ["-O", "OpenFlow13", cmd, target, ...args]);
}

function addFlows(target: string, flows: readonly string[]): void {
  const r = spawnSync("ovs-ofctl", ["-O", "OpenFlow13", "add-flows", target, "-"], {
    input: flows.join("\n") + "\n",
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`add-flows ${target}: ${r.stderr}`);
}

const procs: SwitchProcess[] = [];
let ovsStop: (() => void) | null = null;

function cleanup(): void {
  for (const ns of created.netns.splice(0)) spawnSync("ip", ["netns", "del", ns]);
  for (const l of created.links.splice(0)) spawnSync("ip", ["link", "del", l], { stdio: "ignore" });
}

afterEach(async () => {
  for (const p of procs.splice(0)) await p.stop();
  ovsStop?.();
  ovsStop = null;
  cleanup();
});
afterAll(() => cleanup());

describe.skipIf(SKIP !== null)("ping across dvrflow switch between network namespaces", () => {
  it("two namespaces on one switch with NORMAL (fail_mode=standalone) ping each other", async () => {
    const a = addNetns(`dvf-a-${ID}`);
    const b = addNetns(`dvf-b-${ID}`);
    veth(`dva${ID}`, null, `dvan${ID}`, a, "203.0.113.1/24");
    veth(`dvb${ID}`, null, `dvbn${ID}`, b, "203.0.113.2/24");
    const sw = await SwitchProcess.start([
      "--fail-mode",
      "standalone",
      "--listen",
      "ptcp:0:127.0.0.1",
      "--port",
      `1=dva${ID}`,
      "--port",
      `2=dvb${ID}`,
    ]);
    procs.push(sw);
    const r = ping(a, "203.0.113.2");
    expect(r.ok, r.out).toBe(true);
    expect(r.out).toMatch(/3 packets transmitted, 3 received/);
    const back = ping(b, "203.0.113.1", 2);
    expect(back.ok, back.out).toBe(true);
    // The traffic went through the visible NORMAL flow, and both ports counted it.
    const target = `tcp:127.0.0.1:${sw.listenPort("br0")}`;
    const flows = ofctl(target, "dump-flows");
    expect(flows).toMatch(/n_packets=([1-9]\d*), .*priority=0 actions=NORMAL/);
    const ports = ofctl(target, "dump-ports");
    expect(ports).toMatch(/port {2}1: rx pkts=[1-9]/);
    expect(ports).toMatch(/port {2}2: rx pkts=[1-9]/);
  }, 90_000);

  it("two switch processes joined by VXLAN over loopback, flows from ovs-ofctl, carry the ping", async () => {
    const a = addNetns(`dvf-a-${ID}`);
    const b = addNetns(`dvf-b-${ID}`);
    veth(`dva${ID}`, null, `dvan${ID}`, a, "203.0.113.1/24");
    veth(`dvb${ID}`, null, `dvbn${ID}`, b, "203.0.113.2/24");
    const s1 = await SwitchProcess.start([
      "--bridge",
      "br-h1",
      "--local-ip",
      "127.0.0.21",
      "--listen",
      "ptcp:0:127.0.0.1",
      "--port",
      `1=dva${ID}`,
      "--port",
      "10=vx-h2:remote_ip=127.0.0.22,key=flow",
    ]);
    procs.push(s1);
    const s2 = await SwitchProcess.start([
      "--bridge",
      "br-h2",
      "--local-ip",
      "127.0.0.22",
      "--listen",
      "ptcp:0:127.0.0.1",
      "--port",
      `1=dvb${ID}`,
      "--port",
      "10=vx-h1:remote_ip=127.0.0.21,key=flow",
    ]);
    procs.push(s2);
    const flows = [
      "table=0,priority=10,in_port=1,actions=set_field:0x64->tun_id,output:10",
      "table=0,priority=10,in_port=10,tun_id=0x64,actions=output:1",
    ];
    const t1 = `tcp:127.0.0.1:${s1.listenPort("br-h1")}`;
    const t2 = `tcp:127.0.0.1:${s2.listenPort("br-h2")}`;
    addFlows(t1, flows);
    addFlows(t2, flows);
    const r = ping(a, "203.0.113.2");
    expect(r.ok, r.out).toBe(true);
    for (const t of [t1, t2]) {
      const d = ofctl(t, "dump-flows");
      expect(d).toMatch(
        /n_packets=[1-9]\d*, .*priority=10,tun_id=0x64,in_port=10 actions=output:1/,
      );
      expect(d).toMatch(
        /n_packets=[1-9]\d*, .*priority=10,in_port=1 actions=set_field:0x64->tun_id,output:10/,
      );
    }
  }, 90_000);

  it("one VXLAN hop whose far end is real Open vSwitch (netdev datapath, tunnel on br-phy) carries the ping", async () => {
    const a = addNetns(`dvf-a-${ID}`);
    const c = addNetns(`dvf-c-${ID}`);
    const h1 = addNetns(`dvf-h1-${ID}`);
    const h2 = addNetns(`dvf-h2-${ID}`);
    // VM a on our switch (in h1), VM c on OVS (in h2).
    veth(`dva${ID}`, h1, `dvan${ID}`, a, "203.0.113.1/24");
    veth(`dvc${ID}`, h2, `dvcn${ID}`, c, "203.0.113.3/24");
    // Underlay: h1 holds 198.51.100.1; the other end is a port of OVS's br-phy in h2.
    veth(`dvu${ID}`, h2, `dvud${ID}`, h1, "198.51.100.1/24");

    const dir = mkdtempSync(join(tmpdir(), "dvrflow-ovs-netns-"));
    const ovs = startOvs(dir, h2);
    ovsStop = () => {
      ovs.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    ovs.vsctl(
      "add-br",
      "br-phy",
      "--",
      "set",
      "bridge",
      "br-phy",
      "datapath_type=netdev",
      "fail_mode=standalone",
    );
    ovs.vsctl("add-port", "br-phy", `dvu${ID}`);
    // The tunnel endpoint address lives on br-phy's own (tap) interface.
    ipc("-n", h2, "addr", "add", "198.51.100.2/24", "dev", "br-phy");
    ipc("-n", h2, "link", "set", "br-phy", "up");
    ovs.vsctl(
      "add-br",
      "br-int",
      "--",
      "set",
      "bridge",
      "br-int",
      "datapath_type=netdev",
      "protocols=OpenFlow13",
      "fail_mode=secure",
      "--",
      "add-port",
      "br-int",
      `dvc${ID}`,
      "--",
      "set",
      "interface",
      `dvc${ID}`,
      "ofport_request=1",
      "--",
      "add-port",
      "br-int",
      "vx-h1",
      "--",
      "set",
      "interface",
      "vx-h1",
      "type=vxlan",
      "options:remote_ip=198.51.100.1",
      "options:local_ip=198.51.100.2",
      "options:key=flow",
      "ofport_request=10",
    );
    const flows = [
      "table=0,priority=10,in_port=1,actions=set_field:0x64->tun_id,output:10",
      "table=0,priority=10,in_port=10,tun_id=0x64,actions=output:1",
    ];
    addFlows(`unix:${join(dir, "br-int.mgmt")}`, flows);

    const mgmt = join(dir, "dvrflow-br.mgmt");
    const sw = await SwitchProcess.start(
      [
        "--bridge",
        "br-h1",
        "--local-ip",
        "198.51.100.1",
        "--listen",
        `punix:${mgmt}`,
        "--port",
        `1=dva${ID}`,
        "--port",
        "10=vx-ovs:remote_ip=198.51.100.2,key=flow",
      ],
      { netns: h1 },
    );
    procs.push(sw);
    addFlows(`unix:${mgmt}`, flows);

    // The first packets wait for ARP on both sides of the underlay: allow a few losses.
    const r = ping(a, "203.0.113.3", 6);
    expect(r.out, r.out).toMatch(/6 packets transmitted, [3-6] received/);
    const ours = ofctl(`unix:${mgmt}`, "dump-flows");
    expect(ours).toMatch(
      /n_packets=[1-9]\d*, .*priority=10,tun_id=0x64,in_port=10 actions=output:1/,
    );
    const theirs = ofctl(`unix:${join(dir, "br-int.mgmt")}`, "dump-flows");
    expect(theirs).toMatch(
      /n_packets=[1-9]\d*, .*priority=10,tun_id=0x64,in_port=10 actions=output:1/,
    );
  }, 120_000);
});

/** ovs-vswitchd for real interfaces (no dummy netdevs), its datapath threads in `netns`. */
function startOvs(
  dir: string,
  netns: string,
): { vsctl: (...a: string[]) => string; stop: () => void } {
  const env = {
    ...process.env,
    OVS_RUNDIR: dir,
    OVS_LOGDIR: dir,
    OVS_DBDIR: dir,
    OVS_SYSCONFDIR: dir,
  };
  const x = (cmd: string, args: readonly string[]): string =>
    execFileSync(cmd, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  x("ovsdb-tool", ["create", join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]);
  x("ovsdb-server", [
    `--remote=punix:${join(dir, "db.sock")}`,
    `--pidfile=${join(dir, "ovsdb-server.pid")}`,
    `--unixctl=${join(dir, "ovsdb-server.ctl")}`,
    `--log-file=${join(dir, "ovsdb-server.log")}`,
    "--detach",
    join(dir, "conf.db"),
  ]);
  const vsctl = (...a: string[]): string =>
    x("ovs-vsctl", [`--db=unix:${join(dir, "db.sock")}`, "--timeout=20", ...a]);
  vsctl("--no-wait", "init");
  x("ip", [
    "netns",
    "exec",
    netns,
    "ovs-vswitchd",
    `unix:${join(dir, "db.sock")}`,
    "--disable-system",
    `--pidfile=${join(dir, "ovs-vswitchd.pid")}`,
    `--unixctl=${join(dir, "ovs-vswitchd.ctl")}`,
    `--log-file=${join(dir, "ovs-vswitchd.log")}`,
    "--detach",
  ]);
  return {
    vsctl,
    stop: () => {
      for (const name of ["ovs-vswitchd.pid", "ovsdb-server.pid"]) {
        try {
          const pid = Number(readFileSync(join(dir, name), "utf8").trim());
          if (pid > 0) process.kill(pid, "SIGTERM");
        } catch {
          // not running
        }
      }
    },
  };
}
