/**
 * set_field of every OXM field the datapath models, on a packet that has the
 * field: after the action the key holds the new value, and the frame on the
 * wire parses back to exactly that key (headers rewritten in place with
 * correct checksums). Values are random but seeded.
 */
import { describe, expect, it } from "vitest";
import type { Action } from "../../codec/actions.js";
import { OXM_FIELDS, fieldByName, type OxmEntry, type OxmField } from "../../codec/oxm.js";
import {
  FK,
  FlowKey,
  arpRequest,
  buildTcp,
  buildUdp,
  icmpEchoRequest,
  icmpv6EchoRequest,
  ipv4FromString,
  ipv6FromString,
  macFromString,
  neighborAdvert,
  neighborSolicit,
  parseFrame,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
} from "../../codec/packet/index.js";
import { FIELD_PLACEMENT } from "../../datapath/classifier/match-compile.js";
import { applyWrites, compileConstWrite, fieldWidth } from "../../datapath/actions/field-access.js";
import { flowMod, oneBridge } from "./switch-helpers.js";

const A = macFromString("02:00:00:00:00:0a");
const B = macFromString("02:00:00:00:00:0b");
const V4 = {
  kind: "ipv4" as const,
  src: ipv4FromString("10.1.1.1"),
  dst: ipv4FromString("10.2.2.2"),
};
const V6 = {
  kind: "ipv6" as const,
  src: ipv6FromString("2001:db8::1"),
  dst: ipv6FromString("2001:db8::2"),
};

/** A packet carrying the field, and match entries meeting its prerequisites. */
function packetFor(f: OxmField): { frame: Uint8Array; match: [string, number[]][] } {
  const ipv4Udp = buildUdp({
    eth: { src: A, dst: B },
    ip: V4,
    srcPort: 1111,
    dstPort: 2222,
    payload: new Uint8Array(10),
  });
  // vlan_vid/vlan_tci writes need a tag in the match (OVS: OFPBAC_MATCH_INCONSISTENT otherwise).
  switch (f.logical === "vlan_vid" || f.logical === "vlan_tci" ? "vlan_vid" : f.prereq) {
    case "vlan_vid":
      return {
        frame: buildUdp({
          eth: { src: A, dst: B, vlan: { vid: 7, pcp: 1 } },
          ip: V4,
          srcPort: 1,
          dstPort: 2,
        }),
        match: [["vlan_vid", [0x10, 0x00, 0x10, 0x00]]],
      };
    case "ipv4":
      return { frame: ipv4Udp, match: [["eth_type", [0x08, 0x00]]] };
    case "ip_any":
      return { frame: ipv4Udp, match: [["eth_type", [0x08, 0x00]]] };
    case "ipv6":
      return {
        frame: buildUdp({
          eth: { src: A, dst: B },
          ip: V6,
          srcPort: 1,
          dstPort: 2,
          payload: new Uint8Array(4),
        }),
        match: [["eth_type", [0x86, 0xdd]]],
      };
    case "tcp":
      return {
        frame: buildTcp({ eth: { src: A, dst: B }, ip: V4, srcPort: 1, dstPort: 2 }),
        match: [
          ["eth_type", [0x08, 0x00]],
          ["ip_proto", [6]],
        ],
      };
    case "udp":
      return {
        frame: ipv4Udp,
        match: [
          ["eth_type", [0x08, 0x00]],
          ["ip_proto", [17]],
        ],
      };
    case "icmpv4":
      return {
        frame: icmpEchoRequest({ eth: { src: A, dst: B }, ip: V4, id: 1, seq: 2 }),
        match: [
          ["eth_type", [0x08, 0x00]],
          ["ip_proto", [1]],
        ],
      };
    case "icmpv6":
      return {
        frame: icmpv6EchoRequest({ eth: { src: A, dst: B }, ip: V6, id: 1, seq: 2 }),
        match: [
          ["eth_type", [0x86, 0xdd]],
          ["ip_proto", [58]],
        ],
      };
    case "nd":
    case "nd_solicit":
      return {
        frame: neighborSolicit({ ethSrc: A, ipSrc: V6.src, target: V6.dst }),
        match: [
          ["eth_type", [0x86, 0xdd]],
          ["ip_proto", [58]],
          ["icmpv6_type", [135]],
          ["icmpv6_code", [0]],
        ],
      };
    case "nd_advert":
      return {
        frame: neighborAdvert({
          ethSrc: A,
          ethDst: B,
          ipSrc: V6.src,
          ipDst: V6.dst,
          target: V6.src,
          tll: A,
        } as never),
        match: [
          ["eth_type", [0x86, 0xdd]],
          ["ip_proto", [58]],
          ["icmpv6_type", [136]],
          ["icmpv6_code", [0]],
        ],
      };
    case "arp":
      return {
        frame: arpRequest({ sha: A, spa: V4.src, tpa: V4.dst }),
        match: [["eth_type", [0x08, 0x06]]],
      };
    default:
      return { frame: ipv4Udp, match: [] };
  }
}

