/**
 * Tunnel ports mapped to hosts by OVSDB data or by Neutron's naming
 * convention (issue 5 §2; src/plumb/tunnels.ts mapSwitchTunnelPorts, the
 * controller's br-tun port numbers, src/plumb/hook.ts).
 *
 * compute-1's tunnel to compute-2 is named `tun-compute2` here, not the
 * `vxlan-c633640c` the compiler looks for. With the host's OVSDB data (the
 * plumbing hook's tunnel ports) it gets exactly the flows the canonical
 * name would; without, the controller says why the tunnel has no flows
 * (`tunnel.unmapped`, once; `/v1/status`; a 502 from `?wait=applied`)
 * instead of letting the write wait for a port that never comes.
 */
import { pino } from "pino";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { buildUdp, ipv4FromString, macFromString, macToString } from "../../codec/packet/index.js";
import { buildApi } from "../../src/api/server.js";
import { Controller, type PlumbingHook } from "../../src/controller/controller.js";
import { OpenFlowServer } from "../../src/controller/server.js";
import { compileHost, tunnelPortName } from "../../src/dvr/compile/index.js";
import { formatDesiredFlow } from "../../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import { OvsdbPlumbing } from "../../src/plumb/hook.js";
import { mapSwitchTunnelPorts } from "../../src/plumb/tunnels.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { parseIpv4 } from "../../src/topology/addr.js";
import { loadExample } from "../dvr/helpers.js";
import { ovsdbAvailable, startOvsdbServer, type PrivateOvsdb } from "../ovsdb/ovsdb-server.js";
import { twoHosts } from "../plumb/helpers.js";
import { buildHost, until, type TestHost } from "./helpers.js";
import { allApplied, installed } from "./rig.js";

const TUN_TO_C2 = "vxlan-c633640c"; // the compiler's name: 198.51.100.12 in hex
const RENAMED = "tun-compute2";

/** A plumbing hook that only reports tunnel ports, as OvsdbPlumbing does from OVSDB. */
class TunnelData implements PlumbingHook {
  private readonly data = new Map<string, ReadonlyMap<string, string>>();
  private readonly listeners: ((host: string) => void)[] = [];
  apply(): Promise<void> {
    return Promise.resolve();
  }
  tunnelPorts(host: string): ReadonlyMap<string, string> | undefined {
    return this.data.get(host);
  }
  onTunnelPorts(listener: (host: string) => void): void {
    this.listeners.push(listener);
  }
  set(host: string, ports: ReadonlyMap<string, string>): void {
    this.data.set(host, ports);
    for (const l of this.listeners) l(host);
  }
}

interface LogLine {
  level: number;
  event?: string;
  host?: string;
  bridge?: string;
  port?: string;
  ofport?: number;
  expected?: string[];
  msg: string;
}

