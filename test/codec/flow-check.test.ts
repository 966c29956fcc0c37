/**
 * FLOW_MOD validation (codec/flow-check.ts): the checks OVS makes across the
 * match and the actions. Each verdict was checked with OVS 3.1, either
 * `ovs-ofctl -O OpenFlow13 parse-flow "FLOW"` (which runs the same
 * `ofpacts_check_consistency`) or `ofp-print` on the FLOW_MOD bytes.
 */
import { describe, expect, it } from "vitest";
import type { Action } from "../../codec/actions.js";
import { validateFlowMod, type FlowModFields } from "../../codec/flow-check.js";
import type { Instruction } from "../../codec/instructions.js";
import { decodeMessage } from "../../codec/message.js";
import { fieldByName, type OxmEntry } from "../../codec/oxm.js";

function entry(name: string, ...bytes: number[]): OxmEntry {
  const field = fieldByName(name);
  if (field === undefined) throw new Error(name);
  return { field, value: new Uint8Array(bytes), mask: undefined };
}

const IP = entry("eth_type", 0x08, 0x00);
const TCP = entry("nw_proto", 6);

function flow(
  entries: OxmEntry[],
  instructions: Instruction[],
  over: Partial<FlowModFields> = {},
): FlowModFields {
  return {
    tableId: 0,
    command: 0,
    outPort: 0xffffffff,
    flags: 0,
    match: { entries },
    instructions,
    ...over,
  };
}

