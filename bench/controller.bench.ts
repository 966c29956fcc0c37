/**
 * Controller benchmarks (issue 5):
 *
 *  1. Compile: `compileAll` over a generated 100 hosts × 50 networks × 2,000
 *     ports topology with routers (bench/topology-gen.ts, seeded): time, flow
 *     count, heap; and the per-host compile the way the controller calls it
 *     (`compileHost` without the precomputed networks-per-host map).
 *  2. Flow-mods generated per second: desired flows → FLOW_MOD bytes
 *     (`toFlowMod` + `encodeMessage`), and the whole send path of a full
 *     install (`reconcileBridge` over a real `Connection`: diff, bundle
 *     wrapping, xid tracking, batching, barrier) into an in-memory switch
 *     that absorbs everything (bench/sink-switch.ts). Anchors: os-ken
 *     13.5k/s; target ≥ 500k/s.
 *  3. Against real Open vSwitch (a private instance, bench/ovs-bridge.ts),
 *     on one netdev bridge holding 10k and 100k compiled flows
 *     (bench/bridge-set.ts): resync with nothing to change against
 *     `ovs-ofctl replace-flows`, full install into an empty bridge against
 *     `ovs-ofctl --bundle add-flows`. Ours is `reconcileBridge` over one
 *     OpenFlow connection to the bridge's management socket (the path
 *     `dvrflow diff-flows` uses; the controller runs the same function over
 *     the connection OVS opens to it, after its own handshake). Rounds
 *     interleave ours and the anchor on the same bridge; every run checks
 *     the bridge's flow count afterwards, the first install is compared with
 *     `ovs-ofctl diff-flows`. Targets ≤ 1.2× the tool. The same resync is
 *     also run against the in-memory switch, to separate our cost from OVS's.
 *
 * Figures are medians over the rounds (wall time; CPU time where only our
 * process works). Performance goals are reported, never asserted: only a
 * wrong result (a flow count, a non-empty diff) stops the bench.
 *
 * Run: `node --expose-gc --import tsx bench/controller.bench.ts [--quick]
 *       [--no-benny] [--no-ovs] [compile|flowmods|ovs …]` (npm run bench:controller)
 */
import b from "benny";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { encodeMessage } from "../codec/message.js";
import type { FlowStats } from "../codec/messages/multipart-flow.js";
import { openSwitch } from "../src/controller/client.js";
import { reconcileBridge, type ReconcileResult } from "../src/controller/reconcile.js";
import { compileAll, compileHost, type HostFlows } from "../src/dvr/compile/index.js";
import { formatDesiredFlow, toFlowMod, type DesiredFlow } from "../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../src/dvr/offline.js";
import { bridgeFlowSet } from "./bridge-set.js";
import { BenchBridge, ovsDaemonsAvailable } from "./ovs-bridge.js";
import { SinkSwitch } from "./sink-switch.js";
import { calibrationProbe, median, timeIt } from "./timing.js";
import { COOKIE_PREFIX, generateTopology, ISSUE5_SHAPE } from "./topology-gen.js";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const BENNY = !args.includes("--no-benny");
const OVS = !args.includes("--no-ovs");
const only = args.filter((a) => !a.startsWith("-"));
const wanted = (section: string): boolean => only.length === 0 || only.includes(section);

/** shared/docs/performance.md §8 (OVS 3.1 netdev bridge, this machine type). */
const ANCHOR = {
  /** `ovs-ofctl replace-flows` with nothing to change, seconds. */
  replaceFlows: new Map([
    [10_000, 0.07],
    [100_000, 0.65],
  ]),
  /** `ovs-ofctl --bundle add-flows` into an empty bridge, seconds. */
  bundleAddFlows: new Map([
    [10_000, 0.06],
    [100_000, 0.65],
  ]),
  /** os-ken: FLOW_MODs generated to a switch until the barrier. */
  osKenFlowModsPerSecond: 13_500,
} as const;
const TARGET = { ratio: 1.2, flowModsPerSecond: 500_000 } as const;
const BRIDGE_SIZES = [10_000, 100_000] as const;
/** Hosts whose compiled bridges section 2 encodes and installs. */
const FLOWMOD_HOSTS = 10;
const silent = pino({ level: "silent" });

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const heapMb = (): number => process.memoryUsage().heapUsed / 1e6;
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" / ");
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const perSecond = (units: number, ms: number): number => (units * 1000) / ms;

function msSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** One line of the closing table. */
interface Row {
  readonly what: string;
  readonly ours: string;
  readonly anchor: string;
  readonly ratio: string;
  readonly target: string;
}
const rows: Row[] = [];

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench result is wrong: ${what}`);
}

// ---------------------------------------------------------------------------
// 1. Compile
// ---------------------------------------------------------------------------

async function benchCompile(): Promise<HostFlows[]> {
  console.log(
    `\n## 1. Compile: ${ISSUE5_SHAPE.hosts} hosts × ${ISSUE5_SHAPE.networks} networks × ${fmt(ISSUE5_SHAPE.ports)} ports`,
  );
  let t0 = process.hrtime.bigint();
  const topology = generateTopology(ISSUE5_SHAPE);
  console.log(
    `topology generated and validated in ${fmt(msSince(t0))} ms: ${Object.keys(topology.routers).length} routers`,
  );
  t0 = process.hrtime.bigint();
  const input = compileInputFromSnapshot(await offlineSnapshot(topology));
  console.log(`offline store snapshot (host MACs, local VLANs) in ${fmt(msSince(t0))} ms`);

  const runs = QUICK ? 1 : 3;
  const wall: number[] = [];
  const cpu: number[] = [];
  const heap: number[] = [];
  let hosts: HostFlows[] = [];
  for (let r = 0; r < runs; r++) {
    hosts = [];
    gc();
    const before = heapMb();
    const t = timeIt(1, () => (hosts = compileAll(input)).length);
    gc();
    heap.push(heapMb() - before);
    wall.push(t.wall / 1e6);
    cpu.push(t.cpu / 1e6);
    console.log(
      `  run ${r + 1}: ${fmt(t.wall / 1e6)} ms wall, ${fmt(t.cpu / 1e6)} ms CPU, heap +${fmt(heap[r]!)} MB (load ${load()})`,
    );
  }
  let brInt = 0;
  let brTun = 0;
  let most = 0;
  for (const h of hosts) {
    brInt += h.bridges["br-int"].length;
    brTun += h.bridges["br-tun"].length;
    most = Math.max(most, h.bridges["br-int"].length + h.bridges["br-tun"].length);
  }
  const flows = brInt + brTun;
  const ms = median(wall);
  console.log(
    `compileAll: ${fmt(flows)} flows (br-int ${fmt(brInt)}, br-tun ${fmt(brTun)}; ` +
      `${fmt(flows / hosts.length)} per host, at most ${fmt(most)}), ` +
      `median ${fmt(ms)} ms wall / ${fmt(median(cpu))} ms CPU = ${fmt(ms / hosts.length, 1)} ms per host, ` +
      `${fmt(perSecond(flows, ms))} flows/s; heap held by the result ${fmt(median(heap))} MB ` +
      `(${fmt((median(heap) * 1e6) / flows)} B/flow)`,
  );
  rows.push({
    what: `compileAll ${ISSUE5_SHAPE.hosts}×${ISSUE5_SHAPE.networks}×${ISSUE5_SHAPE.ports} (${fmt(flows)} flows)`,
    ours:
      `${fmt(ms / 1000, 1)} s wall / ${fmt(median(cpu) / 1000, 1)} s CPU ` +
      `(${fmt(perSecond(flows, median(cpu)))} flows per CPU second), heap ${fmt(median(heap))} MB`,
    anchor: "—",
    ratio: "—",
    target: "—",
  });

  // The controller compiles one host per bridge reconcile, without
  // compileAll's networks-per-host map (controller.ts compileWithMissing).
  const sample = hosts.filter((_, i) => i % (QUICK ? 25 : 10) === 0).map((h) => h.host);
  const perHost: number[] = [];
  for (const host of sample) {
    const t = timeIt(1, () => compileHost(input, host).bridges["br-int"].length);
    perHost.push(t.wall / 1e6);
  }
  console.log(
    `compileHost as the controller calls it: median ${fmt(median(perHost))} ms per host ` +
      `(${sample.length} hosts sampled; compileAll's share: ${fmt(ms / hosts.length)} ms)`,
  );
  rows.push({
    what: "compileHost, one host, as the controller calls it",
    ours: `${fmt(median(perHost))} ms (${fmt(flows / hosts.length)} flows)`,
    anchor: "—",
    ratio: "—",
    target: "—",
  });
  // Only what section 2 uses stays alive: a heap of 800k flows would make
  // every later measurement pay for major GCs.
  return hosts.slice(0, FLOWMOD_HOSTS);
}

