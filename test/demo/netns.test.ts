/**
 * `dvrflow demo --netns` as a user runs it (the CLI from source, as
 * demo.test.ts runs it): one network namespace per VM on a veth that is a
 * `system` port of its host's br-int, and real `ping` between them.
 * Asserted from its output, its exit status and the system afterwards:
 *
 * - a clean run exits 0 and its end table lists exactly the cases the plan
 *   derives from the topology, each with the expected result (cross-tenant
 *   pairs blocked) and an RTT taken from ping for every reply; no namespace
 *   or veth named after the run is left, nor any switch process;
 * - with `--keep-running` the namespaces stay up, the printed
 *   `ip netns exec NS ping ADDR` works from outside the demo, and SIGTERM
 *   deletes them;
 * - without root it refuses with exit 1 instead of falling back to
 *   simulated VMs.
 *
 * Needs root, ip, ping, ethtool, sysctl and the libpcap binding (the
 * demo's own prerequisite check decides); skips loudly otherwise, and fails
 * instead under DVRFLOW_REQUIRE_SYSTEM_TOOLS=1 (CI runs as root). No timing
 * assertions: RTTs are printed, never compared.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { netnsPrerequisites } from "../../src/demo/netns.js";
import { planDemo } from "../../src/demo/plan.js";
import { endTable, plannedCases } from "./end-table.js";
import { loadExample } from "../dvr/helpers.js";
import { skipLoudly } from "../helpers/tools.js";

const ROOT = join(import.meta.dirname, "..", "..");
const RUNNER = join(ROOT, "test", "switch", "run-cli.ts");
const RUN_TIMEOUT_MS = 120_000;

const pre = netnsPrerequisites();
const SKIP = "problem" in pre ? pre.problem : null;
if (SKIP !== null) skipLoudly("dvrflow demo --netns", SKIP);
const IP = "tools" in pre ? pre.tools.ip : "ip";

interface Run {
  pid: number;
  code: number | null;
  out: string;
  err: string;
}

/** Every demo pid started here, to sweep their namespaces should a test fail midway. */
const pids: number[] = [];

/** Runs `dvrflow demo ARGS` (optionally through `wrap`); `onOut` sees stdout as it comes. */
function runDemo(
  args: readonly string[],
  onOut?: (text: string, pid: number, kill: (s: NodeJS.Signals) => void) => void,
  wrap: readonly string[] = [],
): Promise<Run> {
  return new Promise((resolve) => {
    const argv = [...wrap, process.execPath, "--import", "tsx", RUNNER, "demo", ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DVRFLOW_LOG_LEVEL: "info" },
    });
    const pid = child.pid!;
    pids.push(pid);
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
      onOut?.(out, pid, (s) => child.kill(s));
    });
    child.stderr.on("data", (d: string) => (err += d));
    const guard = setTimeout(() => child.kill("SIGTERM"), RUN_TIMEOUT_MS - 10_000);
    child.on("exit", (code) => {
      clearTimeout(guard);
      setImmediate(() => resolve({ pid, code, out, err }));
    });
  });
}

/** This run's namespaces (`dvrflow-<pid>-…`) that exist now. */
function namespacesOf(pid: number): string[] {
  const r = spawnSync(IP, ["netns", "list"], { encoding: "utf8" });
  return r.stdout
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith(`dvrflow-${pid}-`));
}

/** This run's host-side veths (`dv<pid>-<n>`) that exist now. */
function vethsOf(pid: number): string[] {
  const r = spawnSync(IP, ["-o", "link", "show"], { encoding: "utf8" });
  return [...r.stdout.matchAll(/^\d+: (dv\d+-\d+)[@:]/gm)]
    .map((m) => m[1]!)
    .filter((n) => n.startsWith(`dv${pid}-`));
}

