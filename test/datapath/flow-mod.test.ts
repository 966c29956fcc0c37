/**
 * FLOW_MOD semantics and errors. The error names were measured by sending the
 * same messages to OVS 3.1 (netdev bridge, OF1.3): ADD to table 255 →
 * OFPFMFC_BAD_TABLE_ID, to 254 → OFPBRC_EPERM, goto backwards →
 * OFPBIC_BAD_TABLE_ID, missing group → OFPBAC_BAD_OUT_GROUP, bad command,
 * bad flags, buffer id, missing meter, overlap, mixed conjunction, note in
 * write_actions → OFPBAC_BAD_TYPE, set_field without its prerequisite in the
 * match → OFPBAC_MATCH_INCONSISTENT. A failed flow-mod changes nothing.
 */
import { describe, expect, it } from "vitest";
import { OfpError } from "../../codec/errors.js";
import type { FlowModMessage } from "../../codec/messages/flow-mod.js";
import { fieldByName } from "../../codec/oxm.js";
import type { Bridge } from "../../datapath/bridge.js";
import { addFlows, flowMod, oneBridge, formatEntry } from "./switch-helpers.js";

function dump(br: Bridge): string[] {
  const out: string[] = [];
  for (const t of br.tables) {
    for (const e of t.entries()) {
      out.push(formatEntry(e));
    }
  }
  return out.sort();
}

function errorOf(br: Bridge, fm: FlowModMessage): string | undefined {
  const before = dump(br);
  try {
    br.flowMod(fm, 0);
  } catch (e) {
    if (!(e instanceof OfpError)) throw e;
    expect(dump(br)).toEqual(before); // nothing changed
    return e.code;
  }
  return undefined;
}

const BASE = [
  "table=7,priority=5,ip,actions=drop",
  "table=0,priority=3,in_port=1,actions=output:2",
];

