import { describe, expect, it } from "vitest";
import { decodeActions, encodeActions, type Action } from "../../codec/actions.js";
import { Reader } from "../../codec/reader.js";
import { Writer } from "../../codec/writer.js";
import { bytesToHex, hexToBytes } from "../../codec/values.js";

const hex = (s: string): Uint8Array => hexToBytes(s.replace(/\s/g, ""))!;

function decode(h: string, options = {}): Action[] {
  return decodeActions(new Reader(hex(h)), options);
}

function encode(list: readonly Action[]): string {
  const w = new Writer();
  encodeActions(w, list);
  return bytesToHex(w.finish());
}

/**
 * Action lists as OVS 3.1 encodes them in OF1.3: the apply_actions body of
 * `ovs-ofctl -O OpenFlow13 -mmmmm parse-flows` for a flow `[match,]actions=TEXT`
 * (the text is what ovs-ofctl prints back).
 */
const GOLDEN: Array<[string, string]> = [
  ["output:2", "00000010000000020000000000000000"],
  ["CONTROLLER:65535", "00000010fffffffdffff000000000000"],
  ["set_field:0x5->reg6", "0019001000010c040000000500000000"],
  ["set_field:0x55->tun_id", "0019001080004c080000000000000055"],
  ["set_field:1.2.3.4->tun_dst", "00190010000140040102030400000000"],
  ["push_vlan:0x8100,set_field:4196->vlan_vid", "00110008810000000019001080000c021064000000000000"],
  ["group:5", "0016000800000005"],
  ["set_queue:3", "0015000800000003"],
  ["push_mpls:0x8847", "0013000888470000"],
  ["pop_mpls:0x0800", "0014000808000000"],
  ["dec_ttl", "0018000800000000"],
  ["mod_nw_ttl:9", "0017000809000000"],
  ["load:0x5->NXM_NX_REG6[0..7]", "ffff0018000023200007000700010c040000000000000005"],
  ["load:0x2->NXM_NX_REG6[]", "ffff0018000023200007001f00010c040000000000000002"],
  ["load:0x55->NXM_NX_TUN_ID[]", "ffff0018000023200007003f000120080000000000000055"],
  ["load:0x1->NXM_NX_IPV6_SRC[0..63]", "ffff0018000023200007003f000126100000000000000001"],
  ["move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]", "ffff00180000232000060030000000000001220600012406"],
  ["resubmit(,3)", "ffff001000002320000efff803000000"],
  ["resubmit:5", "ffff001000002320000e0005ff000000"],
  ["resubmit(5,3)", "ffff001000002320000e000503000000"],
  ["conjunction(7,2/3)", "ffff0010000023200022010300000007"],
  [
    "conjunction(100,1/2),conjunction(101,2/2)",
    "ffff0010000023200022000200000064ffff0010000023200022010200000065",
  ],
  [
    "controller(reason=no_match,id=5,userdata=01.02)",
    "ffff0028000023200025000000000000000100080005000000020005000000000003000601020000",
  ],
  [
    "controller(max_len=100,id=3,pause,meter_id=7)",
    "ffff00300000232000250000000000000000000800640000000100080003000000040004000000000005000800000007",
  ],
  ["note:01.02.03.00.00.00", "ffff0010000023200008010203000000"],
  ["dec_ttl(1,2)", "ffff00180000232000150002000000000001000200000000"],
  ["output:NXM_NX_REG1[0..15]", "ffff001800002320000f000f00010204ffff000000000000"],
  ["output:NXM_NX_TUN_IPV4_DST[0..15]", "ffff001800002320000f000f00014004ffff000000000000"],
  ["fin_timeout(idle_timeout=10,hard_timeout=20)", "ffff0010000023200013000a00140000"],
  ["exit", "ffff0010000023200011000000000000"],
  ["ct_clear", "ffff001000002320002b000000000000"],
  ["pop_queue", "ffff0010000023200005000000000000"],
  [
    "ct(commit,table=72,zone=NXM_NX_REG6[0..15],exec(load:0x1->NXM_NX_CT_MARK[]))",
    "ffff0030000023200023000100010c04000f480000000000ffff0018000023200007001f0001d6040000000000000001",
  ],
  [
    "ct(commit,table=72,zone=NXM_NX_REG6[0..15],nat(src=10.0.0.1-10.0.0.5:100-200),exec(set_field:0x1->ct_mark))",
    "ffff0048000023200023000100010c04000f480000000000ffff00200000232000240000000100330a0000010a000005006400c800000000001900100001d6040000000100000000",
  ],
  [
    "ct(commit,zone=5,exec(load:0x1->NXM_NX_CT_MARK[0],load:0x10->NXM_NX_CT_LABEL[0..7]))",
    "ffff00480000232000230001000000000005ff0000000000ffff001800002320000700000001d6040000000000000001ffff001800002320000700070001d8100000000000000010",
  ],
  [
    "ct(table=5,nat)",
    "ffff00280000232000230000000000000000050000000000ffff0010000023200024000000000000",
  ],
  [
    "ct(commit,nat(dst=[fe80::1]-[fe80::5]:80-90,random))",
    "ffff00500000232000230001000000000000ff0000000000ffff003800002320002400000012003cfe800000000000000000000000000001fe8000000000000000000000000000050050005a00000000",
  ],
  [
    "ct(commit,nat(src=10.0.0.1,persistent,hash))",
    "ffff00300000232000230001000000000000ff0000000000ffff00180000232000240000000d00010a00000100000000",
  ],
  [
    // br-tun table 10 (dvr-pipeline.md T7/T8)
    "learn(table=20,hard_timeout=300,priority=1,cookie=0x123,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],output:OXM_OF_IN_PORT[]),output:2",
    "ffff00600000232000100000012c000100000000000001230000140000000000000c000008020000000008020000003000000406000000000206000028100000000008020000084000012008000000012008000010208000000400000000000000000010000000020000000000000000",
  ],
  [
    // the ARP responder (br-tun/br-int arp_responder)
    "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:fa:16:3e:00:00:01->eth_src,load:0x2->NXM_OF_ARP_OP[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],load:0xfa163e000001->NXM_NX_ARP_SHA[],load:0xa000001->NXM_OF_ARP_SPA[],IN_PORT",
    "ffff001800002320000600300000000000000406000002060019001080000806fa163e0000010000ffff0018000023200007000f00001e020000000000000002ffff00180000232000060030000000000001220600012406ffff00180000232000060020000000000000200400002204ffff0018000023200007002f000122060000fa163e000001ffff0018000023200007001f00002004000000000a00000100000010fffffff80000000000000000",
  ],
];

