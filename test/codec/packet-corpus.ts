/**
 * Frames shared by the packet tests: hand-built golden frames covering every
 * parser branch, and fast-check arbitraries that build valid frames of every
 * kind (which the tests then truncate and corrupt).
 *
 * Addresses come from the documentation ranges 198.51.100.0/24,
 * 203.0.113.0/24 and 2001:db8::/32.
 */
import fc from "fast-check";
import {
  arpReply,
  arpRequest,
  buildEthernet,
  buildIpFrame,
  buildTcp,
  buildUdp,
  icmpEchoReply,
  icmpEchoRequest,
  icmpv6EchoRequest,
  ipv4FromString,
  ipv6FromString,
  macFromString,
  neighborAdvert,
  neighborSolicit,
  vxlanEncap,
} from "../../codec/packet/index.js";
import type {
  EthernetSpec,
  IpSpec,
  Ipv4Spec,
  Ipv6Spec,
  VlanTag,
} from "../../codec/packet/index.js";

export const MAC_A = macFromString("02:00:5e:10:00:01");
export const MAC_B = macFromString("fa:16:3e:aa:bb:cc");
export const IP4_A = ipv4FromString("198.51.100.10");
export const IP4_B = ipv4FromString("203.0.113.77");
export const IP6_A = ipv6FromString("2001:db8:1::a");
export const IP6_B = ipv6FromString("2001:db8:2::b");