afterAll(() => {
  if (SKIP !== null) return;
  for (const pid of pids) {
    for (const ns of namespacesOf(pid)) spawnSync(IP, ["netns", "del", ns]);
    for (const l of vethsOf(pid)) spawnSync(IP, ["link", "del", l]);
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The switch pids the demo printed (`compute-1  pid 1234 …`, `monitor  pid …`). */
function childPids(out: string): number[] {
  return [...out.matchAll(/^ {2}(?:compute-\d+|monitor)\s+pid (\d+)/gm)].map((m) => Number(m[1]));
}

describe.skipIf(SKIP !== null)("dvrflow demo --netns", () => {
  it(
    "pings for real between namespaces, every case as expected, exits 0 and leaves nothing behind",
    async () => {
      const r = await runDemo(["--netns"]);
      const cases = plannedCases();
      expect(r.code, `stdout:\n${r.out}\nstderr:\n${r.err}`).toBe(0);
      // Real VMs, not the simulated ones: one namespace per VM, on system ports.
      expect(r.out).toContain(`one network namespace per VM (dvrflow-${r.pid}-vm-*)`);
      const vms = planDemo(loadExample("demo-3-hosts.yaml")).vms;
      for (const v of vms) {
        expect(r.out).toMatch(
          new RegExp(`^ {2}${v.name}\\s+dvrflow-${r.pid}-vm-${v.name}\\s+eth0 ${v.mac} `, "m"),
        );
      }
      expect(r.out).toContain("network namespaces on `system` ports of br-int");
      expect(r.out).not.toContain("simulated VMs");
      const rows = endTable(r.out);
      expect(rows.map((x) => [x.n, x.kind, x.pair, x.expected])).toEqual(
        cases.map((c) => [c.n, c.kind, c.label, c.expect]),
      );
      for (const row of rows) {
        expect(row.result, row.pair).toBe(row.expected);
        expect(row.check, row.pair).toBe("ok");
        // ping's own `time=`, for every reply and only then.
        expect(row.rtt, row.pair).toMatch(row.result === "reply" ? /^\d+\.\d ms$/ : /^-$/);
      }
      // Routed frames crossed a real tunnel with the DVR MAC, restored on arrival.
      for (const c of cases.filter((x) => x.kind === "cross-host routed")) {
        expect(r.out).toContain(`source = ${c.from.host}'s DVR MAC`);
        expect(r.out).toContain(`(gateway MAC of ${c.router} restored)`);
      }
      expect(r.out).toMatch(/tunnels carried \d+ frames: 0 ARP .*, 0 with a gateway MAC as source/);
      expect(namespacesOf(r.pid)).toEqual([]);
      expect(vethsOf(r.pid)).toEqual([]);
      const children = childPids(r.out);
      expect(children).toHaveLength(4);
      for (const pid of children) expect(alive(pid), `child pid ${pid}`).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "--keep-running keeps the namespaces for `ip netns exec … ping`; SIGTERM deletes them",
    async () => {
      let pinged: { status: number | null; out: string } | undefined;
      let during: string[] = [];
      const r = await runDemo(["--netns", "--keep-running"], (out, pid, kill) => {
        if (pinged !== undefined) return;
        // The first case it suggests that must get a reply, once its line is complete.
        const m = /^ +(ip netns exec (\S+) ping (\S+)) +# (?!.*\(blocked\)).*\n/m.exec(out);
        if (m === null) return;
        const p = spawnSync(IP, ["netns", "exec", m[2]!, "ping", "-c", "1", "-W", "2", m[3]!], {
          encoding: "utf8",
        });
        pinged = { status: p.status, out: p.stdout + p.stderr };
        during = namespacesOf(pid);
        kill("SIGTERM");
      });
      expect(pinged, `stdout:\n${r.out}\nstderr:\n${r.err}`).toBeDefined();
      expect(pinged!.status, pinged!.out).toBe(0);
      expect(pinged!.out).toMatch(/1 packets transmitted, 1 received/);
      expect(during).toHaveLength(planDemo(loadExample("demo-3-hosts.yaml")).vms.length);
      expect(r.err).toContain(
        `SIGTERM, stopping the switches and the controller, deleting the namespaces dvrflow-${r.pid}-*`,
      );
      expect(r.code).toBe(143);
      expect(namespacesOf(r.pid)).toEqual([]);
      expect(vethsOf(r.pid)).toEqual([]);
      for (const pid of childPids(r.out)) expect(alive(pid), `child pid ${pid}`).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it("refuses without root (exit 1, says why) instead of simulating", async () => {
    const setpriv = spawnSync("setpriv", ["--version"], { stdio: "ignore" }).status === 0;
    if (!setpriv) {
      skipLoudly("setpriv", "not installed (util-linux)");
      return;
    }
    // nobody, with a HOME tsx can cache in.
    const r = await runDemo(["--netns"], undefined, [
      "setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "env",
      "HOME=/tmp",
    ]);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toMatch(/dvrflow demo --netns: needs root: .*\(running as uid 65534\)/);
    expect(r.out).not.toContain("cases");
  }, 60_000);
});
