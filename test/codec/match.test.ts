import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  canonicalMatch,
  canonicalOrder,
  decodeMatch,
  encodeMatch,
  matchSize,
} from "../../codec/match.js";
import { fieldByName, type Match, type OxmEntry } from "../../codec/oxm.js";
import { Reader } from "../../codec/reader.js";
import { Writer } from "../../codec/writer.js";
import { bytesToHex, hexToBytes } from "../../codec/values.js";

const hex = (s: string): Uint8Array => hexToBytes(s.replace(/\s/g, ""))!;

function decode(bytes: Uint8Array, strict = true): Match {
  const r = new Reader(bytes);
  const m = decodeMatch(r, { strict });
  expect(r.pos).toBe(bytes.length);
  return m;
}

function encode(m: Match): string {
  const w = new Writer();
  encodeMatch(w, m);
  return bytesToHex(w.finish());
}

/**
 * ofp_match bytes (with pad) that OVS 3.1 writes, produced by
 * `ovs-ofctl -O OpenFlow13 -mmmmm parse-flows FILE` for the flow in the comment
 * (bytes 48.. of the FLOW_MOD). OVS's order is canonical: prerequisites first.
 */
const GOLDEN: Array<[string, string]> = [
  [
    "arp,in_port=3,dl_vlan=5,dl_src=00:11:22:33:44:55,arp_tpa=10.0.0.1,arp_sha=00:11:22:33:44:66,tun_id=0x55,tun_dst=1.2.3.4,reg6=0x5/0xff,metadata=0x1",
    "0001006080000004000000038000080600112233445580000a02080680000c02100580002e040a0000018000300600112233446680004c080000000000000055000140040102030400010d0800000005000000ff800004080000000000000001",
  ],
  [
    "tcp,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,tp_src=80,tp_dst=0x1000/0xf000,tcp_flags=+syn-ack,nw_tos=16,nw_ecn=1",
    "0001004780000a020800800017080a000000ff00000080001804c0a8010180001001048000120101800014010680001a02005080001d041000f000ffff55084f4e46000002001200",
  ],
  [
    "udp6,ipv6_src=2001:db8::1,ipv6_dst=fe80::/10,ipv6_label=0x12345,udp_dst=53",
    "0001005580000a0286dd8000341020010db800000000000000000000000180003720fe800000000000000000000000000000ffc0000000000000000000000000000080003804000123458000140111800020020035000000",
  ],
  [
    "icmp6,icmp_type=136,icmp_code=0,nd_target=fe80::1,nd_tll=00:11:22:33:44:55",
    "0001003780000a0286dd800014013a80003a018880003c010080003e10fe8000000000000000000000000000018000420600112233445500",
  ],
  [
    "icmp,icmp_type=8,icmp_code=0,nw_ttl=64",
    "0001001e80000a02080000013a01408000140101800026010880002801000000",
  ],
  [
    "mpls,mpls_label=100,mpls_tc=3,mpls_bos=1",
    "0001001c80000a02884780004601038000480101800044040000006400000000",
  ],
  [
    "sctp,sctp_src=1,sctp_dst=2",
    "0001001b80000a02080080001401848000220200018000240200020000000000",
  ],
  [
    "vlan_tci=0x0000/0x1fff,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
    "0001001a8000070c01000000000001000000000080000c020000000000000000",
  ],
  ["dl_vlan=5,dl_vlan_pcp=3", "0001000f80000c02100580000e010300"],
  [
    "ct_state=+trk+est,ct_zone=5,ct_mark=0x1/0x1,ct_label=0x10/0xff,reg5=0x3,conj_id=7,pkt_mark=0x9,ip",
    "0001006400014a040000000780000a02080000010a040000000300014204000000090001d30800000022000000220001d40200050001d70800000001000000010001d92000000000000000000000000000000010000000000000000000000000000000ff00000000",
  ],
  [
    "tun_src=10.0.0.1,tun_flags=+oam,tun_gbp_id=5",
    "0001001a0001d1040001000100013e040a00000100014c020005000000000000",
  ],
  ["ip,ip_frag=later", "0001000f80000a020800000134010300"],
  ["in_port=LOCAL,tun_metadata0=0x5", "0001001180000004fffffffe000150010500000000000000"],
  [
    "rarp,arp_op=2,arp_spa=1.1.1.1,arp_tha=00:00:00:00:00:01",
    "0001002280000a02803580002a02000280002c040101010180003206000000000001000000000000",
  ],
  ["(empty match)", "0001000400000000"],
];

