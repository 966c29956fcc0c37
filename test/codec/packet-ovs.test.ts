/**
 * Differential test of parseFrame against Open vSwitch itself.
 *
 * `ovs-ofctl parse-pcap` runs OVS's flow_extract() (lib/flow.c
 * miniflow_extract) on each frame of a pcap and prints the resulting flow. We
 * print our FlowKey the same way and require the same fields and values, for
 * golden frames, for every truncation of them, and for thousands of corrupted
 * random frames. parse-pcap uses the datapath VLAN limit (2), so we parse with
 * vlanLimit 2 here.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ETH_TYPE,
  FK,
  FlowKey,
  IP_PROTO,
  NW_FRAG,
  ipv4ToString,
  ipv6FromString,
  ipv6ToString,
  macToString,
  parseFrame,
} from "../../codec/packet/index.js";
import { builtFrameArb, goldenFrames, mangledFrameArb } from "./packet-corpus.js";
import { HAVE_OVS_OFCTL, ovsParsePcap, parseOvsFlow } from "./packet-pcap.js";

const TCP_FLAG_NAMES: readonly [string, number][] = [
  ["fin", 0x001],
  ["syn", 0x002],
  ["rst", 0x004],
  ["psh", 0x008],
  ["ack", 0x010],
  ["urg", 0x020],
  ["ece", 0x040],
  ["cwr", 0x080],
  ["ns", 0x100],
];

/** OVS prints tcp_flags as "syn|ack", "0", or with unnamed bits as hex ("0x200" / "[200]"); back to a number. */
function ovsTcpFlags(text: string): number {
  let v = 0;
  for (const part of text.split("|")) {
    const named = TCP_FLAG_NAMES.find(([n]) => n === part);
    if (named) v |= named[1];
    else if (/^\[?(0x)?[0-9a-f]+\]?$/.test(part)) v |= parseInt(part.replace(/[[\]]/g, ""), 16);
    else throw new Error(`unknown tcp flag text ${part}`);
  }
  return v;
}

const mac = (k: FlowKey, hi: number): string => {
  const b = new Uint8Array(6);
  k.macInto(hi, b);
  return macToString(b);
};
const ip6 = (k: FlowKey, first: number): string => {
  const b = new Uint8Array(16);
  k.ipv6Into(first, b);
  return ipv6ToString(b);
};

/** Our key in OVS's flow_wildcards_init_for_packet() + match_format() shape. */
function keyAsOvs(k: FlowKey): { word: string; fields: Map<string, string> } {
  const w = k.w;
  const f = new Map<string, string>();
  const tci = w[FK.VLAN_TCI]!;
  if (tci === 0) f.set("vlan_tci", "0x0000");
  else {
    f.set("dl_vlan", String(tci & 0xfff));
    f.set("dl_vlan_pcp", String(tci >>> 13));
    const tci2 = w[FK.VLAN_TCI2]!;
    if (tci2 === 0) f.set("vlan_tci1", "0x0000");
    else {
      f.set("dl_vlan1", String(tci2 & 0xfff));
      f.set("dl_vlan_pcp1", String(tci2 >>> 13));
    }
  }
  f.set("dl_src", mac(k, FK.ETH_SRC_HI));
  f.set("dl_dst", mac(k, FK.ETH_DST_HI));
  const et = w[FK.ETH_TYPE]!;
  const proto = w[FK.NW_PROTO]!;
  let word = "";
  if (et === ETH_TYPE.ARP || et === ETH_TYPE.RARP) {
    word = et === ETH_TYPE.ARP ? "arp" : "rarp";
    f.set("arp_spa", ipv4ToString(w[FK.ARP_SPA]!));
    f.set("arp_tpa", ipv4ToString(w[FK.ARP_TPA]!));
    f.set("arp_op", String(w[FK.ARP_OP]!));
    f.set("arp_sha", mac(k, FK.ARP_SHA_HI));
    f.set("arp_tha", mac(k, FK.ARP_THA_HI));
  } else if (et === ETH_TYPE.IPV4 || et === ETH_TYPE.IPV6) {
    const six = et === ETH_TYPE.IPV6;
    const names: Record<number, string> = {
      6: "tcp",
      17: "udp",
      132: "sctp",
      1: "icmp",
      58: "icmp6",
    };
    const base = names[proto];
    if (base !== undefined && (base === "icmp6" ? six : base === "icmp" ? !six : true)) {
      word = base === "icmp6" || !six ? base : base + "6";
    } else {
      word = six ? "ipv6" : "ip";
      f.set("nw_proto", String(proto));
    }
    if (six) {
      f.set("ipv6_src", ip6(k, FK.IPV6_SRC0));
      f.set("ipv6_dst", ip6(k, FK.IPV6_DST0));
      f.set("ipv6_label", "0x" + w[FK.IPV6_LABEL]!.toString(16).padStart(5, "0"));
    } else {
      f.set("nw_src", ipv4ToString(w[FK.NW_SRC]!));
      f.set("nw_dst", ipv4ToString(w[FK.NW_DST]!));
    }
    f.set("nw_tos", String(w[FK.NW_TOS]! & 0xfc));
    f.set("nw_ecn", String(w[FK.NW_TOS]! & 3));
    f.set("nw_ttl", String(w[FK.NW_TTL]!));
    const frag = w[FK.NW_FRAG]!;
    f.set("nw_frag", frag & NW_FRAG.LATER ? "later" : frag & NW_FRAG.ANY ? "first" : "no");
    const l4 =
      (frag & NW_FRAG.LATER) === 0 &&
      [
        IP_PROTO.ICMP,
        IP_PROTO.ICMPV6,
        IP_PROTO.TCP,
        IP_PROTO.UDP,
        IP_PROTO.SCTP,
        IP_PROTO.IGMP,
      ].includes(proto as 1);
    if (l4) {
      if (proto === IP_PROTO.ICMP || proto === IP_PROTO.ICMPV6) {
        f.set("icmp_type", String(w[FK.ICMP_TYPE]!));
        f.set("icmp_code", String(w[FK.ICMP_CODE]!));
        const t = w[FK.ICMP_TYPE]!;
        if (six && proto === IP_PROTO.ICMPV6 && (t === 135 || t === 136) && w[FK.ICMP_CODE] === 0) {
          f.set("nd_target", ip6(k, FK.ND_TARGET0));
          f.set("nd_sll", mac(k, FK.ND_SLL_HI));
          f.set("nd_tll", mac(k, FK.ND_TLL_HI));
        }
      } else {
        f.set("tp_src", String(w[FK.TP_SRC]!));
        f.set("tp_dst", String(w[FK.TP_DST]!));
        if (proto === IP_PROTO.TCP) f.set("tcp_flags", String(w[FK.TCP_FLAGS]!));
      }
    }
  } else {
    f.set("dl_type", "0x" + et.toString(16).padStart(4, "0"));
  }
  return { word, fields: f };
}

