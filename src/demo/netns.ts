/**
 * `dvrflow demo --netns`: real VMs instead of simulated ones. Each VM of the
 * topology is a Linux network namespace holding one end of a veth pair
 * (`eth0`, with the VM's MAC, address and a default route via its subnet's
 * gateway); the other end stays in the root namespace and is a `system`
 * port of its host's br-int (datapath/io/system-port.ts), at the ofport the
 * compiler expects. The cases then run as real `ping -c 1 -W 2` inside the
 * namespaces (`ip netns exec`), through the same switches and flows.
 *
 * The recipe is the one test/switch/netns.test.ts proves: IPv6 off on both
 * ends before they come up (no router solicitations or MLD reports wander
 * into the tables) and TX checksum offload off (`ethtool -K IF tx off`:
 * frames a veth hands to a packet socket otherwise carry partial checksums,
 * and the far VM drops them). The host end has no address.
 *
 * What a VM sent and got is read from the host end of its veth by one more
 * `dvrflow switch` process, the monitor: a bridge with no controller whose
 * only flows copy each veth's frames to a `pcap` port (its `tx_pcap` file,
 * written synchronously). Frames with the VM's source MAC are the VM's,
 * every other frame is one its host's switch delivered (Linux shows another
 * socket's injected frames to a capture, never the injecting socket's own).
 * That gives the exact echo request to trace and the frame as it arrived
 * (source MAC, TTL) to check, as the simulated VMs do. (A capture in the
 * demo process itself would do, but libpcap's binding prints a warning to
 * the process's stderr for every interface without an IPv4 address, and
 * the host ends must have none; the monitor's land in its log.)
 *
 * Names carry the demo's pid (`dvrflow-<pid>-vm-<name>`, veths
 * `dv<pid>-<n>`), so parallel runs do not collide and leftovers say whose
 * they were. Everything created is removed on exit, failure, Ctrl-C and
 * SIGTERM (and synchronously from the process `exit` handler as a last
 * resort).
 */
import { execFile, spawnSync } from "node:child_process";
import { accessSync, constants, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import { stringify } from "yaml";
import { ipv4ToString } from "../../codec/packet/index.js";
import { readPcapFile } from "../../datapath/io/pcap-file.js";
import { loadCap } from "../../datapath/io/system-port.js";
import { SwitchChild } from "./switches.js";
import { isArpReply, isArpRequest, isEchoReply, isEchoRequest, readFrame } from "./frames.js";
import {
  inSubnet,
  type ArpResult,
  type DemoVm,
  type PingResult,
  type Received,
  type VmSpec,
} from "./vm.js";

/** The tools `--netns` runs, and how to ask each for its version (`ip` and `ping` reject `--version`). */
const TOOLS = { ip: "-V", ping: "-V", ethtool: "--version", sysctl: "--version" } as const;
type ToolName = keyof typeof TOOLS;
export type NetnsTools = Readonly<Record<ToolName, string>>;

/** Where root's tools live even when PATH lacks them. */
const SYSTEM_BIN = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] as const;
/** Linux IFNAMSIZ less the terminating NUL. */
const IFNAME_MAX = 15;
/** The VM's end of its veth, inside its namespace. */
export const VM_IFACE = "eth0";
/** `ping -W`: seconds to wait for each reply. */
const PING_WAIT_S = 2;
/** Per command; ping waits PING_WAIT_S at most. */
const COMMAND_TIMEOUT_MS = 15_000;
/** How long to wait for the capture to show a reply ping has already printed. */
const CAPTURE_CATCH_UP_MS = 1000;

export class NetnsError extends Error {}

function findTool(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(delimiter).filter((d) => d !== ""),
    ...SYSTEM_BIN,
  ];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Why `--netns` cannot run here (root, `ip`, `ping`, `ethtool`, `sysctl`, working
 * `ip netns`, the libpcap binding), or the tools' paths when it can.
 */
export function netnsPrerequisites(): { tools: NetnsTools } | { problem: string } {
  const uid = process.getuid?.();
  if (uid !== 0) {
    return {
      problem: `needs root: it creates network namespaces and veths (running as uid ${String(uid)})`,
    };
  }
  const found: Partial<Record<ToolName, string>> = {};
  for (const [name, versionFlag] of Object.entries(TOOLS) as [ToolName, string][]) {
    const path = findTool(name);
    if (path === undefined || spawnSync(path, [versionFlag], { stdio: "ignore" }).status !== 0) {
      return {
        problem: `needs \`${name}\`, which is not installed (PATH and ${SYSTEM_BIN.join(", ")})`,
      };
    }
    found[name] = path;
  }
  const tools = found as NetnsTools;
  const list = spawnSync(tools.ip, ["netns", "list"], { encoding: "utf8" });
  if (list.status !== 0) {
    return { problem: `\`ip netns\` does not work here: ${(list.stderr ?? "").trim()}` };
  }
  const { error } = loadCap();
  if (error !== null) {
    return {
      problem: `needs the libpcap binding (npm package "cap") for the switches' system ports: ${error}`,
    };
  }
  return { tools };
}

interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      [...args],
      { encoding: "utf8", timeout: COMMAND_TIMEOUT_MS },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr: stderr || (err?.message ?? "") });
      },
    );
  });
}

async function must(cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) {
    throw new NetnsError(`${[cmd, ...args].join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** A namespace-safe rendering of a VM name. */
function nsPart(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** The monitor's bridge: its ports are numbered per VM, veth then capture. */
const MONITOR_BRIDGE = "br-mon";
const monitorPorts = (i: number) => ({ veth: 2 * i + 1, capture: 2 * i + 2 });

/** The namespaces and veths of one demo run, and the monitor that reads the veths. */
export class NetnsLab {
  /** `dvrflow-<pid>-`: every namespace of this run starts with it. */
  readonly prefix: string;
  readonly vms: NetnsVm[] = [];
  monitor: SwitchChild | undefined;
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  private readonly id: number;
  /** Set by remove(): a VM still being created then is deleted as soon as it is done. */
  private removed = false;

  constructor(
    readonly tools: NetnsTools,
    id = process.pid,
  ) {
    this.id = id;
    this.prefix = `dvrflow-${id}-`;
  }

  /** The namespace and host-side veth names of VM number `index`. */
  names(spec: VmSpec, index: number): { ns: string; hostIf: string } {
    const hostIf = `dv${this.id}-${index}`;
    if (hostIf.length > IFNAME_MAX) {
      throw new NetnsError(`veth name ${hostIf} is longer than ${IFNAME_MAX} characters`);
    }
    return { ns: `${this.prefix}vm-${nsPart(spec.name)}`, hostIf };
  }

  /** Creates the VM's namespace and veth; its frames go to `dir/vm-NAME.pcap` once the monitor runs. */
  async addVm(spec: VmSpec, index: number, dir: string): Promise<NetnsVm> {
    const { ip, ethtool, sysctl } = this.tools;
    const { ns, hostIf } = this.names(spec, index);
    if (this.removed) throw new NetnsError("the namespaces are being removed");
    // A leftover of an earlier process that had our pid: ours now.
    if ((await run(ip, ["netns", "list"])).stdout.split("\n").some((l) => l.split(" ")[0] === ns)) {
      await run(ip, ["netns", "del", ns]);
    }
    await run(ip, ["link", "del", hostIf]);
    await must(ip, ["netns", "add", ns]);
    this.namespaces.push(ns);
    const inNs = (cmd: string, ...args: string[]) => must(ip, ["netns", "exec", ns, cmd, ...args]);
    await must(ip, ["-n", ns, "link", "set", "lo", "up"]);
    // Links created in the namespace take its default IPv6 setting.
    await inNs(sysctl, "-qw", "net.ipv6.conf.default.disable_ipv6=1");
    await inNs(sysctl, "-qw", "net.ipv6.conf.all.disable_ipv6=1");
    await must(ip, ["link", "add", hostIf, "type", "veth", "peer", "name", VM_IFACE, "netns", ns]);
    this.links.push(hostIf);
    // Host end: no address, no IPv6, no offload (system-port.ts).
    await must(sysctl, ["-qw", `net.ipv6.conf.${hostIf}.disable_ipv6=1`]);
    await must(ethtool, ["-K", hostIf, "tx", "off"]);
    await must(ip, ["link", "set", hostIf, "up"]);
    // VM end: the port's MAC and address, default route via the gateway.
    await must(ip, ["-n", ns, "link", "set", VM_IFACE, "address", spec.mac]);
    await inNs(ethtool, "-K", VM_IFACE, "tx", "off");
    await must(ip, [
      "-n",
      ns,
      "addr",
      "add",
      `${ipv4ToString(spec.ip)}/${spec.subnet.prefix}`,
      "dev",
      VM_IFACE,
    ]);
    await must(ip, ["-n", ns, "link", "set", VM_IFACE, "up"]);
    if (spec.gateway !== undefined) {
      await must(ip, ["-n", ns, "route", "add", "default", "via", ipv4ToString(spec.gateway)]);
    }
    if (this.removed) {
      // Ctrl-C came while this one was being made, after remove() had run.
      this.removeSync();
      throw new NetnsError("the namespaces are being removed");
    }
    const vm = new NetnsVm(spec, ns, hostIf, join(dir, `vm-${nsPart(spec.name)}.pcap`), this.tools);
    this.vms.push(vm);
    return vm;
  }

  /**
   * Starts the monitor (a `dvrflow switch` with `command`) over every VM's
   * veth; await its `started()` before the cases.
   */
  startMonitor(dir: string, command: readonly string[]): SwitchChild {
    const ports: object[] = [];
    const flows: string[] = [];
    for (const [i, vm] of this.vms.entries()) {
      const n = monitorPorts(i);
      ports.push(
        { name: `v${i}`, type: "system", interface: vm.hostIf, ofport: n.veth },
        { name: `v${i}-cap`, type: "pcap", ofport: n.capture, tx_pcap: vm.captureFile },
      );
      flows.push(`in_port=${n.veth},actions=output:${n.capture}`);
    }
    const flowsFile = join(dir, "monitor.flows");
    writeFileSync(
      flowsFile,
      `# every frame seen on a VM's veth, to its capture\n${flows.join("\n")}\n`,
    );
    // No controller and fail_mode secure: nothing but these flows, nothing sent to a veth.
    const yaml = stringify(
      {
        bridges: [{ name: MONITOR_BRIDGE, fail_mode: "secure", flows: flowsFile, ports }],
      },
      { lineWidth: 0 },
    );
    const configFile = join(dir, "monitor.switch.yaml");
    writeFileSync(configFile, `# the VMs' veths, read by \`dvrflow demo --netns\`\n${yaml}`);
    const monitor = new SwitchChild(
      "monitor",
      { configFile, logFile: join(dir, "monitor.switch.log"), tunnels: new Map(), yaml },
      command,
    );
    this.monitor = monitor;
    return monitor;
  }

  /** Stops the monitor, deletes every namespace and veth (a namespace takes its veth pair along). */
  async remove(): Promise<void> {
    this.removed = true;
    await this.monitor?.stop();
    for (const ns of this.namespaces.splice(0)) await run(this.tools.ip, ["netns", "del", ns]);
    for (const l of this.links.splice(0)) await run(this.tools.ip, ["link", "del", l]);
  }

  /** {@link remove}, synchronously (the process `exit` handler cannot wait). */
  removeSync(): void {
    this.monitor?.killNow();
    for (const ns of this.namespaces.splice(0)) {
      spawnSync(this.tools.ip, ["netns", "del", ns], { stdio: "ignore" });
    }
    for (const l of this.links.splice(0)) {
      spawnSync(this.tools.ip, ["link", "del", l], { stdio: "ignore" });
    }
  }
}

