/**
 * Differential test of `ofpPrint` against `ovs-ofctl ofp-parse` (OVS 3.1):
 * seeded, generated messages of every type whose text must match OVS
 * exactly — HELLO, ECHO, BARRIER, FEATURES_REPLY, PORT_STATUS, PACKET_IN,
 * PACKET_OUT, FLOW_REMOVED, FLOW_MOD, ERROR, GET_CONFIG_REPLY/SET_CONFIG,
 * ROLE, and the DESC / FLOW / AGGREGATE / PORT_DESC multipart messages — are
 * encoded with codec/message.ts and printed by both sides. The shared Ryu
 * OF1.3 vectors of those types are checked the same way.
 */
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeMessage, type OfMessage } from "../../codec/message.js";
import { ofpPrint } from "../../codec/text/ofp-print.js";
import { parseFlow, flowModMessage } from "../../codec/text/flow.js";
import { flowArb } from "./flow-arbitrary.js";
import { ovsAvailable, ovsOfpParse, ovsOfpPrintOne } from "./ovs-harness.js";
import { SHARED } from "../shared-path.js";

const HAVE_OVS = ovsAvailable();
if (!HAVE_OVS) {
  console.warn(
    "SKIPPING test/ovs/ofp-print.test.ts: ovs-ofctl (Open vSwitch 3.1) is not installed; apt-get install openvswitch-switch",
  );
}
const itOvs = HAVE_OVS ? it : it.skip;
const SEED = Number(process.env.DVRFLOW_SEED ?? 20261201);
const PER_KIND = 150;

/** Flows OVS accepts, to borrow matches and instruction lists from. */
function sampleFlows(n: number, seed: number): ReturnType<typeof parseFlow>[] {
  const out: ReturnType<typeof parseFlow>[] = [];
  for (const f of fc.sample(flowArb(), { seed, numRuns: n * 2 })) {
    try {
      out.push(parseFlow(f.text));
    } catch {
      // refused flows are not material here
    }
    if (out.length === n) break;
  }
  return out;
}

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

/** Ethernet frames of the kinds a DVR switch sends to its controller. */
const frameArb: fc.Arbitrary<Uint8Array> = (() => {
  const bytes = (n: number): fc.Arbitrary<number[]> =>
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n });
  const eth = fc.tuple(
    bytes(6),
    bytes(6),
    fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
  );
  const ipv4 = (proto: number, l4: fc.Arbitrary<number[]>): fc.Arbitrary<number[]> =>
    fc
      .tuple(
        bytes(8),
        fc.integer({ min: 0, max: 255 }),
        bytes(8),
        fc.constantFrom(0, 0x4000, 0x2000, 0x0010),
        l4,
      )
      .map(([ids, tos, addrs, frag, body]) => [
        0x45,
        tos,
        0,
        20 + body.length,
        ids[0]!,
        ids[1]!,
        frag >> 8,
        frag & 0xff,
        ids[2]!,
        proto,
        0,
        0,
        ...addrs,
        ...body,
      ]);
  const ipv6 = (proto: number, l4: fc.Arbitrary<number[]>): fc.Arbitrary<number[]> =>
    fc
      .tuple(bytes(3), bytes(32), fc.integer({ min: 1, max: 255 }), l4)
      .map(([vtc, addrs, hop, body]) => [
        0x60 | (vtc[0]! & 0xf),
        vtc[1]!,
        vtc[2]!,
        0,
        0,
        body.length,
        proto,
        hop,
        ...addrs,
        ...body,
      ]);
  const payload = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 24 });
  const tcp = fc.tuple(bytes(20), payload).map(([h, p]) => [...h, ...p]);
  const udp = fc.tuple(bytes(8), payload).map(([h, p]) => [...h, ...p]);
  const icmp = fc.tuple(bytes(8), payload).map(([h, p]) => [...h, ...p]);
  const nd = fc
    .tuple(fc.constantFrom(135, 136), bytes(22), fc.boolean(), bytes(6))
    .map(([t, rest, opt, ll]) => [t, 0, ...rest, ...(opt ? [t === 135 ? 1 : 2, 1, ...ll] : [])]);
  const arp = fc
    .tuple(fc.integer({ min: 1, max: 2 }), bytes(20))
    .map(([op, rest]) => [0, 1, 8, 0, 6, 4, 0, op, ...rest]);
  const l3 = fc.oneof(
    arp.map((b) => [0x08, 0x06, ...b]),
    ipv4(6, tcp).map((b) => [0x08, 0x00, ...b]),
    ipv4(17, udp).map((b) => [0x08, 0x00, ...b]),
    ipv4(1, icmp).map((b) => [0x08, 0x00, ...b]),
    ipv6(6, tcp).map((b) => [0x86, 0xdd, ...b]),
    ipv6(58, fc.oneof(icmp, nd)).map((b) => [0x86, 0xdd, ...b]),
    payload.map((b) => [0x88, 0xcc, ...b]),
  );
  return fc.tuple(eth, l3, fc.boolean()).map(([[dst, src, vlan], rest, runt]) => {
    const tag = vlan === undefined ? [] : [0x81, 0x00, vlan >> 8, vlan & 0xff];
    const frame = [...dst, ...src, ...tag, ...rest];
    return Uint8Array.from(runt ? frame.slice(0, 10) : frame);
  });
})();

