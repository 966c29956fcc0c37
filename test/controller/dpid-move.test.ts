/**
 * A topology change that gives a connected bridge's datapath id to another
 * host or bridge (controller.ts install): the connection is not carried into
 * the new role, where a reconcile of the old role might still be running on
 * it and its logs would name the old host. It is closed; the switch
 * reconnects and is reconciled as the bridge it now is, without keeping a
 * flow of its old role.
 */
import { afterEach, describe, expect, it } from "vitest";
import { compileAll } from "../../src/dvr/compile/index.js";
import { formatDesiredFlow } from "../../src/dvr/flow.js";
import { compileInputFromSnapshot, offlineSnapshot } from "../../src/dvr/offline.js";
import { topologyToJson, type Topology } from "../../src/topology/schema.js";
import { until } from "./helpers.js";
import { allApplied, installed, startRig, type Rig } from "./rig.js";

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

/** compute-1's and compute-2's br-int datapath ids swapped. */
function swapped(t: Topology): Topology {
  const c1 = t.hosts["compute-1"]!;
  const c2 = t.hosts["compute-2"]!;
  return {
    ...t,
    hosts: {
      ...t.hosts,
      "compute-1": {
        ...c1,
        datapath_ids: { ...c1.datapath_ids, "br-int": c2.datapath_ids["br-int"] },
      },
      "compute-2": {
        ...c2,
        datapath_ids: { ...c2.datapath_ids, "br-int": c1.datapath_ids["br-int"] },
      },
    },
  };
}

describe("a datapath id that moves to another bridge", () => {
  it("closes the connection, and the switch comes back as its new role with none of the old role's flows", async () => {
    const r = await startRig({ controller: { auditIntervalMs: 0 } });
    rigs.push(r);
    const [c1, c2] = r.hosts;
    const oldC1 = installed(c1.int);
    const next = swapped(r.t);
    const closedBoth = Promise.all([c1.int.closed(), c2.int.closed()]);
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/config",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify(topologyToJson(next)),
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    await closedBoth;
    // The switches reconnect (OVS retries with backoff).
    await c1.int.connect(r.port);
    await c2.int.connect(r.port);
    await until(() => allApplied(r), 5000, "both br-int bridges applied in their new roles");

    // c1's bridge (datapath id of the old compute-1 br-int) is now compute-2's
    // br-int: every flow on it is one compute-2's br-int compiles to, and none
    // of compute-1's own flows stayed behind.
    const all = compileAll(compileInputFromSnapshot(await offlineSnapshot(next)));
    const want = new Set(
      all.find((h) => h.host === "compute-2")!.bridges["br-int"].map(formatDesiredFlow),
    );
    const now = installed(c1.int);
    expect(now.length).toBeGreaterThan(0);
    const c1Only = oldC1.filter((l) => !want.has(l));
    expect(c1Only.length).toBeGreaterThan(0);
    expect(now.filter((l) => c1Only.includes(l))).toEqual([]);
    const status = r.ctl.status();
    expect(status.hosts["compute-2"]!["br-int"].connected).toBe(true);
    expect(status.hosts["compute-2"]!["br-int"].synced_generation).toBe(status.generation);
  });
});