/** `64 bytes from 203.0.113.11: icmp_seq=1 ttl=63 time=0.512 ms` */
const PING_REPLY = /\bttl=(\d+) time=([\d.]+) ms/;
/** How often to look at a capture file while waiting for a frame. */
const POLL_MS = 20;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A VM in a network namespace, driven with `ping`, read from the monitor's capture of its veth. */
export class NetnsVm implements DemoVm {
  readonly spec: VmSpec;
  readonly ns: string;
  readonly hostIf: string;
  readonly captureFile: string;
  /** Its host's switch opens the system port before it logs "switch started", which the demo waits for. */
  readonly attached: Promise<void> = Promise.resolve();
  private readonly got: Received[] = [];
  private readonly sent: Received[] = [];
  private answered = 0;
  private seen = 0;

  constructor(
    spec: VmSpec,
    ns: string,
    hostIf: string,
    captureFile: string,
    private readonly tools: NetnsTools,
  ) {
    this.spec = spec;
    this.ns = ns;
    this.hostIf = hostIf;
    this.captureFile = captureFile;
  }

  /** Frames the switch delivered to the VM (the capture, read up to now). */
  get received(): readonly Received[] {
    this.read();
    return this.got;
  }

  /** Echo requests the VM answered (the capture, read up to now). */
  get echoesAnswered(): number {
    this.read();
    return this.answered;
  }

  /** Reads the capture's new records. */
  private read(): void {
    let records;
    try {
      records = readPcapFile(this.captureFile).records;
    } catch {
      return; // not written yet, or a record being written now: next time
    }
    for (const rec of records.slice(this.seen)) {
      const bytes = rec.data.slice();
      const frame = readFrame(bytes);
      if (frame === undefined) continue;
      const r: Received = { at: rec.timeMs, bytes, frame };
      if (frame.src === this.spec.mac) {
        this.sent.push(r);
        if (isEchoReply(frame)) this.answered++;
      } else {
        this.got.push(r);
      }
    }
    this.seen = records.length;
  }

