/**
 * PlumbKeeper against a private ovsdb-server: it plumbs, repairs what
 * ovs-vsctl breaks (seen through its monitor), follows plan changes, and
 * survives a server restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PlumbKeeper, formatChange, type PlumbResult } from "../../src/plumb/index.js";
import { ovsdbAvailable, startOvsdbServer, type PrivateOvsdb } from "../ovsdb/ovsdb-server.js";
import { planFor, twoHosts, withHost3 } from "./helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await sleep(20);
  }
}

describe.skipIf(!ovsdbAvailable())("PlumbKeeper", () => {
  let srv: PrivateOvsdb;
  let keeper: PlumbKeeper | undefined;
  const results: PlumbResult[] = [];
  const errors: Error[] = [];
  beforeAll(async () => {
    srv = await startOvsdbServer();
  });
  afterAll(async () => {
    await keeper?.stop();
    await srv?.stop();
  });

  const tag = (port: string): string => srv.vsctl("get", "port", port, "tag").trim();

  it("plumbs, then puts back what another client changes", async () => {
    const { plan, snapshot } = await planFor(twoHosts(), "compute-1", {
      controller: "tcp:127.0.0.1:6653",
    });
    keeper = new PlumbKeeper(srv.remote, plan, {
      debounceMs: 20,
      backoffMs: { initial: 50, max: 200 },
      onResult: (r) => results.push(r),
      onError: (e) => errors.push(e),
    });
    keeper.start();
    await until(() => results.some((r) => r.applied));
    expect(keeper.status.connected).toBe(true);
    const blue = String(snapshot.localVlans.get("compute-1")!.get("blue"));
    expect(tag("tap-vm-a1")).toBe(blue);

    const n = results.length;
    srv.vsctl("set", "port", "tap-vm-a1", "tag=99");
    await until(() => tag("tap-vm-a1") === blue);
    const repair = results.slice(n).find((r) => r.applied)!;
    expect(repair.changes.map(formatChange)).toEqual([
      `port tap-vm-a1 on br-int: tag 99 -> ${blue}`,
    ]);

    srv.vsctl("del-port", "br-tun", "vxlan-c633640c");
    await until(() => srv.vsctl("list-ports", "br-tun").includes("vxlan-c633640c"));
    // A change the plan does not cover wakes it but changes nothing.
    const m = results.length;
    srv.vsctl("set", "bridge", "br-int", "external_ids:owner=ops");
    await until(() => results.length > m);
    expect(results.slice(m).every((r) => r.changes.length === 0)).toBe(true);
    expect(errors).toEqual([]);
  });

  it("follows a new plan", async () => {
    const { plan } = await planFor(withHost3(twoHosts()), "compute-1", {
      controller: "tcp:127.0.0.1:6653",
    });
    await keeper!.setPlan(plan);
    expect(srv.vsctl("list-ports", "br-tun").trim().split("\n")).toEqual([
      "patch-int",
      "vxlan-c633640c",
      "vxlan-c633640d",
    ]);
  });

  it("reconnects after the server restarts and repairs what changed meanwhile", async () => {
    await srv.stop({ keep: true });
    await until(() => !keeper!.status.connected);
    expect(errors.length).toBeGreaterThan(0);
    // Changed around the reconnect: either the first apply or the monitor catches it.
    srv = await startOvsdbServer(srv.dir);
    srv.vsctl("set", "port", "tap-vm-b1", "tag=123");
    await until(() => keeper!.status.connected && tag("tap-vm-b1") !== "123", 10_000);
    expect(keeper!.status.lastError).toBeUndefined();
  });
});
