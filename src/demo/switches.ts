/**
 * One `dvrflow switch` child process per compute host, as a real deployment
 * has one ovs-vswitchd per host: the demo writes each host's switch config
 * (br-int and br-tun joined by the patch pair, a VXLAN port to every other
 * host, one port per VM: `udp` for a simulated VM, `system` for a veth),
 * starts the process, and reads its pino log lines from stderr (the
 * `listening` lines carry the ports of the passive OpenFlow endpoints, for
 * `ovs-ofctl` and for the demo's own flow dumps).
 *
 * Ports and numbers are the ones a freshly plumbed host gets
 * (`defaultOfports`, the numbering `dvrflow compile` assumes): br-int
 * `patch-tun` = 1 and VM ports from 10; br-tun `patch-int` = 1 and tunnel
 * ports from 10, named `vxlan-<tunnel IP in hex>` as Neutron names them. VM
 * ports carry their network's local VLAN as access tag (what Neutron's agent
 * sets in OVSDB), from the controller's store.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, writeFileSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { ipv4ToString } from "../../codec/packet/index.js";
import { PATCH_INT, PATCH_TUN, defaultOfports, tunnelPortName } from "../dvr/compile/index.js";
import type { StoreSnapshot } from "../store/store.js";
import type { DemoHost, DemoPlan } from "./plan.js";

export interface SwitchLaunch {
  /** The command that runs the dvrflow CLI (argv before `switch`). */
  readonly command: readonly string[];
  readonly dir: string;
  readonly controllerPort: number;
  readonly vxlanPort: number;
  /** VM name → how its br-int port reaches it. */
  readonly vmPorts: ReadonlyMap<string, VmAttachment>;
}

/**
 * How a VM's br-int port reaches the VM: a `udp` port whose peer is the
 * demo's simulated VM (datapath/io/udp-tap.ts), or a `system` port on the
 * root-namespace end of a veth whose other end is in the VM's network
 * namespace (datapath/io/system-port.ts; `dvrflow demo --netns`).
 */
export type VmAttachment =
  | { readonly kind: "udp"; readonly port: number }
  | { readonly kind: "system"; readonly ifname: string };

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** The files and numbers of one host's switch. */
export interface HostSwitchLayout {
  readonly configFile: string;
  readonly logFile: string;
  /** Tunnel port name → (remote host, capture file of what the port sends). */
  readonly tunnels: ReadonlyMap<string, { readonly remote: string; readonly capture: string }>;
  /** The YAML written. */
  readonly yaml: string;
}

/** The argv that runs this same CLI (built bin or tsx source) again, for child processes. */
export function selfCommand(): string[] {
  const entry = process.argv[1];
  if (entry === undefined) throw new Error("cannot tell how this CLI was started");
  return [process.execPath, ...process.execArgv, entry];
}

