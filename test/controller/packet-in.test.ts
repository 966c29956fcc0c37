/**
 * Packet-in decisions read against intent only (reliability.md §4.3), and
 * the per-switch token bucket.
 */
import { describe, expect, it } from "vitest";
import type { PacketInMessage } from "../../codec/messages/packet-in.js";
import {
  arpReply,
  arpRequest,
  buildUdp,
  ipv4FromString,
  macFromString,
} from "../../codec/packet/index.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import {
  PACKET_IN_REASON,
  PacketInIntent,
  TokenBucket,
  handlePacketIn,
  type PacketInSwitch,
} from "../../src/controller/packet-in.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import { loadExample } from "../dvr/helpers.js";

async function intent() {
  const snap = await offlineSnapshot(loadExample("two-hosts.yaml"));
  return new PacketInIntent(compileInputFromSnapshot(snap).index, snap.localVlans);
}

const ports = new Map([
  [1, "patch-tun"],
  [10, "tap-vm-a1"],
  [11, "tap-vm-b1"],
]);
const sw: PacketInSwitch = {
  host: "compute-1",
  bridge: "br-int",
  portName: (no) => ports.get(no),
  portNumber: (name) => [...ports].find(([, n]) => n === name)?.[0],
};

function packetIn(match: string, data: Uint8Array, tableId = 40): PacketInMessage {
  return {
    type: "packet_in",
    xid: 0,
    bufferId: 0xffffffff,
    totalLen: data.byteLength,
    reason: 1,
    tableId,
    cookie: 0n,
    match: flowModMessage(parseFlow(`${match},actions=drop`)).match,
    data,
  };
}

const arp = (sha: string, spa: string, tpa: string) =>
  arpRequest({ sha: macFromString(sha), spa: ipv4FromString(spa), tpa: ipv4FromString(tpa) });