// ---------------------------------------------------------------------------
// 2. Flow-mods generated per second
// ---------------------------------------------------------------------------

async function benchFlowMods(hosts: readonly HostFlows[]): Promise<void> {
  const bridges = hosts
    .slice(0, FLOWMOD_HOSTS)
    .flatMap((h) => [h.bridges["br-int"], h.bridges["br-tun"]] as const);
  const flows = bridges.flat();
  console.log(
    `\n## 2. Flow-mods generated: ${fmt(flows.length)} desired flows (br-int and br-tun of ${hosts.length} hosts)`,
  );
  const rounds = QUICK ? 3 : 7;

  // a. The encoding alone: toFlowMod + encodeMessage, as diffMessages and the codec do it.
  const encode: number[] = [];
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    // The compile of section 1 leaves ~800 MB of garbage; collect it first,
    // or process.cpuUsage() bills the collector's threads to the encoder.
    gc();
    const t = timeIt(flows.length, () => {
      let n = 0;
      for (const f of flows) n += encodeMessage(toFlowMod(f)).length;
      return n;
    });
    bytes = t.result;
    encode.push(t.cpu);
  }
  const encodeRate = 1e9 / median(encode);
  console.log(
    `toFlowMod + encodeMessage: ${fmt(median(encode))} ns/flow CPU = ${fmt(encodeRate)} FLOW_MODs/s ` +
      `(${fmt(bytes / flows.length)} B each)`,
  );
  rows.push({
    what: "FLOW_MODs encoded/s (toFlowMod + encodeMessage), per CPU second",
    ours: fmt(encodeRate),
    anchor: `os-ken ${fmt(ANCHOR.osKenFlowModsPerSecond)}`,
    ratio: `${fmt(encodeRate / ANCHOR.osKenFlowModsPerSecond)}× os-ken`,
    target: verdict(encodeRate >= TARGET.flowModsPerSecond, `≥ ${fmt(TARGET.flowModsPerSecond)}`),
  });

  // b. A full install of every bridge through reconcileBridge and a real
  //    Connection, into the in-memory switch: what the controller can
  //    generate, with nothing downstream slowing it.
  const sink = new SinkSwitch();
  const conn = await sink.ready();
  const send: number[] = [];
  const sendCpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    sink.flowMods = 0;
    gc();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const desired of bridges) {
      const res = await reconcileBridge(conn, desired, {
        cookiePrefix: COOKIE_PREFIX,
        bundleSupport: { supported: undefined },
      });
      check(res.usedBundle && res.errors.length === 0, "sink install used a bundle, no errors");
    }
    send.push(msSince(t0));
    const c = process.cpuUsage(c0);
    sendCpu.push((c.user + c.system) / 1000);
    check(sink.flowMods === flows.length, `sink absorbed ${sink.flowMods} of ${flows.length}`);
  }
  const sendRate = perSecond(flows.length, median(send));
  // On a shared box the wall figure measures the scheduler as much as us;
  // per CPU second is what one dedicated core would do.
  const sendCpuRate = perSecond(flows.length, median(sendCpu));
  console.log(
    `full install through reconcileBridge + Connection into an in-memory switch: median ${fmt(median(send))} ms wall ` +
      `(${fmt(median(sendCpu))} ms CPU) for ${bridges.length} bridges = ${fmt(sendRate)} FLOW_MODs/s ` +
      `(${fmt(sendCpuRate)}/s per CPU second)`,
  );
  rows.push({
    what: "FLOW_MODs generated/s, full reconcile send path (in-memory switch), per CPU second",
    ours: `${fmt(sendCpuRate)} (wall: ${fmt(sendRate)})`,
    anchor: `os-ken ${fmt(ANCHOR.osKenFlowModsPerSecond)}`,
    ratio: `${fmt(sendCpuRate / ANCHOR.osKenFlowModsPerSecond)}× os-ken`,
    target: verdict(sendCpuRate >= TARGET.flowModsPerSecond, `≥ ${fmt(TARGET.flowModsPerSecond)}`),
  });

  if (BENNY) {
    let i = 0;
    let sinkBytes = 0;
    await b.suite(
      "controller flow-mods",
      b.add("toFlowMod + encodeMessage (one compiled flow)", () => {
        sinkBytes += encodeMessage(toFlowMod(flows[i++ % flows.length]!)).length;
      }),
      b.cycle(),
      b.complete((summary) => {
        for (const r of summary.results) {
          console.log(`benny: ${r.name}: ${fmt(r.ops)} ops/s (±${r.margin}%)`);
        }
        if (sinkBytes === 0.5) console.log(sinkBytes);
      }),
    );
  }
}

