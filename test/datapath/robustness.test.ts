/**
 * Bad input never crashes the switch (issue §4): frames too short to parse
 * are counted and dropped; random and mutated frames go through the DVR
 * pipeline without an exception; oversized frames are refused at the door.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arpRequest, buildUdp, ipv4FromString, macFromString } from "../../codec/packet/index.js";
import { PACKET_CAPACITY } from "../../datapath/packet.js";
import { addFlows, dvrFlows, oneBridge } from "./switch-helpers.js";

describe("malformed frames", () => {
  it("counts and drops frames shorter than an Ethernet header", () => {
    const { br, sink } = oneBridge(8);
    addFlows(br, dvrFlows());
    for (let n = 0; n < 14; n++) expect(br.receive(1, new Uint8Array(n), 0)).toBe(false);
    expect(br.counters.rxMalformed).toBe(14);
    expect(br.ports.get(1)!.counters.rxErrors).toBe(14);
    expect(sink.take()).toEqual([]);
  });

  it("refuses frames beyond the buffer capacity and unknown ports", () => {
    const { br } = oneBridge(2);
    expect(br.receive(1, new Uint8Array(PACKET_CAPACITY + 1), 0)).toBe(false);
    expect(br.counters.rxTooBig).toBe(1);
    expect(br.receive(99, new Uint8Array(64), 0)).toBe(false);
    expect(br.counters.rxUnknownPort).toBe(1);
  });

  it("survives random bytes and mutated valid frames on every port", () => {
    const { br } = oneBridge(8);
    addFlows(br, dvrFlows());
    const seeds = [
      buildUdp({
        eth: { src: macFromString("fa:16:3e:00:00:05"), dst: macFromString("fa:16:3e:ff:00:02") },
        ip: { kind: "ipv4", src: ipv4FromString("10.0.2.15"), dst: ipv4FromString("10.0.1.12") },
        srcPort: 1,
        dstPort: 2,
      }),
      arpRequest({
        sha: macFromString("fa:16:3e:00:00:01"),
        spa: ipv4FromString("10.0.1.11"),
        tpa: ipv4FromString("10.0.1.12"),
      }),
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 200 }),
          fc
            .tuple(
              fc.integer({ min: 0, max: 1 }),
              fc.array(fc.tuple(fc.nat(80), fc.nat(255)), { maxLength: 6 }),
              fc.nat(100),
            )
            .map(([i, flips, cut]) => {
              const f = seeds[i]!.slice(0, Math.max(0, seeds[i]!.length - cut));
              for (const [at, v] of flips) if (at < f.length) f[at] = v;
              return f;
            }),
        ),
        (port, frame) => {
          br.receive(port, frame, 0);
        },
      ),
      { numRuns: 3000, seed: 4 },
    );
    expect(br.ports.get(1)!.counters.rxPackets).toBeGreaterThan(0);
  });
});
