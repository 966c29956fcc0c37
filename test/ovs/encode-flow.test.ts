/**
 * Differential test of `parseFlow` + FLOW_MOD encoding + `ofpPrint` against
 * the real ovs-ofctl 3.1:
 *
 * 1. every flow of the DVR benchmark table set, and
 * 2. a seeded fast-check corpus of 10,000 random flows,
 *
 * go through OVS (`parse-flows`: OVS's bytes and text for the same input) and
 * through us. For each flow OVS accepts we require: our bytes == OVS's bytes
 * (xid aside); `ovs-ofctl ofp-parse` of our bytes prints exactly what OVS
 * printed for its own; our `ofpPrint` of our bytes prints the same. For each
 * flow OVS refuses we must refuse too.
 *
 * Seed: DVRFLOW_SEED (default below); it is printed so a failure reproduces.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeMessage } from "../../codec/message.js";
import {
  flowModMessage,
  parseFlow,
  FlowSyntaxError,
  type FlowCommand,
} from "../../codec/text/flow.js";
import { ofpPrint } from "../../codec/text/ofp-print.js";
import { flowArb } from "./flow-arbitrary.js";
import {
  ovsAvailable,
  ovsOfpParse,
  ovsParseFlows,
  withoutXid,
  zeroXid,
  type OvsFlowResult,
} from "./ovs-harness.js";
import { SHARED } from "../shared-path.js";

const HAVE_OVS = ovsAvailable();
if (!HAVE_OVS) {
  console.warn(
    "SKIPPING test/ovs/encode-flow.test.ts: ovs-ofctl (Open vSwitch 3.1) is not installed; apt-get install openvswitch-switch",
  );
}
const itOvs = HAVE_OVS ? it : it.skip;

const DVR_FLOWS = `${SHARED}/dvr-bench/flows.txt`;
const SEED = Number(process.env.DVRFLOW_SEED ?? 20261201);
const CORPUS = Number(process.env.DVRFLOW_CORPUS ?? 10_000);

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

interface Tally {
  accepted: number;
  refusedByBoth: number;
  bytesExact: number;
  ovsPrintsOursAsItsOwn: number;
  ourPrintMatches: number;
  problems: string[];
}

/** Runs one corpus through both sides and tallies agreement. */
function differential(flows: readonly string[], command: FlowCommand = "add"): Tally {
  const ovs: OvsFlowResult[] = ovsParseFlows(flows);
  const t: Tally = {
    accepted: 0,
    refusedByBoth: 0,
    bytesExact: 0,
    ovsPrintsOursAsItsOwn: 0,
    ourPrintMatches: 0,
    problems: [],
  };
  const ours: Uint8Array[] = [];
  const ovsText: string[] = [];
  flows.forEach((flow, i) => {
    const o = ovs[i]!;
    let bytes: Uint8Array | undefined;
    let error: string | undefined;
    try {
      bytes = encodeMessage(flowModMessage(parseFlow(flow, { command }), i + 1));
    } catch (e) {
      if (!(e instanceof FlowSyntaxError)) throw e;
      error = e.message;
    }
    if (!o.ok) {
      if (bytes === undefined) t.refusedByBoth++;
      else t.problems.push(`OVS refuses (${o.error}) but we accept: ${flow}`);
      return;
    }
    if (bytes === undefined) {
      t.problems.push(`we refuse (${error}) but OVS accepts: ${flow}`);
      return;
    }
    t.accepted++;
    if (hex(zeroXid(bytes)) === hex(zeroXid(o.bytes))) t.bytesExact++;
    else t.problems.push(`bytes differ for ${flow}\n  ovs ${hex(o.bytes)}\n  our ${hex(bytes)}`);
    const mine = withoutXid(ofpPrint(bytes));
    if (mine === `${withoutXid(o.text)}\n`) t.ourPrintMatches++;
    else t.problems.push(`our ofp-print differs for ${flow}\n  ovs ${o.text}\n  our ${mine}`);
    ours.push(bytes);
    ovsText.push(o.text);
  });
  const printed = ovsOfpParse(ours);
  printed.forEach((p, i) => {
    if (withoutXid(p) === `${withoutXid(ovsText[i]!)}\n`) t.ovsPrintsOursAsItsOwn++;
    else
      t.problems.push(`ovs-ofctl prints our bytes differently:\n  own ${ovsText[i]}\n  ours ${p}`);
  });
  return t;
}

function report(name: string, t: Tally): void {
  console.log(
    `${name}: ${t.accepted} accepted by OVS, ${t.refusedByBoth} refused by both; ` +
      `bytes exact ${t.bytesExact}/${t.accepted}, ovs-ofctl prints ours as its own ${t.ovsPrintsOursAsItsOwn}/${t.accepted}, ` +
      `our ofp-print equals OVS ${t.ourPrintMatches}/${t.accepted}`,
  );
  for (const p of t.problems.slice(0, 10)) console.log(p);
}