/** Generated messages of the exactly-printed kinds. */
function messages(seed: number): OfMessage[] {
  const flows = sampleFlows(PER_KIND, seed);
  const frames = fc.sample(frameArb, { seed, numRuns: PER_KIND });
  const rnd = fc.sample(
    fc.record({
      u32: fc.integer({ min: 0, max: 0xffffffff }),
      u16: fc.integer({ min: 0, max: 0xffff }),
      u8: fc.integer({ min: 0, max: 0xff }),
      u64: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      data: fc.uint8Array({ maxLength: 40 }),
      name: fc.stringMatching(/^[a-z][a-z0-9-]{0,14}$/),
    }),
    { seed, numRuns: PER_KIND },
  );
  const out: OfMessage[] = [];
  let xid = 1;
  for (let i = 0; i < PER_KIND; i++) {
    const r = rnd[i]!;
    const f = flows[i % flows.length]!;
    const frame = frames[i]!;
    const port = {
      portNo: i % 3 === 0 ? 0xfffffffe : (r.u16 % 0xff00) + 1,
      hwAddr: Uint8Array.from(
        r.data.slice(0, 6).length === 6 ? r.data.slice(0, 6) : [2, 0, 0, 0, 0, i & 0xff],
      ),
      name: r.name,
      config: r.u32 & 0x65,
      state: r.u8 & 7,
      curr: r.u32 & 0xffff,
      advertised: (r.u32 >>> 8) & 0xffff,
      supported: r.u16,
      peer: i % 2 === 0 ? 0 : r.u16 ^ 0x5555,
      currSpeed: r.u32 % 100_000_000,
      maxSpeed: (r.u32 >>> 3) % 100_000_000,
    };
    out.push(
      {
        type: "hello",
        xid: xid++,
        elements: [{ kind: "versionbitmap", bitmaps: [(r.u32 | 0x10) & ~1 & 0x7e] }],
      },
      { type: "echo_request", xid: xid++, data: r.data },
      { type: "echo_reply", xid: xid++, data: r.data.slice(0, i % 7) },
      { type: "barrier_request", xid: xid++ },
      { type: "barrier_reply", xid: xid++ },
      {
        type: "features_reply",
        xid: xid++,
        datapathId: r.u64,
        nBuffers: r.u32,
        nTables: r.u8,
        auxiliaryId: i % 4 === 0 ? r.u8 : 0,
        capabilities: r.u32 & 0x16f,
        reserved: 0,
      },
      { type: "get_config_reply", xid: xid++, flags: r.u8 & 3, missSendLen: r.u16 },
      { type: "set_config", xid: xid++, flags: r.u8 & 3, missSendLen: r.u16 },
      { type: "port_status", xid: xid++, reason: i % 3, port },
      {
        type: "packet_in",
        xid: xid++,
        bufferId: i % 5 === 0 ? r.u32 : 0xffffffff,
        totalLen: i % 6 === 0 ? frame.length + 10 : frame.length,
        reason: i % 3,
        tableId: r.u8,
        cookie: i % 4 === 0 ? 0xffffffffffffffffn : r.u64,
        match: f.match,
        data: frame,
      },
      {
        type: "packet_out",
        xid: xid++,
        bufferId: 0xffffffff,
        inPort: i % 2 === 0 ? 0xfffffffd : (r.u16 % 100) + 1,
        actions: [{ type: "output", port: (r.u16 % 100) + 1, maxLen: 0 }],
        data: frame,
      },
      {
        type: "flow_removed",
        xid: xid++,
        cookie: i % 3 === 0 ? 0n : r.u64,
        priority: r.u16,
        reason: i % 4,
        tableId: i % 5 === 0 ? 255 : r.u8 % 255,
        durationSec: r.u32,
        durationNsec: [0, 5_000_000, 123_456_789, 1][i % 4]!,
        idleTimeout: r.u16,
        hardTimeout: i % 2 === 0 ? 0 : r.u16 ^ 1,
        packetCount: r.u64 >> 3n,
        byteCount: r.u64 >> 1n,
        match: f.match,
      },
      flowModMessage(f, xid++),
      {
        type: "multipart_reply",
        xid: xid++,
        flags: i % 5 === 0 ? 1 : 0,
        body: {
          kind: "flow",
          entries: [f, flows[(i + 1) % flows.length]!].map((g, k) => ({
            tableId: g.tableId,
            durationSec: r.u32 >>> k,
            durationNsec: k === 0 ? 0 : 1_500_000,
            priority: g.priority,
            idleTimeout: g.idleTimeout,
            hardTimeout: g.hardTimeout,
            flags: g.flags,
            cookie: g.cookie,
            packetCount: r.u64 >> 20n,
            byteCount: r.u64 >> 10n,
            match: g.match,
            instructions: g.instructions,
          })),
        },
      },
      {
        type: "multipart_reply",
        xid: xid++,
        flags: 0,
        body: { kind: "port_desc", entries: [port, { ...port, portNo: 1 }] },
      },
      {
        type: "multipart_reply",
        xid: xid++,
        flags: 0,
        body: { kind: "aggregate", packetCount: r.u64, byteCount: r.u64 >> 7n, flowCount: r.u32 },
      },
      {
        type: "multipart_reply",
        xid: xid++,
        flags: 0,
        body: {
          kind: "desc",
          mfrDesc: r.name,
          hwDesc: "hw",
          swDesc: `sw ${i}`,
          serialNum: "",
          dpDesc: r.name.toUpperCase(),
        },
      },
      { type: "multipart_request", xid: xid++, flags: 0, body: { kind: "port_desc" } },
      {
        type: "multipart_request",
        xid: xid++,
        flags: 0,
        body: {
          kind: "flow",
          tableId: i % 2 === 0 ? 0xff : f.tableId,
          outPort: 0xffffffff,
          outGroup: 0xffffffff,
          cookie: 0n,
          cookieMask: 0n,
          match: f.match,
        },
      },
      { type: "role_request", xid: xid++, role: i % 4, generationId: r.u64 },
    );
  }
  return out;
}

