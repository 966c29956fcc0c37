/**
 * `dvrflow run` plumbs the hosts that have an `ovsdb` address (src/plumb/hook.ts):
 * against a private ovsdb-server, the controller creates br-int/br-tun with the
 * datapath ids, VM port tags and the controller target derived from its listener;
 * a committed topology change reaches the database; hosts without `ovsdb` are
 * left alone. Plus the CLI's plumbing options.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  controllerTargetOf,
  plumbOptionsOf,
  runRun,
  startRun,
  type RunningController,
} from "../../src/cli/commands/run.js";
import { parseTarget } from "../../src/controller/server.js";
import { ovsdbAvailable, startOvsdbServer, type PrivateOvsdb } from "../ovsdb/ovsdb-server.js";
import { twoHosts, twoHostsText } from "../plumb/helpers.js";

let running: RunningController | undefined;
let srv: PrivateOvsdb | undefined;
let dir: string | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
  await srv?.stop();
  srv = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** two-hosts.yaml with compute-1 reachable over OVSDB at `remote`. */
function withOvsdb(remote: string): string {
  const text = twoHostsText();
  const anchor = "    tunnel_ip: 198.51.100.11\n";
  if (!text.includes(anchor)) throw new Error("two-hosts.yaml changed: update this test");
  return text.replace(anchor, `${anchor}    ovsdb: "${remote}"\n`);
}

describe("dvrflow run: plumbing options", () => {
  it("derives the controller target from a unix or specific TCP listener, not a wildcard", () => {
    expect(controllerTargetOf({ kind: "unix", path: "/run/dvrflow/of.sock" })).toBe(
      "unix:/run/dvrflow/of.sock",
    );
    expect(controllerTargetOf(parseTarget("tcp:192.0.2.1:6653"))).toBe("tcp:192.0.2.1:6653");
    expect(controllerTargetOf(parseTarget("tcp:0.0.0.0:6653"))).toBeUndefined();
  });

  it("parses dvrflow plumb's options and refuses bad ones", () => {
    const opts = (o: Record<string, string>) => plumbOptionsOf(new Map(Object.entries(o)));
    expect(
      opts({
        "--controller-target": "tcp:192.0.2.1:6653",
        "--datapath-type": "netdev",
        "--dst-port": "4790",
        "--underlay-port": "eth1, eth2",
        "--underlay-bridge": "br-ex",
        "--underlay-prefix": "16",
      }),
    ).toEqual({
      controller: "tcp:192.0.2.1:6653",
      datapathType: "netdev",
      tunnelDstPort: 4790,
      underlay: { interfaces: ["eth1", "eth2"], bridge: "br-ex", prefixLength: 16 },
    });
    expect(opts({})).toEqual({});
    expect(opts({ "--dst-port": "0" })).toMatch(/--dst-port/);
    expect(opts({ "--underlay-bridge": "br-ex" })).toMatch(/need --underlay-port/);
    expect(opts({ "--controller-target": "http://x" })).toMatch(/--controller-target/);
  });

  it("the CLI reports a bad plumbing option as a usage error", async () => {
    let err = "";
    const code = await runRun(["--config", "x.yaml", "--dst-port", "70000"], {
      stdin: () => Promise.resolve(""),
      stdout: () => {},
      stderr: (s) => void (err += s),
    });
    expect(code).toBe(1);
    expect(err).toMatch(/--dst-port must be an integer/);
  });
});

describe.skipIf(!ovsdbAvailable())("dvrflow run: plumbing over OVSDB", () => {
  it("plumbs an ovsdb host at start with the derived controller target, and follows commits", async () => {
    srv = await startOvsdbServer();
    dir = mkdtempSync(join(tmpdir(), "dvrflow-run-plumb-"));
    const config = join(dir, "topo.yaml");
    writeFileSync(config, withOvsdb(srv.remote));
    const sock = join(dir, "of.sock");
    running = await startRun({
      config,
      listen: [{ kind: "unix", path: sock }],
      log: pino({ level: "silent" }),
      plumb: { datapathType: "netdev" },
    });
    // startRun returns after the first plumbing of every ovsdb host.
    const get = (...a: string[]) => srv!.vsctl("get", ...a).trim();
    expect(srv.vsctl("list-br").trim().split("\n")).toEqual(["br-int", "br-tun"]);
    expect(get("bridge", "br-int", "other_config:datapath-id")).toBe('"0000000000000011"');
    expect(get("bridge", "br-int", "datapath_type")).toBe("netdev");
    expect(srv.vsctl("get-controller", "br-int").trim()).toBe(`unix:${sock}`);
    const blue = running.controller.snapshot.localVlans.get("compute-1")!.get("blue")!;
    expect(get("port", "tap-vm-a1", "tag")).toBe(String(blue));

    // A commit reaches the database before apply() resolves: the port is removed.
    const t = twoHosts();
    t.hosts["compute-1"]!.ovsdb = srv.remote;
    delete t.ports["vm-a1"];
    await running.controller.apply(t);
    expect(srv.vsctl("list-ports", "br-int")).not.toContain("tap-vm-a1");
  });

  it("without plumbing options nothing is plumbed (library callers opt in)", async () => {
    srv = await startOvsdbServer();
    dir = mkdtempSync(join(tmpdir(), "dvrflow-run-plumb-"));
    const config = join(dir, "topo.yaml");
    writeFileSync(config, withOvsdb(srv.remote));
    running = await startRun({
      config,
      listen: [{ kind: "unix", path: join(dir, "of.sock") }],
      log: pino({ level: "silent" }),
    });
    expect(srv.vsctl("list-br").trim()).toBe("");
  });
});