const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, "0")}`;

/** Writes the switch config of `host` into `launch.dir`. */
export function writeSwitchConfig(
  plan: DemoPlan,
  snap: StoreSnapshot,
  host: DemoHost,
  launch: SwitchLaunch,
): HostSwitchLayout {
  const ofports = defaultOfports(plan.index, host.name);
  const lvs = snap.localVlans.get(host.name) ?? new Map<string, number>();
  const controller = `tcp:127.0.0.1:${launch.controllerPort}`;
  const vmPorts = (plan.index.portsByHost.get(host.name) ?? []).flatMap((p) => {
    const at = launch.vmPorts.get(p.name);
    if (at === undefined) return [];
    const tag = lvs.get(p.network);
    // The port keeps Neutron's interface name (what the controller sees);
    // a system port's Linux device is the veth end (`interface`).
    const io =
      at.kind === "udp"
        ? { type: "udp", remote: `127.0.0.1:${at.port}` }
        : { type: "system", interface: at.ifname };
    return [
      {
        name: p.interfaceName,
        ofport: ofports["br-int"].get(p.interfaceName),
        ...(tag === undefined ? {} : { tag }),
        ...io,
      },
    ];
  });
  const tunnels = new Map<string, { remote: string; capture: string }>();
  const tunnelPorts = plan.hosts
    .filter((h) => h !== host)
    .map((h) => {
      const name = tunnelPortName(h.tunnelIp);
      const capture = join(launch.dir, `wire-${host.name}-to-${h.name}.pcap`);
      tunnels.set(name, { remote: h.name, capture });
      return {
        name,
        type: "vxlan",
        ofport: ofports["br-tun"].get(name),
        remote_ip: h.underlayIp,
        key: "flow",
        tx_pcap: capture,
      };
    });
  const doc = {
    vxlan: { local_ip: host.underlayIp, port: launch.vxlanPort },
    probe_interval: 5,
    max_backoff: 2,
    bridges: [
      {
        name: "br-int",
        dpid: hex(host.brIntDpid),
        controller,
        listen: "ptcp:0:127.0.0.1",
        fail_mode: "secure",
        ports: [{ name: PATCH_TUN, type: "patch", ofport: 1, peer: PATCH_INT }, ...vmPorts],
      },
      {
        name: "br-tun",
        dpid: hex(host.brTunDpid),
        controller,
        listen: "ptcp:0:127.0.0.1",
        fail_mode: "secure",
        ports: [{ name: PATCH_INT, type: "patch", ofport: 1, peer: PATCH_TUN }, ...tunnelPorts],
      },
    ],
  };
  const yaml =
    `# ${host.name}: written by \`dvrflow demo\` (underlay ${host.underlayIp}, ` +
    `tunnel IP ${ipv4ToString(host.tunnelIp)})\n` +
    stringify(doc, { lineWidth: 0 });
  const configFile = join(launch.dir, `${host.name}.switch.yaml`);
  writeFileSync(configFile, yaml);
  return { configFile, logFile: join(launch.dir, `${host.name}.switch.log`), tunnels, yaml };
}

/** A running `dvrflow switch` child. */
export class SwitchChild {
  readonly host: string;
  readonly layout: HostSwitchLayout;
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  private readonly logStream: WriteStream;
  private stderrTail = "";
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine | undefined) => void }[] =
    [];
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(host: string, layout: HostSwitchLayout, command: readonly string[]) {
    this.host = host;
    this.layout = layout;
    this.logStream = createWriteStream(layout.logFile);
    this.child = spawn(
      command[0]!,
      [...command.slice(1), "switch", "--config", layout.configFile, "--log-level", "info"],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
    );
    let buf = "";
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (d: string) => {
      this.logStream.write(d);
      this.stderrTail = (this.stderrTail + d).slice(-4000);
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        let l: LogLine;
        try {
          l = JSON.parse(line) as LogLine;
        } catch {
          continue;
        }
        this.logs.push(l);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(l)) return true;
          w.resolve(l);
          return false;
        });
      }
    });
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        this.exitCode = code;
        for (const w of this.waiters.splice(0)) w.resolve(undefined);
        this.logStream.end();
        resolve(code);
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The end of what the process wrote on stderr (for error messages). */
  get tail(): string {
    return this.stderrTail;
  }

  /** The first log line (past or future) satisfying `pred`; undefined if the process exits first. */
  waitLog(pred: (l: LogLine) => boolean): Promise<LogLine | undefined> {
    const seen = this.logs.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.exitCode !== undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  /** Waits for "switch started"; throws with the process's stderr if it exits instead. */
  async started(): Promise<void> {
    const l = await this.waitLog((x) => x.msg === "switch started");
    if (l === undefined) {
      throw new Error(
        `the switch of ${this.host} exited (${String(this.exitCode)}) before starting:\n${this.tail}`,
      );
    }
  }

  /** The port of a bridge's ptcp listener (after {@link started}). */
  listenPort(bridge: string): number {
    const l = this.logs.find((x) => x.msg === "listening" && x.bridge === bridge);
    if (l === undefined || typeof l.port !== "number") {
      throw new Error(`${this.host}: no listener for ${bridge}`);
    }
    return l.port;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(t);
  }

  /** Synchronous last resort (process `exit` handler): SIGKILL if still running. */
  killNow(): void {
    if (this.exitCode === undefined) this.child.kill("SIGKILL");
  }
}
