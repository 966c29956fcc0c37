/**
 * OFPT_ERROR replies decoded and logged with the offending flow (issue 5 §1).
 *
 * - describeOfError on its own: the flow text from the tracked request, or
 *   from the error's data (OVS puts the whole offending message there,
 *   `ofperr_encode_reply`) when the request is no longer tracked; numbers
 *   when the code is not catalogued or the data is not a message.
 * - End to end: a controller and examples/two-hosts.yaml's hosts as our
 *   userspace switch over TCP; compute-1's br-int table 40 is held at its
 *   size, so the next flow there is refused with OFPFMFC_TABLE_FULL, as OVS
 *   refuses a flow beyond a table's `flow_limit`. A change through the API
 *   with `?wait=applied` then shows the refusal in the log (with the flow in
 *   ovs-ofctl text), in `of_errors_total`, and in the API's answer.
 */
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import type { FastifyInstance } from "fastify";
import { decodeMessage } from "../../codec/message.js";
import type { ErrorMessage } from "../../codec/messages/error.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { buildApi } from "../../src/api/server.js";
import { Controller } from "../../src/controller/controller.js";
import { describeOfError } from "../../src/controller/of-error.js";
import { OpenFlowServer } from "../../src/controller/server.js";
import { BR_INT } from "../../src/dvr/tables.js";
import { Metrics } from "../../src/metrics.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { loadExample } from "../dvr/helpers.js";
import { buildHost, until, type TestHost } from "./helpers.js";
import { allApplied } from "./rig.js";

/** The flow of the golden error below, as `ovs-ofctl dump-flows` prints it. */
const REFUSED_FLOW =
  "cookie=0xd5050e92e7e20000, table=60, priority=20,dl_vlan=1,dl_dst=fa:16:3e:aa:00:01 actions=pop_vlan,output:10";

/**
 * An OFPT_ERROR as OVS sends it for a FLOW_MOD of REFUSED_FLOW (xid 0x2a):
 * `ovs-ofctl -O OpenFlow13 ofp-print` reads it as
 *   OFPT_ERROR (OF1.3) (xid=0x2a): OFPBAC_BAD_OUT_PORT
 *   OFPT_FLOW_MOD (OF1.3) (xid=0x2a): ADD table:60 priority=20,dl_vlan=1,dl_dst=fa:16:3e:aa:00:01 cookie:0xd5050e92e7e20000 actions=pop_vlan,output:10
 */
const BAD_OUT_PORT_HEX =
  "040100740000002a00020004" +
  "040e00680000002ad5050e92e7e2000000000000000000003c00000000000014ffffffffffffffffffffffff" +
  "000000000001001480000606fa163eaa000180000c0210010000000000040020000000000012000800000000" +
  "000000100000000a0000000000000000";

/**
 * The same request refused with an experimenter-encoded error (ONF, exp_type
 * 2600); `ofp-print` reads it as `OFPT_ERROR (OF1.3) (xid=0x2b): OFPBIC_DUP_INST`.
 */
const DUP_INST_HEX =
  "040100780000002bffff0a284f4e4600" +
  "040e00680000002ad5050e92e7e2000000000000000000003c00000000000014ffffffffffffffffffffffff" +
  "000000000001001480000606fa163eaa000180000c0210010000000000040020000000000012000800000000" +
  "000000100000000a0000000000000000";

function errorFromHex(hex: string): ErrorMessage {
  const m = decodeMessage(Uint8Array.from(Buffer.from(hex, "hex")));
  if (m.type !== "error") throw new Error(`not an error: ${m.type}`);
  return m;
}