describe("handlePacketIn", () => {
  it("answers ARP for a remote port's address with that port's MAC, out of the port it came in on", async () => {
    const d = handlePacketIn(
      await intent(),
      sw,
      packetIn("in_port=10", arp("fa:16:3e:aa:00:01", "203.0.113.10", "203.0.113.11")),
    );
    expect(d.kind).toBe("reply");
    if (d.kind !== "reply") return;
    expect(d.packetOut.inPort).toBe(10);
    expect(d.packetOut.actions).toEqual([{ type: "output", port: 0xfffffff8, maxLen: 0 }]);
    expect([...d.packetOut.data.subarray(22, 28)]).toEqual([...macFromString("fa:16:3e:aa:00:02")]);
  });

  it("writes exactly the reply codec/packet's arpReply builds, untagged and tagged", async () => {
    const asker = macFromString("fa:16:3e:aa:00:01");
    for (const vlan of [undefined, { vid: 1 }]) {
      const request = arpRequest({
        sha: asker,
        spa: ipv4FromString("203.0.113.10"),
        tpa: ipv4FromString("203.0.113.11"),
        ...(vlan === undefined ? {} : { vlan }),
      });
      const d = handlePacketIn(await intent(), sw, packetIn("in_port=10", request));
      expect(d.kind, JSON.stringify(vlan)).toBe("reply");
      if (d.kind !== "reply") continue;
      const expected = arpReply({
        sha: macFromString("fa:16:3e:aa:00:02"),
        spa: ipv4FromString("203.0.113.11"),
        tha: asker,
        tpa: ipv4FromString("203.0.113.10"),
        ...(vlan === undefined ? {} : { vlan }),
      });
      expect(Buffer.from(d.packetOut.data).toString("hex")).toBe(
        Buffer.from(expected).toString("hex"),
      );
    }
  });

  it("gives no answer for an address the intent does not hold, or for the asker's own address", async () => {
    const i = await intent();
    expect(
      handlePacketIn(
        i,
        sw,
        packetIn("in_port=10", arp("fa:16:3e:aa:00:01", "203.0.113.10", "203.0.113.50")),
      ),
    ).toEqual({
      kind: "drop",
      reason: PACKET_IN_REASON.arpUnknownTarget,
    });
    expect(
      handlePacketIn(
        i,
        sw,
        packetIn("in_port=10", arp("fa:16:3e:aa:00:01", "203.0.113.10", "203.0.113.10")),
      ).kind,
    ).toBe("drop");
    // The other network's addresses are not answered on this one.
    expect(
      handlePacketIn(
        i,
        sw,
        packetIn("in_port=10", arp("fa:16:3e:aa:00:01", "203.0.113.10", "203.0.113.74")),
      ).kind,
    ).toBe("drop");
  });

  it("drops spoofed ARP: another MAC as sender, or an IP the port does not own", async () => {
    const i = await intent();
    for (const frame of [
      arp("fa:16:3e:aa:00:99", "203.0.113.10", "203.0.113.1"),
      arp("fa:16:3e:aa:00:01", "203.0.113.12", "203.0.113.1"),
    ]) {
      expect(handlePacketIn(i, sw, packetIn("in_port=10", frame))).toEqual({
        kind: "drop",
        reason: PACKET_IN_REASON.arpSpoofed,
      });
    }
    // An RFC 5227 probe (sender 0.0.0.0) is fine.
    expect(
      handlePacketIn(
        i,
        sw,
        packetIn("in_port=10", arp("fa:16:3e:aa:00:01", "0.0.0.0", "203.0.113.1")),
      ).kind,
    ).toBe("reply");
  });

  it("routes a frame for the gateway MAC that met no routing flow: dec_ttl, both MACs, explicit delivery", async () => {
    const frame = buildUdp({
      eth: { src: macFromString("fa:16:3e:aa:00:01"), dst: macFromString("fa:16:3e:00:01:01") },
      ip: {
        kind: "ipv4",
        src: ipv4FromString("203.0.113.10"),
        dst: ipv4FromString("203.0.113.74"),
        ttl: 9,
      },
      srcPort: 1,
      dstPort: 2,
      payload: new Uint8Array(4),
    });
    const d = handlePacketIn(await intent(), sw, packetIn("in_port=10", frame, 41));
    expect(d.kind === "reply" && d.reason).toBe(PACKET_IN_REASON.routeForwarded);
    if (d.kind !== "reply") return;
    expect(d.packetOut.actions.map((a) => a.type)).toEqual([
      "dec_nw_ttl",
      "set_field",
      "set_field",
      "output",
    ]);
    expect(d.packetOut.actions[3]).toEqual({ type: "output", port: 11, maxLen: 0 });
    expect(d.resync).toBe(true);
  });

  it("drops a route miss to an address no port holds, and anything unparsable", async () => {
    const i = await intent();
    const frame = buildUdp({
      eth: { src: macFromString("fa:16:3e:aa:00:01"), dst: macFromString("fa:16:3e:00:01:01") },
      ip: {
        kind: "ipv4",
        src: ipv4FromString("203.0.113.10"),
        dst: ipv4FromString("203.0.113.99"),
        ttl: 9,
      },
      srcPort: 1,
      dstPort: 2,
      payload: new Uint8Array(4),
    });
    expect(handlePacketIn(i, sw, packetIn("in_port=10", frame, 41)).kind).toBe("drop");
    expect(handlePacketIn(i, sw, packetIn("in_port=10", new Uint8Array(5)))).toEqual({
      kind: "drop",
      reason: PACKET_IN_REASON.malformed,
    });
  });
});

describe("TokenBucket", () => {
  it("allows a burst, then the rate", () => {
    const b = new TokenBucket(100, 5);
    const first = Array.from({ length: 10 }, () => b.take(0)).filter(Boolean).length;
    expect(first).toBe(5);
    expect(b.take(5)).toBe(false); // 0.5 token after 5 ms
    expect(b.take(10)).toBe(true); // 1 token after 10 ms
    expect(b.take(10)).toBe(false);
  });
});
