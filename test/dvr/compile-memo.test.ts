/**
 * The compile-time caches change no flow:
 * - `compileHost` without `networksByHost` (the controller, dry run, trace)
 *   takes the networks per host from the per-index memo (context.ts
 *   `networksOn`); it must give exactly the flows of `compileHost` with the
 *   map given (what `compileAll` used to build), on a generated topology
 *   where hosts share networks unevenly;
 * - the value cache of flow.ts (value-cache.ts) returns what was stored,
 *   survives a turnover for values in use and stays bounded.
 */
import { describe, expect, it } from "vitest";
import { encodeMessage } from "../../codec/message.js";
import {
  compileAll,
  compileHost,
  networksOn,
  type CompileInput,
  type HostFlows,
} from "../../src/dvr/compile/index.js";
import { toFlowMod } from "../../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import { ValueCache } from "../../src/dvr/value-cache.js";
import { indexTopology, networksOnHost } from "../../src/topology/indexed.js";
import { generateTopology } from "../../bench/topology-gen.js";

/** Everything a host's compile says, flows as FLOW_MOD bytes, in order. */
function fingerprint(h: HostFlows): string[] {
  const out = [
    `${h.host} mac=${h.dvrMac} routers=${h.routers.join(",")} ` +
      `networks=${JSON.stringify(h.networks)} skipped=${JSON.stringify(h.skipped)}`,
  ];
  for (const bridge of ["br-int", "br-tun"] as const) {
    for (const f of h.bridges[bridge]) {
      out.push(
        `${bridge} ${f.key} ${f.cookie} ${f.origin.role} ` +
          Buffer.from(encodeMessage(toFlowMod(f))).toString("hex"),
      );
    }
  }
  return out;
}

async function generated(): Promise<CompileInput> {
  const t = generateTopology({ hosts: 12, networks: 9, ports: 150, subnetsPerRouter: 3, seed: 7 });
  return compileInputFromSnapshot(await offlineSnapshot(t));
}

/** compileAll's former map: networks per host, computed for every host up front. */
function explicitMap(input: CompileInput): CompileInput {
  const networksByHost = new Map(
    input.index.hosts.map((h) => [h.name, new Set(networksOnHost(input.index, h.name))]),
  );
  return { ...input, networksByHost };
}

describe("compileHost with and without the networks-per-host index", () => {
  it("gives the same flows on a generated topology, host by host", async () => {
    const input = await generated();
    // Fresh index: no memo yet for any host.
    const fresh = { ...input, index: indexTopology(input.index.topology) };
    const withMap = explicitMap(input);
    let flows = 0;
    let floods = 0;
    for (const h of input.index.hosts) {
      const expected = fingerprint(compileHost(withMap, h.name));
      expect(fingerprint(compileHost(fresh, h.name)), h.name).toEqual(expected);
      expect(fingerprint(compileHost(input, h.name)), h.name).toEqual(expected);
      flows += expected.length;
      floods += expected.filter((l) => l.includes("flood")).length;
    }
    expect(flows).toBeGreaterThan(1000);
    // br-tun's flooding lists are where the networks of peers are read.
    expect(floods).toBeGreaterThan(0);
    expect(compileAll(input).map(fingerprint)).toEqual(
      input.index.hosts.map((h) => fingerprint(compileHost(withMap, h.name))),
    );
  });

  it("memoises per index: the same answer object for a host, a new one for a new index", async () => {
    const input = await generated();
    const host = input.index.hosts[3]!.name;
    const a = networksOn(input.index, host);
    expect(networksOn(input.index, host)).toBe(a);
    expect([...a.sorted]).toEqual(networksOnHost(input.index, host));
    expect([...a.set]).toEqual(networksOnHost(input.index, host));
    const other = indexTopology(input.index.topology);
    expect(networksOn(other, host)).not.toBe(a);
    expect(networksOn(other, host).sorted).toEqual(a.sorted);
  });
});

describe("ValueCache", () => {
  const f1 = { name: "f1" };
  const f2 = { name: "f2" };

  it("keys by field, value and mask; numbers and bigints are distinct keys", () => {
    const c = new ValueCache<object, string>(100);
    c.set(f1, 5, undefined, "f1=5");
    c.set(f1, 5, 0xff, "f1=5/ff");
    c.set(f2, 5, undefined, "f2=5");
    c.set(f1, 5n, undefined, "f1=5n");
    expect(c.get(f1, 5)).toBe("f1=5");
    expect(c.get(f1, 5, 0xff)).toBe("f1=5/ff");
    expect(c.get(f2, 5)).toBe("f2=5");
    expect(c.get(f1, 5n)).toBe("f1=5n");
    expect(c.get(f1, 6)).toBeUndefined();
    expect(c.size).toBe(4);
  });

  it("keeps values in use across a turnover and forgets the others, bounded by two generations", () => {
    const limit = 10;
    const c = new ValueCache<object, number>(limit);
    for (let i = 0; i < limit; i++) c.set(f1, i, undefined, i);
    // Full: the next value starts a new generation; the old one is still found…
    c.set(f1, 100, undefined, 100);
    expect(c.size).toBe(1);
    expect(c.get(f1, 3)).toBe(3); // …and moves to the current generation.
    expect(c.size).toBe(2);
    // Another turnover drops what was not used since.
    for (let i = 200; c.size < limit; i++) c.set(f1, i, undefined, i);
    c.set(f1, 999, undefined, 999);
    expect(c.get(f1, 3)).toBe(3);
    expect(c.get(f1, 4)).toBeUndefined();
    expect(c.get(f1, 100)).toBe(100);
  });
});
