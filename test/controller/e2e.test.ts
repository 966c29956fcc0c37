/**
 * End to end, in process: the controller's OpenFlow server on 127.0.0.1
 * (random port), and examples/two-hosts.yaml's two hosts as our userspace
 * switch (br-int + br-tun each, over real TCP through test/controller's
 * SwitchAgent). The controller syncs them; the flows equal `dvrflow
 * compile`; a routed packet crosses with the DVR MAC on the tunnel; a
 * restart sends zero FLOW_MODs; the API adds and deletes a port with
 * ?wait=applied; packet-ins are answered (ARP) or forwarded (route miss);
 * spoofed ARP and unknown datapath ids get nothing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import type { FastifyInstance } from "fastify";
import type { OfMessage } from "../../codec/message.js";
import {
  FK,
  FlowKey,
  arpRequest,
  buildUdp,
  ipv4FromString,
  macFromString,
  macToString,
  parseFrame,
} from "../../codec/packet/index.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { Datapath } from "../../datapath/datapath.js";
import { buildApi } from "../../src/api/server.js";
import { Controller } from "../../src/controller/controller.js";
import { OpenFlowServer } from "../../src/controller/server.js";
import { compileAll } from "../../src/dvr/compile/index.js";
import { formatDesiredFlow } from "../../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import { Metrics } from "../../src/metrics.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import type { Topology } from "../../src/topology/schema.js";
import { loadExample } from "../dvr/helpers.js";
import { SwitchAgent, buildHost, until, type TestHost } from "./helpers.js";
import { allApplied, installed } from "./rig.js";

const silent = pino({ level: "silent" });
const GW_BLUE = "fa:16:3e:00:01:01";
const DVR_MAC_1 = "fa:16:3f:00:00:01";
const VXLAN_OVERHEAD = 14 + 20 + 8 + 8;

interface Rig {
  t: Topology;
  store: SqliteStore;
  ctl: Controller;
  server: OpenFlowServer;
  port: number;
  metrics: Metrics;
  hosts: TestHost[];
  api: FastifyInstance;
}

const rigs: Rig[] = [];

async function startController(store: SqliteStore, t: Topology) {
  const metrics = new Metrics({ defaultMetrics: false });
  const ctl = new Controller({ store, log: silent, metrics });
  await ctl.init(t);
  const server = new OpenFlowServer(ctl, silent, { tickMs: 50 });
  const bound = await server.listen({ kind: "tcp", host: "127.0.0.1", port: 0 });
  if (bound.kind !== "tcp") throw new Error("tcp expected");
  const api = await buildApi(ctl, { defaultWaitMs: 5000 });
  return { ctl, server, port: bound.port, metrics, api };
}

async function rig(): Promise<Rig> {
  const t = loadExample("two-hosts.yaml");
  const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
  const c = await startController(store, t);
  const snap = c.ctl.snapshot;
  const hosts = ["compute-1", "compute-2"].map((h) => buildHost(t, h, snap.localVlans.get(h)!));
  const r: Rig = { t, store, ...c, hosts };
  rigs.push(r);
  await connectAll(r);
  return r;
}

async function connectAll(r: Rig): Promise<void> {
  for (const h of r.hosts) {
    await h.int.connect(r.port);
    await h.tun.connect(r.port);
  }
  await until(() => allApplied(r), 5000, "every bridge applied");
}

async function stopController(r: Rig): Promise<void> {
  r.ctl.stop();
  await r.server.close();
  await r.api.close();
  await Promise.all(r.hosts.flatMap((h) => [h.int.closed(), h.tun.closed()]));
}

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

function udp(srcMac: string, dstMac: string, src: string, dst: string): Uint8Array {
  return buildUdp({
    eth: { src: macFromString(srcMac), dst: macFromString(dstMac) },
    ip: { kind: "ipv4", src: ipv4FromString(src), dst: ipv4FromString(dst), ttl: 64 },
    srcPort: 40000,
    dstPort: 5001,
    payload: new Uint8Array([1, 2, 3, 4]),
  });
}

/** A dump line as a DELETE_STRICT of exactly that flow (its cookie as a full mask). */
function deleteStrict(line: string) {
  const text = line
    .replace(/^cookie=(0x[0-9a-f]+), /, "cookie=$1/0xffffffffffffffff, ")
    .replace(/ actions=.*$/, "");
  return flowModMessage(parseFlow(text, { command: "delete_strict" }));
}

