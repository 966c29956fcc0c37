/**
 * Codec throughput: decode and encode of FLOW_MOD, PACKET_IN and a 100-flow
 * multipart FLOW reply (messages/s and MB/s), and frame parse into a flow key
 * (ns/packet). Run: `npm run bench -- codec` (or `node --import tsx bench/codec.bench.ts`).
 *
 * Anchors on this machine type (shared/docs/performance.md §8, codec.md): os-ken
 * parses 24k FLOW_MODs/s, builds+serializes 16k/s and parses a 100-flow stats reply
 * at 30k flows/s; `ovs-ofctl ofp-parse` (C, decode + print) does 366k FLOW_MODs/s.
 * Targets: ≥ 2M FLOW_MOD decodes/s, ≥ 1M encodes/s, ≥ 1M flows/s out of stats replies.
 */
import b from "benny";
import { decodeMessage, encodeMessage, type OfMessage } from "../codec/index.js";
import {
  FlowKey,
  buildUdp,
  ipv4FromString,
  macFromString,
  parseFrame,
} from "../codec/packet/index.js";
import { hex, mbPerSecond } from "./support.js";

// `ovs-ofctl -O OpenFlow13 -mmmmm parse-flows` of a Neutron br-int DVR_TO_SRC_MAC flow:
// table=1,priority=4,dl_vlan=2,dl_src=fa:16:3e:11:22:33,
//   actions=mod_dl_src:fa:16:3f:00:00:01,resubmit(,60)
const DVR_FLOW_MOD = hex(`
  04 0e 00 70 00 00 00 01 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 04
  ff ff ff ff ff ff ff ff ff ff ff ff 00 00 00 00
  00 01 00 14 80 00 08 06 fa 16 3e 11 22 33 80 00
  0c 02 10 02 00 00 00 00 00 04 00 28 00 00 00 00
  00 19 00 10 80 00 08 06 fa 16 3f 00 00 01 00 00
  ff ff 00 10 00 00 23 20 00 0e ff f8 3c 00 00 00`);

// The same tool on Neutron's br-tun table 10 learn flow (the heaviest DVR flow).
const LEARN_FLOW_MOD = hex(`
  04 0e 00 b0 00 00 00 02 00 00 00 00 00 00 00 00
  00 00 00 00 00 00 00 00 0a 00 00 00 00 00 00 01
  ff ff ff ff ff ff ff ff ff ff ff ff 00 00 00 00
  00 01 00 04 00 00 00 00 00 04 00 78 00 00 00 00
  ff ff 00 60 00 00 23 20 00 10 00 00 01 2c 00 01
  00 00 00 00 00 00 12 34 00 00 14 00 00 00 00 00
  00 0c 00 00 08 02 00 00 00 00 08 02 00 00 00 30
  00 00 04 06 00 00 00 00 02 06 00 00 28 10 00 00
  00 00 08 02 00 00 08 40 00 01 20 08 00 00 00 01
  20 08 00 00 10 20 80 00 00 04 00 00 00 00 00 00
  00 00 00 10 00 00 00 01 00 00 00 00 00 00 00 00`);

const frame = buildUdp({
  eth: { src: macFromString("fa:16:3e:00:00:01"), dst: macFromString("fa:16:3e:00:00:02") },
  ip: {
    kind: "ipv4",
    src: ipv4FromString("198.51.100.11"),
    dst: ipv4FromString("198.51.100.12"),
    ttl: 64,
  },
  srcPort: 40000,
  dstPort: 5001,
  payload: new Uint8Array(18),
});

const flowMod = decodeMessage(DVR_FLOW_MOD);
if (flowMod.type !== "flow_mod") throw new Error("bench vector is not a FLOW_MOD");

const packetIn: OfMessage = {
  type: "packet_in",
  xid: 0,
  bufferId: 0xffffffff,
  totalLen: frame.length,
  reason: 1,
  tableId: 0,
  cookie: 0x1234n,
  match: flowMod.match,
  data: frame,
};
const PACKET_IN = encodeMessage(packetIn);