describe("flow-mod errors (as OVS 3.1 answers)", () => {
  const cases: [string, FlowModMessage, string][] = [
    [
      "ADD to table 255",
      { ...flowMod("priority=1,actions=drop"), tableId: 255 },
      "OFPFMFC_BAD_TABLE_ID",
    ],
    ["ADD to table 254", { ...flowMod("priority=1,actions=drop"), tableId: 254 }, "OFPBRC_EPERM"],
    [
      "MODIFY in table 255",
      { ...flowMod("priority=1,actions=drop", "modify"), tableId: 255 },
      "OFPFMFC_BAD_TABLE_ID",
    ],
    [
      "goto_table backwards",
      {
        ...flowMod("table=5,priority=1,actions=drop"),
        instructions: [{ type: "goto_table", tableId: 4 }],
      },
      "OFPBIC_BAD_TABLE_ID",
    ],
    [
      "goto_table to itself",
      {
        ...flowMod("table=5,priority=1,actions=drop"),
        instructions: [{ type: "goto_table", tableId: 5 }],
      },
      "OFPBIC_BAD_TABLE_ID",
    ],
    ["group that does not exist", flowMod("priority=1,actions=group:7"), "OFPBAC_BAD_OUT_GROUP"],
    ["bad command", { ...flowMod("priority=1,actions=drop"), command: 9 }, "OFPFMFC_BAD_COMMAND"],
    ["unknown flag", { ...flowMod("priority=1,actions=drop"), flags: 0x80 }, "OFPFMFC_BAD_FLAGS"],
    ["buffer id", { ...flowMod("priority=1,actions=drop"), bufferId: 5 }, "OFPBRC_BUFFER_UNKNOWN"],
    ["meter", flowMod("priority=1,actions=meter:3,output:1"), "OFPMMFC_INVALID_METER"],
    [
      "overlap",
      { ...flowMod("table=7,priority=5,ip,nw_src=1.2.3.4,actions=drop"), flags: 2 },
      "OFPFMFC_OVERLAP",
    ],
    [
      "conjunction with another action",
      {
        ...flowMod("priority=1,ip,actions=output:3"),
        instructions: [
          {
            type: "apply_actions",
            actions: [
              { type: "conjunction", id: 1, clause: 0, nClauses: 2 },
              { type: "output", port: 3, maxLen: 0 },
            ],
          },
        ],
      },
      "NXBAC_BAD_CONJUNCTION",
    ],
    [
      "note in write_actions",
      {
        ...flowMod("priority=1,actions=drop"),
        instructions: [
          { type: "write_actions", actions: [{ type: "note", data: new Uint8Array(6) }] },
        ],
      },
      "OFPBAC_BAD_TYPE",
    ],
    [
      "set_field ip_src without ip in the match",
      {
        ...flowMod("priority=1,actions=drop"),
        instructions: [
          {
            type: "apply_actions",
            actions: [
              {
                type: "set_field",
                entry: {
                  field: fieldByName("ip_src")!,
                  value: Uint8Array.of(1, 2, 3, 4),
                  mask: undefined,
                },
              },
            ],
          },
        ],
      },
      "OFPBAC_MATCH_INCONSISTENT",
    ],
    [
      "tcp_dst without its prerequisites",
      {
        ...flowMod("priority=1,actions=drop"),
        match: {
          entries: [
            { field: fieldByName("tcp_dst")!, value: Uint8Array.of(0, 80), mask: undefined },
          ],
        },
      },
      "OFPBMC_BAD_PREREQ",
    ],
    [
      "connection tracking",
      flowMod("priority=1,ip,actions=ct(commit)"),
      "NXBAC_CT_DATAPATH_SUPPORT",
    ],
  ];
  for (const [name, fm, code] of cases) {
    it(`${name} → ${code}, tables unchanged`, () => {
      const { br } = oneBridge(3);
      addFlows(br, BASE);
      expect(errorOf(br, fm)).toBe(code);
    });
  }

  it("accepts goto_table 254/255 (OVS does) and output to a port that does not exist", () => {
    const { br } = oneBridge(3);
    expect(errorOf(br, flowMod("table=5,priority=1,actions=goto_table:254"))).toBeUndefined();
    expect(errorOf(br, flowMod("priority=1,actions=output:100"))).toBeUndefined();
  });

  it("OFPFMFC_TABLE_FULL at the table's limit; replacing a flow still works", () => {
    const { dp } = oneBridge(0);
    const br = dp.addBridge({ name: "small", maxFlowsPerTable: 2 });
    addFlows(br, ["priority=1,in_port=1,actions=drop", "priority=1,in_port=2,actions=drop"]);
    expect(errorOf(br, flowMod("priority=1,in_port=3,actions=drop"))).toBe("OFPFMFC_TABLE_FULL");
    expect(errorOf(br, flowMod("priority=1,in_port=2,actions=output:1"))).toBeUndefined();
    expect(br.flowCount).toBe(2);
  });

  it("CHECK_OVERLAP ignores other priorities, disjoint matches and the identical match", () => {
    const { br } = oneBridge(3);
    addFlows(br, BASE);
    expect(
      errorOf(br, { ...flowMod("table=7,priority=6,ip,nw_src=1.2.3.4,actions=drop"), flags: 2 }),
    ).toBeUndefined();
    expect(
      errorOf(br, { ...flowMod("table=7,priority=5,arp,actions=drop"), flags: 2 }),
    ).toBeUndefined();
    expect(
      errorOf(br, { ...flowMod("table=7,priority=5,ip,actions=output:3"), flags: 2 }),
    ).toBeUndefined();
  });
});