describe("encode-flow vs ovs-ofctl", () => {
  itOvs("the DVR benchmark flows encode byte-exactly and print back as OVS prints them", () => {
    const flows = readFileSync(DVR_FLOWS, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"));
    const t = differential(flows);
    report("dvr-bench", t);
    expect(t.problems).toEqual([]);
    expect(t.accepted).toBe(flows.length);
    expect(t.bytesExact).toBe(flows.length);
  });

  itOvs(`a seeded corpus of ${CORPUS} random flows agrees with OVS (seed ${SEED})`, () => {
    console.log(
      `encode-flow corpus: seed=${SEED} size=${CORPUS} (set DVRFLOW_SEED / DVRFLOW_CORPUS to change)`,
    );
    const flows = fc.sample(flowArb(), { seed: SEED, numRuns: CORPUS }).map((f) => f.text);
    const t = differential(flows);
    report("random corpus", t);
    expect(t.problems).toEqual([]);
    // Guard against a generator that drifted into mostly-invalid flows.
    expect(t.accepted).toBeGreaterThan(CORPUS * 0.95);
    expect(t.bytesExact).toBe(t.accepted);
    expect(t.ovsPrintsOursAsItsOwn).toBe(t.accepted);
    expect(t.ourPrintMatches).toBe(t.accepted);
  });

  itOvs("flows OVS refuses are refused, with OVS's reason", () => {
    const cases: [string, RegExp][] = [
      ["ip,actions=strip_vlan", /no usable protocol/],
      ["actions=dec_ttl", /no usable protocol/],
      ["actions=mod_nw_ttl:5", /no usable protocol/],
      ["actions=fin_timeout(idle_timeout=5),exit", /no usable protocol/],
      ["actions=set_field:10.0.0.1->ip_dst", /OFPBAC_MATCH_INCONSISTENT/],
      ["actions=move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]", /OFPBAC_MATCH_INCONSISTENT/],
      ["actions=set_field:4097->vlan_vid", /OFPBAC_MATCH_INCONSISTENT/],
      ["dl_vlan=5,actions=push_vlan:0x8100,push_vlan:0x8100", /OFPBAC_BAD_TAG/],
      ["ip,actions=meter:1,strip_vlan", /OFPBAC_MATCH_INCONSISTENT/],
      ["foo=1,actions=drop", /unknown keyword foo/],
      ["priority=70000,actions=drop", /invalid priority/],
      ["cookie=0x1/0xff,actions=drop", /flow additions cannot use a cookie mask/],
      ["in_port=1/1,actions=drop", /invalid or unknown port/],
      ["dl_type=0x800/0xff,actions=drop", /invalid mask for field eth_type/],
      ["actions=drop,output:1", /"drop" must not be accompanied/],
      ["actions=goto_table:1,output:2", /invalid instruction ordering/],
      ["table=5,actions=goto_table:3", /OFPBIC_BAD_TABLE_ID/],
      [
        "actions=conjunction(1,1/2),output:1",
        /"conjunction" actions may be used along with "note"/,
      ],
      ["priority=1", /must specify an action/],
      ["actions=learn(table=255)", /table id 255 not valid/],
      ["actions=enqueue:CONTROLLER:1", /OFPBAC_BAD_OUT_PORT/],
      ["actions=enqueue:1", /"enqueue" syntax is/],
      ["packet_type=(0x10000,0),actions=drop", /bad syntax for packet type ns/],
      ["packet_type=eth,actions=drop", /bad syntax for packet type missing '\('/],
      ["actions=sample(probability=0)", /invalid probability value "0"/],
      ["actions=output(port=NONE,max_len=100)", /output to unsupported truncate port: NONE/],
      ["actions=push:NXM_NX_REG0[]x", /trailing garbage following push or pop/],
      [
        "actions=pop:NXM_NX_REG0[0..40]",
        /ending bit 40 is not valid because field is only 32 bits wide/,
      ],
      ["tun_metadata1=1,tun_metadata1=2,actions=drop", /field tun_metadata1 set multiple times/],
    ];
    const ovs = ovsParseFlows(cases.map(([f]) => f));
    cases.forEach(([flow, reason], i) => {
      const o = ovs[i]!;
      let ours: string | undefined;
      try {
        parseFlow(flow);
      } catch (e) {
        if (!(e instanceof FlowSyntaxError)) throw e;
        ours = e.message;
      }
      expect(o.ok, `OVS accepts ${flow}`).toBe(false);
      if (!o.ok) expect(o.error, flow).toMatch(reason);
      expect(ours, `${flow}: OVS says ${o.ok ? "ok" : o.error}`).toBeDefined();
      expect(ours!, flow).toMatch(reason);
    });
  });

  itOvs("modify and delete commands decode in OVS as we print them", () => {
    const cases: [FlowCommand, string, string][] = [
      [
        "delete",
        "cookie=0x5/0xff,table=3,in_port=1",
        " DEL table:3 in_port=1 cookie:0x5/0xff actions=drop",
      ],
      [
        "delete_strict",
        "priority=7,ip,nw_dst=10.0.0.0/8,out_port=2",
        " DEL_STRICT table:255 priority=7,ip,nw_dst=10.0.0.0/8 out_port:2 actions=drop",
      ],
      [
        "modify",
        "table=2,dl_vlan=3,actions=pop_vlan,output:4",
        " MOD table:2 dl_vlan=3 actions=pop_vlan,output:4",
      ],
      [
        "modify_strict",
        "priority=9,tcp,tp_dst=22,cookie=0x1/0x1,actions=drop",
        " MOD_STRICT priority=9,tcp,tp_dst=22 cookie:0x1/0x1 actions=drop",
      ],
      ["delete", "", " DEL table:255 actions=drop"],
    ];
    const msgs = cases.map(([command, flow], i) =>
      encodeMessage(flowModMessage(parseFlow(flow, { command }), i + 1)),
    );
    const printed = ovsOfpParse(msgs);
    cases.forEach(([, flow, body], i) => {
      const expected = `OFPT_FLOW_MOD (OF1.3) (xid=0x${(i + 1).toString(16)}):${body}\n`;
      expect(printed[i], flow).toBe(expected);
      expect(ofpPrint(msgs[i]!), flow).toBe(expected);
    });
  });
});
