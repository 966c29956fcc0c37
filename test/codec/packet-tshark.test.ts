/**
 * The builders and the in-place rewrites checked by an independent decoder:
 * tshark, with checksum validation switched on, must find every IPv4, TCP, UDP,
 * ICMP and ICMPv6 checksum good, and must decode the fields we put in.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FK,
  FlowKey,
  arpReply,
  decNwTtl,
  ipv4ToString,
  ipv6FromString,
  macToString,
  neighborAdvert,
  neighborSolicit,
  parseFrame,
  popVlan,
  pushVlan,
  vxlanEncap,
  writeIpv4Dst,
  writeIpv4Src,
  writeIpv6Dst,
  writeIpv6Src,
  writeNwTos,
  writeTpDst,
  writeTpSrc,
} from "../../codec/packet/index.js";
import {
  IP4_A,
  IP4_B,
  IP6_A,
  IP6_B,
  MAC_A,
  MAC_B,
  builtFrameArb,
  goldenFrames,
} from "./packet-corpus.js";
import { HAVE_TSHARK, tsharkFields } from "./packet-pcap.js";

const CHECK_PREFS = [
  "ip.check_checksum:TRUE",
  "tcp.check_checksum:TRUE",
  "udp.check_checksum:TRUE",
];
const STATUS_FIELDS = [
  "ip.checksum.status",
  "tcp.checksum.status",
  "udp.checksum.status",
  "icmp.checksum.status",
  "icmpv6.checksum.status",
];
/** Wireshark's proto_checksum_enum_e: 1 = good. 3 = "not present" (UDP/IPv4 checksum 0). */
const GOOD = "1";

function expectChecksumsGood(frames: readonly Uint8Array[], allowNotPresent = false): void {
  const rows = tsharkFields(frames, ["frame.protocols", ...STATUS_FIELDS], CHECK_PREFS);
  expect(rows.length).toBe(frames.length);
  rows.forEach((row, i) => {
    const [protocols, ...statuses] = row;
    const present = statuses.filter((s) => s !== undefined && s !== "");
    expect(present.length, `frame ${i} (${protocols}) has no checksum to check`).toBeGreaterThan(0);
    for (const s of present) {
      if (allowNotPresent && s === "3") continue;
      expect(s, `frame ${i} (${protocols}): ${row.join(" | ")}`).toBe(GOOD);
    }
  });
}

describe.skipIf(!HAVE_TSHARK)("tshark: builders produce valid frames", () => {
  it("random built frames (UDP/TCP over IPv4/IPv6 with VLANs, ICMP, ICMPv6, ND) have good checksums", () => {
    const built = fc
      .sample(builtFrameArb, { numRuns: 600, seed: 7 })
      .filter((b) => b.kind !== "arp");
    expectChecksumsGood(built.map((b) => b.frame));
  });

  it("golden builder frames decode to the fields we set", () => {
    const byName = new Map(goldenFrames().map((g) => [g.name, g.frame]));
    const frames = [
      byName.get("arp reply with vlan")!,
      byName.get("tcp syn-ack with options and tos")!,
      byName.get("nd neighbor solicitation")!,
      byName.get("nd neighbor advertisement")!,
      byName.get("vxlan")!,
      byName.get("tcp over ipv6 in qinq")!,
    ];
    const rows = tsharkFields(frames, [
      "frame.protocols",
      "vlan.id",
      "vlan.priority",
      "arp.opcode",
      "arp.src.proto_ipv4",
      "arp.dst.hw_mac",
      "ip.src",
      "ip.dsfield",
      "ip.ttl",
      "ip.flags.df",
      "tcp.srcport",
      "tcp.flags",
      "tcp.options.mss_val",
      "icmpv6.nd.ns.target_address",
      "icmpv6.nd.na.target_address",
      "icmpv6.nd.na.flag.r",
      "icmpv6.nd.na.flag.s",
      "icmpv6.nd.na.flag.o",
      "icmpv6.opt.linkaddr",
      "ipv6.hlim",
      "vxlan.vni",
      "udp.dstport",
      "ieee8021ad.id",
    ]);
    const obj = (r: string[]) =>
      Object.fromEntries(
        [
          "protocols",
          "vlan",
          "pcp",
          "arpOp",
          "arpSpa",
          "arpTha",
          "ipSrc",
          "dsfield",
          "ttl",
          "df",
          "tcpSport",
          "tcpFlags",
          "mss",
          "nsTarget",
          "naTarget",
          "r",
          "s",
          "o",
          "lla",
          "hlim",
          "vni",
          "udpDport",
          "sVlan",
        ]
          .map((n, i) => [n, r[i]] as const)
          .filter(([, v]) => v !== ""),
      );
    expect(obj(rows[0]!)).toEqual({
      protocols: "eth:ethertype:vlan:ethertype:arp",
      vlan: "42",
      pcp: "3",
      arpOp: "2",
      arpSpa: ipv4ToString(IP4_A),
      arpTha: macToString(MAC_B),
    });
    expect(obj(rows[1]!)).toEqual({
      protocols: "eth:ethertype:ip:tcp",
      ipSrc: "198.51.100.10",
      dsfield: "0xb9",
      ttl: "3",
      df: "1",
      tcpSport: "443",
      tcpFlags: "0x0012",
      mss: "1460",
    });
    expect(obj(rows[2]!)).toEqual({
      protocols: "eth:ethertype:ipv6:icmpv6",
      nsTarget: "2001:db8:2::b",
      lla: macToString(MAC_A),
      hlim: "255",
    });
    expect(obj(rows[3]!)).toEqual({
      protocols: "eth:ethertype:ipv6:icmpv6",
      naTarget: "2001:db8:2::b",
      r: "1",
      s: "1",
      o: "1",
      lla: macToString(MAC_B),
      hlim: "255",
    });
    expect(obj(rows[4]!)).toMatchObject({
      protocols: "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:udp",
      vni: String(0x123456),
      udpDport: "4789",
      df: "1",
    });
    expect(obj(rows[5]!)).toMatchObject({ sVlan: "100", vlan: "200", pcp: "6", tcpSport: "22" });
  });

  it("vxlanEncap with udpChecksum and an IPv6 outer header has good checksums", () => {
    const inner = arpReply({ sha: MAC_A, spa: IP4_A, tha: MAC_B, tpa: IP4_B });
    expectChecksumsGood([
      vxlanEncap(inner, {
        eth: { dst: MAC_B, src: MAC_A },
        ip: { kind: "ipv4", src: IP4_A, dst: IP4_B },
        vni: 5,
        udpChecksum: true,
      }),
      vxlanEncap(inner, {
        eth: { dst: MAC_B, src: MAC_A },
        ip: { kind: "ipv6", src: IP6_A, dst: IP6_B },
        vni: 5,
      }),
    ]);
  });

  it("pushVlan/popVlan keep the frame decodable and its checksums good", () => {
    const ns = neighborSolicit({ ethSrc: MAC_A, ipSrc: IP6_A, target: IP6_B });
    const tagged = pushVlan(pushVlan(ns, { vid: 7 }), { vid: 9, tpid: 0x88a8 });
    const rows = tsharkFields(
      [tagged, popVlan(tagged), popVlan(popVlan(tagged))],
      ["frame.protocols", "vlan.id"],
    );
    expect(rows.map((r) => r[0])).toEqual([
      "eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ipv6:icmpv6",
      "eth:ethertype:vlan:ethertype:ipv6:icmpv6",
      "eth:ethertype:ipv6:icmpv6",
    ]);
    expect(popVlan(popVlan(tagged))).toEqual(ns);
    expectChecksumsGood([tagged]);
  });
});

