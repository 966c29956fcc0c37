/**
 * `dvrflow trace --config TOPOLOGY HOST MICROFLOW` through the CLI entry
 * (src/cli/main.ts → src/cli/commands/trace.ts): formats, options, errors
 * and exit statuses. What the trace says is test/trace/topology-trace.test.ts's.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { offlineSnapshot } from "../../src/dvr/offline.js";
import { formatTopologyTrace, traceTopology } from "../../src/trace/index.js";
import { loadExample, ROOT } from "../dvr/helpers.js";

const CONFIG = join(ROOT, "examples", "two-hosts.yaml");
const ROUTED =
  "in_port=vm-a1,dl_src=fa:16:3e:aa:00:01,dl_dst=fa:16:3e:00:01:01,ip,nw_src=203.0.113.10,nw_dst=203.0.113.75,nw_ttl=64";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["node", "dvrflow", "trace", ...args], {
    stdin: () => Promise.resolve(""),
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
  });
  return { code, out, err };
}

describe("dvrflow trace --config", () => {
  it("prints each format as the library formats it", async () => {
    const snap = await offlineSnapshot(loadExample("two-hosts.yaml"));
    const t = traceTopology(snap, { host: "compute-1", microflow: ROUTED });
    for (const format of ["detailed", "summary", "minimal", "json"] as const) {
      const r = await cli("--config", CONFIG, "compute-1", ROUTED, "--format", format);
      expect(r).toEqual({ code: 0, out: formatTopologyTrace(t, format), err: "" });
    }
    // detailed is the default.
    expect((await cli("--config", CONFIG, "compute-1", ROUTED)).out).toBe(
      formatTopologyTrace(t, "detailed"),
    );
  });

  it("--max-hops and --in-port with --packet", async () => {
    const r = await cli(
      "--config",
      CONFIG,
      "compute-1",
      ROUTED,
      "--format",
      "minimal",
      "--max-hops",
      "0",
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain("not followed (hop limit 0)");
    expect(r.out).not.toContain("on compute-2");
    // A gateway ARP request as raw bytes, in_port by --in-port.
    const arp =
      "ffffffffffff" +
      "fa163eaa0001" +
      "0806" +
      "0001080006040001" +
      "fa163eaa0001" +
      "cb00710a" +
      "000000000000" +
      "cb007101";
    const p = await cli(
      "--config",
      CONFIG,
      "compute-1",
      "--packet",
      arp,
      "--in-port",
      "tap-vm-a1",
      "--format",
      "minimal",
    );
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/arp_op=2,arp_sha=fa:16:3e:00:01:01,.* → port tap-vm-a1 \(vm-a1\)\n/);
    expect(p.out.trimEnd().split("\n").at(-1)).toBe("Output: port tap-vm-a1 (vm-a1) on compute-1");
  });

  it("exits 1 with a clear message on bad input", async () => {
    const bad = async (args: string[], message: RegExp) => {
      const r = await cli(...args);
      expect(r.code).toBe(1);
      expect(r.out).toBe("");
      expect(r.err).toMatch(message);
    };
    await bad(
      ["--config", CONFIG, "compute-7", ROUTED],
      /no host "compute-7" \(hosts: compute-1, compute-2\)/,
    );
    await bad(
      ["--config", CONFIG, "compute-1", ROUTED.replace("vm-a1", "vm-b2")],
      /port vm-b2 is on compute-2/,
    );
    await bad(
      ["--config", CONFIG, "compute-1", "in_port=tap-x,ip"],
      /no port "tap-x" on compute-1/,
    );
    await bad(
      ["--config", CONFIG, "compute-1", ROUTED, "--format", "fancy"],
      /--format must be one of detailed, summary, minimal, json/,
    );
    await bad(["--config", CONFIG, "compute-1", ROUTED, "--max-hops", "-1"], /--max-hops/);
    await bad(["--config", CONFIG, "compute-1"], /missing MICROFLOW/);
    await bad(
      ["--config", CONFIG, "compute-1", ROUTED, "--store", "/nonexistent/db"],
      /no store at/,
    );
    await bad(["--config", "/nonexistent.yaml", "compute-1", ROUTED], /nonexistent/);
    await bad(["--flows", CONFIG, "--config", CONFIG, "compute-1", ROUTED], /exactly one of/);
    await bad(["--flows", CONFIG, "--format", "json", "in_port=1"], /--format goes with --config/);
  });

  it("usage names the new form", async () => {
    const r = await cli("--help");
    expect(r.code).toBe(0);
    expect(r.out).toContain("dvrflow trace --config TOPOLOGY [--store PATH] HOST MICROFLOW");
    expect(r.out).toContain("--format F       detailed (default), summary, minimal or json");
  });
});
