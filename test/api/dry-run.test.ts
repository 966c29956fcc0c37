/**
 * `?dry_run=true` (src/api/server.ts, src/controller/dry-run.ts): the
 * per-host, per-bridge flow diff of a write, computed without committing,
 * allocating or sending anything. The dry run of a change must predict
 * exactly the FLOW_MODs the real write then sends to each switch.
 */
import { afterEach, describe, expect, it } from "vitest";
import { OFPFC } from "../../codec/messages/flow-mod.js";
import { formatFlow } from "../../codec/text/index.js";
import { DRY_RUN_REPLY } from "../../src/api/write-replies.js";
import type { DryRunReport, SwitchPreview } from "../../src/controller/dry-run.js";
import { topologyToJson } from "../../src/topology/schema.js";
import { until } from "../controller/helpers.js";
import { agents, installed, startRig, type FlowModMsg, type Rig } from "../controller/rig.js";

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});
async function rig(): Promise<Rig> {
  const r = await startRig({ controller: { auditIntervalMs: 0 } });
  rigs.push(r);
  return r;
}

type Reply = DryRunReport & { warnings: unknown[] };

const VM_C1 = {
  network: "blue",
  host: "compute-1",
  interface: "tap-vm-c1",
  mac_address: "fa:16:3e:cc:00:01",
  fixed_ips: ["203.0.113.12"],
};

/** Every FLOW_MOD each bridge received from index `from[k]` on. */
function flowModsSince(r: Rig, from: Record<string, number>): Record<string, FlowModMsg[]> {
  return Object.fromEntries(
    Object.entries(agents(r)).map(([k, a]) => [k, a.flowMods().slice(from[k] ?? 0)]),
  );
}

function flowModMarks(r: Rig): Record<string, number> {
  return Object.fromEntries(Object.entries(agents(r)).map(([k, a]) => [k, a.flowMods().length]));
}

function bridgeOf(report: Reply, key: string) {
  const [host, bridge] = key.split("/") as [string, "br-int" | "br-tun"];
  return report.hosts[host]?.bridges[bridge];
}

async function storeGeneration(r: Rig): Promise<number> {
  return (await r.store.load())!.generation;
}