/** Retries an async assertion until it passes (or the last failure after `ms`). */
async function eventually(check: () => Promise<void>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((res) => setTimeout(res, 10));
    }
  }
}

const countFlowMods = (r: Rig) =>
  r.hosts.reduce((n, h) => n + h.int.flowMods().length + h.tun.flowMods().length, 0);

describe("controller + two userspace switches over TCP", () => {
  it("syncs every bridge to exactly the flows `dvrflow compile` prints", async () => {
    const r = await rig();
    const compiled = compileAll(compileInputFromSnapshot(await offlineSnapshot(r.t)));
    for (const [i, h] of r.hosts.entries()) {
      const want = compiled[i]!;
      expect(want.host).toBe(h.name);
      expect(installed(h.int)).toEqual(want.bridges["br-int"].map(formatDesiredFlow).sort());
      expect(installed(h.tun)).toEqual(want.bridges["br-tun"].map(formatDesiredFlow).sort());
      // Our switch has no ONF bundles: one OPEN was refused, then plain FLOW_MODs and barriers.
      for (const a of [h.int, h.tun]) {
        expect(a.received.filter((m) => m.type === "bundle_ctrl")).toHaveLength(1);
        expect(a.received.filter((m) => m.type === "bundle_add")).toHaveLength(0);
        expect(a.sent.filter((m) => m.type === "error")).toHaveLength(1);
        expect(
          a.received.filter((m) => m.type === "barrier_request").length,
        ).toBeGreaterThanOrEqual(1);
      }
    }
    const status = r.ctl.status();
    expect(status.hosts["compute-1"]!["br-int"].flows_installed).toBe(
      compiled[0]!.bridges["br-int"].length,
    );
    expect(await r.metrics.text()).toMatch(/switches_connected 4/);
  });

  it("a routed packet leaves compute-1 with its DVR MAC on the tunnel and arrives with the gateway MAC", async () => {
    const r = await rig();
    const [c1, c2] = r.hosts as [TestHost, TestHost];
    c1.brInt.receive(
      c1.ofport("tap-vm-a1"),
      udp("fa:16:3e:aa:00:01", GW_BLUE, "203.0.113.10", "203.0.113.75"),
      0,
    );
    const out = c1.sink.take();
    expect(out.map((s) => `${s.bridge}:${s.port}`)).toEqual(["br-tun:10"]);
    const inner = out[0]!.frame.subarray(VXLAN_OVERHEAD);
    expect(macToString(inner, 6)).toBe(DVR_MAC_1);
    expect(macToString(inner, 0)).toBe("fa:16:3e:bb:00:02");
    expect(c2.dp.receiveVxlan(c2.brTun, 10, Uint8Array.from(out[0]!.frame), 0)).toBe(true);
    const got = c2.sink.take();
    expect(got.map((s) => `${s.bridge}:${s.port}`)).toEqual([`br-int:${c2.ofport("tap-vm-b2")}`]);
    expect(macToString(got[0]!.frame, 6)).toBe("fa:16:3e:00:02:01");
  });

  it("a controller restart with the same topology sends zero FLOW_MODs and keeps forwarding", async () => {
    const r = await rig();
    const before = countFlowMods(r);
    expect(before).toBeGreaterThan(50);
    await stopController(r);
    // Flows survive the controller (fail_mode=secure): routing still works.
    const c1 = r.hosts[0]!;
    c1.brInt.receive(
      c1.ofport("tap-vm-a1"),
      udp("fa:16:3e:aa:00:01", GW_BLUE, "203.0.113.10", "203.0.113.75"),
      0,
    );
    expect(c1.sink.take()).toHaveLength(1);
    const c = await startController(r.store, r.t);
    Object.assign(r, c);
    await connectAll(r);
    expect(countFlowMods(r)).toBe(before);
    // …and it did dump each bridge again to know that.
    const dumps = r.hosts[0]!.int.received.filter(
      (m) => m.type === "multipart_request" && m.body.kind === "flow",
    );
    expect(dumps.length).toBeGreaterThanOrEqual(2);
  });

  it("repairs what changed behind its back on reconnect, and never touches foreign flows", async () => {
    const r = await rig();
    const c1 = r.hosts[0]!;
    const wanted = installed(c1.int);
    // Someone deletes one of ours and adds one of theirs, and adds a stray flow with our prefix.
    const ours = wanted.find((l) => l.includes("table=42") && l.includes("203.0.113.75"))!;
    c1.brInt.flowMod(deleteStrict(ours), 0);
    c1.brInt.flowMod(
      flowModMessage(parseFlow("cookie=0x1234,table=50,priority=7,actions=drop")),
      0,
    );
    c1.brInt.flowMod(
      flowModMessage(parseFlow("cookie=0xd501000000000000,table=50,priority=9,actions=drop")),
      0,
    );
    const dumps = () =>
      c1.int.received.filter((m) => m.type === "multipart_request" && m.body.kind === "flow")
        .length;
    const before = dumps();
    await c1.int.disconnect();
    await c1.int.connect(r.port);
    await until(() => dumps() > before && allApplied(r), 5000, "resync");
    const now = installed(c1.int);
    expect(now).toContain(ours);
    expect(now.some((l) => l.startsWith("cookie=0x1234, table=50, priority=7"))).toBe(true);
    expect(now.some((l) => l.includes("cookie=0xd501000000000000"))).toBe(false);
    expect(now.filter((l) => !l.includes("cookie=0x1234"))).toEqual(wanted);
  });

  it("API: a port added with ?wait=applied has its flows installed when the call returns; a deleted port's flows are gone", async () => {
    const r = await rig();
    const [c1, c2] = r.hosts as [TestHost, TestHost];
    const lvBlue = r.ctl.snapshot.localVlans.get("compute-1")!.get("blue")!;
    c1.int.addPort({ kind: "sink", name: "tap-vm-c1", ofport: 20, tag: lvBlue });
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-c1?wait=applied&timeout=5s",
      payload: {
        network: "blue",
        host: "compute-1",
        interface: "tap-vm-c1",
        mac_address: "fa:16:3e:cc:00:01",
        fixed_ips: ["203.0.113.12"],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{
      generation: number;
      bridges: { applied: boolean; connected: boolean }[];
    }>();
    expect(body.generation).toBe(2);
    expect(body.bridges.every((b) => b.applied && b.connected)).toBe(true);
    // Right away: the new port's flows on compute-1, its neighbour entry on compute-2.
    expect(installed(c1.int).filter((l) => l.includes("in_port=20")).length).toBe(4);
    expect(installed(c1.int).some((l) => l.includes("priority=9,in_port=20 "))).toBe(true);
    expect(
      installed(c2.int).some((l) => l.includes("table=42") && l.includes("203.0.113.12")),
    ).toBe(true);
    // Routed traffic to it from compute-2 now works.
    c2.brInt.receive(
      c2.ofport("tap-vm-b2"),
      udp("fa:16:3e:bb:00:02", "fa:16:3e:00:02:01", "203.0.113.75", "203.0.113.12"),
      0,
    );
    const out = c2.sink.take();
    expect(out.map((s) => `${s.bridge}:${s.port}`)).toEqual(["br-tun:10"]);
    expect(macToString(out[0]!.frame.subarray(VXLAN_OVERHEAD), 0)).toBe("fa:16:3e:cc:00:01");

    const del = await r.api.inject({ method: "DELETE", url: "/v1/ports/vm-c1?wait=applied" });
    expect(del.statusCode, del.body).toBe(200);
    // The port is still plugged: only its I29 drop is left (Neutron's port_dead).
    expect(installed(c1.int).filter((l) => l.includes("in_port=20"))).toEqual([
      expect.stringMatching(/^cookie=0x[0-9a-f]+, priority=2,in_port=20 actions=drop$/),
    ]);
    expect(installed(c2.int).some((l) => l.includes("203.0.113.12"))).toBe(false);
    expect(installed(c1.int).some((l) => l.includes("fa:16:3e:cc:00:01"))).toBe(false);
  });

  it("API: ?wait=applied waits for a new port the switch has not reported yet, and times out with 504 if it never comes", async () => {
    const r = await rig();
    const [c1] = r.hosts as [TestHost, TestHost];
    const lvBlue = r.ctl.snapshot.localVlans.get("compute-1")!.get("blue")!;
    const vmC1 = (mac: string, ip: string) => ({
      network: "blue",
      host: "compute-1",
      interface: "tap-vm-c1",
      mac_address: mac,
      fixed_ips: [ip],
    });
    // Plumbing adds the port after the commit: the reply must wait for it.
    const pending = r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-c1?wait=applied&timeout=5s",
      payload: vmC1("fa:16:3e:cc:00:01", "203.0.113.12"),
    });
    await until(() => r.ctl.generation === 2, 5000, "committed");
    await new Promise((res) => setTimeout(res, 200));
    c1.int.addPort({ kind: "sink", name: "tap-vm-c1", ofport: 20, tag: lvBlue });
    const res = await pending;
    expect(res.statusCode, res.body).toBe(200);
    expect(installed(c1.int).some((l) => l.includes("priority=9,in_port=20 "))).toBe(true);

    // A port that never appears: 504, compute-1's br-int pending and why.
    const never = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-d1?wait=applied&timeout=300ms",
      payload: { ...vmC1("fa:16:3e:dd:00:01", "203.0.113.13"), interface: "tap-vm-d1" },
    });
    expect(never.statusCode, never.body).toBe(504);
    const body = never.json<{ pending: string[]; bridges: { error?: string }[] }>();
    expect(body.pending).toEqual(["compute-1/br-int"]);
    expect(body.bridges.map((b) => b.error).filter((e) => e !== undefined)).toEqual([
      "waiting for port(s) tap-vm-d1 on the switch",
    ]);
  });

  it("API: a rejected change answers 422 with located reasons and changes nothing", async () => {
    const r = await rig();
    const flowsBefore = countFlowMods(r);
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-x?wait=applied",
      payload: {
        network: "green",
        host: "compute-1",
        mac_address: "fa:16:3e:dd:00:01",
        fixed_ips: ["203.0.113.13"],
      },
    });
    expect(res.statusCode).toBe(422);
    const issues = res.json<{ issues: { path: string; message: string }[] }>().issues;
    expect(issues.some((i) => i.path.startsWith("ports.vm-x"))).toBe(true);
    expect(r.ctl.generation).toBe(1);
    expect(countFlowMods(r)).toBe(flowsBefore);
    const stale = await r.api.inject({
      method: "DELETE",
      url: "/v1/ports/vm-a1",
      headers: { "if-match": '"7"' },
    });
    expect(stale.statusCode).toBe(412);
    const status = await r.api.inject({ method: "GET", url: "/v1/status" });
    expect(
      status.json<{ hosts: Record<string, Record<string, { connected: boolean }>> }>().hosts[
        "compute-2"
      ]!["br-tun"]!.connected,
    ).toBe(true);
    const docs = await r.api.inject({ method: "GET", url: "/docs" });
    expect(docs.json<{ openapi: string; paths: Record<string, unknown> }>().paths).toHaveProperty(
      "/v1/ports/{name}",
    );
  });

  it("answers an ARP request that reaches it with a packet-out built from intent", async () => {
    const r = await rig();
    const c1 = r.hosts[0]!;
    // A foreign flow (not our cookie: reconciliation leaves it) sends ARP for the gateway to the controller.
    c1.brInt.flowMod(
      flowModMessage(
        parseFlow(
          "cookie=0x42,table=40,priority=200,arp,arp_tpa=203.0.113.1,actions=CONTROLLER:65535",
        ),
      ),
      0,
    );
    const req = arpRequest({
      sha: macFromString("fa:16:3e:aa:00:01"),
      spa: ipv4FromString("203.0.113.10"),
      tpa: ipv4FromString("203.0.113.1"),
    });
    c1.brInt.receive(c1.ofport("tap-vm-a1"), req, 0);
    c1.int.flushOutbox();
    await until(() => c1.int.received.some((m) => m.type === "packet_out"), 3000, "packet-out");
    const po = c1.int.received.find(
      (m): m is Extract<OfMessage, { type: "packet_out" }> => m.type === "packet_out",
    )!;
    const key = new FlowKey();
    expect(parseFrame(po.data, key)).toBe(0);
    expect(key.w[FK.ARP_OP]).toBe(2);
    expect(key.w[FK.ARP_SPA]).toBe(ipv4FromString("203.0.113.1"));
    expect(macToString(po.data, 6)).toBe(GW_BLUE);
    expect(macToString(po.data, 0)).toBe("fa:16:3e:aa:00:01");
    // The switch sent it back out of the VM's port.
    const out = c1.sink.take().filter((s) => s.port === c1.ofport("tap-vm-a1"));
    expect(out).toHaveLength(1);
    expect(await r.metrics.text()).toMatch(/of_packet_ins_total\{[^}]*reason="arp_reply"[^}]*\} 1/);

    // Spoofed: vm-a1 claims vm-b1's address. No reply, no state.
    c1.brInt.receive(
      c1.ofport("tap-vm-a1"),
      arpRequest({
        sha: macFromString("fa:16:3e:aa:00:01"),
        spa: ipv4FromString("203.0.113.74"),
        tpa: ipv4FromString("203.0.113.1"),
      }),
      0,
    );
    // (table 24 drops that before our foreign flow, so inject the packet-in as a switch would.)
    c1.int.write({
      type: "packet_in",
      xid: 0,
      bufferId: 0xffffffff,
      totalLen: 42,
      reason: 1,
      tableId: 40,
      cookie: 0x42n,
      match: flowModMessage(parseFlow(`in_port=${c1.ofport("tap-vm-a1")},actions=drop`)).match,
      data: arpRequest({
        sha: macFromString("fa:16:3e:aa:00:01"),
        spa: ipv4FromString("203.0.113.74"),
        tpa: ipv4FromString("203.0.113.1"),
      }),
    });
    await eventually(async () =>
      expect(await r.metrics.text()).toMatch(
        /of_packet_ins_total\{[^}]*reason="arp_spoofed"[^}]*\} 1/,
      ),
    );
    expect(c1.int.received.filter((m) => m.type === "packet_out")).toHaveLength(1);
  });

  it("forwards a route miss with the MACs rewritten and re-installs the missing flow", async () => {
    const r = await rig();
    const c1 = r.hosts[0]!;
    const neighbour = installed(c1.int).find(
      (l) => l.includes("table=42") && l.includes("203.0.113.75"),
    )!;
    c1.brInt.flowMod(deleteStrict(neighbour), 0);
    c1.brInt.receive(
      c1.ofport("tap-vm-a1"),
      udp("fa:16:3e:aa:00:01", GW_BLUE, "203.0.113.10", "203.0.113.75"),
      0,
    );
    expect(c1.sink.take()).toHaveLength(0); // table 42 missed: to the controller
    c1.int.flushOutbox();
    await until(() => c1.int.received.some((m) => m.type === "packet_out"), 3000, "packet-out");
    const out = c1.sink.take();
    expect(out.map((s) => `${s.bridge}:${s.port}`)).toEqual(["br-tun:10"]);
    const inner = out[0]!.frame.subarray(VXLAN_OVERHEAD);
    expect(macToString(inner, 6)).toBe(DVR_MAC_1);
    expect(macToString(inner, 0)).toBe("fa:16:3e:bb:00:02");
    const k = new FlowKey();
    parseFrame(inner, k);
    expect(k.w[FK.NW_TTL]).toBe(63);
    await until(() => installed(c1.int).includes(neighbour), 3000, "neighbour flow back");
  });

  it("a datapath id not in the topology gets no flows and is closed", async () => {
    const r = await rig();
    const dp = new Datapath();
    const stranger = new SwitchAgent(dp.addBridge({ name: "br-x", datapathId: 0x99n }));
    await stranger.connect(r.port);
    await stranger.closed();
    expect(stranger.flowMods()).toHaveLength(0);
    expect(await r.metrics.text()).toMatch(/of_dp_unknown_total\{dpid="0x0000000000000099"\} 1/);
  });
});
