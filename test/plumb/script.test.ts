/**
 * The printed ovs-vsctl script is equivalent to the reconciler: run against
 * one fresh ovsdb-server, and applyPlumbing against another, both give the
 * same database (read back with ovs-vsctl), and the reconciler then finds
 * nothing to change on the scripted one. Plus `dvrflow plumb` end to end.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPlumb } from "../../src/cli/commands/plumb.js";
import { OvsdbClient } from "../../src/ovsdb/client.js";
import {
  applyPlumbing,
  plumbRemote,
  renderVsctlScript,
  type PlumbOptions,
} from "../../src/plumb/index.js";
import {
  ovsdbAvailable,
  startOvsdbServer,
  vsctlState,
  type PrivateOvsdb,
} from "../ovsdb/ovsdb-server.js";
import { mtuRequests, planFor, twoHosts, twoHostsText, withMtu } from "./helpers.js";

const OPTS: PlumbOptions = {
  controller: "tcp:127.0.0.1:6653",
  datapathType: "netdev",
  tunnelDstPort: 4790,
  underlay: { interfaces: ["veth-u1"], prefixLength: 27 },
};

/** Runs `script` with ovs-vsctl pointed at `srv` and `ip` recorded instead of run. */
function runScript(script: string, srv: PrivateOvsdb, dir: string): string[] {
  const real = spawnSync("sh", ["-c", "command -v ovs-vsctl"], { encoding: "utf8" }).stdout.trim();
  const bin = join(dir, "bin");
  spawnSync("mkdir", ["-p", bin]);
  const log = join(dir, "ip.log");
  writeFileSync(
    join(bin, "ovs-vsctl"),
    `#!/bin/sh\nexec ${real} --db=${srv.remote} --no-wait "$@"\n`,
  );
  writeFileSync(join(bin, "ip"), `#!/bin/sh\necho "ip $*" >> ${log}\n`);
  writeFileSync(log, "");
  chmodSync(join(bin, "ovs-vsctl"), 0o755);
  chmodSync(join(bin, "ip"), 0o755);
  const file = join(dir, "plumb.sh");
  writeFileSync(file, script);
  const r = spawnSync("sh", [file], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
  });
  if (r.status !== 0) throw new Error(`script failed: ${r.stderr}`);
  return readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .filter((l) => l !== "");
}

function collectIo() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdin: async () => "",
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void err.push(s),
    },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

describe("the ovs-vsctl script's order", () => {
  it("puts the underlay address before the controllers, which connect over it", async () => {
    const { plan } = await planFor(twoHosts(), "compute-1", OPTS);
    const lines = renderVsctlScript(plan).split("\n");
    const address = lines.findIndex((l) => /^ip (addr|address) /.test(l));
    const controller = lines.findIndex((l) => l.startsWith("ovs-vsctl set-controller "));
    expect(address, lines.join("\n")).toBeGreaterThan(0);
    expect(controller, lines.join("\n")).toBeGreaterThan(address);
  });
});

