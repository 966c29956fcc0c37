/**
 * The whole DVR pipeline from raw frames (issue 4 §6; performance.md §5
 * goals P1–P4, §4.4 "pipeline level"): the table set of
 * shared/dvr-bench/flows.txt in one bridge with ports 1–8, its packet mix
 * (bench/dvr-mix.ts: 60% east-west UDP, 35% routed, 5% ARP broadcast; 2,048
 * distinct 5-tuples), frames in a preallocated ring, in process.
 *
 * Run: `node --expose-gc --import tsx bench/datapath.bench.ts [--quick] [--no-benny] [--no-workers]`
 *
 * Cases (CPU time per packet, median of the runs; Mpps = 1000 / ns):
 *  - caches on, `receive()` one frame at a time (the exact-match + megaflow caches);
 *  - caches on, `receiveBatch()` (batches of BATCH frames processed in place);
 *  - caches off (every packet walks 3–5 tables), one at a time and batched;
 *  - miss path (P4): every packet a cache miss → table walk → megaflow install;
 *  - 2 workers (P2): worker_threads, each with its own switch (per-worker
 *    copy of the compiled tables), frames sharded by 5-tuple hash over a
 *    SharedArrayBuffer ring; aggregate Mpps over wall time;
 *  - memory: process RSS with 100,000 flows in one table of the switch.
 * Each run also prints the calibration probe of performance.md §3.5.
 */
import b from "benny";
import { Worker } from "node:worker_threads";
import { flowModMessage, parseFlow } from "../codec/text/flow.js";
import { PacketBatch } from "../datapath/batch.js";
import { Datapath } from "../datapath/datapath.js";
import { N_PORTS, distinctPackets, dvrPackets } from "./dvr-mix.js";
import {
  RING_HEADROOM,
  RING_SLOT,
  buildRing,
  dvrSwitch,
  type DvrSwitch,
  type Ring,
} from "./dvr-setup.js";
import { calibrationProbe, median, timeIt } from "./timing.js";

const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const BENNY = !args.includes("--no-benny");
const WORKERS = !args.includes("--no-workers");
const RUNS = QUICK ? 3 : 7;
/** Packets in the ring (a power of two; 8 ports interleaved). */
const RING = 1 << 16;
const PASSES = QUICK ? 4 : 16;
/** Frames per receiveBatch call. */
const BATCH = Number(args.find((a) => a.startsWith("--batch="))?.slice(8) ?? 64);

interface Figure {
  readonly name: string;
  readonly cpu: number;
  readonly wall: number;
}

const figures: Figure[] = [];

function report(name: string, t: { cpu: number; wall: number }): void {
  figures.push({ name, cpu: t.cpu, wall: t.wall });
  console.log(
    `${name.padEnd(44)} ${t.cpu.toFixed(1).padStart(7)} ns/pkt cpu ${(1e3 / t.cpu).toFixed(2).padStart(6)} Mpps   (wall ${t.wall.toFixed(1)} ns)`,
  );
}

/** `receive()` of every ring frame, `passes` times. */
function runSingle(s: DvrSwitch, ring: Ring, passes: number): number {
  const { dp, br } = s;
  const frames = ring.frames;
  const port = ring.port;
  const n = ring.n;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < n; i++) dp.receive(br, port[i]!, frames[i]!, 0);
  }
  return s.sink.packets;
}

/**
 * `receiveBatch()` over the ring: each step copies the next BATCH raw frames
 * from the ring into the batch (what a NIC's DMA into packet buffers does;
 * counted in the figure: one memcpy per frame) and processes them in place.
 */
function runBatch(s: DvrSwitch, ring: Ring, passes: number, batch: PacketBatch): number {
  const { dp, br } = s;
  const frames = ring.frames;
  const port = ring.port;
  const n = ring.n;
  const B = batch.capacity;
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < n; i += B) {
      batch.clear();
      const end = Math.min(n, i + B);
      for (let j = i; j < end; j++) batch.add(port[j]!, frames[j]!);
      dp.receiveBatch(br, batch, 0);
    }
  }
  return s.sink.packets;
}

function measure(name: string, units: number, fn: () => number): void {
  fn(); // warm-up
  const cpus: number[] = [];
  const walls: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = timeIt(units, fn);
    cpus.push(t.cpu);
    walls.push(t.wall);
  }
  report(name, { cpu: median(cpus), wall: median(walls) });
}