/** Hex string (spaces and `#` comments allowed, one field per line) → bytes. */
export function hex(text: string): Uint8Array {
  const clean = text
    .split("\n")
    .map((l) => l.replace(/#.*$/, ""))
    .join("")
    .replace(/\s+/g, "");
  if (clean.length % 2 !== 0) throw new Error(`odd hex length ${clean.length}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const eth: EthernetSpec = { dst: MAC_B, src: MAC_A };
const v4: Ipv4Spec = { kind: "ipv4", src: IP4_A, dst: IP4_B };
const v6: Ipv6Spec = { kind: "ipv6", src: IP6_A, dst: IP6_B };

/** An IPv6 datagram with explicit extension headers before `l4` (protocol `proto`). */
export function ipv6WithExt(
  exts: readonly { type: number; body: Uint8Array }[],
  proto: number,
  l4: Uint8Array,
): Uint8Array {
  // Chain: IPv6.next = exts[0].type; exts[i] first byte = next type.
  let payloadLen = l4.length;
  for (const e of exts) payloadLen += e.body.length;
  const payload = new Uint8Array(payloadLen);
  let p = 0;
  exts.forEach((e, i) => {
    payload.set(e.body, p);
    payload[p] = i + 1 < exts.length ? exts[i + 1]!.type : proto;
    p += e.body.length;
  });
  payload.set(l4, p);
  return buildIpFrame(eth, {
    ip: v6,
    proto: exts.length ? exts[0]!.type : proto,
    l4: payload,
    l4Checksum: false,
  });
}

function udpBytes(sport: number, dport: number): Uint8Array {
  return Uint8Array.of(sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 8, 0, 0);
}

/** Named frames that exercise every branch of parseFrame. */
export function goldenFrames(): { name: string; frame: Uint8Array }[] {
  const nsBody = (opts: Uint8Array): Uint8Array => {
    const b = new Uint8Array(24 + opts.length);
    b[0] = 135;
    b.set(IP6_B, 8);
    b.set(opts, 24);
    return b;
  };
  const sll = (mac: Uint8Array): Uint8Array => Uint8Array.of(1, 1, ...mac);
  const tll = (mac: Uint8Array): Uint8Array => Uint8Array.of(2, 1, ...mac);
  const frames: { name: string; frame: Uint8Array }[] = [
    { name: "arp request", frame: arpRequest({ sha: MAC_A, spa: IP4_A, tpa: IP4_B }) },
    {
      name: "arp reply with vlan",
      frame: arpReply({
        sha: MAC_A,
        spa: IP4_A,
        tha: MAC_B,
        tpa: IP4_B,
        vlan: { vid: 42, pcp: 3 },
      }),
    },
    {
      name: "arp opcode 0x0101 (above 0xff)",
      frame: (() => {
        const f = arpRequest({ sha: MAC_A, spa: IP4_A, tpa: IP4_B });
        f[20] = 1;
        return f;
      })(),
    },
    {
      name: "arp hlen 8 (not Ethernet/IPv4)",
      frame: (() => {
        const f = arpRequest({ sha: MAC_A, spa: IP4_A, tpa: IP4_B });
        f[18] = 8;
        return f;
      })(),
    },
    {
      name: "rarp",
      frame: (() => {
        const f = arpRequest({ sha: MAC_A, spa: IP4_A, tpa: IP4_B });
        f[12] = 0x80;
        f[13] = 0x35;
        f[21] = 3;
        return f;
      })(),
    },
    { name: "icmp echo request", frame: icmpEchoRequest({ eth, ip: v4, id: 7, seq: 1 }) },
    {
      name: "icmp echo reply with payload",
      frame: icmpEchoReply({ eth, ip: v4, id: 7, seq: 2, payload: Uint8Array.of(1, 2, 3) }),
    },
    {
      name: "tcp syn-ack with options and tos",
      frame: buildTcp({
        eth,
        ip: { ...v4, tos: 0xb9, ttl: 3, df: true },
        srcPort: 443,
        dstPort: 51000,
        flags: 0x12,
        options: Uint8Array.of(2, 4, 5, 0xb4),
      }),
    },
    {
      name: "tcp with ns/ece/cwr flags",
      frame: buildTcp({ eth, ip: v4, srcPort: 1, dstPort: 2, flags: 0x1c1 }),
    },
    {
      name: "tcp with data offset 4 (invalid)",
      frame: (() => {
        const f = buildTcp({ eth, ip: v4, srcPort: 1, dstPort: 2 });
        f[46] = 0x40;
        return f;
      })(),
    },
    {
      name: "tcp with data offset 15 past the datagram",
      frame: (() => {
        const f = buildTcp({ eth, ip: v4, srcPort: 1, dstPort: 2 });
        f[46] = 0xf0;
        return f;
      })(),
    },
    { name: "udp over ipv4", frame: buildUdp({ eth, ip: v4, srcPort: 68, dstPort: 67 }) },
    {
      name: "udp with ethernet padding",
      frame: (() => {
        const f = buildUdp({ eth, ip: v4, srcPort: 68, dstPort: 67 });
        const padded = new Uint8Array(60);
        padded.set(f);
        padded.fill(0xee, f.length);
        return padded;
      })(),
    },
    {
      name: "ipv4 with options",
      frame: buildUdp({
        eth,
        ip: { ...v4, options: Uint8Array.of(0x94, 4, 0, 0, 1, 1, 1, 0) },
        srcPort: 5,
        dstPort: 6,
      }),
    },
    {
      name: "ipv4 first fragment",
      frame: buildUdp({ eth, ip: { ...v4, mf: true, id: 9 }, srcPort: 1, dstPort: 2 }),
    },
    {
      name: "ipv4 later fragment",
      frame: buildIpFrame(eth, {
        ip: { ...v4, fragOffset: 185 },
        proto: 17,
        l4: udpBytes(9, 9),
        l4Checksum: false,
      }),
    },
    {
      name: "ipv4 ihl 4",
      frame: (() => {
        const f = buildUdp({ eth, ip: v4, srcPort: 1, dstPort: 2 });
        f[14] = 0x44;
        return f;
      })(),
    },
    {
      name: "ipv4 total length beyond frame",
      frame: (() => {
        const f = buildUdp({ eth, ip: v4, srcPort: 1, dstPort: 2 });
        f[17] = 200;
        return f;
      })(),
    },
    {
      name: "sctp",
      frame: buildIpFrame(eth, { ip: v4, proto: 132, l4: new Uint8Array(12).fill(0x11) }),
    },
    {
      name: "igmp",
      frame: buildIpFrame(eth, {
        ip: v4,
        proto: 2,
        l4: Uint8Array.of(0x16, 0, 0, 0, 239, 1, 1, 1),
      }),
    },
    {
      name: "gre (unparsed l4)",
      frame: buildIpFrame(eth, { ip: v4, proto: 47, l4: new Uint8Array(4) }),
    },
    {
      name: "udp over ipv6 with label and traffic class",
      frame: buildUdp({
        eth,
        ip: { ...v6, flowLabel: 0xabcde, trafficClass: 0x2e },
        srcPort: 546,
        dstPort: 547,
      }),
    },
    {
      name: "tcp over ipv6 in qinq",
      frame: buildTcp({
        eth: {
          ...eth,
          vlan: [
            { vid: 100, tpid: 0x88a8, pcp: 1 },
            { vid: 200, pcp: 6 },
          ],
        },
        ip: v6,
        srcPort: 22,
        dstPort: 2222,
        flags: 0x18,
      }),
    },
    { name: "icmpv6 echo request", frame: icmpv6EchoRequest({ eth, ip: v6, id: 1, seq: 1 }) },
    {
      name: "nd neighbor solicitation",
      frame: neighborSolicit({ ethSrc: MAC_A, ipSrc: IP6_A, target: IP6_B }),
    },
    {
      name: "nd dad solicitation",
      frame: neighborSolicit({
        ethSrc: MAC_A,
        ipSrc: new Uint8Array(16),
        target: IP6_B,
        sll: null,
      }),
    },
    {
      name: "nd neighbor advertisement",
      frame: neighborAdvert({
        ethSrc: MAC_B,
        ethDst: MAC_A,
        ipSrc: IP6_B,
        ipDst: IP6_A,
        target: IP6_B,
        router: true,
      }),
    },
    {
      name: "nd with tll then sll",
      frame: buildIpFrame(eth, {
        ip: v6,
        proto: 58,
        l4: nsBody(Uint8Array.of(...tll(MAC_B), ...sll(MAC_A))),
      }),
    },
    {
      name: "nd with duplicate sll",
      frame: buildIpFrame(eth, {
        ip: v6,
        proto: 58,
        l4: nsBody(Uint8Array.of(...sll(MAC_A), ...sll(MAC_B))),
      }),
    },
    {
      name: "nd with zero sll then sll (not a duplicate)",
      frame: buildIpFrame(eth, {
        ip: v6,
        proto: 58,
        l4: nsBody(Uint8Array.of(...sll(new Uint8Array(6)), ...sll(MAC_B))),
      }),
    },
    {
      name: "nd with unknown 16-byte option then sll",
      frame: buildIpFrame(eth, {
        ip: v6,
        proto: 58,
        l4: nsBody(Uint8Array.of(14, 2, ...new Uint8Array(14), ...sll(MAC_A))),
      }),
    },
    {
      name: "nd with zero-length option",
      frame: buildIpFrame(eth, {
        ip: v6,
        proto: 58,
        l4: nsBody(Uint8Array.of(...sll(MAC_A), 2, 0, 1, 2, 3, 4, 5, 6)),
      }),
    },
    {
      name: "nd with option running past the end",
      frame: buildIpFrame(eth, {
        ip: v6,
        proto: 58,
        l4: nsBody(Uint8Array.of(2, 3, 1, 2, 3, 4, 5, 6)),
      }),
    },
    {
      name: "nd without target",
      frame: buildIpFrame(eth, {
        ip: v6,
        proto: 58,
        l4: Uint8Array.of(136, 0, 0, 0, 0x60, 0, 0, 0, 1, 2),
      }),
    },
    {
      name: "nd code 1 (not nd)",
      frame: buildIpFrame(eth, {
        ip: v6,
        proto: 58,
        l4: (() => {
          const b = nsBody(sll(MAC_A));
          b[1] = 1;
          return b;
        })(),
      }),
    },
    {
      name: "ipv6 hop-by-hop + dstopts + udp",
      frame: ipv6WithExt(
        [
          { type: 0, body: Uint8Array.of(0, 0, 1, 4, 0, 0, 0, 0) },
          { type: 60, body: Uint8Array.of(0, 1, ...new Uint8Array(14)) },
        ],
        17,
        udpBytes(1000, 2000),
      ),
    },
    {
      name: "ipv6 routing + ah + tcp",
      frame: ipv6WithExt(
        [
          { type: 43, body: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0) },
          { type: 51, body: Uint8Array.of(0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1) },
        ],
        6,
        (() => {
          const t = new Uint8Array(20);
          t[1] = 80;
          t[3] = 81;
          t[12] = 0x50;
          t[13] = 0x02;
          return t;
        })(),
      ),
    },
    {
      name: "ipv6 first fragment",
      frame: ipv6WithExt(
        [{ type: 44, body: Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 5) }],
        17,
        udpBytes(7, 8),
      ),
    },
    {
      name: "ipv6 later fragment",
      frame: ipv6WithExt(
        [{ type: 44, body: Uint8Array.of(0, 0, 0x05, 0x00, 0, 0, 0, 5) }],
        17,
        udpBytes(7, 8),
      ),
    },
    {
      name: "ipv6 truncated extension header",
      frame: ipv6WithExt(
        [{ type: 60, body: Uint8Array.of(0, 4, 0, 0, 0, 0, 0, 0) }],
        17,
        udpBytes(7, 8),
      ),
    },
    { name: "ipv6 esp (terminal)", frame: ipv6WithExt([], 50, new Uint8Array(16)) },
    {
      name: "vxlan",
      frame: vxlanEncap(buildUdp({ eth, ip: v4, srcPort: 1, dstPort: 2 }), {
        eth: { dst: MAC_A, src: MAC_B },
        ip: { kind: "ipv4", src: IP4_B, dst: IP4_A, df: true },
        vni: 0x123456,
      }),
    },
    {
      name: "802.3 llc/snap carrying ipv4",
      frame: (() => {
        const inner = buildUdp({ eth, ip: v4, srcPort: 3, dstPort: 4 }).subarray(14);
        return buildEthernet(
          { ...eth, ethType: 8 + inner.length },
          Uint8Array.of(0xaa, 0xaa, 3, 0, 0, 0, 8, 0, ...inner),
        );
      })(),
    },
    {
      name: "802.3 llc/snap with a length as type",
      frame: buildEthernet(
        { ...eth, ethType: 20 },
        Uint8Array.of(0xaa, 0xaa, 3, 0, 0, 0, 0, 20, 1, 2),
      ),
    },
    {
      name: "802.3 stp llc",
      frame: buildEthernet({ ...eth, ethType: 38 }, Uint8Array.of(0x42, 0x42, 3, 0, 0, 0, 0, 0, 0)),
    },
    {
      name: "unknown ethertype",
      frame: buildEthernet({ ...eth, ethType: 0x88cc }, new Uint8Array(10)),
    },
    {
      name: "vlan tag without room for the inner type",
      frame: hex("fa163eaabbcc 02005e100001 8100 00"),
    },
    { name: "13 bytes", frame: new Uint8Array(13).fill(0xff) },
    {
      name: "vlan tag with dei bit",
      frame: buildUdp({
        eth: { ...eth, vlan: { vid: 4095, pcp: 7, dei: true } },
        ip: v4,
        srcPort: 1,
        dstPort: 1,
      }),
    },
  ];
  return frames;
}

// ---- fast-check arbitraries ----

const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 });
const ip4Arb = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((x) => IP4_A - 10 + x), // 198.51.100.x
  fc.integer({ min: 0, max: 255 }).map((x) => IP4_B - 77 + x), // 203.0.113.x
);
const ip6Arb = fc
  .uint8Array({ minLength: 12, maxLength: 12 })
  .map((tail) => Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...tail));
const vlanArb: fc.Arbitrary<VlanTag> = fc.record({
  vid: fc.integer({ min: 0, max: 4095 }),
  pcp: fc.integer({ min: 0, max: 7 }),
  tpid: fc.constantFrom(0x8100, 0x88a8),
});
export const ethArb: fc.Arbitrary<EthernetSpec> = fc.record({
  dst: macArb,
  src: macArb,
  vlan: fc.array(vlanArb, { maxLength: 2 }),
});
export const ipv4SpecArb = fc.record({
  kind: fc.constant("ipv4" as const),
  src: ip4Arb,
  dst: ip4Arb,
  ttl: fc.integer({ min: 0, max: 255 }),
  tos: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  df: fc.boolean(),
  options: fc.integer({ min: 0, max: 10 }).map((n) => new Uint8Array(4 * n).fill(1)),
});
export const ipv6SpecArb = fc.record({
  kind: fc.constant("ipv6" as const),
  src: ip6Arb,
  dst: ip6Arb,
  hopLimit: fc.integer({ min: 0, max: 255 }),
  trafficClass: fc.integer({ min: 0, max: 255 }),
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
});
export const ipSpecArb: fc.Arbitrary<IpSpec> = fc.oneof(ipv4SpecArb, ipv6SpecArb);
const portArb = fc.integer({ min: 0, max: 0xffff });
const payloadArb = fc.uint8Array({ maxLength: 40 });

/** A valid frame of any kind the builders make, plus the spec it came from. */
export const builtFrameArb = fc.oneof(
  fc
    .record({ eth: ethArb, ip: ipSpecArb, srcPort: portArb, dstPort: portArb, payload: payloadArb })
    .map((s) => ({ kind: "udp" as const, spec: s, frame: buildUdp(s) })),
  fc
    .record({
      eth: ethArb,
      ip: ipSpecArb,
      srcPort: portArb,
      dstPort: portArb,
      flags: fc.integer({ min: 0, max: 0xfff }),
      seq: fc.nat(),
      options: fc.integer({ min: 0, max: 10 }).map((n) => new Uint8Array(4 * n).fill(1)),
      payload: payloadArb,
    })
    .map((s) => ({ kind: "tcp" as const, spec: s, frame: buildTcp(s) })),
  fc
    .record({
      eth: ethArb,
      ip: ipv4SpecArb,
      id: portArb,
      seq: portArb,
      payload: payloadArb,
      reply: fc.boolean(),
    })
    .map((s) => ({
      kind: "icmp" as const,
      spec: s,
      frame: s.reply ? icmpEchoReply(s) : icmpEchoRequest(s),
    })),
  fc
    .record({ eth: ethArb, ip: ipv6SpecArb, id: portArb, seq: portArb, payload: payloadArb })
    .map((s) => ({ kind: "icmp6" as const, spec: s, frame: icmpv6EchoRequest(s) })),
  fc
    .record({ sha: macArb, spa: ip4Arb, tha: macArb, tpa: ip4Arb, reply: fc.boolean() })
    .map((s) => ({
      kind: "arp" as const,
      spec: s,
      frame: s.reply ? arpReply(s) : arpRequest(s),
    })),
  fc
    .record({ ethSrc: macArb, ipSrc: ip6Arb, target: ip6Arb })
    .map((s) => ({ kind: "ns" as const, spec: s, frame: neighborSolicit(s) })),
  fc
    .record({
      ethSrc: macArb,
      ethDst: macArb,
      ipSrc: ip6Arb,
      ipDst: ip6Arb,
      target: ip6Arb,
      router: fc.boolean(),
    })
    .map((s) => ({ kind: "na" as const, spec: s, frame: neighborAdvert(s) })),
);

/** A built frame, then corrupted: header bytes overwritten and/or the frame cut short. */
export const mangledFrameArb = fc
  .tuple(
    builtFrameArb,
    fc.array(fc.tuple(fc.nat({ max: 100 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.option(fc.nat({ max: 200 }), { nil: undefined }),
  )
  .map(([b, edits, cut]) => {
    const f = b.frame.slice();
    for (const [at, v] of edits) if (at < f.length) f[at] = v;
    return cut === undefined || cut >= f.length ? f : f.slice(0, Math.max(1, cut));
  });