describe("describeOfError", () => {
  const bad = errorFromHex(BAD_OUT_PORT_HEX);

  it("names the error and prints the flow from the error's data when the request is not tracked", () => {
    expect(describeOfError(bad)).toEqual({
      name: "OFPBAC_BAD_OUT_PORT",
      type: 2,
      code: 4,
      flow: REFUSED_FLOW,
      request: "flow_mod",
    });
  });

  it("prefers the tracked request over the data", () => {
    const tracked = {
      ...flowModMessage(parseFlow(`${REFUSED_FLOW.replace("output:10", "output:11")}`)),
      xid: 0x2a,
    };
    const d = describeOfError(bad, tracked);
    expect(d.flow).toBe(REFUSED_FLOW.replace("output:10", "output:11"));
    expect(d.request).toBe("flow_mod");
  });

  it("prints the flow inside a bundled FLOW_MOD", () => {
    const inner = { ...flowModMessage(parseFlow(REFUSED_FLOW)), xid: 7 };
    const d = describeOfError(bad, {
      type: "bundle_add",
      xid: 7,
      bundleId: 1,
      flags: 0,
      message: inner,
      properties: new Uint8Array(0),
    });
    expect(d).toMatchObject({ flow: REFUSED_FLOW, request: "bundle_add" });
  });

  it("gives the request type but no flow for a request that is not a FLOW_MOD", () => {
    const d = describeOfError(bad, { type: "barrier_request", xid: 0x2a });
    expect(d).toEqual({
      name: "OFPBAC_BAD_OUT_PORT",
      type: 2,
      code: 4,
      request: "barrier_request",
    });
  });

  it("names an experimenter-encoded error from the catalogue", () => {
    expect(describeOfError(errorFromHex(DUP_INST_HEX))).toEqual({
      name: "OFPBIC_DUP_INST",
      type: 0xffff,
      code: 2600,
      flow: REFUSED_FLOW,
      request: "flow_mod",
    });
  });

  it("falls back to numbers for codes and experimenters it does not know", () => {
    const none = new Uint8Array(0);
    const err = (error: ErrorMessage["error"]): ErrorMessage => ({
      type: "error",
      xid: 1,
      error,
      data: none,
    });
    expect(describeOfError(err({ kind: "standard", type: 5, code: 99 }))).toEqual({
      name: "OFPET_FLOW_MOD_FAILED code 99",
      type: 5,
      code: 99,
    });
    expect(describeOfError(err({ kind: "standard", type: 77, code: 1 })).name).toBe(
      "type 77 code 1",
    );
    expect(
      describeOfError(err({ kind: "experimenter", experimenter: 0x2320, expType: 0x9999 })),
    ).toEqual({ name: "experimenter 0x2320 type 39321", type: 0xffff, code: 0x9999 });
  });

  it("gives name and numbers only when the data is cut short or is not a message", () => {
    for (const data of [
      bad.data.subarray(0, 4),
      bad.data.subarray(0, 64),
      new TextEncoder().encode("OFPHFC_INCOMPATIBLE: not a message but text"),
    ]) {
      expect(describeOfError({ ...bad, data })).toEqual({
        name: "OFPBAC_BAD_OUT_PORT",
        type: 2,
        code: 4,
      });
    }
  });
});

// ---------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------

interface LogLine {
  readonly event?: string;
  readonly msg?: string;
  readonly error?: string;
  readonly flow?: string;
  readonly host?: string;
  readonly bridge?: string;
  readonly [k: string]: unknown;
}

interface Rig {
  readonly ctl: Controller;
  readonly server: OpenFlowServer;
  readonly api: FastifyInstance;
  readonly store: SqliteStore;
  readonly metrics: Metrics;
  readonly hosts: readonly TestHost[];
  readonly logs: LogLine[];
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    for (const h of r.hosts) {
      await h.int.disconnect();
      await h.tun.disconnect();
    }
    r.ctl.stop();
    await r.server.close();
    await r.api.close();
    await r.store.close();
  }
});

