/**
 * One bring-up of the end-to-end topology for a run: two host namespaces
 * joined by an underlay veth (198.51.100.1 ↔ .2), a backend per host (real
 * Open vSwitch or `dvrflow switch`), one namespace per VM with a veth into
 * its host (MAC, address and default route from the topology, TX offload
 * off), and the controller process, plumbing the OVS hosts over OVSDB and
 * reached by every host through a unix socket in the host's run directory.
 *
 * Names: namespaces `dvfe2e-<run>-c1`, `-c2` (hosts) and `-a1`, `-b2`, …
 * (VMs); run directories `$TMPDIR/dvfe2e-<run>-*`. {@link Rig.up} first
 * removes whatever a crashed run with the same tag left behind.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { runCompile } from "../../src/cli/commands/compile.js";
import { runDiffFlows } from "../../src/cli/commands/flows.js";
import { defaultOfports } from "../../src/dvr/compile/index.js";
import { offlineSnapshot } from "../../src/dvr/offline.js";
import { indexTopology } from "../../src/topology/indexed.js";
import { topologyToJson, type Topology } from "../../src/topology/schema.js";
import type { ControllerSpec } from "./controller-main.js";
import { ControllerProcess } from "./controller-process.js";
import { DvrflowHost } from "./hosts/dvrflow-host.js";
import { UNDERLAY_DEV, type BackendKind, type HostBackend, type HostSetup } from "./hosts/host.js";
import { OvsHost } from "./hosts/ovs-host.js";
import {
  E2E_PREFIX,
  addNetns,
  cleanupPrefix,
  ip,
  netnsWithPrefix,
  prepareLink,
  run,
  until,
  vethBetween,
} from "./sys.js";
import { HOSTS, loadE2eTopology, withLatePort, type HostName } from "./topology.js";

export interface RunConfig {
  /** Short tag in every name this run creates: "ovs", "dvr", "mix". */
  readonly tag: string;
  readonly backends: Readonly<Record<HostName, BackendKind>>;
}

export interface Vm {
  readonly port: string;
  readonly ns: string;
  readonly host: string;
  readonly network: string;
  readonly ip: string;
  readonly mac: string;
  readonly iface: string;
  readonly gateway: string;
}

/** VMs' side of their veth. */
export const VM_DEV = "eth0";

type Bridge = "br-int" | "br-tun";

export class Rig {
  /** The topology the controller was started with (OVS hosts carry `ovsdb`). */
  readonly base: Topology;
  /** What the controller should hold now (scenarios that change it keep this up to date). */
  current: Topology;
  controller!: ControllerProcess;
  private readonly spec: ControllerSpec;

  private constructor(
    readonly config: RunConfig,
    readonly prefix: string,
    readonly dir: string,
    readonly hosts: ReadonlyMap<string, HostBackend>,
    readonly vms: ReadonlyMap<string, Vm>,
    base: Topology,
  ) {
    this.base = base;
    this.current = base;
    const configFile = join(dir, "topology.yaml");
    writeTopology(configFile, base);
    this.spec = {
      config: configFile,
      listen: [...hosts.values()].map((h) => h.controllerSocket),
      plumb: Object.fromEntries(
        [...hosts.values()].flatMap((h) =>
          h.plumbOptions === undefined ? [] : [[h.setup.name, h.plumbOptions] as const],
        ),
      ),
    };
  }

  static prefixOf(tag: string): string {
    return `${E2E_PREFIX}${tag}-`;
  }