describe("ofp-print vs ovs-ofctl", () => {
  itOvs(`generated messages print as OVS prints them (seed ${SEED})`, () => {
    console.log(`ofp-print corpus: seed=${SEED}`);
    const msgs = messages(SEED);
    const bytes = msgs.map((m) => encodeMessage(m));
    const ovs = ovsOfpParse(bytes);
    const byKind = new Map<string, { ok: number; bad: number }>();
    const problems: string[] = [];
    bytes.forEach((b, i) => {
      const kind =
        msgs[i]!.type === "multipart_reply" || msgs[i]!.type === "multipart_request"
          ? `${msgs[i]!.type}:${(msgs[i] as { body: { kind: string } }).body.kind}`
          : msgs[i]!.type;
      const tally = byKind.get(kind) ?? { ok: 0, bad: 0 };
      byKind.set(kind, tally);
      const ours = ofpPrint(b);
      if (ours === ovs[i]) tally.ok++;
      else {
        tally.bad++;
        if (problems.length < 10)
          problems.push(
            `${kind} ${Buffer.from(b).toString("hex")}\n--- ovs\n${ovs[i]}--- ours\n${ours}`,
          );
      }
    });
    console.log([...byKind].map(([k, t]) => `${k}: ${t.ok}/${t.ok + t.bad}`).join(", "));
    for (const p of problems) console.log(p);
    expect(problems).toEqual([]);
  });

  itOvs("ERROR messages with the offending request print as OVS prints them", () => {
    const flows = sampleFlows(40, SEED + 1);
    const cases: Uint8Array[] = flows.map((f, i) =>
      encodeMessage({
        type: "error",
        xid: i + 1,
        error:
          i % 3 === 2
            ? { kind: "experimenter", experimenter: 0x4f4e4600, expType: 2600 }
            : { kind: "standard", type: 4, code: i % 12 },
        data: encodeMessage(flowModMessage(f, 1000 + i)),
      }),
    );
    cases.push(
      encodeMessage({
        type: "error",
        xid: 77,
        error: { kind: "standard", type: 0, code: 0 },
        data: new TextEncoder().encode("We support 0x04, you support 0x01."),
      }),
    );
    for (const c of cases) expect(ofpPrint(c)).toBe(ovsOfpPrintOne(c));
  });

  itOvs("the Ryu OF1.3 vectors of the exactly-printed kinds print as OVS prints them", () => {
    const dir = `${SHARED}/openflow-vectors/ryu-of13/packet/`;
    const exact =
      /(^ovs-ofctl-of13-.*|-(ofp_)?(hello|echo_request|echo_reply|barrier_request|barrier_reply|features_reply|port_status|packet_in|packet_out|flow_removed|flow_mod[a-z_]*|error_msg[a-z_]*|port_desc_reply|port_desc_request|desc_reply|desc_request|aggregate_stats_reply|aggregate_stats_request|get_config_reply|set_config|role_request|role_reply|flow_stats_request|flow_stats_reply))\.packet$/;
    let checked = 0;
    for (const name of readdirSync(dir)) {
      if (!name.endsWith(".packet") || !exact.test(name)) continue;
      const b = Uint8Array.from(readFileSync(dir + name));
      expect(ofpPrint(b), name).toBe(ovsOfpPrintOne(b));
      checked++;
    }
    console.log(`ryu vectors checked: ${checked}`);
    expect(checked).toBeGreaterThan(20);
  });
});

export { u8 };