describe.skipIf(!ovsdbAvailable())("the ovs-vsctl script equals applyPlumbing", () => {
  let a: PrivateOvsdb;
  let b: PrivateOvsdb;
  let dir: string;
  beforeAll(async () => {
    [a, b] = await Promise.all([startOvsdbServer(), startOvsdbServer()]);
    dir = mkdtempSync(join(tmpdir(), "dvrflow-plumb-script-"));
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("yields the same database, and the reconciler finds nothing to change", async () => {
    // Networks with different MTUs and one without: mtu_request on VM ports only.
    const topology = withMtu(withMtu(twoHosts(), "blue", 1400), "red", undefined);
    const { plan } = await planFor(topology, "compute-1", OPTS);
    const ca = await OvsdbClient.connect(a.remote);
    const cb = await OvsdbClient.connect(b.remote);
    try {
      const applied = await applyPlumbing(ca, plan);
      expect(applied.applied).toBe(true);
      const ipCalls = runScript(renderVsctlScript(plan), b, dir);
      expect(ipCalls).toEqual([
        "ip addr replace 198.51.100.11/27 dev br-phy",
        "ip link set br-phy up",
      ]);
      const sa = vsctlState(a);
      const sb = vsctlState(b);
      expect(Object.keys(sa).sort()).toEqual(["br-int", "br-phy", "br-tun"]);
      expect(sb).toEqual(sa);
      expect(
        sa["br-tun"]!.ports["vxlan-c633640c"]!.interfaces["vxlan-c633640c"]!.options.dst_port,
      ).toBe("4790");
      // vsctlState leaves mtu_request out: compared on its own.
      expect(mtuRequests(b)).toEqual(mtuRequests(a));
      expect(mtuRequests(a)).toMatchObject({ "tap-vm-a1": 1400, "tap-vm-b1": null });
      expect((await applyPlumbing(cb, plan)).changes).toEqual([]);
      // Running the script again is harmless.
      runScript(renderVsctlScript(plan), b, dir);
      expect(vsctlState(b)).toEqual(sa);
      expect(mtuRequests(b)).toEqual(mtuRequests(a));
    } finally {
      await ca.close();
      await cb.close();
    }
  });

  it("dvrflow plumb prints the script without an OVSDB remote, applies and reports with one", async () => {
    const topo = join(dir, "topo.yaml");
    writeFileSync(topo, twoHostsText());
    const base = ["--config", topo, "--host", "compute-2", "--controller", "tcp:127.0.0.1:6653"];

    const printed = collectIo();
    expect(await runPlumb(base, printed.io)).toBe(0);
    const { plan } = await planFor(twoHosts(), "compute-2", { controller: "tcp:127.0.0.1:6653" });
    expect(printed.out()).toBe(
      renderVsctlScript(plan, {
        header: "datapath ids: br-int 0000000000000021, br-tun 0000000000000022",
      }),
    );

    const c = await startOvsdbServer();
    try {
      const first = collectIo();
      expect(await runPlumb([...base, "--ovsdb", c.remote], first.io)).toBe(0);
      expect(first.out()).toMatch(
        /^plumb compute-2 via unix:.*: changed 10 item\(s\) in \d+ operation\(s\)\n/,
      );
      expect(first.out()).toContain("  add tunnel port vxlan-c633640b to br-tun\n");
      expect(c.vsctl("get-controller", "br-tun").trim()).toBe("tcp:127.0.0.1:6653");

      const again = collectIo();
      expect(await runPlumb([...base, "--ovsdb", c.remote], again.io)).toBe(0);
      expect(again.out()).toContain("no change (already in place)");

      c.vsctl("set", "port", "tap-vm-a2", "tag=77");
      const dry = collectIo();
      expect(await runPlumb([...base, "--ovsdb", c.remote, "--dry-run"], dry.io)).toBe(2);
      expect(dry.out()).toMatch(
        /would change 1 item\(s\)[^\n]*\n {2}port tap-vm-a2 on br-int: tag 77 -> \d+\n/,
      );
      expect(c.vsctl("get", "port", "tap-vm-a2", "tag").trim()).toBe("77");

      // The host's own `ovsdb` address is the default remote; --print still prints.
      const withRemote = join(dir, "topo-ovsdb.yaml");
      writeFileSync(
        withRemote,
        twoHostsText().replace(
          "    tunnel_ip: 198.51.100.12\n",
          `    tunnel_ip: 198.51.100.12\n    ovsdb: ${c.remote}\n`,
        ),
      );
      const byHost = [
        "--config",
        withRemote,
        "--host",
        "compute-2",
        "--controller",
        "tcp:127.0.0.1:6653",
      ];
      const repaired = collectIo();
      expect(await runPlumb(byHost, repaired.io)).toBe(0);
      expect(repaired.out()).toMatch(
        /changed 1 item\(s\)[^\n]*\n {2}port tap-vm-a2 on br-int: tag 77 -> \d+\n/,
      );
      const printedAgain = collectIo();
      expect(await runPlumb([...byHost, "--print"], printedAgain.io)).toBe(0);
      expect(printedAgain.out()).toMatch(/^#!\/bin\/sh\n/);
      expect((await plumbRemote(c.remote, plan)).changes).toEqual([]);

      const bad = collectIo();
      expect(
        await runPlumb([...base, "--ovsdb", `unix:${join(dir, "nothing.sock")}`], bad.io),
      ).toBe(1);
      expect(bad.err()).toMatch(/dvrflow plumb: unix:.*nothing\.sock/);
      const usage = collectIo();
      expect(
        await runPlumb(["--config", topo, "--host", "compute-2", "--dst-port", "x"], usage.io),
      ).toBe(1);
      expect(usage.err()).toMatch(/--dst-port must be an integer/);
    } finally {
      await c.stop();
    }
  });
});