describe("ofp_match golden bytes (ovs-ofctl parse-flows)", () => {
  it.each(GOLDEN)("%s", (_flow, h) => {
    const m = decode(hex(h));
    expect(m.entries.every((e) => e.field !== undefined)).toBe(true);
    expect(encode(m)).toBe(h);
    expect(matchSize(m)).toBe(h.length / 2);
  });

  it.each(GOLDEN)("canonicalMatch of a reversed %s encodes to OVS's bytes", (_flow, h) => {
    const m = decode(hex(h));
    const reversed = { entries: [...m.entries].reverse() };
    expect(encode(canonicalMatch(reversed))).toBe(h);
    // encodeMatch itself keeps the order it is given (decode∘encode is the identity).
    if (m.entries.length > 1) expect(encode(reversed)).not.toBe(h);
    expect(canonicalMatch(m)).toBe(m);
  });

  it("decodes the values of the DVR br-tun match", () => {
    const m = decode(hex(GOLDEN[0]![1]));
    const byName = new Map(m.entries.map((e) => [e.field!.name, e as OxmEntry]));
    expect(bytesToHex(byName.get("tun_id")!.value)).toBe("0000000000000055");
    expect(byName.get("tun_dst")!.field.nxmName).toBe("NXM_NX_TUN_IPV4_DST");
    expect(bytesToHex(byName.get("reg6")!.mask!)).toBe("000000ff");
    expect(bytesToHex(byName.get("vlan_vid")!.value)).toBe("1005");
  });
});

describe("strict decode errors (verdicts checked with `ovs-ofctl -O OpenFlow13 ofp-print` on a FLOW_MOD)", () => {
  const match = (tlvs: string): Uint8Array => {
    const body = hex(tlvs);
    const len = 4 + body.length;
    const out = new Uint8Array((len + 7) & ~7);
    out.set([0, 1, len >> 8, len & 0xff]);
    out.set(body, 4);
    return out;
  };
  const cases: Array<[string, string, string]> = [
    ["OFPBMC_BAD_PREREQ", "arp_tpa before eth_type", "80002e040a000001 80000a020806"],
    ["OFPBMC_BAD_PREREQ", "vlan_pcp without vlan_vid", "80000e0103"],
    ["OFPBMC_BAD_PREREQ", "tcp_flags without ip_proto=6", "ffff5406 4f4e4600 0012"],
    [
      "OFPBMC_BAD_PREREQ",
      "tcp_src on a later fragment",
      "80000a020800 8000140106 0001340102 80001a020050",
    ],
    [
      "OFPBMC_BAD_PREREQ",
      "nd_target with icmpv6_code 1",
      "80000a0286dd 800014013a 80003a0187 80003c0101 80003e10 fe800000000000000000000000000001",
    ],
    [
      "OFPBMC_BAD_PREREQ",
      "nd_sll on a neighbour advert",
      "80000a0286dd 800014013a 80003a0188 80004006 001122334455",
    ],
    ["OFPBMC_BAD_PREREQ", "ct_nw_src without a valid ct_state", "0001f004 0a000001"],
    ["OFPBMC_DUP_FIELD", "eth_type twice", "80000a020806 80000a020806"],
    [
      "OFPBMC_DUP_FIELD",
      "tun_id as OXM then as NXM",
      "80004c0800000000000000ff 0001200800000000000000ff",
    ],
    ["OFPBMC_DUP_FIELD", "vlan_vid then NXM vlan_tci", "80000c021005 000008021005"],
    ["OFPBMC_BAD_MASK", "in_port with a partial mask", "80000108 00000001 000000ff"],
    ["OFPBMC_BAD_WILDCARDS", "eth_src value outside mask", "8000070c 001122334455 ffffff000000"],
    ["OFPBMC_BAD_VALUE", "vlan_vid above 0x1fff", "80000c02 2001"],
    ["OFPBMC_BAD_VALUE", "ip_dscp above 63", "80000a020800 8000100140"],
    ["OFPBMC_BAD_VALUE", "NXM_OF_IP_TOS with ECN bits", "80000a020800 00000a0103"],
    ["OFPBMC_BAD_VALUE", "arp_op above 255", "80000a020806 80002a020100"],
    ["OFPBMC_BAD_VALUE", "in_port in the 0xff00.. gap", "80000004 ffff0000"],
    ["OFPBMC_BAD_FIELD", "unknown basic field 127", "8000fe04 00000001"],
    ["OFPBMC_BAD_LEN", "TLV longer than the match", "80000008 00000001"],
    ["OFPBMC_BAD_LEN", "experimenter OXM shorter than its id", "ffff5403 4f4e46"],
  ];
  it.each(cases)("%s: %s", (code, _what, tlvs) => {
    expect(() => decodeMatch(new Reader(match(tlvs)), { strict: true })).toThrowError(
      expect.objectContaining({ code }),
    );
  });

  it("accepts a non-maskable field with an all-ones or all-zeros mask, as OVS does", () => {
    expect(decode(match("80000108 00000001 ffffffff")).entries).toHaveLength(1);
    expect(decode(match("80000108 00000000 00000000")).entries).toHaveLength(1);
  });

  it("OFPBMC_BAD_TYPE: match type other than OXM", () => {
    expect(() => decodeMatch(new Reader(hex("0000000400000000")), { strict: true })).toThrowError(
      expect.objectContaining({ code: "OFPBMC_BAD_TYPE" }),
    );
  });

  it("OFPBMC_BAD_LEN: length < 4, short header, padded match overrunning", () => {
    for (const h of ["0001000300000000", "0001", "0001000a80000a020800"]) {
      expect(() => decodeMatch(new Reader(hex(h)), { strict: true })).toThrowError(
        expect.objectContaining({ code: "OFPBMC_BAD_LEN" }),
      );
    }
  });
});