const FLOWS_PER_REPLY = 100;
const flowReply: OfMessage = {
  type: "multipart_reply",
  xid: 7,
  flags: 0,
  body: {
    kind: "flow",
    entries: Array.from({ length: FLOWS_PER_REPLY }, (_, i) => ({
      tableId: 1,
      durationSec: i,
      durationNsec: 0,
      priority: 4,
      idleTimeout: 0,
      hardTimeout: 0,
      flags: 0,
      cookie: BigInt(i),
      packetCount: 10n,
      byteCount: 1000n,
      match: flowMod.match,
      instructions: flowMod.instructions,
    })),
  },
};
const FLOW_REPLY = encodeMessage(flowReply);
const learnMod = decodeMessage(LEARN_FLOW_MOD);
const key = new FlowKey();

let sink = 0;
const cases: Array<{ name: string; bytes: number; units: number; fn: () => void }> = [
  {
    name: "decode FLOW_MOD (DVR, 112 B)",
    bytes: DVR_FLOW_MOD.length,
    units: 1,
    fn: () => {
      sink += decodeMessage(DVR_FLOW_MOD).xid;
    },
  },
  {
    name: "encode FLOW_MOD (DVR, 112 B)",
    bytes: DVR_FLOW_MOD.length,
    units: 1,
    fn: () => {
      sink += encodeMessage(flowMod).length;
    },
  },
  {
    name: "decode FLOW_MOD (learn, 176 B)",
    bytes: LEARN_FLOW_MOD.length,
    units: 1,
    fn: () => {
      sink += decodeMessage(LEARN_FLOW_MOD).xid;
    },
  },
  {
    name: "encode FLOW_MOD (learn, 176 B)",
    bytes: LEARN_FLOW_MOD.length,
    units: 1,
    fn: () => {
      sink += encodeMessage(learnMod).length;
    },
  },
  {
    name: `decode PACKET_IN (${PACKET_IN.length} B)`,
    bytes: PACKET_IN.length,
    units: 1,
    fn: () => {
      sink += decodeMessage(PACKET_IN).xid;
    },
  },
  {
    name: `encode PACKET_IN (${PACKET_IN.length} B)`,
    bytes: PACKET_IN.length,
    units: 1,
    fn: () => {
      sink += encodeMessage(packetIn).length;
    },
  },
  {
    name: `decode FLOW reply (${FLOWS_PER_REPLY} flows, ${FLOW_REPLY.length} B)`,
    bytes: FLOW_REPLY.length,
    units: FLOWS_PER_REPLY,
    fn: () => {
      sink += decodeMessage(FLOW_REPLY).xid;
    },
  },
  {
    name: `encode FLOW reply (${FLOWS_PER_REPLY} flows)`,
    bytes: FLOW_REPLY.length,
    units: FLOWS_PER_REPLY,
    fn: () => {
      sink += encodeMessage(flowReply).length;
    },
  },
  {
    name: `parse frame into flow key (UDP, ${frame.length} B)`,
    bytes: frame.length,
    units: 1,
    fn: () => {
      sink += parseFrame(frame, key);
    },
  },
];

const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const selected = cases.filter((c) => only.length === 0 || only.some((o) => c.name.includes(o)));

await b.suite(
  "codec",
  ...selected.map((c) => b.add(c.name, c.fn)),
  b.cycle(),
  b.complete((summary) => {
    console.log("\n| case | ops/s | ns/op | MB/s | units/s |\n|---|---|---|---|---|");
    for (const r of summary.results) {
      const c = selected.find((x) => x.name === r.name)!;
      const ns = 1e9 / r.ops;
      console.log(
        `| ${r.name} | ${Math.round(r.ops).toLocaleString("en")} | ${ns.toFixed(0)} | ${mbPerSecond(r.ops, c.bytes)} | ${Math.round(r.ops * c.units).toLocaleString("en")} |`,
      );
    }
    if (sink === 0.5) console.log(sink);
  }),
);