function singleCases(ring: Ring): void {
  const on = dvrSwitch();
  measure("caches on, receive() per frame", ring.n * PASSES, () => runSingle(on, ring, PASSES));
  const onB = dvrSwitch();
  const batch = new PacketBatch(BATCH, RING_SLOT, RING_HEADROOM);
  measure(`caches on, receiveBatch(${BATCH})`, ring.n * PASSES, () =>
    runBatch(onB, ring, PASSES, batch),
  );
  const off = dvrSwitch({ cache: false });
  measure("caches off, receive() per frame", ring.n * 2, () => runSingle(off, ring, 2));
  const offB = dvrSwitch({ cache: false });
  measure(`caches off, receiveBatch(${BATCH})`, ring.n * 2, () => runBatch(offB, ring, 2, batch));
  const c = onB.dp.cache!;
  console.log(
    `  megaflows: ${c.count} in ${c.subtableCount} subtables; hits ${c.hits.toLocaleString("en")}, misses ${c.misses}`,
  );
}

/**
 * P4: a stream of packets that each need a new megaflow (bench/dvr-mix.ts
 * distinctPackets): miss, walk 4–5 tables with recording, compile, install.
 * Each run starts from a fresh switch (its cache empty), so every packet
 * misses.
 */
function missPath(): void {
  const n = QUICK ? 20_000 : 50_000;
  const ring = buildRing(distinctPackets(n));
  const cpus: number[] = [];
  const walls: number[] = [];
  let s = dvrSwitch();
  for (let r = 0; r <= RUNS; r++) {
    s = dvrSwitch(); // outside the timing
    const { dp, br } = s;
    const t = timeIt(n, () => {
      for (let i = 0; i < n; i++) dp.receive(br, ring.port[i]!, ring.frames[i]!, 0);
      return s.sink.packets;
    });
    if (r === 0) continue; // warm-up
    cpus.push(t.cpu);
    walls.push(t.wall);
  }
  report("miss path (new flow: walk + install)", { cpu: median(cpus), wall: median(walls) });
  const c = s.dp.cache!;
  console.log(
    `  ${c.misses.toLocaleString("en")} misses of ${n.toLocaleString("en")} packets; ${c.count.toLocaleString("en")} megaflows in ${c.subtableCount} subtables`,
  );
}

