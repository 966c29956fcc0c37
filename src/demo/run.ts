/**
 * `dvrflow demo`: the embedded DVR demo (what `npm start` runs).
 *
 * 1. The controller starts in this process, as `dvrflow run` starts it
 *    (startRun: in-memory store, OpenFlow on 127.0.0.1, REST API, metrics,
 *    all on free ports), with the bundled topology.
 * 2. One `dvrflow switch` child process per compute host (switches.ts):
 *    br-int + br-tun joined by patch ports, VXLAN over UDP between the
 *    hosts on loopback (127.0.0.x per host), each bridge dialling the
 *    controller over TCP. Their sync is shown as it happens.
 * 3. Simulated VMs (vm.ts) sit on the switches' `udp` ports and ARP and ping
 *    through the real flow tables, one case at a time (plan.ts); with
 *    `--netns` the VMs are network namespaces on veths, the switches' ports
 *    are `system` ports and the pings are real `ping` (netns.ts). For each
 *    case the demo prints the path in short trace form (replica.ts: the
 *    flows dumped from the switches, traced), the frame as the tunnel
 *    carried it (wire.ts: captured from the switches' tunnel ports) and as
 *    the receiving VM got it, and checks what DVR promises: replies where a
 *    router or a network joins the VMs and none across tenants, routed
 *    frames on the tunnel with the source host's DVR MAC and restored to
 *    the gateway MAC on arrival, TTL decremented once, no ARP on a tunnel.
 * 4. The end table; exit 0 when every case met its expectation, else 1 with
 *    the reasons. `--keep-running` leaves everything up and prints where.
 *
 * Every child is stopped, and every namespace and veth deleted, on exit,
 * failure, Ctrl-C or SIGTERM.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { openSwitch } from "../controller/client.js";
import { defaultOfports } from "../dvr/compile/index.js";
import type { BridgeName } from "../dvr/tables.js";
import type { Logger } from "../log.js";
import type { StoreSnapshot } from "../store/store.js";
import { formatIssue } from "../topology/issues.js";
import { loadTopologyFile } from "../topology/loader.js";
import { startRun, type RunningController } from "../cli/commands/run.js";
import { arpRequest, describeFrame, isEchoRequest } from "./frames.js";
import { macFromString } from "../../codec/packet/index.js";
import { planDemo, type DemoCase, type DemoPlan } from "./plan.js";
import { buildReplica, tracePath, type HostReplica, type PathTrace } from "./replica.js";
import { endTable, endedAt, formatHops, frameEdits, ip, progressBar } from "./report.js";
import type { CaseOutcome } from "./report.js";
import { NetnsLab, VM_IFACE, netnsPrerequisites, type NetnsTools } from "./netns.js";
import { SwitchChild, selfCommand, writeSwitchConfig, type VmAttachment } from "./switches.js";
import { SimVm, type DemoVm, type PingResult } from "./vm.js";
import { Wire, type WireFrame } from "./wire.js";

export interface DropFlow {
  readonly host: string;
  readonly bridge: BridgeName;
  /** ovs-ofctl match syntax (`table=1`, `table=41,ip`). */
  readonly match: string;
}

export interface DemoOptions {
  readonly config: string;
  readonly keepRunning: boolean;
  /** Flows to delete from the switches after the sync, behind the controller's back. */
  readonly dropFlows: readonly DropFlow[];
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Redraw a progress bar in place (a terminal). */
  readonly tty: boolean;
  /** argv that runs the dvrflow CLI (default: the command running now). */
  readonly switchCommand?: readonly string[];
  /** Seconds to wait for the switches to start and sync. */
  readonly syncTimeoutS?: number;
  /** VMs as network namespaces pinging for real (netns.ts; needs root). */
  readonly netns?: boolean;
}

const BRIDGES: readonly BridgeName[] = ["br-int", "br-tun"];

class DemoError extends Error {}