describe.skipIf(!HAVE_TSHARK)("tshark: in-place rewrites keep checksums valid (RFC 1624)", () => {
  it("random set_field rewrites of addresses, ports, TOS and TTL", () => {
    const k = new FlowKey();
    const rewritten: Uint8Array[] = [];
    const cases = fc.sample(
      fc.tuple(
        builtFrameArb.filter((b) => b.kind !== "arp"),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
      ),
      { numRuns: 500, seed: 1624 },
    );
    for (const [b, a1, a2, port, tos, v6] of cases) {
      const f = b.frame.slice();
      parseFrame(f, k, { vlanLimit: 2 });
      const w = k.w;
      // Set a key word and write it to the frame; a field the frame does not
      // have (write returns false) is put back so that key and frame agree.
      const set = (
        word: number,
        v: number,
        write: (fr: Uint8Array, key: FlowKey) => boolean,
      ): void => {
        const old = w[word]!;
        w[word] = v;
        if (!write(f, k)) w[word] = old;
      };
      set(FK.NW_SRC, a1 >>> 0, writeIpv4Src);
      set(FK.NW_DST, (a2 * 7) >>> 0, writeIpv4Dst);
      const dv = new DataView(v6.buffer);
      if (w[FK.ETH_TYPE] === 0x86dd) {
        for (let i = 0; i < 4; i++) {
          w[FK.IPV6_SRC0 + i] = dv.getUint32(4 * i);
          w[FK.IPV6_DST0 + i] = dv.getUint32(4 * i) ^ 0x5a5a5a5a;
        }
        expect(writeIpv6Src(f, k) && writeIpv6Dst(f, k)).toBe(true);
      }
      set(FK.TP_SRC, port, writeTpSrc);
      set(FK.TP_DST, port ^ 0xffff, writeTpDst);
      set(FK.NW_TOS, tos, writeNwTos);
      decNwTtl(f, k);
      // The key written back must be what a fresh parse of the rewritten frame gives.
      const again = new FlowKey();
      parseFrame(f, again, { vlanLimit: 2 });
      expect(again.equals(k)).toBe(true);
      rewritten.push(f);
    }
    expectChecksumsGood(rewritten);
  });

  it("an NA rewritten to a new IPv6 destination still has a good ICMPv6 checksum", () => {
    const f = neighborAdvert({
      ethSrc: MAC_B,
      ethDst: MAC_A,
      ipSrc: IP6_B,
      ipDst: IP6_A,
      target: IP6_B,
    });
    const k = new FlowKey();
    parseFrame(f, k);
    const dst = ipv6FromString("2001:db8:ffff::1");
    const dv = new DataView(dst.buffer);
    for (let i = 0; i < 4; i++) k.w[FK.IPV6_DST0 + i] = dv.getUint32(4 * i);
    expect(writeIpv6Dst(f, k)).toBe(true);
    expectChecksumsGood([f]);
  });
});
