/**
 * Unit tests of codec/text without the OVS oracle: the tokenizer, address and
 * flag text forms, golden dump-flows lines (checked against OVS 3.1 by hand
 * and recorded in shared/docs/ecosystem.md), refusals, and the two CLI
 * commands. The differential tests against ovs-ofctl live in test/ovs/.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SHARED } from "../shared-path.js";
import { decodeMessage, encodeMessage } from "../../codec/message.js";
import type { FlowModMessage } from "../../codec/messages/flow-mod.js";
import {
  formatIpv6,
  parseIpv6,
  formatIpv4Masked,
  cidrBits,
  parseCInteger,
} from "../../codec/text/addr.js";
import { formatFlagsMasked, parseFlags } from "../../codec/text/flags.js";
import {
  FlowSyntaxError,
  flowModMessage,
  formatDuration,
  formatFlow,
  formatFlowStats,
  parseFlow,
} from "../../codec/text/flow.js";
import { hexDump } from "../../codec/text/hexdump.js";
import { ofpPrint, parseHex } from "../../codec/text/ofp-print.js";
import { extractActions, splitKeyValues } from "../../codec/text/tokenizer.js";
import { runEncodeFlow } from "../../src/cli/commands/encode-flow.js";
import { runOfpPrint } from "../../src/cli/commands/ofp-print.js";

describe("tokenizer (ofputil_parse_key_value)", () => {
  it("splits keys, values and nested parentheses", () => {
    expect(
      splitKeyValues("ip, nw_dst=10.0.0.0/24 output:2,learn(table=20,NXM_OF_VLAN_TCI[0..11]),drop"),
    ).toEqual([
      { key: "ip", value: "", delim: "" },
      { key: "nw_dst", value: "10.0.0.0/24", delim: "=" },
      { key: "output", value: "2", delim: ":" },
      { key: "learn", value: "table=20,NXM_OF_VLAN_TCI[0..11]", delim: "(" },
      { key: "drop", value: "", delim: "" },
    ]);
  });
  it("keeps ct(exec(...)) nesting and the (x)->y form", () => {
    expect(splitKeyValues("ct(commit,exec(set_field:1->ct_mark)),load(1)->NXM_NX_REG0[]")).toEqual([
      { key: "ct", value: "commit,exec(set_field:1->ct_mark)", delim: "(" },
      { key: "load", value: "1)->NXM_NX_REG0[]", delim: "(" },
    ]);
  });
  it("finds the actions clause like ofp_extract_actions", () => {
    expect(extractActions("priority=1,ip actions=drop")).toEqual({
      match: "priority=1,ip ",
      actions: "drop",
    });
    expect(extractActions("priority=1")).toEqual({ match: "priority=1", actions: undefined });
  });
});

describe("value text forms", () => {
  it("formats IPv6 as glibc inet_ntop does", () => {
    const cases: [string, string][] = [
      ["fe80:0:0:0:0:0:0:1", "fe80::1"],
      ["0:0:0:0:0:0:0:0", "::"],
      ["0:0:0:0:0:0:0:1", "::1"],
      ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
      ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
      ["0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"],
      ["0:0:0:0:0:0:102:304", "::1.2.3.4"],
      ["2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"],
      ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ];
    for (const [input, text] of cases) expect(formatIpv6(parseIpv6(input)!)).toBe(text);
    expect(parseIpv6("1:2:3")).toBeUndefined();
    expect(parseIpv6("::ffff:1.2.3.4")).toBe(0xffff01020304n);
  });
  it("prints netmasks as prefixes only when they are CIDR", () => {
    expect(formatIpv4Masked(0x0a000000n, 0xffffff00n)).toBe("10.0.0.0/24");
    expect(formatIpv4Masked(0x0a000001n, 0xff00ff00n)).toBe("10.0.0.1/255.0.255.0");
    expect(cidrBits(0n, 32)).toBe(0);
    expect(cidrBits(0xffffffffn, 32)).toBe(32);
  });
  it("reads integers like strtoull(..., 0)", () => {
    expect(parseCInteger("010")).toBe(8n);
    expect(parseCInteger("0x1f")).toBe(31n);
    expect(parseCInteger("12")).toBe(12n);
    expect(parseCInteger("1x")).toBeUndefined();
  });
  it("formats and parses flag fields", () => {
    expect(formatFlagsMasked("ct_state", 0x21, 0x23, 0xff)).toBe("+new-est+trk");
    expect(parseFlags("tcp_flags", "+syn-ack", 0xfff)).toEqual({ value: 2, mask: 0x12 });
    expect(parseFlags("ct_state", "+bogus", 0xff)).toMatch(/unknown/);
  });
  it("prints durations as ofp_print_duration does", () => {
    expect(formatDuration(3, 0)).toBe("3s");
    expect(formatDuration(3, 48_000_000)).toBe("3.048s");
    expect(formatDuration(358, 115_277_000)).toBe("358.115277s");
  });
  it("dumps hex like ds_put_hex_dump", () => {
    expect(hexDump(Uint8Array.from([0x68, 0x6f, 0x67, 0x65]))).toBe(
      "00000000  68 6f 67 65                                     |hoge            |\n",
    );
    expect(parseHex("04 0e-00 08\n0000 0001")).toEqual(Uint8Array.from([4, 14, 0, 8, 0, 0, 0, 1]));
    expect(parseHex("0g")).toBeUndefined();
  });
});

/** Lines of `ovs-ofctl -O OpenFlow13 --no-stats dump-flows` recorded from OVS 3.1 (ecosystem.md). */
const GOLDEN_NO_STATS = [
  "priority=5,in_port=1,dl_src=fa:16:3e:aa:00:01 actions=push_vlan:0x8100,set_field:4097->vlan_vid,goto_table:1",
  "table=1, priority=4,ip,dl_vlan=1,nw_dst=10.0.2.0/24 actions=pop_vlan,set_field:fa:16:3f:00:00:01->eth_src,set_field:fa:16:3e:bb:00:01->eth_dst,dec_ttl,goto_table:2",
  "table=2, priority=1,tun_id=0x3e9,dl_dst=fa:16:3e:bb:00:01 actions=set_field:0x3e9->tun_id,set_field:198.51.100.12->tun_dst,output:2",
  "priority=10,arp,arp_tpa=10.0.1.1,arp_op=1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:fa:16:3e:00:01:01->eth_src,set_field:2->arp_op,IN_PORT",
  "priority=0 actions=drop",
  "cookie=0xabc, priority=100,arp,in_port=1,arp_tpa=10.0.0.1 actions=output:2",
];