describe("?dry_run=true", () => {
  it("adding a port: the dry run predicts exactly the FLOW_MODs the real write sends, and commits nothing", async () => {
    const r = await rig();
    const [c1] = r.hosts;
    // The VM's device is already on br-int (plumbing ran): flows are compiled with its ofport.
    const lvBlue = r.ctl.snapshot.localVlans.get("compute-1")!.get("blue")!;
    c1.int.addPort({ kind: "sink", name: "tap-vm-c1", ofport: 20, tag: lvBlue });
    // Its PORT_STATUS installs the drop flow of a port in no topology.
    await until(
      () => installed(c1.int).some((l) => l.includes("in_port=20 actions=drop")),
      5000,
      "port_dead drop flow",
    );
    const marks = flowModMarks(r);
    const before = Object.fromEntries(Object.entries(agents(r)).map(([k, a]) => [k, installed(a)]));

    const dry = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-c1?dry_run=true",
      payload: VM_C1,
    });
    expect(dry.statusCode, dry.body).toBe(200);
    const report = dry.json<Reply>();
    expect(report).toMatchObject({ dry_run: true, valid: true, generation: 1, changed: true });
    // Nothing committed, stored or sent.
    expect(r.ctl.generation).toBe(1);
    expect(await storeGeneration(r)).toBe(1);
    expect(flowModsSince(r, marks)).toEqual({
      "compute-1/br-int": [],
      "compute-1/br-tun": [],
      "compute-2/br-int": [],
      "compute-2/br-tun": [],
    });
    expect((await r.api.inject({ method: "GET", url: "/v1/ports/vm-c1" })).statusCode).toBe(404);
    // The reply has what the OpenAPI document promises.
    for (const key of DRY_RUN_REPLY.required) expect(report).toHaveProperty(key);

    const c1Int = bridgeOf(report, "compute-1/br-int")!;
    expect(c1Int).toMatchObject({ connected: true, ofports: "switch" });
    expect(c1Int.desired.add.filter((l) => l.includes("in_port=20"))).toHaveLength(4);
    expect(c1Int.desired.delete).toEqual([
      expect.stringMatching(/priority=2,in_port=20 actions=drop$/),
    ]);

    const real = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-c1?wait=applied&timeout=5s",
      payload: VM_C1,
    });
    expect(real.statusCode, real.body).toBe(200);
    const sent = flowModsSince(r, marks);
    let predicted = 0;
    for (const [k, a] of Object.entries(agents(r))) {
      const b = bridgeOf(report, k);
      const preview: SwitchPreview = b?.switch ?? { status: "unchanged" };
      const mods = sent[k]!;
      if (preview.status !== "diff") {
        // Unchanged (or a host left out as quiet): the commit sent it nothing.
        expect(preview.status, k).toBe("unchanged");
        expect(mods, k).toEqual([]);
        expect(installed(a), k).toEqual(before[k]);
        continue;
      }
      // Adds and modifies go as ADDs, text for text; deletes as DELETE_STRICTs.
      const adds = mods.filter((m) => m.command === OFPFC.ADD).map((m) => formatFlow(m));
      expect(adds.sort(), k).toEqual([...preview.add, ...preview.modify].sort());
      const deletes = mods.filter((m) => m.command === OFPFC.DELETE_STRICT);
      expect(deletes.length, k).toBe(preview.counts.delete);
      expect(mods.length, k).toBe(adds.length + deletes.length);
      // And the switch now holds the old flows minus deletes, plus adds, with modifies in place.
      const now = installed(a);
      for (const l of preview.delete) {
        expect(before[k], k).toContain(l);
        expect(now, k).not.toContain(l);
      }
      for (const l of [...preview.add, ...preview.modify]) expect(now, k).toContain(l);
      expect(now.length, k).toBe(before[k]!.length + preview.counts.add - preview.counts.delete);
      // In sync before: what the switch gets is exactly the change of the desired set.
      expect(preview.add, k).toEqual(b!.desired.add);
      expect(preview.modify, k).toEqual(b!.desired.modify);
      expect([...preview.delete].sort(), k).toEqual([...b!.desired.delete].sort());
      predicted += preview.counts.add + preview.counts.modify + preview.counts.delete;
    }
    expect(predicted).toBe(
      report.totals.switch.add + report.totals.switch.modify + report.totals.switch.delete,
    );
    expect(predicted).toBeGreaterThan(5);
    // compute-2's br-int learns the new address: ARP responder (table 40) and neighbour (42).
    expect(bridgeOf(report, "compute-2/br-int")!.switch).toMatchObject({
      status: "diff",
      add: [
        expect.stringMatching(/table=40, .*arp_tpa=203\.0\.113\.12,/),
        expect.stringMatching(/table=42, .*nw_dst=203\.0\.113\.12 /),
      ],
      modify: [],
      delete: [],
    });
  });

  it("a new host and network: allocations and router placement, none of it persisted", async () => {
    const r = await rig();
    const doc = topologyToJson(r.ctl.snapshot.topology) as Record<string, Record<string, unknown>>;
    const next = {
      ...doc,
      hosts: {
        ...doc.hosts,
        "compute-3": {
          datapath_ids: { "br-int": "0x31", "br-tun": "0x32" },
          tunnel_ip: "198.51.100.13",
        },
      },
      networks: { ...doc.networks, green: { type: "vxlan", segmentation_id: 1003 } },
      subnets: {
        ...doc.subnets,
        "green-v4": { network: "green", cidr: "203.0.113.128/26", gateway_ip: "203.0.113.129" },
      },
      ports: {
        ...doc.ports,
        // compute-3 gets a blue VM (r1 is placed there) and a green one (no router).
        "vm-a3": {
          network: "blue",
          host: "compute-3",
          mac_address: "fa:16:3e:aa:00:03",
          fixed_ips: ["203.0.113.13"],
        },
        "vm-g3": {
          network: "green",
          host: "compute-3",
          mac_address: "fa:16:3e:99:00:01",
          fixed_ips: ["203.0.113.130"],
        },
      },
    };
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/config?dry_run=true",
      headers: { "if-match": '"1"' },
      payload: next,
    });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json<Reply>();
    expect(Object.keys(report.allocations.dvr_macs)).toEqual(["compute-3"]);
    expect(report.allocations.dvr_macs["compute-3"]).toMatch(/^fa:16:3f:/);
    expect(report.allocations.local_vlans).toEqual({ "compute-3": { blue: 1, green: 2, red: 3 } });
    expect(report.router_placement).toEqual({ "compute-3": { added: ["r1"], removed: [] } });
    const c3 = report.hosts["compute-3"]!;
    expect(c3.status).toBe("added");
    for (const b of Object.values(c3.bridges)) {
      expect(b).toMatchObject({
        connected: false,
        ofports: "offline",
        switch: { status: "not_connected" },
      });
      expect(b.desired.counts.add).toBeGreaterThan(0);
      expect(b.desired.delete).toEqual([]);
    }
    // The existing hosts get a tunnel to compute-3 on br-tun.
    expect(report.hosts["compute-1"]!.bridges["br-tun"].switch.status).toBe("diff");
    // Nothing of it reached the store.
    const stored = (await r.store.load())!;
    expect(stored.generation).toBe(1);
    expect(stored.hostMacs.has("compute-3")).toBe(false);
    expect(stored.localVlans.has("compute-3")).toBe(false);
    expect(r.ctl.status().hosts["compute-3"]).toBeUndefined();

    // Deleting compute-1's ports takes r1 off compute-1; a DELETE dry run previews it too.
    const del = await r.api.inject({ method: "DELETE", url: "/v1/ports/vm-a1?dry_run=true" });
    expect(del.statusCode, del.body).toBe(200);
    const d = del.json<Reply>();
    expect(d.hosts["compute-1"]!.status).toBe("changed");
    expect(d.hosts["compute-1"]!.bridges["br-int"].switch).toMatchObject({ status: "diff" });
    expect(d.totals.switch.delete).toBeGreaterThan(0);
    expect(await storeGeneration(r)).toBe(1);
    expect((await r.api.inject({ method: "GET", url: "/v1/ports/vm-a1" })).statusCode).toBe(200);

    // The same document again: no change, every host quiet, no dump of an in-sync bridge.
    const same = await r.api.inject({
      method: "PUT",
      url: "/v1/config?dry_run=true",
      payload: doc,
    });
    expect(same.json<Reply>()).toMatchObject({
      changed: false,
      hosts: {},
      unchanged_hosts: ["compute-1", "compute-2"],
      totals: {
        desired: { add: 0, modify: 0, delete: 0 },
        switch: { add: 0, modify: 0, delete: 0 },
      },
    });
  });

  it("an invalid dry run answers 422 with located issues; a stale If-Match 412", async () => {
    const r = await rig();
    const bad = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-x?dry_run=true",
      payload: { ...VM_C1, network: "green", fixed_ips: ["198.18.0.1"] },
    });
    expect(bad.statusCode).toBe(422);
    const issues = bad.json<{ error: string; issues: { path: string; message: string }[] }>();
    expect(issues.error).toBe("rejected");
    expect(issues.issues.map((i) => i.path)).toContain("ports.vm-x.network");

    const doc = topologyToJson(r.ctl.snapshot.topology) as Record<string, Record<string, unknown>>;
    const badConfig = await r.api.inject({
      method: "PUT",
      url: "/v1/config?dry_run=true",
      payload: { ...doc, controller: { ...doc.controller, audit_interval: -1 } },
    });
    expect(badConfig.statusCode).toBe(422);
    expect(badConfig.json<{ issues: { path: string }[] }>().issues.map((i) => i.path)).toContain(
      "controller.audit_interval",
    );

    const stale = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-c1?dry_run=true",
      headers: { "if-match": '"7"' },
      payload: VM_C1,
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toEqual({ error: "generation_conflict", expected: 7, generation: 1 });
    expect(await storeGeneration(r)).toBe(1);
  });

  it("the OpenAPI document describes the dry-run answer of every write", async () => {
    const r = await rig();
    const docs = (await r.api.inject({ method: "GET", url: "/docs" })).json<{
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    }>();
    for (const [path, method] of [
      ["/v1/config", "put"],
      ["/v1/ports/{name}", "put"],
      ["/v1/hosts/{name}", "delete"],
      ["/v1/routers/{name}/interfaces/{subnet}", "put"],
    ] as const) {
      const ok = JSON.stringify(docs.paths[path]?.[method]?.responses?.["200"]);
      expect(ok, `${method} ${path}`).toContain("unchanged_hosts");
      expect(ok, `${method} ${path}`).toContain("waiting_for_ports");
    }
  });
});
