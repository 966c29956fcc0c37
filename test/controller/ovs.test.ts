/**
 * The controller against real Open vSwitch 3.1 (a private instance, dummy
 * datapath): compute-1 of examples/two-hosts.yaml as br-int + br-tun with
 * the port numbers `dvrflow plumb` requests, connected to our controller
 * over TCP. OVS must end up with exactly the flows `dvrflow compile` prints
 * (checked by OVS's own `ovs-ofctl diff-flows`), installed in one ONF
 * bundle, and a controller restart must send zero FLOW_MODs.
 *
 * Skipped where the OVS daemons are not installed.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { runDiffFlows, runDumpFlows } from "../../src/cli/commands/flows.js";
import { Controller } from "../../src/controller/controller.js";
import { OpenFlowServer } from "../../src/controller/server.js";
import { compileHost } from "../../src/dvr/compile/index.js";
import { formatDesiredFlow } from "../../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import { seededRandomBytes } from "../../src/store/mac-alloc.js";
import { SqliteStore } from "../../src/store/sqlite.js";
import { OvsInstance, ovsDaemonsAvailable } from "../datapath/ovs-instance.js";
import { loadExample } from "../dvr/helpers.js";
import { until } from "./helpers.js";

const HAVE_OVS = ovsDaemonsAvailable();
const silent = pino({ level: "silent" });

describe.skipIf(!HAVE_OVS)("controller with real Open vSwitch", () => {
  let ovs: OvsInstance;
  let store: SqliteStore;
  let ctl: Controller;
  let server: OpenFlowServer;
  let port = 0;
  const t = loadExample("two-hosts.yaml");

  async function start(): Promise<void> {
    ctl = new Controller({ store, log: silent });
    await ctl.init(t);
    server = new OpenFlowServer(ctl, silent, { tickMs: 50 });
    const bound = await server.listen({ kind: "tcp", host: "127.0.0.1", port });
    if (bound.kind === "tcp") port = bound.port;
  }

  function synced(): boolean {
    const s = ctl.status();
    const h = s.hosts["compute-1"]!;
    return (
      h["br-int"].synced_generation === s.generation &&
      h["br-tun"].synced_generation === s.generation
    );
  }

  beforeAll(async () => {
    ovs = await OvsInstance.start();
    store = new SqliteStore(":memory:", { macRandom: (h) => seededRandomBytes(h) });
    await start();
    const dummy = (name: string, ofport: number) => ({ name, ofport, extra: ["type=internal"] });
    ovs.addBridge("br-int", [dummy("tap-vm-a1", 10), dummy("tap-vm-b1", 11)]);
    ovs.addBridge("br-tun", []);
    ovs.vsctl(
      "set",
      "bridge",
      "br-int",
      "other-config:datapath-id=0000000000000011",
      "other-config:disable-in-band=true",
      "--",
      "set",
      "bridge",
      "br-tun",
      "other-config:datapath-id=0000000000000012",
      "other-config:disable-in-band=true",
      "--",
      "add-port",
      "br-int",
      "patch-tun",
      "--",
      "set",
      "interface",
      "patch-tun",
      "type=patch",
      "options:peer=patch-int",
      "ofport_request=1",
      "--",
      "add-port",
      "br-tun",
      "patch-int",
      "--",
      "set",
      "interface",
      "patch-int",
      "type=patch",
      "options:peer=patch-tun",
      "ofport_request=1",
      "--",
      "add-port",
      "br-tun",
      "vxlan-c633640c",
      "--",
      "set",
      "interface",
      "vxlan-c633640c",
      "type=vxlan",
      "options:remote_ip=198.51.100.12",
      "options:local_ip=198.51.100.11",
      "options:key=flow",
      "ofport_request=10",
    );
    // Controller first, flows after: setting it flushes the tables (reliability.md §3.2).
    ovs.vsctl(
      "set-controller",
      "br-int",
      `tcp:127.0.0.1:${port}`,
      "--",
      "set-controller",
      "br-tun",
      `tcp:127.0.0.1:${port}`,
    );
    await until(synced, 20_000, "compute-1 synced");
  }, 60_000);

  afterAll(async () => {
    ctl?.stop();
    await server?.close();
    await store?.close();
    ovs?.stop();
  });

  async function desiredText(bridge: "br-int" | "br-tun"): Promise<string> {
    const flows = compileHost(compileInputFromSnapshot(await offlineSnapshot(t)), "compute-1")
      .bridges[bridge];
    return flows.map((f) => `${formatDesiredFlow(f)}\n`).join("");
  }

  it("OVS holds exactly the compiled flows (ovs-ofctl diff-flows), installed in an ONF bundle", async () => {
    for (const bridge of ["br-int", "br-tun"] as const) {
      const file = join(ovs.dir, `want-${bridge}.txt`);
      writeFileSync(file, await desiredText(bridge));
      const r = spawnSync(
        "ovs-ofctl",
        ["-O", "OpenFlow13", "diff-flows", `unix:${join(ovs.dir, `${bridge}.mgmt`)}`, file],
        { encoding: "utf8", env: { ...process.env, OVS_RUNDIR: ovs.dir } },
      );
      expect(r.stdout, `${bridge} differs`).toBe("");
      expect(r.status).toBe(0);
      const last = ctl.status().hosts["compute-1"]![bridge].last_reconcile!;
      expect(last.bundle).toBe(true);
      expect(last.added).toBeGreaterThan(5);
    }
  });

  it("dvrflow dump-flows / diff-flows dial OVS's management socket and agree with the compiler", async () => {
    const out: string[] = [];
    const io = {
      stdin: () => Promise.resolve(""),
      stdout: (x: string) => void out.push(x),
      stderr: (x: string) => void out.push(`ERR ${x}`),
    };
    const mgmt = `unix:${join(ovs.dir, "br-int.mgmt")}`;
    expect(await runDumpFlows([mgmt], io)).toBe(0);
    const dumped = out.join("").trimEnd().split("\n");
    expect(dumped.sort()).toEqual((await desiredText("br-int")).trimEnd().split("\n").sort());
    out.length = 0;
    const config = join(import.meta.dirname, "..", "..", "examples", "two-hosts.yaml");
    expect(await runDiffFlows([mgmt, "--config", config, "--host", "compute-1"], io)).toBe(0);
    expect(out.join("")).toBe("");
    // A flow of ours removed behind the controller's back shows up as "-".
    ovs.ofctl("br-int", "del-flows", "--strict", "table=23,priority=0");
    expect(await runDiffFlows([mgmt, "--config", config, "--host", "compute-1"], io)).toBe(2);
    expect(out.join("")).toMatch(/^-cookie=0x[0-9a-f]+, table=23, priority=0 actions=drop\n$/);
    // A resync puts it back (and reports that the canary was missing).
    ctl.resyncAll();
    await until(
      () => ctl.status().hosts["compute-1"]!["br-int"].last_reconcile?.canaryMissing === true,
      5000,
      "repair",
    );
    out.length = 0;
    expect(await runDiffFlows([mgmt, "--config", config, "--host", "compute-1"], io)).toBe(0);
  }, 30_000);

  it("a controller restart sends zero FLOW_MODs: the diff against OVS's own dump is empty", async () => {
    const before = ovs.ofctl("br-int", "dump-flows", "--no-stats");
    ctl.stop();
    await server.close();
    await start();
    // OVS reconnects with its backoff (1 s first).
    await until(synced, 20_000, "resynced after restart");
    for (const bridge of ["br-int", "br-tun"] as const) {
      const last = ctl.status().hosts["compute-1"]![bridge].last_reconcile!;
      expect([last.added, last.modified, last.deleted]).toEqual([0, 0, 0]);
    }
    expect(ovs.ofctl("br-int", "dump-flows", "--no-stats")).toBe(before);
  }, 30_000);
});