  /** Builds everything; on failure tears down what it built and rethrows. */
  static async up(config: RunConfig): Promise<Rig> {
    const prefix = Rig.prefixOf(config.tag);
    cleanupPrefix(prefix);
    const dir = join(tmpdir(), `${prefix}ctl`);
    mkdirSync(dir, { recursive: true });
    const plain = loadE2eTopology();
    const full = withLatePort(plain);
    const fullSnapshot = await offlineSnapshot(full);
    const index = indexTopology(full);
    const hosts = new Map<string, HostBackend>();
    const vms = new Map<string, Vm>();
    let rig: Rig | undefined;
    try {
      // Hosts and the underlay between them.
      const setups = HOSTS.map((name, i): HostSetup => {
        const ns = `${prefix}c${i + 1}`;
        const hdir = join(tmpdir(), ns);
        mkdirSync(hdir, { recursive: true });
        addNetns(ns);
        const tunnelIp = index.host(name)!.tunnelIpText;
        return { name, ns, dir: hdir, tunnelIp, fullTopology: full, fullSnapshot };
      });
      const [s1, s2] = setups as [HostSetup, HostSetup];
      vethBetween(s1.ns, UNDERLAY_DEV, s2.ns, UNDERLAY_DEV);
      for (const s of setups) prepareLink(s.ns, UNDERLAY_DEV);

      // VMs: every port the run will ever have, wired into its host.
      for (const p of index.ports) {
        const setup = setups.find((s) => s.name === p.host)!;
        const addr = p.addresses[0]!;
        const gateway = full.subnets[addr.subnet.name]?.gateway_ip ?? "";
        const vm: Vm = {
          port: p.name,
          ns: `${prefix}${p.name.replace(/^vm-/, "")}`,
          host: p.host,
          network: p.network,
          ip: addr.ipText,
          mac: p.macText,
          iface: p.interfaceName,
          gateway,
        };
        addNetns(vm.ns);
        vethBetween(setup.ns, vm.iface, vm.ns, VM_DEV);
        prepareLink(setup.ns, vm.iface);
        ip("-n", vm.ns, "link", "set", VM_DEV, "address", vm.mac);
        const mtu = full.networks[p.network]?.mtu;
        prepareLink(vm.ns, VM_DEV, mtu);
        ip("-n", vm.ns, "addr", "add", `${vm.ip}/${addr.subnet.cidr.prefixLength}`, "dev", VM_DEV);
        if (gateway !== "") ip("-n", vm.ns, "route", "add", "default", "via", gateway);
        vms.set(vm.port, vm);
      }

      for (const s of setups) {
        const kind = config.backends[s.name as HostName];
        hosts.set(s.name, kind === "ovs" ? new OvsHost(s) : new DvrflowHost(s));
      }
      for (const h of hosts.values()) await h.start();

      // The controller's topology: the example, plus the OVSDB address of every OVS host.
      const base = structuredClone(plain);
      for (const h of hosts.values()) {
        if (h.ovsdb !== undefined) base.hosts[h.setup.name]!.ovsdb = h.ovsdb;
      }
      rig = new Rig(config, prefix, dir, hosts, vms, base);
      await rig.startController();
      for (const h of hosts.values()) await h.afterPlumbing();
      const [h1, h2] = [hosts.get(s1.name)!, hosts.get(s2.name)!];
      h1.pinPeer(s2.tunnelIp, h2.underlayMac());
      h2.pinPeer(s1.tunnelIp, h1.underlayMac());
      await rig.waitReady(60_000);
      return rig;
    } catch (e) {
      const diag = rig?.diagnostics() ?? [...hosts.values()].map((h) => h.diagnostics()).join("\n");
      await rig?.down();
      if (rig === undefined) {
        for (const h of hosts.values()) await h.stop().catch(() => undefined);
        cleanupPrefix(prefix);
      }
      throw new Error(`${(e as Error).message}\n${diag}`, { cause: e });
    }
  }

  async startController(): Promise<ControllerProcess> {
    this.controller = await ControllerProcess.start(this.dir, this.spec);
    return this.controller;
  }

  /** Every bridge connected and synced to the controller's generation. */
  async waitReady(ms: number): Promise<void> {
    await until(() => this.controller.ready().catch(() => false), ms, "every bridge synced");
  }

  vm(port: string): Vm {
    const v = this.vms.get(port);
    if (v === undefined) throw new Error(`no VM ${port}`);
    return v;
  }

  host(name: string): HostBackend {
    const h = this.hosts.get(name);
    if (h === undefined) throw new Error(`no host ${name}`);
    return h;
  }

  /** `dvrflow compile --config <current topology> --host H --bridge B`. */
  async compiled(host: string, bridge: Bridge): Promise<string> {
    const file = join(this.dir, "current.yaml");
    writeTopology(file, this.current);
    let out = "";
    let err = "";
    const code = await runCompile(["--config", file, "--host", host, "--bridge", bridge], {
      stdin: () => Promise.resolve(""),
      stdout: (s) => void (out += s),
      stderr: (s) => void (err += s),
    });
    if (code !== 0) throw new Error(`dvrflow compile failed: ${err}`);
    return out;
  }