async function rig(): Promise<Rig> {
  const logs: LogLine[] = [];
  // Every pino line, parsed, into `logs` (pino writes one JSON line per call).
  const log = pino(
    { level: "debug" },
    { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  );
  const t = loadExample("two-hosts.yaml");
  const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
  const metrics = new Metrics({ defaultMetrics: false });
  const ctl = new Controller({ store, log, metrics, auditIntervalMs: 0 });
  await ctl.init(t);
  const server = new OpenFlowServer(ctl, log, { tickMs: 50 });
  const bound = await server.listen({ kind: "tcp", host: "127.0.0.1", port: 0 });
  if (bound.kind !== "tcp") throw new Error("tcp expected");
  const api = await buildApi(ctl, { defaultWaitMs: 5000 });
  const hosts = ["compute-1", "compute-2"].map((h) =>
    buildHost(t, h, ctl.snapshot.localVlans.get(h)!),
  );
  const r: Rig = { ctl, server, api, store, metrics, hosts, logs };
  rigs.push(r);
  for (const h of hosts) {
    await h.int.connect(bound.port);
    await h.tun.connect(bound.port);
  }
  await until(() => allApplied({ ctl }), 5000, "every bridge applied");
  return r;
}

function errorCount(text: string, dpid: string, type: number, code: number): number {
  const re = new RegExp(
    `^of_errors_total\\{(?=[^}]*dpid="${dpid}")(?=[^}]*type="${type}")(?=[^}]*code="${code}")[^}]*\\} (\\d+)$`,
    "m",
  );
  const m = re.exec(text);
  return m === null ? 0 : Number(m[1]);
}

describe("a flow the switch refuses, end to end", () => {
  it("is logged with its ovs-ofctl text, counted, and reported by ?wait=applied", async () => {
    const r = await rig();
    const c1 = r.hosts[0]!;
    const responder = c1.brInt.tables[BR_INT.DVR_LOCAL_RESPONDER.id]!;
    // Full at what it holds now: the next flow for table 40 is refused.
    responder.maxEntries = responder.size;
    const errorsBefore = errorCount(await r.metrics.text(), "0x0000000000000011", 5, 1);

    // A second address for vm-a2 (compute-2): every host's br-int gets an
    // ARP responder flow for it in table 40.
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-a2?wait=applied",
      payload: {
        network: "blue",
        host: "compute-2",
        interface: "tap-vm-a2",
        mac_address: "fa:16:3e:aa:00:02",
        fixed_ips: ["203.0.113.11", "203.0.113.12"],
      },
    });

    // The API: 502, and the bridge's error names the error and the flow.
    expect(res.statusCode).toBe(502);
    const body = res.json<{
      error: string;
      bridges: { host: string; bridge: string; applied: boolean; error?: string }[];
    }>();
    expect(body.error).toBe("switch_refused");
    const refused = body.bridges.filter((b) => b.error !== undefined);
    expect(refused.map((b) => `${b.host}/${b.bridge}`)).toEqual(["compute-1/br-int"]);
    expect(refused[0]!.applied).toBe(false);
    expect(refused[0]!.error).toMatch(/OFPFMFC_TABLE_FULL/);
    expect(refused[0]!.error).toMatch(
      /table=40, priority=100,arp,.*arp_tpa=203\.0\.113\.12,arp_op=1 actions=/,
    );
    // The other bridges applied it.
    expect(body.bridges.filter((b) => b.error === undefined).every((b) => b.applied)).toBe(true);

    // The log: the decoded OFPT_ERROR, on compute-1's br-int, with the
    // offending flow in ovs-ofctl text.
    // Our switch also refuses each connection's bundle probe (OFPBRC_BAD_TYPE
    // for bundle_ctrl); that is expected, logged at debug as of.refused, and
    // is no of.error: the table-full refusal is the only one.
    const ofErrors = r.logs.filter((l) => l.event === "of.error");
    expect(ofErrors.map((l) => l.error)).toEqual(["OFPFMFC_TABLE_FULL"]);
    const line = ofErrors[0]!;
    expect(line).toMatchObject({
      type: 5,
      code: 1,
      request: "flow_mod",
      host: "compute-1",
      bridge: "br-int",
      dpid: "0x0000000000000011",
    });
    expect(line.flow).toMatch(
      /^cookie=0x[0-9a-f]+, table=40, priority=100,arp,metadata=0x1\/0xfff,arp_tpa=203\.0\.113\.12,arp_op=1 actions=set_field:2->arp_op,.*set_field:fa:16:3e:aa:00:02->eth_src,IN_PORT$/,
    );
    // It parses back as a flow: real add-flow syntax.
    expect(() => parseFlow(line.flow!)).not.toThrow();
    expect(line.msg).toBe(`switch error OFPFMFC_TABLE_FULL for flow: ${line.flow}`);
    // The reconciliation that sent it says so too, with the same flow.
    expect(r.logs.filter((l) => l.event === "reconcile.errors")).toEqual([
      expect.objectContaining({
        host: "compute-1",
        bridge: "br-int",
        first: "OFPFMFC_TABLE_FULL",
        flow: line.flow,
      }),
    ]);

    // The metric.
    const text = await r.metrics.text();
    expect(errorCount(text, "0x0000000000000011", 5, 1)).toBe(errorsBefore + ofErrors.length);
    // Nothing changed on the switch's table 40.
    expect(responder.size).toBe(responder.maxEntries);
  });
});
