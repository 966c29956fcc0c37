/**
 * The Prometheus series of a bridge go when the bridge leaves the topology
 * (or its datapath id moves to another host): a long-lived controller does
 * not export the bridges of every topology it ever had. The other bridges'
 * series stay, and counting on them goes on.
 */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { OFPR } from "../../codec/messages/packet-in.js";
import { arpRequest, ipv4FromString } from "../../codec/packet/index.js";
import { encodeMessage } from "../../codec/message.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { Controller } from "../../src/controller/controller.js";
import { BR_INT } from "../../src/dvr/tables.js";
import { Metrics } from "../../src/metrics.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { macBytes } from "../../src/topology/addr.js";
import { indexTopology } from "../../src/topology/indexed.js";
import type { Topology } from "../../src/topology/schema.js";
import { loadExample } from "../dvr/helpers.js";
import { buildHost } from "./helpers.js";
import { MemSwitch } from "./mem-switch.js";

const C1 = ["0x0000000000000011", "0x0000000000000012"];
const C2 = ["0x0000000000000021", "0x0000000000000022"];

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** Series lines (no comments) of `text` that carry one of `dpids`. */
function seriesOf(text: string, dpids: readonly string[]): string[] {
  return text
    .split("\n")
    .filter((l) => !l.startsWith("#") && dpids.some((d) => l.includes(`dpid="${d}"`)));
}

const metricNames = (lines: readonly string[]) =>
  [
    ...new Set(lines.map((l) => l.slice(0, l.search(/[{ ]/)).replace(/_(bucket|sum|count)$/, ""))),
  ].sort();

/** Connects a host's br-int in memory; answers one ARP packet-in and takes one OFPT_ERROR. */
async function exercise(ctl: Controller, t: Topology, hostName: string): Promise<MemSwitch> {
  const host = buildHost(t, hostName, ctl.snapshot.localVlans.get(hostName)!);
  const sw = new MemSwitch(ctl, host.brInt);
  sw.start();
  await sw.settle(
    () => ctl.status().hosts[hostName]!["br-int"].synced_generation === ctl.generation,
    `${hostName} br-int applied`,
  );
  const port = indexTopology(t).portsByHost.get(hostName)![0]!;
  const frame = arpRequest({
    sha: macBytes(port.mac),
    spa: port.addresses[0]!.ip,
    tpa: ipv4FromString("203.0.113.1"),
  });
  sw.packetIn({
    type: "packet_in",
    xid: 0,
    bufferId: 0xffffffff,
    totalLen: frame.byteLength,
    reason: OFPR.ACTION,
    tableId: BR_INT.DVR_LOCAL_RESPONDER.id,
    cookie: 0n,
    match: flowModMessage(parseFlow(`in_port=${host.ofport(port.interfaceName)},actions=drop`))
      .match,
    data: frame,
  });
  sw.conn.data(
    encodeMessage({
      type: "error",
      xid: 77,
      error: { kind: "standard", type: 1, code: 1 },
      data: new Uint8Array(0),
    }),
  );
  sw.pump();
  expect(sw.packetOuts.length).toBeGreaterThan(0);
  return sw;
}

async function start(): Promise<{ ctl: Controller; metrics: Metrics; t: Topology }> {
  const t = loadExample("two-hosts.yaml");
  const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
  const metrics = new Metrics({ defaultMetrics: false });
  const ctl = new Controller({
    store,
    log: pino({ level: "silent" }),
    metrics,
    auditIntervalMs: 0,
  });
  await ctl.init(t);
  closers.push(async () => {
    ctl.stop();
    await store.close();
  });
  return { ctl, metrics, t };
}

/** The topology without compute-2 and its ports. */
function withoutCompute2(t: Topology): Topology {
  const u = structuredClone(t);
  delete (u.hosts as Record<string, unknown>)["compute-2"];
  for (const [name, p] of Object.entries(u.ports))
    if (p.host === "compute-2") delete (u.ports as Record<string, unknown>)[name];
  return u;
}

describe("metric series of bridges removed from the topology", () => {
  it("are removed with the bridge; the other bridges' series stay and keep counting", async () => {
    const { ctl, metrics, t } = await start();
    await exercise(ctl, t, "compute-1");
    await exercise(ctl, t, "compute-2");
    const before = await metrics.text();
    // Every per-bridge metric has a series for compute-2 before the change.
    const perBridge = [
      "dp_status",
      "flows_desired",
      "flows_installed",
      "of_dp_connections_total",
      "of_errors_total",
      "of_flowmsgs_sent_total",
      "of_packet_ins_total",
      "reconcile_flows_total",
      "reconcile_seconds",
      "reconciles_total",
    ];
    expect(metricNames(seriesOf(before, C2))).toEqual(perBridge);
    const c1Before = seriesOf(before, C1);

    await ctl.apply(withoutCompute2(t));
    const after = await metrics.text();
    expect(seriesOf(after, C2)).toEqual([]);
    // compute-1's series are still there (dp_status of its br-tun, never connected, too).
    expect(metricNames(seriesOf(after, C1))).toEqual(metricNames(c1Before));
    expect(after).toMatch(
      /of_packet_ins_total\{dpid="0x0000000000000011",reason="arp_reply",table="40",class="arp"\} 1/,
    );
  });

  it("a bridge that comes back starts new series", async () => {
    const { ctl, metrics, t } = await start();
    await exercise(ctl, t, "compute-2");
    await ctl.apply(withoutCompute2(t));
    expect(seriesOf(await metrics.text(), C2)).toEqual([]);
    await ctl.apply(t);
    await exercise(ctl, t, "compute-2");
    const back = await metrics.text();
    expect(back).toMatch(
      /of_dp_connections_total\{dpid="0x0000000000000021",host="compute-2",bridge="br-int"\} 1\n/,
    );
    expect(back).toMatch(
      /of_packet_ins_total\{dpid="0x0000000000000021",reason="arp_reply",table="40",class="arp"\} 1\n/,
    );
  });
});
