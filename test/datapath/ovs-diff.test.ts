/**
 * Differential test against real Open vSwitch (issue §5): the same flows in
 * OVS 3.1 (private ovsdb-server + ovs-vswitchd, netdev bridge with dummy
 * ports, see ovs-instance.ts) and in our switch; for every generated packet
 * `ovs-appctl ofproto/trace` and our `trace` must agree line by line — the
 * parsed flow, the table walk with each hit flow and its actions, the final
 * flow, and the datapath actions (OVS's datapath port numbers mapped back to
 * OpenFlow ports). Only the `Megaflow:` line is not compared (we compute no
 * megaflows).
 *
 * Known, documented difference: a packet whose TTL dec_ttl finds invalid
 * ends in OVS with the pending header commits and
 * `userspace(...controller(reason=2,...))` (an invalid_ttl packet-in, sent
 * only to controllers that asked for it; none is connected here), in ours
 * with `drop` (our packet-in goes to the bridge outbox only when the
 * controller asked, see switch-semantics.test.ts). The comparison turns an
 * OVS action list that outputs nowhere and only ends in such a packet-in
 * into `drop`.
 *
 * Skips (loudly) when the OVS daemons are not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dvrCases, prng, randomFlow, randomPacket } from "./generators.js";
import { Datapath } from "../../datapath/datapath.js";
import { traceDetailed } from "../../datapath/trace.js";
import { OvsInstance, ovsDaemonsAvailable } from "./ovs-instance.js";
import { addFlows, dvrFlows, oneBridge, formatEntry } from "./switch-helpers.js";

const HAVE_OVS = ovsDaemonsAvailable();
if (!HAVE_OVS)
  console.warn(
    "ovs-diff: Open vSwitch daemons not installed — SKIPPING the differential test against OVS",
  );

const OFPP_LOCAL_16 = 65534;
const OFPP_LOCAL_32 = 0xfffffffe;

/** OVS trace text normalized for comparison: no Megaflow line, OpenFlow port numbers, unsent packet-ins dropped. */
function normalizeOvs(text: string, odpToOf: Map<number, number>): string[] {
  const lines = text
    .trimEnd()
    .split("\n")
    .filter((l) => !l.startsWith("Megaflow:"));
  return lines.map((l) => {
    if (!l.startsWith("Datapath actions: ")) return l;
    const raw = splitActions(l.slice("Datapath actions: ".length));
    let acts: string[] = [];
    for (const a of raw) {
      if (a.startsWith("userspace(") && a.includes("controller(reason=2")) {
        // Drop the packet-in and the header commits made just for it.
        while (acts.length > 0 && !/^\d+$/.test(acts[acts.length - 1]!)) acts.pop();
        continue;
      }
      acts.push(a);
    }
    acts = acts.map((a) => {
      if (!/^\d+$/.test(a)) return a;
      const of = odpToOf.get(Number(a));
      if (of === undefined) return `odp${a}`;
      return String(of === OFPP_LOCAL_16 ? OFPP_LOCAL_32 : of);
    });
    if (!acts.some((a) => /^\d+$/.test(a) || a.startsWith("userspace("))) acts = [];
    return `Datapath actions: ${acts.length === 0 || (acts.length === 1 && acts[0] === "drop") ? "drop" : acts.join(",")}`;
  });
}

/**
 * Sorts each run of consecutive output ports in a `Datapath actions:` line:
 * FLOOD/ALL/NORMAL flooding visits ports in OVS's hash-map order, which is not
 * part of the semantics (the same packet goes to each port).
 */
function sortPortRuns(lines: readonly string[]): string[] {
  return lines.map((l) => {
    if (!l.startsWith("Datapath actions: ")) return l;
    const acts = splitActions(l.slice("Datapath actions: ".length));
    const out: string[] = [];
    let run: string[] = [];
    const flush = (): void => {
      out.push(...run.sort((a, b) => Number(a) - Number(b)));
      run = [];
    };
    for (const a of acts) {
      if (/^\d+$/.test(a)) run.push(a);
      else {
        flush();
        out.push(a);
      }
    }
    flush();
    return `Datapath actions: ${out.join(",")}`;
  });
}

