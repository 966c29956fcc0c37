import { describe, expect, it } from "vitest";
import {
  canonicalInstructionOrder,
  decodeInstructions,
  encodeInstructions,
  type Instruction,
} from "../../codec/instructions.js";
import { Reader } from "../../codec/reader.js";
import { Writer } from "../../codec/writer.js";
import { bytesToHex, hexToBytes } from "../../codec/values.js";

const hex = (s: string): Uint8Array => hexToBytes(s.replace(/\s/g, ""))!;
const decode = (h: string, options = {}): Instruction[] =>
  decodeInstructions(new Reader(hex(h)), options);
const encode = (list: readonly Instruction[]): string => {
  const w = new Writer();
  encodeInstructions(w, list);
  return bytesToHex(w.finish());
};

/** FLOW_MOD instruction bytes from `ovs-ofctl -O OpenFlow13 -mmmmm parse-flows` for `actions=TEXT`. */
const GOLDEN: Array<[string, string]> = [
  [
    "clear_actions,write_actions(output:3,group:2),write_metadata:0x10/0xff,goto_table:5",
    "000500080000000000030020000000000000001000000003000000000000000000160008000000020002001800000000000000000000001000000000000000ff0001000805000000",
  ],
  ["meter:3,resubmit(,5)", "00060008000000030004001800000000ffff001000002320000efff805000000"],
  [
    "write_actions(set_field:0x5->tun_id,output:3),goto_table:2",
    "00030028000000000019001080004c080000000000000005000000100000000300000000000000000001000802000000",
  ],
  ["drop", ""],
];

describe("instruction golden bytes", () => {
  it.each(GOLDEN)("%s", (_text, h) => {
    const list = decode(h);
    expect(encode(list)).toBe(h);
    expect(canonicalInstructionOrder(list)).toEqual(list);
  });

  it("decodes the values", () => {
    expect(decode(GOLDEN[0]![1])).toEqual([
      { type: "clear_actions" },
      {
        type: "write_actions",
        actions: [
          { type: "output", port: 3, maxLen: 0 },
          { type: "group", groupId: 2 },
        ],
      },
      { type: "write_metadata", metadata: 0x10n, mask: 0xffn },
      { type: "goto_table", tableId: 5 },
    ]);
  });

  it("sorts into OVS's order on request", () => {
    const list: Instruction[] = [
      { type: "goto_table", tableId: 5 },
      { type: "apply_actions", actions: [] },
      { type: "meter", meterId: 1 },
    ];
    expect(canonicalInstructionOrder(list).map((i) => i.type)).toEqual([
      "meter",
      "apply_actions",
      "goto_table",
    ]);
  });

  it("tolerates non-zero pad and writes it back as zero", () => {
    expect(encode(decode("00010008 05ffffff"))).toBe("0001000805000000");
  });

  it("keeps experimenter instructions opaque by default", () => {
    const h = "ffff001000002320 0102030405060708";
    expect(decode(h)).toEqual([
      { type: "experimenter", experimenter: 0x2320, data: hex("0102030405060708") },
    ]);
    expect(encode(decode(h))).toBe(h.replace(/\s/g, ""));
  });
});

/** Verdicts checked with `ovs-ofctl -O OpenFlow13 ofp-print` on a FLOW_MOD. */
const ERRORS: Array<[string, string, string, object?]> = [
  ["OFPBIC_DUP_INST", "goto_table twice", "0001000801000000 0001000802000000"],
  ["OFPBIC_UNKNOWN_INST", "type 9", "0009000800000000"],
  [
    "OFPBIC_BAD_EXPERIMENTER",
    "experimenter instruction (OVS refuses all)",
    "ffff001000002320 0000000000000000",
    { rejectUnknownExperimenter: true },
  ],
  ["OFPBIC_BAD_LEN", "goto_table of 16 bytes", "00010010010000000000000000000000"],
  ["OFPBIC_BAD_LEN", "zero length", "0001000001000000"],
  ["OFPBIC_BAD_LEN", "write_metadata of 16 bytes", "00020010000000000000000000000001"],
  ["OFPBIC_BAD_LEN", "clear_actions of 16 bytes", "00050010000000000000000000000000"],
  ["OFPBIC_BAD_LEN", "instructions not a multiple of 8", "000100080100000000"],
  ["OFPBIC_BAD_LEN", "instruction past the end", "0004001800000000 0018000800000000"],
  ["OFPBAC_BAD_TYPE", "bad action inside apply_actions", "0004001000000000 00fe000800000000"],
];

describe("instruction decode errors", () => {
  it.each(ERRORS)("%s: %s", (code, _what, h, options) => {
    expect(() => decode(h, options)).toThrowError(expect.objectContaining({ code }));
  });

  it("reports an instruction length error before an action error in an earlier instruction (OVS pass order)", () => {
    expect(() =>
      decode("0004001000000000 00fe000800000000 0001001001000000 0000000000000000"),
    ).toThrowError(expect.objectContaining({ code: "OFPBIC_BAD_LEN" }));
  });

  it("OFPBIC_DUP_INST travels as ONF experimenter error 2600 in OF1.3", () => {
    try {
      decode("0005000800000000 0005000800000000");
      throw new Error("no error");
    } catch (e) {
      expect(e).toMatchObject({
        code: "OFPBIC_DUP_INST",
        encoding: { kind: "experimenter", experimenter: 0x4f4e4600, expType: 2600 },
      });
    }
  });
});
