/**
 * parseFrame unit tests: hand-written golden frames (bytes commented per
 * field, expected values read off the bytes), statuses, offsets, the VLAN
 * limit, metadata preservation, counters, and properties (build → parse gives
 * the spec's fields back; no input ever throws).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ETH_TYPE,
  FK,
  FlowKey,
  NO_OFFSET,
  NW_FRAG,
  PARSE_STATUS,
  PARSE_STATUS_NAME,
  ParseCounters,
  ipv4FromString,
  ipv6FromString,
  macFromString,
  parseFrame,
} from "../../codec/packet/index.js";
import { builtFrameArb, goldenFrames, hex } from "./packet-corpus.js";

/** 128-bit address → the four key words, most significant first. */
function words(addr: Uint8Array): number[] {
  const dv = new DataView(addr.buffer, addr.byteOffset, 16);
  return [0, 4, 8, 12].map((o) => dv.getUint32(o));
}

function macWords(text: string): [number, number] {
  const m = macFromString(text);
  const dv = new DataView(m.buffer);
  return [dv.getUint16(0), dv.getUint32(2)];
}

const ARP_REQUEST = hex(`
  ffffffffffff         # eth dst: broadcast
  fa163e000001         # eth src
  0806                 # ethertype ARP
  0001 0800 06 04      # htype Ethernet, ptype IPv4, hlen 6, plen 4
  0001                 # op request
  fa163e000001         # sha
  c6336401             # spa 198.51.100.1
  000000000000         # tha
  cb007101             # tpa 203.0.113.1
`);

const TCP_VLAN = hex(`
  fa163e0000aa         # eth dst
  fa163e0000bb         # eth src
  8100 a064            # 802.1Q: pcp 5, vid 100
  0800                 # ethertype IPv4
  46 b9 002c 1234 4000 # ver 4 ihl 6, tos 0xb9 (dscp 46, ecn 1), total 44, id, DF
  3f 06 0000           # ttl 63, proto TCP, checksum (not checked by the parser)
  cb007105 c6336409    # src 203.0.113.5, dst 198.51.100.9
  01010101             # 4 bytes of IP options (ihl 6)
  01bb c350            # sport 443, dport 50000
  00000001 00000000    # seq, ack
  50 12 ffff 0000 0000 # data offset 5, flags SYN|ACK, window, checksum, urgent
  eeee                 # 2 bytes of Ethernet padding past the total length
`);

const NS = hex(`
  3333ff000002         # eth dst: multicast for ff02::1:ff00:2
  fa163e000001         # eth src
  86dd                 # ethertype IPv6
  6 00 12345           # version 6, traffic class 0, flow label 0x12345
  0020 3a ff           # payload length 32, next header ICMPv6, hop limit 255
  20010db8000000000000000000000001  # src 2001:db8::1
  ff0200000000000000000001ff000002  # dst ff02::1:ff00:2
  87 00 0000 00000000  # type 135 NS, code 0, checksum, reserved
  20010db8000000000000000000000002  # target 2001:db8::2
  01 01 fa163e000001   # option: source link-layer address
`);