describe("loose decode (packet-in, flow-removed, stats)", () => {
  it("skips prerequisites and keeps unknown TLVs, re-encoding them", () => {
    const bytes = hex("0001 0019 80002e040a000001 0001fe03aabbcc 80000a020806 00000000000000");
    const m = decode(bytes, false);
    expect(m.entries.map((e) => e.field?.name)).toEqual(["arp_tpa", undefined, "eth_type"]);
    // encode keeps the wire order: decode∘encode is the identity
    expect(encode(m)).toBe(bytesToHex(bytes));
    // canonical order moves eth_type first, unknown last
    expect(encode(canonicalMatch(m))).toBe(
      "0001001980000a02080680002e040a0000010001fe03aabbcc00000000000000",
    );
  });
  it("still rejects duplicates, as OVS's loose pull does", () => {
    expect(() =>
      decode(hex("0001001080000a02080680000a0208060000000000000000").subarray(0, 24), false),
    ).toThrowError(expect.objectContaining({ code: "OFPBMC_DUP_FIELD" }));
  });
});

describe("structural decode (layout only)", () => {
  const structural = (bytes: Uint8Array): Match => {
    const r = new Reader(bytes);
    const m = decodeMatch(r, { strict: false, structural: true });
    expect(r.pos).toBe(bytes.length);
    return m;
  };
  it("keeps duplicates, out-of-range values and masked non-maskable fields, byte for byte", () => {
    // eth_type twice (Ryu 4-60 style), in_port 0x05060708 (OVS: BAD_VALUE), masked in_port (BAD_MASK).
    const h =
      "0001 0024 80000a020800 80000a020806 8000000405060708 8000010800000001ffffffff 00000000";
    const bytes = hex(h);
    const m = structural(bytes);
    expect(m.entries.map((e) => e.field?.name)).toEqual([
      "eth_type",
      "eth_type",
      "in_port",
      "in_port",
    ]);
    expect(encode(m)).toBe(bytesToHex(bytes));
    expect(() => decode(bytes, false)).toThrowError(
      expect.objectContaining({ code: "OFPBMC_DUP_FIELD" }),
    );
  });
  it("still checks the layout", () => {
    expect(() => structural(hex("0001 000c 80000004 000000"))).toThrowError(
      expect.objectContaining({ code: "OFPBMC_BAD_LEN" }),
    );
  });
});

describe("OF1.1 standard match type (OVS ofputil_pull_ofp11_match)", () => {
  it("reads type 0 of another length than 88 as OFPBMC_BAD_LEN where OVS pulls an OF1.1+ match", () => {
    const bytes = hex("0000000400000000");
    expect(() => decodeMatch(new Reader(bytes), { strict: true, ofp11: true })).toThrowError(
      expect.objectContaining({ code: "OFPBMC_BAD_LEN" }),
    );
    expect(() => decodeMatch(new Reader(bytes), { strict: true })).toThrowError(
      expect.objectContaining({ code: "OFPBMC_BAD_TYPE" }),
    );
  });
});

describe("properties", () => {
  it("decode∘encode is the identity on canonical matches built from the registry", () => {
    const names = [
      "in_port",
      "eth_src",
      "eth_dst",
      "tun_id",
      "tun_dst",
      "reg0",
      "reg6",
      "metadata",
      "pkt_mark",
      "ct_mark",
    ];
    const arbEntry = fc.constantFrom(...names).chain((name) => {
      const f = fieldByName(name)!;
      return fc
        .tuple(fc.uint8Array({ minLength: f.size, maxLength: f.size }), fc.boolean())
        .map(([v, masked]): OxmEntry => {
          if (f.name === "in_port") v.fill(0, 0, 3); // keep it a valid port (< 0xff00)
          return masked && f.maskable
            ? { field: f, value: v.map((b) => b & 0x0f), mask: new Uint8Array(f.size).fill(0x0f) }
            : { field: f, value: v, mask: undefined };
        });
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(arbEntry, { selector: (e) => e.field.group, maxLength: 8 }),
        (entries) => {
          const bytes = hex(encode(canonicalMatch({ entries })));
          const again = decode(bytes);
          expect(encode(again)).toBe(bytesToHex(bytes));
          expect(again.entries).toEqual(canonicalOrder(entries));
        },
      ),
    );
  });
});
