/**
 * One worker of the datapath bench's multi-worker case: its own switch
 * (a per-worker copy of the compiled tables and caches, nothing shared but
 * the read-only frame ring in a SharedArrayBuffer), the frames of its shard
 * (5-tuple hash modulo the number of workers, as RSS would spread them
 * over queues), processed in batches for `seconds`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PacketBatch } from "../datapath/batch.js";
import { RING_HEADROOM, RING_SLOT, dvrSwitch } from "./dvr-setup.js";
import { shardOf } from "./shard.js";

interface Init {
  index: number;
  shards: number;
  n: number;
  data: Uint8Array;
  port: Int32Array;
  len: Int32Array;
  start: Int32Array;
  seconds: number;
  batch: number;
}

const init = workerData as Init;
const { data, port, len } = init;
const s = dvrSwitch();
const mine: number[] = [];
for (let i = 0; i < init.n; i++) {
  if (shardOf(data, i * RING_SLOT + RING_HEADROOM, len[i]!, init.shards) === init.index)
    mine.push(i);
}
// The shard's frames are received in batches: each step copies the next
// `batch` frames of the shard from the shared ring into the worker's own
// PacketBatch (the NIC's DMA into packet buffers), then processes them.
const B = init.batch;
const batch = new PacketBatch(B, RING_SLOT, RING_HEADROOM);
const idx = Int32Array.from(mine);
// One view per ring frame (the RX descriptors), made once.
const views: Uint8Array[] = [];
for (let i = 0; i < init.n; i++) {
  const o = i * RING_SLOT + RING_HEADROOM;
  views.push(data.subarray(o, o + len[i]!));
}
const { dp, br } = s;
const run = (rounds: number): number => {
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < idx.length; i += B) {
      batch.clear();
      const end = Math.min(idx.length, i + B);
      for (let j = i; j < end; j++) {
        const f = idx[j]!;
        batch.add(port[f]!, views[f]!);
      }
      dp.receiveBatch(br, batch, 0);
      n += end - i;
    }
  }
  return n;
};
run(4); // warm-up
Atomics.add(init.start, 0, 1);
while (Atomics.load(init.start, 0) < init.shards) {
  /* wait for the other workers: measure the same interval */
}
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let packets = 0;
const deadline = init.seconds * 1e9;
while (Number(process.hrtime.bigint() - t0) < deadline) packets += run(1);
const wallNs = Number(process.hrtime.bigint() - t0);
const c = process.cpuUsage(c0);
parentPort!.postMessage({
  packets,
  wallNs,
  cpuNs: (c.user + c.system) * 1000,
  sent: s.sink.packets,
});