/** OVS's line, normalised the same way (no in_port; IPv6 canonical; tcp_flags numeric). */
function ovsAsComparable(line: string): { word: string; fields: Map<string, string> } {
  const { words, fields } = parseOvsFlow(line);
  fields.delete("in_port");
  for (const name of ["ipv6_src", "ipv6_dst", "nd_target"]) {
    const v = fields.get(name);
    if (v !== undefined) fields.set(name, ipv6ToString(ipv6FromString(v)));
  }
  const tf = fields.get("tcp_flags");
  if (tf !== undefined) fields.set("tcp_flags", String(ovsTcpFlags(tf)));
  // OVS names ICMPv6 type/code icmp_type/icmp_code as well; IGMP types print as tp_src/tp_dst.
  return { word: words.join(","), fields };
}

function compareWithOvs(frames: readonly Uint8Array[]): void {
  const lines = ovsParsePcap(frames);
  expect(lines.length).toBe(frames.length);
  const key = new FlowKey();
  const opts = { vlanLimit: 2 };
  for (let i = 0; i < frames.length; i++) {
    parseFrame(frames[i]!, key, opts);
    const ours = keyAsOvs(key);
    const theirs = ovsAsComparable(lines[i]!);
    const ctx = `frame ${i} ${Array.from(frames[i]!, (x) => x.toString(16).padStart(2, "0")).join("")}\nOVS: ${lines[i]}`;
    expect({ word: ours.word, fields: Object.fromEntries(ours.fields) }, ctx).toEqual({
      word: theirs.word,
      fields: Object.fromEntries(theirs.fields),
    });
  }
}

describe.skipIf(!HAVE_OVS_OFCTL)(
  "parseFrame agrees with OVS flow_extract (ovs-ofctl parse-pcap)",
  () => {
    const golden = goldenFrames();

    it.each(golden.map((g) => [g.name, g.frame] as const))("%s", (_name, frame) => {
      compareWithOvs([frame]);
    });

    it("every truncation of every golden frame", () => {
      const frames: Uint8Array[] = [];
      for (const { frame } of golden)
        for (let n = 1; n < frame.length; n++) frames.push(frame.subarray(0, n));
      compareWithOvs(frames);
    });

    it("random valid frames from the builders", () => {
      compareWithOvs(fc.sample(builtFrameArb, { numRuns: 1500, seed: 0x5eed }).map((b) => b.frame));
    });

    it("random corrupted and truncated frames", () => {
      compareWithOvs(fc.sample(mangledFrameArb, { numRuns: 4000, seed: 0xbad }));
    });
  },
);