  /**
   * `ovs-ofctl diff-flows SWITCH compiled.txt`, learned flows aside: the
   * lines that differ, without the flows br-tun's table 10 `learn`ed into
   * table 20 (they carry the learning flow's cookie and a hard timeout;
   * dvr-pipeline.md §7).
   */
  async ofctlDiff(
    host: string,
    bridge: Bridge,
  ): Promise<{ diff: string[]; learned: number; deadPorts: number }> {
    const file = join(this.dir, `want-${host}-${bridge}.txt`);
    writeFileSync(file, await this.compiled(host, bridge));
    let out: string;
    try {
      out = run("ovs-ofctl", [
        "-O",
        "OpenFlow13",
        "diff-flows",
        this.host(host).mgmt(bridge),
        file,
      ]);
    } catch (e) {
      // Exit status 2 = "differences found"; stdout still holds them.
      const x = e as { status?: number; stdout?: string; stderr?: string };
      if (x.status !== 2) throw new Error(`ovs-ofctl diff-flows: ${x.stderr ?? String(e)}`);
      out = x.stdout ?? "";
    }
    const lines = out.split("\n").filter((l) => l.trim() !== "");
    // ovs-ofctl marks flows only the switch has with "-" (its first argument).
    const isLearned = (l: string): boolean =>
      l.startsWith("-") && /table=20\b/.test(l) && /hard_timeout=\d+/.test(l);
    // The offline compile knows only the topology's ports; the controller also
    // drops frames from any other port the switch reports (I29, Neutron's
    // port_dead), e.g. a deleted port's device still attached to a
    // `dvrflow switch`. Set those aside only for ports the topology does not
    // number on this bridge.
    const known = new Set(defaultOfports(indexTopology(this.current), host)[bridge].values());
    const isDeadPort = (l: string): boolean => {
      const m = /^-priority=2,in_port=(\d+) cookie=0x[0-9a-f]+ actions=drop$/.exec(l);
      return bridge === "br-int" && m !== null && !known.has(Number(m[1]));
    };
    return {
      diff: lines.filter((l) => !isLearned(l) && !isDeadPort(l)),
      learned: lines.filter(isLearned).length,
      deadPorts: lines.filter(isDeadPort).length,
    };
  }

  /** `dvrflow diff-flows --config … --host H --bridge B SWITCH`: exit status and output. */
  async dvrflowDiff(host: string, bridge: Bridge): Promise<{ code: number; out: string }> {
    const file = join(this.dir, "current.yaml");
    writeTopology(file, this.current);
    let out = "";
    const code = await runDiffFlows(
      ["--config", file, "--host", host, "--bridge", bridge, this.host(host).mgmt(bridge)],
      {
        stdin: () => Promise.resolve(""),
        stdout: (s) => void (out += s),
        stderr: (s) => void (out += `ERR ${s}`),
      },
    );
    return { code, out };
  }

  /** `ovs-ofctl dump-flows --no-stats` of a bridge. */
  dumpFlows(host: string, bridge: Bridge): string {
    return run("ovs-ofctl", [
      "-O",
      "OpenFlow13",
      "dump-flows",
      "--no-stats",
      this.host(host).mgmt(bridge),
    ]);
  }

  /** Throws when a host's switch process died (so a scenario fails for the right reason). */
  checkAlive(): void {
    const dead = [...this.hosts.values()].flatMap((h) => h.failure() ?? []);
    if (dead.length > 0) throw new Error(dead.join("; "));
  }

  diagnostics(): string {
    const parts = [...this.hosts.values()].map((h) => h.diagnostics());
    const log = join(this.dir, "controller.log");
    const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "";
    parts.push(`--- controller log (tail of ${log})\n${tail}`);
    return parts.join("\n");
  }

  /** Stops everything and removes every namespace and run directory of this run. */
  async down(): Promise<void> {
    await this.controller?.stop().catch(() => undefined);
    for (const h of this.hosts.values()) await h.stop().catch(() => undefined);
    // DVRFLOW_E2E_KEEP=1 keeps the run directories (logs, captures) for a post-mortem;
    // the next run with this tag removes them.
    if (process.env.DVRFLOW_E2E_KEEP === "1") {
      for (const ns of netnsWithPrefix(this.prefix)) spawnSync("ip", ["netns", "del", ns]);
      return;
    }
    cleanupPrefix(this.prefix);
  }
}

export function writeTopology(file: string, t: Topology): void {
  writeFileSync(file, stringify(topologyToJson(t), { lineWidth: 0 }));
}
