/**
 * The megaflow cache changes nothing but speed.
 *
 * Three switches get the same flows and the same packets: one without the
 * cache (every packet walks the tables), one with it fed by `receive()`, one
 * fed by `receiveBatch()`. They must send byte-identical frames on the same
 * ports in the same order and end with the same flow, table and port
 * counters — on random flow tables (one bridge, and two joined by patch
 * ports), with random flow-mods in between (precise invalidation must drop
 * every megaflow a change affects), seeded with fast-check. Then: the DVR
 * set keeps the megaflows a flow-mod cannot affect, and the batch
 * extractor gives parseFrame's key.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FK, FlowKey } from "../../codec/packet/flow-key.js";
import { parseFrame } from "../../codec/packet/parse.js";
import {
  arpRequest,
  buildTcp,
  buildUdp,
  icmpEchoRequest,
  ipv4FromString,
  macFromString,
} from "../../codec/packet/index.js";
import { PacketBatch } from "../../datapath/batch.js";
import type { Bridge } from "../../datapath/bridge.js";
import { Datapath } from "../../datapath/datapath.js";
import { EXTRACT_FALLBACK, FAST_WORDS, extractKey } from "../../datapath/extract.js";
import { dvrCases, prng, randomFlow, type Case } from "./generators.js";
import { CaptureSink, addFlows, dvrFlows, flowMod } from "./switch-helpers.js";

type Mode = "walk" | "single" | "batch";
const MODES: readonly Mode[] = ["walk", "single", "batch"];

interface Switch {
  readonly mode: Mode;
  readonly dp: Datapath;
  readonly sink: CaptureSink;
  readonly batch: PacketBatch;
}

/** `bridges` bridges of ports 1–3 (+ 4 when alone), joined by patch ports 4 when there are two. */
function build(mode: Mode, bridges: readonly string[]): Switch {
  const dp = new Datapath({ cache: mode !== "walk" });
  const sink = new CaptureSink();
  for (const name of bridges) {
    const br = dp.addBridge({ name });
    for (let i = 1; i <= 3; i++) br.addPort({ kind: "sink", name: `${name}p${i}`, ofport: i });
    if (bridges.length === 1) br.addPort({ kind: "sink", name: `${name}p4`, ofport: 4 });
    br.sink = sink;
  }
  if (bridges.length === 2) {
    const [a, b] = bridges as [string, string];
    dp.bridge(a).addPort({
      kind: "patch",
      name: `${a}-x`,
      ofport: 4,
      peerBridge: b,
      peerPort: `${b}-x`,
    });
    dp.bridge(b).addPort({
      kind: "patch",
      name: `${b}-x`,
      ofport: 4,
      peerBridge: a,
      peerPort: `${a}-x`,
    });
  }
  return { mode, dp, sink, batch: new PacketBatch(16, 256, 32) };
}

function send(s: Switch, br: Bridge, cases: readonly Case[]): void {
  if (s.mode !== "batch") {
    for (const c of cases) s.dp.receive(br, c.inPort, c.frame, 1000);
    return;
  }
  const b = s.batch;
  for (let i = 0; i < cases.length;) {
    b.clear();
    while (i < cases.length && b.add(cases[i]!.inPort, cases[i]!.frame)) i++;
    s.dp.receiveBatch(br, b, 1000);
  }
  s.dp.flushStats();
}

function counters(dp: Datapath): unknown {
  return [...dp.bridges.values()].map((br) => ({
    flows: br.tables.flatMap((t) =>
      [...t.entries()]
        .map(
          (e) =>
            `${t.id}/${e.priority}/${e.match.entries.map((x) => x.field?.name).join("+")}:${e.packetCount}:${e.byteCount}`,
        )
        .sort(),
    ),
    tables: br.tables.map((t) => [t.lookupCount, t.matchedCount]),
    ports: br.portList.map((p) => [p.no, { ...p.counters }]),
  }));
}

function sent(s: Switch): string[] {
  return s.sink.take().map((x) => `${x.bridge}:${x.port}:${Buffer.from(x.frame).toString("hex")}`);
}

const MACS = ["00:00:00:00:00:01", "00:00:00:00:00:02", "00:00:00:00:00:03", "ff:ff:ff:ff:ff:ff"];
const IPS = ["10.0.0.1", "10.0.0.2", "10.0.1.1"];

/**
 * Packets over the random tables' small value domains, with fields no flow
 * matches (L4 source port, IP id via payload, TTL) varied, so that many
 * distinct packets share a megaflow.
 */
