/**
 * `?wait=applied` answers 200 only when every bridge of the topology
 * applied the change (src/api/server.ts, Controller.waitApplied): a bridge
 * that is not connected confirmed nothing (202, `not_connected`), a switch
 * that refuses flows makes a 502 and a connected bridge still on its way at
 * the timeout a 504. Each bridge says where it stands (`status`).
 */
import { afterEach, describe, expect, it } from "vitest";
import { BR_INT } from "../../src/dvr/tables.js";
import { ipv4FromString } from "../../codec/packet/index.js";
import { until } from "../controller/helpers.js";
import { startRig, type Rig } from "../controller/rig.js";

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});
async function rig(): Promise<Rig> {
  const r = await startRig({ controller: { auditIntervalMs: 0 } });
  rigs.push(r);
  return r;
}

interface WaitReply {
  error?: string;
  generation: number;
  applied: boolean;
  bridges: {
    host: string;
    bridge: string;
    connected: boolean;
    applied: boolean;
    status: string;
    error?: string;
  }[];
  not_connected?: string[];
  pending?: string[];
  failed?: string[];
}

const statusOf = (body: WaitReply) =>
  Object.fromEntries(body.bridges.map((b) => [`${b.host}/${b.bridge}`, b.status]));

/** vm-a2 (compute-2) with a second address: every host's br-int gets an ARP responder flow for it. */
const VM_A2_TWO_IPS = {
  network: "blue",
  host: "compute-2",
  interface: "tap-vm-a2",
  mac_address: "fa:16:3e:aa:00:02",
  fixed_ips: ["203.0.113.11", "203.0.113.12"],
};

describe("?wait=applied", () => {
  it("200 with every bridge applied when all four are connected", async () => {
    const r = await rig();
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-a2?wait=applied&timeout=5s",
      payload: VM_A2_TWO_IPS,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<WaitReply>();
    expect(body.applied).toBe(true);
    expect(statusOf(body)).toEqual({
      "compute-1/br-int": "applied",
      "compute-1/br-tun": "applied",
      "compute-2/br-int": "applied",
      "compute-2/br-tun": "applied",
    });
  });

  it("202, not 200, when a host is not connected: its bridges are not_connected, the rest applied", async () => {
    const r = await rig();
    const c2 = r.hosts[1];
    await c2.int.disconnect();
    await c2.tun.disconnect();
    await until(
      () => !r.ctl.status().hosts["compute-2"]!["br-tun"].connected,
      5000,
      "compute-2 disconnected",
    );
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-a2?wait=applied&timeout=5s",
      payload: VM_A2_TWO_IPS,
    });
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json<WaitReply>();
    expect(body.generation).toBe(2);
    expect(body.applied).toBe(false);
    expect(body.error).toBeUndefined();
    expect(body.not_connected).toEqual(["compute-2/br-int", "compute-2/br-tun"]);
    expect(statusOf(body)).toEqual({
      "compute-1/br-int": "applied",
      "compute-1/br-tun": "applied",
      "compute-2/br-int": "not_connected",
      "compute-2/br-tun": "not_connected",
    });
  });

  it("202 for a new host whose bridges never connected, once the others have their tunnel to it", async () => {
    const r = await rig();
    const pending = r.api.inject({
      method: "PUT",
      url: "/v1/hosts/compute-3?wait=applied&timeout=5s",
      payload: {
        datapath_ids: { "br-int": "0x31", "br-tun": "0x32" },
        tunnel_ip: "198.51.100.13",
      },
    });
    await until(() => r.ctl.generation === 2, 5000, "committed");
    // Plumbing adds the tunnel to compute-3 on the connected hosts' br-tun.
    for (const [h, local] of [
      [r.hosts[0], "198.51.100.11"],
      [r.hosts[1], "198.51.100.12"],
    ] as const) {
      h.tun.addPort({
        kind: "vxlan",
        name: "vxlan-c633640d",
        ofport: 11,
        remoteIp: ipv4FromString("198.51.100.13"),
        localIp: ipv4FromString(local),
        key: "flow",
      });
    }
    const res = await pending;
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json<WaitReply>();
    expect(body.not_connected).toEqual(["compute-3/br-int", "compute-3/br-tun"]);
    expect(statusOf(body)).toEqual({
      "compute-1/br-int": "applied",
      "compute-1/br-tun": "applied",
      "compute-2/br-int": "applied",
      "compute-2/br-tun": "applied",
      "compute-3/br-int": "not_connected",
      "compute-3/br-tun": "not_connected",
    });
  });

  it("502 with status refused when a switch refuses a flow, even with a host not connected", async () => {
    const r = await rig();
    const c1 = r.hosts[0];
    const responder = c1.brInt.tables[BR_INT.DVR_LOCAL_RESPONDER.id]!;
    responder.maxEntries = responder.size;
    await r.hosts[1].tun.disconnect();
    await until(
      () => !r.ctl.status().hosts["compute-2"]!["br-tun"].connected,
      5000,
      "compute-2 br-tun disconnected",
    );
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-a2?wait=applied&timeout=5s",
      payload: VM_A2_TWO_IPS,
    });
    expect(res.statusCode, res.body).toBe(502);
    const body = res.json<WaitReply>();
    expect(body.error).toBe("switch_refused");
    expect(body.failed).toEqual(["compute-1/br-int"]);
    expect(statusOf(body)).toMatchObject({
      "compute-1/br-int": "refused",
      "compute-2/br-tun": "not_connected",
    });
    expect(body.bridges.find((b) => b.status === "refused")!.error).toMatch(/OFPFMFC_TABLE_FULL/);
  });

  it("504 when a connected bridge is still waiting at the timeout: status waiting_for_ports", async () => {
    const r = await rig();
    const res = await r.api.inject({
      method: "PUT",
      url: "/v1/ports/vm-d1?wait=applied&timeout=300ms",
      payload: {
        network: "blue",
        host: "compute-1",
        interface: "tap-vm-d1",
        mac_address: "fa:16:3e:dd:00:01",
        fixed_ips: ["203.0.113.13"],
      },
    });
    expect(res.statusCode, res.body).toBe(504);
    const body = res.json<WaitReply>();
    expect(body.error).toBe("timeout");
    expect(body.pending).toEqual(["compute-1/br-int"]);
    expect(statusOf(body)["compute-1/br-int"]).toBe("waiting_for_ports");
    expect(statusOf(body)["compute-2/br-int"]).toBe("applied");
  });
});
