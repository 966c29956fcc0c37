/**
 * Skipping bridges a change does not touch, and the periodic audit
 * (controller.ts): a topology change dumps only the bridges whose desired
 * flows changed or whose state we no longer trust, `?wait=applied` and
 * /v1/status still see every bridge at the new generation, and the audit
 * re-dumps every bridge so flows deleted behind the controller's back come
 * back within one interval.
 */
import { afterEach, describe, expect, it } from "vitest";
import { OFPET } from "../../codec/errors.js";
import { flowModMessage, parseFlow } from "../../codec/text/index.js";
import { encodeMessage } from "../../codec/message.js";
import { compileAll } from "../../src/dvr/compile/index.js";
import { formatDesiredFlow } from "../../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import type { Topology } from "../../src/topology/schema.js";
import { until } from "./helpers.js";
import { agents, allApplied, dumpRequests, installed, startRig, type Rig } from "./rig.js";

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});
async function rig(...a: Parameters<typeof startRig>): Promise<Rig> {
  const r = await startRig(...a);
  rigs.push(r);
  return r;
}

function dumpCounts(r: Rig): Record<string, number> {
  return Object.fromEntries(Object.entries(agents(r)).map(([k, a]) => [k, dumpRequests(a)]));
}

/** vm-a2 (on compute-2) with port security off: only compute-2's br-int flows change. */
const VM_A2_OPEN = {
  network: "blue",
  host: "compute-2",
  interface: "tap-vm-a2",
  mac_address: "fa:16:3e:aa:00:02",
  fixed_ips: ["203.0.113.11"],
  port_security: false,
};

/** A dump line as a DELETE_STRICT of exactly that flow. */
function deleteStrict(line: string) {
  const text = line
    .replace(/^cookie=(0x[0-9a-f]+), /, "cookie=$1/0xffffffffffffffff, ")
    .replace(/ actions=.*$/, "");
  return flowModMessage(parseFlow(text, { command: "delete_strict" }));
}

async function compiledFlows(t: Topology) {
  const all = compileAll(compileInputFromSnapshot(await offlineSnapshot(t)));
  const out: Record<string, string[]> = {};
  for (const h of all) {
    out[`${h.host}/br-int`] = h.bridges["br-int"].map(formatDesiredFlow).sort();
    out[`${h.host}/br-tun`] = h.bridges["br-tun"].map(formatDesiredFlow).sort();
  }
  return out;
}

