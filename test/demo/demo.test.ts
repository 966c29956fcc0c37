/**
 * `dvrflow demo` (what `npm start` runs) as a user runs it: a child process
 * (the CLI from source through tsx, as test/switch/run-cli.ts runs it) that
 * starts the controller, three `dvrflow switch` processes and the simulated
 * VMs. Asserted from its output and exit status only:
 *
 * - a clean run exits 0 and its end table lists exactly the cases the plan
 *   derives from the topology, each with the expected result, cross-tenant
 *   pairs blocked; routed frames were seen on the tunnel with the source
 *   host's DVR MAC; every switch process is gone afterwards;
 * - a run whose DVR MAC rewrite was deleted behind the controller's back
 *   (`--drop-flows`) still gets its pings through but exits 1 and says why;
 * - SIGTERM during `--keep-running` stops every child.
 *
 * No timing assertions: RTTs are printed, never compared.
 */
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { ipv4FromString, macFromString, buildUdp } from "../../codec/packet/index.js";
import { SwitchRuntime } from "../../datapath/agent/runtime.js";
import { parseSwitchConfig } from "../../datapath/agent/config.js";
import { openSwitch } from "../../src/controller/client.js";
import { endTable, plannedCases } from "./end-table.js";
import { isLearned, isOurs } from "../../src/dvr/tables.js";
import { DEFAULT_COOKIE_PREFIX } from "../../src/topology/schema.js";

const ROOT = join(import.meta.dirname, "..", "..");
const RUNNER = join(ROOT, "test", "switch", "run-cli.ts");

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Runs `dvrflow demo ARGS`; `onOut` sees stdout as it comes (and may signal the child). */
function runDemo(
  args: readonly string[],
  onOut?: (text: string, kill: (s: NodeJS.Signals) => void) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", RUNNER, "demo", ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DVRFLOW_LOG_LEVEL: "info" },
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
      onOut?.(out, (s) => child.kill(s));
    });
    child.stderr.on("data", (d: string) => (err += d));
    child.on("exit", (code, signal) => {
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, out, err }));
    });
  });
}

interface Probe {
  readonly status: {
    generation: number;
    hosts: Record<
      string,
      Record<
        string,
        {
          connected: boolean;
          synced_generation: number | null;
          flows_desired: number;
          flows_installed: number | null;
        }
      >
    >;
  };
  readonly ready: boolean;
  readonly readyz: unknown;
  readonly metrics: string;
  /** Flow count of each printed `ovs-ofctl … dump-flows tcp:…` endpoint, dumped with our client. */
  readonly dumped: number[];
}

