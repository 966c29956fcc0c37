/**
 * A private Open vSwitch for differential tests: its own ovsdb-server and
 * ovs-vswitchd in a temporary run directory (dvr-pipeline.md §7), started
 * with `--disable-system --enable-dummy=override` so that bridges with
 * `datapath_type=netdev` use dummy ports — no tap devices appear on the host
 * and nothing clashes with other users of the machine. `ofproto/trace` and
 * other unixctl commands are sent as JSON-RPC over the daemon's control
 * socket, so thousands of traces cost no process spawns.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool, skipLoudly } from "../helpers/tools.js";

const SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

let daemons: boolean | undefined;

/**
 * The OVS daemons and tools a private instance needs are installed. Missing
 * ones are reported by {@link hasTool} / {@link skipLoudly}: a loud skip,
 * an error in CI.
 */
export function ovsDaemonsAvailable(): boolean {
  if (daemons === undefined) {
    const tools = ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl"];
    daemons = tools.every((t) => hasTool(t));
    if (daemons && !existsSync(SCHEMA)) {
      skipLoudly(SCHEMA, "missing (apt-get install openvswitch-switch)");
      daemons = false;
    }
  }
  return daemons;
}

/** Splits a byte stream of concatenated JSON objects (OVS jsonrpc has no delimiter). */
class JsonSplitter {
  private buf = "";
  push(chunk: string): unknown[] {
    this.buf += chunk;
    const out: unknown[] = [];
    let depth = 0;
    let inStr = false;
    let esc = false;
    let start = -1;
    let consumed = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i]!;
      if (inStr) {
        if (esc) esc = false;
        else if (c === "\\") esc = true;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === "{") {
        if (depth === 0) start = i;
        depth++;
      } else if (c === "}") {
        depth--;
        if (depth === 0 && start >= 0) {
          out.push(JSON.parse(this.buf.slice(start, i + 1)));
          consumed = i + 1;
          start = -1;
        }
      }
    }
    this.buf = this.buf.slice(consumed);
    return out;
  }
}

export class OvsInstance {
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private sock: Socket | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (s: string) => void; reject: (e: Error) => void }
  >();

  private constructor(dir: string) {
    this.dir = dir;
    this.env = {
      ...process.env,
      OVS_RUNDIR: dir,
      OVS_LOGDIR: dir,
      OVS_DBDIR: dir,
      OVS_SYSCONFDIR: dir,
    };
  }

  static async start(): Promise<OvsInstance> {
    const dir = mkdtempSync(join(tmpdir(), "dvrflow-ovs-"));
    const o = new OvsInstance(dir);
    const run = (cmd: string, args: string[]): string =>
      execFileSync(cmd, args, { env: o.env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    run("ovsdb-tool", ["create", join(dir, "conf.db"), SCHEMA]);
    run("ovsdb-server", [
      `--remote=punix:${join(dir, "db.sock")}`,
      `--pidfile=${join(dir, "ovsdb-server.pid")}`,
      `--unixctl=${join(dir, "ovsdb-server.ctl")}`,
      `--log-file=${join(dir, "ovsdb-server.log")}`,
      "--detach",
      join(dir, "conf.db"),
    ]);
    o.vsctl("--no-wait", "init");
    run("ovs-vswitchd", [
      `unix:${join(dir, "db.sock")}`,
      "--disable-system",
      "--enable-dummy=override",
      `--pidfile=${join(dir, "ovs-vswitchd.pid")}`,
      `--unixctl=${join(dir, "ovs-vswitchd.ctl")}`,
      `--log-file=${join(dir, "ovs-vswitchd.log")}`,
      "--detach",
    ]);
    await o.connectCtl();
    return o;
  }

  vsctl(...args: string[]): string {
    return execFileSync(
      "ovs-vsctl",
      [`--db=unix:${join(this.dir, "db.sock")}`, "--timeout=20", ...args],
      {
        env: this.env,
        encoding: "utf8",
      },
    );
  }

  ofctl(bridge: string, ...args: string[]): string {
    return execFileSync(
      "ovs-ofctl",
      ["-O", "OpenFlow13", args[0]!, `unix:${join(this.dir, `${bridge}.mgmt`)}`, ...args.slice(1)],
      {
        env: this.env,
        encoding: "utf8",
      },
    );
  }

  /** Adds flows from text lines with `ovs-ofctl add-flows`. */
  addFlows(bridge: string, flows: readonly string[]): void {
    const file = join(this.dir, `flows-${bridge}.txt`);
    writeFileSync(file, flows.join("\n") + "\n");
    this.ofctl(bridge, "add-flows", file);
  }

  /** A netdev bridge with dummy ports 1..n (plus extra specs as raw vsctl args). */
  addBridge(
    name: string,
    ports: readonly { name: string; ofport: number; extra?: string[] }[],
  ): void {
    const args = [
      "add-br",
      name,
      "--",
      "set",
      "bridge",
      name,
      "datapath_type=netdev",
      "protocols=OpenFlow13",
      "fail_mode=secure",
    ];
    for (const p of ports) {
      args.push(
        "--",
        "add-port",
        name,
        p.name,
        "--",
        "set",
        "interface",
        p.name,
        `ofport_request=${p.ofport}`,
      );
      if (p.extra !== undefined) args.push(...p.extra);
      else args.push("type=internal");
    }
    this.vsctl(...args);
  }

  private connectCtl(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = connect(join(this.dir, "ovs-vswitchd.ctl"));
      const split = new JsonSplitter();
      s.setEncoding("utf8");
      s.on("data", (d: string) => {
        for (const m of split.push(d) as { id: number; result: string | null; error: unknown }[]) {
          const p = this.pending.get(m.id);
          if (p === undefined) continue;
          this.pending.delete(m.id);
          if (m.error !== null && m.error !== undefined) p.reject(new Error(String(m.error)));
          else p.resolve(m.result ?? "");
        }
      });
      s.on("error", reject);
      s.on("connect", () => {
        this.sock = s;
        resolve();
      });
    });
  }

  /** `ovs-appctl METHOD PARAMS...` over the control socket. */
  appctl(method: string, ...params: string[]): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock!.write(JSON.stringify({ id, method, params }));
    });
  }

  /** OVS datapath port number → OpenFlow port number, per bridge (from dpif/show). */
  async odpPorts(): Promise<Map<number, number>> {
    const text = await this.appctl("dpif/show");
    const map = new Map<number, number>();
    for (const m of text.matchAll(/^\s+\S+ (\d+)\/(\d+):/gm)) map.set(Number(m[2]), Number(m[1]));
    return map;
  }

  stop(): void {
    this.sock?.destroy();
    for (const name of ["ovs-vswitchd.pid", "ovsdb-server.pid"]) {
      try {
        const pid = Number(readFileSync(join(this.dir, name), "utf8").trim());
        if (pid > 0) process.kill(pid, "SIGTERM");
      } catch {
        // not running
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
