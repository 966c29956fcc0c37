/**
 * A compute host on our own switch: one `dvrflow switch` process inside the
 * host's namespace holding br-int and br-tun, laid out exactly as the
 * controller's plumbing lays out an Open vSwitch host (plumb/plan.ts): the
 * patch pair on port 1 of each bridge, VM ports (the topology's interface
 * names, system ports read and written through libpcap) with their
 * network's local VLAN as access tag, and one VXLAN port per remote host
 * named `vxlan-<tunnel IP in hex>`, numbered as `defaultOfports` numbers
 * them, so that `dvrflow compile` applies unchanged. VXLAN is real UDP on
 * the underlay veth, which holds the tunnel IP itself (no br-phy needed:
 * the kernel of the namespace carries the outer packets).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  defaultOfports,
  PATCH_INT,
  PATCH_TUN,
  tunnelPortName,
} from "../../../src/dvr/compile/ports.js";
import { indexTopology } from "../../../src/topology/indexed.js";
import { SwitchProcess } from "../../switch/switch-process.js";
import { inNs, ip, linkMac } from "../sys.js";
import {
  UNDERLAY_DEV,
  UNDERLAY_PREFIX,
  type BackendKind,
  type HostBackend,
  type HostSetup,
} from "./host.js";

const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, "0")}`;

export class DvrflowHost implements HostBackend {
  readonly kind: BackendKind = "dvrflow";
  readonly controllerSocket: string;
  readonly ovsdb = undefined;
  readonly plumbOptions = undefined;
  private proc: SwitchProcess | undefined;

  constructor(readonly setup: HostSetup) {
    this.controllerSocket = join(setup.dir, "dvrflow.sock");
  }

  mgmt(bridge: "br-int" | "br-tun"): string {
    return `unix:${join(this.setup.dir, `${bridge}.mgmt`)}`;
  }

  /** The switch's YAML config (written into the run directory). */
  config(): string {
    const { fullTopology: t, fullSnapshot: snap, name } = this.setup;
    const index = indexTopology(t);
    const ofports = defaultOfports(index, name);
    const vlans = snap.localVlans.get(name) ?? new Map<string, number>();
    const host = t.hosts[name];
    if (host === undefined) throw new Error(`no host ${name}`);
    const controller = `unix:${this.controllerSocket}`;
    const vmPorts = (index.portsByHost.get(name) ?? []).map((p) => {
      const tag = vlans.get(p.network);
      if (tag === undefined) throw new Error(`no local VLAN for ${p.network} on ${name}`);
      return {
        name: p.interfaceName,
        type: "system",
        ofport: ofports["br-int"].get(p.interfaceName),
        tag,
      };
    });
    const tunnels = index.hosts
      .filter((h) => h.name !== name)
      .map((h) => {
        const port = tunnelPortName(h.tunnelIp);
        return {
          name: port,
          type: "vxlan",
          ofport: ofports["br-tun"].get(port),
          remote_ip: h.tunnelIpText,
          key: "flow",
        };
      });
    const doc = {
      vxlan: { local_ip: this.setup.tunnelIp, port: 4789 },
      probe_interval: 5,
      // Reconnect fast after the controller restarts (OVS: Controller.max_backoff).
      max_backoff: 1,
      bridges: [
        {
          name: "br-int",
          dpid: hex(host.datapath_ids["br-int"]),
          controller,
          listen: `punix:${join(this.setup.dir, "br-int.mgmt")}`,
          fail_mode: "secure",
          ports: [{ name: PATCH_TUN, type: "patch", ofport: 1, peer: PATCH_INT }, ...vmPorts],
        },
        {
          name: "br-tun",
          dpid: hex(host.datapath_ids["br-tun"]),
          controller,
          listen: `punix:${join(this.setup.dir, "br-tun.mgmt")}`,
          fail_mode: "secure",
          ports: [{ name: PATCH_INT, type: "patch", ofport: 1, peer: PATCH_TUN }, ...tunnels],
        },
      ],
    };
    return `# ${name}: written by test/e2e (dvrflow-host.ts)\n${stringify(doc, { lineWidth: 0 })}`;
  }

  async start(): Promise<void> {
    const { ns, tunnelIp, dir } = this.setup;
    ip("-n", ns, "addr", "add", `${tunnelIp}/${UNDERLAY_PREFIX}`, "dev", UNDERLAY_DEV);
    const file = join(dir, "switch.yaml");
    writeFileSync(file, this.config());
    this.proc = await SwitchProcess.start(["--config", file, "--log-level", "info"], {
      netns: ns,
    });
  }

  async afterPlumbing(): Promise<void> {
    // Nothing: the switch was configured whole at start.
  }

  underlayMac(): string {
    return linkMac(this.setup.ns, UNDERLAY_DEV);
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
      UNDERLAY_DEV,
      "nud",
      "permanent",
    );
  }

  failure(): string | undefined {
    const c = this.proc?.child;
    if (c === undefined) return `dvrflow switch of ${this.setup.name} was never started`;
    if (c.exitCode === null && c.signalCode === null) return undefined;
    return `dvrflow switch of ${this.setup.name} exited (${c.exitCode ?? c.signalCode})`;
  }

  diagnostics(): string {
    const tail = this.proc?.stderrText.split("\n").slice(-15).join("\n") ?? "";
    return `--- ${this.setup.name} dvrflow switch (stderr tail)\n${tail}`;
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = undefined;
  }
}