describe("dump-flows text (formatFlow)", () => {
  it("round-trips OVS's own --no-stats lines: parse, encode, decode, print", () => {
    for (const line of GOLDEN_NO_STATS) {
      const bytes = encodeMessage(flowModMessage(parseFlow(line)));
      const decoded = decodeMessage(bytes) as FlowModMessage;
      expect(formatFlow(decoded, { stats: false })).toBe(line);
    }
  });
  it("prints stats the way dump-flows does", () => {
    const p = parseFlow(
      "table=3,priority=7,cookie=0x5,idle_timeout=10,send_flow_rem,tcp,tp_dst=22,actions=drop",
    );
    const line = formatFlowStats({
      tableId: p.tableId,
      durationSec: 1,
      durationNsec: 500_000_000,
      priority: p.priority,
      idleTimeout: p.idleTimeout,
      hardTimeout: p.hardTimeout,
      flags: p.flags,
      cookie: p.cookie,
      packetCount: 3n,
      byteCount: 180n,
      match: p.match,
      instructions: p.instructions,
    });
    expect(line).toBe(
      "cookie=0x5, duration=1.500s, table=3, n_packets=3, n_bytes=180, idle_timeout=10, send_flow_rem priority=7,tcp,tp_dst=22 actions=drop",
    );
  });
});