describe("parseFrame: golden frames", () => {
  it("ARP request", () => {
    const k = new FlowKey();
    expect(parseFrame(ARP_REQUEST, k)).toBe(PARSE_STATUS.OK);
    const w = k.w;
    expect([w[FK.ETH_DST_HI], w[FK.ETH_DST_LO]]).toEqual([0xffff, 0xffffffff]);
    expect([w[FK.ETH_SRC_HI], w[FK.ETH_SRC_LO]]).toEqual(macWords("fa:16:3e:00:00:01"));
    expect(k.ethType).toBe(0x0806);
    expect(w[FK.ARP_OP]).toBe(1);
    expect(w[FK.ARP_SPA]).toBe(ipv4FromString("198.51.100.1"));
    expect(w[FK.ARP_TPA]).toBe(ipv4FromString("203.0.113.1"));
    expect([w[FK.ARP_SHA_HI], w[FK.ARP_SHA_LO]]).toEqual(macWords("fa:16:3e:00:00:01"));
    expect([w[FK.ARP_THA_HI], w[FK.ARP_THA_LO]]).toEqual([0, 0]);
    expect(w[FK.NW_PROTO]).toBe(0); // ARP opcode is not aliased onto nw_proto here
    expect(k.l3Ofs).toBe(14);
    expect(k.l4Ofs).toBe(NO_OFFSET);
  });

  it("TCP over IPv4 with options, VLAN tag and padding", () => {
    const k = new FlowKey();
    expect(parseFrame(TCP_VLAN, k)).toBe(PARSE_STATUS.OK);
    const w = k.w;
    expect(w[FK.VLAN_TCI]).toBe(0xa064 | 0x1000);
    expect(w[FK.VLAN_TPID]).toBe(0x8100);
    expect(k.vlanVid).toBe(100 | 0x1000); // OF1.3 vlan_vid with OFPVID_PRESENT
    expect(k.vlanPcp).toBe(5);
    expect(k.ethType).toBe(0x0800);
    expect(w[FK.NW_TOS]).toBe(0xb9);
    expect(k.ipDscp).toBe(46);
    expect(k.ipEcn).toBe(1);
    expect(w[FK.NW_TTL]).toBe(63);
    expect(k.nwProto).toBe(6);
    expect(w[FK.NW_SRC]).toBe(ipv4FromString("203.0.113.5"));
    expect(w[FK.NW_DST]).toBe(ipv4FromString("198.51.100.9"));
    expect(w[FK.NW_FRAG]).toBe(0); // DF alone is not a fragment
    expect(w[FK.TP_SRC]).toBe(443);
    expect(w[FK.TP_DST]).toBe(50000);
    expect(w[FK.TCP_FLAGS]).toBe(0x012);
    expect([k.vlanOfs, k.l3Ofs, k.l4Ofs, k.l7Ofs, k.l3End, k.l2PadSize]).toEqual([
      12, 18, 42, 62, 62, 2,
    ]);
  });

  it("Neighbor Solicitation with SLL", () => {
    const k = new FlowKey();
    expect(parseFrame(NS, k)).toBe(PARSE_STATUS.OK);
    const w = k.w;
    expect(k.ethType).toBe(0x86dd);
    expect(Array.from(w.subarray(FK.IPV6_SRC0, FK.IPV6_SRC0 + 4))).toEqual(
      words(ipv6FromString("2001:db8::1")),
    );
    expect(Array.from(w.subarray(FK.IPV6_DST0, FK.IPV6_DST0 + 4))).toEqual(
      words(ipv6FromString("ff02::1:ff00:2")),
    );
    expect(w[FK.IPV6_LABEL]).toBe(0x12345);
    expect(w[FK.NW_TTL]).toBe(255);
    expect(k.nwProto).toBe(58);
    expect([w[FK.ICMP_TYPE], w[FK.ICMP_CODE]]).toEqual([135, 0]);
    expect(Array.from(w.subarray(FK.ND_TARGET0, FK.ND_TARGET0 + 4))).toEqual(
      words(ipv6FromString("2001:db8::2")),
    );
    expect([w[FK.ND_SLL_HI], w[FK.ND_SLL_LO]]).toEqual(macWords("fa:16:3e:00:00:01"));
    expect([w[FK.ND_TLL_HI], w[FK.ND_TLL_LO]]).toEqual([0, 0]);
    expect(w[FK.ND_OPTIONS_TYPE]).toBe(1);
    expect([k.l3Ofs, k.l4Ofs, k.l3End]).toEqual([14, 54, NS.length]);
  });
});