function packet(r: () => number): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const eth = {
    src: macFromString(pick(MACS.slice(0, 3))),
    dst: macFromString(pick(MACS)),
    ...(r() < 0.4 ? { vlan: { vid: pick([1, 2, 3]), pcp: Math.floor(r() * 8) } } : {}),
  };
  const ip = {
    kind: "ipv4" as const,
    src: ipv4FromString(pick(IPS)),
    dst: ipv4FromString(pick(IPS)),
    ttl: pick([64, 64, 63, 2, 1]),
    tos: pick([0, 0, 0x10]),
  };
  const k = r();
  const sport = 1000 + Math.floor(r() * 50);
  const payload = new Uint8Array(Math.floor(r() * 12));
  const frame =
    k < 0.35
      ? buildUdp({ eth, ip, srcPort: sport, dstPort: pick([53, 80, 9]), payload })
      : k < 0.65
        ? buildTcp({ eth, ip, srcPort: sport, dstPort: pick([53, 80, 9]) })
        : k < 0.85
          ? arpRequest({
              sha: eth.src,
              spa: ip.src,
              tpa: ip.dst,
              ...("vlan" in eth ? { vlan: eth.vlan } : {}),
            })
          : icmpEchoRequest({ eth, ip, id: Math.floor(r() * 9), seq: 1 });
  return { inPort: 1 + Math.floor(r() * 4), frame };
}

/** Flows accepted by a reference switch (the same text then goes to all). */
function acceptedFlows(r: () => number, n: number, nTables: number, noFlood: boolean): string[] {
  const probe = build("walk", ["probe"]);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = randomFlow(r, nTables, noFlood);
    try {
      addFlows(probe.dp.bridge("probe"), [f]);
      out.push(f);
    } catch {
      // refused (inconsistent actions): skip, as the OVS differential does
    }
  }
  return out;
}

/** A random flow-mod in ovs-ofctl syntax: add, modify or delete(_strict) of a random flow. */
function randomChange(
  r: () => number,
  nTables: number,
  noFlood: boolean,
): { text: string; command: "add" | "modify" | "delete" | "delete_strict" | "modify_strict" } {
  const f = randomFlow(r, nTables, noFlood);
  const k = r();
  if (k < 0.45) return { text: f, command: "add" };
  const matchPart = f.slice(0, f.indexOf(",actions="));
  if (k < 0.6) return { text: f, command: "modify_strict" };
  if (k < 0.7) return { text: f, command: "modify" };
  if (k < 0.85) return { text: matchPart, command: "delete_strict" };
  return { text: matchPart.replace(/,?priority=\d+/, ""), command: "delete" };
}

function applyAll(
  sws: readonly Switch[],
  brName: string,
  text: string,
  command: Parameters<typeof flowMod>[1],
): boolean {
  let ok = true;
  for (const s of sws) {
    try {
      s.dp.bridge(brName).flowMod(flowMod(text, command), 1000);
    } catch {
      ok = false;
    }
  }
  return ok;
}