describe("parseFlow refusals", () => {
  const refuse = (flow: string, command?: "add" | "delete"): FlowSyntaxError => {
    try {
      parseFlow(flow, command === undefined ? {} : { command });
    } catch (e) {
      if (e instanceof FlowSyntaxError) return e;
      throw e;
    }
    throw new Error(`accepted: ${flow}`);
  };
  it("refuses what OpenFlow 1.3 cannot express, saying why", () => {
    const e = refuse("ip,actions=strip_vlan");
    expect(e.kind).toBe("protocol");
    expect(e.message).toMatch(/no usable protocol: strip_vlan without a VLAN match/);
    expect(refuse("actions=dec_ttl").message).toMatch(/dec_ttl without an IP match/);
  });
  it("refuses inconsistent set_field/move with OFPBAC_MATCH_INCONSISTENT", () => {
    expect(refuse("actions=set_field:10.0.0.1->ip_dst").kind).toBe("inconsistent");
    expect(refuse("actions=move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]").message).toMatch(
      /OFPBAC_MATCH_INCONSISTENT/,
    );
  });
  it("refuses syntax errors with OVS's wording", () => {
    expect(refuse("foo=1,actions=drop").message).toBe("unknown keyword foo");
    expect(refuse("cookie=0x1/0xff,actions=drop").message).toBe(
      "flow additions cannot use a cookie mask",
    );
    expect(refuse("cookie=0x1", "delete").message).toMatch(/cannot set cookie/);
    expect(refuse("actions=output:1,drop").message).toMatch(/"drop" must not be accompanied/);
  });
  it("reads cookie masks as strtoull does: the /-1 its own error message suggests is exact", () => {
    const exact = parseFlow("cookie=0x5/-1,table=3", { command: "delete" });
    expect([exact.cookie, exact.cookieMask]).toEqual([5n, 0xffff_ffff_ffff_ffffn]);
    expect(parseFlow("cookie=0x5/-2", { command: "delete" }).cookieMask).toBe(
      0xffff_ffff_ffff_fffen,
    );
    expect(refuse("cookie=0x5/-x", "delete").message).toBe('invalid cookie "-x"');
  });
  it("warns about fields OVS drops for missing prerequisites", () => {
    const p = parseFlow("nw_dst=10.0.0.1,actions=drop");
    expect(p.warnings.join()).toMatch(/pre: nw_dst=10.0.0.1 post: $/);
    expect(p.match.entries).toHaveLength(1); // OVS writes packet_type=eth instead
  });
});

describe("CLI commands", () => {
  const io = (
    stdin = "",
  ): { out: string[]; err: string[]; io: Parameters<typeof runOfpPrint>[1] } => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: { stdin: async () => stdin, stdout: (s) => out.push(s), stderr: (s) => err.push(s) },
    };
  };

  it("encode-flow prints the FLOW_MOD hex and ofp-print reads it back", async () => {
    const a = io();
    expect(
      await runEncodeFlow(
        ["table=0,priority=100,cookie=0xabc,in_port=1,arp,arp_tpa=10.0.0.1,actions=output:2"],
        a.io,
      ),
    ).toBe(0);
    expect(a.out).toHaveLength(1);
    const b = io();
    expect(await runOfpPrint([a.out[0]!.trim()], b.io)).toBe(0);
    expect(b.out.join("")).toBe(
      "OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD priority=100,arp,in_port=1,arp_tpa=10.0.0.1 cookie:0xabc actions=output:2\n",
    );
  });
  it("encode-flow takes --command and several flows from stdin", async () => {
    const a = io("# comment\ncookie=0x5/0xff,table=3\n\nin_port=2\n");
    expect(await runEncodeFlow(["--command=delete", "--xid", "16", "-"], a.io)).toBe(0);
    expect(a.out).toHaveLength(2);
    const b = io(a.out.join(""));
    expect(await runOfpPrint(["-"], b.io)).toBe(0);
    expect(b.out).toEqual([
      "OFPT_FLOW_MOD (OF1.3) (xid=0x10): DEL table:3 cookie:0x5/0xff actions=drop\n",
      "OFPT_FLOW_MOD (OF1.3) (xid=0x11): DEL table:255 in_port=2 actions=drop\n",
    ]);
  });
  it("encode-flow refuses with OVS's reason and exit status 1", async () => {
    const a = io();
    expect(await runEncodeFlow(["ip,actions=strip_vlan"], a.io)).toBe(1);
    expect(a.out).toEqual([]);
    expect(a.err.join("")).toMatch(/no usable protocol/);
    const b = io();
    expect(await runEncodeFlow(["--command", "bogus", "actions=drop"], b.io)).toBe(1);
  });
  it("ofp-print reports bad hex and prints decode errors as OVS does", async () => {
    const a = io();
    expect(await runOfpPrint(["zz"], a.io)).toBe(1);
    const b = io();
    expect(await runOfpPrint(["0414000800000007"], b.io)).toBe(0);
    expect(b.out.join("")).toBe("OFPT_BARRIER_REQUEST (OF1.3) (xid=0x7):\n");
    expect(ofpPrint(Uint8Array.from([4, 14, 0, 8, 0, 0, 0, 0]))).toBe(
      "***decode error: OFPBRC_BAD_LEN***\n00000000  04 0e 00 08 00 00 00 00-                        |........        |\n",
    );
  });
});