/** Seeded xorshift. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) & 0xff;
  };
}

function valueFor(f: OxmField, next: () => number): Uint8Array {
  const v = new Uint8Array(f.size);
  for (let i = 0; i < v.length; i++) v[i] = next();
  if (f.validMask !== undefined) {
    let n = 0;
    for (const b of v) n = n * 256 + b;
    n = (n % (f.validMask + 1)) & f.validMask;
    for (let i = v.length - 1; i >= 0; i--) {
      v[i] = n & 0xff;
      n = Math.floor(n / 256);
    }
  }
  if (f.name === "vlan_vid") v[0] = (v[0]! & 0x0f) | 0x10; // OFPVID_PRESENT
  if (f.name === "vlan_tci") v[0] = v[0]! | 0x10; // keep the tag
  if (f.name === "icmpv6_type" && v[0]! >= 133 && v[0]! <= 137) v[0] = 128; // stay non-ND
  return v;
}

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

const FIELDS = OXM_FIELDS.filter(
  (f) =>
    f.preferred &&
    f.writable &&
    FIELD_PLACEMENT[f.logical] !== undefined &&
    f.name !== "in_port" && // set_field in_port is refused (OFPBAC_BAD_SET_ARGUMENT)
    f.name !== "ct_mark" && // only inside ct()
    f.prereq !== "sctp", // no SCTP builder
);

describe("set_field of every modelled field", () => {
  it("covers the fields it should", () => {
    for (const n of [
      "eth_src",
      "vlan_vid",
      "vlan_pcp",
      "ip_dscp",
      "nw_ttl",
      "tcp_dst",
      "udp_src",
      "icmpv6_code",
      "nd_target",
      "nd_sll",
      "nd_tll",
      "arp_tha",
      "tun_id",
      "xxreg3",
      "metadata",
    ]) {
      expect(FIELDS.map((f) => f.name)).toContain(n);
    }
  });

  for (const f of FIELDS) {
    it(`${f.name}`, () => {
      const next = rng(f.name.length * 7919 + f.header);
      for (let round = 0; round < 4; round++) {
        const { br, dp, sink } = oneBridge(2);
        const { frame, match } = packetFor(f);
        const value = valueFor(f, next);
        const entry: OxmEntry = { field: f, value, mask: undefined };
        const actions: Action[] = [
          { type: "set_field", entry },
          { type: "output", port: 2, maxLen: 0 },
        ];
        br.flowMod(
          {
            ...flowMod("priority=1,actions=drop"),
            match: {
              entries: match.map(([n, b]) => ({
                field: fieldByName(n)!,
                value: Uint8Array.from(b.slice(0, fieldByName(n)!.size)),
                mask:
                  b.length > fieldByName(n)!.size
                    ? Uint8Array.from(b.slice(fieldByName(n)!.size))
                    : undefined,
              })),
            },
            instructions: [{ type: "apply_actions", actions }],
          },
          0,
        );
        const before = new FlowKey();
        parseFrame(frame, before);
        before.w[FK.IN_PORT] = 1;
        expect(br.receive(1, frame, 0)).toBe(true);
        const out = sink.take();
        expect(out, `${f.name} output`).toHaveLength(1);
        const finalKey = dp.xlate.key;
        // 1. The key holds exactly the written bits.
        const expected = before.clone();
        applyWrites(expected.w, compileConstWrite(f, 0, fieldWidth(f), bytesToBig(value)));
        expect(Array.from(finalKey.w), `${f.name} key`).toEqual(Array.from(expected.w));
        // 2. The frame on the wire says what the key says.
        const wire = new FlowKey();
        parseFrame(out[0]!.frame, wire);
        expect(Array.from(wire.w.subarray(FK.PACKET_START)), `${f.name} wire`).toEqual(
          Array.from(finalKey.w.subarray(FK.PACKET_START)),
        );
        // 3. Checksums still hold.
        const o = out[0]!.frame;
        if (wire.w[FK.ETH_TYPE] === 0x0800)
          expect(verifyIpv4HeaderChecksum(o, wire.l3Ofs)).toBe(true);
        const proto = wire.w[FK.NW_PROTO]!;
        if (
          (wire.w[FK.ETH_TYPE] === 0x0800 || wire.w[FK.ETH_TYPE] === 0x86dd) &&
          [6, 17, 58, 1].includes(proto)
        ) {
          expect(
            verifyL4Checksum(o, { l3: wire.l3Ofs, l4: wire.l4Ofs, end: wire.l3End, proto }),
            `${f.name} l4 checksum`,
          ).toBe(true);
        }
      }
    });
  }
});