describe("megaflow cache", () => {
  it("gives the walk's frames and counters on random tables, through random flow-mods", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), (seed) => {
        const r = prng(seed);
        const flows = acceptedFlows(r, 40, 4, false);
        const sws = MODES.map((m) => build(m, ["br0"]));
        for (const s of sws) addFlows(s.dp.bridge("br0"), flows);
        const cases = Array.from({ length: 150 }, () => packet(r));
        for (let round = 0; round < 4; round++) {
          for (const s of sws) send(s, s.dp.bridge("br0"), cases);
          const [walk, single, batch] = sws.map(sent) as [string[], string[], string[]];
          expect(single).toEqual(walk);
          expect(batch).toEqual(walk);
          const [cw, cs, cb] = sws.map((s) => counters(s.dp));
          expect(cs).toEqual(cw);
          expect(cb).toEqual(cw);
          // Change the tables between rounds (the same change everywhere).
          for (let k = 0; k < 3; k++) {
            const ch = randomChange(r, 4, false);
            applyAll(sws, "br0", ch.text, ch.command);
          }
        }
        expect(sws[1]!.dp.cache!.hits).toBeGreaterThan(0);
      }),
      { seed: 20261201, numRuns: 25 },
    );
  });

  it("gives the walk's frames and counters across patch ports", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), (seed) => {
        const r = prng(seed);
        const sws = MODES.map((m) => build(m, ["a", "b"]));
        for (const name of ["a", "b"]) {
          const flows = acceptedFlows(r, 30, 3, name === "a");
          for (const s of sws) addFlows(s.dp.bridge(name), flows);
        }
        const cases = Array.from({ length: 120 }, () => {
          const c = packet(r);
          return { ...c, inPort: 1 + (c.inPort % 3) };
        });
        for (let round = 0; round < 3; round++) {
          for (const s of sws) send(s, s.dp.bridge("a"), cases);
          const [walk, single, batch] = sws.map(sent) as [string[], string[], string[]];
          expect(single).toEqual(walk);
          expect(batch).toEqual(walk);
          const [cw, cs, cb] = sws.map((s) => counters(s.dp));
          expect(cs).toEqual(cw);
          expect(cb).toEqual(cw);
          const ch = randomChange(r, 3, true);
          applyAll(sws, r() < 0.5 ? "a" : "b", ch.text, ch.command);
        }
      }),
      { seed: 7, numRuns: 15 },
    );
  });

  it("runs the DVR mix from megaflows with the walk's results", () => {
    const sws = MODES.map((m) => {
      const dp = new Datapath({ cache: m !== "walk" });
      const br = dp.addBridge({ name: "br-int" });
      for (let i = 1; i <= 8; i++) br.addPort({ kind: "sink", name: `vm${i}`, ofport: i });
      const sink = new CaptureSink();
      br.sink = sink;
      addFlows(br, dvrFlows());
      return { mode: m, dp, sink, batch: new PacketBatch(32, 256, 32) } satisfies Switch;
    });
    const cases = dvrCases(3000, 11);
    for (let round = 0; round < 3; round++) {
      for (const s of sws) send(s, s.dp.bridge("br-int"), cases);
    }
    const [walk, single, batch] = sws.map(sent) as [string[], string[], string[]];
    expect(walk.length).toBeGreaterThan(5000);
    expect(single).toEqual(walk);
    expect(batch).toEqual(walk);
    const [cw, cs, cb] = sws.map((s) => counters(s.dp));
    expect(cs).toEqual(cw);
    expect(cb).toEqual(cw);
    // Most packets came from the cache, and most megaflows have a fast program.
    const c = sws[2]!.dp.cache!;
    expect(c.hits).toBeGreaterThan(c.misses * 2);
    const all = [...c.megaflows()];
    expect(all.filter((m) => m.plan.fast !== null).length).toBeGreaterThan(all.length / 2);
  });
});