/** Hex of a FLOW_MOD from parseFlow, xid 1 (to compare with ovs-ofctl -mmmmm parse-flows output). */
function flowHex(text: string): string {
  return Buffer.from(encodeMessage(flowModMessage(parseFlow(text), 1))).toString("hex");
}

/** The `ofp_match` bytes (header and TLVs, without its pad) of a parsed flow's FLOW_MOD. */
function matchHex(text: string): string {
  const hex = flowHex(text);
  // ofp_header 8 + flow_mod fixed part 40 = byte 48 (hex offset 96); ofp_match length at +2.
  const len = parseInt(hex.slice(100, 104), 16);
  return hex.slice(96, 96 + len * 2);
}

describe("TEXT-2 coverage, golden against ovs-ofctl 3.1 output", () => {
  it("packet_type: OVS's field first; Ethertype-space types stand for eth_type", () => {
    // Bytes from `ovs-ofctl -O OpenFlow13 -mmmmm parse-flows`.
    expect(matchHex("packet_type=(1,0x800),ip_src=1.2.3.4,actions=drop")).toBe(
      "00010014" + "80005804" + "00010800" + "80001604" + "01020304",
    );
    expect(matchHex("eth,reg1=2,actions=drop")).toBe(
      "00010014" + "80005804" + "00000000" + "00010204" + "00000002",
    );
    expect(matchHex("vlan_tci=0x2000/0xe000,actions=drop")).toBe("0001000c8000580400000000");
    const pt = ofpPrint(parseHex(flowHex("priority=5,packet_type=(1,0x800),reg0=1,actions=drop"))!);
    expect(pt).toBe(
      "OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD priority=5,packet_type=(1,0x800),reg0=0x1 actions=drop\n",
    );
    expect(() => parseFlow("packet_type=(1),actions=drop")).toThrow(
      "1): bad syntax for packet type missing ','",
    );
  });

  it("xreg/xxreg are written as the registers they cover in an OF1.3 match", () => {
    expect(matchHex("xreg0=0x100000002,actions=drop")).toBe(
      "00010014" + "00010004" + "00000001" + "00010204" + "00000002",
    );
    const p = ofpPrint(parseHex(flowHex("xxreg1=0x1/0x1,actions=set_field:0x5->xreg0"))!);
    expect(p).toBe(
      "OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD reg7=0x1/0x1 actions=set_field:0x5->xreg0\n",
    );
  });

  it("enqueue becomes set_queue, output (max_len 0xffff), pop_queue as OVS encodes it", () => {
    const p = ofpPrint(parseHex(flowHex("actions=enqueue:1:2"))!);
    expect(p).toBe("OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD actions=set_queue:2,output:1,pop_queue\n");
    expect(flowHex("actions=enqueue(1,2)")).toContain("00000010" + "00000001" + "ffff");
    expect(() => parseFlow("actions=enqueue:CONTROLLER:1")).toThrow(/OFPBAC_BAD_OUT_PORT/);
    expect(() => parseFlow("actions=enqueue:1")).toThrow(/"enqueue" syntax is/);
  });

  it("output_trunc, sample and push/pop round-trip through the opaque Nicira action", () => {
    const cases: [string, string][] = [
      ["actions=output(port=8080,max_len=1024)", "output(port=8080,max_len=1024)"],
      [
        "actions=sample(probability=3,collector_set_id=1,obs_domain_id=2,obs_point_id=3,sampling_port=8080)",
        "sample(probability=3,collector_set_id=1,obs_domain_id=2,obs_point_id=3,sampling_port=8080)",
      ],
      [
        "actions=sample(probability=5,egress)",
        "sample(probability=5,collector_set_id=0,obs_domain_id=0,obs_point_id=0,egress)",
      ],
      ["actions=push:NXM_NX_REG2[1..5]", "push:NXM_NX_REG2[1..5]"],
      ["actions=pop:NXM_NX_REG0", "pop:NXM_NX_REG0[]"],
    ];
    for (const [flow, action] of cases) {
      const bytes = encodeMessage(flowModMessage(parseFlow(flow), 1));
      expect(ofpPrint(bytes), flow).toBe(
        `OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD actions=${action}\n`,
      );
      // The codec keeps them opaque: decode∘encode is byte-identical.
      expect(Buffer.from(encodeMessage(decodeMessage(bytes))).toString("hex")).toBe(
        Buffer.from(bytes).toString("hex"),
      );
    }
    // OVS's golden bytes for `push:NXM_NX_REG2[1..5]` (Ryu vector ovs-ofctl-of13-action_stack_push).
    expect(flowHex("priority=100,actions=push:NXM_NX_REG2[1..5]")).toContain(
      "ffff001800002320001b0001000104040005000000000000",
    );
    expect(() => parseFlow("actions=output(port=1,max_len=10)")).toThrow(
      "max_len 10 is less than the minimum value 14",
    );
    expect(() => parseFlow("actions=pop:NXM_OF_ETH_TYPE[]")).toThrow(/OFPBAC_BAD_SET_ARGUMENT/);
  });

  it("an output_trunc OVS would refuse prints as OVS's decode error", () => {
    // NXAST_OUTPUT_TRUNC to port 1 with max_len 10 (< ETH_HEADER_LEN): OFPBAC_BAD_ARGUMENT.
    const hex =
      "040e005000000000000000000000000000000000000000000000000000000064ffffffffffffffffffffffff" +
      "0000000000010004000000000004001800000000ffff001000002320002700010000000a";
    expect(ofpPrint(parseHex(hex)!).split("\n")[0]).toBe(
      "OFPT_FLOW_MOD (OF1.3) (xid=0x0): ***decode error: OFPBAC_BAD_ARGUMENT***",
    );
  });

  it("tun_metadata takes the width of its value, as ovs-ofctl does without a TLV map", () => {
    expect(matchHex("tun_metadata0=0x5,actions=drop")).toBe("00010009" + "00015001" + "05");
    expect(matchHex("tun_metadata3=0x1234/0xff00,actions=drop")).toBe(
      "0001000c" + "00015704" + "1200" + "ff00",
    );
    expect(
      ofpPrint(
        parseHex(flowHex("tun_metadata5=0x00ff,tun_metadata4=0x1,tun_flags=+oam,actions=drop"))!,
      ),
    ).toBe(
      "OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD tun_flags=+oam,tun_metadata4=0x1,tun_metadata5=0xff actions=drop\n",
    );
    expect(() => parseFlow("tun_metadata1=1,tun_metadata1=2,actions=drop")).toThrow(
      "field tun_metadata1 set multiple times",
    );
  });

  it("prints a set_field whose OXM the registry does not know in a faithful hex form", () => {
    const fm = {
      ...flowModMessage(parseFlow("actions=drop"), 1),
      instructions: [
        {
          type: "apply_actions" as const,
          actions: [
            {
              type: "set_field" as const,
              entry: {
                field: undefined,
                header: 0xffff0e04,
                experimenter: undefined,
                payload: Uint8Array.of(1, 2, 3),
              },
            },
          ],
        },
      ],
    };
    expect(formatFlow(fm)).toBe("actions=set_field:0x010203->65535:7");
  });

  it("prints table features in a readable form (names, table ranges)", () => {
    const b = readFileSync(
      `${SHARED}/openflow-vectors/ryu-of13/packet/4-56-ofp_table_features_reply.packet`,
    );
    const text = ofpPrint(Uint8Array.from(b));
    expect(text.split("\n")[0]).toBe("OFPST_TABLE_FEATURES reply (OF1.3) (xid=0x0): flags=[more]");
    expect(text).toContain('  table 0 ("私のテーブル"):\n');
    expect(text).toContain("    next tables: 1-254\n");
    expect(text).toContain(
      "    instructions: goto_table write_metadata write_actions apply_actions clear_actions meter\n",
    );
  });
});
