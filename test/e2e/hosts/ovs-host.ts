/**
 * A compute host on real Open vSwitch 3.1 without a kernel module: its own
 * ovsdb-server and `ovs-vswitchd --disable-system` running inside the
 * host's namespace with a private run directory (dvr-pipeline.md §7), so
 * that the taps of its netdev bridges appear there and vanish with it.
 *
 * Nothing is configured by hand: the controller plumbs br-int, br-tun
 * (patch ports, VXLAN ports, VM ports with their tags, fail_mode secure,
 * datapath ids, its own `unix:` target inside this run directory, which
 * is the only place OVS accepts one) and br-phy with the underlay veth,
 * all with `datapath_type=netdev`, over OVSDB. The one step outside OVSDB
 * is the tunnel IP on br-phy: userspace VXLAN terminates only on an
 * address held by one of OVS's own netdev bridges (§7 item 10).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PlumbOptions } from "../../../src/plumb/index.js";
import { inNs, ip, killPid, linkMac, sleep, waitLink } from "../sys.js";
import {
  UNDERLAY_DEV,
  UNDERLAY_PREFIX,
  type BackendKind,
  type HostBackend,
  type HostSetup,
} from "./host.js";

const SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";
const BR_PHY = "br-phy";

export const OVS_TOOLS = [
  "ovsdb-tool",
  "ovsdb-server",
  "ovs-vswitchd",
  "ovs-vsctl",
  "ovs-ofctl",
  "ovs-appctl",
] as const;

export function ovsSchemaPresent(): boolean {
  return existsSync(SCHEMA);
}

export class OvsHost implements HostBackend {
  readonly kind: BackendKind = "ovs";
  readonly controllerSocket: string;
  readonly ovsdb: string;
  readonly plumbOptions: PlumbOptions;
  private readonly env: NodeJS.ProcessEnv;

  constructor(readonly setup: HostSetup) {
    this.controllerSocket = join(setup.dir, "dvrflow.sock");
    this.ovsdb = `unix:${join(setup.dir, "db.sock")}`;
    this.plumbOptions = {
      controller: `unix:${this.controllerSocket}`,
      datapathType: "netdev",
      underlay: { interfaces: [UNDERLAY_DEV], bridge: BR_PHY, prefixLength: UNDERLAY_PREFIX },
    };
    this.env = {
      ...process.env,
      OVS_RUNDIR: setup.dir,
      OVS_LOGDIR: setup.dir,
      OVS_DBDIR: setup.dir,
      OVS_SYSCONFDIR: setup.dir,
    };
  }

  mgmt(bridge: "br-int" | "br-tun"): string {
    return `unix:${join(this.setup.dir, `${bridge}.mgmt`)}`;
  }

  private x(cmd: string, args: readonly string[]): string {
    try {
      return execFileSync(cmd, args, {
        env: this.env,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      const err = e as { stderr?: string };
      throw new Error(`${cmd} ${args.join(" ")}: ${err.stderr ?? String(e)}`);
    }
  }

  /** A daemon inside the host namespace. */
  private daemon(cmd: string, args: readonly string[]): void {
    this.x("ip", ["netns", "exec", this.setup.ns, cmd, ...args]);
  }

  vsctl(...args: string[]): string {
    return this.x("ovs-vsctl", [`--db=${this.ovsdb}`, "--timeout=20", ...args]);
  }

  appctl(...args: string[]): string {
    return this.x("ovs-appctl", ["-t", join(this.setup.dir, "ovs-vswitchd.ctl"), ...args]);
  }

  async start(): Promise<void> {
    const d = this.setup.dir;
    this.x("ovsdb-tool", ["create", join(d, "conf.db"), SCHEMA]);
    this.daemon("ovsdb-server", [
      `--remote=punix:${join(d, "db.sock")}`,
      `--pidfile=${join(d, "ovsdb-server.pid")}`,
      `--unixctl=${join(d, "ovsdb-server.ctl")}`,
      `--log-file=${join(d, "ovsdb-server.log")}`,
      "--detach",
      join(d, "conf.db"),
    ]);
    this.vsctl("--no-wait", "init");
    this.daemon("ovs-vswitchd", [
      this.ovsdb,
      "--disable-system",
      `--pidfile=${join(d, "ovs-vswitchd.pid")}`,
      `--unixctl=${join(d, "ovs-vswitchd.ctl")}`,
      `--log-file=${join(d, "ovs-vswitchd.log")}`,
      "--detach",
    ]);
    await sleep(0);
  }

  async afterPlumbing(): Promise<void> {
    // The controller created br-phy; its tap appears in our namespace.
    await waitLink(this.setup.ns, BR_PHY);
    ip(
      "-n",
      this.setup.ns,
      "addr",
      "replace",
      `${this.setup.tunnelIp}/${UNDERLAY_PREFIX}`,
      "dev",
      BR_PHY,
    );
    ip("-n", this.setup.ns, "link", "set", BR_PHY, "up");
  }

  underlayMac(): string {
    return linkMac(this.setup.ns, BR_PHY);
  }

  pinPeer(peerIp: string, mac: string): void {
    inNs(
      this.setup.ns,
      "ip",
      "neigh",
      "replace",
      peerIp,
      "lladdr",
      mac,
      "dev",
      BR_PHY,
      "nud",
      "permanent",
    );
    // OVS's tunnel code keeps its own neighbour table (§7 item 10).
    this.appctl("tnl/neigh/set", BR_PHY, peerIp, mac);
  }

  failure(): string | undefined {
    for (const name of ["ovs-vswitchd", "ovsdb-server"]) {
      const f = join(this.setup.dir, `${name}.pid`);
      const pid = existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : 0;
      try {
        if (pid > 1) process.kill(pid, 0);
        else return `${name} of ${this.setup.name} has no pid file`;
      } catch {
        return `${name} of ${this.setup.name} (pid ${pid}) is not running`;
      }
    }
    return undefined;
  }

  diagnostics(): string {
    const tail = (f: string): string => {
      const p = join(this.setup.dir, f);
      return existsSync(p) ? readFileSync(p, "utf8").split("\n").slice(-15).join("\n") : "";
    };
    return `--- ${this.setup.name} ovs-vswitchd.log (tail)\n${tail("ovs-vswitchd.log")}`;
  }

  async stop(): Promise<void> {
    for (const name of ["ovs-vswitchd.pid", "ovsdb-server.pid"]) {
      const f = join(this.setup.dir, name);
      if (!existsSync(f)) continue;
      const pid = Number(readFileSync(f, "utf8").trim());
      if (pid > 1) killPid(pid, "SIGTERM");
    }
    await sleep(0);
  }
}
