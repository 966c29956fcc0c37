/**
 * `dvrflow check`: exit 0 and a per-host explanation for a valid topology,
 * exit 1 and located errors for an invalid one.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCheck } from "../../src/cli/commands/check.js";
import { compileTopology, exampleText, loadExample, ROOT } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "dvrflow-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function check(args: string[]) {
  let out = "";
  let err = "";
  const status = await runCheck(args, {
    stdin: () => Promise.resolve(""),
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
  });
  return { status, out, err };
}

describe("dvrflow check", () => {
  it("explains what each host gets", async () => {
    const cfg = join(ROOT, "examples", "two-hosts.yaml");
    const r = await check(["--config", cfg]);
    expect(r.status).toBe(0);
    expect(r.out).toContain(`${cfg}: valid: 2 hosts, 2 networks, 2 subnets, 1 routers, 4 ports\n`);
    expect(r.out).toContain(
      "host compute-1: DVR MAC fa:16:3f:00:00:01 (configured)\n  routers: r1\n",
    );
    expect(r.out).toContain(
      "networks: blue (local VLAN 1, VNI 1001), red (local VLAN 2, VNI 1002)",
    );
    // The per-table counts are the compiler's.
    const hosts = await compileTopology(loadExample("two-hosts.yaml"));
    const c1 = hosts.find((h) => h.host === "compute-1")!;
    const routes = c1.bridges["br-int"].filter((f) => f.table.name === "DVR_ROUTING").length;
    expect(r.out).toContain(`  br-int: ${c1.bridges["br-int"].length} flows\n`);
    expect(r.out).toMatch(new RegExp(`table 41 DVR_ROUTING +${routes}\\n`));
  });

  it("--json and --explain", async () => {
    const cfg = join(ROOT, "examples", "demo-3-hosts.yaml");
    const j = await check(["--config", cfg, "--json"]);
    expect(j.status).toBe(0);
    const doc = JSON.parse(j.out) as {
      valid: boolean;
      hosts: { host: string; dvrMacSource: string; routers: string[] }[];
    };
    expect(doc.valid).toBe(true);
    expect(doc.hosts.map((h) => [h.host, h.dvrMacSource, h.routers.join("+")])).toEqual([
      ["compute-1", "allocated", "tenant-a+tenant-b"],
      ["compute-2", "allocated", "tenant-a+tenant-b"],
      ["compute-3", "allocated", "tenant-a+tenant-b"],
    ]);
    const e = await check(["--config", cfg, "--explain"]);
    expect(e.out).toContain(
      "router tenant-a: a-web-v4 → a-db-v4: route 203.0.113.32/27 (dvr east-west)",
    );
  });

  it("exits 1 with file:line errors for an invalid topology", async () => {
    const bad = exampleText("two-hosts.yaml").replace(
      "fixed_ips: [203.0.113.75]",
      "fixed_ips: [203.0.113.7]",
    );
    const file = join(dir, "bad.yaml");
    writeFileSync(file, bad);
    const r = await check(["--config", file]);
    expect(r.status).toBe(1);
    const line = bad.split("\n").findIndex((l) => l.includes("203.0.113.7]")) + 1;
    expect(r.out).toContain(`${file}:${line}:`);
    expect(r.out).toContain("ports.vm-b2.fixed_ips[0]: 203.0.113.7 is in no subnet of network red");
    expect(r.out).toContain(`${file}: invalid (1 error)`);
  });

  it("exits 1 on usage errors and unreadable files", async () => {
    expect((await check([])).status).toBe(1);
    expect((await check(["--config", join(dir, "missing.yaml")])).status).toBe(1);
  });
});
