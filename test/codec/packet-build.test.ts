/**
 * Builders, checksums, in-place rewrites, VLAN push/pop and VXLAN, without
 * external tools. Golden bytes are written by hand with one field per line;
 * their checksums were computed independently (a separate RFC 1071
 * implementation), and tshark checks the same frames in packet-tshark.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FK,
  FlowKey,
  NO_OFFSET,
  arpReply,
  arpRequest,
  buildUdp,
  csumReplace16,
  csumReplace32,
  decNwTtl,
  icmpEchoRequest,
  internetChecksum,
  ipv4FromString,
  ipv4HeaderChecksum,
  ipv4ToString,
  ipv6FromString,
  ipv6ToString,
  macFromString,
  macToString,
  parseFrame,
  popVlan,
  pushVlan,
  setIpv4HeaderChecksum,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
  vxlanDecap,
  vxlanEncap,
  vxlanInnerOffset,
  vxlanTunnelInto,
  writeArp,
  writeEthDst,
  writeEthSrc,
  writeIpv4Dst,
  writeNwTtl,
  writeVlanTci,
} from "../../codec/packet/index.js";
import { IP4_A, IP4_B, MAC_A, MAC_B, builtFrameArb, hex } from "./packet-corpus.js";

const MAC_1 = macFromString("fa:16:3e:00:00:01");
const MAC_2 = macFromString("fa:16:3e:00:00:02");
const SRC = ipv4FromString("198.51.100.1");
const DST = ipv4FromString("203.0.113.9");

describe("builders: golden bytes", () => {
  it("ARP request", () => {
    expect(arpRequest({ sha: MAC_1, spa: SRC, tpa: DST })).toEqual(
      hex(`
        ffffffffffff fa163e000001 0806   # broadcast, sender, ARP
        0001 0800 06 04 0001             # Ethernet/IPv4, request
        fa163e000001 c6336401            # sha, spa 198.51.100.1
        000000000000 cb007109            # tha unknown, tpa 203.0.113.9
      `),
    );
  });

  it("ARP reply is unicast to the requester", () => {
    expect(arpReply({ sha: MAC_2, spa: DST, tha: MAC_1, tpa: SRC })).toEqual(
      hex(`
        fa163e000001 fa163e000002 0806
        0001 0800 06 04 0002             # reply
        fa163e000002 cb007109
        fa163e000001 c6336401
      `),
    );
  });

  it("ICMP echo request with checksums", () => {
    const f = icmpEchoRequest({
      eth: { dst: MAC_2, src: MAC_1 },
      ip: { kind: "ipv4", src: SRC, dst: DST },
      id: 0x1234,
      seq: 1,
      payload: new TextEncoder().encode("ping"),
    });
    expect(f).toEqual(
      hex(`
        fa163e000002 fa163e000001 0800
        45 00 0020 0000 0000 40 01 149f  # total 32, ttl 64, ICMP, header checksum
        c6336401 cb007109
        08 00 06fa 1234 0001             # echo request, checksum, id, seq
        70696e67                         # "ping"
      `),
    );
  });

  it("UDP over IPv4 with DF and checksum", () => {
    const f = buildUdp({
      eth: { dst: MAC_2, src: MAC_1 },
      ip: { kind: "ipv4", src: SRC, dst: DST, df: true },
      srcPort: 5000,
      dstPort: 53,
      payload: new TextEncoder().encode("abc"),
    });
    expect(f).toEqual(
      hex(`
        fa163e000002 fa163e000001 0800
        45 00 001f 0000 4000 40 11 d48f
        c6336401 cb007109
        1388 0035 000b c179              # sport 5000, dport 53, length 11, checksum
        616263
      `),
    );
  });
});

describe("checksums", () => {
  it("RFC 1071 §3 worked example", () => {
    // Sum of 0001 f203 f4f5 f6f7 = 2ddf0 → fold ddf2 → checksum 220d.
    expect(
      internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7), 0, 8),
    ).toBe(0x220d);
  });

  it("odd lengths pad with a zero byte", () => {
    expect(internetChecksum(Uint8Array.of(0x01), 0, 1)).toBe(~0x0100 & 0xffff);
  });

  it("RFC 1624 §4: eqn. 3 gives 0x0000 where eqn. 2 would give 0xffff", () => {
    expect(csumReplace16(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });

  it("incremental update equals full recomputation (16- and 32-bit fields)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 4 }),
        fc.nat(),
        (bytes, wordIdx, newWord, dwordIdx, newDword) => {
          const b = bytes.slice();
          b[10] = 0;
          b[11] = 0;
          const before = internetChecksum(b, 0, 20);
          if (wordIdx !== 5) {
            const o = 2 * wordIdx;
            const old = (b[o]! << 8) | b[o + 1]!;
            b[o] = newWord >> 8;
            b[o + 1] = newWord & 0xff;
            expect(csumReplace16(before, old, newWord)).toBe(internetChecksum(b, 0, 20));
          }
          const mid = internetChecksum(b, 0, 20);
          const o4 = dwordIdx === 2 ? 12 : 4 * dwordIdx; // avoid the checksum word itself
          const dv = new DataView(b.buffer);
          const old32 = dv.getUint32(o4);
          dv.setUint32(o4, newDword >>> 0);
          expect(csumReplace32(mid, old32, newDword >>> 0)).toBe(internetChecksum(b, 0, 20));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("IPv4 header checksum set/verify, and a flipped bit is detected", () => {
    fc.assert(
      fc.property(
        builtFrameArb.filter((b) => b.frame[12] === 0x08 && b.frame[13] === 0x00),
        fc.nat(),
        (b, bit) => {
          const f = b.frame.slice();
          expect(verifyIpv4HeaderChecksum(f, 14)).toBe(true);
          const ihl = (f[14]! & 0xf) * 4;
          const at = 14 + 1 + (bit % (ihl - 1)); // any header byte but the version/IHL one
          f[at] = f[at]! ^ (1 << (bit % 8));
          expect(verifyIpv4HeaderChecksum(f, 14)).toBe(false);
          setIpv4HeaderChecksum(f, 14);
          expect(verifyIpv4HeaderChecksum(f, 14)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("L4 checksums of built frames verify, and a payload change is detected", () => {
    const k = new FlowKey();
    fc.assert(
      fc.property(
        builtFrameArb.filter((b) => b.kind !== "arp"),
        (b) => {
          const f = b.frame.slice();
          parseFrame(f, k, { vlanLimit: 2 });
          const span = { l3: k.l3Ofs, l4: k.l4Ofs, end: k.l3End, proto: k.nwProto };
          expect(verifyL4Checksum(f, span)).toBe(true);
          f[k.l3End - 1] = f[k.l3End - 1]! ^ 0x40;
          expect(verifyL4Checksum(f, span)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("ipv4HeaderChecksum ignores the stored checksum", () => {
    const f = buildUdp({
      eth: { dst: MAC_A, src: MAC_B },
      ip: { kind: "ipv4", src: IP4_A, dst: IP4_B },
      srcPort: 1,
      dstPort: 2,
    });
    const stored = (f[24]! << 8) | f[25]!;
    f[24] = 0xab;
    expect(ipv4HeaderChecksum(f, 14)).toBe(stored);
  });
});

describe("in-place rewrites", () => {
  it("dec_ttl decrements and patches the checksum; TTL 1 and 0 are left alone", () => {
    const mk = (ttl: number): Uint8Array =>
      buildUdp({
        eth: { dst: MAC_A, src: MAC_B },
        ip: { kind: "ipv4", src: IP4_A, dst: IP4_B, ttl },
        srcPort: 1,
        dstPort: 2,
      });
    const k = new FlowKey();
    const f = mk(64);
    parseFrame(f, k);
    expect(decNwTtl(f, k)).toBe(true);
    expect(f[22]).toBe(63);
    expect(k.w[FK.NW_TTL]).toBe(63);
    expect(f).toEqual(mk(63)); // identical to a frame built with TTL 63, checksum included
    for (const ttl of [1, 0]) {
      const g = mk(ttl);
      const copy = g.slice();
      parseFrame(g, k);
      expect(decNwTtl(g, k)).toBe(false);
      expect(g).toEqual(copy);
    }
  });

  it("writeNwTtl on IPv6 sets the hop limit", () => {
    const f = buildUdp({
      eth: { dst: MAC_A, src: MAC_B },
      ip: { kind: "ipv6", src: ipv6FromString("2001:db8::1"), dst: ipv6FromString("2001:db8::2") },
      srcPort: 1,
      dstPort: 2,
    });
    const k = new FlowKey();
    parseFrame(f, k);
    k.w[FK.NW_TTL] = 9;
    expect(writeNwTtl(f, k)).toBe(true);
    expect(f[14 + 7]).toBe(9);
  });

  it("writers refuse frames without the layer", () => {
    const k = new FlowKey();
    const arp = arpRequest({ sha: MAC_A, spa: IP4_A, tpa: IP4_B });
    const before = arp.slice();
    parseFrame(arp, k);
    k.w[FK.NW_DST] = 1;
    expect(writeIpv4Dst(arp, k)).toBe(false);
    expect(writeNwTtl(arp, k)).toBe(false);
    expect(decNwTtl(arp, k)).toBe(false);
    expect(writeVlanTci(arp, k)).toBe(false);
    expect(arp).toEqual(before);
    parseFrame(new Uint8Array(5), k);
    expect(writeEthSrc(new Uint8Array(5), k)).toBe(false);
  });

  it("a UDP/IPv4 checksum of 0 ('none') stays 0 across an address rewrite", () => {
    const f = buildUdp({
      eth: { dst: MAC_A, src: MAC_B },
      ip: { kind: "ipv4", src: IP4_A, dst: IP4_B },
      srcPort: 1,
      dstPort: 2,
      checksum: false,
    });
    const k = new FlowKey();
    parseFrame(f, k);
    k.w[FK.NW_DST] = ipv4FromString("203.0.113.200");
    expect(writeIpv4Dst(f, k)).toBe(true);
    expect([f[40], f[41]]).toEqual([0, 0]);
    expect(verifyIpv4HeaderChecksum(f, 14)).toBe(true);
    expect(ipv4ToString(new DataView(f.buffer).getUint32(30))).toBe("203.0.113.200");
  });

  it("the ARP responder's field moves turn a request into the builder's reply", () => {
    // Neutron's responder: eth_dst←eth_src, eth_src←router MAC, op←2, tha←sha,
    // sha←router MAC, tpa←spa, spa←the address asked for.
    const routerMac = MAC_B;
    const req = arpRequest({ sha: MAC_A, spa: IP4_A, tpa: IP4_B, vlan: { vid: 12 } });
    const k = new FlowKey();
    parseFrame(req, k);
    const w = k.w;
    w[FK.ETH_DST_HI] = w[FK.ETH_SRC_HI]!;
    w[FK.ETH_DST_LO] = w[FK.ETH_SRC_LO]!;
    const dv = new DataView(routerMac.buffer, routerMac.byteOffset, 6);
    w[FK.ETH_SRC_HI] = dv.getUint16(0);
    w[FK.ETH_SRC_LO] = dv.getUint32(2);
    w[FK.ARP_OP] = 2;
    w[FK.ARP_THA_HI] = w[FK.ARP_SHA_HI]!;
    w[FK.ARP_THA_LO] = w[FK.ARP_SHA_LO]!;
    w[FK.ARP_SHA_HI] = w[FK.ETH_SRC_HI]!;
    w[FK.ARP_SHA_LO] = w[FK.ETH_SRC_LO]!;
    const asked = w[FK.ARP_TPA]!;
    w[FK.ARP_TPA] = w[FK.ARP_SPA]!;
    w[FK.ARP_SPA] = asked;
    expect(writeEthDst(req, k) && writeEthSrc(req, k) && writeArp(req, k)).toBe(true);
    expect(req).toEqual(
      arpReply({ sha: routerMac, spa: IP4_B, tha: MAC_A, tpa: IP4_A, vlan: { vid: 12 } }),
    );
  });

  it("writeVlanTci rewrites VID and PCP of the outer tag", () => {
    const f = pushVlan(arpRequest({ sha: MAC_A, spa: IP4_A, tpa: IP4_B }), { vid: 5 });
    const k = new FlowKey();
    parseFrame(f, k);
    k.w[FK.VLAN_TCI] = (3 << 13) | 0x1000 | 77;
    expect(writeVlanTci(f, k)).toBe(true);
    expect([f[14], f[15]]).toEqual([(3 << 5) | 0, 77]);
  });
});

describe("802.1Q push/pop", () => {
  it("push inserts TPID+TCI after the MACs; pop removes it", () => {
    const f = arpRequest({ sha: MAC_1, spa: SRC, tpa: DST });
    const tagged = pushVlan(f, { vid: 0x123, pcp: 5, dei: true });
    expect(tagged.subarray(12, 18)).toEqual(hex("8100 b123 0806")); // pcp 5, DEI, vid 0x123
    expect(tagged.length).toBe(f.length + 4);
    expect(popVlan(tagged)).toEqual(f);
  });

  it("pop on an untagged or tiny frame returns it unchanged", () => {
    const f = arpRequest({ sha: MAC_1, spa: SRC, tpa: DST });
    expect(popVlan(f)).toBe(f);
    const tiny = new Uint8Array(10);
    expect(popVlan(tiny)).toBe(tiny);
    expect(pushVlan(tiny, { vid: 1 })).toBe(tiny);
  });
});

describe("VXLAN", () => {
  const inner = arpRequest({ sha: MAC_1, spa: SRC, tpa: DST });
  const outerSpec = {
    eth: { dst: MAC_2, src: MAC_1 },
    ip: { kind: "ipv4" as const, src: IP4_A, dst: IP4_B, df: true },
    vni: 0xabcdef,
    srcPort: 54321,
  };

  it("encap layout: outer UDP to 4789, I flag, VNI, inner frame", () => {
    const f = vxlanEncap(inner, outerSpec);
    expect(f.length).toBe(14 + 20 + 8 + 8 + inner.length);
    expect(f.subarray(34, 50)).toEqual(
      hex(`d431 12b5 ${(16 + inner.length).toString(16).padStart(4, "0")} 0000  # sport 54321, dport 4789, len, no checksum
           08 000000 abcdef 00   # I flag, VNI`),
    );
    expect(f.subarray(50)).toEqual(inner);
  });

  it("decap returns VNI and the inner frame (a view, without outer padding)", () => {
    const f = vxlanEncap(inner, outerSpec);
    const padded = new Uint8Array(f.length + 6);
    padded.set(f);
    const r = vxlanDecap(padded);
    expect(r.kind).toBe("vxlan");
    if (r.kind !== "vxlan") return;
    expect(r.vni).toBe(0xabcdef);
    expect(r.inner).toEqual(inner);
    expect(r.inner.buffer).toBe(padded.buffer);
  });

  it("vxlanTunnelInto sets tun_id/tun_src/tun_dst for the inner key", () => {
    const f = vxlanEncap(inner, outerSpec);
    const outer = new FlowKey();
    const innerKey = new FlowKey();
    parseFrame(f, outer);
    const ofs = vxlanTunnelInto(f, outer, innerKey);
    expect(ofs).toBe(50);
    parseFrame(f.subarray(ofs, outer.l3End), innerKey);
    expect(innerKey.tunId).toBe(0xabcdefn);
    expect([innerKey.w[FK.TUN_SRC], innerKey.w[FK.TUN_DST]]).toEqual([IP4_A, IP4_B]);
    expect(innerKey.w[FK.ARP_TPA]).toBe(DST);
  });

  it("is not VXLAN: other port, missing I flag, short header, non-UDP", () => {
    const k = new FlowKey();
    const otherPort = vxlanEncap(inner, { ...outerSpec, dstPort: 4790 });
    parseFrame(otherPort, k);
    expect(vxlanInnerOffset(otherPort, k)).toBe(-1);
    expect(vxlanInnerOffset(otherPort, k, 4790)).toBe(50);
    const noI = vxlanEncap(inner, outerSpec);
    noI[42] = 0;
    parseFrame(noI, k);
    expect(vxlanInnerOffset(noI, k)).toBe(-1);
    const short = buildUdp({
      eth: outerSpec.eth,
      ip: outerSpec.ip,
      srcPort: 1,
      dstPort: 4789,
      payload: Uint8Array.of(8, 0, 0),
    });
    parseFrame(short, k);
    expect(vxlanInnerOffset(short, k)).toBe(-1);
    expect(vxlanDecap(inner).kind).toBe("not_vxlan");
  });
});

describe("addresses", () => {
  it("IPv6 text round trip and RFC 5952 canonical form", () => {
    expect(ipv6ToString(ipv6FromString("2001:0DB8:0000:0000:0001:0000:0000:0001"))).toBe(
      "2001:db8::1:0:0:1",
    );
    expect(ipv6ToString(ipv6FromString("2001:db8:0:1:1:1:1:1"))).toBe("2001:db8:0:1:1:1:1:1");
    expect(ipv6ToString(ipv6FromString("::"))).toBe("::");
    expect(ipv6ToString(ipv6FromString("::ffff:198.51.100.7"))).toBe("::ffff:c633:6407");
    expect(ipv6FromString("2001:db8::203.0.113.1").subarray(12)).toEqual(
      Uint8Array.of(203, 0, 113, 1),
    );
    for (const bad of ["1:2:3", "2001:db8::1::2", "g::1", "1:2:3:4:5:6:7:8:9", "1.2.3.4"]) {
      expect(() => ipv6FromString(bad), bad).toThrow(RangeError);
    }
  });

  it("IPv4 and MAC text", () => {
    expect(ipv4ToString(ipv4FromString("203.0.113.255"))).toBe("203.0.113.255");
    expect(() => ipv4FromString("198.51.100.256")).toThrow(RangeError);
    expect(macToString(macFromString("FA-16-3E-00-00-0A"))).toBe("fa:16:3e:00:00:0a");
    expect(() => macFromString("fa:16:3e:00:00")).toThrow(RangeError);
  });

  it("FlowKey offsets reset when a frame is too short", () => {
    const k = new FlowKey();
    parseFrame(arpRequest({ sha: MAC_1, spa: SRC, tpa: DST }), k);
    expect(k.l3Ofs).toBe(14);
    parseFrame(new Uint8Array(3), k);
    expect(k.l3Ofs).toBe(NO_OFFSET);
  });
});