describe("add, modify, delete", () => {
  it("ADD with the same match and priority replaces, keeping counters unless reset_counts", () => {
    const { br } = oneBridge(3);
    addFlows(br, ["priority=5,in_port=1,actions=output:2"]);
    const e = [...br.tables[0]!.entries()][0]!;
    e.packetCount = 7;
    addFlows(br, ["priority=5,in_port=1,actions=output:3"]);
    const after = [...br.tables[0]!.entries()];
    expect(after).toHaveLength(1);
    expect(after[0]!.packetCount).toBe(7);
    expect(dump(br)).toEqual(["priority=5,in_port=1 actions=output:3"]);
    addFlows(br, ["priority=5,in_port=1,reset_counts,actions=output:3"]);
    expect([...br.tables[0]!.entries()][0]!.packetCount).toBe(0);
  });

  it("non-strict MODIFY changes every covered flow (any priority); strict only the exact one", () => {
    const { br } = oneBridge(3);
    addFlows(br, [
      "priority=5,ip,nw_src=10.0.0.1,actions=output:1",
      "priority=6,ip,nw_src=10.0.0.1,tcp,tp_dst=80,actions=output:1",
      "priority=5,arp,actions=output:1",
    ]);
    addFlows(br, ["ip,nw_src=10.0.0.1,actions=output:2"], 0, "modify");
    expect(dump(br)).toEqual([
      "priority=5,arp actions=output:1",
      "priority=5,ip,nw_src=10.0.0.1 actions=output:2",
      "priority=6,tcp,nw_src=10.0.0.1,tp_dst=80 actions=output:2",
    ]);
    addFlows(br, ["priority=6,ip,nw_src=10.0.0.1,actions=output:3"], 0, "modify_strict");
    expect(dump(br)).toContain("priority=6,tcp,nw_src=10.0.0.1,tp_dst=80 actions=output:2");
    addFlows(br, ["priority=5,ip,nw_src=10.0.0.1,actions=output:3"], 0, "modify_strict");
    expect(dump(br)).toContain("priority=5,ip,nw_src=10.0.0.1 actions=output:3");
  });

  it("MODIFY of nothing does not add (OF1.1+)", () => {
    const { br } = oneBridge(3);
    addFlows(br, ["priority=5,ip,actions=output:1"], 0, "modify");
    expect(br.flowCount).toBe(0);
  });

  it("DELETE with cookie masks is Neutron's bulk delete; DELETE_STRICT hits one flow", () => {
    const { br } = oneBridge(3);
    addFlows(br, [
      "table=22,cookie=0x1234,priority=2,dl_vlan=5,actions=drop",
      "table=22,cookie=0x1234,priority=4,dl_vlan=5,dl_src=fa:16:3f:00:00:01,actions=drop",
      "table=22,cookie=0x9999,priority=2,dl_vlan=5,dl_dst=fa:16:3e:00:00:01,actions=drop",
      "table=21,cookie=0x1234,priority=2,dl_vlan=5,actions=drop",
    ]);
    addFlows(br, ["table=22,cookie=0x1234/0xffffffffffffffff,dl_vlan=5"], 0, "delete");
    expect(dump(br)).toEqual([
      "cookie=0x1234, table=21, priority=2,dl_vlan=5 actions=drop",
      "cookie=0x9999, table=22, priority=2,dl_vlan=5,dl_dst=fa:16:3e:00:00:01 actions=drop",
    ]);
    addFlows(br, ["table=21,priority=3,dl_vlan=5"], 0, "delete_strict");
    expect(br.flowCount).toBe(2);
    addFlows(br, ["table=21,priority=2,dl_vlan=5"], 0, "delete_strict");
    expect(br.flowCount).toBe(1);
  });

  it("DELETE filters by out_port and out_group, over all tables, and sends FLOW_REMOVED when asked", () => {
    const { br } = oneBridge(3);
    br.groupMod(
      { type: "group_mod", xid: 0, command: 0, groupType: 0, groupId: 4, buckets: [] },
      0,
    );
    addFlows(br, [
      "table=1,priority=1,in_port=1,send_flow_rem,actions=output:2",
      "table=2,priority=1,in_port=1,actions=output:3",
      "table=3,priority=1,in_port=1,actions=group:4",
    ]);
    addFlows(br, ["out_port=2"], 0, "delete");
    expect(dump(br)).toEqual([
      "table=2, priority=1,in_port=1 actions=output:3",
      "table=3, priority=1,in_port=1 actions=group:4",
    ]);
    const removed = br.drainOutbox();
    expect(removed.map((m) => m.type === "flow_removed" && m.reason)).toEqual([2]);
    br.flowMod({ ...flowMod("in_port=1", "delete"), outGroup: 4 }, 0);
    expect(dump(br)).toEqual(["table=2, priority=1,in_port=1 actions=output:3"]);
  });

  it("deleting a group removes the flows that use it", () => {
    const { br } = oneBridge(3);
    br.groupMod(
      { type: "group_mod", xid: 0, command: 0, groupType: 0, groupId: 4, buckets: [] },
      0,
    );
    addFlows(br, ["priority=1,in_port=1,actions=group:4", "priority=1,in_port=2,actions=output:1"]);
    br.groupMod(
      { type: "group_mod", xid: 0, command: 2, groupType: 0, groupId: 4, buckets: [] },
      0,
    );
    expect(dump(br)).toEqual(["priority=1,in_port=2 actions=output:1"]);
  });
});