describe("parseFrame: statuses and OVS semantics", () => {
  const byName = new Map(goldenFrames().map((g) => [g.name, g.frame]));
  const parse = (name: string, vlanLimit = 1): { status: number; k: FlowKey } => {
    const k = new FlowKey();
    const status = parseFrame(byName.get(name)!, k, { vlanLimit });
    return { status, k };
  };

  it.each([
    ["13 bytes", PARSE_STATUS.ETH_TRUNCATED],
    ["vlan tag without room for the inner type", PARSE_STATUS.VLAN_TRUNCATED],
    ["ipv4 ihl 4", PARSE_STATUS.IPV4_BAD_LENGTH],
    ["ipv4 total length beyond frame", PARSE_STATUS.IPV4_BAD_LENGTH],
    ["tcp with data offset 4 (invalid)", PARSE_STATUS.L4_TRUNCATED],
    ["tcp with data offset 15 past the datagram", PARSE_STATUS.L4_TRUNCATED],
    ["ipv6 truncated extension header", PARSE_STATUS.IPV6_EXT_TRUNCATED],
    ["nd with duplicate sll", PARSE_STATUS.ND_BAD_OPTION],
    ["nd with zero-length option", PARSE_STATUS.ND_TRUNCATED],
    ["nd with option running past the end", PARSE_STATUS.ND_TRUNCATED],
    ["nd without target", PARSE_STATUS.ND_TRUNCATED],
    ["arp request", PARSE_STATUS.OK],
    ["ipv6 later fragment", PARSE_STATUS.OK],
  ] as const)("%s → %s", (name, status) => {
    expect(PARSE_STATUS_NAME[parse(name).status]).toBe(PARSE_STATUS_NAME[status]);
  });

  it("a frame shorter than 14 bytes leaves the whole packet section zero", () => {
    const { k } = parse("13 bytes");
    expect(k.w.subarray(FK.PACKET_START).every((x) => x === 0)).toBe(true);
    expect(k.l3Ofs).toBe(NO_OFFSET);
  });

  it("vlanLimit 1 (ovs-vswitchd default) leaves the inner tag as payload: eth_type 0x8100", () => {
    const one = parse("tcp over ipv6 in qinq", 1).k;
    expect(one.w[FK.VLAN_TPID]).toBe(0x88a8);
    expect(one.vlanVid).toBe(100 | 0x1000);
    expect(one.ethType).toBe(ETH_TYPE.VLAN);
    expect(one.w[FK.VLAN_TCI2]).toBe(0);
    expect(one.w[FK.TP_SRC]).toBe(0);
    const two = parse("tcp over ipv6 in qinq", 2).k;
    expect(two.ethType).toBe(ETH_TYPE.IPV6);
    expect(two.w[FK.VLAN_TCI2]).toBe(((6 << 13) | 200 | 0x1000) >>> 0);
    expect(two.w[FK.TP_SRC]).toBe(22);
  });

  it("later fragments have no L4 fields; IPv6 ones report nw_proto 44", () => {
    const v4 = parse("ipv4 later fragment").k;
    expect(v4.w[FK.NW_FRAG]).toBe(NW_FRAG.ANY | NW_FRAG.LATER);
    expect(v4.w[FK.TP_SRC]).toBe(0);
    expect(v4.nwProto).toBe(17);
    const v6 = parse("ipv6 later fragment").k;
    expect(v6.w[FK.NW_FRAG]).toBe(NW_FRAG.ANY | NW_FRAG.LATER);
    expect(v6.nwProto).toBe(44);
    expect(v6.w[FK.TP_DST]).toBe(0);
    const first = parse("ipv6 first fragment").k;
    expect(first.w[FK.NW_FRAG]).toBe(NW_FRAG.ANY);
    expect([first.nwProto, first.w[FK.TP_SRC], first.w[FK.TP_DST]]).toEqual([17, 7, 8]);
  });

  it("ARP opcodes above 0xff are dropped, other fields kept", () => {
    const { k } = parse("arp opcode 0x0101 (above 0xff)");
    expect(k.w[FK.ARP_OP]).toBe(0);
    expect(k.w[FK.ARP_SPA]).toBe(ipv4FromString("198.51.100.10"));
  });

  it("non-Ethernet/IPv4 ARP yields no ARP fields", () => {
    const { k, status } = parse("arp hlen 8 (not Ethernet/IPv4)");
    expect(status).toBe(PARSE_STATUS.OK);
    expect(k.w[FK.ARP_SPA]).toBe(0);
    expect(k.w[FK.ARP_OP]).toBe(0);
  });

  it("802.3 with SNAP uses the SNAP type; without it eth_type is 0x05ff", () => {
    expect(parse("802.3 llc/snap carrying ipv4").k.ethType).toBe(0x0800);
    expect(parse("802.3 llc/snap carrying ipv4").k.w[FK.TP_DST]).toBe(4);
    expect(parse("802.3 stp llc").k.ethType).toBe(0x05ff);
    expect(parse("802.3 llc/snap with a length as type").k.ethType).toBe(0x05ff);
  });

  it("a duplicate SLL zeroes target, SLL and TLL but keeps nd_options_type", () => {
    const { k } = parse("nd with duplicate sll");
    expect(k.w.subarray(FK.ND_TARGET0, FK.ND_TARGET0 + 4).every((x) => x === 0)).toBe(true);
    expect([k.w[FK.ND_SLL_HI], k.w[FK.ND_SLL_LO]]).toEqual([0, 0]);
    expect(k.w[FK.ND_OPTIONS_TYPE]).toBe(1);
    expect(k.w[FK.ICMP_TYPE]).toBe(135);
  });

  it("an IPv6 extension header running past the datagram keeps only the addresses", () => {
    const { k } = parse("ipv6 truncated extension header");
    expect(k.w[FK.IPV6_SRC0]).toBe(0x20010db8);
    expect([k.nwProto, k.w[FK.NW_TTL], k.l4Ofs]).toEqual([0, 0, NO_OFFSET]);
  });

  it("never writes the metadata section, and zeroes fields left over from the previous frame", () => {
    const k = new FlowKey();
    k.inPort = 7;
    k.tunId = 0x123456789an;
    k.metadata = 0xfedcba9876543210n;
    k.regs[15] = 0xdeadbeef;
    k.w[FK.PKT_MARK] = 5;
    parseFrame(byName.get("tcp syn-ack with options and tos")!, k);
    expect(k.w[FK.TP_SRC]).toBe(443);
    parseFrame(byName.get("arp request")!, k);
    expect(k.w[FK.TP_SRC]).toBe(0);
    expect(k.inPort).toBe(7);
    expect(k.tunId).toBe(0x123456789an);
    expect(k.metadata).toBe(0xfedcba9876543210n);
    expect(k.w[FK.REG0 + 15]).toBe(0xdeadbeef);
    expect(k.w[FK.PKT_MARK]).toBe(5);
  });

  it("counts statuses when given counters", () => {
    const counters = new ParseCounters();
    const k = new FlowKey();
    const opts = { counters };
    parseFrame(byName.get("arp request")!, k, opts);
    parseFrame(byName.get("13 bytes")!, k, opts);
    parseFrame(byName.get("13 bytes")!, k, opts);
    expect(counters.counts[PARSE_STATUS.OK]).toBe(1);
    expect(counters.counts[PARSE_STATUS.ETH_TRUNCATED]).toBe(2);
    expect(counters.total()).toBe(3);
  });

  it("parses a subarray view at a nonzero byteOffset", () => {
    const f = byName.get("udp over ipv4")!;
    const backing = new Uint8Array(f.length + 3);
    backing.set(f, 3);
    const k = new FlowKey();
    parseFrame(backing.subarray(3), k);
    expect([k.w[FK.TP_SRC], k.w[FK.TP_DST]]).toEqual([68, 67]);
  });

  it("clone/copyFrom/equals", () => {
    const k = new FlowKey();
    parseFrame(byName.get("udp over ipv4")!, k);
    const c = k.clone();
    expect(c.equals(k)).toBe(true);
    expect(c.l4Ofs).toBe(k.l4Ofs);
    c.w[FK.TP_DST] = 1;
    expect(c.equals(k)).toBe(false);
  });
});