function verdict(met: boolean, target: string): string {
  return `${target}: ${met ? "met" : "**missed**"}`;
}

// ---------------------------------------------------------------------------
// 3. Resync and full install against real OVS
// ---------------------------------------------------------------------------

/** A desired flow as an installed flow, for the in-memory switch's dump. */
function asInstalled(f: DesiredFlow): FlowStats {
  return {
    tableId: f.table.id,
    durationSec: 0,
    durationNsec: 0,
    priority: f.priority,
    idleTimeout: 0,
    hardTimeout: 0,
    flags: 0,
    cookie: f.cookie,
    packetCount: 0n,
    byteCount: 0n,
    match: f.match,
    instructions: f.instructions,
  };
}

/** The resync of an unchanged bridge against the in-memory switch: our cost alone. */
async function sinkResync(
  desired: readonly DesiredFlow[],
  rounds: number,
): Promise<{ wall: number; cpu: number }> {
  const sink = new SinkSwitch();
  sink.install(desired.map(asInstalled));
  const conn = await sink.ready();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    gc();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const res = await reconcileBridge(conn, desired, { cookiePrefix: COOKIE_PREFIX });
    wall.push(msSince(t0));
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    check(
      res.diff.unchanged === desired.length && sink.flowMods === 0,
      "in-memory resync changed nothing",
    );
  }
  return { wall: median(wall), cpu: median(cpu) };
}

interface OvsRound {
  anchorInstall: number;
  anchorResync: number;
  oursInstall: number;
  oursResync: number;
  oursResyncCpu: number;
  handshake: number;
}

async function oursReconcile(
  br: BenchBridge,
  desired: readonly DesiredFlow[],
): Promise<{ ms: number; cpu: number; handshake: number; result: ReconcileResult }> {
  const t0 = process.hrtime.bigint();
  const client = await openSwitch({ kind: "unix", path: br.mgmtPath }, silent);
  const handshake = msSince(t0);
  try {
    gc();
    const c0 = process.cpuUsage();
    const t1 = process.hrtime.bigint();
    const result = await reconcileBridge(client.conn, desired, {
      cookiePrefix: COOKIE_PREFIX,
      bundleSupport: { supported: undefined },
    });
    const ms = msSince(t1);
    const c = process.cpuUsage(c0);
    return { ms, cpu: (c.user + c.system) / 1000, handshake, result };
  } finally {
    await client.close();
  }
}