describe("megaflow invalidation", () => {
  function dvr(): { dp: Datapath; br: Bridge; sink: CaptureSink } {
    const dp = new Datapath();
    const br = dp.addBridge({ name: "br-int" });
    for (let i = 1; i <= 8; i++) br.addPort({ kind: "sink", name: `vm${i}`, ofport: i });
    const sink = new CaptureSink();
    br.sink = sink;
    addFlows(br, dvrFlows());
    return { dp, br, sink };
  }
  const vm = (i: number): Uint8Array => macFromString(`fa:16:3e:00:00:0${i}`);
  const gw = (n: number): Uint8Array => macFromString(`fa:16:3e:ff:00:0${n}`);
  const ip = (i: number): number =>
    ipv4FromString(i <= 4 ? `10.0.1.${10 + i}` : `10.0.2.${10 + i}`);
  const udp = (src: number, dst: Uint8Array, dstIp: number): Uint8Array =>
    buildUdp({
      eth: { src: vm(src), dst },
      ip: { kind: "ipv4", src: ip(src), dst: dstIp },
      srcPort: 7,
      dstPort: 9,
    });

  it("keeps the megaflows a flow-mod cannot change and drops the ones it can", () => {
    const { dp, br, sink } = dvr();
    const eastWest = udp(1, vm(2), ip(2));
    const routed = udp(1, gw(1), ip(6));
    const routed7 = udp(1, gw(1), ip(7));
    const routed99 = udp(1, gw(1), ipv4FromString("10.0.2.99"));
    for (const f of [eastWest, routed, routed7, routed99]) br.receive(1, f, 0);
    expect(sink.take().map((s) => s.port)).toEqual([2, 6, 7]);
    const cache = dp.cache!;
    expect(cache.count).toBe(4);
    // A flow in a table no walk visited: nothing goes.
    addFlows(br, ["table=3,priority=9,dl_dst=fa:16:3e:ff:00:01,actions=drop"]);
    expect(cache.count).toBe(4);
    // A new route (same mask and priority as the others in table 61): only the
    // megaflow of the packet to 10.0.2.99 could match it, and only it goes.
    addFlows(br, [
      "table=61,priority=10,ip,dl_vlan=1,nw_dst=10.0.2.99,actions=set_field:fa:16:3e:ff:00:02->eth_src,goto_table:62",
    ]);
    expect(cache.count).toBe(3);
    for (const f of [routed, routed7, eastWest]) {
      br.receive(1, f, 0);
      expect(dp.lastFromCache).toBe(true);
    }
    br.receive(1, routed99, 0);
    expect(dp.lastFromCache).toBe(false);
    sink.take();
    // A flow of an existing mask that no cached lookup key can match: nothing goes.
    const before = cache.count;
    addFlows(br, ["table=60,priority=3,dl_vlan=2,dl_dst=fa:16:3e:00:00:09,actions=output:5"]);
    expect(cache.count).toBe(before);
    // Deleting the flow the east-west packet hit in table 60 drops its megaflow only.
    addFlows(br, ["table=60,priority=3,dl_vlan=1,dl_dst=fa:16:3e:00:00:02"], 0, "delete_strict");
    expect(cache.count).toBe(before - 1);
    br.receive(1, eastWest, 0);
    expect(dp.lastFromCache).toBe(false);
    expect(sink.take()).toEqual([]); // table 60's catch-all drops it now
    br.receive(1, routed7, 0);
    expect(dp.lastFromCache).toBe(true);
    // Modifying a flow's actions drops what was cached from it.
    addFlows(
      br,
      ["table=62,priority=2,dl_vlan=2,dl_dst=fa:16:3e:00:00:07,actions=pop_vlan,output:6"],
      0,
      "modify_strict",
    );
    br.receive(1, routed7, 0);
    expect(dp.lastFromCache).toBe(false);
    expect(sink.take().map((s) => s.port)).toEqual([7, 6]);
    // A flow that changes table 61's probe order (a new mask above the others)
    // may change how ties resolve there: every megaflow that looked up 61 goes.
    br.receive(1, routed, 0);
    expect(dp.lastFromCache).toBe(true);
    addFlows(br, ["table=61,priority=20,ip,nw_dst=10.0.2.16,actions=output:8"]);
    br.receive(1, routed, 0);
    expect(dp.lastFromCache).toBe(false);
    expect(sink.take().map((s) => s.port)).toEqual([6, 8]);
    br.receive(1, eastWest, 0);
    expect(dp.lastFromCache).toBe(true);
  });

  it("flushes everything on a port change", () => {
    const { dp, br } = dvr();
    br.receive(1, udp(1, vm(2), ip(2)), 0);
    expect(dp.cache!.count).toBe(1);
    br.addPort({ kind: "sink", name: "vm9", ofport: 9 });
    br.receive(1, udp(1, vm(2), ip(2)), 0);
    expect(dp.lastFromCache).toBe(false);
  });
});

describe("batch key extraction", () => {
  it("gives parseFrame's key and status for every frame it handles", () => {
    const frames: Uint8Array[] = [
      ...dvrCases(400, 3).map((c) => c.frame),
      ...Array.from({ length: 200 }, (_, i) => packet(prng(i + 1)).frame),
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: frames.length - 1 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.tuple(fc.nat(80), fc.nat(255)), { maxLength: 3 }),
        (which, cut, flips) => {
          let f = frames[which]!.slice();
          // Truncate sometimes, and flip a few header bytes.
          if (cut < 30) f = f.slice(0, Math.min(f.length, 10 + cut));
          for (const [at, v] of flips) if (at < f.length) f[at] = v;
          const want = new FlowKey();
          const status = parseFrame(f, want);
          const buf = new Uint8Array(f.length + 40);
          buf.set(f, 20);
          const w = new Int32Array(FK.SIZE + 8);
          w.fill(0x5a5a5a5a);
          const got = extractKey(buf, new DataView(buf.buffer), 20, f.length, w, 4);
          if (got === EXTRACT_FALLBACK) return;
          expect(got).toBe(status);
          if (status === 1) return; // ETH_TRUNCATED: nothing extracted (dropped at the door)
          for (let i = FK.PACKET_START; i < FK.SIZE; i++) {
            if (FAST_WORDS.includes(i)) expect(w[4 + i]! >>> 0, `word ${i}`).toBe(want.w[i]);
            else expect(want.w[i], `word ${i} is not a fast word`).toBe(0);
          }
        },
      ),
      { seed: 42, numRuns: 3000 },
    );
  });
});
