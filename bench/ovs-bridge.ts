/**
 * One bridge of a private Open vSwitch for the controller benches: the
 * tests' {@link OvsInstance} (own ovsdb-server and ovs-vswitchd in a temp
 * run directory, `--disable-system`, dummy ports), a netdev bridge with
 * `fail_mode=secure` and no ports, reached through its management socket
 * `unix:<rundir>/<bridge>.mgmt`: ovs-ofctl and our controller dial the same
 * socket, so both talk to the same bridge over the same kind of transport.
 * No namespace, no TCP port, nothing visible outside the run directory.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { OvsInstance, ovsDaemonsAvailable } from "../test/datapath/ovs-instance.js";

export { ovsDaemonsAvailable };

/** `ovs-ofctl` run once: wall time of the whole process, and its output. */
export interface OfctlRun {
  readonly ms: number;
  readonly stdout: string;
}

export class BenchBridge {
  private constructor(
    private readonly ovs: OvsInstance,
    readonly name: string,
  ) {}

  static async start(name = "br-bench"): Promise<BenchBridge> {
    const ovs = await OvsInstance.start();
    try {
      ovs.addBridge(name, []);
      // No in-band hidden flows, no NORMAL fallback: the bridge holds what we put in it.
      ovs.vsctl("set", "bridge", name, "other-config:disable-in-band=true");
    } catch (e) {
      ovs.stop();
      throw e;
    }
    return new BenchBridge(ovs, name);
  }

  get dir(): string {
    return this.ovs.dir;
  }

  /** The management socket path (`ovs-ofctl`'s default target for the bridge). */
  get mgmtPath(): string {
    return join(this.ovs.dir, `${this.name}.mgmt`);
  }

  /**
   * `ovs-ofctl -O OpenFlow13 [opts] CMD unix:BR.mgmt [args]`, timed from
   * spawn to exit (what an operator or an agent calling the tool pays).
   * Throws on a non-zero exit.
   */
  ofctl(cmd: string, args: readonly string[] = [], opts: readonly string[] = []): OfctlRun {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(
      "ovs-ofctl",
      ["-O", "OpenFlow13", ...opts, cmd, `unix:${this.mgmtPath}`, ...args],
      {
        encoding: "utf8",
        maxBuffer: 1 << 30,
        env: { ...process.env, OVS_RUNDIR: this.ovs.dir },
      },
    );
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) {
      throw new Error(`ovs-ofctl ${cmd} failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
    }
    return { ms, stdout: r.stdout };
  }

  /** Flows on the bridge, from `dump-aggregate` (hidden flows are not counted). */
  flowCount(): number {
    const out = this.ofctl("dump-aggregate").stdout;
    const m = /flow_count=(\d+)/.exec(out);
    if (m === null) throw new Error(`no flow_count in dump-aggregate output: ${out}`);
    return Number(m[1]);
  }

  clear(): void {
    this.ofctl("del-flows");
  }

  stop(): void {
    this.ovs.stop();
  }
}