describe("action golden bytes (ovs-ofctl parse-flows)", () => {
  it.each(GOLDEN)("%s", (_text, h) => {
    const list = decode(h);
    expect(list.some((a) => a.type === "experimenter")).toBe(false);
    expect(encode(list)).toBe(h);
  });

  it("decodes learn specs as Neutron writes them", () => {
    const [learn, out] = decode(GOLDEN.find(([t]) => t.startsWith("learn"))![1]);
    expect(out).toEqual({ type: "output", port: 2, maxLen: 0 });
    if (learn?.type !== "learn") throw new Error("expected learn");
    expect(learn).toMatchObject({ tableId: 20, hardTimeout: 300, priority: 1, cookie: 0x123n });
    expect(learn.specs.map((s) => [s.dst, s.nBits, s.src.kind, s.dstField?.field.nxmName])).toEqual(
      [
        ["match", 12, "field", "NXM_OF_VLAN_TCI"],
        ["match", 48, "field", "NXM_OF_ETH_DST"],
        ["load", 16, "immediate", "NXM_OF_VLAN_TCI"],
        ["load", 64, "field", "NXM_NX_TUN_ID"],
        ["output", 32, "field", undefined],
      ],
    );
    const last = learn.specs[4]!;
    expect(last.src.kind === "field" && last.src.field.field.nxmName).toBe("OXM_OF_IN_PORT");
  });

  it("decodes reg_move / reg_load / ct / conjunction fields", () => {
    const [move] = decode("ffff00180000232000060030000000000001220600012406");
    expect(move).toMatchObject({
      type: "reg_move",
      src: { ofs: 0, nBits: 48, field: { name: "arp_sha", nxmName: "NXM_NX_ARP_SHA" } },
      dst: { ofs: 0, nBits: 48, field: { name: "arp_tha" } },
    });
    const [load] = decode("ffff0018000023200007000700010c040000000000000005");
    expect(load).toMatchObject({ type: "reg_load", value: 5n, dst: { ofs: 0, nBits: 8 } });
    const [ct] = decode(
      GOLDEN.find(([t]) => t.startsWith("ct(commit,table=72,zone=NXM_NX_REG6[0..15],exec"))![1],
    );
    expect(ct).toMatchObject({
      type: "ct",
      flags: 1,
      recircTable: 72,
      zoneSrc: { ofs: 0, nBits: 16, field: { name: "reg6" } },
      actions: [{ type: "reg_load", value: 1n, dst: { field: { name: "ct_mark" } } }],
    });
    expect(decode("ffff0010000023200022010300000007")).toEqual([
      { type: "conjunction", id: 7, clause: 1, nClauses: 3 },
    ]);
  });

  it("keeps NXAST_RESUBMIT (subtype 1) byte-identical", () => {
    const h = "ffff0010000023200001000500000000";
    expect(decode(h)).toEqual([
      { type: "resubmit", inPort: 5, table: 255, ct: false, legacy: true },
    ]);
    expect(encode(decode(h))).toBe(h);
  });
});