interface Rig {
  readonly ctl: Controller;
  readonly server: OpenFlowServer;
  readonly api: FastifyInstance;
  readonly store: SqliteStore;
  readonly hosts: readonly [TestHost, TestHost];
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

/** two-hosts.yaml with compute-1's tunnel to compute-2 renamed; every bridge connected. */
async function rig(plumbing?: PlumbingHook): Promise<Rig> {
  const logs: LogLine[] = [];
  const log = pino(
    { level: "info" },
    { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  );
  const t = loadExample("two-hosts.yaml");
  const store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
  const ctl = new Controller({
    store,
    log,
    auditIntervalMs: 0,
    ...(plumbing === undefined ? {} : { plumbing }),
  });
  await ctl.init(t);
  const server = new OpenFlowServer(ctl, log, { tickMs: 50 });
  const bound = await server.listen({ kind: "tcp", host: "127.0.0.1", port: 0 });
  if (bound.kind !== "tcp") throw new Error("tcp expected");
  const api = await buildApi(ctl, { defaultWaitMs: 5000 });
  const hosts = [
    buildHost(t, "compute-1", ctl.snapshot.localVlans.get("compute-1")!),
    buildHost(t, "compute-2", ctl.snapshot.localVlans.get("compute-2")!),
  ] as const;
  const c1 = hosts[0];
  const ofport = c1.brTun.portByName(TUN_TO_C2)!.no;
  c1.brTun.removePort(TUN_TO_C2);
  c1.brTun.addPort({
    kind: "vxlan",
    name: RENAMED,
    ofport,
    remoteIp: ipv4FromString("198.51.100.12"),
    localIp: ipv4FromString("198.51.100.11"),
    key: "flow",
  });
  const r: Rig = { ctl, server, api, store, hosts, logs };
  rigs.push(r);
  for (const h of hosts) {
    await h.int.connect(bound.port);
    await h.tun.connect(bound.port);
  }
  await until(() => allApplied({ ctl }), 5000, "every bridge synced");
  return r;
}

/** compute-1's br-tun flows as the compiler gives them with plumb's numbering (vxlan-c633640c = 10). */
function compiledBrTun(r: Rig): string[] {
  return compileHost(compileInputFromSnapshot(r.ctl.snapshot), "compute-1")
    .bridges["br-tun"].map(formatDesiredFlow)
    .sort();
}

const unmappedLogs = (r: Rig) => r.logs.filter((l) => l.event === "tunnel.unmapped");

interface StatusJson {
  hosts: Record<string, Record<string, { missing_ports: string[]; unmapped_ports?: unknown[] }>>;
}

describe("a tunnel port not named vxlan-<hex>", () => {
  it("without OVSDB data: warned once, shown in /v1/status, and ?wait=applied answers 502 at once", async () => {
    const r = await rig();
    const c1 = r.hosts[0];
    const ofport = c1.brTun.portByName(RENAMED)!.no;
    // The tunnel got no flows.
    expect(installed(c1.tun).some((l) => new RegExp(`in_port=${ofport}\\b`).test(l))).toBe(false);
    expect(installed(c1.tun).length).toBeLessThan(compiledBrTun(r).length);

    const status = (await r.api.inject({ method: "GET", url: "/v1/status" })).json<StatusJson>();
    expect(status.hosts["compute-1"]!["br-tun"]).toMatchObject({
      missing_ports: [TUN_TO_C2],
      unmapped_ports: [{ port: RENAMED, ofport, expected: [TUN_TO_C2] }],
    });
    expect(status.hosts["compute-2"]!["br-tun"]!.unmapped_ports).toEqual([]);
    expect(status.hosts["compute-1"]!["br-int"]!.unmapped_ports).toBeUndefined();

    expect(unmappedLogs(r)).toEqual([
      expect.objectContaining({
        level: 40,
        host: "compute-1",
        bridge: "br-tun",
        port: RENAMED,
        ofport,
        expected: [TUN_TO_C2],
      }),
    ]);
    expect(unmappedLogs(r)[0]!.msg).toMatch(
      /br-tun port tun-compute2 of compute-1 maps to no host: .*no OVSDB data for compute-1.*tunnel ports expected: vxlan-c633640c/,
    );

    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-a1?wait=applied&timeout=5s",
      payload: {
        network: "blue",
        host: "compute-1",
        interface: "tap-vm-a1",
        mac_address: "fa:16:3e:aa:00:01",
        fixed_ips: ["203.0.113.10"],
        port_security: false,
      },
    });
    expect(res.statusCode, res.body).toBe(502);
    const body = res.json<{
      error: string;
      wait_ms: number;
      failed: string[];
      bridges: { host: string; bridge: string; status: string; error?: string }[];
    }>();
    expect(body.error).toBe("tunnel_unmapped");
    expect(body.failed).toEqual(["compute-1/br-tun"]);
    // Not held until the timeout: nothing more would come.
    expect(body.wait_ms).toBeLessThan(4000);
    const c1Tun = body.bridges.find((b) => b.host === "compute-1" && b.bridge === "br-tun")!;
    expect(c1Tun.status).toBe("tunnel_unmapped");
    expect(c1Tun.error).toMatch(
      /vxlan-c633640c missing; br-tun port\(s\) tun-compute2 map to no host/,
    );
    // Once per port, however many reconciliations see it.
    expect(unmappedLogs(r)).toHaveLength(1);
  });

  it("with OVSDB data: the tunnel gets exactly the flows the Neutron name would, and ?wait=applied answers 200", async () => {
    const data = new TunnelData();
    data.set("compute-1", new Map([[RENAMED, "compute-2"]]));
    const r = await rig(data);
    const [c1, c2] = r.hosts;
    expect(installed(c1.tun)).toEqual(compiledBrTun(r));
    expect(unmappedLogs(r)).toEqual([]);
    const status = (await r.api.inject({ method: "GET", url: "/v1/status" })).json<StatusJson>();
    expect(status.hosts["compute-1"]!["br-tun"]).toMatchObject({
      missing_ports: [],
      unmapped_ports: [],
    });
    // A routed packet leaves through the renamed tunnel and arrives on compute-2.
    c1.brInt.receive(
      c1.ofport("tap-vm-a1"),
      buildUdp({
        eth: { src: macFromString("fa:16:3e:aa:00:01"), dst: macFromString("fa:16:3e:00:01:01") },
        ip: {
          kind: "ipv4",
          src: ipv4FromString("203.0.113.10"),
          dst: ipv4FromString("203.0.113.75"),
          ttl: 64,
        },
        srcPort: 40000,
        dstPort: 5001,
        payload: new Uint8Array([1, 2, 3, 4]),
      }),
      0,
    );
    const out = c1.sink.take();
    expect(out.map((s) => `${s.bridge}:${s.port}`)).toEqual([
      `br-tun:${c1.brTun.portByName(RENAMED)!.no}`,
    ]);
    expect(c2.dp.receiveVxlan(c2.brTun, 10, Uint8Array.from(out[0]!.frame), 0)).toBe(true);
    expect(c2.sink.take().map((s) => macToString(s.frame, 0))).toEqual(["fa:16:3e:bb:00:02"]);

    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-a1?wait=applied&timeout=5s",
      payload: {
        network: "blue",
        host: "compute-1",
        interface: "tap-vm-a1",
        mac_address: "fa:16:3e:aa:00:01",
        fixed_ips: ["203.0.113.10"],
        port_security: false,
      },
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  it("OVSDB data arriving later reconciles br-tun with the mapped tunnel", async () => {
    const data = new TunnelData();
    const r = await rig(data);
    const c1 = r.hosts[0];
    expect(unmappedLogs(r)).toHaveLength(1);
    data.set("compute-1", new Map([[RENAMED, "compute-2"]]));
    await until(
      () => JSON.stringify(installed(c1.tun)) === JSON.stringify(compiledBrTun(r)),
      5000,
      "br-tun reconciled with the mapped tunnel",
    );
    const status = (await r.api.inject({ method: "GET", url: "/v1/status" })).json<StatusJson>();
    expect(status.hosts["compute-1"]!["br-tun"]!.unmapped_ports).toEqual([]);
    await until(
      () => r.ctl.status().hosts["compute-1"]!["br-tun"].missing_ports.length === 0,
      5000,
      "no port missing",
    );
  });
});

describe("mapSwitchTunnelPorts", () => {
  const peers = [
    { host: "compute-2", portName: tunnelPortName(parseIpv4("198.51.100.12")!) },
    { host: "compute-3", portName: tunnelPortName(parseIpv4("198.51.100.13")!) },
  ];
  const reserved = new Set(["patch-int", "br-tun"]);
  const LOCAL = 0xfffffffe;

  it("renames OVSDB-known tunnels to the compiler's names; a port under the right name wins", () => {
    const v = mapSwitchTunnelPorts(
      [
        { name: "patch-int", portNo: 1 },
        { name: "tun-a", portNo: 10 },
        { name: "vxlan-c633640d", portNo: 11 },
        { name: "tun-b", portNo: 12 },
        { name: "mirror0", portNo: 13 },
        { name: "br-tun", portNo: LOCAL },
      ],
      peers,
      new Map([
        ["tun-a", "compute-2"],
        ["vxlan-c633640d", "compute-3"],
        ["tun-b", "compute-3"],
      ]),
      reserved,
    );
    expect(Object.fromEntries(v.ofports)).toEqual({
      "patch-int": 1,
      "vxlan-c633640c": 10,
      "vxlan-c633640d": 11,
      "tun-b": 12,
      mirror0: 13,
      "br-tun": LOCAL,
    });
    expect([...v.renamed]).toEqual([["tun-a", "vxlan-c633640c"]]);
    // With the database at hand, a port it does not call a tunnel is no tunnel.
    expect(v.unmapped).toEqual([]);
  });

  it("without OVSDB data, reports every other-named port with the tunnel names the switch lacks", () => {
    const v = mapSwitchTunnelPorts(
      [
        { name: "patch-int", portNo: 1 },
        { name: "vxlan-c633640d", portNo: 11 },
        { name: "tun-compute2", portNo: 10 },
        { name: "gre-0a000001", portNo: 14 },
        { name: "br-tun", portNo: LOCAL },
      ],
      peers,
      undefined,
      reserved,
    );
    expect(v.unmapped).toEqual([
      { port: "tun-compute2", ofport: 10, expected: ["vxlan-c633640c"] },
    ]);
    expect(v.renamed.size).toBe(0);
    expect(v.ofports.get("tun-compute2")).toBe(10);
  });
});

describe.skipIf(!ovsdbAvailable())("OvsdbPlumbing: tunnel ports from the database", () => {
  let srv: PrivateOvsdb | undefined;
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });

  it("reports each plumbed host's tunnel ports and tells listeners when they change", async () => {
    srv = await startOvsdbServer();
    const hook = new OvsdbPlumbing({
      optionsFor: () => ({}),
      log: pino({ level: "silent" }),
      keeper: { debounceMs: 10 },
    });
    const heard: string[] = [];
    hook.onTunnelPorts((h) => heard.push(h));
    try {
      const t = twoHosts();
      t.hosts["compute-1"]!.ovsdb = srv.remote;
      expect(hook.tunnelPorts("compute-1")).toBeUndefined();
      await hook.apply(await offlineSnapshot(t));
      expect(hook.tunnelPorts("compute-1")).toEqual(new Map([[TUN_TO_C2, "compute-2"]]));
      expect(hook.tunnelPorts("compute-2")).toBeUndefined();
      expect(heard).toEqual(["compute-1"]);
      // The host leaves OVSDB management: its data is gone.
      delete t.hosts["compute-1"]!.ovsdb;
      await hook.apply(await offlineSnapshot(t));
      expect(hook.tunnelPorts("compute-1")).toBeUndefined();
      expect(heard).toEqual(["compute-1", "compute-1"]);
    } finally {
      await hook.stop();
    }
  });
});