/** A free UDP port on every address (the VXLAN port all switches share). */
async function freeUdpPort(addresses: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = createSocket("udp4");
    const port = await new Promise<number>((resolve, reject) => {
      first.once("error", reject);
      first.bind(0, addresses[0], () => resolve(first.address().port));
    });
    const others = addresses.slice(1).map(() => createSocket("udp4"));
    const ok = await Promise.all(
      others.map(
        (s, i) =>
          new Promise<boolean>((resolve) => {
            s.once("error", () => resolve(false));
            s.bind(port, addresses[i + 1], () => resolve(true));
          }),
      ),
    );
    for (const s of [first, ...others]) {
      try {
        s.close();
      } catch {
        // never bound
      }
    }
    if (ok.every(Boolean)) return port;
  }
  throw new DemoError(`no UDP port free on all of ${addresses.join(", ")}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Everything the demo started, for cleanup. */
class Resources {
  controller: RunningController | undefined;
  switches: SwitchChild[] = [];
  vms: DemoVm[] = [];
  lab: NetnsLab | undefined;
  dir: string | undefined;
  private closing: Promise<void> | undefined;

  killNow(): void {
    for (const s of this.switches) s.killNow();
    this.lab?.removeSync();
  }

  /** Stops everything (once; later calls get the same promise). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.switches.map((s) => s.stop()));
      for (const v of this.vms) v.close();
      await this.lab?.remove();
      await this.controller?.close();
    })();
    return this.closing;
  }
}

/** Exit status after a signal, as a shell reports it (128 + number). */
const SIGNAL_STATUS: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

export async function runDemo(o: DemoOptions): Promise<number> {
  let tools: NetnsTools | undefined;
  if (o.netns === true) {
    // No fallback to simulated VMs: the user asked for real ones.
    const pre = netnsPrerequisites();
    if ("problem" in pre) {
      o.err(`dvrflow demo --netns: ${pre.problem}\n`);
      return 1;
    }
    tools = pre.tools;
  }
  const res = new Resources();
  const onExit = () => res.killNow();
  process.on("exit", onExit);
  let signalled: string | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled !== undefined) return;
    signalled = sig;
    o.err(
      `\ndvrflow demo: ${sig}, stopping the switches and the controller` +
        `${res.lab === undefined ? "" : `, deleting the namespaces ${res.lab.prefix}*`}\n`,
    );
    wake?.();
    // Whatever the demo was waiting for fails or times out once its children
    // are gone; should it not return soon after, leave anyway.
    void res.close().then(() => {
      setTimeout(() => process.exit(SIGNAL_STATUS[sig] ?? 1), 3000).unref();
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let code = 1;
  let keepDir = false;
  try {
    code = await demo(o, res, tools, (w) => (wake = w));
    keepDir = code !== 0 || o.keepRunning;
  } catch (e) {
    keepDir = true;
    code = 1;
    if (signalled === undefined) {
      const msg = e instanceof Error ? e.message : String(e);
      o.err(`dvrflow demo: ${msg}\n`);
      if (res.dir !== undefined) o.err(`(configs and logs kept in ${res.dir})\n`);
    }
  } finally {
    await res.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", onExit);
    if (signalled !== undefined) keepDir = false;
    if (!keepDir && res.dir !== undefined) rmSync(res.dir, { recursive: true, force: true });
  }
  return signalled === undefined ? code : (SIGNAL_STATUS[signalled] ?? 1);
}

async function demo(
  o: DemoOptions,
  res: Resources,
  tools: NetnsTools | undefined,
  setWake: (w: () => void) => void,
): Promise<number> {
  const out = o.out;
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

  // ---------------------------------------------------------------- topology and controller
  const { topology, warnings } = loadTopologyFile(o.config);
  for (const w of warnings) o.err(`${formatIssue(w, o.config)}\n`);
  const plan = planDemo(topology);
  res.dir = mkdtempSync(join(tmpdir(), "dvrflow-demo-"));
  const log: Logger = pino(
    { name: "dvrflow", level: process.env.DVRFLOW_LOG_LEVEL ?? "info" },
    pino.destination({ dest: join(res.dir, "controller.log"), sync: true }),
  );
  out(
    `dvrflow demo: distributed virtual routing (Neutron DVR) on ${plan.hosts.length} compute hosts\n` +
      `topology ${o.config}: ${count(plan.hosts.length, "host")}, ` +
      `${count(plan.index.networks.size, "network")}, ${count(plan.index.routers.length, "router")}, ` +
      `${count(plan.vms.length, "VM port")}\n\n`,
  );
  const ctl = await startRun({
    config: o.config,
    listen: [{ kind: "tcp", host: "127.0.0.1", port: 0 }],
    api: { host: "127.0.0.1", port: 0 },
    metrics: { host: "127.0.0.1", port: 0 },
    log,
  });
  res.controller = ctl;
  const ofTarget = ctl.listening[0]!;
  if (ofTarget.kind !== "tcp") throw new DemoError("the controller did not listen on TCP");
  const metricsAddr = ctl.metricsServer?.address();
  const metricsUrl =
    typeof metricsAddr === "object" && metricsAddr !== null
      ? `http://127.0.0.1:${metricsAddr.port}/metrics`
      : "(none)";
  const snap: StoreSnapshot = ctl.controller.snapshot;
  out(
    `controller  generation ${snap.generation}, in-memory store, OpenFlow tcp:127.0.0.1:${ofTarget.port}\n` +
      `            REST API ${ctl.apiUrl ?? "(none)"}   metrics ${metricsUrl}\n`,
  );
  if (plan.remapped.length > 0) {
    out(
      `            one machine plays every host: the VXLAN sockets of ${plan.remapped.join(", ")} ` +
        `sit on 127.0.0.x; their tunnel IPs still name the tunnel ports\n`,
    );
  }

  // ---------------------------------------------------------------- VMs and switches
  const vms = new Map<string, DemoVm>();
  const vmPorts = new Map<string, VmAttachment>();
  if (tools === undefined) {
    for (const [i, spec] of plan.vms.entries()) {
      const vm = new SimVm(spec, i);
      vms.set(spec.name, vm);
      res.vms.push(vm);
      vmPorts.set(spec.name, { kind: "udp", port: await vm.bind() });
    }
  } else {
    // The veths must exist before the switches open them as system ports.
    const lab = new NetnsLab(tools);
    res.lab = lab;
    out(`\nnamespaces  one network namespace per VM (${lab.prefix}vm-*), veth to br-int\n`);
    for (const [i, spec] of plan.vms.entries()) {
      const vm = await lab.addVm(spec, i, res.dir);
      vms.set(spec.name, vm);
      res.vms.push(vm);
      vmPorts.set(spec.name, { kind: "system", ifname: vm.hostIf });
      out(
        `  ${pad(spec.name, 10)} ${pad(vm.ns, lab.prefix.length + 14)} ` +
          `${VM_IFACE} ${spec.mac} ${ip(spec.ip)}/${spec.subnet.prefix}` +
          `${spec.gateway === undefined ? "" : ` via ${ip(spec.gateway)}`}   ` +
          `${spec.host} br-int ${spec.iface} = ${vm.hostIf}\n`,
      );
    }
  }
  const vxlanPort = await freeUdpPort(plan.hosts.map((h) => h.underlayIp));
  const launch = {
    command: o.switchCommand ?? selfCommand(),
    dir: res.dir,
    controllerPort: ofTarget.port,
    vxlanPort,
    vmPorts,
  };
  const wire = new Wire(vxlanPort);
  out(
    `\nswitches    one \`dvrflow switch\` process per host: br-int + br-tun (patch ports), ` +
      `VXLAN over UDP port ${vxlanPort} on loopback\n`,
  );
  for (const h of plan.hosts) {
    const layout = writeSwitchConfig(plan, snap, h, launch);
    for (const [, t] of layout.tunnels) wire.add(h.name, t.remote, t.capture);
    res.switches.push(new SwitchChild(h.name, layout, launch.command));
  }
  const monitor = res.lab?.startMonitor(res.dir, launch.command);
  const timeoutMs = (o.syncTimeoutS ?? 40) * 1000;
  // Each switch is shown as soon as it is up (their order varies).
  const listen = new Map<string, Record<BridgeName, number>>();
  const startOne = async (s: SwitchChild): Promise<void> => {
    await s.started();
    const ports = { "br-int": s.listenPort("br-int"), "br-tun": s.listenPort("br-tun") };
    listen.set(s.host, ports);
    const h = plan.hosts.find((x) => x.name === s.host)!;
    out(
      `  ${pad(s.host, 10)} pid ${pad(String(s.pid), 7)} underlay ${pad(h.underlayIp, 11)} ` +
        `DVR MAC ${snap.hostMacs.get(s.host)}   ` +
        `br-int ptcp:${ports["br-int"]}  br-tun ptcp:${ports["br-tun"]}  ` +
        `[${listen.size}/${plan.hosts.length}] ${elapsed()}\n`,
    );
  };
  await withTimeout(
    Promise.all([...res.switches.map(startOne), monitor?.started()]),
    timeoutMs,
    "the switch processes did not start",
  );
  if (monitor !== undefined) {
    out(
      `  ${pad("monitor", 10)} pid ${pad(String(monitor.pid), 7)} reads the VMs' veths into ` +
        `captures (the VMs' frames, both ways)  ${elapsed()}\n`,
    );
  }

  // ---------------------------------------------------------------- sync
  out(`\nsyncing     the controller compiles each host's flows and reconciles every bridge\n`);
  await waitSynced(o, ctl, plan, timeoutMs, elapsed);
  await withTimeout(
    Promise.all([...vms.values()].map((v) => v.attached)),
    timeoutMs,
    "the VM ports did not open on the switches",
  );

  // ---------------------------------------------------------------- sabotage (for tests)
  for (const d of o.dropFlows) {
    const ports = listen.get(d.host);
    if (ports === undefined) throw new DemoError(`--drop-flows: no host ${d.host}`);
    const n = await dropFlows(ports[d.bridge], d.match, log);
    out(
      `  !! deleted ${n} flow(s) matching "${d.match}" from ${d.host} ${d.bridge} (--drop-flows)\n`,
    );
  }

  // ---------------------------------------------------------------- replicas for the traces
  const replicas = new Map<string, HostReplica>();
  for (const h of plan.hosts) {
    const s = res.switches.find((x) => x.host === h.name)!;
    replicas.set(h.name, await buildReplica(h, s.layout.configFile, listen.get(h.name)!));
  }
  out(
    tools === undefined
      ? `\nVMs         ${plan.vms.length} simulated VMs on \`udp\` ports of br-int: ` +
          plan.vms.map((v) => `${v.name} ${ip(v.ip)}@${v.host}`).join(", ") +
          `\n`
      : `\nVMs         ${plan.vms.length} network namespaces on \`system\` ports of br-int, ` +
          `pinging with \`ping -c 1 -W 2\` (\`ip netns exec\`)\n`,
  );

  // ---------------------------------------------------------------- cases
  out(`\n${plan.cases.length} cases: each VM starts with an empty ARP cache\n`);
  const outcomes: CaseOutcome[] = [];
  for (const c of plan.cases) {
    outcomes.push(await runCase(o, c, plan, vms, replicas, wire, snap));
  }
  wire.take();
  const arpOnWire = wire.all.filter((f) => f.inner.arp !== undefined).length;
  const routedOnWire = wire.all.filter((f) => f.inner.ipv4 !== undefined);
  const gatewayMacs = new Set(
    plan.index.routers.flatMap((r) => r.interfaces.map((i) => i.macText)),
  );
  const gwOnWire = routedOnWire.filter((f) => gatewayMacs.has(f.inner.src)).length;

  out(`\n${endTable(outcomes)}\n\n`);
  out(
    `  hops: flow tables the request went through on every host (from the switches' own flows);\n` +
      `  tunnels carried ${wire.all.length} frames: ${arpOnWire} ARP (ARP is answered on each host), ` +
      `${gwOnWire} with a gateway MAC as source (routed frames carry the host's DVR MAC)\n`,
  );
  const failed = outcomes.filter((x) => !x.ok);
  const globalProblems: string[] = [];
  if (arpOnWire > 0) globalProblems.push(`${arpOnWire} ARP frame(s) crossed a tunnel`);
  if (gwOnWire > 0) globalProblems.push(`${gwOnWire} frame(s) left a host with a gateway MAC`);
  const ok = failed.length === 0 && globalProblems.length === 0;
  out(
    ok
      ? `\nall ${outcomes.length} cases as expected${blockedNote(outcomes)} in ${elapsed()}\n`
      : `\nFAILED: ${failed.length} of ${outcomes.length} cases not as expected\n`,
  );
  if (!ok) {
    const lines = [
      ...failed.map((f) => `  #${f.c.n} ${f.c.kind} ${f.c.label}: ${f.problems.join("; ")}`),
      ...globalProblems.map((p) => `  ${p}`),
    ];
    o.err(
      `dvrflow demo: DVR did not behave as expected:\n${lines.join("\n")}\n` +
        `(switch configs, logs and tunnel captures kept in ${res.dir})\n`,
    );
  }

  // ---------------------------------------------------------------- keep running
  if (o.keepRunning) {
    out(`\neverything stays up; Ctrl-C stops it\n`);
    out(`  REST API   ${ctl.apiUrl}   e.g. curl ${ctl.apiUrl}/v1/status\n`);
    out(`  metrics    ${metricsUrl}\n`);
    for (const h of plan.hosts) {
      const p = listen.get(h.name)!;
      for (const b of BRIDGES) {
        out(
          `  ${pad(h.name, 10)} ${b}  ovs-ofctl -O OpenFlow13 dump-flows tcp:127.0.0.1:${p[b]}\n`,
        );
      }
    }
    out(
      `  files      ${res.dir} (switch configs, logs, tunnel ` +
        `${res.lab === undefined ? "" : "and VM "}captures: tcpdump -r FILE)\n`,
    );
    const lab = res.lab;
    if (lab !== undefined) {
      out(`  VMs        network namespaces ${lab.prefix}vm-* (removed on Ctrl-C), e.g.\n`);
      const examples = plan.cases.flatMap((c) => {
        const from = lab.vms.find((v) => v.spec.name === c.from.name);
        if (from === undefined || c.dstMac !== undefined) return [];
        return [
          {
            command: `ip netns exec ${from.ns} ping ${ip(c.dstIp)}`,
            note: `${c.kind}: ${c.label}${c.expect === "blocked" ? " (blocked)" : ""}`,
          },
        ];
      });
      const width = Math.max(...examples.map((e) => e.command.length));
      for (const e of examples) out(`             ${pad(e.command, width)}  # ${e.note}\n`);
    }
    await new Promise<void>((resolve) => setWake(resolve));
  }
  return ok ? 0 : 1;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function blockedNote(outcomes: readonly CaseOutcome[]): string {
  const n = outcomes.filter((x) => x.c.expect === "blocked").length;
  return n === 0 ? "" : ` (${n} of them blocked, as they must be)`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new DemoError(`${what} within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

/** Shows each bridge connecting and syncing; resolves when every bridge holds its flows. */
async function waitSynced(
  o: DemoOptions,
  ctl: RunningController,
  plan: DemoPlan,
  timeoutMs: number,
  elapsed: () => string,
): Promise<void> {
  const total = plan.hosts.length * BRIDGES.length;
  const connected = new Set<string>();
  const synced = new Set<string>();
  const deadline = performance.now() + timeoutMs;
  let bar = "";
  const clearBar = () => {
    if (o.tty && bar !== "") o.out(`\r${" ".repeat(bar.length)}\r`);
    bar = "";
  };
  for (;;) {
    const st = ctl.controller.status();
    let installed = 0;
    let desired = 0;
    for (const h of plan.hosts) {
      for (const b of BRIDGES) {
        const s = st.hosts[h.name]?.[b];
        if (s === undefined) continue;
        const key = `${h.name} ${b}`;
        desired += s.flows_desired;
        installed += s.flows_installed ?? 0;
        if (s.connected && !connected.has(key)) {
          connected.add(key);
          clearBar();
          o.out(`  ${pad(key, 17)} connected    (${s.ports} ports)  ${elapsed()}\n`);
        }
        const done =
          s.connected &&
          s.synced_generation === st.generation &&
          s.flows_installed !== null &&
          s.flows_installed === s.flows_desired;
        if (done && !synced.has(key)) {
          synced.add(key);
          clearBar();
          const r = s.last_reconcile;
          o.out(
            `  ${pad(key, 17)} synced       ${String(s.flows_installed).padStart(4)} flows` +
              (r === null
                ? ""
                : ` (+${r.added} ~${r.modified} -${r.deleted} in ${r.ms.toFixed(0)} ms)`) +
              `  [${synced.size}/${total}]  ${elapsed()}\n`,
          );
        }
        if (!s.connected && synced.has(key)) synced.delete(key);
      }
    }
    if (synced.size === total) {
      clearBar();
      o.out(`  all ${total} bridges synced: ${installed} flows in ${elapsed()}\n`);
      return;
    }
    if (o.tty) {
      const text = `  ${progressBar(synced.size, total)} ${synced.size}/${total} bridges, ${installed}/${desired} flows`;
      o.out(`\r${text}`);
      bar = text;
    }
    if (performance.now() > deadline) {
      clearBar();
      const missing = plan.hosts
        .flatMap((h) => BRIDGES.map((b) => `${h.name} ${b}`))
        .filter((k) => !synced.has(k));
      throw new DemoError(
        `not every bridge synced within ${timeoutMs / 1000} s; missing: ${missing.join(", ")} ` +
          `(see the switch logs)`,
      );
    }
    await sleep(50);
  }
}

/** Deletes the flows matching `match` from the switch listening on `port` (ovs-ofctl del-flows). */
async function dropFlows(port: number, match: string, log: Logger): Promise<number> {
  const client = await openSwitch(
    { kind: "tcp", host: "127.0.0.1", port },
    log.child({ demo: "drop" }),
  );
  try {
    const before = (await client.conn.dumpFlows(0n, 0n)).length;
    const r = await client.conn.fenced([flowModMessage(parseFlow(match, { command: "delete" }))]);
    if (r.errors.length > 0) throw new DemoError(`--drop-flows ${match}: the switch refused it`);
    const after = (await client.conn.dumpFlows(0n, 0n)).length;
    return before - after;
  } finally {
    await client.close();
  }
}

/** Runs one case, prints its block, and judges it. */
async function runCase(
  o: DemoOptions,
  c: DemoCase,
  plan: DemoPlan,
  vms: ReadonlyMap<string, DemoVm>,
  replicas: ReadonlyMap<string, HostReplica>,
  wire: Wire,
  snap: StoreSnapshot,
): Promise<CaseOutcome> {
  const out = o.out;
  const from = vms.get(c.from.name)!;
  const to = c.to === undefined ? undefined : vms.get(c.to.name);
  for (const v of vms.values()) await v.flushArp();
  wire.take();
  const mark = new Map([...vms].map(([n, v]) => [n, v.received.length]));
  const where =
    c.to === undefined
      ? `on ${c.from.host}`
      : c.from.host === c.to.host
        ? `both on ${c.from.host}`
        : `${c.from.host} → ${c.to.host}`;
  out(
    `\n[${c.n}/${plan.cases.length}] ${c.kind}: ${c.label}  (${where}` +
      `${c.router === undefined ? "" : `, router ${c.router}`}; expected: ${c.expect === "reply" ? "reply" : "no reply"})\n`,
  );
  const ping: PingResult = await from.ping(c.dstIp, {
    ...(c.dstMac === undefined ? {} : { dstMac: c.dstMac }),
    count: c.expect === "blocked" ? 2 : 3,
  });
  // Let in-flight frames land (a blocked request must not turn up late).
  if (!ping.ok) await sleep(100);
  const frames = wire.take();
  const problems: string[] = [];

  // ARP.
  const hop = ping.nextHop;
  if (c.dstMac !== undefined) {
    out(
      `  ${pad("forged", 10)} ${c.from.name} sends straight to ${c.dstMac} (${c.router}'s gateway MAC)\n`,
    );
  } else if (hop.arp !== undefined) {
    // The same request the VM sent, traced: where on the host it was answered.
    const req = arpRequest({ sha: macFromString(c.from.mac), spa: c.from.ip, tpa: hop.ip });
    const t = tracePath(replicas, c.from.host, inPortOf(plan, c), req, undefined);
    const back = t.deliveries.some((d) => d.portName === c.from.iface);
    out(
      `  ${pad("arp", 10)} who-has ${ip(hop.ip)}: ${c.from.host} ${formatHops(t.segments[0]!.hops)}` +
        `${back ? " answers" : " →"} ${hop.arp.mac}` +
        `${hop.arp.requests > 1 ? ` (after ${hop.arp.requests} requests)` : ""}\n`,
    );
  } else {
    out(`  ${pad("arp", 10)} ${c.from.name} who-has ${ip(hop.ip)}: no answer\n`);
    if (c.expect === "reply") problems.push(`ARP for ${ip(hop.ip)} got no answer`);
  }
  const arpFrames = frames.filter((f) => f.inner.arp !== undefined);
  if (arpFrames.length > 0) problems.push(`${arpFrames.length} ARP frame(s) crossed a tunnel`);

  // The path, traced on the switches' flows.
  let trace: PathTrace | undefined;
  if (ping.request !== undefined) {
    trace = tracePath(replicas, c.from.host, inPortOf(plan, c), ping.request, c.to?.host);
    printTrace(o, trace, c, snap, frames);
  }

  // What arrived, for real.
  const requestsAtDst =
    to === undefined
      ? []
      : to.received
          .slice(mark.get(to.spec.name))
          .filter((r) => isEchoRequest(r.frame) && r.frame.ipv4!.src === c.from.ip);
  const arrived = requestsAtDst[0];
  if (to !== undefined && arrived !== undefined) {
    out(
      `  ${pad(to.spec.name, 10)} received ${describeFrame(arrived.frame)}` +
        `${to.echoesAnswered > 0 ? ", answered" : ""}\n`,
    );
  }
  if (ping.ok) {
    out(
      `  ${pad("reply", 10)} ${describeFrame(ping.reply!.frame)}  rtt ${ping.rttMs!.toFixed(2)} ms` +
        `${ping.sent > 1 ? ` (request ${ping.sent})` : ""}\n`,
    );
  } else if (ping.sent > 0) {
    out(`  ${pad("no reply", 10)} ${ping.sent} echo request(s) sent, nothing came back\n`);
  }

  // Judgement.
  if (c.expect === "reply") {
    if (!ping.ok) problems.push(`no echo reply (${ping.sent} requests sent)`);
    if (to !== undefined && arrived === undefined)
      problems.push(`${to.spec.name} never received the request`);
    if (arrived !== undefined) {
      const f = arrived.frame;
      const routed = c.arrivalGatewayMac !== undefined;
      const wantSrc = routed ? c.arrivalGatewayMac! : c.from.mac;
      const wantTtl = routed ? 63 : 64;
      if (f.src !== wantSrc)
        problems.push(
          `arrived with eth_src ${f.src}, expected ${wantSrc}${routed ? " (gateway MAC)" : ""}`,
        );
      if (f.ipv4!.ttl !== wantTtl)
        problems.push(`arrived with ttl ${f.ipv4!.ttl}, expected ${wantTtl}`);
    }
    if (c.to !== undefined && c.to.host !== c.from.host) {
      const req = requestOnWire(frames, c);
      const dvrMac = snap.hostMacs.get(c.from.host);
      if (req === undefined)
        problems.push(`the request was not seen on the tunnel to ${c.to.host}`);
      else if (c.kind === "cross-host routed" && req.inner.src !== dvrMac)
        problems.push(
          `on the tunnel the source MAC was ${req.inner.src}, expected ${c.from.host}'s DVR MAC ${dvrMac}`,
        );
      else if (c.kind === "cross-host switched" && req.inner.src !== c.from.mac)
        problems.push(
          `on the tunnel the source MAC was ${req.inner.src}, expected the VM's ${c.from.mac}`,
        );
    } else if (frames.some((f) => f.inner.ipv4 !== undefined && f.inner.ipv4.src === c.from.ip)) {
      problems.push("a same-host packet went onto a tunnel");
    }
    if (c.kind === "gateway" && ping.reply !== undefined) {
      const gw = plan.index.interfaceBySubnet;
      const mac = [...gw.values()].find((i) => i.ip === c.dstIp)?.macText;
      if (ping.reply.frame.src !== mac)
        problems.push(`the reply came from ${ping.reply.frame.src}, not the gateway MAC ${mac}`);
    }
  } else {
    if (ping.ok) problems.push(`got an echo reply from ${ip(c.dstIp)}: tenants are not isolated`);
    if (arrived !== undefined)
      problems.push(`${c.to!.name} received the request: tenants are not isolated`);
  }
  const verdict = problems.length === 0 ? "ok" : "FAIL";
  out(
    `  ${pad("=>", 10)} ${ping.ok ? "reply" : "no reply"}, ${c.expect === "reply" ? "expected" : "blocked as it must be"}: ${verdict}` +
      (problems.length > 0
        ? `\n${problems.map((p) => `  ${pad("", 10)} ! ${p}`).join("\n")}`
        : "") +
      "\n",
  );
  return {
    c,
    gotReply: ping.ok,
    ok: problems.length === 0,
    hops: trace?.hops,
    rttMs: ping.rttMs,
    problems,
  };
}

/** The case's echo request as a tunnel carried it. */
function requestOnWire(frames: readonly WireFrame[], c: DemoCase): WireFrame | undefined {
  return frames.find(
    (f) =>
      isEchoRequest(f.inner) && f.inner.ipv4!.src === c.from.ip && f.inner.ipv4!.dst === c.dstIp,
  );
}

/** The source VM's br-int port number (the plumbing numbering the switch configs use). */
function inPortOf(plan: DemoPlan, c: DemoCase): number {
  return defaultOfports(plan.index, c.from.host)["br-int"].get(c.from.iface)!;
}

/** The path block: per host the table hops and the edits, the tunnel as captured. */
function printTrace(
  o: DemoOptions,
  t: PathTrace,
  c: DemoCase,
  snap: StoreSnapshot,
  frames: readonly WireFrame[],
): void {
  const out = o.out;
  const src = t.segments[0]!;
  // Source host: hops, then what the source host did to the frame.
  const leaving = t.tunnel?.inner ?? t.deliveries.find((d) => d.host === src.host)?.frame;
  const edits = leaving === undefined ? [] : frameEdits(src.input, leaving);
  const dvrMac = snap.hostMacs.get(src.host);
  const note = edits.map((e) =>
    e.startsWith("eth_src") && leaving?.src === dvrMac ? `${e} (${src.host}'s DVR MAC)` : e,
  );
  const local = t.deliveries.find((d) => d.host === src.host);
  const fate =
    t.tunnel !== undefined
      ? `→ tunnel ${t.tunnel.port} to ${t.tunnel.to}, vni ${t.tunnel.vni}`
      : local !== undefined
        ? local.portName === c.from.iface
          ? `→ back out of ${local.portName}`
          : `→ ${local.portName}`
        : t.toController
          ? "→ controller"
          : endedAt(src);
  out(`  ${pad(src.host, 10)} ${formatHops(src.hops)}  ${fate}\n`);
  if (note.length > 0) out(`  ${pad("", 10)} ${note.join(", ")}\n`);
  // The tunnel, as captured on the wire.
  const onWire = requestOnWire(frames, c);
  if (onWire !== undefined) {
    const dvrNote =
      onWire.inner.src === snap.hostMacs.get(onWire.from)
        ? `  source = ${onWire.from}'s DVR MAC`
        : "";
    out(
      `  ${pad("tunnel", 10)} ${onWire.outerSrc} → ${onWire.outerDst} vni ${onWire.vni}: ` +
        `${onWire.inner.src} → ${onWire.inner.dst}${dvrNote}\n`,
    );
  } else if (t.tunnel !== undefined) {
    out(`  ${pad("tunnel", 10)} (nothing captured on the tunnel to ${t.tunnel.to})\n`);
  }
  // Destination host.
  const dst = t.segments[1];
  if (dst !== undefined) {
    const d = t.deliveries.find((x) => x.host === dst.host);
    const edits2 = d === undefined ? [] : frameEdits(dst.input, d.frame);
    const gw = c.arrivalGatewayMac;
    const note2 = edits2.map((e) =>
      e.startsWith("eth_src") && gw !== undefined && d?.frame.src === gw
        ? `${e} (gateway MAC of ${c.router} restored)`
        : e,
    );
    const fate2 = d !== undefined ? `→ ${d.portName}` : endedAt(dst);
    out(`  ${pad(dst.host, 10)} ${formatHops(dst.hops)}  ${fate2}\n`);
    if (note2.length > 0) out(`  ${pad("", 10)} ${note2.join(", ")}\n`);
  }
}