describe("opaque experimenter actions", () => {
  it("keeps an unknown vendor and an unknown Nicira subtype, re-encoding byte-identically", () => {
    // Ryu vector 4-12 carries Nicira subtype 25976 (0x6578).
    const h =
      "ffff0010000012340102030405060708" + "ffff00180000232065780000000000000000000000000abc";
    const list = decode(h);
    expect(list.map((a) => a.type)).toEqual(["experimenter", "experimenter"]);
    expect(list[0]).toMatchObject({ experimenter: 0x1234 });
    expect(encode(list)).toBe(h);
  });
  it("rejects them on request, with OVS's codes", () => {
    expect(() =>
      decode("ffff0010000012340000000000000000", { rejectUnknownExperimenter: true }),
    ).toThrowError(expect.objectContaining({ code: "OFPBAC_BAD_VENDOR" }));
    expect(() =>
      decode("ffff001000002320 00fa000000000000", { rejectUnknownExperimenter: true }),
    ).toThrowError(expect.objectContaining({ code: "OFPBAC_BAD_VENDOR_TYPE" }));
  });
});

/**
 * Each verdict was checked with `ovs-ofctl -O OpenFlow13 ofp-print` on a
 * FLOW_MOD carrying the action in an apply_actions instruction.
 */
const ERRORS: Array<[string, string, string]> = [
  ["OFPBAC_BAD_LEN", "action shorter than 8", "00000004fffffffd"],
  [
    "OFPBAC_BAD_LEN",
    "length not a multiple of 8",
    "0000000c00000001ffff0000000000000000000000000000",
  ],
  ["OFPBAC_BAD_LEN", "length past the list", "0000001800000001ffff000000000000"],
  ["OFPBAC_BAD_LEN", "Nicira action shorter than 16", "ffff000800002320"],
  [
    "OFPBAC_BAD_LEN",
    "dec_ttl_cnt_ids without room for its ids",
    "ffff0010000023200015000200000000",
  ],
  ["OFPBAC_BAD_TYPE", "unknown standard type", "00fe000800000000"],
  ["OFPBAC_BAD_OUT_PORT", "output to ANY", "00000010ffffffffffff000000000000"],
  ["OFPBAC_BAD_OUT_PORT", "output into the 0xff00.. gap", "00000010ffffff00ffff000000000000"],
  ["OFPBAC_BAD_SET_MASK", "masked set_field", "0019001080000d0410051fff00000000"],
  ["OFPBAC_BAD_SET_ARGUMENT", "set_field of in_port", "00190010800000040000000100000000"],
  [
    "OFPBAC_BAD_SET_ARGUMENT",
    "set_field with trailing garbage",
    "0019001000010c040000000100000001",
  ],
  [
    "OFPBAC_BAD_SET_ARGUMENT",
    "set_field vlan_vid without OFPVID_PRESENT",
    "0019001080000c020005000000000000",
  ],
  [
    "OFPBAC_BAD_SET_ARGUMENT",
    "set_field of read-only eth_type",
    "0019001080000a020800000000000000",
  ],
  ["OFPBAC_BAD_SET_ARGUMENT", "ct_mark set outside ct", "001900100001d6040000000100000000"],
  ["OFPBAC_BAD_SET_ARGUMENT", "nat outside ct", "ffff0010000023200024000000000000"],
  [
    "OFPBAC_BAD_SET_ARGUMENT",
    "reg_move into read-only ct_state",
    "ffff001800002320000600100000000000010c040001d204",
  ],
  [
    "OFPBAC_BAD_SET_LEN",
    "set_field with a wrong-length known header",
    "0019001000010c020001000000000000",
  ],
  [
    "OFPBAC_BAD_SET_LEN",
    "reg_load past the field's width",
    "ffff00180000232000070 7c300010c040000000000000001",
  ],
  [
    "OFPBAC_BAD_SET_LEN",
    "reg_move of zero bits",
    "ffff001800002320000600000000000000010c0400010e04",
  ],
  ["OFPBAC_BAD_SET_LEN", "ct zone from 8 bits", "ffff0018000023200023000100010c040007ff0000000000"],
  [
    "OFPBAC_BAD_SET_TYPE",
    "reg_load to an unknown field",
    "ffff0018000023200007000300 01fe040000000000000001",
  ],
  ["OFPBMC_BAD_LEN", "set_field TLV past the action", "0019000800010c04"],
  [
    "OFPBMC_BAD_FIELD",
    "reg_move from an unknown field",
    "ffff001800002320000600100000000000 01fe0400010e04",
  ],
  [
    "OFPBMC_BAD_MASK",
    "reg_move with a masked header",
    "ffff001800002320000600100000000000010d0800010e04",
  ],
  [
    "OFPBAC_BAD_ARGUMENT",
    "reg_load value wider than n_bits",
    "ffff0018000023200007000300010c0400000000000000ff",
  ],
  ["OFPBAC_BAD_ARGUMENT", "resubmit pad not zero", "ffff001000002320000e000503000100"],
  [
    "OFPBAC_BAD_ARGUMENT",
    "learn into table 255",
    "ffff0020000023200010000000000000000000000000000000 00ff0000000000",
  ],
  [
    "OFPBAC_BAD_ARGUMENT",
    "learn pad not zero",
    "ffff002000002320001000000000000000000000000000000000140100000000",
  ],
  [
    "OFPBAC_BAD_ARGUMENT",
    "learn unknown flags",
    "ffff002000002320001000000000000000000000000000000008010000000000",
  ],
  [
    "OFPBAC_BAD_ARGUMENT",
    "learn output from an immediate",
    "ffff00280000232000100000000000000000000000000000000001000000000030100000000000000000",
  ],
  [
    "OFPBAC_BAD_ARGUMENT",
    "ct(force) without commit",
    "ffff0018000023200023000200000000 0000ff0000000000",
  ],
  [
    "OFPBAC_BAD_ARGUMENT",
    "output nested in ct",
    "ffff0028000023200023000100000000 0000ff0000000000 0000001000000001ffff000000000000",
  ],
  ["NXBAC_BAD_CONJUNCTION", "clause >= n_clauses", "ffff0010000023200022030300000007"],
  [
    "NXBRC_MUST_BE_ZERO",
    "reg_move trailing bytes",
    "ffff002000002320000600100000000000010c0400010e040000000100000000",
  ],
  [
    "NXBRC_MUST_BE_ZERO",
    "dec_ttl_cnt_ids zeros",
    "ffff00180000232000150002000000010001000200000000",
  ],
  ["NXBRC_MUST_BE_ZERO", "controller2 pad", "ffff0010000023200025000100000000"],
];

describe("action decode errors", () => {
  it.each(ERRORS)("%s: %s", (code, _what, h) => {
    expect(() => decode(h)).toThrowError(expect.objectContaining({ code }));
  });

  it("OFPBAC_TOO_MANY: caps total actions and nesting depth", () => {
    const many = "0018000800000000".repeat(10);
    expect(() => decode(many, { maxActions: 9 })).toThrowError(
      expect.objectContaining({ code: "OFPBAC_TOO_MANY" }),
    );
    expect(decode(many, { maxActions: 10 })).toHaveLength(10);
    // ct(commit,exec(ct(commit))) nests one level: allowed at depth 1, refused at 0.
    const nat = "ffff0010000023200024000000000000";
    const ct = "ffff0028000023200023000100000000 0000ff0000000000" + nat;
    expect(decode(ct, { maxDepth: 1 })).toHaveLength(1);
    expect(() => decode(ct, { maxDepth: 0 })).toThrowError(
      expect.objectContaining({ code: "OFPBAC_TOO_MANY" }),
    );
  });
});