describe("parseFrame: properties", () => {
  it("build → parse returns the spec's fields", () => {
    const k = new FlowKey();
    fc.assert(
      fc.property(builtFrameArb, (b) => {
        const status = parseFrame(b.frame, k, { vlanLimit: 2 });
        expect(status).toBe(PARSE_STATUS.OK);
        const w = k.w;
        if (b.kind === "arp") {
          const s = b.spec;
          expect([w[FK.ARP_OP], w[FK.ARP_SPA], w[FK.ARP_TPA]]).toEqual([
            s.reply ? 2 : 1,
            s.spa,
            s.tpa,
          ]);
          const sha = new Uint8Array(6);
          k.macInto(FK.ARP_SHA_HI, sha);
          expect(sha).toEqual(s.sha);
          return;
        }
        if (b.kind === "ns" || b.kind === "na") {
          const t = new Uint8Array(16);
          k.ipv6Into(FK.ND_TARGET0, t);
          expect(t).toEqual(b.spec.target);
          const lla = new Uint8Array(6);
          k.macInto(b.kind === "ns" ? FK.ND_SLL_HI : FK.ND_TLL_HI, lla);
          expect(lla).toEqual(b.spec.ethSrc);
          expect(w[FK.NW_TTL]).toBe(255);
          return;
        }
        const s = b.spec;
        const tags = (s.eth.vlan ?? []) as { vid: number; pcp?: number; tpid?: number }[];
        const src = new Uint8Array(6);
        k.macInto(FK.ETH_SRC_HI, src);
        expect(src).toEqual(s.eth.src);
        if (tags.length > 0) {
          expect(w[FK.VLAN_TCI]).toBe(((tags[0]!.pcp ?? 0) << 13) | 0x1000 | tags[0]!.vid);
          expect(w[FK.VLAN_TPID]).toBe(tags[0]!.tpid ?? 0x8100);
        } else expect(w[FK.VLAN_TCI]).toBe(0);
        if (s.ip.kind === "ipv4") {
          expect([w[FK.NW_SRC], w[FK.NW_DST], w[FK.NW_TTL], w[FK.NW_TOS]]).toEqual([
            s.ip.src,
            s.ip.dst,
            s.ip.ttl,
            s.ip.tos,
          ]);
          expect(k.l4Ofs - k.l3Ofs).toBe(20 + (s.ip.options?.length ?? 0));
        } else {
          const a = new Uint8Array(16);
          k.ipv6Into(FK.IPV6_DST0, a);
          expect(a).toEqual(s.ip.dst);
          expect([w[FK.IPV6_LABEL], w[FK.NW_TOS], w[FK.NW_TTL]]).toEqual([
            s.ip.flowLabel,
            s.ip.trafficClass,
            s.ip.hopLimit,
          ]);
        }
        if (b.kind === "udp" || b.kind === "tcp") {
          expect([w[FK.TP_SRC], w[FK.TP_DST]]).toEqual([b.spec.srcPort, b.spec.dstPort]);
          expect(k.l3End).toBe(b.frame.length);
        }
        if (b.kind === "tcp") {
          expect(w[FK.TCP_FLAGS]).toBe(b.spec.flags);
          expect(k.l7Ofs - k.l4Ofs).toBe(20 + b.spec.options.length);
        }
        if (b.kind === "icmp") expect(w[FK.ICMP_TYPE]).toBe(b.spec.reply ? 0 : 8);
        if (b.kind === "icmp6") expect(w[FK.ICMP_TYPE]).toBe(128);
      }),
      { numRuns: 2000 },
    );
  });

  it("random bytes never throw and always return a known status", () => {
    const k = new FlowKey();
    const biasedType = fc.constantFrom(
      0x0800,
      0x86dd,
      0x0806,
      0x8100,
      0x88a8,
      0x8035,
      0x0020,
      0xffff,
    );
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .tuple(
          fc.uint8Array({ minLength: 12, maxLength: 12 }),
          biasedType,
          fc.uint8Array({ maxLength: 120 }),
        )
        .map(([macs, t, rest]) => Uint8Array.of(...macs, t >> 8, t & 0xff, ...rest)),
    );
    fc.assert(
      fc.property(frame, fc.constantFrom(0, 1, 2), (f, vlanLimit) => {
        const s = parseFrame(f, k, { vlanLimit });
        expect(PARSE_STATUS_NAME[s]).toBeDefined();
        // Offsets always stay inside the frame.
        for (const o of [k.vlanOfs, k.l3Ofs, k.l4Ofs, k.l7Ofs, k.l3End])
          expect(o).toBeLessThanOrEqual(f.length);
      }),
      { numRuns: 20000 },
    );
  });

  it("truncation at every byte offset of every golden frame never throws", () => {
    const k = new FlowKey();
    for (const { frame } of goldenFrames()) {
      for (let n = 0; n <= frame.length; n++) {
        for (const vlanLimit of [1, 2]) {
          const s = parseFrame(frame.subarray(0, n), k, { vlanLimit });
          expect(PARSE_STATUS_NAME[s]).toBeDefined();
          if (n < 14) expect(s).toBe(PARSE_STATUS.ETH_TRUNCATED);
        }
      }
    }
  });
});