const apply = (...actions: Action[]): Instruction => ({ type: "apply_actions", actions });
const code = (fm: FlowModFields): string => {
  try {
    validateFlowMod(fm);
    return "accepted";
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

describe("validateFlowMod (OVS ofputil_decode_flow_mod + ofpacts_check_consistency)", () => {
  it("accepts the DVR flow the bench decodes, and its strict decode runs the same checks", () => {
    const bytes = new Uint8Array(
      Buffer.from(
        "040e007000000001000000000000000000000000000000000100000000000004" +
          "ffffffffffffffffffffffff00000000000100148000080" +
          "6fa163e11223380000c0210020000000000040028000000000019001080000806fa163f0000010000" +
          "ffff001000002320000efff83c000000",
        "hex",
      ),
    );
    const m = decodeMessage(bytes);
    if (m.type !== "flow_mod") throw new Error("not a flow_mod");
    expect(code(m)).toBe("accepted");
  });

  it.each([
    // parse-flow "actions=fin_timeout(idle_timeout=5)": no usable protocol (OF1.3 inconsistent)
    [
      "fin_timeout without tcp",
      flow([], [apply({ type: "fin_timeout", idleTimeout: 5, hardTimeout: 0 })]),
      "OFPBAC_MATCH_INCONSISTENT",
    ],
    [
      "fin_timeout with tcp",
      flow([IP, TCP], [apply({ type: "fin_timeout", idleTimeout: 5, hardTimeout: 0 })]),
      "accepted",
    ],
    // "actions=dec_ttl"
    ["dec_ttl without ip", flow([], [apply({ type: "dec_nw_ttl" })]), "OFPBAC_MATCH_INCONSISTENT"],
    // "actions=meter:0"
    ["meter 0", flow([], [{ type: "meter", meterId: 0 }]), "OFPMMFC_INVALID_METER"],
    // "actions=pop_vlan"
    [
      "pop_vlan without a tag",
      flow([], [apply({ type: "pop_vlan" })]),
      "OFPBAC_MATCH_INCONSISTENT",
    ],
    // "actions=push_vlan:0x8100,push_vlan:0x8100,push_vlan:0x8100"
    [
      "a third VLAN tag",
      flow([], [apply(...[1, 2, 3].map((): Action => ({ type: "push_vlan", ethertype: 0x8100 })))]),
      "OFPBAC_BAD_TAG",
    ],
    // "actions=set_field:1->vlan_vid"
    [
      "set_field vlan_vid without a tag",
      flow([], [apply({ type: "set_field", entry: entry("vlan_vid", 0x10, 0x01) })]),
      "OFPBAC_MATCH_INCONSISTENT",
    ],
    [
      "set_field vlan_vid after push_vlan",
      flow(
        [],
        [
          apply(
            { type: "push_vlan", ethertype: 0x8100 },
            { type: "set_field", entry: entry("vlan_vid", 0x10, 0x01) },
          ),
        ],
      ),
      "accepted",
    ],
    // "actions=ct(commit)"
    [
      "ct without ip",
      flow(
        [],
        [
          apply({
            type: "ct",
            flags: 1,
            zoneSrc: undefined,
            zone: 0,
            recircTable: 255,
            alg: 0,
            actions: [],
          }),
        ],
      ),
      "OFPBAC_MATCH_INCONSISTENT",
    ],
    [
      "ct with ip",
      flow(
        [IP],
        [
          apply({
            type: "ct",
            flags: 1,
            zoneSrc: undefined,
            zone: 0,
            recircTable: 255,
            alg: 0,
            actions: [],
          }),
        ],
      ),
      "accepted",
    ],
    // "actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG0[]"
    [
      "move from ip_src without ip",
      flow(
        [],
        [
          apply({
            type: "reg_move",
            src: { field: fieldByName("ip_src")!, ofs: 0, nBits: 32 },
            dst: { field: fieldByName("reg0")!, ofs: 0, nBits: 32 },
          }),
        ],
      ),
      "OFPBAC_MATCH_INCONSISTENT",
    ],
    // "actions=learn(table=1,NXM_OF_IP_DST[]=NXM_NX_REG0[])": ip_dst lacks prerequisites in the learned match
    [
      "learn matching ip_dst without eth_type in the learned flow",
      flow(
        [],
        [
          apply({
            type: "learn",
            idleTimeout: 0,
            hardTimeout: 0,
            priority: 0x8000,
            cookie: 0n,
            flags: 0,
            tableId: 1,
            finIdleTimeout: 0,
            finHardTimeout: 0,
            specs: [
              {
                dst: "match",
                nBits: 32,
                src: { kind: "field", field: { field: fieldByName("reg0")!, ofs: 0, nBits: 32 } },
                dstField: { field: fieldByName("ip_dst")!, ofs: 0, nBits: 32 },
              },
            ],
          }),
        ],
      ),
      "OFPBAC_MATCH_INCONSISTENT",
    ],
    [
      "learn matching ip_dst after eth_type=0x0800 in the learned flow",
      flow(
        [],
        [
          apply({
            type: "learn",
            idleTimeout: 0,
            hardTimeout: 0,
            priority: 0x8000,
            cookie: 0n,
            flags: 0,
            tableId: 1,
            finIdleTimeout: 0,
            finHardTimeout: 0,
            specs: [
              {
                dst: "match",
                nBits: 16,
                src: { kind: "immediate", value: new Uint8Array([0x08, 0x00]) },
                dstField: { field: fieldByName("eth_type")!, ofs: 0, nBits: 16 },
              },
              {
                dst: "match",
                nBits: 32,
                src: { kind: "field", field: { field: fieldByName("reg0")!, ofs: 0, nBits: 32 } },
                dstField: { field: fieldByName("ip_dst")!, ofs: 0, nBits: 32 },
              },
            ],
          }),
        ],
      ),
      "accepted",
    ],
    [
      "goto_table to the same table",
      flow([], [{ type: "goto_table", tableId: 3 }], { tableId: 3 }),
      "OFPBIC_BAD_TABLE_ID",
    ],
    [
      "goto_table forward",
      flow([], [{ type: "goto_table", tableId: 4 }], { tableId: 3 }),
      "accepted",
    ],
    ["ADD to table 255", flow([], [], { tableId: 255 }), "OFPFMFC_BAD_TABLE_ID"],
    ["DELETE from table 255", flow([], [], { tableId: 255, command: 3 }), "accepted"],
    ["command 5", flow([], [], { command: 5 }), "OFPFMFC_BAD_COMMAND"],
    // ofp-print of a FLOW_MOD with flags 0x20: OFPFMFC_BAD_FLAGS; 0x10 (no_byte_counts) decodes
    ["flags 0x20", flow([], [], { flags: 0x20 }), "OFPFMFC_BAD_FLAGS"],
    ["flags 0x10", flow([], [], { flags: 0x10 }), "accepted"],
    [
      "out_port in the reserved gap",
      flow([], [], { outPort: 0xffffff00 - 1 }),
      "OFPBAC_BAD_OUT_PORT",
    ],
  ])("%s", (_what, fm, expected) => {
    expect(code(fm)).toBe(expected);
  });

  it("reports a hard error that follows a deferred inconsistency, as OVS does", () => {
    // OVS only narrows the usable protocols for pop_vlan without a tag and keeps
    // checking; goto_table backwards then fails at once.
    const fm = flow([], [apply({ type: "pop_vlan" }), { type: "goto_table", tableId: 0 }], {
      tableId: 1,
    });
    expect(code(fm)).toBe("OFPBIC_BAD_TABLE_ID");
  });

  it("checks write_actions against the match as changed by apply_actions, then restores it", () => {
    const pushThenWrite = flow(
      [],
      [
        apply({ type: "push_vlan", ethertype: 0x8100 }),
        {
          type: "write_actions",
          actions: [{ type: "set_field", entry: entry("vlan_vid", 0x10, 0x05) }],
        },
      ],
    );
    expect(code(pushThenWrite)).toBe("accepted");
  });

  it("is repeatable on the same FlowModFields object", () => {
    const fm = flow([], [apply({ type: "push_vlan", ethertype: 0x8100 }, { type: "pop_vlan" })]);
    expect(code(fm)).toBe("accepted");
    expect(code(fm)).toBe("accepted");
  });
});
