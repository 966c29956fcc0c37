/**
 * `dvrflow run` as a library (startRun): OpenFlow listeners (TCP and unix),
 * REST API and metrics on real sockets, and the CLI's argument errors.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import {
  parseHostPort,
  runRun,
  startRun,
  type RunningController,
} from "../../src/cli/commands/run.js";
import { runDumpFlows } from "../../src/cli/commands/flows.js";
import { parseTarget } from "../../src/controller/server.js";
import { Datapath } from "../../datapath/datapath.js";
import { ROOT } from "../dvr/helpers.js";
import { SwitchAgent, until } from "./helpers.js";

const CONFIG = join(ROOT, "examples", "two-hosts.yaml");
let running: RunningController | undefined;
let dir: string | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("dvrflow run", () => {
  it("serves OpenFlow on TCP and a unix socket, the API and the metrics; a switch syncs", async () => {
    dir = mkdtempSync(join(tmpdir(), "dvrflow-run-"));
    running = await startRun({
      config: CONFIG,
      store: join(dir, "store.db"),
      listen: [parseTarget("tcp:127.0.0.1:0"), { kind: "unix", path: join(dir, "of.sock") }],
      api: { host: "127.0.0.1", port: 0 },
      metrics: { host: "127.0.0.1", port: 0 },
      log: pino({ level: "silent" }),
    });
    const tcp = running.listening[0]!;
    expect(tcp.kind === "tcp" && tcp.port).toBeGreaterThan(0);
    const agent = new SwitchAgent(new Datapath().addBridge({ name: "br-tun", datapathId: 0x12n }));
    await agent.connect(tcp.kind === "tcp" ? tcp.port : 0);
    await until(
      () => running!.controller.status().hosts["compute-1"]!["br-tun"].synced_generation === 1,
      5000,
      "sync",
    );
    const status = (await (await fetch(`${running.apiUrl}/v1/status`)).json()) as {
      hosts: Record<string, Record<string, { connected: boolean; flows_installed: number }>>;
    };
    expect(status.hosts["compute-1"]!["br-tun"]!.connected).toBe(true);
    expect(status.hosts["compute-1"]!["br-tun"]!.flows_installed).toBe(agent.flowMods().length);
    const a = running.metricsServer!.address();
    const port = typeof a === "object" && a !== null ? a.port : 0;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^switches_connected 1$/m);
    expect(metrics).toMatch(
      /of_flowmsgs_sent_total\{dpid="0x0000000000000012",command="add"\} \d+/,
    );
    await agent.disconnect();
  });

  it("refuses bad arguments with a usage line and status 1", async () => {
    const out: string[] = [];
    const io = {
      stdin: () => Promise.resolve(""),
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void out.push(s),
    };
    expect(await runRun(["--listen", "udp:1"], io)).toBe(1);
    expect(await runRun([], io)).toBe(1);
    expect(await runRun(["--config", CONFIG, "--bundles", "maybe"], io)).toBe(1);
    expect(out.join("")).toMatch(/usage: dvrflow run/);
    expect(parseHostPort("8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseHostPort("[::1]:9")).toEqual({ host: "::1", port: 9 });
    expect(parseTarget("ptcp:6653")).toEqual({ kind: "tcp", host: "0.0.0.0", port: 6653 });
  });

  it("says which option to change when the API or metrics address is taken", async () => {
    // A taken port stands in for a second controller on the default addresses.
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", () => r()));
    const port = (taken.address() as AddressInfo).port;
    const out: string[] = [];
    const io = {
      stdin: () => Promise.resolve(""),
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void out.push(s),
    };
    try {
      const base = ["--config", CONFIG, "--listen", "tcp:127.0.0.1:0", "--log-level", "silent"];
      expect(await runRun([...base, "--api", `127.0.0.1:${port}`, "--metrics", "off"], io)).toBe(1);
      expect(out.join("")).toContain(
        `cannot serve the REST API on 127.0.0.1:${port} (EADDRINUSE): choose another address with --api HOST:PORT, or --api off`,
      );
      out.length = 0;
      expect(await runRun([...base, "--api", "off", "--metrics", `127.0.0.1:${port}`], io)).toBe(1);
      expect(out.join("")).toContain(`cannot serve the metrics on 127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it("client commands name the API address they could not reach", async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const out: string[] = [];
    const io = {
      stdin: () => Promise.resolve(""),
      stdout: (s: string) => void out.push(s),
      stderr: (s: string) => void out.push(s),
    };
    expect(await runDumpFlows(["compute-1", "--api", `127.0.0.1:${port}`], io)).toBe(1);
    expect(out.join("")).toContain(`cannot reach the dvrflow API at http://127.0.0.1:${port}`);
    expect(out.join("")).toContain("--api URL or DVR_API=URL");
  });
});