/** Splits a datapath action list at top-level commas. */
function splitActions(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of s) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur !== "") out.push(cur);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe.skipIf(!HAVE_OVS)("differential: our switch vs Open vSwitch 3.1 (ofproto/trace)", () => {
  let ovs: OvsInstance;
  let odpToOf: Map<number, number>;

  beforeAll(async () => {
    ovs = await OvsInstance.start();
    ovs.addBridge(
      "br0",
      Array.from({ length: 8 }, (_, i) => ({ name: `dvrvm${i + 1}`, ofport: i + 1 })),
    );
    ovs.addFlows("br0", dvrFlows());
    odpToOf = await ovs.odpPorts();
  });
  afterAll(() => ovs?.stop());

  it("agrees on random flow tables (10 bridges of 4 tables × 40 flows, 10,000 packets)", async () => {
    const r = prng(77);
    const disagreements: string[] = [];
    let compared = 0;
    for (let round = 0; round < 10; round++) {
      const name = `rnd${round}`;
      ovs.addBridge(
        name,
        [1, 2, 3, 4].map((i) => ({ name: `${name}p${i}`, ofport: i })),
      );
      const { br } = oneBridge(4, name, `${name}p`);
      const accepted: string[] = [];
      for (let i = 0; i < 40; i++) {
        const f = randomFlow(r, 4);
        try {
          addFlows(br, [f]);
        } catch {
          continue; // refused by the codec's ovs-ofctl rules: OVS would refuse it too
        }
        accepted.push(f);
      }
      // Equal-priority overlaps make the winner undefined (OF1.3 §6.4): keep only flows where that cannot happen.
      ovs.addFlows(name, accepted);
      const theirs = ovs
        .ofctl(name, "dump-flows", "--no-stats")
        .split("\n")
        .filter((l) => l.trim() !== "").length;
      expect(theirs).toBe(br.flowCount);
      const odp = await ovs.odpPorts();
      const cases = Array.from({ length: 1000 }, () => randomPacket(r));
      const outs = await Promise.all(
        cases.map((c) => ovs.appctl("ofproto/trace", name, `in_port=${c.inPort}`, hex(c.frame))),
      );
      cases.forEach((c, j) => {
        const ours = sortPortRuns(traceDetailed(br, c.frame, c.inPort).text.split("\n"));
        const want = sortPortRuns(normalizeOvs(outs[j]!, odp));
        compared++;
        if (JSON.stringify(ours) !== JSON.stringify(want)) {
          disagreements.push(
            `${name} packet ${j} in_port=${c.inPort} ${hex(c.frame)}\nflows:\n${accepted.join("\n")}\n--- OVS\n${want.join("\n")}\n--- ours\n${ours.join("\n")}`,
          );
        }
      });
    }
    expect(compared).toBe(10_000);
    expect(disagreements.length, disagreements.slice(0, 1).join("\n\n")).toBe(0);
  }, 300_000);

  it("agrees across patch ports (two bridges, random flows on both, 4,000 packets)", async () => {
    const r = prng(99);
    const disagreements: string[] = [];
    for (let round = 0; round < 4; round++) {
      const a = `pa${round}`;
      const b = `pb${round}`;
      const ports = (br: string, peer: string) => [
        ...[1, 2, 3].map((i) => ({ name: `${br}p${i}`, ofport: i })),
        { name: `${br}-patch`, ofport: 4, extra: ["type=patch", `options:peer=${peer}-patch`] },
      ];
      ovs.addBridge(a, ports(a, b));
      ovs.addBridge(b, ports(b, a));
      const dp = new Datapath();
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const) {
        const br = dp.addBridge({ name: x });
        for (let i = 1; i <= 3; i++) br.addPort({ kind: "sink", name: `${x}p${i}`, ofport: i });
        br.addPort({
          kind: "patch",
          name: `${x}-patch`,
          ofport: 4,
          peerBridge: y,
          peerPort: `${y}-patch`,
        });
      }
      for (const name of [a, b]) {
        const accepted: string[] = [];
        for (let i = 0; i < 30; i++) {
          // Flooding (NORMAL/FLOOD/ALL) into a patch port is left out of the entry bridge:
          // OVS visits flood ports in its hash-map order, so where the peer bridge's walk
          // lands among the other flood outputs (and how the trace nests it) follows that
          // order, not ours. The frames delivered are the same; the listing order is not.
          const f = randomFlow(r, 3, name === a);
          try {
            addFlows(dp.bridge(name), [f]);
          } catch {
            continue;
          }
          accepted.push(f);
        }
        ovs.addFlows(name, accepted);
      }
      const odp = await ovs.odpPorts();
      const cases = Array.from({ length: 1000 }, () => randomPacket(r)).map((c) => ({
        ...c,
        inPort: 1 + (c.inPort % 3),
      }));
      const outs = await Promise.all(
        cases.map((c) => ovs.appctl("ofproto/trace", a, `in_port=${c.inPort}`, hex(c.frame))),
      );
      cases.forEach((c, j) => {
        const t = traceDetailed(dp.bridge(a), c.frame, c.inPort);
        // Our datapath actions name the bridge of each port; OVS's datapath numbers are global.
        const ours = sortPortRuns(t.text.split("\n"));
        const want = sortPortRuns(normalizeOvs(outs[j]!, odp));
        if (JSON.stringify(ours) !== JSON.stringify(want)) {
          disagreements.push(
            `${a} packet ${j} in_port=${c.inPort} ${hex(c.frame)}\n--- OVS ${b} flows\n${ovs.ofctl(b, "dump-flows", "--no-stats")}\n--- OVS\n${want.join("\n")}\n--- ours\n${ours.join("\n")}`,
          );
        }
      });
    }
    expect(disagreements.length, disagreements.join("\n\n")).toBe(0);
  }, 300_000);

  it("loads the same 112 DVR flows as OVS (dump-flows text equal)", () => {
    const { br } = oneBridge(8);
    addFlows(br, dvrFlows());
    const theirs = ovs
      .ofctl("br0", "dump-flows", "--no-stats")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .sort();
    expect(theirs).toHaveLength(112);
    const ours = br.tables
      .flatMap((t) => [...t.entries()])
      .map((e) => formatEntry(e))
      .sort();
    expect(ours).toEqual(theirs);
  });

  it("agrees on 10,000 generated DVR packets: walk, actions, final flow, datapath actions", async () => {
    const { br } = oneBridge(8);
    addFlows(br, dvrFlows());
    const cases = dvrCases(10_000, 2026);
    const disagreements: string[] = [];
    const seen = { outputs: 0, rewrites: 0, floods: 0, ttl: 0, misses: 0 };
    const BATCH = 250;
    for (let i = 0; i < cases.length; i += BATCH) {
      const batch = cases.slice(i, i + BATCH);
      const theirs = await Promise.all(
        batch.map((c) => ovs.appctl("ofproto/trace", "br0", `in_port=${c.inPort}`, hex(c.frame))),
      );
      batch.forEach((c, j) => {
        const t = traceDetailed(br, c.frame, c.inPort);
        const ours = sortPortRuns(t.text.split("\n"));
        if (t.outputs.length > 0) seen.outputs++;
        if (t.outputs.length >= 3) seen.floods++;
        if (t.datapathActions.includes("set(")) seen.rewrites++;
        if (t.text.includes("decrement TTL exception")) seen.ttl++;
        if (t.tables.some((x) => !x.hit)) seen.misses++;
        const want = sortPortRuns(normalizeOvs(theirs[j]!, odpToOf));
        if (JSON.stringify(ours) !== JSON.stringify(want) && disagreements.length < 5) {
          disagreements.push(
            `packet ${i + j} in_port=${c.inPort} ${hex(c.frame)}\n--- OVS\n${want.join("\n")}\n--- ours\n${ours.join("\n")}`,
          );
        } else if (JSON.stringify(ours) !== JSON.stringify(want)) {
          disagreements.push(`packet ${i + j}`);
        }
      });
    }
    expect(disagreements.length, disagreements.slice(0, 3).join("\n\n")).toBe(0);
    // The mix exercises every path (a comparison of only drops would prove little).
    expect(seen.outputs).toBeGreaterThan(4000);
    expect(seen.rewrites).toBeGreaterThan(1500);
    expect(seen.floods).toBeGreaterThan(300);
    expect(seen.ttl).toBeGreaterThan(100);
  }, 300_000);
});
