/**
 * The exact-match cache changes nothing but speed: the same packets through a
 * datapath with the cache and one without give byte-identical frames on the
 * same ports and the same flow, table and port counters; a flow-mod
 * invalidates what was cached.
 */
import { describe, expect, it } from "vitest";
import { buildUdp, macFromString } from "../../codec/packet/index.js";
import type { Bridge } from "../../datapath/bridge.js";
import { Datapath } from "../../datapath/datapath.js";
import { dvrCases, prng, randomFlow, randomPacket } from "./generators.js";
import { CaptureSink, addFlows, dvrFlows } from "./switch-helpers.js";

function build(cache: boolean, nPorts: number): { dp: Datapath; br: Bridge; sink: CaptureSink } {
  const dp = new Datapath({ cache });
  const br = dp.addBridge({ name: "br0" });
  for (let i = 1; i <= nPorts; i++) br.addPort({ kind: "sink", name: `p${i}`, ofport: i });
  const sink = new CaptureSink();
  br.sink = sink;
  return { dp, br, sink };
}

function counters(br: Bridge): unknown {
  return {
    flows: br.tables.flatMap((t) =>
      [...t.entries()].map((e) => [t.id, e.priority, e.packetCount, e.byteCount]),
    ),
    tables: br.tables.map((t) => [t.lookupCount, t.matchedCount]),
    ports: br.portList.map((p) => [
      p.no,
      p.counters.rxPackets,
      p.counters.txPackets,
      p.counters.txBytes,
    ]),
  };
}

describe("exact-match cache", () => {
  it("gives the same frames and counters as the uncached pipeline on the DVR mix", () => {
    const on = build(true, 8);
    const off = build(false, 8);
    addFlows(on.br, dvrFlows());
    addFlows(off.br, dvrFlows());
    const cases = dvrCases(1000, 7);
    for (let round = 0; round < 5; round++) {
      for (const c of cases) {
        on.br.receive(c.inPort, c.frame, 0);
        off.br.receive(c.inPort, c.frame, 0);
      }
    }
    const a = on.sink.take();
    const b = off.sink.take();
    expect(a.length).toBe(b.length);
    expect(a.length).toBeGreaterThan(2000);
    for (let i = 0; i < a.length; i++) {
      expect(a[i]!.port).toBe(b[i]!.port);
      expect(Buffer.from(a[i]!.frame).equals(Buffer.from(b[i]!.frame))).toBe(true);
    }
    expect(counters(on.br)).toEqual(counters(off.br));
    expect(on.dp.cache!.hits).toBeGreaterThan(3000);
  });

  it("gives the same frames on random flow tables", () => {
    const r = prng(5);
    for (let round = 0; round < 5; round++) {
      const on = build(true, 4);
      const off = build(false, 4);
      for (let i = 0; i < 40; i++) {
        const f = randomFlow(r, 4);
        try {
          addFlows(off.br, [f]);
        } catch {
          continue;
        }
        addFlows(on.br, [f]);
      }
      const cases = Array.from({ length: 300 }, () => randomPacket(r));
      for (let rep = 0; rep < 3; rep++) {
        for (const c of cases) {
          on.br.receive(c.inPort, c.frame, 0);
          off.br.receive(c.inPort, c.frame, 0);
        }
      }
      const a = on.sink.take();
      const b = off.sink.take();
      expect(a.map((x) => `${x.port}:${Buffer.from(x.frame).toString("hex")}`)).toEqual(
        b.map((x) => `${x.port}:${Buffer.from(x.frame).toString("hex")}`),
      );
      expect(counters(on.br)).toEqual(counters(off.br));
    }
  });

  it("is invalidated by a flow-mod", () => {
    const { dp, br, sink } = build(true, 3);
    addFlows(br, ["in_port=1,actions=output:2"]);
    const f = buildUdp({
      eth: { src: macFromString("00:00:00:00:00:01"), dst: macFromString("00:00:00:00:00:02") },
      ip: { kind: "ipv4", src: 1, dst: 2 },
      srcPort: 1,
      dstPort: 2,
    });
    br.receive(1, f, 0);
    br.receive(1, f, 0);
    expect(dp.lastFromCache).toBe(true);
    expect(sink.take().map((s) => s.port)).toEqual([2, 2]);
    addFlows(br, ["in_port=1,actions=output:3"]);
    br.receive(1, f, 0);
    expect(dp.lastFromCache).toBe(false);
    expect(sink.take().map((s) => s.port)).toEqual([3]);
  });
});