async function benchOvsBridge(size: number, rounds: number, withOvs: boolean): Promise<void> {
  let t0 = process.hrtime.bigint();
  const set = await bridgeFlowSet(size);
  const desired = set.flows;
  console.log(
    `\n### ${fmt(size)} flows: br-int of compute-000 (${set.shape.hosts} hosts, ${set.shape.networks} networks, ` +
      `${fmt(set.shape.ports)} ports; ${fmt(set.compiled)} compiled, first ${fmt(size)} kept), built in ${fmt(msSince(t0))} ms`,
  );

  const mem = await sinkResync(desired, QUICK ? 3 : 5);
  console.log(
    `resync against the in-memory switch (dump decode + diff, no OVS): ${fmt(mem.wall)} ms wall, ${fmt(mem.cpu)} ms CPU`,
  );

  if (!withOvs) return;
  t0 = process.hrtime.bigint();
  const br = await BenchBridge.start();
  console.log(`private OVS started in ${fmt(msSince(t0))} ms (${br.dir})`);
  try {
    const file = join(br.dir, `flows-${size}.txt`);
    writeFileSync(file, desired.map((f) => `${formatDesiredFlow(f)}\n`).join(""));
    const out: OvsRound[] = [];
    for (let r = 0; r < rounds; r++) {
      const round: Partial<OvsRound> = {};
      const anchorInstall = (): void => {
        br.clear();
        check(br.flowCount() === 0, "bridge empty before add-flows");
        round.anchorInstall = br.ofctl("add-flows", [file], ["--bundle"]).ms;
        check(br.flowCount() === size, `add-flows installed ${size} flows`);
      };
      const anchorResync = (): void => {
        round.anchorResync = br.ofctl("replace-flows", [file]).ms;
        check(br.flowCount() === size, `replace-flows kept ${size} flows`);
      };
      const oursResync = async (): Promise<void> => {
        const o = await oursReconcile(br, desired);
        const s = o.result.sent;
        check(
          s.add + s.modify + s.delete === 0 && o.result.diff.unchanged === size,
          `resync found nothing to change (sent +${s.add} ~${s.modify} -${s.delete})`,
        );
        check(br.flowCount() === size, `resync kept ${size} flows`);
        round.oursResync = o.ms;
        round.oursResyncCpu = o.cpu;
        round.handshake = o.handshake;
      };
      const oursInstall = async (): Promise<void> => {
        br.clear();
        check(br.flowCount() === 0, "bridge empty before our install");
        const o = await oursReconcile(br, desired);
        check(
          o.result.usedBundle && o.result.errors.length === 0 && o.result.sent.add === size,
          `install sent ${size} adds in one bundle without errors`,
        );
        check(br.flowCount() === size, `our install left ${size} flows`);
        if (r === 0) {
          // The bridge holds exactly what the tool installs from the same text.
          check(br.ofctl("diff-flows", [file]).stdout === "", "diff-flows after our install");
        }
        round.oursInstall = o.ms;
      };
      // Alternate who goes first, so neither side always meets a freshly
      // cleared bridge or a warm one.
      if (r % 2 === 0) {
        anchorInstall();
        anchorResync();
        await oursResync();
        await oursInstall();
      } else {
        await oursInstall();
        await oursResync();
        anchorResync();
        anchorInstall();
      }
      out.push(round as OvsRound);
      console.log(
        `  round ${r + 1}: install ovs-ofctl ${fmt(round.anchorInstall!)} / ours ${fmt(round.oursInstall!)} ms; ` +
          `resync ovs-ofctl ${fmt(round.anchorResync!)} / ours ${fmt(round.oursResync!)} ms ` +
          `(${fmt(round.oursResyncCpu!)} ms CPU; handshake ${fmt(round.handshake!, 1)} ms) (load ${load()})`,
      );
    }
    const m = (k: keyof OvsRound): number => median(out.map((x) => x[k]));
    const ratioResync = m("oursResync") / m("anchorResync");
    const ratioInstall = m("oursInstall") / m("anchorInstall");
    console.log(
      `medians of ${rounds}: resync ours ${fmt(m("oursResync"))} ms vs replace-flows ${fmt(m("anchorResync"))} ms = ${ratioResync.toFixed(2)}×; ` +
        `install ours ${fmt(m("oursInstall"))} ms vs --bundle add-flows ${fmt(m("anchorInstall"))} ms = ${ratioInstall.toFixed(2)}×; ` +
        `FLOW_MODs to OVS until the barrier: ${fmt(perSecond(size, m("oursInstall")))}/s`,
    );
    rows.push(
      {
        what: `resync, ${fmt(size)} flows, nothing to change (in-memory switch: ${fmt(mem.wall)} ms)`,
        ours: `${fmt(m("oursResync"))} ms`,
        anchor: `replace-flows ${fmt(m("anchorResync"))} ms (doc ${ANCHOR.replaceFlows.get(size)! * 1000} ms)`,
        ratio: `${ratioResync.toFixed(2)}×`,
        target: verdict(ratioResync <= TARGET.ratio, `≤ ${TARGET.ratio}×`),
      },
      {
        what: `full install, ${fmt(size)} flows, empty bridge`,
        ours: `${fmt(m("oursInstall"))} ms (${fmt(perSecond(size, m("oursInstall")))} FLOW_MODs/s)`,
        anchor: `--bundle add-flows ${fmt(m("anchorInstall"))} ms (doc ${ANCHOR.bundleAddFlows.get(size)! * 1000} ms)`,
        ratio: `${ratioInstall.toFixed(2)}×`,
        target: verdict(ratioInstall <= TARGET.ratio, `≤ ${TARGET.ratio}×`),
      },
    );
  } finally {
    br.stop();
  }
}