/** RSS with 100,000 flows in one table (DVR-shaped: table 60 dl_vlan + dl_dst → pop_vlan, output). */
function memory(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const dp = new Datapath();
  const br = dp.addBridge({ name: "br-mem" });
  for (let p = 1; p <= N_PORTS; p++) br.addPort({ kind: "sink", name: `vm${p}`, ofport: p });
  const N = 100_000;
  const hex = (v: number): string => v.toString(16).padStart(2, "0");
  const t = timeIt(N, () => {
    for (let i = 0; i < N; i++) {
      const mac = `fa:16:3e:${hex((i >> 16) & 0xff)}:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;
      const line = `table=60,priority=3,dl_vlan=${1 + (i % 4000)},dl_dst=${mac},actions=pop_vlan,output:${1 + (i % N_PORTS)}`;
      br.flowMod(flowModMessage(parseFlow(line, { command: "add" })), 0);
    }
    return br.flowCount;
  });
  gc?.();
  const after = process.memoryUsage();
  const mb = (x: number): string => (x / 2 ** 20).toFixed(0);
  console.log(
    `100,000 flows in one table: RSS ${mb(after.rss)} MB for the process (${mb(before.rss)} MB before), ` +
      `heap +${mb(after.heapUsed - before.heapUsed)} MB; add-flow (parse + flow-mod) ${Math.round(1e9 / t.wall).toLocaleString("en")}/s` +
      `${gc ? "" : " [run with --expose-gc]"}`,
  );
}

/** P2: two workers, each its own switch, sharded by 5-tuple hash over a shared ring. */
async function twoWorkers(ring: Ring, nWorkers: number): Promise<void> {
  const seconds = QUICK ? 1.5 : 4;
  const workers: Worker[] = [];
  const done: Promise<{ packets: number; cpuNs: number; wallNs: number }>[] = [];
  const start = new Int32Array(new SharedArrayBuffer(4));
  for (let w = 0; w < nWorkers; w++) {
    // Workers do not inherit the tsx loader: the bootstrap registers it, then loads the worker.
    const boot =
      `import { register } from "tsx/esm/api"; register(); ` +
      `await import(${JSON.stringify(new URL("./datapath-worker.ts", import.meta.url).href)});`;
    const worker = new Worker(boot, {
      eval: true,
      workerData: {
        index: w,
        shards: nWorkers,
        n: ring.n,
        data: ring.data,
        port: ring.port,
        len: ring.len,
        start,
        seconds,
        batch: BATCH,
      },
    });
    workers.push(worker);
    done.push(
      new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      }),
    );
  }
  const results = await Promise.all(done);
  for (const w of workers) await w.terminate();
  let packets = 0;
  let wall = 0;
  // process.cpuUsage() in a worker is the whole process's: over the common interval
  // (the main thread waits) it is the CPU all workers got together.
  let processCpu = 0;
  for (const r of results) {
    packets += r.packets;
    wall = Math.max(wall, r.wallNs);
    processCpu = Math.max(processCpu, r.cpuNs);
  }
  const mpps = (packets / wall) * 1e3;
  const cores = processCpu / wall;
  console.log(
    `${nWorkers} worker(s), receiveBatch, sharded by 5-tuple hash: ${mpps.toFixed(2)} Mpps aggregate ` +
      `(${packets.toLocaleString("en")} packets in ${(wall / 1e9).toFixed(2)} s; per worker ` +
      results.map((r) => `${((r.packets / r.wallNs) * 1e3).toFixed(2)}`).join(" + ") +
      ` Mpps; the workers got ${cores.toFixed(2)} cores of CPU time, ${(processCpu / packets).toFixed(1)} ns CPU/packet)`,
  );
  figures.push({
    name: `${nWorkers} worker(s), aggregate (wall)`,
    cpu: 1e3 / mpps,
    wall: 1e3 / mpps,
  });
}

async function bennySuite(ring: Ring): Promise<void> {
  const on = dvrSwitch();
  const onB = dvrSwitch();
  const off = dvrSwitch({ cache: false });
  const batch = new PacketBatch(BATCH, RING_SLOT, RING_HEADROOM);
  const UNIT = 8192;
  const sub: Ring = { ...ring, n: UNIT };
  await b.suite(
    "datapath (DVR mix)",
    b.add(`caches on, receiveBatch(${BATCH}) (${UNIT} packets/op)`, () => {
      runBatch(onB, sub, 1, batch);
    }),
    b.add(`caches on, receive() (${UNIT} packets/op)`, () => {
      runSingle(on, sub, 1);
    }),
    b.add(`caches off, receive() (${UNIT} packets/op)`, () => {
      runSingle(off, sub, 1);
    }),
    b.cycle(),
    b.complete((summary) => {
      console.log("\n| benny case | ops/s | Mpps | ns/packet |\n|---|---|---|---|");
      for (const r of summary.results) {
        const pps = r.ops * UNIT;
        console.log(
          `| ${r.name} | ${Math.round(r.ops).toLocaleString("en")} | ${(pps / 1e6).toFixed(2)} | ${(1e9 / pps).toFixed(1)} |`,
        );
      }
    }),
  );
}

// ---------------------------------------------------------------------------

console.log(`node ${process.version}, ${RUNS} runs per case${QUICK ? " (quick)" : ""}`);
memory();
const calib = calibrationProbe();
console.log(
  `calibration probe (§3.5, 1k entries, Int32Array open addressing): ${calib.toFixed(2)} ns/probe (doc: 9.8 ns)\n`,
);
const ring = buildRing(dvrPackets(RING), true);
singleCases(ring);
missPath();
if (WORKERS) {
  await twoWorkers(ring, 1);
  await twoWorkers(ring, 2);
}
console.log("\n| case | ns/packet (cpu) | Mpps | ÷ calib |\n|---|---|---|---|");
for (const f of figures) {
  console.log(
    `| ${f.name} | ${f.cpu.toFixed(1)} | ${(1e3 / f.cpu).toFixed(2)} | ${(f.cpu / calib).toFixed(1)} |`,
  );
}
console.log("");
if (BENNY) await bennySuite(ring);