  /** The first received frame from index `from` on satisfying `pred`, waiting up to `ms`. */
  private async waitReceived(
    from: number,
    pred: (r: Received) => boolean,
    ms: number,
  ): Promise<Received | undefined> {
    const end = performance.now() + ms;
    for (;;) {
      const r = this.received.slice(from).find(pred);
      if (r !== undefined || performance.now() > end) return r;
      await sleep(POLL_MS);
    }
  }

  private ip(...args: string[]): Promise<string> {
    return must(this.tools.ip, ["-n", this.ns, ...args]);
  }

  async flushArp(): Promise<void> {
    await this.ip("neigh", "flush", "all");
  }

  /** The kernel's neighbour entry for `ip` (when the VM knew the MAC without asking). */
  private async neighbour(ip: number): Promise<string | undefined> {
    const text = await this.ip("neigh", "show", ipv4ToString(ip), "dev", VM_IFACE);
    return /lladdr ([0-9a-f:]{17})/.exec(text)?.[1];
  }

  async ping(dst: number, options: { dstMac?: string; count?: number } = {}): Promise<PingResult> {
    const forged = options.dstMac;
    const dstText = ipv4ToString(dst);
    const hopIp =
      forged !== undefined || inSubnet(dst, this.spec.subnet) || this.spec.gateway === undefined
        ? dst
        : this.spec.gateway;
    this.read();
    const sentMark = this.sent.length;
    const recvMark = this.got.length;
    if (forged !== undefined) {
      // Straight to `forged` instead of the gateway: an on-link route and a fixed neighbour.
      await this.ip("route", "replace", `${dstText}/32`, "dev", VM_IFACE);
      await this.ip(
        "neigh",
        "replace",
        dstText,
        "lladdr",
        forged,
        "dev",
        VM_IFACE,
        "nud",
        "permanent",
      );
    }
    const count = options.count ?? 3;
    let attempts = 0;
    let rttMs: number | undefined;
    try {
      while (attempts < count && rttMs === undefined) {
        attempts++;
        const r = await run(this.tools.ip, [
          "netns",
          "exec",
          this.ns,
          this.tools.ping,
          "-n",
          "-c",
          "1",
          "-W",
          String(PING_WAIT_S),
          dstText,
        ]);
        const m = PING_REPLY.exec(r.stdout);
        if (r.code === 0 && m !== null) rttMs = Number(m[2]);
        else if (r.code !== 1 && !/unreachable/i.test(r.stdout + r.stderr)) {
          // 1 is "no reply"; anything else is the command failing, not the network.
          throw new NetnsError(
            `ping ${dstText} in ${this.ns} failed (${r.code}): ${r.stderr.trim()}`,
          );
        }
      }
    } finally {
      if (forged !== undefined) {
        await run(this.tools.ip, ["-n", this.ns, "neigh", "del", dstText, "dev", VM_IFACE]);
        await run(this.tools.ip, ["-n", this.ns, "route", "del", `${dstText}/32`]);
      }
    }
    this.read();
    const isReply = (r: Received) =>
      isEchoReply(r.frame) && r.frame.ipv4!.src === dst && r.frame.dst === this.spec.mac;
    // ping has printed the reply; the capture may be a moment behind.
    const reply =
      rttMs === undefined
        ? undefined
        : await this.waitReceived(recvMark, isReply, CAPTURE_CATCH_UP_MS);
    const sent = this.sent.slice(sentMark);
    const requests = sent.filter((r) => isEchoRequest(r.frame) && r.frame.ipv4!.dst === dst);
    let arp: ArpResult | undefined;
    if (forged === undefined) {
      const asked = sent.filter((r) => isArpRequest(r.frame) && r.frame.arp!.tpa === hopIp).length;
      const answer = this.got
        .slice(recvMark)
        .find(
          (r) =>
            isArpReply(r.frame) && r.frame.arp!.spa === hopIp && r.frame.arp!.tha === this.spec.mac,
        );
      if (answer !== undefined) arp = { mac: answer.frame.arp!.sha, requests: Math.max(asked, 1) };
      else if (requests.length > 0) {
        // The kernel knew the MAC without asking (learnt from the peer's own ARP request).
        const mac = await this.neighbour(hopIp);
        if (mac !== undefined) arp = { mac, requests: 0 };
      }
    }
    return {
      ok: rttMs !== undefined,
      rttMs,
      nextHop: { ip: hopIp, mac: forged ?? arp?.mac, arp },
      request: requests[requests.length - 1]?.bytes,
      sent: attempts,
      reply,
    };
  }

  /** Nothing to close: the monitor process holds the capture. */
  close(): void {}
}
