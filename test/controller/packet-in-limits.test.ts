/**
 * Packet-in rate limits per class (issue 5 §4: "packet-ins are rate-limited
 * per switch"): ARP fallback packet-ins (br-int table 40) and route misses
 * (table 42) each have their own bucket per bridge, so a VM that ARP-scans
 * its subnet cannot starve route misses; the limits come from
 * `dvrflow run --packet-in-rate`; drops are counted by class.
 *
 * The controller's clock stands still, so no bucket refills during a test:
 * what is answered is exactly the burst.
 */
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { PacketInMessage } from "../../codec/messages/packet-in.js";
import { OFPR } from "../../codec/messages/packet-in.js";
import { arpRequest, buildUdp, ipv4FromString, macFromString } from "../../codec/packet/index.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { main } from "../../src/cli/main.js";
import { parsePacketInRates } from "../../src/cli/commands/run.js";
import { Controller, type ControllerOptions } from "../../src/controller/controller.js";
import {
  DEFAULT_PACKET_IN_LIMIT,
  PACKET_IN_CLASS,
  PacketInLimiter,
  packetInClass,
  packetInLimits,
} from "../../src/controller/packet-in.js";
import { BR_INT } from "../../src/dvr/tables.js";
import { Metrics } from "../../src/metrics.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import type { Topology } from "../../src/topology/schema.js";
import { loadExample } from "../dvr/helpers.js";
import { buildHost, SwitchAgent, until } from "./helpers.js";
import { MemSwitch } from "./mem-switch.js";

const ARP_TABLE = BR_INT.DVR_LOCAL_RESPONDER.id;
const NEIGHBOR_TABLE = BR_INT.DVR_NEIGHBOR.id;
const C1_INT = "0x0000000000000011";
const VM_A1 = { mac: "fa:16:3e:aa:00:01", ip: "203.0.113.10", iface: "tap-vm-a1" };
const VM_A2_IP = "203.0.113.11";
const VM_B1 = { mac: "fa:16:3e:bb:00:01", ip: "203.0.113.74", iface: "tap-vm-b1" };
const GW_RED_MAC = "fa:16:3e:00:02:01";