async function benchOvs(): Promise<void> {
  console.log("\n## 3. Resync and full install against Open vSwitch");
  const withOvs = OVS && ovsDaemonsAvailable();
  if (OVS && !withOvs) {
    console.log(
      "\n!!!!! SKIPPED: the Open vSwitch daemons (ovsdb-server, ovs-vswitchd, ovs-vsctl, ovs-ofctl) " +
        "are not installed: no resync/install figures against OVS in this run. !!!!!\n",
    );
    rows.push({
      what: "resync / full install against OVS",
      ours: "SKIPPED (no OVS)",
      anchor: "—",
      ratio: "—",
      target: "—",
    });
  }
  for (const size of BRIDGE_SIZES) await benchOvsBridge(size, QUICK ? 2 : 5, withOvs);
}

// ---------------------------------------------------------------------------

console.log(
  `# Controller bench (${QUICK ? "quick" : "full"}), node ${process.version}, load average ${load()}`,
);
console.log(`calibration probe (performance.md §3.5): ${calibrationProbe().toFixed(1)} ns`);
let compiled: HostFlows[] = [];
if (wanted("compile") || wanted("flowmods")) compiled = await benchCompile();
gc();
if (wanted("flowmods")) await benchFlowMods(compiled);
compiled = [];
if (wanted("ovs")) await benchOvs();

console.log(`\n## Results (load average at the end ${load()})\n`);
console.log("| what | ours | anchor | ratio | target |\n|---|---|---|---|---|");
for (const r of rows)
  console.log(`| ${r.what} | ${r.ours} | ${r.anchor} | ${r.ratio} | ${r.target} |`);