describe("skipping bridges a change does not touch", () => {
  it("a change to compute-2's br-int flows dumps only that bridge; ?wait=applied and /v1/status see every bridge at the new generation", async () => {
    const r = await rig({ controller: { auditIntervalMs: 0 } });
    const before = dumpCounts(r);
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-a2?wait=applied&timeout=5s",
      payload: VM_A2_OPEN,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ generation: number; bridges: { applied: boolean }[] }>();
    expect(body.generation).toBe(2);
    expect(body.bridges.map((b) => b.applied)).toEqual([true, true, true, true]);

    const after = dumpCounts(r);
    expect(after["compute-2/br-int"]).toBe(before["compute-2/br-int"]! + 1);
    for (const k of ["compute-1/br-int", "compute-1/br-tun", "compute-2/br-tun"]) {
      expect(after[k], k).toBe(before[k]);
    }
    // No FLOW_MOD reached the skipped bridges either; all four hold exactly the new compile.
    const want = await compiledFlows(r.ctl.snapshot.topology);
    for (const [k, a] of Object.entries(agents(r))) expect(installed(a), k).toEqual(want[k]);

    const status = (await r.api.inject({ method: "GET", url: "/v1/status" })).json<{
      generation: number;
      hosts: Record<string, Record<string, { synced_generation: number | null }>>;
    }>();
    expect(status.generation).toBe(2);
    for (const h of Object.values(status.hosts))
      for (const b of Object.values(h)) expect(b.synced_generation).toBe(2);
    const metrics = await r.metrics.text();
    for (const dpid of ["11", "12", "22"]) {
      expect(metrics).toContain(
        `reconciles_total{dpid="0x00000000000000${dpid}",outcome="skipped"} 1`,
      );
    }
    expect(metrics).not.toMatch(/reconciles_total\{dpid="0x0000000000000021",outcome="skipped"\}/);
    expect(metrics).toContain(`reconciles_total{dpid="0x0000000000000021",outcome="applied"} 2`);
  });

  it("a bridge that got an OFPT_ERROR about a FLOW_MOD, or reconnected, is dumped on the next change", async () => {
    const r = await rig({ controller: { auditIntervalMs: 0 } });
    const [c1] = r.hosts;
    // The switch reports a refused FLOW_MOD (as if something we sent failed late).
    const refused = flowModMessage(parseFlow("cookie=0xd5,table=60,priority=1,actions=drop"));
    c1.int.write({
      type: "error",
      xid: 0,
      error: { kind: "standard", type: OFPET.FLOW_MOD_FAILED, code: 0 },
      data: encodeMessage(refused),
    });
    // The error and the reconnect below travel on different connections:
    // wait until the controller has counted the error, or under load the
    // write below could overtake it.
    const counted = /^of_errors_total\{[^}]*type="5"[^}]*\} 1$/m;
    for (let t = Date.now(); !counted.test(await r.metrics.text());) {
      if (Date.now() - t > 5000) throw new Error("the OFPT_ERROR was never counted");
      await new Promise((done) => setTimeout(done, 5));
    }
    // compute-1's br-tun reconnects.
    const reconnects = dumpRequests(c1.tun);
    await c1.tun.disconnect();
    await c1.tun.connect(r.port);
    await until(() => dumpRequests(c1.tun) > reconnects && allApplied(r), 5000, "resync");
    const before = dumpCounts(r);

    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-a2?wait=applied&timeout=5s",
      payload: VM_A2_OPEN,
    });
    expect(res.statusCode, res.body).toBe(200);
    const after = dumpCounts(r);
    // br-tun's reconnect sync counted as a successful dump: trusted again, skipped.
    expect(after["compute-1/br-tun"]).toBe(before["compute-1/br-tun"]);
    expect(after["compute-2/br-tun"]).toBe(before["compute-2/br-tun"]);
    expect(after["compute-1/br-int"]).toBe(before["compute-1/br-int"]! + 1);
    expect(after["compute-2/br-int"]).toBe(before["compute-2/br-int"]! + 1);
  });
});

describe("the periodic audit", () => {
  it("restores a flow deleted behind the controller's back within controller.audit_interval", async () => {
    const interval = 0.25;
    const r = await rig({
      topology: (t) => ({ ...t, controller: { ...t.controller, audit_interval: interval } }),
    });
    expect(r.ctl.auditIntervalMs).toBe(interval * 1000);
    const [c1] = r.hosts;
    const wanted = installed(c1.int);
    const victim = wanted.find((l) => l.includes("table=42") && l.includes("203.0.113.75"))!;
    expect(victim).toBeDefined();
    c1.brInt.flowMod(deleteStrict(victim), 0);
    expect(installed(c1.int)).not.toContain(victim);
    const deletedAt = Date.now();
    await until(() => installed(c1.int).includes(victim), 5000, "flow restored by the audit");
    // One interval, plus a dump and a FLOW_MOD on a loaded CI machine.
    expect(Date.now() - deletedAt).toBeLessThan(interval * 1000 + 1500);
    expect(installed(c1.int)).toEqual(wanted);
    expect(r.ctl.generation).toBe(1);
  });

  it("controller.audit_interval: 0 turns it off", async () => {
    const r = await rig({
      topology: (t) => ({ ...t, controller: { ...t.controller, audit_interval: 0 } }),
    });
    expect(r.ctl.auditIntervalMs).toBe(0);
    const [c1] = r.hosts;
    const victim = installed(c1.int).find((l) => l.includes("table=42"))!;
    const dumps = dumpRequests(c1.int);
    c1.brInt.flowMod(deleteStrict(victim), 0);
    await new Promise((res) => setTimeout(res, 400));
    expect(dumpRequests(c1.int)).toBe(dumps);
    expect(installed(c1.int)).not.toContain(victim);
  });
});