/** Uses the addresses `--keep-running` printed. */
async function probe(out: string): Promise<Probe> {
  const api = /REST API +(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  const metricsUrl = /metrics +(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)?.[1];
  if (api === undefined || metricsUrl === undefined) throw new Error(`no addresses in:\n${out}`);
  const status = (await (await fetch(`${api}/v1/status`)).json()) as Probe["status"];
  const readyRes = await fetch(`${api}/readyz`);
  const metrics = await (await fetch(metricsUrl)).text();
  const ports = [...out.matchAll(/ovs-ofctl -O OpenFlow13 dump-flows tcp:127\.0\.0\.1:(\d+)/g)].map(
    (m) => Number(m[1]),
  );
  const quiet = pino({ level: "silent" });
  const dumped: number[] = [];
  for (const port of ports) {
    const client = await openSwitch({ kind: "tcp", host: "127.0.0.1", port }, quiet);
    try {
      // The controller counts the flows it owns; br-tun's learned flows
      // (table 20, from table 10's learn) carry their own cookie.
      const flows = await client.conn.dumpFlows(0n, 0n);
      dumped.push(
        flows.filter(
          (f) =>
            isOurs(f.cookie, DEFAULT_COOKIE_PREFIX) && !isLearned(f.cookie, DEFAULT_COOKIE_PREFIX),
        ).length,
      );
    } finally {
      await client.close();
    }
  }
  return { status, ready: readyRes.status === 200, readyz: await readyRes.json(), metrics, dumped };
}

/** The switch pids the demo printed (`compute-1  pid 1234 …`). */
function switchPids(out: string): number[] {
  return [...out.matchAll(/^ {2}compute-\d+\s+pid (\d+)/gm)].map((m) => Number(m[1]));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("the plan", () => {
  it("derives every kind of case from the bundled topology, cross-tenant ones blocked", () => {
    const cases = plannedCases();
    const kinds = new Set(cases.map((c) => c.kind));
    for (const k of [
      "gateway",
      "same-host routed",
      "cross-host switched",
      "cross-host routed",
      "cross-tenant",
      "forged gateway MAC",
    ]) {
      expect(kinds, k).toContain(k);
    }
    for (const c of cases) {
      const blocked = c.kind === "cross-tenant" || c.kind === "forged gateway MAC";
      expect(c.expect, c.label).toBe(blocked ? "blocked" : "reply");
      if (c.kind.endsWith("routed")) expect(c.router, c.label).toBeDefined();
      if (c.kind.startsWith("cross-host")) expect(c.to!.host).not.toBe(c.from.host);
    }
    // Both tenants route across hosts.
    const routers = new Set(
      cases.filter((c) => c.kind === "cross-host routed").map((c) => c.router),
    );
    expect(routers.size).toBe(2);
  });
});

describe("the udp port (tap over UDP)", () => {
  it("carries frames between a UDP peer and the bridge, and says hello first", async () => {
    const peers = [createSocket("udp4"), createSocket("udp4")];
    const ports = await Promise.all(
      peers.map(
        (s) => new Promise<number>((r) => s.bind(0, "127.0.0.1", () => r(s.address().port))),
      ),
    );
    const got: { i: number; len: number; from: number }[] = [];
    peers.forEach((s, i) =>
      s.on("message", (m, rinfo) => got.push({ i, len: m.length, from: rinfo.port })),
    );
    const cfg = parseSwitchConfig(
      [
        "bridges:",
        "  - name: br0",
        "    fail_mode: standalone",
        "    ports:",
        `      - { name: vm1, type: udp, ofport: 1, remote: 127.0.0.1:${ports[0]} }`,
        `      - { name: vm2, type: udp, ofport: 2, remote: 127.0.0.1:${ports[1]} }`,
      ].join("\n"),
    );
    const rt = new SwitchRuntime(cfg);
    await rt.start();
    try {
      // Hello: one empty datagram per port, from the port's own socket.
      await until(() => got.filter((g) => g.len === 0).length === 2);
      const hello1 = got.find((g) => g.i === 0)!.from;
      const frame = buildUdp({
        eth: { src: macFromString("02:00:00:00:00:01"), dst: macFromString("02:00:00:00:00:02") },
        ip: {
          kind: "ipv4",
          src: ipv4FromString("203.0.113.1"),
          dst: ipv4FromString("203.0.113.2"),
        },
        srcPort: 1,
        dstPort: 2,
        payload: new Uint8Array(20),
      });
      // From a stranger: ignored. From the peer: NORMAL floods it to vm2.
      const stranger = createSocket("udp4");
      stranger.send(frame, hello1, "127.0.0.1");
      peers[0]!.send(frame, hello1, "127.0.0.1");
      await until(() => got.some((g) => g.i === 1 && g.len === frame.length));
      expect(got.filter((g) => g.len > 0)).toHaveLength(1);
      expect(rt.udpPorts[0]!.counters.rxForeign).toBe(1);
      stranger.close();
    } finally {
      await rt.stop();
      for (const s of peers) s.close();
    }
  });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("dvrflow demo", () => {
  it("exits 0 with every expected result in its end table, and leaves no switch behind", async () => {
    const r = await runDemo([]);
    expect(r.code, `stdout:\n${r.out}\nstderr:\n${r.err}`).toBe(0);
    const rows = endTable(r.out);
    const cases = plannedCases();
    expect(rows.map((x) => [x.n, x.kind, x.pair, x.expected])).toEqual(
      cases.map((c) => [c.n, c.kind, c.label, c.expect]),
    );
    for (const row of rows) {
      expect(row.result, row.pair).toBe(row.expected);
      expect(row.check, row.pair).toBe("ok");
    }
    expect(rows.filter((x) => x.result === "blocked").map((x) => x.kind)).toEqual(
      cases.filter((c) => c.expect === "blocked").map((c) => c.kind),
    );
    // Six bridges connected and synced; the DVR MAC was on the wire for routed frames.
    expect(r.out).toMatch(/all 6 bridges synced: \d+ flows/);
    const routed = cases.filter((c) => c.kind === "cross-host routed");
    for (const c of routed) {
      expect(r.out).toContain(`source = ${c.from.host}'s DVR MAC`);
      expect(r.out).toContain(`(gateway MAC of ${c.router} restored)`);
    }
    expect(r.out).toMatch(/tunnels carried \d+ frames: 0 ARP .*, 0 with a gateway MAC as source/);
    const pids = switchPids(r.out);
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(alive(pid), `switch pid ${pid}`).toBe(false);
  });

  it("exits 1 and says why when the DVR MAC rewrite is gone, though the pings get through", async () => {
    // Delete br-tun's `gateway MAC → DVR MAC` rewrite for each routed cross-host case.
    const routed = plannedCases().filter((c) => c.kind === "cross-host routed");
    const args = routed.flatMap((c) => [
      "--drop-flows",
      `${c.from.host}:br-tun:table=1,dl_src=${c.arrivalGatewayMac}`,
    ]);
    const r = await runDemo(args);
    expect(r.code, `stdout:\n${r.out}\nstderr:\n${r.err}`).toBe(1);
    expect(r.err).toContain("dvrflow demo: DVR did not behave as expected");
    const rows = endTable(r.out);
    for (const c of routed) {
      const row = rows.find((x) => x.n === c.n)!;
      expect(row.result).toBe("reply");
      expect(row.check).toBe("FAIL");
      expect(r.err).toMatch(
        new RegExp(
          `#${c.n} cross-host routed .*on the tunnel the source MAC was ${c.arrivalGatewayMac}, expected ${c.from.host}'s DVR MAC`,
        ),
      );
    }
    // Everything else still holds.
    for (const row of rows.filter((x) => !routed.some((c) => c.n === x.n))) {
      expect(row.check, row.pair).toBe("ok");
    }
    expect(r.out).toMatch(/FAILED: \d+ of \d+ cases not as expected/);
    // A failed run keeps its files for the user; this one is ours to remove.
    const kept = /kept in (\S+)\)/.exec(r.err)?.[1];
    expect(kept).toMatch(/dvrflow-demo-/);
    rmSync(kept!, { recursive: true, force: true });
  });

  it("--keep-running stays up with working addresses printed; SIGTERM stops every child", async () => {
    // While it runs, use what it printed as a user would: the REST API, the
    // metrics page and each bridge's passive OpenFlow endpoint.
    let probed: Promise<Probe> | undefined;
    const r = await runDemo(["--keep-running"], (out, kill) => {
      if (probed === undefined && out.includes("files ")) {
        probed = probe(out).finally(() => kill("SIGTERM"));
      }
    });
    expect(probed, r.out + r.err).toBeDefined();
    const p = await probed!;
    expect(p.ready, JSON.stringify(p.readyz)).toBe(true);
    const bridges = Object.values(p.status.hosts).flatMap((h) => Object.values(h));
    expect(bridges).toHaveLength(6);
    for (const b of bridges) {
      expect(b.connected).toBe(true);
      expect(b.synced_generation).toBe(p.status.generation);
      expect(b.flows_installed).toBe(b.flows_desired);
    }
    expect(p.metrics).toMatch(/^switches_connected(\{[^}]*\})? 6$/m);
    // Every printed endpoint answers a FLOW_STATS dump with the flows the
    // controller says it installed there.
    const installed = bridges.map((b) => b.flows_installed).sort((a, b) => a! - b!);
    expect(p.dumped.slice().sort((a, b) => a - b)).toEqual(installed);
    expect(r.err).toContain("SIGTERM, stopping");
    expect(r.code).toBe(143);
    for (const pid of switchPids(r.out)) expect(alive(pid), `switch pid ${pid}`).toBe(false);
  });
});