interface Setup {
  readonly t: Topology;
  readonly ctl: Controller;
  readonly metrics: Metrics;
  readonly sw: MemSwitch;
  readonly ofport: (iface: string) => number;
  readonly lv: (network: string) => number;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** compute-1's br-int connected in memory to a controller whose clock stands still. */
async function setup(options: Partial<ControllerOptions> = {}): Promise<Setup> {
  const t = loadExample("two-hosts.yaml");
  const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
  const metrics = new Metrics({ defaultMetrics: false });
  const ctl = new Controller({
    store,
    log: pino({ level: "silent" }),
    metrics,
    auditIntervalMs: 0,
    clock: () => 1_000_000,
    ...options,
  });
  await ctl.init(t);
  closers.push(async () => {
    ctl.stop();
    await store.close();
  });
  const lvs = ctl.snapshot.localVlans.get("compute-1")!;
  const host = buildHost(t, "compute-1", lvs);
  const sw = new MemSwitch(ctl, host.brInt);
  sw.start();
  await sw.settle(
    () => ctl.status().hosts["compute-1"]!["br-int"].synced_generation === ctl.generation,
    "br-int applied",
  );
  return { t, ctl, metrics, sw, ofport: host.ofport, lv: (n) => lvs.get(n)! };
}

function packetIn(match: string, data: Uint8Array, tableId: number): PacketInMessage {
  return {
    type: "packet_in",
    xid: 0,
    bufferId: 0xffffffff,
    totalLen: data.byteLength,
    reason: OFPR.ACTION,
    tableId,
    cookie: 0n,
    match: flowModMessage(parseFlow(`${match},actions=drop`)).match,
    data,
  };
}

/** vm-a1 asks for vm-a2's address; table 40 hands it to the controller, as OVS does. */
function arpFromVmA1(s: Setup): PacketInMessage {
  const frame = arpRequest({
    sha: macFromString(VM_A1.mac),
    spa: ipv4FromString(VM_A1.ip),
    tpa: ipv4FromString(VM_A2_IP),
  });
  return packetIn(`in_port=${s.ofport(VM_A1.iface)},metadata=${s.lv("blue")}`, frame, ARP_TABLE);
}

/**
 * vm-a1 → vm-b1, routed into red by table 41 (source MAC the red gateway's,
 * metadata red's local VLAN), with no neighbour flow for vm-b1 in table 42.
 */
function routeMissFromVmA1(s: Setup): PacketInMessage {
  const frame = buildUdp({
    eth: { src: macFromString(GW_RED_MAC), dst: macFromString("fa:16:3e:00:01:01") },
    ip: { kind: "ipv4", src: ipv4FromString(VM_A1.ip), dst: ipv4FromString(VM_B1.ip), ttl: 63 },
    srcPort: 1,
    dstPort: 2,
    payload: new Uint8Array(4),
  });
  return packetIn(
    `in_port=${s.ofport(VM_A1.iface)},metadata=${s.lv("red")}`,
    frame,
    NEIGHBOR_TABLE,
  );
}

/** The value of `of_packet_ins_total` for one label set (0 when absent). */
async function packetIns(
  m: Metrics,
  labels: { reason: string; table: number; cls: string },
): Promise<number> {
  const text = await m.text();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("of_packet_ins_total{") &&
        l.includes(`dpid="${C1_INT}"`) &&
        l.includes(`reason="${labels.reason}"`) &&
        l.includes(`table="${labels.table}"`) &&
        l.includes(`class="${labels.cls}"`),
    );
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

const outputs = (s: Setup) =>
  s.sw.packetOuts.map((po) => po.actions.find((a) => a.type === "output"));

describe("packet-in rate limits per class", () => {
  it("a flood of ARP packet-ins does not stop a route-miss packet-in from being handled", async () => {
    const s = await setup();
    const arp = arpFromVmA1(s);
    for (let i = 0; i < 1000; i++) s.sw.packetIn(arp);
    s.sw.pump();
    // The ARP bucket's burst is answered, the rest dropped and counted by class.
    const burst = DEFAULT_PACKET_IN_LIMIT.burst;
    expect(s.sw.packetOuts).toHaveLength(burst);
    expect(await packetIns(s.metrics, { reason: "arp_reply", table: 40, cls: "arp" })).toBe(burst);
    expect(await packetIns(s.metrics, { reason: "rate_limited", table: 40, cls: "arp" })).toBe(
      1000 - burst,
    );

    // The route miss still goes out, rewritten and delivered to vm-b1's port.
    s.sw.packetIn(routeMissFromVmA1(s));
    s.sw.pump();
    expect(s.sw.packetOuts).toHaveLength(burst + 1);
    const po = s.sw.packetOuts[burst]!;
    expect(po.actions).toContainEqual({
      type: "output",
      port: s.ofport(VM_B1.iface),
      maxLen: 0,
    });
    expect(
      await packetIns(s.metrics, {
        reason: "route_miss_forwarded",
        table: NEIGHBOR_TABLE,
        cls: "route_miss",
      }),
    ).toBe(1);
    expect(
      await packetIns(s.metrics, {
        reason: "rate_limited",
        table: NEIGHBOR_TABLE,
        cls: "route_miss",
      }),
    ).toBe(0);
  });

  it("each class has its own configured bucket; a route-miss flood leaves ARP alone", async () => {
    const s = await setup({
      packetInLimits: { arp: { rate: 1, burst: 3 }, route_miss: { rate: 1, burst: 2 } },
    });
    for (let i = 0; i < 10; i++) s.sw.packetIn(routeMissFromVmA1(s));
    s.sw.pump();
    expect(s.sw.packetOuts).toHaveLength(2);
    for (let i = 0; i < 10; i++) s.sw.packetIn(arpFromVmA1(s));
    s.sw.pump();
    expect(s.sw.packetOuts).toHaveLength(5);
    // ARP replies go back out of the asking port.
    expect(outputs(s).slice(2)).toEqual(
      Array.from({ length: 3 }, () => ({ type: "output", port: 0xfffffff8, maxLen: 0 })),
    );
    expect(await packetIns(s.metrics, { reason: "rate_limited", table: 40, cls: "arp" })).toBe(7);
    expect(
      await packetIns(s.metrics, {
        reason: "rate_limited",
        table: NEIGHBOR_TABLE,
        cls: "route_miss",
      }),
    ).toBe(8);
  });

  it("packetInRate/packetInBurst set the classes packetInLimits leaves out", () => {
    expect(packetInLimits()).toEqual({
      arp: DEFAULT_PACKET_IN_LIMIT,
      route_miss: DEFAULT_PACKET_IN_LIMIT,
      other: DEFAULT_PACKET_IN_LIMIT,
    });
    const store = new SqliteStore(":memory:");
    const ctl = new Controller({
      store,
      log: pino({ level: "silent" }),
      packetInRate: 50,
      packetInLimits: { arp: { rate: 7, burst: 1 } },
    });
    expect(ctl.packetInLimits).toEqual({
      arp: { rate: 7, burst: 1 },
      route_miss: { rate: 50, burst: DEFAULT_PACKET_IN_LIMIT.burst },
      other: { rate: 50, burst: DEFAULT_PACKET_IN_LIMIT.burst },
    });
    void store.close();
  });

  it("classes come from the bridge and table, and each bucket refills at its own rate", () => {
    expect(packetInClass("br-int", ARP_TABLE)).toBe(PACKET_IN_CLASS.arp);
    expect(packetInClass("br-int", NEIGHBOR_TABLE)).toBe(PACKET_IN_CLASS.routeMiss);
    expect(packetInClass("br-int", 0)).toBe(PACKET_IN_CLASS.other);
    expect(packetInClass("br-tun", ARP_TABLE)).toBe(PACKET_IN_CLASS.other);
    const l = new PacketInLimiter(
      packetInLimits({ arp: { rate: 1000, burst: 1 }, route_miss: { rate: 10, burst: 1 } }),
    );
    expect(l.take("arp", 0)).toBe(true);
    expect(l.take("arp", 0)).toBe(false);
    expect(l.take("route_miss", 0)).toBe(true);
    expect(l.take("route_miss", 1)).toBe(false);
    // 1 ms later: one ARP token back (1000/s), not yet a route-miss one (10/s).
    expect(l.take("arp", 1)).toBe(true);
    expect(l.take("route_miss", 2)).toBe(false);
    expect(l.take("route_miss", 101)).toBe(true);
  });
});

describe("dvrflow run --packet-in-rate", () => {
  it("parses CLASS=RATE[/BURST], `all`, and refuses anything else", () => {
    expect(parsePacketInRates(["arp=200/50", "route_miss=5000"])).toEqual({
      arp: { rate: 200, burst: 50 },
      route_miss: { rate: 5000, burst: 1000 },
    });
    expect(parsePacketInRates(["all=10", "other=2/1"])).toEqual({
      arp: { rate: 10, burst: 2 },
      route_miss: { rate: 10, burst: 2 },
      other: { rate: 2, burst: 1 },
    });
    expect(parsePacketInRates(["arp=0.5"])).toEqual({ arp: { rate: 0.5, burst: 1 } });
    for (const bad of ["arp", "dhcp=10", "arp=-1", "arp=0", "arp=10/0", "arp=10/1.5", "arp=x"])
      expect(parsePacketInRates([bad]), bad).toMatch(/--packet-in-rate/);
  });

  it("reaches the controller from the command line: only the configured burst is answered", async () => {
    const out: string[] = [];
    const io = {
      stdin: () => Promise.resolve(""),
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void out.push(s),
    };
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    const before = new Map(signals.map((s) => [s, process.listeners(s)]));
    const added = (s: (typeof signals)[number]) =>
      process.listeners(s).filter((l) => !before.get(s)!.includes(l));
    const status = main(
      [
        "node",
        "dvrflow",
        "run",
        "--config",
        "examples/two-hosts.yaml",
        "--listen",
        "tcp:127.0.0.1:0",
        "--api",
        "off",
        "--metrics",
        "off",
        "--log-level",
        "silent",
        "--packet-in-rate",
        "arp=1/3",
      ],
      io,
    );
    let agent: SwitchAgent | undefined;
    try {
      await until(() => out.join("").includes("OpenFlow on"), 10_000, "the controller to start");
      const port = Number(/OpenFlow on tcp:127\.0\.0\.1:(\d+)/.exec(out.join(""))![1]);
      const t = loadExample("two-hosts.yaml");
      const host = buildHost(
        t,
        "compute-1",
        new Map([
          ["blue", 1],
          ["red", 2],
        ]),
      );
      agent = host.int;
      await agent.connect(port);
      // Ready once the controller has reconciled (its FLOW_MODs arrive).
      await until(() => agent!.flowMods().length > 0, 10_000, "flows");
      const frame = arpRequest({
        sha: macFromString(VM_A1.mac),
        spa: ipv4FromString(VM_A1.ip),
        tpa: ipv4FromString(VM_A2_IP),
      });
      const msg = packetIn(`in_port=${host.ofport(VM_A1.iface)}`, frame, ARP_TABLE);
      for (let i = 0; i < 10; i++) agent.write(msg);
      const replies = () => agent!.received.filter((m) => m.type === "packet_out").length;
      await until(() => replies() >= 3, 5000, "ARP replies");
      await new Promise((r) => setTimeout(r, 200));
      // The default burst (200) would have answered all ten.
      expect(replies()).toBe(3);
    } finally {
      await agent?.disconnect();
      for (const l of added("SIGTERM")) (l as (s: string) => void)("SIGTERM");
      for (const s of signals) for (const l of added(s)) process.removeListener(s, l);
    }
    expect(await status).toBe(0);
  });
});
